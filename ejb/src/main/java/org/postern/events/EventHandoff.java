package org.postern.events;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * EventHandoff - the bounded hand-off of committed delivery events from the delivery
 * threads to the publisher thread.
 *
 * <h2>DESCRIPTION</h2>
 * A delivery thread offers the events of a round after their transaction committed and
 * goes on at once: {@link #offer} never blocks and never fails the round. An event that
 * finds the hand-off full (delivery_event_handoff_limit) is not kept in memory; its row
 * stays in the queue database and the republisher publishes it
 * (delivery_event_republish_time). The same holds for the events in memory when the
 * server stops or crashes: the database, not this memory, is the record.
 */
public final class EventHandoff {
    private static final EventHandoff SHARED = new EventHandoff();

    private final Object lock = new Object();
    private final ArrayDeque<DeliveryEvent> waiting = new ArrayDeque<>();
    private long overflowed;

    /** shared - the hand-off of this JVM. */
    public static EventHandoff shared() {
        return SHARED;
    }

    /**
     * offer - hand over committed events, as many as the limit has room for; the rest are
     * left to the republisher. Returns how many were left.
     */
    public int offer(List<DeliveryEvent> events, int limit) {
        if (events.isEmpty()) {
            return 0;
        }
        synchronized (lock) {
            int left = 0;
            for (DeliveryEvent e : events) {
                if (waiting.size() < limit) {
                    waiting.add(e);
                } else {
                    left++;
                }
            }
            overflowed += left;
            if (left < events.size()) {
                lock.notifyAll();
            }
            return left;
        }
    }

    /** take - up to max events, waiting at most the timeout for the first; empty when none came. */
    List<DeliveryEvent> take(int max, long timeout, TimeUnit unit) throws InterruptedException {
        long end = System.nanoTime() + unit.toNanos(timeout);
        synchronized (lock) {
            while (waiting.isEmpty()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            List<DeliveryEvent> batch = new ArrayList<>(Math.min(max, waiting.size()));
            while (!waiting.isEmpty() && batch.size() < max) {
                batch.add(waiting.poll());
            }
            return batch;
        }
    }

    /** waiting - events in memory now. */
    public int waiting() {
        synchronized (lock) {
            return waiting.size();
        }
    }

    /** overflowed - events left to the republisher because the hand-off was full, since start. */
    public long overflowed() {
        synchronized (lock) {
            return overflowed;
        }
    }
}
