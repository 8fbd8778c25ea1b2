package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.AUTH_NOT_ENABLED;
import static org.postern.smtpd.SmtpdReplies.BREAK_RULES;
import static org.postern.smtpd.SmtpdReplies.IN_TRANSACTION;
import static org.postern.smtpd.SmtpdReplies.NEED_HELO;
import static org.postern.smtpd.SmtpdReplies.NEED_STARTTLS;
import static org.postern.smtpd.SmtpdReplies.NOT_RECOGNIZED;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * SmtpdCommands - the command table of the SMTP server: verb, handler, requirements and
 * flags.
 *
 * <h2>NAME</h2>
 * SmtpdCommands - Postfix smtpd.c's cmd_table ({name, action, flags}) and the part of
 * smtpd_proto() that looks a command up and runs it.
 *
 * <h2>DESCRIPTION</h2>
 * One constant per verb, in Postfix's table order (which is also the order of the
 * command statistics of the "disconnect from" line, see {@link SmtpdChat#formatStats}).
 * Each has its handler, the requirements checked before the handler runs, in order
 * ({@link Requirement}: HELO first, TLS first under smtpd_tls_security_level = encrypt,
 * AUTH enabled, no transaction in progress), and its flags ({@link Flag}): whether it
 * must be the last command of a pipelined group, whether its outcome is counted later
 * (when the exchange, the message or the flush has ended), whether it is a junk command.
 * {@link #dispatch} runs one command line: the pipelining check (RFC 2920), the
 * connect-time reject (smtpd_delay_reject = no), the lookup, the requirements, the
 * handler, the statistics and smtpd_junk_command_limit. An unknown verb is answered
 * 500; HTTP verbs and header lines end the session as in Postfix.
 *
 * <h2>SECURITY</h2>
 * Commands sent ahead of time where RFC 2920 forbids it are logged once ("improper
 * command pipelining after ...") and remembered for reject_unauth_pipelining;
 * smtpd_forbid_unauth_pipelining = yes ends the session instead. A client that keeps the
 * session busy without mail (NOOP, RSET, VRFY, ETRN floods) collects errors past
 * smtpd_junk_command_limit, and so meets the tarpit and the hard error limit.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_helo_required, smtpd_tls_security_level, smtpd_sasl_auth_enable,
 * smtpd_tls_auth_only, smtpd_forbid_unauth_pipelining, smtpd_junk_command_limit.
 *
 * <h2>BUGS</h2>
 * Under smtpd_tls_security_level = encrypt only MAIL requires TLS first; Postfix's
 * table refuses every command without its "pre-TLS" flag (530 5.7.0).
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321 4.1, RFC 2920 3.1, RFC 3207, RFC 4954, Postfix smtpd(8).
 */
enum SmtpdCommands {
    HELO((s, a) -> s.heloCommands.helo(a), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE)),
    EHLO((s, a) -> s.heloCommands.ehlo(a), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE)),
    STARTTLS((s, a) -> s.startTls.starttls(a), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE)),
    AUTH((s, a) -> s.auth.auth(a),
            List.of(Requirement.AUTH_ENABLED, Requirement.HELO_IF_REQUIRED, Requirement.NO_TRANSACTION),
            EnumSet.of(Flag.LAST_IN_PIPELINE, Flag.COUNTED_LATER)),
    MAIL((s, a) -> s.mailCommands.mail(a), List.of(Requirement.HELO_IF_REQUIRED, Requirement.TLS_IF_ENFORCED),
            EnumSet.noneOf(Flag.class)),
    RCPT((s, a) -> s.mailCommands.rcpt(a), List.of(), EnumSet.noneOf(Flag.class)),
    DATA((s, a) -> s.data.data(a), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE, Flag.COUNTED_LATER)),
    BDAT((s, a) -> s.data.bdat(a), List.of(), EnumSet.of(Flag.COUNTED_LATER)),
    RSET((s, a) -> s.sessionCommands.rset(a), List.of(), EnumSet.of(Flag.JUNK)),
    NOOP((s, a) -> s.sessionCommands.noop(), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE, Flag.JUNK)),
    VRFY((s, a) -> s.sessionCommands.vrfy(a), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE, Flag.JUNK)),
    ETRN((s, a) -> s.etrn.etrn(a), List.of(Requirement.HELO, Requirement.NO_TRANSACTION),
            EnumSet.of(Flag.LAST_IN_PIPELINE, Flag.COUNTED_LATER, Flag.JUNK)),
    QUIT((s, a) -> s.sessionCommands.quit(), List.of(), EnumSet.of(Flag.LAST_IN_PIPELINE)),
    HELP((s, a) -> s.sessionCommands.help(), List.of(), EnumSet.noneOf(Flag.class));

    /** Handler - runs a command with its argument; true on success (or when the outcome comes later). */
    @FunctionalInterface
    interface Handler {
        boolean run(SmtpdSession session, String argument);
    }

    /** Flag - how the dispatcher treats a command. */
    enum Flag {
        /** Must end a pipelined group (RFC 2920 3.1, RFC 3207, RFC 4954; for AUTH see {@link #endsGroup}). */
        LAST_IN_PIPELINE,
        /** A success is counted when the exchange, message or flush ends, not at dispatch. */
        COUNTED_LATER,
        /** Counts towards smtpd_junk_command_limit. */
        JUNK
    }

    /** Requirement - a condition checked before the handler runs: the reply when it does not hold, or null. */
    enum Requirement {
        /** AUTH is offered here (smtpd_sasl_auth_enable, smtpd_tls_auth_only). */
        AUTH_ENABLED(s -> s.settings.offersAuth(s.tls) ? null : AUTH_NOT_ENABLED),
        /** smtpd_helo_required = yes: HELO or EHLO first. */
        HELO_IF_REQUIRED(s -> s.settings.protocol().heloRequired() && s.helo == null ? NEED_HELO : null),
        /** HELO or EHLO first, whatever smtpd_helo_required says (ETRN, RFC 1985). */
        HELO(s -> s.helo == null ? NEED_HELO : null),
        /** smtpd_tls_security_level = encrypt: STARTTLS first. */
        TLS_IF_ENFORCED(s -> s.settings.security().tlsLevel() == SmtpdSettings.TlsLevel.ENCRYPT && !s.tls
                ? NEED_STARTTLS : null),
        /** No MAIL transaction in progress. */
        NO_TRANSACTION(s -> s.sender != null ? IN_TRANSACTION : null);

        private final Function<SmtpdSession, String> check;

        Requirement(Function<SmtpdSession, String> check) {
            this.check = check;
        }
    }

    /** Conversation stage of an unknown command, for "... after UNKNOWN from ...". */
    private static final String UNKNOWN = "UNKNOWN";
    private static final Map<String, SmtpdCommands> BY_VERB = new HashMap<>();

    static {
        for (SmtpdCommands c : values()) {
            BY_VERB.put(c.name(), c);
        }
    }

    private final Handler handler;
    private final List<Requirement> requirements;
    private final Set<Flag> flags;

    SmtpdCommands(Handler handler, List<Requirement> requirements, Set<Flag> flags) {
        this.handler = handler;
        this.requirements = requirements;
        this.flags = flags;
    }

    /** statName - the name in the command statistics: the verb in lower case. */
    String statName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * endsGroup - must this command be the last of a pipelined group? AUTH must (RFC 4954
     * 4), except when it carries the initial response of a mechanism that completes in
     * one round trip without a security layer: AUTH PLAIN with its response may be
     * followed by MAIL, RCPT and DATA in the same group, which then run after the AUTH
     * reply, with its outcome. (Postfix does not check AUTH at all.)
     */
    private boolean endsGroup(String argument) {
        if (this == AUTH) {
            return !AuthCommand.completesInOneRoundTrip(argument);
        }
        return flags.contains(Flag.LAST_IN_PIPELINE);
    }

    /** run - the requirements in order (the first that fails is answered as an error), then the handler. */
    private boolean run(SmtpdSession s, String argument) {
        for (Requirement r : requirements) {
            String refusal = r.check.apply(s);
            if (refusal != null) {
                return s.error(refusal);
            }
        }
        return handler.run(s, argument);
    }

    /** dispatch - one command line, parsed: look the verb up and run it. */
    static void dispatch(SmtpdSession s, SmtpCommand command, String text) {
        String verb = command.verb();
        SmtpdCommands cmd = BY_VERB.get(verb);
        byte[] pipelined = s.framer.pipelined();
        if (!s.illPipelining && pipelined != null && pipelined.length > 0
                && (!s.protocol.equals("ESMTP") || cmd != null && cmd.endsGroup(command.argument()))) {
            // RFC 2920 3.1: this command must end a group, or the client was never told
            // that pipelining is allowed (no EHLO). Noted once per session, as Postfix does,
            // for reject_unauth_pipelining; smtpd_forbid_unauth_pipelining ends the session.
            s.illPipelining = true;
            s.framer.logImproperPipelining(verb, pipelined);
            if (s.settings.protocol().forbidUnauthPipelining()) {
                s.chat.errorClass("protocol");
                s.where = verb;
                s.chat.count(verb.toLowerCase(Locale.ROOT), false);
                s.reply("554 5.5.0 Error: SMTP protocol synchronization");
                s.hangup();
                return;
            }
        }
        if (s.accessDenied != null && !verb.equals("QUIT")) {
            s.where = verb;
            s.chat.count(isNonSmtp(verb) ? "unknown" : verb.toLowerCase(Locale.ROOT), false);
            s.error("503 5.7.0 Error: access denied for " + s.namaddr());
            return;
        }
        if (cmd == null) {
            unknown(s, verb, text);
            return;
        }
        s.where = verb;
        boolean ok = cmd.run(s, command.argument());
        if (ok && cmd.flags.contains(Flag.COUNTED_LATER)) {
            return;
        }
        s.chat.count(cmd.statName(), ok);
        // smtpd_junk_command_limit: a client that keeps the session busy without mail
        // (NOOP/RSET/VRFY floods) starts to collect errors, and so the tarpit and the
        // hard error limit.
        if (cmd.flags.contains(Flag.JUNK) && s.junkCommands++ >= s.settings.limits().junkCommandLimit()) {
            s.errorCount++;
        }
    }

    /** unknown - a verb not in the table: 500, or the end of the session for HTTP and header lines. */
    private static void unknown(SmtpdSession s, String verb, String text) {
        s.where = UNKNOWN;
        if (isNonSmtp(verb)) {
            s.chat.errorClass("protocol");
            s.chat.count("unknown", false);
            s.maillog.warning("warning: non-SMTP command from " + s.namaddr() + ": "
                    + printable(text, 100));
            s.reply(BREAK_RULES);
            s.hangup();
            return;
        }
        s.chat.count("unknown", s.error(NOT_RECOGNIZED));
    }

    /** isNonSmtp - HTTP verbs and header lines sent to an SMTP port (Postfix is_header, smtpd_forbid_cmds). */
    private static boolean isNonSmtp(String verb) {
        if (verb.equals("CONNECT") || verb.equals("GET") || verb.equals("POST")) {
            return true;
        }
        return verb.length() > 1 && verb.endsWith(":") && verb.substring(0, verb.length() - 1).chars()
                .allMatch(c -> c > 32 && c < 127 && c != ':');
    }
}
