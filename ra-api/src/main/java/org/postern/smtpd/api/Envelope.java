package org.postern.smtpd.api;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Envelope - what the smtpd session knows about one message when the final dot arrives.
 *
 * @param queueId       queue id assigned at the first accepted RCPT TO (see {@link QueueIds})
 * @param sender        envelope sender without angle brackets; "" for the null sender
 * @param mailParams    MAIL FROM ESMTP parameters, upper-case keys (SIZE, BODY, RET, ENVID, SMTPUTF8),
 *                      and the policy actions {@link #HOLD} and {@link #DISCARD} (never from the
 *                      client: MAIL FROM accepts only the ESMTP keywords above)
 * @param recipients    accepted recipients, in RCPT order
 * @param clientName    client host name as logged ("unknown" when not resolved)
 * @param clientAddress client IP address, textual
 * @param clientPort    client TCP port
 * @param helo          HELO/EHLO argument, or null
 * @param protocol      SMTP or ESMTP (as in Received: and the log)
 * @param service       master.cf service name that accepted the message
 * @param arrival       time the client sent MAIL FROM
 * @param size          content size in bytes as stored (including Postern's Received: header)
 */
public record Envelope(String queueId, String sender, Map<String, String> mailParams,
                       List<Recipient> recipients, String clientName, String clientAddress, int clientPort,
                       String helo, String protocol, String service, Instant arrival, long size)
        implements Serializable {

    /**
     * HOLD - mail parameter set by an access map HOLD action: the queue should keep the
     * message on hold (Postfix's hold queue) instead of delivering it. The value is the
     * reason as logged, e.g. "&lt;a@b&gt;: Sender address triggers HOLD action".
     */
    public static final String HOLD = "HOLD";

    /**
     * DISCARD - mail parameter set by an access map DISCARD action: the client was told the
     * message was queued; the queue should drop it without delivery or bounce. The value is
     * the reason as logged.
     */
    public static final String DISCARD = "DISCARD";

    /**
     * Recipient - one accepted RCPT TO.
     *
     * @param address  recipient address without angle brackets
     * @param orcpt    ORCPT parameter as given (RFC 3461), or null
     * @param notifyParam NOTIFY parameter as given, or null
     */
    public record Recipient(String address, String orcpt, String notifyParam) implements Serializable {
    }
}
