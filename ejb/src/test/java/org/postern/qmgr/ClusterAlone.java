package org.postern.qmgr;

import java.lang.reflect.Field;

/**
 * ClusterAlone - the cluster beans of a node that is alone (no other node alive), for tests
 * that build a delivery agent by hand: no slot is taken, no dead destination shared.
 */
public final class ClusterAlone {
    private ClusterAlone() {
    }

    /** slots - the cluster's concurrency slots of a node alone: every permit takes nothing. */
    public static ClusterSlots slots() {
        ClusterSlots slots = new ClusterSlots();
        slots.liveNodes(1);
        return slots;
    }

    /** deadDestinations - the shared dead-destination cache of a node alone: nothing is written. */
    public static ClusterDeadDestinations deadDestinations() {
        ClusterDeadDestinations dead = new ClusterDeadDestinations();
        try {
            Field f = ClusterDeadDestinations.class.getDeclaredField("slots");
            f.setAccessible(true);
            f.set(dead, slots());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return dead;
    }
}
