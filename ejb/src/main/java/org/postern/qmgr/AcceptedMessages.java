package org.postern.qmgr;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * AcceptedMessages - messages just accepted, stored born leased to this node, whose first
 * delivery reads the content from memory instead of the database.
 *
 * <h2>DESCRIPTION</h2>
 * When smtpd's endpoint stores a message that fits the memory bounds, the row is born in
 * the active queue, leased to this node, and its claim (envelope, recipients with their row
 * ids, the content) is kept here; the delivery request that follows finds it with
 * {@link #take} and delivers with no claim transaction and no content read. The
 * database stays the truth: if the node dies, the lease is released at start
 * (QueueScanner) and the message is delivered from the database like any other; if a
 * request never comes, or a send failed ({@link #requestsLost}), {@link #stale} lets the
 * scanner give the lease back.
 *
 * <p>Memory is bounded in bytes of content ({@link #reserve}); a message that does not fit
 * is stored due and unleased, and delivered from the database.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * queue_memory_limit (bytes of content held here in all), queue_memory_message_limit (the
 * largest message held here); the callers pass them in.
 *
 * <h2>BUGS</h2>
 * The bound holds per JVM.
 */
public final class AcceptedMessages {
    private static final AcceptedMessages SHARED = new AcceptedMessages();

    private final ConcurrentHashMap<String, Accepted> byId = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();

    /** Accepted - a claim kept for its first delivery, and when it was put here. */
    record Accepted(QueueStore.Claim claim, long bytes, Instant since) {
    }

    static AcceptedMessages shared() {
        return SHARED;
    }

    /**
     * admit - a place in the active queue (qmgr_message_active_limit) and room for the
     * content (queue_memory_limit) for a message about to be stored born leased; false, and
     * nothing taken, when either is full: the message is then stored due, for the database path.
     */
    public static boolean admit(long bytes, int activeLimit, long memoryLimit) {
        if (!ActiveMessages.shared().enter(activeLimit)) {
            return false;
        }
        if (!SHARED.reserve(bytes, memoryLimit)) {
            abandonPlace();
            return false;
        }
        return true;
    }

    /** abandon - give back what {@link #admit} took, when the message was not stored after all. */
    public static void abandon(long bytes) {
        SHARED.unreserve(bytes);
        abandonPlace();
    }

    /** accepted - the message is stored and synced: keep its claim for the delivery request. */
    public static void accepted(QueueStore.Claim claim, long bytes) {
        SHARED.put(claim, bytes, Instant.now());
    }

    /**
     * requestsLost - a delivery request could not be sent (the JMS broker is down, or went
     * away): the requests of the claims waiting now may have been lost with the broker, so
     * they are all stale at once, and the next queue scan gives their leases back and
     * requests them again, instead of after the scanner's ACCEPTED_STALE. A request that
     * comes after all finds no claim and takes the database path (its lease decides).
     */
    static void requestsLost() {
        for (String id : SHARED.byId.keySet()) {
            SHARED.byId.computeIfPresent(id, (k, a) -> new Accepted(a.claim(), a.bytes(), Instant.EPOCH));
        }
    }

    /* abandonPlace - leave the active queue; a wake-up owed to waiting messages is passed on */
    private static void abandonPlace() {
        if (ActiveMessages.shared().leave()) {
            ActiveMessages.shared().markWaiting();
        }
    }

    /** reserve - room for {@code n} bytes of content within {@code limit}; false when there is none. */
    boolean reserve(long n, long limit) {
        while (true) {
            long now = bytes.get();
            if (now + n > limit) {
                return false;
            }
            if (bytes.compareAndSet(now, now + n)) {
                return true;
            }
        }
    }

    /** unreserve - give back what {@link #reserve} took. */
    void unreserve(long n) {
        bytes.addAndGet(-n);
    }

    /** put - keep the claim until its delivery takes it; its bytes were reserved. */
    void put(QueueStore.Claim claim, long reserved, Instant now) {
        byId.put(claim.queueId(), new Accepted(claim, reserved, now));
    }

    /** take - the claim kept for this queue id, removed from here; null when there is none. */
    Accepted take(String queueId) {
        return byId.remove(queueId);
    }

    /** stale - remove and return the claims waiting longer than {@code age} for their delivery. */
    List<Accepted> stale(Instant now, Duration age) {
        List<Accepted> out = new ArrayList<>();
        for (Accepted a : byId.values()) {
            if (a.since().plus(age).isBefore(now) && byId.remove(a.claim().queueId(), a)) {
                out.add(a);
            }
        }
        return out;
    }

    /** bytes - the content held now. */
    long bytes() {
        return bytes.get();
    }

    /** size - the claims held now. */
    int size() {
        return byId.size();
    }
}
