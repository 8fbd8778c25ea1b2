package org.postern.qmgr;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * UnrecordedRounds - delivery rounds whose outcomes the database would not take (it was
 * unreachable through every attempt of {@link DeliveryAgent#finish}), kept in this JVM until
 * it answers again.
 *
 * <h2>DESCRIPTION</h2>
 * Without this, such a message stays leased to this node until its lease runs out
 * ({@link DeliveryAgent#LEASE}, 30 minutes), and then every recipient of the round is tried
 * again: a delivered one would get a second copy, a deferred one would wait half an hour
 * after the database came back. Instead the round's claim and outcomes wait here, and every
 * queue scan ({@link QueueScanner}) offers them to the database again
 * ({@link DeliveryAgent#recordKept}); recorded, the message is scheduled (or removed) as if
 * the round had just ended. A round whose lease could not even be given back (its delivery
 * failed before any outcome) waits here as a release. A queue id is kept once: a later round
 * of the same message replaces an earlier one.
 *
 * <p>What this does not cover: kill -9 while rounds wait here. Their leases were taken by this
 * node, so the next start gives them back ({@link QueueStore#releaseLeasesOf}) and the
 * rounds are tried again (at least once, never lost).
 *
 * <h2>BUGS</h2>
 * At most {@link #LIMIT} rounds are kept; beyond that, a round is left to its lease.
 */
final class UnrecordedRounds {
    private static final UnrecordedRounds SHARED = new UnrecordedRounds();
    /** rounds kept at most (a few hundred bytes each) */
    static final int LIMIT = 20_000;

    /**
     * Unrecorded - a round the database has not taken: its claim, its outcomes (null: only
     * the lease is to be given back), and since when it waits.
     */
    record Unrecorded(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes, Instant since) {
    }

    private final Map<String, Unrecorded> kept = new LinkedHashMap<>();

    static UnrecordedRounds shared() {
        return SHARED;
    }

    /** keep - the round waits for the database; false when {@link #LIMIT} rounds already wait. */
    synchronized boolean keep(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes, Instant now) {
        if (kept.size() >= LIMIT && !kept.containsKey(claim.queueId())) {
            return false;
        }
        kept.put(claim.queueId(), new Unrecorded(claim, outcomes, now));
        return true;
    }

    /** take - every round that waits, oldest first; the caller gives back ({@link #keep}) what it cannot record. */
    synchronized List<Unrecorded> take() {
        List<Unrecorded> all = new ArrayList<>(kept.values());
        kept.clear();
        return all;
    }

    synchronized int size() {
        return kept.size();
    }
}
