package org.postern.admin;

import java.util.List;
import java.util.Map;

/**
 * DeliveryStatisticsMXBean - the delivery side over JMX, {@code org.postern:type=Delivery}:
 * the deliveries running per destination under its concurrency limit, the deferred
 * recipients per domain, the destinations the queue manager holds for dead, and the nodes
 * that share the queue.
 */
public interface DeliveryStatisticsMXBean {
    /** Dead - a dead destination: its name ("smtp:example.com"), DSN status, reason and until when (ISO-8601). */
    record Dead(String destination, String dsn, String reason, String until) {
    }

    /** busy - deliveries running now per destination, and the ones waiting for a slot ("... waiting"). */
    Map<String, Integer> getBusy();

    /** deferred - the deferred recipients per domain (qshape deferred's totals). */
    Map<String, Integer> getDeferred();

    /** deadDestinations - the destinations dead now, skipped until their time. */
    List<Dead> getDeadDestinations();

    /** Node - a node that works on the queue: its name, when it started, its last heartbeat (ISO-8601), and whether it is alive. */
    record Node(String name, String started, String heartbeat, boolean alive) {
    }

    /** clusterNodes - the nodes that share the queue database (this one too), by name. */
    List<Node> getClusterNodes();

    /** flushDead - forget every dead destination (Postfix's "flush dead" trigger); returns how many were dead. */
    int flushDead();
}
