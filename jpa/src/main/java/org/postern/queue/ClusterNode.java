package org.postern.queue;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * ClusterNode - one server (WildFly node) that works on the queue, and when it last said it
 * was alive.
 *
 * <p>Every node writes its row at start and then every cluster_heartbeat_interval. A node whose
 * row has not been written for cluster_node_timeout is presumed dead: another node removes the
 * row and gives back the leases the dead node held (its deliveries in flight died with it), so
 * that its messages are delivered by the nodes that are left. The incarnation tells one start of
 * a node from the next, and two processes that were given the same node name from each other.
 * A reload on one node asks every other node to reload too (reload_requested_by), which each does
 * at its next heartbeat.
 */
@Entity
@Table(name = "cluster_node")
public class ClusterNode {
    /** the longest node name (jboss.node.name), as queue_message.lease_owner */
    public static final int MAX_NAME = 128;

    @Id
    @Column(name = "node_name", length = MAX_NAME)
    private String name;

    @Column(name = "incarnation", length = 64, nullable = false)
    private String incarnation;

    @Column(name = "started", nullable = false)
    private Instant started;

    @Column(name = "heartbeat", nullable = false)
    private Instant heartbeat;

    /** the node that asked this one to reload its configuration (postfix reload), until it has */
    @Column(name = "reload_requested_by", length = MAX_NAME)
    private String reloadRequestedBy;

    protected ClusterNode() {
    }

    /** ClusterNode - the node {@code name}, started now in the given incarnation. */
    public ClusterNode(String name, String incarnation, Instant now) {
        this.name = name;
        this.incarnation = incarnation;
        this.started = now;
        this.heartbeat = now;
    }

    public String getName() {
        return name;
    }

    public String getIncarnation() {
        return incarnation;
    }

    public Instant getStarted() {
        return started;
    }

    public Instant getHeartbeat() {
        return heartbeat;
    }

    public String getReloadRequestedBy() {
        return reloadRequestedBy;
    }
}
