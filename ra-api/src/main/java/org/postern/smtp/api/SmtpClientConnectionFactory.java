package org.postern.smtp.api;

import java.time.Duration;

import jakarta.resource.ResourceException;

/**
 * SmtpClientConnectionFactory - the outbound side of the adapter: SMTP and LMTP client
 * connections, pooled by the JCA container and matched by next hop and settings, so
 * that a borrowed connection may be a cached one (Postfix's connection cache).
 */
public interface SmtpClientConnectionFactory {
    /** Permit - one slot of a destination's concurrency limit; close it when the delivery is done. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }


    /** getConnection - a connection to {@code hop}, new or cached, with these client settings. */
    SmtpClientConnection getConnection(NextHop hop, SmtpClientSettings settings) throws ResourceException;

    /**
     * reserve - a slot for one delivery to {@code hop}'s destination by {@code transport}
     * (smtp, lmtp) under a destination concurrency limit of {@code limit} (0: no limit),
     * waiting at most {@code maxWait}; null when the limit stayed reached. The slots belong
     * to the adapter's connection pool, where the connections are, and are shared by every
     * delivery through it. Close the permit when the delivery is done.
     */
    Permit reserve(String transport, NextHop hop, int limit, Duration maxWait)
            throws InterruptedException;

    /**
     * busy - the deliveries running now under a concurrency limit, per destination
     * ("smtp:example.com"), and the ones waiting for a slot ("smtp:example.com waiting").
     */
    java.util.Map<String, Integer> busy();
}
