package org.postern.smtpd.api;

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
    /** ETRN_FAILED - the reply when a flush cannot be started (Postfix smtpd\'s 458). */
    String ETRN_FAILED = "458 Unable to queue messages";


    /**
     * enqueue - store a received message durably; returns the queue id.
     *
     * @param envelope the envelope, with the queue id assigned at the first accepted RCPT TO
     * @param content  the message content as it goes into the queue: Postern's
     *                 Received: header followed by the client's message, lines
     *                 ending in CRLF, dot-unstuffed, without the final dot
     */
    String enqueue(Envelope envelope, InputStream content) throws EnqueueException;

    /**
     * etrn - the fast ETRN service for one domain (RFC 1985, Postfix's flush(8)): send every
     * deferred message of that destination to delivery now.
     *
     * @return true when the flush started (the session answers {@code 250 Queuing started}),
     *         false when the domain is not eligible for the service, that is not in
     *         fast_flush_domains ({@code 459 <domain>: service unavailable})
     * @throws EnqueueException when the flush could not be started
     *         ({@code 458 Unable to queue messages}); an endpoint without a flush service
     *         says so this way
     */
    default boolean etrn(String domain) throws EnqueueException {
        throw new EnqueueException(ETRN_FAILED, "no flush service", null);
    }

    /**
     * authenticate - SMTP AUTH with smtpd_sasl_type = elytron: check the credentials
     * against the WildFly Elytron security domain of the endpoint's deployment. Called on
     * the blocking executor, never on an event loop.
     *
     * @param authzid  the authorization identity of PLAIN, "" when none was given
     * @param username the authentication identity
     * @param password the password; the caller clears it afterwards
     * @return true when the password is right and username may log in (and act as
     *         authzid, when one was given); false when they are not
     * @throws EnqueueException when the security domain cannot answer now (the session
     *         answers {@code 454 4.7.0 Temporary authentication failure}); an endpoint
     *         without an authentication service says so this way
     */
    default boolean authenticate(String authzid, String username, char[] password) throws EnqueueException {
        throw new EnqueueException("454 4.7.0 Temporary authentication failure", "no authentication service", null);
    }
}
