package org.postern.admin;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;

/**
 * MessageDetail - one queued message as the console's message page shows it: the
 * envelope, where it came from, its header (as received, with what smtpd added), and each
 * recipient's status and last reply.
 *
 * @param queueId      the queue id
 * @param queueName    hold, incoming, active, deferred or corrupt
 * @param sender       the envelope sender, empty for the null sender
 * @param arrival      when smtpd accepted it
 * @param size         its size in bytes
 * @param client       the client as the mail log names it: name[address]
 * @param helo         the client's HELO/EHLO name
 * @param protocol     SMTP, ESMTP, ESMTPS, ...
 * @param envid        the DSN ENVID, or null
 * @param ret          the DSN RET, or null
 * @param nextAttempt  when it is due next, or null
 * @param header       the header fields, as stored
 * @param recipients   every recipient, delivered or not
 */
public record MessageDetail(String queueId, String queueName, String sender, Instant arrival, long size,
                            String client, String helo, String protocol, String envid, String ret,
                            Instant nextAttempt, String header, List<Recipient> recipients) implements Serializable {

    /**
     * Recipient - one recipient's state.
     *
     * @param address     the address
     * @param orcpt       the DSN ORCPT, or null
     * @param status      pending, deferred, sent, bounced
     * @param dsn         the last enhanced status code, or null
     * @param relay       where it was last tried, or null
     * @param reply       the last reply (or the reason of a deferral), or null
     * @param attempts    delivery attempts so far
     * @param lastAttempt when it was last tried, or null
     * @param nextAttempt when it is due again, or null
     */
    public record Recipient(String address, String orcpt, String status, String dsn, String relay, String reply,
                            int attempts, Instant lastAttempt, Instant nextAttempt) implements Serializable {
    }
}
