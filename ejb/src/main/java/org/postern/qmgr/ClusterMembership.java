package org.postern.qmgr;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.ejb.DependsOn;
import jakarta.ejb.EJB;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.Timeout;
import jakarta.ejb.Timer;
import jakarta.ejb.TimerConfig;
import jakarta.ejb.TimerService;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.Parameters;
import org.postern.queue.ClusterNode;
import org.postern.service.ConfigService;

/**
 * ClusterMembership - the nodes that share one queue database, and the take-over of a dead
 * node's deliveries.
 *
 * <h2>DESCRIPTION</h2>
 * Any number of Postern servers may work on one queue database (PostgreSQL): each accepts
 * mail, and each claims due messages for delivery with a lease in the message's row
 * (lease_owner, lease_until). A node that dies while delivering leaves its leases behind;
 * without this bean the messages would wait until the leases ran out (30 minutes).
 *
 * <p>At start a node writes its row in cluster_node with a fresh incarnation (a UUID), and
 * then every cluster_heartbeat_interval writes the time again. At the same moments it looks
 * for other nodes whose time is older than cluster_node_timeout. Such a node is presumed dead:
 * the first node that removes its row (the removal names the row's incarnation and time, so
 * that only one node wins, and a node that came back is not removed) gives back every lease the
 * dead node held, logs how many, and wakes the queue managers for the messages that are due.
 * Take-over therefore happens within cluster_node_timeout plus one heartbeat interval of the
 * death. A node stopped cleanly removes its row; its leases were given back by its queue
 * managers as they finished.
 *
 * <p>A node that finds its row gone was presumed dead by the others while it was alive (a
 * pause longer than cluster_node_timeout): it logs this, since a delivery it had in flight
 * may now be made twice, and writes its row again. A node that finds another incarnation in
 * its row shares its name with another running process: both would take each other's leases
 * at start, so this is logged as an error at every heartbeat until one of them is renamed
 * (-Djboss.node.name).
 *
 * <p>A reload here ({@link #reloadOthers}, called by postfix reload on the console, JMX, REST
 * or the command) asks every other node to reload: each reads its own configuration files again
 * at its next heartbeat and logs that it did, or that the new configuration was refused.
 *
 * <p>On a single server (the embedded default) the table holds one row and nothing is ever
 * taken over; the cost is one UPDATE per heartbeat.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * cluster_heartbeat_interval (10s), cluster_node_timeout (60s). Both are read at every tick
 * (once a second), so a reload applies them at once.
 *
 * <h2>BUGS</h2>
 * The nodes' clocks must agree (NTP), as lease expiry already assumes. A node presumed dead
 * while alive may deliver a message a second time; none is lost.
 *
 * <h2>SEE ALSO</h2>
 * ClusterNodes (the transactions), QueueScanner (a node's own leases at start), QueueStore
 */
@Singleton
@Startup
@DependsOn("QueueScanner")
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class ClusterMembership {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** how often the timer looks whether a heartbeat is due */
    static final Duration TICK = Duration.ofSeconds(1);

    /** this start of this node */
    private final String incarnation = UUID.randomUUID().toString();
    private Instant lastBeat = Instant.EPOCH;
    private volatile boolean joined;

    @Resource
    private TimerService timers;

    @EJB
    private ClusterNodes nodes;

    @EJB
    private QueueStore store;

    @EJB
    private ClusterSlots slots;

    @EJB
    private ClusterDeadDestinations deadDestinations;

    @EJB
    private DeliveryRequests requests;

    @EJB
    private ConfigService config;

    @PostConstruct
    void start() {
        try {
            Instant now = Instant.now();
            nodes.join(QueueStore.NODE, incarnation, now);
            lastBeat = now;
            joined = true;
            LOG.info("PSTN4420: node " + QueueStore.NODE + " joined the queue (incarnation " + incarnation + ")");
        } catch (RuntimeException e) {
            // the database may be away at start: the first heartbeat writes the row
            LOG.warning("PSTN4421: node " + QueueStore.NODE + ": cannot write its cluster_node row yet: " + e);
        }
        timers.createIntervalTimer(TICK.toMillis(), TICK.toMillis(), new TimerConfig("postern-cluster", false));
    }

    @Timeout
    void tick(Timer timer) {
        Config c = config.current();
        Instant now = Instant.now();
        if (Duration.between(lastBeat, now).compareTo(c.get(Parameters.CLUSTER_HEARTBEAT_INTERVAL)) < 0) {
            return;
        }
        try {
            beat(now);
            Instant deadline = now.minus(c.get(Parameters.CLUSTER_NODE_TIMEOUT));
            takeOver(deadline);
            slots.liveNodes(nodes.live(deadline));
            deadDestinations.sync(now);
        } catch (RuntimeException e) {
            LOG.warning("PSTN4422: node " + QueueStore.NODE + ": cluster heartbeat failed, trying again: "
                    + DeliveryAgent.rootCause(e));
        }
    }

    /* beat - this node is alive; complain when the row says otherwise; reload when asked to */
    private void beat(Instant now) {
        ClusterNodes.Beat found = nodes.beat(QueueStore.NODE, incarnation, now);
        lastBeat = now;
        if (found.incarnation() == null) {
            if (joined) {
                LOG.warning("PSTN4423: node " + QueueStore.NODE + " was presumed dead by another node (no heartbeat "
                        + "for cluster_node_timeout) and its leases were given back; a delivery it had in flight may "
                        + "be made twice");
            }
            joined = true;
        } else if (!found.incarnation().equals(incarnation)) {
            LOG.severe("PSTN4424: another running server uses the node name " + QueueStore.NODE + " (incarnation "
                    + found.incarnation() + "); give each node its own name with -Djboss.node.name, or they take each"
                    + " other's deliveries");
        }
        if (found.reloadRequestedBy() != null) {
            try {
                config.reload();
                LOG.info("PSTN4428: node " + QueueStore.NODE + ": configuration reloaded, as node "
                        + found.reloadRequestedBy() + " asked");
            } catch (RuntimeException e) {
                LOG.severe("PSTN4429: node " + QueueStore.NODE + ": the reload that node " + found.reloadRequestedBy()
                        + " asked for was refused; the configuration in force stays: " + DeliveryAgent.rootCause(e));
            }
        }
    }

    /**
     * reloadOthers - after a reload here (postfix reload), ask every other node to reload: each
     * reads its own main.cf, master.cf and tables again at its next heartbeat. Returns how many
     * nodes were asked.
     */
    public int reloadOthers() {
        int n = nodes.requestReload(QueueStore.NODE);
        if (n > 0) {
            LOG.info("PSTN4430: node " + QueueStore.NODE + " reloaded; " + n + " other node(s) asked to reload");
        }
        return n;
    }

    /* takeOver - give back the leases of every node silent since before the deadline */
    private void takeOver(Instant deadline) {
        List<ClusterNode> silent = nodes.silent(QueueStore.NODE, deadline);
        for (ClusterNode dead : silent) {
            if (!nodes.forget(dead)) {
                continue;
            }
            int released = store.releaseLeasesOf(dead.getName());
            LOG.warning("PSTN4425: node " + dead.getName() + " has been silent since " + dead.getHeartbeat()
                    + " and is presumed dead; " + released + " message(s) it was delivering are due again");
            if (released > 0) {
                List<String> due = store.due(Instant.now(), released + 1000);
                requests.wakeUpAll(due, DeliveryRequests.IDS_PER_STORED_REQUEST);
            }
        }
    }

    @PreDestroy
    void stop() {
        try {
            nodes.leave(QueueStore.NODE, incarnation);
        } catch (RuntimeException e) {
            LOG.fine("cluster_node row of " + QueueStore.NODE + " left behind: " + e);
        }
    }
}
