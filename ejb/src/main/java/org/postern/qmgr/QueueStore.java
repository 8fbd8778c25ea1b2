package org.postern.qmgr;

import jakarta.interceptor.Interceptors;
import org.postern.tx.RolledBackIsAFailure;
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
import org.postern.config.Parameters;
import org.postern.events.DeliveryEvent;
import org.postern.events.EventOutbox;
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
 * <p>The hot path is plain JDBC on the transaction's connection, for many messages at
 * once, while the JPA entities stay the schema: {@link #claimAll} claims the messages of
 * one delivery request together, {@link #removeDelivered} removes a batch of messages whose
 * every recipient was sent, {@link #releaseBorn} gives back the leases of messages born
 * leased whose delivery from memory never started. The lease token is always the row's
 * version, whichever path took it. The rows of new mail are written by the cleanup side
 * (QueueRows, in a group commit).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * Those of {@link BounceNotifier}: myhostname, myorigin, mail_name, bounce_size_limit,
 * notify_classes (resource, software), bounce_notice_recipient, 2bounce_notice_recipient,
 * delay_notice_recipient, error_notice_recipient (postmaster), double_bounce_sender,
 * delay_warning_time, maximal_queue_lifetime; fast_flush_domains ($relay_domains);
 * delivery_event_notification (yes: every outcome recorded writes its delivery event row in
 * the same transaction, see {@link EventOutbox} and org.postern.events.EventPublisher).
 */
@Stateless
@Interceptors(RolledBackIsAFailure.class)
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
                due, flushed, null, m.isForcedExpire(), Claim.Client.of(m));
    }

    /**
     * claimAll - {@link #claim} for several messages in one transaction, with plain JDBC: a
     * handful of statements for the whole list instead of a handful per message, and the
     * content of single-chunk messages read with the claim (no read per message later).
     * The result has the claims of the messages that are deliverable now; {@code odd} has
     * those that this node could claim but that need a closer look (no recipients, content
     * missing or inconsistent, nothing due): their leases are given back here, for the
     * caller to claim them one by one with {@link #claim}, which moves what is damaged to
     * the corrupt queue. A message leased by another round, held, corrupt or gone is in
     * neither list.
     */
    public ClaimBatch claimAll(List<String> queueIds, Instant now, Duration lease) {
        if (queueIds.isEmpty()) {
            return new ClaimBatch(List.of(), List.of());
        }
        // an exact timestamp to find our own leases again (millisecond: every database keeps it as it is)
        Instant until = now.plus(lease).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        List<Claim> claimed = new ArrayList<>();
        List<String> odd = new ArrayList<>();
        em.unwrap(org.hibernate.Session.class).doWork(c -> new BatchClaim(c, now, until).run(queueIds, claimed, odd));
        return new ClaimBatch(claimed, odd);
    }

    /** ClaimBatch - what {@link #claimAll} found: the claims to deliver, and the messages to claim one by one. */
    public record ClaimBatch(List<Claim> claimed, List<String> odd) {
    }

    /* BatchClaim - the statements of claimAll, on the transaction's connection */
    private static final class BatchClaim {
        private final java.sql.Connection c;
        private final Instant now;
        private final Instant until;

        BatchClaim(java.sql.Connection c, Instant now, Instant until) {
            this.c = c;
            this.now = now;
            this.until = until;
        }

        private static String in(int n) {
            return String.join(", ", java.util.Collections.nCopies(n, "?"));
        }

        private static java.time.OffsetDateTime ts(Instant t) {
            return java.time.OffsetDateTime.ofInstant(t, java.time.ZoneOffset.UTC);
        }

        private static Instant instant(java.sql.ResultSet r, int i) throws java.sql.SQLException {
            java.time.OffsetDateTime t = r.getObject(i, java.time.OffsetDateTime.class);
            return t == null ? null : t.toInstant();
        }

        private record Row(String id, long version, String state, String sender, Instant arrival, long size,
                           String envid, String ret, String bodyType, int chunks, boolean flushed, boolean expired,
                           Claim.Client client) {
        }

        void run(List<String> ids, List<Claim> claimed, List<String> odd) throws java.sql.SQLException {
            try (java.sql.PreparedStatement ps = c.prepareStatement("UPDATE queue_message SET lease_until = ?,"
                    + " lease_owner = ?, version = version + 1 WHERE queue_id IN (" + in(ids.size()) + ")"
                    + " AND state IN ('INCOMING', 'ACTIVE', 'DEFERRED') AND (lease_until IS NULL OR lease_until < ?)")) {
                int i = 1;
                ps.setObject(i++, ts(until));
                ps.setString(i++, NODE);
                for (String id : ids) {
                    ps.setString(i++, id);
                }
                ps.setObject(i, ts(now));
                if (ps.executeUpdate() == 0) {
                    return;
                }
            }
            Map<String, Row> held = new java.util.LinkedHashMap<>();
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT queue_id, version, state, sender, arrival,"
                    + " size_bytes, envid, ret, body_type, content_chunks, flush_requested, forced_expire, client_name,"
                    + " client_address, client_port, helo, protocol FROM queue_message"
                    + " WHERE queue_id IN (" + in(ids.size()) + ") AND lease_owner = ? AND lease_until = ?")) {
                int i = 1;
                for (String id : ids) {
                    ps.setString(i++, id);
                }
                ps.setString(i++, NODE);
                ps.setObject(i, ts(until));
                try (java.sql.ResultSet r = ps.executeQuery()) {
                    while (r.next()) {
                        held.put(r.getString(1), new Row(r.getString(1), r.getLong(2), r.getString(3), r.getString(4),
                                instant(r, 5), r.getLong(6), r.getString(7), r.getString(8), r.getString(9),
                                r.getInt(10), r.getBoolean(11), r.getBoolean(12), new Claim.Client(r.getString(13),
                                r.getString(14), r.getObject(15, Integer.class), r.getString(16), r.getString(17))));
                    }
                }
            }
            if (held.isEmpty()) {
                return;
            }
            List<String> hid = new ArrayList<>(held.keySet());
            Map<String, List<Claim.Rcpt>> due = new java.util.HashMap<>();
            Map<String, Integer> nrcpt = new java.util.HashMap<>();
            Instant dueBy = now.plusSeconds(1);
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT queue_id, id, address, orcpt, notify, status,"
                    + " next_attempt FROM queue_recipient WHERE queue_id IN (" + in(hid.size()) + ")"
                    + " ORDER BY queue_id, position")) {
                for (int i = 0; i < hid.size(); i++) {
                    ps.setString(i + 1, hid.get(i));
                }
                try (java.sql.ResultSet r = ps.executeQuery()) {
                    while (r.next()) {
                        String id = r.getString(1);
                        nrcpt.merge(id, 1, Integer::sum);
                        RecipientStatus status = RecipientStatus.valueOf(r.getString(6));
                        Instant next = instant(r, 7);
                        if (!status.done() && (next == null || !next.isAfter(dueBy))) {
                            due.computeIfAbsent(id, k -> new ArrayList<>()).add(new Claim.Rcpt(r.getLong(2),
                                    r.getString(3), r.getString(4), r.getString(5)));
                        }
                    }
                }
            }
            // content: single-chunk messages read now; for larger ones on a retry, the chunks counted
            List<String> single = hid.stream().filter(id -> held.get(id).chunks() == 1).toList();
            List<String> counted = hid.stream().filter(id -> held.get(id).chunks() > 1
                    && !"INCOMING".equals(held.get(id).state())).toList();
            Map<String, byte[]> content = new java.util.HashMap<>();
            if (!single.isEmpty()) {
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT queue_id, data FROM queue_content"
                        + " WHERE seq = 0 AND queue_id IN (" + in(single.size()) + ")")) {
                    for (int i = 0; i < single.size(); i++) {
                        ps.setString(i + 1, single.get(i));
                    }
                    try (java.sql.ResultSet r = ps.executeQuery()) {
                        while (r.next()) {
                            content.put(r.getString(1), r.getBytes(2));
                        }
                    }
                }
            }
            Map<String, Integer> chunks = new java.util.HashMap<>();
            if (!counted.isEmpty()) {
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT queue_id, COUNT(*) FROM queue_content"
                        + " WHERE queue_id IN (" + in(counted.size()) + ") GROUP BY queue_id")) {
                    for (int i = 0; i < counted.size(); i++) {
                        ps.setString(i + 1, counted.get(i));
                    }
                    try (java.sql.ResultSet r = ps.executeQuery()) {
                        while (r.next()) {
                            chunks.put(r.getString(1), r.getInt(2));
                        }
                    }
                }
            }
            List<String> good = new ArrayList<>();
            List<String> first = new ArrayList<>();
            for (Row m : held.values()) {
                int n = nrcpt.getOrDefault(m.id(), 0);
                List<Claim.Rcpt> d = due.getOrDefault(m.id(), List.of());
                byte[] data = content.get(m.id());
                boolean damaged = n == 0 || m.chunks() < 0 || (m.chunks() == 0 && m.size() > 0)
                        || (m.chunks() == 1 && (data == null || data.length != m.size()))
                        || (counted.contains(m.id()) && chunks.getOrDefault(m.id(), 0) != m.chunks());
                if (damaged || d.isEmpty()) {
                    odd.add(m.id());
                    continue;
                }
                boolean isFirst = "INCOMING".equals(m.state());
                good.add(m.id());
                if (isFirst) {
                    first.add(m.id());
                }
                claimed.add(new Claim(m.id(), m.version(), m.sender(), m.arrival(), m.size(), n, m.envid(), m.ret(),
                        m.bodyType(), m.chunks(), isFirst, List.copyOf(d), m.flushed(), data, m.expired(), m.client()));
            }
            if (!good.isEmpty()) {
                // deferred mail being delivered is in the active queue, as in Postfix; a flush is used up
                update("UPDATE queue_message SET state = 'ACTIVE', flush_requested = FALSE WHERE queue_id IN ("
                        + in(good.size()) + ")", null, good);
            }
            if (!first.isEmpty()) {
                update("UPDATE queue_message SET active_since = ? WHERE queue_id IN (" + in(first.size()) + ")",
                        now, first);
            }
            if (!odd.isEmpty()) {
                // given back, for claim() to look at one by one
                update("UPDATE queue_message SET lease_until = NULL, lease_owner = NULL, version = version + 1"
                        + " WHERE queue_id IN (" + in(odd.size()) + ")", null, odd);
            }
        }

        private void update(String sql, Instant t, List<String> ids) throws java.sql.SQLException {
            try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (t != null) {
                    ps.setObject(i++, ts(t));
                }
                for (String id : ids) {
                    ps.setString(i++, id);
                }
                ps.executeUpdate();
            }
        }
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

    /**
     * protocolNotice - notify_classes = protocol: queue the postmaster's copy of a client
     * transcript ({@link BounceNotifier#protocolNotice}) in a transaction of its own; the
     * caller wakes the notice. Returns its queue id, or null when none is due.
     */
    public String protocolNotice(String queueId, String sender, boolean lmtp, String server, List<String> lines,
                                 Instant now) {
        return new BounceNotifier(em, config()).protocolNotice(queueId, sender, lmtp, server, lines, now);
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
        return finishRound(queueId, lease, outcomes, now, null);
    }

    /**
     * finishRound - the same, with the message's Message-ID for the delivery events: with
     * delivery_event_notification, every outcome recorded here gets its event row
     * ({@link EventOutbox}) in this transaction, and the result carries the events for the
     * publisher, to be handed over after the commit.
     */
    public Finished finishRound(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now,
                                String messageId) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null) {
            return new Finished(null, List.of());
        }
        Config config = config();
        boolean publish = config.get(Parameters.DELIVERY_EVENT_NOTIFICATION);
        List<DeliveryEvent> events = new ArrayList<>(publish ? outcomes.size() : 0);
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
                if (publish) {
                    events.add(DeliveryEvent.of(config.get(Parameters.MYHOSTNAME), now, m.getArrival(), queueId,
                            messageId, r.getAddress(), r.getOrcpt(), o.status(), o.dsn(), o.reply(), o.relay()));
                }
            }
        }
        // the events commit with the outcomes they tell of: one batch for the round
        EventOutbox.write(em, events);
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
            return new Finished(m.getNextAttempt() != null ? m.getNextAttempt() : now, notices, events);
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
            return new Finished(null, notices, events);
        }
        new FlushIndex(em, FastFlushDomains.of(config())).update(m, false, indexed);
        m.setState(QueueState.DEFERRED);
        m.setNextAttempt(next);
        m.setLeaseUntil(null);
        return new Finished(next, notices, events);
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

    /**
     * expire - postsuper -e (release false) or -f (release true): mark the message for
     * forced expiration, so that its next delivery round returns it to the sender. A held
     * message stays held with -e (held mail is never delivered, so it expires when it is
     * released) and is released into the deferred queue with -f. Returns whether the
     * message was marked; released whether -f released it from hold.
     */
    public Expired expire(String queueId, boolean release, Instant now) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null || m.getState() == QueueState.CORRUPT) {
            return new Expired(false, false);
        }
        m.setForcedExpire(true);
        boolean released = false;
        if (release && m.getState() == QueueState.HOLD) {
            em.flush();
            released = releaseHold(queueId, now).released();
        }
        LOG.info("PSTN4605: " + queueId + ": expired");
        return new Expired(true, released);
    }

    /** Expired - the outcome of expire: marked, and released from hold by -f. */
    public record Expired(boolean expired, boolean released) {
    }

    /**
     * delete - remove the message, whatever its state (postsuper -d): its content,
     * recipients and flush index rows; no notice is sent. A delivery in progress is not
     * interrupted, but records nothing when it ends. Returns false when there is no such
     * message.
     */
    public boolean delete(String queueId) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null) {
            return false;
        }
        remove(m, true);
        return true;
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
     * in a round that owed no notice (the common case of relayed mail): a few batched
     * statements for the whole batch instead of loading, updating and deleting each message
     * row by row. The messages of {@code indexed} (retries: a first delivery has none) take
     * their fast flush index rows with them. A message whose lease token no longer matches (held, moved to the corrupt
     * queue, or released meanwhile) is left alone and returned, for the caller to record
     * its outcomes the ordinary way ({@link #finishRound}). Nothing here needs a sync: a
     * removal lost in a crash only means the message is delivered again.
     */
    public List<String> removeDelivered(Map<String, Long> leases, java.util.Set<String> indexed) {
        return removeDelivered(leases, indexed, Map.of());
    }

    /**
     * removeDelivered - the same, with the delivery events of the messages (by queue id):
     * the events of the messages removed are written in the same transaction
     * ({@link EventOutbox}, one batch); those of a message returned as not removed are
     * not, since its outcomes are recorded the ordinary way, with their events.
     */
    public List<String> removeDelivered(Map<String, Long> leases, java.util.Set<String> indexed,
                                        Map<String, List<DeliveryEvent>> events) {
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
            List<DeliveryEvent> written = new ArrayList<>();
            for (String id : held) {
                written.addAll(events.getOrDefault(id, List.of()));
            }
            if (!written.isEmpty()) {
                try (java.sql.PreparedStatement insert = c.prepareStatement(EventOutbox.INSERT)) {
                    EventOutbox.bind(insert, written);
                    insert.executeBatch();
                }
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
     * dead-destination cache is ignored (see DeadDestinations); forcedExpire: postsuper -e
     * or -f marked the message, whose due recipients are returned to the sender, not delivered;
     * client: the original client as the queue stored it, for XFORWARD.
     */
    public record Claim(String queueId, long lease, String sender, Instant arrival, long size, int nrcpt, String envid,
                        String ret, String bodyType, int chunks, boolean firstTime, List<Rcpt> due,
                        boolean ignoreDeferTransports, byte[] content, boolean forcedExpire, Client client) {

        public Claim {
            client = client != null ? client : Client.NONE;
        }

        /**
         * Client - the client that handed the message to Postern, as the queue row has it:
         * name ("unknown" when smtpd found no name), address, TCP port (null when not stored:
         * mail queued before schema V6), HELO name, protocol (SMTP, ESMTP, ...; "local" for
         * mail Postern composed itself: bounces and other notices). Any of them may be null.
         */
        public record Client(String name, String address, Integer port, String helo, String protocol) {
            /** NONE - nothing known */
            public static final Client NONE = new Client(null, null, null, null, null);

            /** of - the client of a queue row. */
            public static Client of(QueuedMessage m) {
                return new Client(m.getClientName(), m.getClientAddress(), m.getClientPort(), m.getHelo(),
                        m.getProtocol());
            }

            /** local - mail that no client sent: Postern's own notices (protocol "local") */
            public boolean local() {
                return "local".equalsIgnoreCase(protocol);
            }
        }

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
                    List.copyOf(due), false, content, false, Client.of(m));
        }

        /** Rcpt - a recipient that is due. */
        public record Rcpt(long id, String address, String orcpt, String notifyParam) {
        }
    }

    /**
     * Finished - what finishing a round left: the next attempt (null: the message is gone)
     * and the queue ids of notices queued by it, to be woken after the commit.
     */
    public record Finished(Instant next, List<String> notices, List<DeliveryEvent> events) {
        /** Finished - with no delivery event. */
        public Finished(Instant next, List<String> notices) {
            this(next, notices, List.of());
        }
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
