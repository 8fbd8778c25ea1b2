package org.postern.smtpd.policy;

import java.util.List;

import org.postern.mail.MailAddress;

/**
 * Request - what one list evaluation looks at besides the session: the recipient of RCPT
 * TO, the domain of ETRN, and the name and class that a reply names ("&lt;a@b&gt;:
 * Sender address rejected: ...").
 *
 * <p>The reply classes are Postfix's (smtpd_check.c): "Client host", "Helo command",
 * "Sender address", "Recipient address", "Data command", "End-of-data", "Etrn command",
 * and "Unverified Client host" for the client's unverified reverse name.
 */
final class Request {
    static final String CLIENT = "Client host";
    static final String REVERSE_CLIENT = "Unverified Client host";
    static final String HELO = "Helo command";
    static final String SENDER = "Sender address";
    static final String RECIPIENT = "Recipient address";
    static final String DATA = "Data command";
    static final String EOD = "End-of-data";
    static final String ETRN = "Etrn command";

    final SmtpdCheck check;
    final Buffered ctx;
    final MailAddress recipient;
    final String etrnDomain;
    final String replyName;
    final String replyClass;
    /** reject_unlisted_recipient was applied (the implicit one is then skipped). */
    boolean unlistedChecked;

    Request(SmtpdCheck check, Buffered ctx, MailAddress recipient, String etrnDomain, String replyName,
            String replyClass) {
        this.check = check;
        this.ctx = ctx;
        this.recipient = recipient;
        this.etrnDomain = etrnDomain;
        this.replyName = replyName;
        this.replyClass = replyClass;
    }

    /** as - the same request, replies naming another thing (an access map's key, say). */
    Request as(String name, String cls) {
        Request r = new Request(check, ctx, recipient, etrnDomain, name, cls);
        r.unlistedChecked = unlistedChecked;
        return r;
    }

    /** settings - the policy of the listener. */
    PolicySettings settings() {
        return check.settings();
    }

    /** eval - the state of the stage evaluation. */
    Buffered.Eval eval() {
        return ctx.eval;
    }

    /** target - "&lt;name&gt;: Class", the start of a reply about what this request names. */
    String target() {
        return "<" + replyName + ">: " + replyClass;
    }

    /** nested - a list of restrictions from an access map or policy server result (not logged as a list). */
    Verdict nested(List<Restriction> list) {
        return check.generic(this, list, false);
    }
}
