package org.postern.smtpd.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Buffered - the session during one stage evaluation: logs, HOLD and DISCARD are kept
 * and take effect only when the evaluation completes (not when it waits for a policy
 * server or a sleep and is started over), and the state of the evaluation ({@link Eval}).
 */
final class Buffered implements CheckContext {

    /**
     * Eval - the state of one stage evaluation: the SMTP stage (Postfix state-&gt;where),
     * DEFER_IF_PERMIT and DEFER_IF_REJECT (the first reply of each), whether the current
     * restriction follows warn_if_reject, the policy requests and sleeps so far (their
     * answers are keyed by this count), whether reject_unlisted_sender was applied and
     * whether a DISCARD action was taken.
     */
    static final class Eval {
        final SmtpdCheck.Stage stage;
        String deferIfPermit;
        String deferIfReject;
        boolean warn;
        int policyRequests;
        boolean senderChecked;
        boolean discarded;

        Eval(SmtpdCheck.Stage stage) {
            this.stage = stage;
        }
    }

    final CheckContext ctx;
    final Eval eval;
    final List<Runnable> effects = new ArrayList<>();

    Buffered(CheckContext ctx, SmtpdCheck.Stage stage) {
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
    @Override public Map<SmtpdCheck.Stage, String> stageDefers() { return ctx.stageDefers(); }
    @Override public DnsAnswers dnsAnswers() { return ctx.dnsAnswers(); }
    @Override public Map<String, String> policyAnswers() { return ctx.policyAnswers(); }
    @Override public Map<String, String> policyAttributes() { return ctx.policyAttributes(); }
    @Override public void log(String whatsup, String text) { effects.add(() -> ctx.log(whatsup, text)); }
    @Override public void hold(String reason) { effects.add(() -> ctx.hold(reason)); }
    @Override public void discard(String reason) { effects.add(() -> ctx.discard(reason)); }
}
