package org.postern.cleanup;

import jakarta.annotation.PostConstruct;
import jakarta.ejb.EJB;
import jakarta.ejb.MessageDriven;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.io.InputStream;
import java.util.logging.Logger;
import org.postern.flush.FlushException;
import org.postern.flush.FlushService;
import org.postern.qmgr.DeliveryRequests;
import org.postern.service.ConfigService;
import org.postern.service.ElytronAuthenticator;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;

/**
 * SmtpdEndpoint - the message endpoint that the resource adapter's smtpd listeners call.
 *
 * <h2>DESCRIPTION</h2>
 * After the final dot the listener hands over the envelope and the spooled content. The
 * endpoint stores them durably before this method returns, and only then does the
 * session answer 250: the message's rows are written with those of every other message
 * that arrived meanwhile, in one transaction followed by one sync of the database. That
 * accept path ({@link QueueAccept}: {@link GroupCommit}, {@link QueueSync}) is shared
 * with the JMS submission queue (SubmitEndpoint), so that both ways in share one group
 * commit per node. A message larger than queue_memory_message_limit is streamed into the
 * database in a transaction of its own ({@link CleanupService#store}) and then synced in
 * the same way; a message that fits the memory bounds is born leased for a first delivery
 * from memory (see QueueAccept).
 *
 * <p>A message whose envelope carries {@link Envelope#DISCARD} (smtpd's DISCARD action)
 * is acknowledged and not stored. One with {@link Envelope#HOLD} is stored in the hold
 * queue ("hold:" in the mail log) and not delivered until released.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * queue_group_commit_limit (64), queue_memory_limit (64 MB), queue_memory_message_limit
 * (1 MB), qmgr_message_active_limit (20000), virtual_alias_maps (CleanupService).
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
 * QueueAccept, CleanupService, QueueManager, smtpd(8)
 */
@MessageDriven(name = "SmtpdEndpoint", messageListenerInterface = SmtpdListener.class)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class SmtpdEndpoint implements SmtpdListener {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");

    @EJB
    private CleanupService cleanup;

    @EJB
    private QueueSync sync;

    @EJB
    private DeliveryRequests requests;

    @EJB
    private FlushService flush;

    @EJB
    private ConfigService configService;

    /** the accept path shared with the JMS submission queue, with this instance's beans */
    @jakarta.annotation.Resource
    private jakarta.enterprise.concurrent.ManagedExecutorService executor;

    private QueueAccept accept;

    @PostConstruct
    void init() {
        accept = new QueueAccept(cleanup, sync, requests, configService, executor);
    }

    /** enqueue - {@link QueueAccept#enqueue}: stored and synced (group commit) before the 250. */
    @Override
    public String enqueue(Envelope envelope, InputStream content) throws EnqueueException {
        return accept.enqueue(envelope, content);
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
