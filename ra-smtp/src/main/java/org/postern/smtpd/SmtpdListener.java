package org.postern.smtpd;

import java.io.InputStream;

/**
 * SmtpdListener - the message listener interface of the smtpd endpoint.
 *
 * <p>The resource adapter activates one listener endpoint (an MDB bound to this
 * interface) and calls it, always from a WorkManager thread and never from a Netty
 * event loop, once the final dot of a message has been received and the content
 * spooled. Contract:
 * <ol>
 * <li>{@link #enqueue} stores envelope, content and recipients and creates the
 *     delivery request in one durable commit, and only then returns the queue id.</li>
 * <li>If it cannot commit it throws {@link EnqueueException} (or any runtime
 *     exception), and nothing of the message may remain stored; the session then
 *     answers with the exception's reply (451 4.3.0 by default).</li>
 * </ol>
 */
public interface SmtpdListener {

    /**
     * enqueue - store a received message durably; returns the queue id.
     *
     * @param envelope the envelope, with the queue id assigned at the first accepted RCPT TO
     * @param content  the message content as it goes into the queue: Postern's
     *                 Received: header followed by the client's message, lines
     *                 ending in CRLF, dot-unstuffed, without the final dot
     */
    String enqueue(Envelope envelope, InputStream content) throws EnqueueException;
}
