package org.postern.qmgr;

import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.interceptor.Interceptors;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.List;
import org.postern.queue.ClusterNode;
import org.postern.queue.SharedDeadDestination;
import org.postern.tx.RolledBackIsAFailure;

/**
 * ClusterNodes - the rows of the cluster_node table, each change in a transaction of its own
 * (the writes of {@link ClusterMembership}).
 *
 * <h2>SEE ALSO</h2>
 * ClusterMembership, ClusterNode
 */
@Stateless
@Interceptors(RolledBackIsAFailure.class)
@TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
public class ClusterNodes {

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    /**
     * join - this node's row, written anew for this start (a row of an earlier start of the
     * same node is replaced: that start is over, and its leases were given back).
     */
    public void join(String node, String incarnation, Instant now) {
        ClusterNode old = em.find(ClusterNode.class, node);
        if (old != null) {
            em.remove(old);
            em.flush();
        }
        em.persist(new ClusterNode(node, incarnation, now));
    }

    /** Beat - what a heartbeat found in the node's row: its incarnation, and who asked it to reload. */
    public record Beat(String incarnation, String reloadRequestedBy) {
    }

    /**
     * beat - write that this node is alive. The incarnation found in its row is {@code
     * incarnation} when all is well, another one when a second process runs under the same
     * node name, null when the row was gone (the other nodes presumed this one dead and gave
     * its leases away; the row is then written again). A request to reload is taken from the
     * row: the caller reloads.
     */
    public Beat beat(String node, String incarnation, Instant now) {
        int n = em.createQuery("UPDATE ClusterNode n SET n.heartbeat = :now WHERE n.name = :node"
                        + " AND n.incarnation = :inc")
                .setParameter("now", now).setParameter("node", node).setParameter("inc", incarnation)
                .executeUpdate();
        ClusterNode row = em.find(ClusterNode.class, node);
        if (row == null) {
            em.persist(new ClusterNode(node, incarnation, now));
            return new Beat(null, null);
        }
        String reload = null;
        if (n == 1 && row.getReloadRequestedBy() != null) {
            reload = row.getReloadRequestedBy();
            em.createQuery("UPDATE ClusterNode n SET n.reloadRequestedBy = NULL WHERE n.name = :node")
                    .setParameter("node", node).executeUpdate();
        }
        return new Beat(row.getIncarnation(), reload);
    }

    /** requestReload - ask every other node to reload its configuration at its next heartbeat; how many. */
    public int requestReload(String self) {
        return em.createQuery("UPDATE ClusterNode n SET n.reloadRequestedBy = :self WHERE n.name <> :self")
                .setParameter("self", self).executeUpdate();
    }

    /** silent - the other nodes whose last heartbeat is before {@code before}. */
    public List<ClusterNode> silent(String self, Instant before) {
        return em.createQuery("SELECT n FROM ClusterNode n WHERE n.name <> :self AND n.heartbeat < :before",
                        ClusterNode.class)
                .setParameter("self", self).setParameter("before", before)
                .getResultList();
    }

    /**
     * forget - remove a silent node's row if it is still the one that was found silent (same
     * incarnation and heartbeat): true for the one node that wins the right to give the dead
     * node's leases back, false when the node came back or another node was quicker.
     */
    public boolean forget(ClusterNode silent) {
        return em.createQuery("DELETE FROM ClusterNode n WHERE n.name = :node AND n.incarnation = :inc"
                        + " AND n.heartbeat = :beat")
                .setParameter("node", silent.getName()).setParameter("inc", silent.getIncarnation())
                .setParameter("beat", silent.getHeartbeat())
                .executeUpdate() == 1;
    }

    /** leave - this node stops: its row goes (a clean stop is not a death to take over from). */
    public void leave(String node, String incarnation) {
        em.createQuery("DELETE FROM ClusterNode n WHERE n.name = :node AND n.incarnation = :inc")
                .setParameter("node", node).setParameter("inc", incarnation)
                .executeUpdate();
    }

    /** live - how many nodes, this one included, wrote their heartbeat at {@code since} or later. */
    public int live(Instant since) {
        return em.createQuery("SELECT COUNT(n) FROM ClusterNode n WHERE n.heartbeat >= :since", Long.class)
                .setParameter("since", since).getSingleResult().intValue();
    }

    /** markDead - a destination this node found dead, for every node (replaces an older row). */
    public void markDead(SharedDeadDestination row) {
        em.merge(row);
    }

    /** revive - a destination reached again: no node is to take it for dead any more. */
    public void revive(String hopKey) {
        em.createQuery("DELETE FROM SharedDeadDestination d WHERE d.hopKey = :key").setParameter("key", hopKey)
                .executeUpdate();
    }

    /** reviveAll - no destination is dead for any node any more (flush dead). */
    public void reviveAll() {
        em.createQuery("DELETE FROM SharedDeadDestination d").executeUpdate();
    }

    /** deadDestinations - the destinations dead at {@code now}; rows past their time are removed. */
    public List<SharedDeadDestination> deadDestinations(Instant now) {
        em.createQuery("DELETE FROM SharedDeadDestination d WHERE d.until <= :now").setParameter("now", now)
                .executeUpdate();
        return em.createQuery("SELECT d FROM SharedDeadDestination d", SharedDeadDestination.class).getResultList();
    }

    /** all - every node's row, by name (the console and the commands). */
    public List<ClusterNode> all() {
        return em.createQuery("SELECT n FROM ClusterNode n ORDER BY n.name", ClusterNode.class).getResultList();
    }
}
