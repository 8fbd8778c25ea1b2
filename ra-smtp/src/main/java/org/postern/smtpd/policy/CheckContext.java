package org.postern.smtpd.policy;

/**
 * CheckContext - what the policy engine may see of, and do to, one SMTP session.
 *
 * <p>Implemented by the smtpd session. All methods are called on the session's own
 * thread, during a call of {@link SmtpdCheck}.
 */
public interface CheckContext {

    /** clientName - the client host name, "unknown" when not resolved. */
    String clientName();

    /** clientAddress - the client IP address, textual (IPv6 without brackets). */
    String clientAddress();

    /** namaddr - "name[address]" as in the log and in client rejects. */
    default String namaddr() {
        return clientName() + "[" + clientAddress() + "]";
    }

    /** helo - the HELO/EHLO argument, or null before HELO. */
    String helo();

    /** sender - the MAIL FROM address ("" for the null sender), or null before MAIL. */
    String sender();

    /** saslAuthenticated - true when the client has authenticated with AUTH. */
    default boolean saslAuthenticated() {
        return false;
    }

    /** saslUsername - the SASL login name, or null when the client has not authenticated. */
    default String saslUsername() {
        return null;
    }

    /** recipientCount - the recipients accepted so far in the current mail transaction. */
    default int recipientCount() {
        return 0;
    }

    /**
     * illegalPipelining - true once the client has sent commands ahead of time where RFC
     * 2920 does not allow it (Postfix's per-session SMTPD_FLAG_ILL_PIPELINING).
     */
    default boolean illegalPipelining() {
        return false;
    }

    /**
     * stageDefers - the DEFER_IF_PERMIT replies that the client, HELO and sender stages left
     * for the later stages of the session (smtpd_delay_reject = no), by stage; a map that
     * the session keeps. The default keeps nothing.
     */
    default java.util.Map<SmtpdCheck.Stage, String> stageDefers() {
        return new java.util.EnumMap<>(SmtpdCheck.Stage.class);
    }

    /**
     * log - log a policy event in Postfix's log_whatsup() shape:
     * "QUEUEID: WHATSUP: STAGE from CLIENT: TEXT; from=&lt;&gt; to=&lt;&gt; proto=... helo=&lt;&gt;".
     *
     * @param whatsup "reject", "reject_warning", "hold", "discard", "warn"
     * @param text    the reply or the reason
     */
    void log(String whatsup, String text);

    /** dnsAnswers - the DNS answers of this session, filled by {@link SmtpdCheck#prefetch}. */
    DnsAnswers dnsAnswers();

    /**
     * policyAnswers - the check_policy_service answers (and the finished sleeps) of the stage being evaluated, kept
     * by the session while the evaluation waits for them (see SmtpdCheck.PolicyPending).
     */
    default java.util.Map<String, String> policyAnswers() {
        throw new UnsupportedOperationException("this session cannot wait for a policy service");
    }

    /**
     * policyAttributes - what a policy request tells about the session besides the names
     * and addresses: protocol_state, protocol_name, queue_id, recipient_count, instance,
     * sasl_method, sasl_username, sasl_sender, size, client_port, encryption_*, stress, ...
     */
    default java.util.Map<String, String> policyAttributes() {
        return java.util.Map.of();
    }

    /** hold - the message is to be put on hold (access map HOLD). */
    void hold(String reason);

    /** discard - the message is to be accepted and discarded (access map DISCARD). */
    void discard(String reason);
}
