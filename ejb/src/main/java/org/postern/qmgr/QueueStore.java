package org.postern.qmgr;

import jakarta.ejb.EJB;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.postern.bounce.BounceNotifier;
import org.postern.config.Config;
import org.postern.flush.FastFlushDomains;
import org.postern.flush.FlushIndex;
import org.postern.queue.ContentChunk;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.service.ConfigService;
import org.postern.service.MailLog;

/**
 * QueueStore - the queue manager's transactions on the queue tables. Every method is one
 * short transaction of its own; nothing is held open while a peer is being talked to.
 *
 * <p>Finishing a round that bounced recipients also queues the non-delivery report
 * ({@link BounceNotifier}) in the same transaction, so that a recorded bounce always has
 * its report and a rolled-back round has none; the same holds for success notices
 * (recipients sent with an {@link Outcome#action}), delay warnings and the postmaster's
 * copies of notify_classes. It keeps the message's fast flush index ({@link FlushIndex})
 * right in that transaction too. Moving a message to the corrupt queue queues the
 * postmaster's notice (notify_classes resource or software) in the transaction of the move.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * Those of {@link BounceNotifier}: myhostname, myorigin, mail_name, bounce_size_limit,
 * notify_classes (resource, software), bounce_notice_recipient, 2bounce_notice_recipient,
 * delay_notice_recipient, error_notice_recipient (postmaster), double_bounce_sender,
 * delay_warning_time, maximal_queue_lifetime; fast_flush_domains ($relay_domains).
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
public class QueueStore {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** states in which a message may be delivered */
    static final EnumSet<QueueState> DELIVERABLE = EnumSet.of(QueueState.INCOMING, QueueState.ACTIVE,
            QueueState.DEFERRED);

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    @EJB
    private ConfigService configService;

    /** the configuration given by a test outside the container; null in the container */
    private final Config fixedConfig;

    /** this node's name in leases: jboss.node.name, as WildFly names the node in a cluster */
    public static final String NODE = System.getProperty("jboss.node.name", "postern");

    public QueueStore() {
        this.fixedConfig = null;
    }

    /** QueueStore - outside the container (tests), with this configuration. */
    QueueStore(Config config) {
        this.fixedConfig = config;
    }

    private Config config() {
        if (fixedConfig != null) {
            return fixedConfig;
        }
        return configService != null ? configService.current() : Config.defaults();
    }

    /**
     * releaseLeasesOf - at start, give back the leases that this node held before it
     * stopped: its deliveries in flight died with it, so those messages are due again now
     * rather than when their leases expire. Other nodes' leases are not touched.
     */
    public int releaseLeasesOf(String node) {
        return em.createQuery("UPDATE QueuedMessage m SET m.leaseUntil = NULL, m.leaseOwner = NULL,"
                        + " m.version = m.version + 1 WHERE m.leaseOwner = :node AND m.leaseUntil IS NOT NULL")
                .setParameter("node", node)
                .executeUpdate();
    }

    /**
     * claim - take the lease on a message and return what is due, or null when there is
     * nothing to do (gone, held, corrupt, leased by another delivery, nothing due yet).
     */
    public Claim claim(String queueId, Instant now, Duration lease) {
        int n = em.createQuery("UPDATE QueuedMessage m SET m.leaseUntil = :until, m.leaseOwner = :owner,"
                        + " m.version = m.version + 1"
                        + " WHERE m.queueId = :id AND m.state IN :states"
                        + " AND (m.leaseUntil IS NULL OR m.leaseUntil < :now)")
                .setParameter("until", now.plus(lease))
                .setParameter("owner", NODE)
                .setParameter("id", queueId)
                .setParameter("states", DELIVERABLE)
                .setParameter("now", now)
                .executeUpdate();
        if (n == 0) {
            return null;
        }
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        String damage = damage(m);
        if (damage != null) {
            // lost content is a storage (resource) problem; an envelope that cannot be, a software one
            markCorrupt(m, damage, damage.startsWith(CHUNKS_MISSING) ? "resource" : "software", now);
            return null;
        }
        List<Claim.Rcpt> due = new ArrayList<>();
        for (QueuedRecipient r : m.getRecipients()) {
            if (!r.getStatus().done() && (r.getNextAttempt() == null || !r.getNextAttempt().isAfter(now.plusSeconds(1)))) {
                due.add(new Claim.Rcpt(r.getId(), r.getAddress(), r.getOrcpt(), r.getNotify()));
            }
        }
        if (due.isEmpty()) {
            m.setLeaseUntil(null);
            return null;
        }
        // deferred mail being delivered is in the active queue, as in Postfix
        boolean first = m.getState() == QueueState.INCOMING;
        // a flush lets this one round ignore defer_transports (ETRN_README)
        boolean flushed = m.isFlushRequested();
        m.setFlushRequested(false);
        if (first) {
            m.setActiveSince(now);
        }
        m.setState(QueueState.ACTIVE);
        em.flush();
        return new Claim(m.getQueueId(), m.getVersion(), m.getSender(), m.getArrival(), m.getSize(),
                m.getRecipients().size(), m.getEnvid(), m.getRet(), m.getBodyType(), m.getContentChunks(), first,
                due, flushed, null);
    }

    /**
     * damage - what makes the message unreadable, or null. The envelope is checked on every
     * claim (in memory); the content only on a retry, since cleanup stores a message and its
     * content in one transaction and the first delivery finds it whole (one query saved on
     * the hot path), while a retry may find what was lost or damaged since.
     */
    private static final String CHUNKS_MISSING = "content chunks missing: ";

    private String damage(QueuedMessage m) {
        if (m.getRecipients().isEmpty()) {
            return "no recipients";
        }
        if (m.getContentChunks() < 0 || (m.getContentChunks() == 0 && m.getSize() > 0)) {
            return "no content";
        }
        if (m.getState() != QueueState.INCOMING && m.getContentChunks() > 0) {
            long chunks = em.createQuery("SELECT COUNT(c) FROM ContentChunk c WHERE c.queueId = :id"
                            + " AND c.seq >= 0 AND c.seq < :n", Long.class)
                    .setParameter("id", m.getQueueId()).setParameter("n", m.getContentChunks()).getSingleResult();
            if (chunks != m.getContentChunks()) {
                return CHUNKS_MISSING + chunks + " of " + m.getContentChunks();
            }
        }
        return null;
    }

    /**
     * corrupt - move an unreadable message to the corrupt queue (Postfix's "saving corrupt
     * file"): it is never claimed, scanned or flushed again, and is kept for an
     * administrator to inspect and delete. A delivery round in progress loses its lease.
     * Returns false when there is no such message.
     */
    public boolean corrupt(String queueId, String reason) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null) {
            return false;
        }
        markCorrupt(m, reason, "software", Instant.now());
        return true;
    }

    /*
     * markCorrupt - the move itself; the postmaster hears of it when notify_classes has the
     * class (resource or software). The notice is due at once and found by the queue scanner.
     */
    private void markCorrupt(QueuedMessage m, String reason, String klass, Instant now) {
        if (m.getState() != QueueState.CORRUPT) {
            LOG.warning("PSTN4604: " + m.getQueueId() + ": unreadable message (" + reason
                    + "); moved to the corrupt queue, never retried");
            new BounceNotifier(em, config()).errorNotice(m, klass, reason, now);
        }
        m.setState(QueueState.CORRUPT);
        m.setNextAttempt(null);
        // the update increments the version (@Version): a round that holds a lease on the
        // message cannot change it back, since its token no longer matches
        m.setLeaseUntil(null);
    }

    /**
     * finish - record the outcomes of one round and release the lease. Returns the time of
     * the next attempt, or null when the message is done and was removed.
     *
     * @see #finishRound
     */
    public Instant finish(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now) {
        return finishRound(queueId, lease, outcomes, now).next();
    }

    /**
     * finishRound - record the outcomes of one round and release the lease; the result
     * has the time of the next attempt (null only when the message is done and was
     * removed) and the queue ids of the notices queued in this same transaction (the
     * non-delivery report for the recipients bounced now, a delay warning), which the
     * caller wakes after the commit.
     *
     * <p>{@code lease} is the claim's token. When it no longer matches, the round outlived
     * its lease and another queue manager may be delivering the message now: then only
     * final outcomes (sent, bounced) of recipients not yet done are recorded, so that
     * they are not delivered again, and the other manager's lease and state are left
     * alone.
     */
    public Finished finishRound(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null) {
            return new Finished(null, List.of());
        }
        boolean leaseHeld = m.getVersion() == lease;
        Instant previousRound = previousRound(m);
        boolean indexed = m.getRecipients().stream().anyMatch(r -> r.getStatus() == RecipientStatus.DEFERRED);
        List<QueuedRecipient> bounced = new ArrayList<>();
        List<QueuedRecipient> deferred = new ArrayList<>();
        List<BounceNotifier.Delivered> delivered = new ArrayList<>();
        for (QueuedRecipient r : m.getRecipients()) {
            Outcome o = outcomes.get(r.getId());
            if (o != null && (leaseHeld || (o.status().done() && !r.getStatus().done()))) {
                if (o.status() == RecipientStatus.BOUNCED && r.getStatus() != RecipientStatus.BOUNCED) {
                    bounced.add(r);
                }
                if (o.status() == RecipientStatus.SENT && r.getStatus() != RecipientStatus.SENT
                        && o.action() != null) {
                    delivered.add(new BounceNotifier.Delivered(r, o.action()));
                }
                if (o.status() == RecipientStatus.DEFERRED) {
                    deferred.add(r);
                }
                r.record(o.status(), o.dsn(), o.relay(), o.reply(), now, o.nextAttempt());
            }
        }
        // notices are queued in this transaction: recorded outcomes and their notices commit together
        BounceNotifier notifier = new BounceNotifier(em, config());
        List<String> notices = new ArrayList<>(2);
        notices.addAll(notifier.notify(m, bounced, now));
        String success = notifier.success(m, delivered, now);
        if (success != null) {
            notices.add(success);
        }
        if (leaseHeld) {
            notices.addAll(notifier.delayWarning(m, deferred, previousRound, now));
        }
        if (!leaseHeld) {
            LOG.warning("PSTN4601: " + queueId + ": delivery round outlived its lease; recorded final outcomes only");
            // the message is still there (held, corrupt, or another round's): never "removed"
            return new Finished(m.getNextAttempt() != null ? m.getNextAttempt() : now, notices);
        }
        Instant next = null;
        boolean left = false;
        for (QueuedRecipient r : m.getRecipients()) {
            if (!r.getStatus().done()) {
                left = true;
                if (r.getNextAttempt() != null && (next == null || r.getNextAttempt().isBefore(next))) {
                    next = r.getNextAttempt();
                }
            }
        }
        if (!left) {
            remove(m, indexed);
            return new Finished(null, notices);
        }
        new FlushIndex(em, FastFlushDomains.of(config())).update(m, false, indexed);
        m.setState(QueueState.DEFERRED);
        m.setNextAttempt(next);
        m.setLeaseUntil(null);
        return new Finished(next, notices);
    }

    /**
     * hold - put the message on hold (postsuper -h): it is not delivered, scanned or
     * flushed until {@link #releaseHold}. A delivery round in progress loses its lease, so
     * that it records only final outcomes and leaves the message held. Returns false when
     * there is no such message or it is corrupt.
     */
    public boolean hold(String queueId) {
        int n = em.createQuery("UPDATE QueuedMessage m SET m.state = :hold, m.leaseUntil = NULL,"
                        + " m.version = m.version + 1 WHERE m.queueId = :id AND m.state IN :states")
                .setParameter("hold", QueueState.HOLD)
                .setParameter("id", queueId)
                .setParameter("states", EnumSet.of(QueueState.INCOMING, QueueState.ACTIVE, QueueState.DEFERRED,
                        QueueState.HOLD))
                .executeUpdate();
        if (n > 0) {
            LOG.info("PSTN4602: " + queueId + ": placed on hold");
        }
        return n > 0;
    }

    /**
     * releaseHold - release a held message (postsuper -H) into the deferred queue with
     * its recipients' own schedule: the result's next attempt is when it is due (now or
     * earlier means at once), null when it was not held. A held message with no recipient
     * left is removed (next null as well, and removed true).
     */
    public Released releaseHold(String queueId, Instant now) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null || m.getState() != QueueState.HOLD) {
            return new Released(false, null, false);
        }
        Instant next = null;
        boolean left = false;
        for (QueuedRecipient r : m.getRecipients()) {
            if (!r.getStatus().done()) {
                left = true;
                Instant t = r.getNextAttempt() == null ? now : r.getNextAttempt();
                if (next == null || t.isBefore(next)) {
                    next = t;
                }
            }
        }
        LOG.info("PSTN4603: " + queueId + ": released from hold");
        if (!left) {
            remove(m, true);
            MailLog.qmgr(queueId + ": removed");
            return new Released(true, null, true);
        }
        m.setState(QueueState.DEFERRED);
        m.setNextAttempt(next);
        return new Released(true, next, false);
    }

    /** Released - the outcome of releaseHold: whether it was held, when it is due, whether it was removed. */
    public record Released(boolean released, Instant next, boolean removed) {
    }

    /** remove - delete a message with nothing left to do: its flush index rows, content, recipients, envelope. */
    private void remove(QueuedMessage m, boolean indexed) {
        new FlushIndex(em, FastFlushDomains.of(config())).update(m, true, indexed);
        em.createQuery("DELETE FROM ContentChunk c WHERE c.queueId = :id").setParameter("id", m.getQueueId())
                .executeUpdate();
        em.remove(m);
    }

    /** previousRound - when the message was last tried (before this round): its latest attempt, or its arrival. */
    private static Instant previousRound(QueuedMessage m) {
        Instant last = m.getArrival();
        for (QueuedRecipient r : m.getRecipients()) {
            if (r.getLastAttempt() != null && r.getLastAttempt().isAfter(last)) {
                last = r.getLastAttempt();
            }
        }
        return last;
    }

    /**
     * removeDelivered - remove, in one transaction, messages whose every recipient was sent
     * in a first round that owed no notice (the common case of relayed mail): a few bulk
     * statements for the whole batch instead of loading, updating and deleting each message
     * row by row. A message whose lease token no longer matches (held, moved to the corrupt
     * queue, or released meanwhile) is left alone and returned, for the caller to record
     * its outcomes the ordinary way ({@link #finishRound}). Nothing here needs a sync: a
     * removal lost in a crash only means the message is delivered again.
     */
    public List<String> removeDelivered(Map<String, Long> leases) {
        return removeDelivered(leases, java.util.Set.of());
    }

    /**
     * removeDelivered - the same, where the messages of {@code indexed} may have rows in a
     * fast flush index (a retry: a first delivery has none) that go with them.
     */
    public List<String> removeDelivered(Map<String, Long> leases, java.util.Set<String> indexed) {
        if (leases.isEmpty()) {
            return List.of();
        }
        List<String> lost = new ArrayList<>();
        em.unwrap(org.hibernate.Session.class).doWork(c -> {
            List<String> ids = new ArrayList<>(leases.keySet());
            List<String> held = new ArrayList<>(ids.size());
            // the lease check and the row lock in one: the version moves on only where it still matches
            try (java.sql.PreparedStatement lock = c.prepareStatement(
                    "UPDATE queue_message SET version = version + 1 WHERE queue_id = ? AND version = ?")) {
                for (String id : ids) {
                    lock.setString(1, id);
                    lock.setLong(2, leases.get(id));
                    lock.addBatch();
                }
                int[] counts = lock.executeBatch();
                for (int i = 0; i < ids.size(); i++) {
                    (counts[i] > 0 ? held : lost).add(ids.get(i));
                }
            }
            if (held.isEmpty()) {
                return;
            }
            List<String> flushed = held.stream().filter(indexed::contains).toList();
            if (!flushed.isEmpty()) {
                try (java.sql.PreparedStatement delete = c.prepareStatement("DELETE FROM queue_flush WHERE queue_id = ?")) {
                    for (String id : flushed) {
                        delete.setString(1, id);
                        delete.addBatch();
                    }
                    delete.executeBatch();
                }
            }
            for (String sql : new String[] {"DELETE FROM queue_content WHERE queue_id = ?",
                    "DELETE FROM queue_recipient WHERE queue_id = ?", "DELETE FROM queue_message WHERE queue_id = ?"}) {
                try (java.sql.PreparedStatement delete = c.prepareStatement(sql)) {
                    for (String id : held) {
                        delete.setString(1, id);
                        delete.addBatch();
                    }
                    delete.executeBatch();
                }
            }
        });
        return lost;
    }

    /**
     * releaseBorn - give back the leases of messages born leased whose delivery from memory
     * never started (its request was lost): they are due now for the ordinary path.
     */
    public int releaseBorn(Map<String, Long> leases) {
        int n = 0;
        for (Map.Entry<String, Long> e : leases.entrySet()) {
            n += em.createQuery("UPDATE QueuedMessage m SET m.leaseUntil = NULL, m.leaseOwner = NULL,"
                            + " m.version = m.version + 1 WHERE m.queueId = :id AND m.version = :lease")
                    .setParameter("id", e.getKey()).setParameter("lease", e.getValue()).executeUpdate();
        }
        return n;
    }

    /** release - give the lease back without recording anything (the round failed). */
    public void release(String queueId, long lease) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m != null && m.getVersion() == lease) {
            m.setLeaseUntil(null);
        }
    }

    /** chunk - one piece of the content, read outside any delivery transaction. */
    @TransactionAttribute(TransactionAttributeType.SUPPORTS)
    public byte[] chunk(String queueId, int seq) {
        ContentChunk c = em.find(ContentChunk.class, new ContentChunk.Key(queueId, seq));
        if (c == null) {
            throw new IllegalStateException(queueId + ": content chunk " + seq + " is missing");
        }
        byte[] data = c.getData();
        em.detach(c);
        return data;
    }

    /**
     * due - queue ids of messages that are due by {@code now} and not leased, oldest first:
     * the scanner's list of delivery requests to make (again).
     */
    @TransactionAttribute(TransactionAttributeType.SUPPORTS)
    public List<String> due(Instant now, int max) {
        return em.createQuery("SELECT m.queueId FROM QueuedMessage m WHERE m.state IN :states"
                        + " AND m.nextAttempt <= :now AND (m.leaseUntil IS NULL OR m.leaseUntil < :now)"
                        + " ORDER BY m.nextAttempt", String.class)
                .setParameter("states", DELIVERABLE)
                .setParameter("now", now)
                .setMaxResults(max)
                .getResultList();
    }

    /**
     * Claim - what a queue manager may deliver now; lease is the token finish and release
     * need; ignoreDeferTransports: a flush asked for this round, so recipients of a
     * transport in defer_transports are delivered too (see DeferTransports), and the
     * dead-destination cache is ignored (see DeadDestinations).
     */
    public record Claim(String queueId, long lease, String sender, Instant arrival, long size, int nrcpt, String envid,
                        String ret, String bodyType, int chunks, boolean firstTime, List<Rcpt> due,
                        boolean ignoreDeferTransports, byte[] content) {
        /**
         * born - the claim of a message that cleanup stored born leased to this node
         * ({@code CleanupService.prepare}), for its first delivery straight from memory:
         * every recipient is due, and the lease token is the version of the new row.
         */
        public static Claim born(QueuedMessage m, long[] recipientIds, byte[] content) {
            List<Rcpt> due = new ArrayList<>(m.getRecipients().size());
            for (int i = 0; i < m.getRecipients().size(); i++) {
                QueuedRecipient r = m.getRecipients().get(i);
                due.add(new Rcpt(recipientIds[i], r.getAddress(), r.getOrcpt(), r.getNotify()));
            }
            return new Claim(m.getQueueId(), m.getVersion(), m.getSender(), m.getArrival(), m.getSize(),
                    m.getRecipients().size(), m.getEnvid(), m.getRet(), m.getBodyType(), m.getContentChunks(), true,
                    List.copyOf(due), false, content);
        }

        /** Rcpt - a recipient that is due. */
        public record Rcpt(long id, String address, String orcpt, String notifyParam) {
        }
    }

    /**
     * Finished - what finishing a round left: the next attempt (null: the message is gone)
     * and the queue ids of notices queued by it, to be woken after the commit.
     */
    public record Finished(Instant next, List<String> notices) {
    }

    /**
     * Outcome - what one round did with one recipient; action, for a recipient sent, is the
     * RFC 3464 action of a success notice about it, "delivered" or "relayed" (the notice goes
     * out when its NOTIFY has SUCCESS); null when no such notice is ours to send (the next hop
     * announced DSN and got NOTIFY).
     */
    public record Outcome(RecipientStatus status, String dsn, String relay, String reply, Instant nextAttempt,
                          String action) {
        /** Outcome - without a success notice. */
        public Outcome(RecipientStatus status, String dsn, String relay, String reply, Instant nextAttempt) {
            this(status, dsn, relay, reply, nextAttempt, null);
        }
    }
}
