package org.postern.smtpd.policy;

import java.util.List;

/**
 * RestrictionKind - one restriction that smtpd_*_restrictions may name: its name, its
 * argument, whether it needs DNS answers, whether an access map may return it, and how it
 * is evaluated.
 *
 * <h2>DESCRIPTION</h2>
 * Each family of restrictions (Postfix postconf(5): generic, client, HELO, sender,
 * recipient; here also DNS lists and the policy service) declares its kinds in one
 * class; {@link Restrictions} collects them into the registry that parses the lists.
 * Adding a restriction is one entry in its family: the parser, the DNS prefetch, the
 * access map check and the evaluation all ask the kind.
 *
 * <p>A kind with a {@link Prefetch} needs DNS: {@link SmtpdCheck#prefetch} has it start
 * its queries before the stage is evaluated, and its evaluation only reads the answers.
 * An access map's result may name only kinds without argument and without DNS (the
 * result is evaluated at once, without waiting).
 *
 * @param name      the restriction name, lower case, as in main.cf
 * @param argument  what follows the name in a list
 * @param evaluator the evaluation
 * @param prefetch  the DNS queries of the evaluation, or null when it needs none
 * @param expansion the restrictions this name stands for (reject_sender_login_mismatch),
 *                  otherwise empty
 */
record RestrictionKind(String name, Argument argument, Evaluator evaluator, Prefetch prefetch,
                       List<String> expansion) {

    /** Argument - what follows a restriction name in a list. */
    enum Argument {
        /** nothing. */
        NONE,
        /** a type:name lookup table (check_*_access). */
        TABLE,
        /** a DNS list domain, domain=d.d.d.d with a reply filter (reject_rbl_client ...). */
        DNS_DOMAIN,
        /** a policy server, inet:host:port or unix:/path (check_policy_service). */
        SERVER,
        /** a number of seconds (sleep). */
        SECONDS
    }

    /** Evaluator - evaluate one restriction of a list for a request. */
    @FunctionalInterface
    interface Evaluator {
        Verdict evaluate(Request req, Restriction r);
    }

    /** Prefetch - start the DNS queries that the evaluation of r will read. */
    @FunctionalInterface
    interface Prefetch {
        void queries(DnsQueries q, Restriction r);
    }

    /** of - a restriction without argument and without DNS. */
    static RestrictionKind of(String name, Evaluator evaluator) {
        return new RestrictionKind(name, Argument.NONE, evaluator, null, List.of());
    }

    /** withArgument - a restriction followed by an argument, without DNS. */
    static RestrictionKind withArgument(String name, Argument argument, Evaluator evaluator) {
        return new RestrictionKind(name, argument, evaluator, null, List.of());
    }

    /** dns - a restriction that reads DNS answers, with or without argument. */
    static RestrictionKind dns(String name, Argument argument, Evaluator evaluator, Prefetch prefetch) {
        return new RestrictionKind(name, argument, evaluator, prefetch, List.of());
    }

    /** expanding - a name that the parser replaces with these restrictions (it is never evaluated). */
    static RestrictionKind expanding(String name, String... names) {
        return new RestrictionKind(name, Argument.NONE, (req, r) -> {
            throw new IllegalStateException("restriction not implemented: " + name);
        }, null, List.of(names));
    }

    /** needsDns - the evaluation reads DNS answers that {@link SmtpdCheck#prefetch} must get first. */
    boolean needsDns() {
        return prefetch != null;
    }

    /** allowedInAccessMap - an access map or policy server result may name it. */
    boolean allowedInAccessMap() {
        return argument == Argument.NONE && !needsDns() && expansion.isEmpty();
    }

    /** evaluate - this restriction, for the request. */
    Verdict evaluate(Request req, Restriction r) {
        return evaluator.evaluate(req, r);
    }
}
