package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.postern.mail.MailAddress;
import org.postern.smtpd.policy.CheckContext;
import org.postern.smtpd.policy.DnsAnswers;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * SmtpdCheckContext - one SMTP session as the access policy engine sees it.
 *
 * <h2>NAME</h2>
 * SmtpdCheckContext - the part of Postfix's SMTPD_STATE that smtpd_check.c reads, and
 * log_whatsup().
 *
 * <h2>DESCRIPTION</h2>
 * The {@link CheckContext} of {@link SmtpdCheck}: client, HELO name, sender, SASL login,
 * recipient count and the attributes of the policy delegation protocol, read from the
 * session when a restriction asks. It also keeps what the engine keeps per session: the
 * DNS answers ({@link DnsAnswers}), the policy server's answers of the stage being
 * evaluated, the DEFER_IF_PERMIT results passed on between stages, and the sender or
 * recipient being checked before the command has changed any state. {@link #prefetch}
 * starts a stage's DNS lookups and throws {@link DnsPending} until their answers are in:
 * the command is then processed again, without blocking the event loop.
 *
 * <h2>SEE ALSO</h2>
 * {@link org.postern.smtpd.policy.SmtpdCheck}, Postfix smtpd_check.c and
 * SMTPD_POLICY_README.
 */
final class SmtpdCheckContext implements CheckContext {
    private final SmtpdSession s;
    private final DnsAnswers dnsAnswers = new DnsAnswers();
    /** check_policy_service answers of the stage being evaluated (filled from the policy client's threads). */
    private final Map<String, String> policyAnswers = new ConcurrentHashMap<>();
    /** DEFER_IF_PERMIT passed on by the client, HELO and sender stages (smtpd_delay_reject = no). */
    private final Map<SmtpdCheck.Stage, String> stageDefers = new EnumMap<>(SmtpdCheck.Stage.class);
    /** The sender of a MAIL FROM being checked (smtpd_delay_reject = no), or null. */
    String checkingSender;
    /** The recipient of a RCPT TO being checked, or null. */
    String checkingRecipient;

    SmtpdCheckContext(SmtpdSession session) {
        this.s = session;
    }

    /** DnsPending - thrown by a command before any change of state when DNS answers are missing. */
    static final class DnsPending extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient CompletableFuture<Void> future;

        DnsPending(CompletableFuture<Void> future) {
            super(null, null, false, false);
            this.future = future;
        }
    }

    /** prefetch - start the DNS lookups of a stage; throws DnsPending when they are not all done. */
    void prefetch(SmtpdCheck.Stage stage, MailAddress recipient) {
        CompletableFuture<Void> f = s.settings.check().prefetch(this, stage, recipient);
        if (f != null && !f.isDone()) {
            throw new DnsPending(f);
        }
    }

    @Override
    public String clientName() {
        return s.clientName;
    }

    @Override
    public String clientAddress() {
        return s.clientAddress;
    }

    @Override
    public String namaddr() {
        return s.namaddr();
    }

    @Override
    public String helo() {
        return s.helo;
    }

    @Override
    public String sender() {
        if (checkingSender != null) {
            return checkingSender;
        }
        return s.sender == null ? null : s.sender.isNull() ? "" : s.sender.address().toString();
    }

    /** log - Postfix log_whatsup(): "QUEUEID: reject: WHERE from CLIENT: TEXT; from=&lt;&gt; ...". */
    @Override
    public void log(String whatsup, String text) {
        StringBuilder b = new StringBuilder();
        b.append(s.queueId != null ? s.queueId : "NOQUEUE").append(": ").append(whatsup).append(": ")
                .append(s.where).append(" from ").append(s.namaddr()).append(": ").append(text).append(';');
        String from = sender();
        if (from != null) {
            b.append(" from=<").append(from).append('>');
        }
        if (checkingRecipient != null) {
            b.append(" to=<").append(checkingRecipient).append('>');
        } else if (!s.recipients.isEmpty()) {
            b.append(" to=<").append(s.recipients.get(s.recipients.size() - 1).address()).append('>');
        }
        b.append(" proto=").append(s.protocol);
        if (s.helo != null) {
            b.append(" helo=<").append(printable(s.helo, 255)).append('>');
        }
        s.maillog.info(b.toString());
    }

    @Override
    public boolean saslAuthenticated() {
        return s.auth.username() != null;
    }

    @Override
    public String saslUsername() {
        return s.auth.username();
    }

    @Override
    public int recipientCount() {
        return s.recipients.size();
    }

    @Override
    public boolean illegalPipelining() {
        return s.illPipelining;
    }

    @Override
    public Map<SmtpdCheck.Stage, String> stageDefers() {
        return stageDefers;
    }

    @Override
    public DnsAnswers dnsAnswers() {
        return dnsAnswers;
    }

    @Override
    public Map<String, String> policyAnswers() {
        return policyAnswers;
    }

    @Override
    public Map<String, String> policyAttributes() {
        String where = s.where;
        Map<String, String> a = new LinkedHashMap<>();
        a.put("protocol_state", where.equals(SmtpdSession.AFTER_EOM) ? "END-OF-MESSAGE" : where);
        a.put("protocol_name", s.protocol);
        a.put("queue_id", s.queueId == null ? "" : s.queueId);
        a.put("recipient_count", String.valueOf(s.recipients.size()));
        a.put("instance", s.instance);
        a.put("sasl_method", s.auth.method() == null ? "" : s.auth.method());
        a.put("sasl_username", s.auth.username() == null ? "" : s.auth.username());
        a.put("sasl_sender", "");
        a.put("size", String.valueOf(where.equals(SmtpdSession.AFTER_EOM) || where.equals(SmtpdSession.AFTER_DATA)
                ? s.content.storedBytes()
                : s.mailParams != null && s.mailParams.containsKey("SIZE") ? Long.parseLong(s.mailParams.get("SIZE"))
                : 0));
        a.put("ccert_subject", "");
        a.put("ccert_issuer", "");
        a.put("ccert_fingerprint", "");
        a.put("ccert_pubkey_fingerprint", "");
        a.put("encryption_protocol", "");
        a.put("encryption_cipher", "");
        a.put("encryption_keysize", "0");
        a.put("stress", "");
        a.put("client_port", String.valueOf(s.clientPort));
        a.put("server_address", "");
        a.put("server_port", "");
        a.put("mail_version", s.settings.identity().mailName());
        return a;
    }

    @Override
    public void hold(String reason) {
        s.holdReason = reason;
    }

    @Override
    public void discard(String reason) {
        s.discardReason = reason;
    }
}
