package org.postern.smtpd;

/**
 * SmtpdTransport - what an {@link SmtpdSession} needs from the connection under it.
 *
 * <p>All methods are called on the session's own thread (the Netty event loop of the
 * channel, or the test thread), never concurrently.
 */
public interface SmtpdTransport {

    /** reply - queue one reply line (without CRLF); sent at the next flush. */
    void reply(String line);

    /** flush - send the queued replies (a pipelined batch goes out together). */
    void flush();

    /** close - flush the queued replies, then close the connection. */
    void close();

    /**
     * runBlocking - stop reading from the client, run {@code work} on the blocking
     * executor, then run {@code then} on the session thread, then read again (unless the
     * session is still suspended or closed).
     */
    void runBlocking(Runnable work, Runnable then);

    /**
     * delay - stop reading from the client, send the queued replies, and run {@code then}
     * on the session thread after {@code delay}; then read again (unless the session is
     * suspended or closed). The tarpit (smtpd_error_sleep_time): never a sleep on the
     * event loop.
     */
    void delay(java.time.Duration delay, Runnable then);

    /**
     * startTls - send the queued replies (the "220 Ready to start TLS") in plaintext, then
     * put TLS under the session: every byte read afterwards must come through TLS. The
     * outcome comes back as {@link SmtpdSession#tlsStarted} or the connection is closed.
     */
    void startTls();

    /**
     * await - stop reading from the client until {@code pending} completes (DNS answers of
     * the policy engine), then run {@code then} on the session thread and read again
     * (unless the session is suspended or closed). Nothing blocks meanwhile.
     */
    void await(java.util.concurrent.CompletionStage<?> pending, Runnable then);
}
