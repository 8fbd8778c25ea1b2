package org.postern.smtp.api;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * OutboundMessage - one message to hand to a next hop, for a group of recipients.
 *
 * @param queueId    queue id (for logging)
 * @param sender     envelope sender, "" for the null sender
 * @param recipients the recipients of this delivery, all for the same next hop
 * @param size       content size in bytes (for SIZE=)
 * @param content    opens the stored content (CRLF lines, not dot-stuffed); called once per attempt
 * @param envid      RFC 3461 ENVID or null
 * @param ret        RFC 3461 RET (FULL/HDRS) or null
 * @param body8bit   true when the client declared BODY=8BITMIME
 * @param xforward   XFORWARD attributes of the original client (NAME, ADDR, PORT, PROTO, HELO,
 *                   SOURCE, IDENT), as far as known; sent only with smtp_/lmtp_send_xforward_command
 * @param arrival    when the message was queued (smtp_pix_workaround_threshold_time); null: unknown
 * @param backlog    the queue manager's word that its destination (transport and next hop) has more
 *                   mail than this request, Postfix's DEL_REQ_FLAG_CONN_STORE: with
 *                   smtp_connection_cache_on_demand the client keeps the session in the connection
 *                   cache after this request only when it is true (see {@link SmtpClientSettings.Cache#keeps});
 *                   the constructors without it say true, so that a caller that does not know
 *                   caches as on-demand caching did before the queue manager told
 */
public record OutboundMessage(String queueId, String sender, List<OutboundRecipient> recipients, long size,
                              ContentSource content, String envid, String ret, boolean body8bit,
                              java.util.Map<String, String> xforward, java.time.Instant arrival, boolean backlog) {

    public OutboundMessage {
        xforward = xforward == null ? java.util.Map.of() : java.util.Map.copyOf(xforward);
    }

    /** OutboundMessage - backlog unknown: taken as a backlog (the session may be cached). */
    public OutboundMessage(String queueId, String sender, List<OutboundRecipient> recipients, long size,
                           ContentSource content, String envid, String ret, boolean body8bit,
                           java.util.Map<String, String> xforward, java.time.Instant arrival) {
        this(queueId, sender, recipients, size, content, envid, ret, body8bit, xforward, arrival, true);
    }

    /** OutboundMessage - without XFORWARD attributes. */
    public OutboundMessage(String queueId, String sender, List<OutboundRecipient> recipients, long size,
                           ContentSource content, String envid, String ret, boolean body8bit) {
        this(queueId, sender, recipients, size, content, envid, ret, body8bit, null, null);
    }

    /** OutboundMessage - arrival unknown. */
    public OutboundMessage(String queueId, String sender, List<OutboundRecipient> recipients, long size,
                           ContentSource content, String envid, String ret, boolean body8bit,
                           java.util.Map<String, String> xforward) {
        this(queueId, sender, recipients, size, content, envid, ret, body8bit, xforward, null);
    }

    /** withBacklog - the same request with the queue manager's backlog flag. */
    public OutboundMessage withBacklog(boolean more) {
        return more == backlog ? this : new OutboundMessage(queueId, sender, recipients, size, content, envid, ret,
                body8bit, xforward, arrival, more);
    }

    /** ContentSource - opens the content stream; may be called again for another attempt. */
    @FunctionalInterface
    public interface ContentSource {
        InputStream open() throws IOException;
    }

    /** OutboundRecipient - address, and the RFC 3461 ORCPT/NOTIFY parameters, or null. */
    public record OutboundRecipient(String address, String orcpt, String notifyParam) {
    }
}
