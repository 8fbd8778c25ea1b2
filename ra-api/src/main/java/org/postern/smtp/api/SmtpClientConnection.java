package org.postern.smtp.api;

/**
 * SmtpClientConnection - a handle on one SMTP or LMTP session with a next hop.
 *
 * <p>{@link #deliver} never throws for a delivery problem: connection failures, timeouts
 * and rejects become per-recipient outcomes (DEFERRED or BOUNCED). After a failure the
 * underlying session is retired instead of being returned to the cache.
 * {@link #close} returns the session to the pool.
 */
public interface SmtpClientConnection extends AutoCloseable {

    /** deliver - one mail transaction (MAIL, RCPT..., DATA or BDAT) for the message. */
    DeliveryOutcome deliver(OutboundMessage message);

    @Override
    void close();
}
