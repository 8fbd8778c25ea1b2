package org.postern.cleanup;

import jakarta.enterprise.concurrent.ManagedExecutorService;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.Parameters;
import org.postern.qmgr.AcceptedMessages;
import org.postern.qmgr.DeliveryAgent;
import org.postern.qmgr.DeliveryRequests;
import org.postern.qmgr.QueueStore;
import org.postern.service.Activity;
import org.postern.service.ConfigService;
import org.postern.service.MailLog;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;

/**
 * QueueAccept - the one way a received message enters the queue, whoever received it:
 * the smtpd listeners ({@link SmtpdEndpoint}) and the JMS submission queue
 * (org.postern.submit.SubmitEndpoint).
 *
 * <h2>DESCRIPTION</h2>
 * {@link #enqueue} stores the envelope and the content durably before it returns: the
 * message's rows are written with those of every other message that arrived meanwhile,
 * by either way in, in one transaction followed by one sync of the database
 * ({@link GroupCommit}: one per node, shared by every caller; {@link QueueSync}). A
 * message larger than queue_memory_message_limit is streamed into the database in a
 * transaction of its own ({@link CleanupService#store}) and then synced in the same way.
 * Only when it returns may the caller acknowledge the message: smtpd answers 250, the
 * JMS endpoint lets its message be acknowledged.
 *
 * <p>A message that fits the memory bounds (queue_memory_limit, qmgr_message_active_limit)
 * is born in the active queue, leased to this node: its claim and content stay in memory
 * (AcceptedMessages) and its first delivery reads nothing back from the database. Any
 * other message is born due (state INCOMING) for the queue managers to claim. Either way
 * the committed row is the delivery request; the JMS messages sent after the sync (a few
 * queue ids each) only wake queue managers. If such a send fails the message is still
 * safe: the queue scanner finds due messages, and gives back the leases of claims left
 * in memory, and requests them again.
 *
 * <p>A message whose envelope carries {@link Envelope#DISCARD} is acknowledged and not
 * stored. One with {@link Envelope#HOLD} is stored in the hold queue ("hold:" in the mail
 * log) and not delivered until released.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * queue_group_commit_limit (64), queue_memory_limit (64 MB), queue_memory_message_limit
 * (1 MB), qmgr_message_active_limit (20000), virtual_alias_maps (CleanupService).
 *
 * <h2>SEE ALSO</h2>
 * GroupCommit, QueueSync, CleanupService, SmtpdEndpoint, SubmitEndpoint, cleanup(8)
 */
public final class QueueAccept {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");

    /** the group commit of every way in on this node: smtpd sessions and JMS submissions */
    private static final GroupCommit<Pending> COMMITS = new GroupCommit<>();

    private final CleanupService cleanup;
    private final QueueSync sync;
    private final DeliveryRequests requests;
    private final ConfigService configService;
    private final ManagedExecutorService executor;
    /** the delivery requests of what the group commits stored, sent off the accept path */
    private static final WakeUpSender WAKE_UPS = new WakeUpSender();

    /** QueueAccept - the accept path with the beans of the caller (an endpoint's injected EJBs). */
    public QueueAccept(CleanupService cleanup, QueueSync sync, DeliveryRequests requests, ConfigService configService,
                       ManagedExecutorService executor) {
        this.executor = executor;
        this.cleanup = cleanup;
        this.sync = sync;
        this.requests = requests;
        this.configService = configService;
    }

    /** Pending - a message for the group commit: its rows, or null when it is committed already and needs the sync only. */
    private record Pending(String queueId, QueueRows.Prepared prepared, String hold) {
    }

    /**
     * enqueue - store the message durably (committed and synced); returns its queue id.
     * Throws {@link EnqueueException} when it could not be: then nothing of it is stored
     * (or it is not known to be on disk), and it must not be acknowledged.
     */
    public String enqueue(Envelope envelope, InputStream content) throws EnqueueException {
        if (envelope.mailParams().containsKey(Envelope.DISCARD)) {
            // an access map DISCARD action (already logged by the caller as "discard"): the
            // client is told the message was queued and, as Postfix's cleanup does with such
            // a message, nothing is stored or delivered
            return envelope.queueId();
        }
        Config config = configService.current();
        String hold = envelope.mailParams().get(Envelope.HOLD);
        long perMessage = config.get(Parameters.QUEUE_MEMORY_MESSAGE_LIMIT);
        byte[] head;
        try {
            // at most one byte past the bound tells whether the message is larger
            head = content.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, Math.max(perMessage, 0) + 1));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "PSTN4101: " + envelope.queueId() + ": queue file write error", e);
            throw new EnqueueException("store failed: " + e, e);
        }
        Pending pending;
        // a place in the active queue and room in memory, taken for a message born leased
        boolean leased = false;
        if (head.length > perMessage) {
            pending = storeLarge(envelope, new SequenceInputStream(new ByteArrayInputStream(head), content), hold);
        } else {
            leased = hold == null && config.get(Parameters.QUEUE_MEMORY_LIMIT) > 0 && AcceptedMessages.admit(head.length,
                    config.get(Parameters.QMGR_MESSAGE_ACTIVE_LIMIT), config.get(Parameters.QUEUE_MEMORY_LIMIT));
            Instant now = Instant.now();
            try {
                pending = new Pending(envelope.queueId(), QueueRows.prepare(envelope, head, head.length,
                        VirtualAliases.inForce(configService), leased, now, now.plus(DeliveryAgent.LEASE), QueueStore.NODE),
                        hold);
            } catch (RuntimeException e) {
                if (leased) {
                    AcceptedMessages.abandon(head.length);
                }
                LOG.log(Level.WARNING, "PSTN4101: " + envelope.queueId() + ": queue file write error", e);
                throw new EnqueueException("store failed: " + e, e);
            }
        }
        try {
            COMMITS.submit(pending, config.get(Parameters.QUEUE_GROUP_COMMIT_LIMIT), new Batch());
        } catch (GroupCommit.StoreException e) {
            // the transaction rolled back (nothing of the message remains), or the sync failed
            if (leased) {
                AcceptedMessages.abandon(head.length);
            }
            LOG.log(Level.WARNING, "PSTN4101: " + envelope.queueId() + ": queue file write error", e.getCause());
            throw new EnqueueException("store failed: " + e.getMessage(), e);
        }
        Activity.shared().accepted();
        return envelope.queueId();
    }

    /*
     * storeLarge - a message past queue_memory_message_limit: streamed into the database in
     * a transaction of its own; the group commit then only syncs it
     */
    private Pending storeLarge(Envelope envelope, InputStream content, String hold) throws EnqueueException {
        try {
            return new Pending(cleanup.store(envelope, content), null, hold);
        } catch (RuntimeException e) {
            // the transaction rolled back: nothing of the message remains
            LOG.log(Level.WARNING, "PSTN4101: " + envelope.queueId() + ": queue file write error", e);
            throw new EnqueueException("store failed: " + e, e);
        }
    }

    /**
     * Batch - what a group commit's leader does: store the batch in one transaction, sync,
     * then log each message's message-id (or hold) and wake the queue managers, a few
     * messages per JMS request, keeping the claims of the messages born leased for their
     * delivery from memory.
     */
    private final class Batch implements GroupCommit.Batch<Pending> {
        @Override
        public void write(List<Pending> items) {
            List<QueueRows.Prepared> rows = new ArrayList<>(items.size());
            for (Pending p : items) {
                if (p.prepared() != null) {
                    rows.add(p.prepared());
                }
            }
            if (!rows.isEmpty()) {
                cleanup.storeAll(rows);
            }
        }

        @Override
        public void sync() throws SQLException {
            sync.sync();
        }

        @Override
        public void durable(List<Pending> items) {
            List<String> wake = new ArrayList<>(items.size());
            for (Pending p : items) {
                QueueRows.Prepared rows = p.prepared();
                if (rows != null && rows.messageId() != null) {
                    MailLog.cleanup(p.queueId() + ": message-id=" + rows.messageId());
                }
                if (p.hold() != null) {
                    MailLog.cleanup(p.queueId() + ": hold: " + p.hold());
                    continue;
                }
                if (rows != null && rows.leased()) {
                    AcceptedMessages.accepted(QueueStore.Claim.born(rows.message(), rows.recipientIds(), rows.content()),
                            rows.length());
                }
                wake.add(p.queueId());
            }
            // the 250s go now; the wake-ups follow on another thread (JMS never holds up the accept path)
            WAKE_UPS.submit(wake, executor, requests::wakeUpAll);
        }
    }
}
