package org.postern.smtpd.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.postern.config.ConfigException;
import org.postern.config.Lists;
import org.postern.config.maps.LookupTable;
import org.postern.mail.AddressSyntaxException;
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
 * <p>reject_authenticated_sender_login_mismatch, reject_unauthenticated_sender_login_mismatch,
 * reject_known_sender_login_mismatch and reject_sender_login_mismatch (the first two)
 * compare the SASL login name with the owners of the sender address in
 * smtpd_sender_login_maps (user@domain, user for a mydestination domain, then @domain;
 * owners separated by comma or space, compared without case): "553 5.7.1 &lt;a@b&gt;:
 * Sender address rejected: not owned by user NAME" or "... not logged in". With
 * smtpd_sasl_auth_enable = no they are ignored with a warning, as in Postfix.
 *
 * <p>reject_multi_recipient_bounce refuses the null sender with more than one
 * recipient (at RCPT TO: a second one), multi_recipient_bounce_reject_code (550) 5.5.3.
 * reject_unauth_pipelining refuses (503 5.5.0 "Improper use of SMTP command
 * pipelining") once the session has seen the client send commands ahead of time where
 * RFC 2920 does not allow it, including before the greeting. sleep N pauses the
 * evaluation for N seconds on a timer, without holding a thread, then goes on.
 *
 * <h2>SECURITY</h2>
 * Everything it looks at came from the client. Relay control follows Postfix: only
 * mydestination and relay_domains are authorized destinations, and addresses with
 * routing operators in the local part are not, for clients that are not trusted
 * (allow_untrusted_routing = no). The configuration check in {@link PolicySettings#from}
 * refuses to run without a relay guard.
 *
 * <p>The DNS restrictions (reject_unknown_sender_domain, reject_unknown_recipient_domain,
 * reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
 * reject_rbl_client, reject_maps_rbl, reject_rhsbl_client, reject_rhsbl_reverse_client,
 * reject_rhsbl_sender, reject_rhsbl_recipient, reject_rhsbl_helo) read answers that
 * {@link #prefetch} obtained asynchronously before the stage is evaluated; the
 * evaluation itself never waits. A blocklist argument is domain[=d.d.d.d], each d a
 * number or a [n;n..m] pattern (Postfix 2.8); the reply is Postfix's default_rbl_reply,
 * "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using
 * $rbl_domain${rbl_reason?; $rbl_reason}" with maps_rbl_reject_code (554) and the TXT
 * records joined by " / ". The reject_rhsbl_* restrictions look up the client name (not
 * "unknown"), the unverified PTR name of the client, or the domain of the sender,
 * recipient or HELO name; address literals and names ending in a numeric label are
 * not looked up.
 *
 * <p>check_policy_service (Postfix SMTPD_POLICY_README) asks a policy server through
 * {@link PolicyClient}, one request per check and evaluation; its action is taken as an
 * access map result (with DEFER_IF_PERMIT and INFO besides). When the answer is not
 * there the evaluation stops with {@link PolicyPending}, without any effect, and the
 * caller evaluates the stage again once the answer is in.
 *
 * <h2>BUGS</h2>
 * No local_recipient_maps (Postern has no local delivery: every local-part of a
 * mydestination domain passes reject_unlisted_recipient and reject_unlisted_sender), no
 * smtpd_restriction_classes. reject_unlisted_sender does not consult canonical or
 * virtual alias maps. smtpd_sender_login_maps lookups do not strip address
 * extensions, and the bare "user" key is tried for mydestination domains only (not
 * $myorigin or the interface addresses). default_rbl_reply and rbl_reply_maps cannot be
 * configured: the reply is Postfix's default. reject_unauth_pipelining sees talk before
 * the greeting only when the greeting waits (sleep, DNS, a policy server at connect
 * with smtpd_delay_reject = no). sleep pauses at every evaluation, pipelining clients
 * included. Policy server actions PREPEND, REDIRECT, FILTER and BCC are logged and
 * ignored. An access map's right-hand side may name restrictions without arguments and
 * without DNS only. Address literals are never local destinations (Postern does not
 * know its interface addresses). reject_unverified_sender, reject_unverified_recipient,
 * permit_mx_backup, check_ccert_access, permit_tls_clientcerts and
 * permit_tls_all_clientcerts fail the start with advice on what to use instead.
 */
public final class SmtpdCheck {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");

    static final String CLIENT = "Client host";
    static final String REVERSE_CLIENT = "Unverified Client host";
    static final String HELO = "Helo command";
    static final String SENDER = "Sender address";
    static final String RECIPIENT = "Recipient address";
    static final String DATA = "Data command";
    static final String EOD = "End-of-data";
    static final String ETRN = "Etrn command";

    private static final Pattern DSN = Pattern.compile("^([245])\\.(\\d{1,3})\\.(\\d{1,3})(?:\\s+|$)");
    private static final String CONFIG_ERROR = "451 4.3.5 Server configuration error";

    /** Verdict - the outcome of one restriction or list. */
    private record Verdict(Kind kind, String reply) {
        enum Kind { OK, DUNNO, REJECT }

        static final Verdict OK = new Verdict(Kind.OK, null);
        static final Verdict DUNNO = new Verdict(Kind.DUNNO, null);
    }

    /** Request - what one evaluation looks at besides the session. */
    private static final class Request {
        final Buffered ctx;
        final MailAddress recipient;
        final String etrnDomain;
        final String replyName;
        final String replyClass;
        boolean unlistedChecked;

        Request(Buffered ctx, MailAddress recipient, String etrnDomain, String replyName, String replyClass) {
            this.ctx = ctx;
            this.recipient = recipient;
            this.etrnDomain = etrnDomain;
            this.replyName = replyName;
            this.replyClass = replyClass;
        }

        Request as(String name, String cls) {
            Request r = new Request(ctx, recipient, etrnDomain, name, cls);
            r.unlistedChecked = unlistedChecked;
            return r;
        }
    }

    /** Stage - the SMTP stage whose restriction lists are to be evaluated. */
    public enum Stage { CONNECT, HELO, MAIL, RCPT, DATA, END_OF_DATA, ETRN }

    /** At most this many PTR names are verified by forward lookups (a PTR RRset can be huge). */
    private static final int MAX_PTR_NAMES = 5;

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

    /** needsDns - true when a restriction needs DNS answers (the caller then supplies a resolver). */
    public boolean needsDns() {
        return s.needsDns();
    }

    /**
     * clientName - Postfix's peer name lookup: the first PTR name whose A/AAAA records
     * contain the address, else "unknown" (also on any DNS failure). Never completes
     * exceptionally; the answers stay in the session's cache for the restrictions.
     */
    public CompletableFuture<String> clientName(CheckContext ctx) {
        String address = ctx.clientAddress();
        DnsAnswers answers = ctx.dnsAnswers();
        return clientHostname(answers, address).toCompletableFuture()
                .completeOnTimeout(null, PEERNAME_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((x, e) -> {
            DnsLookup.Answer ptr = answers.get(DnsLookup.Type.PTR, address);
            if (ptr == null || ptr.status() != DnsLookup.Status.FOUND) {
                return "unknown";
            }
            String canonical = canonical(address);
            for (String name : ptr.values().subList(0, Math.min(MAX_PTR_NAMES, ptr.values().size()))) {
                for (DnsLookup.Type t : List.of(DnsLookup.Type.A, DnsLookup.Type.AAAA)) {
                    DnsLookup.Answer a = answers.get(t, name);
                    if (a != null && Hostnames.validHostname(name)
                            && a.values().stream().map(SmtpdCheck::canonical).anyMatch(canonical::equals)) {
                        return name.toLowerCase(Locale.ROOT);
                    }
                }
            }
            return "unknown";
        });
    }

    // ------------------------------------------------------------ DNS prefetch

    /**
     * prefetch - start the DNS queries that the restrictions of a stage will need and that
     * the session has not got yet. Null when nothing is missing; otherwise a future that
     * completes (never exceptionally) when every answer is in ctx.dnsAnswers(). The caller
     * waits for it without blocking (the session suspends), then evaluates the stage.
     */
    public CompletableFuture<Void> prefetch(CheckContext ctx, Stage stage, MailAddress recipient) {
        if (!s.needsDns()) {
            return null;
        }
        DnsAnswers answers = ctx.dnsAnswers();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (List<Restriction> list : lists(stage)) {
            for (Restriction r : list) {
                switch (r.name()) {
                    case "reject_unknown_reverse_client_hostname":
                        query(clientDns, answers, DnsLookup.Type.PTR, ctx.clientAddress(), pending);
                        break;
                    case "reject_unknown_client_hostname":
                        pending.add(clientHostname(answers, ctx.clientAddress()));
                        break;
                    case "reject_unknown_sender_domain":
                        queryDomain(answers, ctx.sender() == null || ctx.sender().isEmpty() ? null
                                : split(ctx.sender()), pending);
                        break;
                    case "reject_unknown_recipient_domain":
                        queryDomain(answers, recipient, pending);
                        break;
                    case "reject_rbl_client":
                        queryRbl(answers, ctx.clientAddress(), Restriction.rblDomain(r.arg()), pending);
                        break;
                    case "reject_unknown_helo_hostname":
                        String name = heloDnsName(ctx.helo());
                        if (name != null) {
                            query(answers, DnsLookup.Type.MX, name, pending);
                            query(answers, DnsLookup.Type.A, name, pending);
                            query(answers, DnsLookup.Type.AAAA, name, pending);
                        }
                        break;
                    case "reject_maps_rbl":
                        for (String d : s.mapsRblDomains()) {
                            queryRbl(answers, ctx.clientAddress(), d, pending);
                        }
                        break;
                    case "reject_rhsbl_client":
                        if (!"unknown".equalsIgnoreCase(ctx.clientName())) {
                            queryRhsbl(answers, ctx.clientName(), r.arg(), pending);
                        }
                        break;
                    case "reject_rhsbl_reverse_client":
                        // the PTR name first (the client's reverse name), then its blocklist entry
                        pending.add(query(clientDns, answers, DnsLookup.Type.PTR, ctx.clientAddress(),
                                new ArrayList<>()).thenCompose(x -> {
                                    String reverse = reverseName(ctx);
                                    List<CompletableFuture<?>> more = new ArrayList<>();
                                    if (reverse != null) {
                                        queryRhsbl(answers, reverse, r.arg(), more);
                                    }
                                    return CompletableFuture.allOf(more.toArray(new CompletableFuture<?>[0]));
                                }));
                        break;
                    case "reject_rhsbl_sender":
                        if (ctx.sender() != null && !ctx.sender().isEmpty()) {
                            queryRhsbl(answers, ctx.sender(), r.arg(), pending);
                        }
                        break;
                    case "reject_rhsbl_recipient":
                        if (recipient != null) {
                            queryRhsbl(answers, recipient.toString(), r.arg(), pending);
                        }
                        break;
                    case "reject_rhsbl_helo":
                        if (ctx.helo() != null) {
                            queryRhsbl(answers, ctx.helo(), r.arg(), pending);
                        }
                        break;
                    default:
                        break;
                }
            }
        }
        pending.removeIf(CompletableFuture::isDone);
        return pending.isEmpty() ? null : CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]));
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

    private CompletableFuture<?> query(DnsAnswers answers, DnsLookup.Type type, String name,
                                       List<CompletableFuture<?>> pending) {
        return query(dns, answers, type, name, pending);
    }

    private CompletableFuture<?> query(DnsLookup resolver, DnsAnswers answers, DnsLookup.Type type, String name,
                                       List<CompletableFuture<?>> pending) {
        if (answers.has(type, name)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<?> f = resolver.lookup(name, type).thenAccept(a -> answers.put(type, name, a));
        pending.add(f);
        return f;
    }

    /** clientHostname - PTR, then A and AAAA of the first names (Postfix's name verification). */
    private CompletableFuture<?> clientHostname(DnsAnswers answers, String address) {
        List<CompletableFuture<?>> first = new ArrayList<>();
        CompletableFuture<?> ptr = query(clientDns, answers, DnsLookup.Type.PTR, address, first);
        return ptr.thenCompose(x -> {
            DnsLookup.Answer a = answers.get(DnsLookup.Type.PTR, address);
            List<CompletableFuture<?>> forward = new ArrayList<>();
            if (a != null && a.status() == DnsLookup.Status.FOUND) {
                for (String name : a.values().subList(0, Math.min(MAX_PTR_NAMES, a.values().size()))) {
                    query(clientDns, answers, DnsLookup.Type.A, name, forward);
                    query(clientDns, answers, DnsLookup.Type.AAAA, name, forward);
                }
            }
            return CompletableFuture.allOf(forward.toArray(new CompletableFuture<?>[0]));
        });
    }

    private void queryDomain(DnsAnswers answers, MailAddress address, List<CompletableFuture<?>> pending) {
        String domain = dnsDomain(address);
        if (domain != null) {
            query(answers, DnsLookup.Type.MX, domain, pending);
            query(answers, DnsLookup.Type.A, domain, pending);
            query(answers, DnsLookup.Type.AAAA, domain, pending);
        }
    }

    private void queryRbl(DnsAnswers answers, String address, String domain, List<CompletableFuture<?>> pending) {
        String q = rblQuery(address, domain);
        if (q != null) {
            query(answers, DnsLookup.Type.A, q, pending);
            query(answers, DnsLookup.Type.TXT, q, pending);
        }
    }

    private void queryRhsbl(DnsAnswers answers, String what, String arg, List<CompletableFuture<?>> pending) {
        String q = rhsblQuery(what, Restriction.rblDomain(arg));
        if (q != null) {
            query(answers, DnsLookup.Type.A, q, pending);
            query(answers, DnsLookup.Type.TXT, q, pending);
        }
    }

    /** dnsDomain - the domain of an address when DNS decides about it: not local, not a literal. */
    private String dnsDomain(MailAddress address) {
        if (address == null || address.domain() == null || address.domain().startsWith("[")) {
            return null;
        }
        AddressResolver.Resolved r = s.resolver().resolve(address.localPart(), address.domain());
        return r.addressClass() == AddressResolver.AddressClass.LOCAL ? null : stripDot(address.domain())
                .toLowerCase(Locale.ROOT);
    }

    /** rblQuery - 4.3.2.1.domain, or the reversed nibbles of an IPv6 address; null for a non-address. */
    static String rblQuery(String address, String domain) {
        if (Hostnames.validIpv4(address)) {
            String[] o = address.split("\\.");
            return o[3] + "." + o[2] + "." + o[1] + "." + o[0] + "." + domain;
        }
        if (!Hostnames.validIpv6(address)) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = java.net.InetAddress.getByName(address).getAddress();
        } catch (java.net.UnknownHostException e) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (int i = bytes.length - 1; i >= 0; i--) {
            b.append(Character.forDigit(bytes[i] & 0xF, 16)).append('.')
                    .append(Character.forDigit((bytes[i] >> 4) & 0xF, 16)).append('.');
        }
        return b.append(domain).toString();
    }

    /** delayReject - smtpd_delay_reject: client, HELO and sender checks wait for RCPT TO. */
    public boolean delayReject() {
        return s.delayReject();
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
     * Eval - the state of one stage evaluation: the SMTP stage (Postfix state->where),
     * DEFER_IF_PERMIT and DEFER_IF_REJECT (the first reply of each), whether the current
     * restriction follows warn_if_reject, the policy requests and sleeps so far (their
     * answers are keyed by this count), whether reject_unlisted_sender was applied and
     * whether a DISCARD action was taken.
     */
    private static final class Eval {
        final Stage stage;
        String deferIfPermit;
        String deferIfReject;
        boolean warn;
        int policyRequests;
        boolean senderChecked;
        boolean discarded;

        Eval(Stage stage) {
            this.stage = stage;
        }
    }

    /**
     * Buffered - the session during one stage evaluation: logs, HOLD and DISCARD are kept
     * and take effect only when the evaluation completes (not when it waits for a policy
     * server and is started over).
     */
    private static final class Buffered implements CheckContext {
        final CheckContext ctx;
        final Eval eval;
        final List<Runnable> effects = new ArrayList<>();

        Buffered(CheckContext ctx, Stage stage) {
            this.ctx = ctx;
            this.eval = new Eval(stage);
        }

        @Override public String clientName() { return ctx.clientName(); }
        @Override public String clientAddress() { return ctx.clientAddress(); }
        @Override public String namaddr() { return ctx.namaddr(); }
        @Override public String helo() { return ctx.helo(); }
        @Override public String sender() { return ctx.sender(); }
        @Override public boolean saslAuthenticated() { return ctx.saslAuthenticated(); }
        @Override public String saslUsername() { return ctx.saslUsername(); }
        @Override public int recipientCount() { return ctx.recipientCount(); }
        @Override public boolean illegalPipelining() { return ctx.illegalPipelining(); }
        @Override public java.util.Map<Stage, String> stageDefers() { return ctx.stageDefers(); }
        @Override public DnsAnswers dnsAnswers() { return ctx.dnsAnswers(); }
        @Override public java.util.Map<String, String> policyAnswers() { return ctx.policyAnswers(); }
        @Override public java.util.Map<String, String> policyAttributes() { return ctx.policyAttributes(); }
        @Override public void log(String whatsup, String text) { effects.add(() -> ctx.log(whatsup, text)); }
        @Override public void hold(String reason) { effects.add(() -> ctx.hold(reason)); }
        @Override public void discard(String reason) { effects.add(() -> ctx.discard(reason)); }
    }

    /**
     * evaluate - one stage: buffered effects, the policy answers of this evaluation
     * forgotten once it is complete. DEFER_IF_PERMIT turns a permitted request into a
     * deferral at RCPT TO, ETRN, DATA and end of data (Postfix smtpd_check_rcpt() etc.);
     * the client, HELO and sender stages only pass it on to the later ones.
     */
    private String evaluate(CheckContext ctx, Stage at, java.util.function.Function<Buffered, Verdict> stage) {
        Buffered b = new Buffered(ctx, at);
        Verdict v = stage.apply(b); // PolicyPending: the effects are dropped
        if (at != Stage.CONNECT && at != Stage.HELO && at != Stage.MAIL && at != Stage.RCPT) {
            v = deferIfPermit(b, v);
        }
        b.effects.forEach(Runnable::run);
        if (b.eval.policyRequests > 0) {
            ctx.policyAnswers().clear();
        }
        return reply(v);
    }

    /** checkClient - smtpd_client_restrictions: the reply, or null. */
    public String checkClient(CheckContext ctx) {
        return evaluate(ctx, Stage.CONNECT, this::client);
    }

    private Verdict client(Buffered ctx) {
        ctx.eval.deferIfPermit = null;
        ctx.eval.deferIfReject = null;
        Verdict v = generic(new Request(ctx, null, null, ctx.namaddr(), CLIENT), s.clientRestrictions(), true);
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
        Verdict v = generic(new Request(ctx, null, null, ctx.helo(), HELO), s.heloRestrictions(), true);
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
        Request req = new Request(ctx, null, null, ctx.sender(), SENDER);
        Verdict v = generic(req, s.senderRestrictions(), true);
        ctx.stageDefers().put(Stage.MAIL, ctx.eval.deferIfPermit);
        if (v.kind() != Verdict.Kind.REJECT && s.rejectUnlistedSender() && !ctx.eval.senderChecked
                && !ctx.eval.discarded && !ctx.sender().isEmpty()) {
            v = deferIfReject(ctx.eval, unlistedSender(ctx.sender()));
            if (v.kind() == Verdict.Kind.REJECT) {
                ctx.log("reject", v.reply());
            }
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
            if (r.kind() != Verdict.Kind.REJECT) {
                r = helo(ctx);
            }
            if (r.kind() != Verdict.Kind.REJECT) {
                r = sender(ctx);
            }
            if (r.kind() == Verdict.Kind.REJECT) {
                return r;
            }
        }
        ctx.eval.deferIfPermit = stageDefer(ctx, Stage.MAIL);
        ctx.eval.deferIfReject = null;
        Request req = new Request(ctx, recipient, null, recipient.toString(), RECIPIENT);
        Verdict v = generic(req, s.relayRestrictions(), true);
        if (v.kind() != Verdict.Kind.REJECT) {
            v = generic(req, s.recipientRestrictions(), true);
        }
        v = deferIfPermit(ctx, v);
        if (v.kind() != Verdict.Kind.REJECT && s.rejectUnlistedRecipient() && !req.unlistedChecked) {
            v = deferIfReject(ctx.eval, unlistedRecipient(req));
            if (v.kind() == Verdict.Kind.REJECT) {
                ctx.log("reject", v.reply());
            }
        }
        return v;
    }

    /** checkData - smtpd_data_restrictions at DATA. */
    public String checkData(CheckContext ctx) {
        return evaluate(ctx, Stage.DATA, b -> generic(new Request(b, null, null, "DATA", DATA), s.dataRestrictions(),
                true));
    }

    /** checkEndOfData - smtpd_end_of_data_restrictions after the final dot. */
    public String checkEndOfData(CheckContext ctx) {
        return evaluate(ctx, Stage.END_OF_DATA, b -> generic(new Request(b, null, null, "END-OF-MESSAGE", EOD),
                s.endOfDataRestrictions(), true));
    }

    /** checkEtrn - smtpd_etrn_restrictions for ETRN domain (after the delayed client and HELO checks). */
    public String checkEtrn(CheckContext ctx, String domain) {
        return evaluate(ctx, Stage.ETRN, b -> {
            if (s.delayReject()) {
                Verdict r = client(b);
                if (r.kind() != Verdict.Kind.REJECT) {
                    r = helo(b);
                }
                if (r.kind() == Verdict.Kind.REJECT) {
                    return r;
                }
            }
            b.eval.deferIfPermit = stageDefer(b, Stage.CONNECT, Stage.HELO);
            b.eval.deferIfReject = null;
            return generic(new Request(b, null, domain, domain, ETRN), s.etrnRestrictions(), true);
        });
    }

    private static String reply(Verdict v) {
        return v.kind() == Verdict.Kind.REJECT ? v.reply() : null;
    }

    /** deferIfPermit - a request that was not rejected is deferred when a DEFER_IF_PERMIT was seen. */
    private static Verdict deferIfPermit(Buffered b, Verdict v) {
        if (v.kind() != Verdict.Kind.REJECT && b.eval.deferIfPermit != null) {
            v = new Verdict(Verdict.Kind.REJECT, b.eval.deferIfPermit);
            b.log("reject", v.reply());
        }
        return v;
    }

    /**
     * deferIfReject - Postfix smtpd_check_reject(): a 5XX reject after a DEFER_IF_REJECT
     * of the same list evaluation becomes that deferral (once); warnings are not changed.
     */
    private static Verdict deferIfReject(Eval eval, Verdict v) {
        if (v.kind() == Verdict.Kind.REJECT && eval.deferIfReject != null && v.reply().startsWith("5")) {
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
    private Verdict generic(Request req, List<Restriction> list, boolean top) {
        boolean warn = false;
        for (Restriction r : list) {
            if (r.name().equals("warn_if_reject")) {
                warn = true;
                continue;
            }
            req.ctx.eval.warn = warn;
            Verdict v = apply(req, r);
            if (v.kind() == Verdict.Kind.REJECT) {
                if (!warn) {
                    v = deferIfReject(req.ctx.eval, v);
                }
                if (warn) {
                    req.ctx.log("reject_warning", v.reply());
                    warn = false;
                    continue;
                }
                if (top) {
                    req.ctx.log("reject", v.reply());
                }
                return v;
            }
            warn = false;
            if (v.kind() == Verdict.Kind.OK) {
                return v;
            }
            if (req.ctx.eval.deferIfPermit != null && req.ctx.eval.deferIfReject != null) {
                break; // Postfix: nothing later can change the outcome
            }
        }
        return Verdict.DUNNO;
    }

    /** apply - one restriction. */
    private Verdict apply(Request req, Restriction r) {
        CheckContext ctx = req.ctx;
        PolicySettings.Codes codes = s.codes();
        switch (r.name()) {
            case "permit":
                return Verdict.OK;
            case "reject":
                return reject(codes.reject(), "5.7.1", "<" + req.replyName + ">: " + req.replyClass
                        + " rejected: Access denied");
            case "defer":
                return reject(codes.defer(), "4.7.1", "<" + req.replyName + ">: " + req.replyClass
                        + " rejected: Try again later");
            case "permit_mynetworks":
                return s.mynetworks().test(ctx.clientAddress()) ? Verdict.OK : Verdict.DUNNO;
            case "permit_sasl_authenticated":
                return ctx.saslAuthenticated() ? Verdict.OK : Verdict.DUNNO;
            case "permit_auth_destination":
                return req.recipient == null ? Verdict.DUNNO : authDestination(req.recipient);
            case "reject_unauth_destination":
            case "defer_unauth_destination":
                if (req.recipient == null || authDestination(req.recipient).kind() == Verdict.Kind.OK) {
                    return Verdict.DUNNO;
                }
                return reject(r.name().startsWith("reject") ? codes.relayDomainsReject() : codes.defer(), "5.7.1",
                        "<" + req.recipient + ">: Relay access denied");
            case "check_client_access":
                return clientAccess(req.as(ctx.namaddr(), CLIENT), r.table());
            case "check_helo_access":
                return ctx.helo() == null ? Verdict.DUNNO
                        : domainAccess(req.as(ctx.helo(), HELO), r.table(), ctx.helo()).orElse(Verdict.DUNNO);
            case "check_sender_access":
                return ctx.sender() == null ? Verdict.DUNNO
                        : mailAccess(req.as(ctx.sender(), SENDER), r.table(), ctx.sender());
            case "check_recipient_access":
                if (req.recipient == null || suspicious(req.recipient)) {
                    return Verdict.DUNNO;
                }
                return mailAccess(req.as(req.recipient.toString(), RECIPIENT), r.table(), req.recipient.toString());
            case "reject_invalid_helo_hostname":
                return invalidHelo(ctx.helo());
            case "reject_non_fqdn_helo_hostname":
                return nonFqdnHelo(ctx.helo());
            case "reject_non_fqdn_sender":
                return ctx.sender() == null || ctx.sender().isEmpty() ? Verdict.DUNNO
                        : nonFqdnAddress(ctx.sender(), SENDER);
            case "reject_non_fqdn_recipient":
                return req.recipient == null ? Verdict.DUNNO : nonFqdnAddress(req.recipient.toString(), RECIPIENT);
            case "reject_unknown_reverse_client_hostname":
                return unknownReverseClient(ctx);
            case "reject_unknown_client_hostname":
                return unknownClient(ctx);
            case "reject_unknown_sender_domain":
                return ctx.sender() == null || ctx.sender().isEmpty() ? Verdict.DUNNO
                        : unknownDomain(ctx, split(ctx.sender()), ctx.sender(), SENDER, "4.1.8", "5.7.27");
            case "reject_unknown_recipient_domain":
                return req.recipient == null ? Verdict.DUNNO
                        : unknownDomain(ctx, req.recipient, req.recipient.toString(), RECIPIENT, "4.1.2", "5.1.10");
            case "reject_rbl_client":
                return rbl(ctx, r.arg());
            case "reject_unknown_helo_hostname":
                return unknownHelo(ctx);
            case "reject_maps_rbl":
                for (String d : s.mapsRblDomains()) {
                    Verdict v = rbl(ctx, d);
                    if (v.kind() == Verdict.Kind.REJECT) {
                        return v;
                    }
                }
                return Verdict.DUNNO;
            case "reject_unlisted_recipient":
                if (req.recipient == null) {
                    return Verdict.DUNNO;
                }
                req.unlistedChecked = true;
                return unlistedRecipient(req);
            case "check_policy_service":
                return policyService(req, r.arg());
            case "reject_authenticated_sender_login_mismatch":
            case "reject_known_sender_login_mismatch":
            case "reject_unauthenticated_sender_login_mismatch":
                return senderLogin(ctx, r.name());
            case "reject_unlisted_sender":
                if (ctx.sender() == null || ctx.sender().isEmpty() || req.ctx.eval.senderChecked) {
                    return Verdict.DUNNO;
                }
                req.ctx.eval.senderChecked = !req.ctx.eval.warn; // a warning did not really validate it
                return unlistedSender(ctx.sender());
            case "reject_multi_recipient_bounce":
                // at RCPT the recipient being checked is not counted yet (Postfix rcpt_count)
                if (ctx.sender() != null && ctx.sender().isEmpty()
                        && ctx.recipientCount() > (req.ctx.eval.stage == Stage.RCPT ? 0 : 1)) {
                    return reject(codes.multiRecipientBounce(), "5.5.3", "<" + req.replyName + ">: "
                            + req.replyClass + " rejected: Multi-recipient bounce");
                }
                return Verdict.DUNNO;
            case "defer_if_permit": {
                Verdict d = reject(450, "4.7.0", "<" + req.replyName + ">: " + req.replyClass
                        + " rejected: defer_if_permit requested");
                if (req.ctx.eval.warn) {
                    return d;
                }
                if (req.ctx.eval.deferIfPermit == null) {
                    req.ctx.eval.deferIfPermit = d.reply();
                }
                return Verdict.DUNNO;
            }
            case "defer_if_reject":
                if (req.ctx.eval.deferIfReject == null) {
                    req.ctx.eval.deferIfReject = reject(450, "4.7.0", "<" + req.replyName + ">: " + req.replyClass
                            + " rejected: defer_if_reject requested").reply();
                }
                return Verdict.DUNNO;
            case "reject_unauth_pipelining":
                return ctx.illegalPipelining() ? reject(503, "5.5.0", "<" + req.replyName + ">: " + req.replyClass
                        + " rejected: Improper use of SMTP command pipelining") : Verdict.DUNNO;
            case "sleep":
                return sleep(req, Integer.parseInt(r.arg()));
            case "reject_rhsbl_client":
                return "unknown".equalsIgnoreCase(ctx.clientName()) ? Verdict.DUNNO
                        : rhsbl(ctx, r.arg(), ctx.clientName(), CLIENT);
            case "reject_rhsbl_reverse_client": {
                String reverse = reverseName(ctx);
                return reverse == null ? Verdict.DUNNO : rhsbl(ctx, r.arg(), reverse, REVERSE_CLIENT);
            }
            case "reject_rhsbl_sender":
                return ctx.sender() == null || ctx.sender().isEmpty() ? Verdict.DUNNO
                        : rhsbl(ctx, r.arg(), ctx.sender(), SENDER);
            case "reject_rhsbl_recipient":
                return req.recipient == null ? Verdict.DUNNO : rhsbl(ctx, r.arg(), req.recipient.toString(), RECIPIENT);
            case "reject_rhsbl_helo":
                return ctx.helo() == null ? Verdict.DUNNO : rhsbl(ctx, r.arg(), ctx.helo(), HELO);
            default:
                // Restriction.parseList admits no other names.
                throw new IllegalStateException("restriction not implemented: " + r.name());
        }
    }

    // ------------------------------------------------------------ relay control

    /**
     * authDestination - permit_auth_destination: OK for mydestination and relay_domains,
     * unless the address is routed and allow_untrusted_routing = no.
     */
    private Verdict authDestination(MailAddress recipient) {
        AddressResolver.Resolved r = s.resolver().resolve(recipient.localPart(), recipient.domain());
        if (r.routed() && !s.allowUntrustedRouting()) {
            return Verdict.DUNNO;
        }
        return r.addressClass() == AddressResolver.AddressClass.REMOTE ? Verdict.DUNNO : Verdict.OK;
    }

    /**
     * suspicious - a non-local recipient with sender-specified routing cannot match an access
     * table unless allow_untrusted_routing = yes (postconf(5)): "relay.example OK" must not
     * let user%other@relay.example through.
     */
    private boolean suspicious(MailAddress recipient) {
        if (s.allowUntrustedRouting()) {
            return false;
        }
        AddressResolver.Resolved r = s.resolver().resolve(recipient.localPart(), recipient.domain());
        return r.routed() && r.addressClass() != AddressResolver.AddressClass.LOCAL;
    }

    /**
     * unlistedRecipient - reject_unlisted_recipient: the recipient must be listed where its
     * address class keeps its users ({@link #unlisted}).
     */
    private Verdict unlistedRecipient(Request req) {
        Unlisted u = unlisted(s.resolver().resolve(req.recipient.localPart(), req.recipient.domain()));
        return u == null ? Verdict.DUNNO : reject(u.code(), "5.1.1", "<" + req.recipient
                + ">: Recipient address rejected: User unknown in " + u.table());
    }

    /**
     * unlistedSender - reject_unlisted_sender: the sender address must be a valid recipient
     * of its address class (Postfix check_sender_rcpt_maps()), as {@link #unlisted} decides.
     */
    private Verdict unlistedSender(String sender) {
        MailAddress a = split(sender);
        if (a.domain() == null) {
            return Verdict.DUNNO; // user@$myorigin: a local address
        }
        Unlisted u = unlisted(s.resolver().resolve(a.localPart(), a.domain()));
        return u == null ? Verdict.DUNNO
                : reject(u.code(), "5.1.0", "<" + sender + ">: " + SENDER + " rejected: User unknown in " + u.table());
    }

    /** Unlisted - the reply code and the table of an address that its table does not list. */
    private record Unlisted(int code, String table) {
    }

    /**
     * unlisted - why an address is unknown, or null when it is listed or nothing lists
     * its class: an address in virtual_alias_maps exists whatever its domain;
     * virtual_alias_domains know no other users; relay_recipient_maps list those of
     * relay_domains and virtual_mailbox_maps those of virtual_mailbox_domains (an empty
     * list knows everybody); local domains have no recipient list in Postern.
     */
    private Unlisted unlisted(AddressResolver.Resolved r) {
        String address = r.address().toLowerCase(Locale.ROOT);
        if (r.addressClass() != AddressResolver.AddressClass.REMOTE
                && listed(s.virtualAliasMaps(), address, r.domain())) {
            return null;
        }
        List<LookupTable> maps;
        Unlisted why;
        switch (r.addressClass()) {
            case VIRTUAL_ALIAS -> {
                return new Unlisted(s.codes().unknownVirtualAlias(), "virtual alias table");
            }
            case RELAY -> {
                maps = s.relayRecipientMaps();
                why = new Unlisted(s.codes().unknownRelayRecipient(), "relay recipient table");
            }
            case VIRTUAL -> {
                maps = s.virtualMailboxMaps();
                why = new Unlisted(s.codes().unknownVirtualMailbox(), "virtual mailbox table");
            }
            default -> {
                return null;
            }
        }
        return maps.isEmpty() || listed(maps, address, r.domain()) ? null : why;
    }

    /** listed - the address, or its @domain, is a key of one of the tables. */
    private static boolean listed(List<LookupTable> maps, String address, String domain) {
        for (LookupTable t : maps) {
            if (t.lookup(address).isPresent() || t.lookup("@" + domain).isPresent()) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------ SASL sender login

    /**
     * senderLogin - reject_authenticated_sender_login_mismatch (the logged-in client must
     * own the sender address), reject_unauthenticated_sender_login_mismatch (an owned
     * address needs a logged-in client) and reject_known_sender_login_mismatch (the first
     * for listed addresses when logged in, else the second). Owners come from
     * smtpd_sender_login_maps (Postfix reject_auth_sender_login_mismatch()). Without
     * smtpd_sasl_auth_enable they are ignored with a warning, as in Postfix.
     */
    private Verdict senderLogin(CheckContext ctx, String name) {
        if (!s.saslEnabled()) {
            LOG.warning("PSTN1104: restriction `" + name + "' ignored: no SASL support"
                    + " (smtpd_sasl_auth_enable = no)");
            return Verdict.DUNNO;
        }
        String sender = ctx.sender();
        if (sender == null || sender.isEmpty() || s.senderLoginMaps().isEmpty()) {
            return Verdict.DUNNO;
        }
        String user = ctx.saslUsername();
        boolean authenticated = name.equals("reject_authenticated_sender_login_mismatch")
                || (name.equals("reject_known_sender_login_mismatch") && user != null);
        Optional<String> owners = senderOwners(sender);
        if (authenticated) {
            if (user == null || (owners.isEmpty() && !name.equals("reject_authenticated_sender_login_mismatch"))) {
                return Verdict.DUNNO;
            }
            if (owners.isPresent()) {
                for (String owner : owners.get().split("[,\\s]+")) {
                    if (!owner.isEmpty() && owner.equalsIgnoreCase(user)) {
                        return Verdict.DUNNO;
                    }
                }
            }
            return reject(553, "5.7.1", "<" + sender + ">: " + SENDER + " rejected: not owned by user "
                    + printable(user));
        }
        if (user == null && owners.isPresent()) {
            return reject(553, "5.7.1", "<" + sender + ">: " + SENDER + " rejected: not logged in");
        }
        return Verdict.DUNNO;
    }

    /**
     * senderOwners - smtpd_sender_login_maps for user@domain, then user for a local domain,
     * then @domain (Postfix mail_addr_find()); the first table that knows a key decides.
     */
    private Optional<String> senderOwners(String sender) {
        MailAddress a = split(sender);
        String local = AddressResolver.unquote(a.localPart());
        String domain = a.domain() == null ? null : stripDot(a.domain()).toLowerCase(Locale.ROOT);
        boolean localDomain = domain == null || s.resolver().resolve(a.localPart(), a.domain()).addressClass()
                == AddressResolver.AddressClass.LOCAL;
        List<String> keys = new ArrayList<>();
        if (domain != null) {
            keys.add(local + "@" + domain);
        }
        if (localDomain) {
            keys.add(local);
        }
        if (domain != null) {
            keys.add("@" + domain);
        }
        for (String key : keys) {
            for (LookupTable t : s.senderLoginMaps()) {
                Optional<String> v = t.lookup(key);
                if (v.isPresent()) {
                    return v;
                }
            }
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------ sleep

    /**
     * sleep - pause, then go on with the next restriction. The evaluation stops with
     * PolicyPending on a timer (no thread waits) and is started over when the time is up;
     * the pause is then known to be over (its key, like a policy answer's, is the count of
     * requests so far in this evaluation).
     */
    private Verdict sleep(Request req, int seconds) {
        if (seconds <= 0) {
            return Verdict.DUNNO;
        }
        String key = req.ctx.eval.policyRequests++ + " sleep " + seconds;
        java.util.Map<String, String> answers = req.ctx.policyAnswers();
        if (!answers.containsKey(key)) {
            throw new PolicyPending(new CompletableFuture<Void>()
                    .completeOnTimeout(null, seconds, java.util.concurrent.TimeUnit.SECONDS)
                    .thenRun(() -> answers.put(key, "slept")));
        }
        return Verdict.DUNNO;
    }

    // ------------------------------------------------------------ DNS restrictions

    private static DnsLookup.Answer answer(CheckContext ctx, DnsLookup.Type type, String name) {
        DnsLookup.Answer a = ctx.dnsAnswers().get(type, name);
        return a == null ? DnsLookup.Answer.TEMP_FAIL : a;
    }

    /** unknownReverseClient - reject_unknown_reverse_client_hostname: no PTR record. */
    private Verdict unknownReverseClient(CheckContext ctx) {
        DnsLookup.Answer ptr = answer(ctx, DnsLookup.Type.PTR, ctx.clientAddress());
        if (ptr.status() == DnsLookup.Status.FOUND) {
            return Verdict.DUNNO;
        }
        int code = ptr.status() == DnsLookup.Status.TEMP_FAIL ? s.codes().defer() : s.codes().unknownClient();
        return reject(code, "4.7.1",
                CLIENT + " rejected: cannot find your reverse hostname, [" + ctx.clientAddress() + "]");
    }

    /**
     * unknownClient - reject_unknown_client_hostname: no PTR record, or no PTR name whose
     * A/AAAA records contain the client address.
     */
    private Verdict unknownClient(CheckContext ctx) {
        String address = ctx.clientAddress();
        DnsLookup.Answer ptr = answer(ctx, DnsLookup.Type.PTR, address);
        boolean temp = ptr.status() == DnsLookup.Status.TEMP_FAIL;
        if (ptr.status() == DnsLookup.Status.FOUND) {
            String canonical = canonical(address);
            for (String name : ptr.values().subList(0, Math.min(MAX_PTR_NAMES, ptr.values().size()))) {
                for (DnsLookup.Type t : List.of(DnsLookup.Type.A, DnsLookup.Type.AAAA)) {
                    DnsLookup.Answer a = answer(ctx, t, name);
                    temp |= a.status() == DnsLookup.Status.TEMP_FAIL;
                    if (a.values().stream().map(SmtpdCheck::canonical).anyMatch(canonical::equals)) {
                        return Verdict.DUNNO;
                    }
                }
            }
        }
        return reject(temp ? s.codes().defer() : s.codes().unknownClient(), "4.7.1",
                CLIENT + " rejected: cannot find your hostname, [" + address + "]");
    }

    /**
     * unknownDomain - reject_unknown_sender/recipient_domain: a non-local domain without MX
     * and without A/AAAA, or with a null MX (RFC 7505).
     */
    private Verdict unknownDomain(CheckContext ctx, MailAddress address, String replyName, String replyClass,
                                  String dsn, String nullMxDsn) {
        String domain = dnsDomain(address);
        if (domain == null) {
            return Verdict.DUNNO;
        }
        DnsLookup.Answer mx = answer(ctx, DnsLookup.Type.MX, domain);
        if (mx.status() == DnsLookup.Status.FOUND) {
            if (mx.values().size() == 1 && mx.values().get(0).isEmpty()) {
                return reject(replyClass.equals(SENDER) ? 550 : 556, nullMxDsn, "<" + replyName + ">: " + replyClass
                        + " rejected: Domain " + domain + " does not accept mail (nullMX)");
            }
            return Verdict.DUNNO;
        }
        DnsLookup.Answer a = answer(ctx, DnsLookup.Type.A, domain);
        DnsLookup.Answer aaaa = answer(ctx, DnsLookup.Type.AAAA, domain);
        if (a.status() == DnsLookup.Status.FOUND || aaaa.status() == DnsLookup.Status.FOUND) {
            return Verdict.DUNNO;
        }
        boolean temp = mx.status() == DnsLookup.Status.TEMP_FAIL || a.status() == DnsLookup.Status.TEMP_FAIL
                || aaaa.status() == DnsLookup.Status.TEMP_FAIL;
        return reject(temp ? s.codes().defer() : s.codes().unknownAddress(), dsn, "<" + replyName + ">: " + replyClass
                + " rejected: Domain not found");
    }

    /** heloDnsName - the HELO name when DNS decides about it: a host name, not an address or literal. */
    private static String heloDnsName(String helo) {
        if (helo == null || helo.startsWith("[")) {
            return null;
        }
        String name = stripDot(helo);
        return Hostnames.validHostname(name) ? name.toLowerCase(Locale.ROOT) : null;
    }

    /** unknownHelo - reject_unknown_helo_hostname: the HELO host name has no MX, A or AAAA record. */
    private Verdict unknownHelo(CheckContext ctx) {
        String name = heloDnsName(ctx.helo());
        if (name == null) {
            return Verdict.DUNNO;
        }
        boolean temp = false;
        for (DnsLookup.Type t : List.of(DnsLookup.Type.MX, DnsLookup.Type.A, DnsLookup.Type.AAAA)) {
            DnsLookup.Answer a = answer(ctx, t, name);
            if (a.status() == DnsLookup.Status.FOUND) {
                return Verdict.DUNNO;
            }
            temp |= a.status() == DnsLookup.Status.TEMP_FAIL;
        }
        return reject(temp ? s.codes().defer() : s.codes().unknownHostname(), "4.7.1", "<" + ctx.helo() + ">: "
                + HELO + " rejected: Host not found");
    }

    /** rbl - reject_rbl_client domain[=d.d.d.d]: listed when an A record (matching the filter) exists. */
    private Verdict rbl(CheckContext ctx, String arg) {
        String domain = Restriction.rblDomain(arg);
        String filter = arg.length() > domain.length() ? arg.substring(domain.length() + 1) : null;
        String q = rblQuery(ctx.clientAddress(), domain);
        if (q == null) {
            return Verdict.DUNNO;
        }
        DnsLookup.Answer a = answer(ctx, DnsLookup.Type.A, q);
        // a blocklist that does not answer is not a reason to refuse mail (Postfix: DUNNO)
        if (a.status() != DnsLookup.Status.FOUND
                || (filter != null && a.values().stream().noneMatch(v -> Restriction.filterMatches(filter, v)))) {
            return Verdict.DUNNO;
        }
        return rblReply(ctx, q, domain, ctx.clientAddress(), CLIENT);
    }

    /**
     * rblReply - Postfix's default_rbl_reply: "$rbl_code Service unavailable; $rbl_class
     * [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}", the reason being
     * the TXT records joined with " / " (at most 500 characters).
     */
    private Verdict rblReply(CheckContext ctx, String query, String domain, String what, String replyClass) {
        DnsLookup.Answer txt = answer(ctx, DnsLookup.Type.TXT, query);
        String reason = "";
        if (txt.status() == DnsLookup.Status.FOUND && !txt.values().isEmpty()) {
            String joined = String.join(" / ", txt.values());
            reason = "; " + printable(joined.length() > 500 ? joined.substring(0, 500) : joined);
        }
        return reject(s.codes().mapsRbl(), "5.7.1", "Service unavailable; " + replyClass + " [" + what
                + "] blocked using " + domain + reason);
    }

    /**
     * rhsblQuery - Postfix find_dnsxl_domain(): the domain of an address (or a host name)
     * under the blocklist domain; null for an address literal, an empty or invalid name,
     * or a name that ends in a numeric label (some lists refuse "IP queries").
     */
    static String rhsblQuery(String what, String rblDomain) {
        int at = what.lastIndexOf('@');
        String domain = stripDot(at < 0 ? what : what.substring(at + 1));
        if (domain.isEmpty() || domain.startsWith("[")) {
            return null;
        }
        int dot = domain.lastIndexOf('.');
        String last = domain.substring(dot + 1);
        if (last.isEmpty() || last.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        if (!domain.chars().allMatch(c -> c < 128)) {
            try {
                domain = java.net.IDN.toASCII(domain, java.net.IDN.ALLOW_UNASSIGNED);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return Hostnames.validHostname(domain) ? domain.toLowerCase(Locale.ROOT) + "." + rblDomain : null;
    }

    /**
     * rhsbl - reject_rhsbl_client, _reverse_client, _sender, _recipient, _helo
     * domain[=d.d.d.d]: listed when the name's domain has an A record under the blocklist
     * (matching the filter); a list that does not answer is not a reason to refuse mail.
     */
    private Verdict rhsbl(CheckContext ctx, String arg, String what, String replyClass) {
        String domain = Restriction.rblDomain(arg);
        String filter = arg.length() > domain.length() ? arg.substring(domain.length() + 1) : null;
        String q = rhsblQuery(what, domain);
        if (q == null) {
            return Verdict.DUNNO;
        }
        DnsLookup.Answer a = answer(ctx, DnsLookup.Type.A, q);
        if (a.status() != DnsLookup.Status.FOUND
                || (filter != null && a.values().stream().noneMatch(v -> Restriction.filterMatches(filter, v)))) {
            return Verdict.DUNNO;
        }
        return rblReply(ctx, q, domain, what, replyClass);
    }

    /** reverseName - the client's first PTR name, unverified (Postfix reverse_name), or null when unknown. */
    private static String reverseName(CheckContext ctx) {
        DnsLookup.Answer ptr = ctx.dnsAnswers().get(DnsLookup.Type.PTR, ctx.clientAddress());
        if (ptr == null || ptr.status() != DnsLookup.Status.FOUND || ptr.values().isEmpty()) {
            return null;
        }
        String name = stripDot(ptr.values().get(0));
        return Hostnames.validHostname(name) ? name.toLowerCase(Locale.ROOT) : null;
    }

    private static String canonical(String address) {
        try {
            return java.net.InetAddress.getByName(address).getHostAddress();
        } catch (java.net.UnknownHostException | RuntimeException e) {
            return address;
        }
    }

    /** printable - DNS text in a reply: no control characters, bounded. */
    private static String printable(String text) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length() && i < 200; i++) {
            char c = text.charAt(i);
            b.append(c < 32 || c == 127 ? ' ' : c);
        }
        return b.toString();
    }

    // ------------------------------------------------------------ syntax checks

    private Verdict invalidHelo(String helo) {
        if (helo == null) {
            return Verdict.DUNNO;
        }
        String name = stripDot(helo);
        boolean valid = name.startsWith("[")
                ? name.endsWith("]") && Hostnames.validHostaddr(Hostnames.stripLiteral(name))
                : Hostnames.validHostname(name) || Hostnames.validHostaddr(name);
        return valid ? Verdict.DUNNO : reject(s.codes().invalidHostname(), "5.5.2",
                "<" + helo + ">: " + HELO + " rejected: Invalid name");
    }

    private Verdict nonFqdnHelo(String helo) {
        if (helo == null) {
            return Verdict.DUNNO;
        }
        String name = stripDot(helo);
        if (name.startsWith("[") && name.endsWith("]") && Hostnames.validHostaddr(Hostnames.stripLiteral(name))) {
            return Verdict.DUNNO;
        }
        if (Hostnames.validHostname(name) && name.indexOf('.') > 0) {
            return Verdict.DUNNO;
        }
        return reject(s.codes().nonFqdn(), "5.5.2", "<" + helo + ">: " + HELO
                + " rejected: need fully-qualified hostname");
    }

    private Verdict nonFqdnAddress(String address, String replyClass) {
        MailAddress a = split(address);
        String domain = a.domain() == null ? "" : stripDot(a.domain());
        boolean fqdn = domain.startsWith("[") || (domain.indexOf('.') > 0 && Hostnames.validHostname(domain));
        return fqdn ? Verdict.DUNNO : reject(s.codes().nonFqdn(), "5.5.2", "<" + address + ">: " + replyClass
                + " rejected: need fully-qualified address");
    }

    // ------------------------------------------------------------ access maps

    /**
     * clientAccess - the client name and its parent domains, then the address and its
     * networks; a DUNNO for the name still lets the address be looked up.
     */
    private Verdict clientAccess(Request req, LookupTable table) {
        String name = req.ctx.clientName();
        if (name != null && !name.equals("unknown")) {
            Optional<Verdict> v = domainAccess(req, table, name);
            if (v.isPresent() && v.get().kind() != Verdict.Kind.DUNNO) {
                return v.get();
            }
        }
        for (String key : addressKeys(req.ctx.clientAddress())) {
            Optional<String> value = table.lookup(key);
            if (value.isPresent()) {
                return accessResult(req, value.get(), table);
            }
        }
        return Verdict.DUNNO;
    }

    /**
     * domainAccess - a host or domain name, then its parent domains (smtpd_access_maps is
     * in parent_domain_matches_subdomains); the first key found decides, DUNNO included.
     */
    private Optional<Verdict> domainAccess(Request req, LookupTable table, String domain) {
        String d = stripDot(domain).toLowerCase(Locale.ROOT);
        while (!d.isEmpty()) {
            Optional<String> value = table.lookup(d);
            if (value.isPresent()) {
                return Optional.of(accessResult(req, value.get(), table));
            }
            int dot = d.indexOf('.');
            d = dot < 0 || d.startsWith("[") ? "" : d.substring(dot + 1);
        }
        return Optional.empty();
    }

    /** mailAccess - user@domain, then domain and its parents, then user@ (Postfix access(5)). */
    private Verdict mailAccess(Request req, LookupTable table, String address) {
        if (address.isEmpty()) {
            Optional<String> value = table.lookup(s.nullAccessKey());
            return value.isPresent() ? accessResult(req, value.get(), table) : Verdict.DUNNO;
        }
        MailAddress a = split(address);
        String local = AddressResolver.unquote(a.localPart());
        Optional<String> value = table.lookup(a.domain() == null ? local : local + "@" + a.domain());
        if (value.isPresent()) {
            return accessResult(req, value.get(), table);
        }
        if (a.domain() != null) {
            Optional<Verdict> v = domainAccess(req, table, a.domain());
            if (v.isPresent()) {
                return v.get();
            }
        }
        value = table.lookup(local + "@");
        return value.isPresent() ? accessResult(req, value.get(), table) : Verdict.DUNNO;
    }

    /** addressKeys - 1.2.3.4, 1.2.3, 1.2, 1; an IPv6 address and its prefixes at ':' boundaries. */
    static List<String> addressKeys(String address) {
        List<String> keys = new ArrayList<>();
        String a = address.toLowerCase(Locale.ROOT);
        char sep = a.indexOf(':') >= 0 ? ':' : '.';
        keys.add(a);
        for (int i = a.lastIndexOf(sep); i > 0; i = a.lastIndexOf(sep, i - 1)) {
            String prefix = a.substring(0, i);
            if (!prefix.isEmpty() && !prefix.endsWith(String.valueOf(sep))) {
                keys.add(prefix);
            }
        }
        return keys;
    }

    /** accessResult - interpret an access map value (Postfix check_table_result()). */
    private Verdict accessResult(Request req, String value, LookupTable table) {
        return accessResult(req, value, "access table " + table.spec());
    }

    /**
     * policyService - check_policy_service: one request per check (Postfix
     * SMTPD_POLICY_README), its action taken as an access map result. The answer is
     * asked for asynchronously: without it the evaluation stops with PolicyPending and is
     * started over when it is there.
     */
    private Verdict policyService(Request req, String spec) {
        PolicyClient client = s.policyClients().get(spec);
        String request = policyRequest(req, client);
        String key = req.ctx.eval.policyRequests++ + " " + req.replyClass + " " + spec + "\n" + request;
        java.util.Map<String, String> answers = req.ctx.policyAnswers();
        String action = answers.get(key);
        if (action == null) {
            throw new PolicyPending(client.query(request).thenAccept(a -> answers.put(key, a)));
        }
        return accessResult(req, action, "policy query " + client.endpoint());
    }

    /** policyRequest - the attributes, as Postfix's smtpd sends them (values without line ends). */
    private static String policyRequest(Request req, PolicyClient client) {
        java.util.Map<String, String> a = new java.util.LinkedHashMap<>();
        a.put("request", "smtpd_access_policy");
        a.putAll(req.ctx.policyAttributes());
        a.put("helo_name", req.ctx.helo() == null ? "" : req.ctx.helo());
        a.put("sender", req.ctx.sender() == null ? "" : req.ctx.sender());
        a.put("recipient", req.recipient == null ? "" : req.recipient.toString());
        a.put("client_address", req.ctx.clientAddress());
        a.put("client_name", req.ctx.clientName());
        DnsLookup.Answer ptr = req.ctx.dnsAnswers().get(DnsLookup.Type.PTR, req.ctx.clientAddress());
        a.put("reverse_client_name", ptr != null && ptr.status() == DnsLookup.Status.FOUND
                ? ptr.values().get(0).toLowerCase(Locale.ROOT) : req.ctx.clientName());
        a.put("etrn_domain", req.etrnDomain == null ? "" : req.etrnDomain);
        a.put("policy_context", client.settings().policyContext());
        StringBuilder b = new StringBuilder();
        for (java.util.Map.Entry<String, String> e : a.entrySet()) {
            b.append(e.getKey()).append('=').append(e.getValue().replace('\n', ' ').replace('\r', ' ')).append('\n');
        }
        return b.toString();
    }

    /** accessResult - interpret an access map or policy server result (Postfix check_table_result()). */
    private Verdict accessResult(Request req, String value, String origin) {
        String v = value.strip();
        int space = 0;
        while (space < v.length() && !Character.isWhitespace(v.charAt(space))) {
            space++;
        }
        String cmd = v.substring(0, space).toUpperCase(Locale.ROOT);
        String text = v.substring(space).strip();
        String target = "<" + req.replyName + ">: " + req.replyClass;
        PolicySettings.Codes codes = s.codes();
        switch (cmd) {
            case "OK":
                return Verdict.OK;
            case "DUNNO":
                return Verdict.DUNNO;
            case "REJECT":
                return rejectWithText(codes.accessMapReject(), "5.7.1", target + " rejected: ", text);
            case "DEFER":
                return rejectWithText(codes.accessMapDefer(), "4.7.1", target + " rejected: ", text);
            case "WARN":
                req.ctx.log("warn", target + " " + text);
                return Verdict.DUNNO;
            case "INFO":
                req.ctx.log("info", target + " " + text);
                return Verdict.DUNNO;
            case "DEFER_IF_PERMIT": {
                // deferred at the end of the stage, unless something rejects (Postfix: access_map_defer_code)
                Verdict d = rejectWithText(codes.accessMapDefer(), "4.7.1", target + " rejected: ",
                        text.isEmpty() ? "Service unavailable" : text);
                if (req.ctx.eval.warn) {
                    return d; // warn_if_reject: logged as reject_warning, as Postfix's DEFER_IF_PERMIT3
                }
                if (req.ctx.eval.deferIfPermit == null) {
                    req.ctx.eval.deferIfPermit = d.reply();
                }
                return Verdict.DUNNO;
            }
            case "DEFER_IF_REJECT":
                // a later 5XX reject of this evaluation becomes this deferral
                if (req.ctx.eval.deferIfReject == null) {
                    req.ctx.eval.deferIfReject = rejectWithText(codes.accessMapDefer(), "4.7.1", target
                            + " rejected: ", text.isEmpty() ? "Service unavailable" : text).reply();
                }
                return Verdict.DUNNO;
            case "PREPEND":
            case "REDIRECT":
            case "FILTER":
            case "BCC":
                // actions that need cleanup(8) features Postern does not have: logged, not acted on
                LOG.warning("PSTN1103: " + origin + ": action " + cmd + " is not supported by Postern; ignored");
                return Verdict.DUNNO;
            case "HOLD":
            case "DISCARD":
                if (req.ctx.sender() == null) {
                    LOG.warning("PSTN1101: " + origin + ": with smtpd_delay_reject = no, action "
                            + cmd + " is unavailable before MAIL FROM");
                    return Verdict.DUNNO;
                }
                String reason = target + " " + (text.isEmpty() ? "triggers " + cmd + " action" : text);
                if (cmd.equals("HOLD")) {
                    req.ctx.log("hold", reason);
                    req.ctx.hold(reason);
                    return Verdict.DUNNO;
                }
                req.ctx.log("discard", reason);
                req.ctx.discard(reason);
                req.ctx.eval.discarded = true;
                return Verdict.OK;
            default:
                break;
        }
        if (!cmd.isEmpty() && cmd.chars().allMatch(Character::isDigit)) {
            if (cmd.length() == 3 && (cmd.charAt(0) == '4' || cmd.charAt(0) == '5')) {
                return rejectWithText(Integer.parseInt(cmd), cmd.charAt(0) + ".7.1", target + " rejected: ", text);
            }
            return Verdict.OK; // all-numeric: OK, for compatibility with old tables
        }
        // Otherwise the value is a list of restrictions.
        List<Restriction> nested = new ArrayList<>();
        try {
            for (String element : Lists.split(v)) {
                nested.add(Restriction.simple(element, origin));
            }
        } catch (ConfigException | IllegalArgumentException e) {
            LOG.warning("PSTN1102: " + origin + ": bad result \"" + v + "\": " + e.getMessage());
            return new Verdict(Verdict.Kind.REJECT, CONFIG_ERROR);
        }
        return generic(req, nested, false);
    }

    // ------------------------------------------------------------ replies

    /** rejectWithText - "CODE DSN prefixTEXT"; TEXT may start with its own DSN; empty: Access denied. */
    private static Verdict rejectWithText(int code, String defaultDsn, String prefix, String text) {
        String dsn = defaultDsn;
        String t = text;
        Matcher m = DSN.matcher(t);
        if (m.find()) {
            dsn = m.group(1) + "." + m.group(2) + "." + m.group(3);
            t = t.substring(m.end());
        }
        return reject(code, dsn, prefix + (t.isEmpty() ? "Access denied" : t));
    }

    /** reject - a reply line; the DSN class follows the reply code (4XX: 4.x.x). */
    private static Verdict reject(int code, String dsn, String text) {
        String d = (code / 100) + dsn.substring(1);
        return new Verdict(Verdict.Kind.REJECT, code + " " + d + " " + text);
    }

    private static MailAddress split(String address) {
        try {
            return MailAddress.parse(address);
        } catch (AddressSyntaxException e) {
            int at = address.lastIndexOf('@');
            return at < 0 ? new MailAddress(address, null)
                    : new MailAddress(address.substring(0, at), address.substring(at + 1));
        }
    }

    private static String stripDot(String name) {
        return name.length() > 1 && name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
