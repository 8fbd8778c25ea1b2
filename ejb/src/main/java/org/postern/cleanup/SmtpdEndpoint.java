package org.postern.cleanup;

import jakarta.ejb.EJB;
import jakarta.ejb.MessageDriven;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.io.InputStream;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postern.flush.FlushException;
import org.postern.flush.FlushService;
import org.postern.qmgr.DeliveryRequests;
import org.postern.service.ElytronAuthenticator;
import org.postern.service.MailLog;
import org.postern.smtpd.EnqueueException;
import org.postern.smtpd.Envelope;
import org.postern.smtpd.SmtpdListener;

/**
 * SmtpdEndpoint - the message endpoint that the resource adapter's smtpd listeners call.
 *
 * <h2>DESCRIPTION</h2>
 * After the final dot the listener hands over the envelope and the spooled content. The
 * endpoint stores them with {@link CleanupService#store} — one transaction, committed
 * before this method returns — and only then does the session answer 250. The delivery
 * request is the committed queue row itself (state INCOMING, due now); the JMS message
 * sent afterwards only wakes a queue manager. If that send fails the message is still
 * safe: the queue scanner finds due messages in the database and requests them again.
 *
 * <p>A message whose envelope carries {@link Envelope#DISCARD} (smtpd's DISCARD action)
 * is acknowledged and not stored. {@link Envelope#HOLD} is not acted on yet: the queue
 * has no hold state.
 *
 * <p>With smtpd_sasl_type = elytron the listeners also ask the endpoint to check SMTP AUTH
 * credentials ({@link #authenticate}), against the Elytron security domain that
 * jboss-ejb3.xml gives this bean (the application-security-domain "postern").
 *
 * <h2>SECURITY</h2>
 * Talks to the database and the security domain only. Everything in the envelope came
 * from the network and is stored as data, never interpreted; passwords are never logged.
 *
 * <h2>SEE ALSO</h2>
 * CleanupService, QueueManager, smtpd(8)
 */
@MessageDriven(name = "SmtpdEndpoint", messageListenerInterface = SmtpdListener.class)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class SmtpdEndpoint implements SmtpdListener {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");

    @EJB
    private CleanupService cleanup;

    @EJB
    private DeliveryRequests requests;

    @EJB
    private FlushService flush;

    @Override
    public String enqueue(Envelope envelope, InputStream content) throws EnqueueException {
        if (envelope.mailParams().containsKey(Envelope.DISCARD)) {
            // An access map DISCARD action in smtpd (already logged there as "discard"):
            // the client is told the message was queued and, as Postfix's cleanup does
            // with such a message, nothing is stored or delivered.
            return envelope.queueId();
        }
        String queueId;
        try {
            queueId = cleanup.store(envelope, content);
        } catch (RuntimeException e) {
            // the transaction rolled back: nothing of the message remains
            LOG.log(Level.WARNING, "PSTN4101: " + envelope.queueId() + ": queue file write error", e);
            throw new EnqueueException("store failed: " + e, e);
        }
        if (envelope.mailParams().containsKey(Envelope.HOLD)) {
            MailLog.cleanup(queueId + ": hold: " + envelope.mailParams().get(Envelope.HOLD));
        } else {
            requests.wakeUp(queueId);
        }
        return queueId;
    }

    /**
     * etrn - the fast ETRN service (flush(8)): {@link FlushService#flushDomain}; a domain
     * outside fast_flush_domains is not eligible (459), a flush that cannot start is 458.
     */
    @Override
    public boolean etrn(String domain) throws EnqueueException {
        try {
            return flush.flushDomain(domain);
        } catch (FlushException e) {
            throw new EnqueueException("458 Unable to queue messages", "flush failed: " + e.getMessage(), e);
        }
    }

    /**
     * authenticate - SMTP AUTH with smtpd_sasl_type = elytron: {@link ElytronAuthenticator}
     * against the deployment's security domain; an unavailable realm is the session's 454.
     */
    @Override
    public boolean authenticate(String authzid, String username, char[] password) throws EnqueueException {
        try {
            return ElytronAuthenticator.authenticate(authzid, username, password);
        } catch (IllegalStateException e) {
            LOG.warning(e.getMessage());
            throw new EnqueueException("454 4.7.0 Temporary authentication failure", e.getMessage(), e);
        }
    }
}
