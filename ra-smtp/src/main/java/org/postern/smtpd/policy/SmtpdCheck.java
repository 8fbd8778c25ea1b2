package org.postern.smtpd.policy;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import org.postern.mail.MailAddress;

/**
 * SmtpdCheck - the smtpd access policy: Postfix smtpd_check.c for the restrictions Postern
 * implements.
 *
 * <h2>DESCRIPTION</h2>
 * Each stage method evaluates the restriction lists of one SMTP stage and returns the
 * reply to send when the request is rejected or deferred, or null when it may proceed.
 * Every reject is logged through {@link CheckContext#log} as Postfix does
 * ("reject", or "reject_warning" after warn_if_reject). A list is evaluated in order:
 * a restriction answers OK (the list ends, the request is permitted by this list),
 * DUNNO (go on) or a reject (the stage ends); the end of a list is DUNNO. Lists are
 * independent: an OK in smtpd_client_restrictions does not skip
 * smtpd_recipient_restrictions.
 *
 * <p>With smtpd_delay_reject = yes (the default) the client, HELO and sender restrictions
 * are evaluated at each RCPT TO, before smtpd_relay_restrictions and then
 * smtpd_recipient_restrictions; the session does not evaluate them earlier. A recipient
 * that passes both lists is then checked against relay_recipient_maps when
 * smtpd_reject_unlisted_recipient = yes; likewise the sender, after the sender
 * restrictions, when smtpd_reject_unlisted_sender = yes (reject_unlisted_sender: the
 * sender must be a valid recipient of its relay or virtual mailbox domain).
 *
 * <p>defer_if_permit, and a DEFER_IF_PERMIT access map or policy server action, turn a
 * request that the lists permit into a 450 deferral; defer_if_reject and DEFER_IF_REJECT
 * turn a later 5XX reject of the same list evaluation into a 450 deferral (Postfix's
 * rules: the first reason is kept; a DEFER_IF_PERMIT of the client, HELO and sender
 * stages is carried to RCPT TO and ETRN when smtpd_delay_reject = no; DATA and end of
 * data start afresh; under warn_if_reject a defer_if_permit is only logged as
 * reject_warning).
 *
 * <p>The restrictions themselves are a registry of objects ({@link Restrictions}), one
 * class per family: {@link GenericRestrictions}, {@link ClientRestrictions},
 * {@link HeloRestrictions}, {@link SenderRestrictions}, {@link RecipientRestrictions},
 * {@link DnsListRestrictions} and {@link PolicyServiceRestriction}; access map lookups
 * and actions are in {@link AccessMaps}. Each family's manual says what its restrictions
 * reply. This class keeps the stages, the list evaluation and the DEFER_IF logic.
 *
 * <h2>SECURITY</h2>
 * Everything it looks at came from the client. Relay control follows Postfix: only
 * mydestination and relay_domains are authorized destinations, and addresses with
 * routing operators in the local part are not, for clients that are not trusted
 * (allow_untrusted_routing = no). The configuration check in {@link PolicySettings#from}
 * refuses to run without a relay guard.
 *
 * <p>The DNS restrictions (those whose {@link RestrictionKind#needsDns} is true) read
 * answers that {@link #prefetch} obtained asynchronously before the stage is evaluated;
 * the evaluation itself never waits. check_policy_service and sleep stop the evaluation
 * with {@link PolicyPending}, without any effect, and the caller evaluates the stage
 * again once the answer is in.
 *
 * <h2>BUGS</h2>
 * No smtpd_restriction_classes. reject_unauth_pipelining sees talk before the greeting
 * only when the greeting waits (sleep, DNS, a policy server at connect with
 * smtpd_delay_reject = no). An access map's right-hand side may name restrictions
 * without arguments and without DNS only. reject_unverified_sender,
 * reject_unverified_recipient, permit_mx_backup, check_ccert_access,
 * permit_tls_clientcerts and permit_tls_all_clientcerts fail the start with advice on
 * what to use instead. See also the BUGS of each family.
 */
public final class SmtpdCheck {

    /** Stage - the SMTP stage whose restriction lists are to be evaluated. */
    public enum Stage { CONNECT, HELO, MAIL, RCPT, DATA, END_OF_DATA, ETRN }

    /** The peer name lookup gives up after this, and the client is "unknown" (no name server must hold a session). */
    static final java.time.Duration PEERNAME_TIMEOUT = java.time.Duration.ofSeconds(10);

    private final PolicySettings s;
    private final DnsLookup dns;
    /** The client name lookups: the hosts file, then DNS (nsswitch "files dns"). */
    private final DnsLookup clientDns;

    public SmtpdCheck(PolicySettings settings) {
        this(settings, DnsLookup.NONE, HostsFile.EMPTY);
    }

    /** SmtpdCheck - with this resolver for the DNS restrictions and the client name, and no hosts file. */
    public SmtpdCheck(PolicySettings settings, DnsLookup dns) {
        this(settings, dns, HostsFile.EMPTY);
    }

    /** SmtpdCheck - the client name comes from the hosts file first, then from dns. */
    public SmtpdCheck(PolicySettings settings, DnsLookup dns, HostsFile hosts) {
        this.s = settings;
        this.dns = dns;
        this.clientDns = hosts.over(dns);
    }

    /** settings - the policy this check evaluates. */
    PolicySettings settings() {
        return s;
    }

    /** needsDns - true when a restriction needs DNS answers (the caller then supplies a resolver). */
    public boolean needsDns() {
        return s.needsDns();
    }

    /** delayReject - smtpd_delay_reject: client, HELO and sender checks wait for RCPT TO. */
    public boolean delayReject() {
        return s.delayReject();
    }

    /**
     * clientName - Postfix's peer name lookup: the first PTR name whose A/AAAA records
     * contain the address, else "unknown" (also on any DNS failure). Never completes
     * exceptionally; the answers stay in the session's cache for the restrictions.
     */
    public CompletableFuture<String> clientName(CheckContext ctx) {
        String address = ctx.clientAddress();
        DnsAnswers answers = ctx.dnsAnswers();
        return new DnsQueries(s, dns, clientDns, ctx, null).clientHostname().toCompletableFuture()
                .completeOnTimeout(null, PEERNAME_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((x, e) -> {
            DnsLookup.Answer ptr = answers.get(DnsLookup.Type.PTR, address);
            if (ptr == null || ptr.status() != DnsLookup.Status.FOUND) {
                return "unknown";
            }
            String canonical = Hostnames.canonical(address);
            for (String name : ptr.values().subList(0, Math.min(DnsQueries.MAX_PTR_NAMES, ptr.values().size()))) {
                for (DnsLookup.Type t : List.of(DnsLookup.Type.A, DnsLookup.Type.AAAA)) {
                    DnsLookup.Answer a = answers.get(t, name);
                    if (a != null && Hostnames.validHostname(name)
                            && a.values().stream().map(Hostnames::canonical).anyMatch(canonical::equals)) {
                        return name.toLowerCase(Locale.ROOT);
                    }
                }
            }
            return "unknown";
        });
    }

    /**
     * prefetch - start the DNS queries that the restrictions of a stage will need and that
     * the session has not got yet (each restriction that needs DNS names them). Null when
     * nothing is missing; otherwise a future that completes (never exceptionally) when
     * every answer is in ctx.dnsAnswers(). The caller waits for it without blocking (the
     * session suspends), then evaluates the stage.
     */
    public CompletableFuture<Void> prefetch(CheckContext ctx, Stage stage, MailAddress recipient) {
        if (!s.needsDns()) {
            return null;
        }
        DnsQueries q = new DnsQueries(s, dns, clientDns, ctx, recipient);
        for (List<Restriction> list : lists(stage)) {
            for (Restriction r : list) {
                if (r.kind().needsDns()) {
                    r.kind().prefetch().queries(q, r);
                }
            }
        }
        return q.pending();
    }

    private List<List<Restriction>> lists(Stage stage) {
        boolean delay = s.delayReject();
        switch (stage) {
            case CONNECT: return List.of(s.clientRestrictions());
            case HELO: return List.of(s.heloRestrictions());
            case MAIL: return List.of(s.senderRestrictions());
            case RCPT: return delay ? List.of(s.clientRestrictions(), s.heloRestrictions(), s.senderRestrictions(),
                    s.relayRestrictions(), s.recipientRestrictions())
                    : List.of(s.relayRestrictions(), s.recipientRestrictions());
            case DATA: return List.of(s.dataRestrictions());
            case END_OF_DATA: return List.of(s.endOfDataRestrictions());
            default: return delay ? List.of(s.clientRestrictions(), s.heloRestrictions(), s.etrnRestrictions())
                    : List.of(s.etrnRestrictions());
        }
    }

    // ------------------------------------------------------------ stages

    /**
     * PolicyPending - thrown by a stage method when a check_policy_service answer is not
     * there yet: nothing was logged or changed. Wait for {@link #future} (it never fails),
     * then call the stage method again: the answer is then in ctx.policyAnswers().
     */
    public static final class PolicyPending extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient CompletableFuture<Void> future;

        PolicyPending(CompletableFuture<Void> future) {
            super(null, null, false, false);
            this.future = future;
        }

        public CompletableFuture<Void> future() {
            return future;
        }
    }

    /**
     * evaluate - one stage: buffered effects, the policy answers of this evaluation
     * forgotten once it is complete. DEFER_IF_PERMIT turns a permitted request into a
     * deferral at RCPT TO, ETRN, DATA and end of data (Postfix smtpd_check_rcpt() etc.);
     * the client, HELO and sender stages only pass it on to the later ones.
     */
    private String evaluate(CheckContext ctx, Stage at, Function<Buffered, Verdict> stage) {
        Buffered b = new Buffered(ctx, at);
        Verdict v = stage.apply(b); // PolicyPending: the effects are dropped
        if (at != Stage.CONNECT && at != Stage.HELO && at != Stage.MAIL && at != Stage.RCPT) {
            v = deferIfPermit(b, v);
        }
        b.effects.forEach(Runnable::run);
        if (b.eval.policyRequests > 0) {
            ctx.policyAnswers().clear();
        }
        return v.rejected() ? v.reply() : null;
    }

    private Request request(Buffered ctx, MailAddress recipient, String etrnDomain, String name, String cls) {
        return new Request(this, ctx, recipient, etrnDomain, name, cls);
    }

    /** checkClient - smtpd_client_restrictions: the reply, or null. */
    public String checkClient(CheckContext ctx) {
        return evaluate(ctx, Stage.CONNECT, this::client);
    }

    private Verdict client(Buffered ctx) {
        ctx.eval.deferIfPermit = null;
        ctx.eval.deferIfReject = null;
        Verdict v = generic(request(ctx, null, null, ctx.namaddr(), Request.CLIENT), s.clientRestrictions(), true);
        ctx.stageDefers().put(Stage.CONNECT, ctx.eval.deferIfPermit);
        return v;
    }

    /** checkHelo - smtpd_helo_restrictions for ctx.helo() (nothing to check before HELO). */
    public String checkHelo(CheckContext ctx) {
        return evaluate(ctx, Stage.HELO, this::helo);
    }

    private Verdict helo(Buffered ctx) {
        if (ctx.helo() == null) {
            return Verdict.DUNNO;
        }
        ctx.eval.deferIfPermit = stageDefer(ctx, Stage.CONNECT);
        ctx.eval.deferIfReject = null;
        Verdict v = generic(request(ctx, null, null, ctx.helo(), Request.HELO), s.heloRestrictions(), true);
        ctx.stageDefers().put(Stage.HELO, ctx.eval.deferIfPermit);
        return v;
    }

    /** checkSender - smtpd_sender_restrictions for ctx.sender(). */
    public String checkSender(CheckContext ctx) {
        return evaluate(ctx, Stage.MAIL, this::sender);
    }

    /**
     * sender - smtpd_sender_restrictions, then the implicit reject_unlisted_sender
     * (smtpd_reject_unlisted_sender = yes) unless the list applied it or discarded.
     */
    private Verdict sender(Buffered ctx) {
        if (ctx.sender() == null) {
            return Verdict.DUNNO;
        }
        ctx.eval.deferIfPermit = stageDefer(ctx, Stage.CONNECT, Stage.HELO);
        ctx.eval.deferIfReject = null;
        ctx.eval.senderChecked = false;
        ctx.eval.discarded = false;
        Verdict v = generic(request(ctx, null, null, ctx.sender(), Request.SENDER), s.senderRestrictions(), true);
        ctx.stageDefers().put(Stage.MAIL, ctx.eval.deferIfPermit);
        if (!v.rejected() && s.rejectUnlistedSender() && !ctx.eval.senderChecked
                && !ctx.eval.discarded && !ctx.sender().isEmpty()) {
            v = implicit(ctx, SenderRestrictions.unlistedSender(s, ctx.sender()), "reject_unlisted_sender");
        }
        return v;
    }

    /**
     * checkRecipient - RCPT TO: the delayed client, HELO and sender checks
     * (smtpd_delay_reject), smtpd_relay_restrictions, smtpd_recipient_restrictions, then
     * the implicit reject_unlisted_recipient.
     */
    public String checkRecipient(CheckContext ctx, MailAddress recipient) {
        return evaluate(ctx, Stage.RCPT, b -> recipient(b, recipient));
    }

    private Verdict recipient(Buffered ctx, MailAddress recipient) {
        if (s.delayReject()) {
            Verdict r = client(ctx);
            if (!r.rejected()) {
                r = helo(ctx);
            }
            if (!r.rejected()) {
                r = sender(ctx);
            }
            if (r.rejected()) {
                return r;
            }
        }
        ctx.eval.deferIfPermit = stageDefer(ctx, Stage.MAIL);
        ctx.eval.deferIfReject = null;
        Request req = request(ctx, recipient, null, recipient.toString(), Request.RECIPIENT);
        Verdict v = generic(req, s.relayRestrictions(), true);
        if (!v.rejected()) {
            v = generic(req, s.recipientRestrictions(), true);
        }
        v = deferIfPermit(ctx, v);
        if (!v.rejected() && s.rejectUnlistedRecipient() && !req.unlistedChecked) {
            v = implicit(ctx, RecipientRestrictions.unlistedRecipient(req), "reject_unlisted_recipient");
        }
        return v;
    }

    /** checkData - smtpd_data_restrictions at DATA. */
    public String checkData(CheckContext ctx) {
        return evaluate(ctx, Stage.DATA, b -> generic(request(b, null, null, "DATA", Request.DATA),
                s.dataRestrictions(), true));
    }

    /** checkEndOfData - smtpd_end_of_data_restrictions after the final dot. */
    public String checkEndOfData(CheckContext ctx) {
        return evaluate(ctx, Stage.END_OF_DATA, b -> generic(request(b, null, null, "END-OF-MESSAGE", Request.EOD),
                s.endOfDataRestrictions(), true));
    }

    /** checkEtrn - smtpd_etrn_restrictions for ETRN domain (after the delayed client and HELO checks). */
    public String checkEtrn(CheckContext ctx, String domain) {
        return evaluate(ctx, Stage.ETRN, b -> {
            if (s.delayReject()) {
                Verdict r = client(b);
                if (!r.rejected()) {
                    r = helo(b);
                }
                if (r.rejected()) {
                    return r;
                }
            }
            b.eval.deferIfPermit = stageDefer(b, Stage.CONNECT, Stage.HELO);
            b.eval.deferIfReject = null;
            return generic(request(b, null, domain, domain, Request.ETRN), s.etrnRestrictions(), true);
        });
    }

    /** implicit - the verdict of an implicit reject_unlisted_* check after the lists, logged when it rejects. */
    private static Verdict implicit(Buffered ctx, Verdict unlisted, String name) {
        Verdict v = deferIfReject(ctx.eval, unlisted);
        if (v.rejected()) {
            RejectCounts.count(name);
            ctx.log("reject", v.reply());
        }
        return v;
    }

    /** deferIfPermit - a request that was not rejected is deferred when a DEFER_IF_PERMIT was seen. */
    private static Verdict deferIfPermit(Buffered b, Verdict v) {
        if (!v.rejected() && b.eval.deferIfPermit != null) {
            v = new Verdict(Verdict.Kind.REJECT, b.eval.deferIfPermit);
            RejectCounts.count("defer_if_permit");
            b.log("reject", v.reply());
        }
        return v;
    }

    /**
     * deferIfReject - Postfix smtpd_check_reject(): a 5XX reject after a DEFER_IF_REJECT
     * of the same list evaluation becomes that deferral (once); warnings are not changed.
     */
    private static Verdict deferIfReject(Buffered.Eval eval, Verdict v) {
        if (v.rejected() && eval.deferIfReject != null && v.reply().startsWith("5")) {
            v = new Verdict(Verdict.Kind.REJECT, eval.deferIfReject);
            eval.deferIfReject = null;
        }
        return v;
    }

    /** stageDefer - the DEFER_IF_PERMIT that an earlier stage passed on, or null. */
    private static String stageDefer(Buffered ctx, Stage... stages) {
        for (Stage st : stages) {
            String d = ctx.stageDefers().get(st);
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    // ------------------------------------------------------------ lists

    /** generic - evaluate a list in order; top-level lists log their reject. */
    Verdict generic(Request req, List<Restriction> list, boolean top) {
        boolean warn = false;
        for (Restriction r : list) {
            if (r.kind() == GenericRestrictions.WARN_IF_REJECT) {
                warn = true;
                continue;
            }
            req.eval().warn = warn;
            Verdict v = r.kind().evaluate(req, r);
            if (v.rejected()) {
                if (!warn) {
                    v = deferIfReject(req.eval(), v);
                }
                if (warn) {
                    req.ctx.log("reject_warning", v.reply());
                    warn = false;
                    continue;
                }
                if (top) {
                    RejectCounts.count(r.name());
                    req.ctx.log("reject", v.reply());
                }
                return v;
            }
            warn = false;
            if (v.kind() == Verdict.Kind.OK) {
                return v;
            }
            if (req.eval().deferIfPermit != null && req.eval().deferIfReject != null) {
                break; // Postfix: nothing later can change the outcome
            }
        }
        return Verdict.DUNNO;
    }
}
