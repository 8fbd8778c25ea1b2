package org.postern.smtpd.policy;

import static org.postern.smtpd.policy.RestrictionKind.of;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * GenericRestrictions - the restrictions that every list may name (Postfix postconf(5),
 * "Generic restrictions"): permit, reject, defer, warn_if_reject, defer_if_permit,
 * defer_if_reject, reject_unauth_pipelining, reject_multi_recipient_bounce and sleep.
 *
 * <h2>DESCRIPTION</h2>
 * permit ends the list; reject and defer reply "reject_code (554) 5.7.1 &lt;name&gt;:
 * Class rejected: Access denied" and "defer_code (450) 4.7.1 ... Try again later".
 * warn_if_reject makes the next restriction log "reject_warning" instead of rejecting
 * (the list evaluation in {@link SmtpdCheck} does that; it is never evaluated itself).
 * defer_if_permit and defer_if_reject remember a 450 4.7.0 deferral for the end of the
 * stage and for a later 5XX reject, as {@link SmtpdCheck} describes.
 *
 * <p>reject_multi_recipient_bounce refuses the null sender with more than one recipient
 * (at RCPT TO: a second one), multi_recipient_bounce_reject_code (550) 5.5.3.
 * reject_unauth_pipelining refuses (503 5.5.0 "Improper use of SMTP command
 * pipelining") once the session has seen the client send commands ahead of time where
 * RFC 2920 does not allow it. sleep N pauses the evaluation for N seconds on a timer,
 * without holding a thread, then goes on.
 *
 * <h2>BUGS</h2>
 * sleep pauses at every evaluation, pipelining clients included.
 */
final class GenericRestrictions {

    /** warn_if_reject: the list evaluation reads it, it is never evaluated. */
    static final RestrictionKind WARN_IF_REJECT = of("warn_if_reject", (req, r) -> Verdict.DUNNO);

    static final List<RestrictionKind> KINDS = List.of(
            of("permit", (req, r) -> Verdict.OK),
            of("reject", (req, r) -> Verdict.reject(req.settings().codes().reject(), "5.7.1",
                    req.target() + " rejected: Access denied")),
            of("defer", (req, r) -> Verdict.reject(req.settings().codes().defer(), "4.7.1",
                    req.target() + " rejected: Try again later")),
            WARN_IF_REJECT,
            of("defer_if_permit", GenericRestrictions::deferIfPermit),
            of("defer_if_reject", GenericRestrictions::deferIfReject),
            of("reject_unauth_pipelining", (req, r) -> req.ctx.illegalPipelining()
                    ? Verdict.reject(503, "5.5.0", req.target() + " rejected: Improper use of SMTP command pipelining")
                    : Verdict.DUNNO),
            of("reject_multi_recipient_bounce", GenericRestrictions::multiRecipientBounce),
            RestrictionKind.withArgument("sleep", Argument.SECONDS, GenericRestrictions::sleep));

    private GenericRestrictions() {
    }

    /** deferIfPermit - remember the deferral for the end of the stage; under warn_if_reject only a warning. */
    private static Verdict deferIfPermit(Request req, Restriction r) {
        Verdict d = Verdict.reject(450, "4.7.0", req.target() + " rejected: defer_if_permit requested");
        if (req.eval().warn) {
            return d;
        }
        if (req.eval().deferIfPermit == null) {
            req.eval().deferIfPermit = d.reply();
        }
        return Verdict.DUNNO;
    }

    /** deferIfReject - a later 5XX reject of this evaluation becomes this deferral. */
    private static Verdict deferIfReject(Request req, Restriction r) {
        if (req.eval().deferIfReject == null) {
            req.eval().deferIfReject = Verdict.reject(450, "4.7.0", req.target()
                    + " rejected: defer_if_reject requested").reply();
        }
        return Verdict.DUNNO;
    }

    /** multiRecipientBounce - the null sender with more than one recipient. */
    private static Verdict multiRecipientBounce(Request req, Restriction r) {
        CheckContext ctx = req.ctx;
        // at RCPT the recipient being checked is not counted yet (Postfix rcpt_count)
        if (ctx.sender() != null && ctx.sender().isEmpty()
                && ctx.recipientCount() > (req.eval().stage == SmtpdCheck.Stage.RCPT ? 0 : 1)) {
            return Verdict.reject(req.settings().codes().multiRecipientBounce(), "5.5.3", req.target()
                    + " rejected: Multi-recipient bounce");
        }
        return Verdict.DUNNO;
    }

    /**
     * sleep - pause, then go on with the next restriction. The evaluation stops with
     * PolicyPending on a timer (no thread waits) and is started over when the time is up;
     * the pause is then known to be over (its key, like a policy answer's, is the count of
     * requests so far in this evaluation).
     */
    private static Verdict sleep(Request req, Restriction r) {
        int seconds = Integer.parseInt(r.arg());
        if (seconds <= 0) {
            return Verdict.DUNNO;
        }
        String key = req.eval().policyRequests++ + " sleep " + seconds;
        Map<String, String> answers = req.ctx.policyAnswers();
        if (!answers.containsKey(key)) {
            throw new SmtpdCheck.PolicyPending(new CompletableFuture<Void>()
                    .completeOnTimeout(null, seconds, TimeUnit.SECONDS)
                    .thenRun(() -> answers.put(key, "slept")));
        }
        return Verdict.DUNNO;
    }
}
