package org.postern.qmgr;

import jakarta.annotation.PreDestroy;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.Singleton;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postern.smtp.api.SmtpClientConnectionFactory.Permit;

/**
 * ClusterSlots - the destination concurrency limit held across every node that shares the
 * queue database: at most N deliveries at once to one destination by one transport, all nodes
 * together.
 *
 * <h2>DESCRIPTION</h2>
 * Each node already keeps the limit among its own deliveries (the adapter's slots,
 * SmtpDestinationLimiter). When more than one node is alive ({@link ClusterMembership} counts
 * them at every heartbeat) and the queue database is PostgreSQL, a delivery that got a local
 * slot also takes one of the limit's N slots in the database: a PostgreSQL session-level advisory
 * lock whose first key is the hash of transport and destination and whose second key is the slot
 * number (0 to N-1). One statement tries the slots in turn, from a random one, and takes the
 * first that no node holds; the slot is given back when the delivery is done. When none is free,
 * it tries again every {@link #POLL} until the caller's wait is over, and the caller then defers
 * the batch for a moment, as it does when a local slot stays taken.
 *
 * <p>The locks live in one database session of this node, kept open for them, from a datasource
 * of its own ({@value #LOCK_DATASOURCE}: outside JTA and the cached connection manager, which
 * would give a connection kept across calls back to the pool with its locks). When the node
 * dies, PostgreSQL ends that session and every slot the node held is free again at once; when
 * the session breaks, the slots are lost with it (another node may take them while this node's
 * deliveries still run, for the rest of those deliveries) and a new session is opened at the next
 * delivery. Advisory locks stack within a session, so the slots this node holds are also kept
 * here and never tried again by it.
 *
 * <p>The limit counts deliveries, as Postfix's destination concurrency limit counts delivery
 * processes; a session kept open in a node's connection cache between deliveries holds no
 * slot, as none is held by a session in Postfix's scache(8).
 *
 * <h2>BUGS</h2>
 * Two destinations whose names hash alike share their slots (a lower limit for both, never a
 * higher one). A node that joins is counted from the next heartbeat of the others: until then
 * they keep to their own limits only. On H2 (one node by nature) nothing is done.
 *
 * <h2>SEE ALSO</h2>
 * ClusterMembership, DeliveryAgent, SmtpDestinationLimiter (ra-smtp)
 */
@Singleton
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class ClusterSlots {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    private static final Permit NONE_NEEDED = () -> { };
    /** how often a delivery that found every slot taken tries again while it may wait */
    static final Duration POLL = Duration.ofMillis(25);
    /*
     * the candidate slots in the order to try them; the lock is the only condition, so that it is
     * taken for the row returned and no other (a generic plan may put a lock call before any
     * other condition: a slot this node holds would be locked again, stacked, and then dropped
     * by that condition, and stay locked for ever)
     */
    private static final String TRY = "SELECT s FROM unnest(?::integer[]) AS c(s) WHERE pg_try_advisory_lock(?, s) LIMIT 1";

    /** the datasource of the lock session (configure-postgresql.cli): no JTA, no cached connection manager */
    static final String LOCK_DATASOURCE = "java:jboss/datasources/PosternLockDS";

    /** null until looked up; a database without it (H2) takes no slot */
    private DataSource dataSource;

    /** the nodes alive at the last heartbeat, this one included */
    private volatile int liveNodes = 1;
    /** whether the queue database takes advisory locks (PostgreSQL); null until known */
    private volatile Boolean postgresql;

    /* guarded by this: the session that holds the locks, and the slots it holds */
    private Connection session;
    private final Set<Long> held = new HashSet<>();

    /** liveNodes - the heartbeat's count of the nodes that are alive. */
    public void liveNodes(int n) {
        liveNodes = Math.max(1, n);
    }

    /** clustered - whether deliveries take slots across the cluster now. */
    public boolean clustered() {
        return liveNodes > 1 && !Boolean.FALSE.equals(postgresql);
    }

    /**
     * acquire - one of the {@code limit} slots of {@code transport} and {@code destination}
     * across the cluster, waiting at most {@code maxWait}; null when every slot stayed taken. A
     * permit that takes nothing when the limit is 0, when this node is alone, or on a database
     * without advisory locks. A database that cannot be asked costs the cluster-wide limit for
     * this delivery, never the delivery: the local limit still holds.
     */
    public Permit acquire(String transport, String destination, int limit, Duration maxWait) throws InterruptedException {
        if (limit <= 0 || !clustered()) {
            return NONE_NEEDED;
        }
        int key = (transport + " " + destination).toLowerCase(Locale.ROOT).hashCode();
        long end = System.nanoTime() + maxWait.toNanos();
        while (true) {
            Integer slot;
            try {
                slot = tryLock(key, limit);
            } catch (SQLException e) {
                LOG.warning("PSTN4426: cannot take a cluster-wide slot for " + destination + ", delivering under this"
                        + " node's own limit only: " + e);
                closeSession();
                return NONE_NEEDED;
            }
            if (slot == null && postgresql == Boolean.FALSE) {
                return NONE_NEEDED;
            }
            if (slot != null) {
                int s = slot;
                return () -> unlock(key, s);
            }
            if (System.nanoTime() >= end) {
                return null;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /* tryLock - a free slot, locked in this node's session; null when all are taken */
    private synchronized Integer tryLock(int key, int limit) throws SQLException {
        Connection c = session();
        if (c == null) {
            return null;
        }
        java.util.List<Integer> candidates = new java.util.ArrayList<>(limit);
        int start = java.util.concurrent.ThreadLocalRandom.current().nextInt(limit);
        for (int i = 0; i < limit; i++) {
            int slot = (start + i) % limit;
            if (!held.contains(((long) key << 32) | (slot & 0xffffffffL))) {
                candidates.add(slot);
            }
        }
        if (candidates.isEmpty()) {
            return null;
        }
        Array taken = c.createArrayOf("integer", candidates.toArray());
        try (PreparedStatement ps = c.prepareStatement(TRY)) {
            ps.setArray(1, taken);
            ps.setInt(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                int slot = rs.getInt(1);
                held.add(((long) key << 32) | (slot & 0xffffffffL));
                return slot;
            }
        } finally {
            taken.free();
        }
    }

    /* unlock - give the slot back; a broken session has given it back already */
    private synchronized void unlock(int key, int slot) {
        if (!held.remove(((long) key << 32) | (slot & 0xffffffffL)) || session == null) {
            return;
        }
        try (PreparedStatement ps = session.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
            ps.setInt(1, key);
            ps.setInt(2, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && !rs.getBoolean(1)) {
                    LOG.warning("PSTN4434: the cluster-wide slot " + slot + " of lock " + key + " was not held by this"
                            + " node's session; closing the session so that no slot it holds stays taken");
                    closeSession();
                }
            }
        } catch (SQLException e) {
            LOG.warning("PSTN4427: cannot give a cluster-wide slot back; closing the session that holds it: " + e);
            closeSession();
        }
    }

    /* session - the session that holds this node's locks, opened on first use; null on a database without them */
    private Connection session() throws SQLException {
        if (session != null) {
            return session;
        }
        if (dataSource == null) {
            try {
                dataSource = (DataSource) new javax.naming.InitialContext().lookup(LOCK_DATASOURCE);
            } catch (javax.naming.NamingException e) {
                postgresql = false;
                LOG.warning("PSTN4433: " + liveNodes + " nodes share the queue, but " + LOCK_DATASOURCE + " is not there"
                        + " (configure-postgresql.cli makes it): each node keeps the destination concurrency limits on"
                        + " its own");
                return null;
            }
        }
        Connection c = dataSource.getConnection();
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        postgresql = product.contains("postgres");
        if (!postgresql) {
            c.close();
            return null;
        }
        c.setAutoCommit(true);
        session = c;
        held.clear();
        return c;
    }

    private synchronized void closeSession() {
        held.clear();
        if (session != null) {
            try (PreparedStatement ps = session.prepareStatement("SELECT pg_advisory_unlock_all()")) {
                // the connection goes back to the pool: it must not keep any slot
                ps.executeQuery().close();
            } catch (SQLException e) {
                LOG.fine("giving the cluster slots back before closing: " + e);
            }
            try {
                session.close();
            } catch (SQLException e) {
                LOG.fine("closing the cluster slot session: " + e);
            }
            session = null;
        }
    }

    @PreDestroy
    void stop() {
        closeSession();
    }
}
