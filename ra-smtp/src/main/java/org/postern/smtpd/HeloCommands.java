package org.postern.smtpd;

import static org.postern.smtpd.SmtpdReplies.EHLO_SYNTAX;
import static org.postern.smtpd.SmtpdReplies.HELO_SYNTAX;

import java.util.ArrayList;
import java.util.List;

import org.postern.smtpd.policy.SmtpdCheck;

/**
 * HeloCommands - the HELO and EHLO commands of one SMTP session.
 *
 * <h2>NAME</h2>
 * HeloCommands - Postfix smtpd.c's helo_cmd() and ehlo_cmd(), one prologue for both.
 *
 * <h2>DESCRIPTION</h2>
 * Both commands take a host name, check smtpd_helo_restrictions at once when
 * smtpd_delay_reject = no, and reset any transaction (RFC 5321 4.1.4): that shared
 * prologue is {@link #greeting}. HELO then answers "250 myhostname" and the session
 * speaks plain SMTP; EHLO answers with the extensions, in Postfix's order, and the
 * session speaks ESMTP (pipelining is allowed from now on). STARTTLS is offered until
 * TLS is active, AUTH where smtpd_sasl_auth_enable and smtpd_tls_auth_only allow it.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * myhostname, message_size_limit, disable_vrfy_command, smtpd_tls_security_level,
 * smtpd_sasl_auth_enable, smtpd_tls_auth_only, smtpd_delay_reject,
 * smtpd_helo_restrictions.
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321 4.1.1.1, RFC 1869, Postfix smtpd(8).
 *
 * @param s        the session
 * @param settings its service's parameters
 */
record HeloCommands(SmtpdSession s, SmtpdSettings settings) {

    /** helo - HELO hostname: plain SMTP; resets any transaction (RFC 5321 4.1.4). */
    boolean helo(String arg) {
        if (!greeting(arg, HELO_SYNTAX, "SMTP")) {
            return false;
        }
        s.reply("250 " + settings.identity().myhostname());
        return true;
    }

    /** ehlo - EHLO hostname: the extensions in Postfix's order. */
    boolean ehlo(String arg) {
        if (!greeting(arg, EHLO_SYNTAX, "ESMTP")) {
            return false;
        }
        List<String> lines = new ArrayList<>();
        lines.add(settings.identity().myhostname());
        lines.add("PIPELINING");
        lines.add(settings.limits().messageSizeLimit() > 0 ? "SIZE " + settings.limits().messageSizeLimit() : "SIZE");
        if (!settings.protocol().disableVrfy()) {
            lines.add("VRFY");
        }
        lines.add("ETRN");
        if (settings.offersStartTls() && !s.tls) {
            lines.add("STARTTLS");
        }
        if (settings.offersAuth(s.tls)) {
            lines.add("AUTH PLAIN LOGIN");
        }
        lines.add("ENHANCEDSTATUSCODES");
        lines.add("8BITMIME");
        lines.add("DSN");
        lines.add("SMTPUTF8");
        lines.add("CHUNKING");
        for (int i = 0; i < lines.size(); i++) {
            s.reply("250" + (i == lines.size() - 1 ? " " : "-") + lines.get(i));
        }
        return true;
    }

    /**
     * greeting - the prologue of HELO and EHLO: the host name is required, the HELO
     * restrictions are checked when not delayed, and the client starts over with this
     * name and protocol. False (the error answered) when the greeting is refused.
     */
    private boolean greeting(String arg, String syntax, String protocol) {
        if (arg.isEmpty()) {
            return s.error(syntax);
        }
        String reject = checkHeloNow(arg);
        if (reject != null) {
            return s.policyError(reject);
        }
        s.resetTransaction();
        s.chat.flush();
        s.helo = arg;
        s.protocol = protocol;
        return true;
    }

    /** checkHeloNow - smtpd_helo_restrictions at HELO time (smtpd_delay_reject = no); the reject or null. */
    private String checkHeloNow(String name) {
        if (settings.check().delayReject()) {
            return null;
        }
        String previous = s.helo;
        s.helo = name;
        try {
            s.checks.prefetch(SmtpdCheck.Stage.HELO, null);
            return settings.check().checkHelo(s.checks);
        } finally {
            s.helo = previous;
        }
    }
}
