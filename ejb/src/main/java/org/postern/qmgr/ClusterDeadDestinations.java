package org.postern.qmgr;

import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.EJB;
import jakarta.ejb.Singleton;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.postern.queue.SharedDeadDestination;
import org.postern.smtp.api.NextHop;

/**
 * ClusterDeadDestinations - the dead-destination cache of the queue managers
 * ({@link DeadDestinations}), shared by the nodes of a cluster.
 *
 * <h2>DESCRIPTION</h2>
 * Each node keeps its own cache in memory, as Postfix's qmgr(8) does. While more than one node is
 * alive ({@link ClusterSlots#clustered}), a node that finds a destination dead also writes it to
 * the dead_destination table, and a node that reaches a destination it had as dead removes the
 * row. At every heartbeat each node reads the table: a destination another node found dead is
 * dead here too until the same time (its mail is deferred at once with "delivery temporarily
 * suspended: " and the other node's reason), and one whose row is gone (it came back to life
 * elsewhere, or the dead destinations were flushed) is forgotten here, whichever node found it
 * dead. Rows past their time are removed. The table is written only when a
 * destination dies or comes back, never per delivery.
 *
 * <h2>BUGS</h2>
 * A node learns within one cluster_heartbeat_interval; until then it may try the destination
 * once more itself. A flush (ETRN) ignores the cache on every node, as on one.
 *
 * <h2>SEE ALSO</h2>
 * DeadDestinations, ClusterMembership (the heartbeat), DeliveryAgent
 */
@Singleton
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class ClusterDeadDestinations {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");

    @EJB
    private ClusterNodes nodes;

    @EJB
    private ClusterSlots slots;

    /**
     * destinations this node has as dead that are in the table too (found here and shared, or
     * learned from another node): when their row goes (another node reached the destination, or
     * flushed the dead destinations) they come back to life here as well
     */
    private final Set<NextHop> learned = ConcurrentHashMap.newKeySet();

    /** dead - the destination is dead until {@code until} here; tell the other nodes. */
    public void dead(NextHop hop, String dsn, String reason, Instant until) {
        learned.remove(hop);
        if (!slots.clustered()) {
            LOG.fine(() -> hop.destination() + " is dead; this node is alone, nothing to share");
            return;
        }
        try {
            nodes.markDead(new SharedDeadDestination(key(hop), hop.protocol().name(), hop.host(), hop.port(),
                    hop.mxLookup(), hop.unixPath(), dsn, clip(reason, 2048), until, QueueStore.NODE));
            learned.add(hop);
        } catch (RuntimeException e) {
            LOG.warning("PSTN4435: cannot tell the other nodes that " + hop.destination() + " is dead: "
                    + org.postern.qmgr.DeliveryAgent.rootCause(e));
        }
    }

    /** alive - a delivery reached the destination that this node had as dead: tell the other nodes. */
    public void alive(NextHop hop) {
        learned.remove(hop);
        if (!slots.clustered()) {
            return;
        }
        try {
            nodes.revive(key(hop));
        } catch (RuntimeException e) {
            LOG.warning("PSTN4436: cannot tell the other nodes that " + hop.destination() + " is alive again: "
                    + org.postern.qmgr.DeliveryAgent.rootCause(e));
        }
    }

    /** flush - forget every dead destination on every node (Postfix's "flush dead" trigger, for the cluster). */
    public void flush() {
        learned.clear();
        if (!slots.clustered()) {
            return;
        }
        try {
            nodes.reviveAll();
        } catch (RuntimeException e) {
            LOG.warning("PSTN4432: cannot forget the dead destinations the other nodes share: " + e);
        }
    }

    /** sync - at a heartbeat: what the other nodes found dead, or alive again, now holds here too. */
    public void sync(Instant now) {
        if (!slots.clustered()) {
            return;
        }
        List<SharedDeadDestination> rows = nodes.deadDestinations(now);
        Set<NextHop> shared = new HashSet<>();
        for (SharedDeadDestination row : rows) {
            NextHop hop = new NextHop(NextHop.Protocol.valueOf(row.getProtocol()), row.getHost(), row.getPort(),
                    row.isMxLookup(), row.getUnixPath());
            shared.add(hop);
            if (row.getNode().equals(QueueStore.NODE) || DeadDestinations.shared().dead(hop, now) != null) {
                continue;
            }
            DeadDestinations.shared().markDead(hop, row.getDsn(), row.getReason(), row.getUntil());
            learned.add(hop);
            LOG.info("PSTN4431: " + row.getProtocol().toLowerCase(Locale.ROOT) + ":" + hop.destination()
                    + " is dead until " + row.getUntil() + ", as node " + row.getNode() + " found: " + row.getReason());
        }
        for (NextHop hop : Set.copyOf(learned)) {
            if (!shared.contains(hop)) {
                learned.remove(hop);
                if (DeadDestinations.shared().alive(hop)) {
                    LOG.info("PSTN4437: " + hop.protocol().name().toLowerCase(Locale.ROOT) + ":" + hop.destination()
                            + " is no longer dead: another node reached it, or the dead destinations were flushed");
                }
            }
        }
    }

    /* key - the next hop as one string, the row's key */
    static String key(NextHop hop) {
        return clip(hop.protocol().name() + " " + hop.host() + " " + hop.port() + " " + hop.mxLookup() + " "
                + hop.unixPath(), SharedDeadDestination.MAX_KEY);
    }

    private static String clip(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
