package org.postern.smtpd;

import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.SmtpdListener;
import static org.postern.smtpd.SmtpdReplies.ETRN_BAD_DOMAIN;
import static org.postern.smtpd.SmtpdReplies.ETRN_FAILED;
import static org.postern.smtpd.SmtpdReplies.ETRN_STARTED;
import static org.postern.smtpd.SmtpdReplies.ETRN_SYNTAX;

import java.util.logging.Level;

import org.postern.smtpd.policy.SmtpdCheck;

/**
 * EtrnCommand - the ETRN command of one SMTP session.
 *
 * <h2>NAME</h2>
 * EtrnCommand - Postfix smtpd.c's etrn_cmd() with the fast flush service of flush(8)
 * (RFC 1985, the Postfix ETRN howto).
 *
 * <h2>DESCRIPTION</h2>
 * ETRN domain, after HELO/EHLO and outside a transaction: the domain is checked against
 * smtpd_etrn_restrictions, then the listener's flush service
 * ({@link SmtpdListener#etrn}) is asked on the blocking executor while reads wait. The
 * replies are Postfix's: "250 Queuing started", "459 &lt;domain&gt;: service
 * unavailable" for a domain not in fast_flush_domains, "458 Unable to queue messages"
 * when the service failed (logged as PSTN1011 or PSTN1012).
 *
 * <h2>SECURITY</h2>
 * The domain names a destination in the flush index, never a path: a leading '@' or '#'
 * is dropped as Postfix does, and the rest must be a valid host name.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_etrn_restrictions, fast_flush_domains (in the flush service).
 *
 * <h2>SEE ALSO</h2>
 * RFC 1985, Postfix ETRN_README, flush(8).
 *
 * @param s        the session
 * @param settings its service's parameters
 */
record EtrnCommand(SmtpdSession s, SmtpdSettings settings) {

    /**
     * etrn - ETRN domain (RFC 1985): smtpd_etrn_restrictions, then the flush service on the
     * blocking executor; reads wait meanwhile. A leading '@' (the domain and its
     * subdomains) or '#' (a queue name) is dropped as Postfix does, and the rest must be
     * a valid host name: it names a destination in the flush index, never a path.
     * Returns true when the reply will come from the flush service. HELO first and no
     * transaction in progress are checks of the command table.
     */
    boolean etrn(String arg) {
        String domain = arg.trim();
        if (domain.isEmpty() || domain.contains(" ")) {
            return s.error(ETRN_SYNTAX);
        }
        if (domain.charAt(0) == '@' || domain.charAt(0) == '#') {
            domain = domain.substring(1);
        }
        if (!validHostname(domain)) {
            return s.error(ETRN_BAD_DOMAIN);
        }
        s.checks.prefetch(SmtpdCheck.Stage.ETRN, null);
        String reject = settings.check().checkEtrn(s.checks, domain);
        if (reject != null) {
            return s.policyError(reject);
        }
        String site = domain;
        String[] reply = new String[1];
        s.runBlocking(() -> reply[0] = flush(site), () -> {
            boolean started = reply[0].startsWith("250");
            s.chat.count("etrn", started);
            if (started) {
                s.reply(reply[0]);
            } else {
                s.error(reply[0]);
            }
        });
        return true;
    }

    /** flush - ask the listener's flush service (on the blocking executor): the reply to send. */
    private String flush(String domain) {
        try {
            return s.listener.etrn(domain) ? ETRN_STARTED : "459 <" + domain + ">: service unavailable";
        } catch (EnqueueException e) {
            SmtpdSession.LOG.warning("PSTN1011: " + s.namaddr() + ": ETRN " + domain + ": " + e.getMessage());
            return ETRN_FAILED;
        } catch (RuntimeException e) {
            SmtpdSession.LOG.log(Level.WARNING, "PSTN1012: " + s.namaddr() + ": ETRN " + domain
                    + ": flush service failed", e);
            return ETRN_FAILED;
        }
    }

    /** validHostname - letters, digits, '-' and '.', labels of 1-63, at most 255 (valid_hostname()). */
    static boolean validHostname(String name) {
        if (name.isEmpty() || name.length() > 255 || name.startsWith(".") || name.contains("..")) {
            return false;
        }
        for (String label : name.split("\\.")) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '-') {
                    return false;
                }
            }
        }
        return true;
    }
}
