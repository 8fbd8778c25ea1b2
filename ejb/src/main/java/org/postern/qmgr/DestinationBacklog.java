package org.postern.qmgr;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.postern.smtp.api.NextHop;

/**
 * DestinationBacklog - the queue manager's half of smtp_connection_cache_on_demand: whether a
 * destination has a backlog when a delivery to it is handed to the client, so that the client
 * keeps its session in the connection cache for the mail that follows (Postfix's
 * DEL_REQ_FLAG_CONN_STORE, set per queue by qmgr(8)).
 *
 * <h2>DESCRIPTION</h2>
 * A destination is a queue of Postfix's qmgr: a transport (master.cf service name) and a next
 * hop. For each, this counts the deliveries that were dispatched and are not done yet (running,
 * or waiting for a slot of the process or destination concurrency limit) and remembers when the
 * last delivery finished. When a delivery is about to be handed over ({@link Ticket#backlog}):
 * <ul>
 * <li>On-demand caching of the destination turns on when this delivery follows the previous one
 *     back to back (that one finished less than {@link #BACK_TO_BACK}, a second, ago), or when
 *     more deliveries are dispatched than the destination concurrency limit lets run (some wait
 *     for a slot that this delivery's session can serve). Concurrent deliveries alone do not
 *     turn it on: a burst no larger than the concurrency limit opens its connections and closes
 *     them, as qmgr(8) does ("Don't enable session caching just because we have concurrent
 *     deliveries").</li>
 * <li>Once on, it stays on while another delivery to the destination is running or waiting, or
 *     deliveries keep following back to back; it turns off when the destination runs dry, so
 *     that the last deliveries of a burst do not leave connections open. Staying on through a
 *     lull is what keeps new connections from being made while cached ones exist.</li>
 * <li>Postern adds: a batch of a message that has more batches for the same destination after
 *     it (the destination recipient limit split its recipients) has a backlog, since the next
 *     batch follows at once. This does not turn the destination's caching on by itself.</li>
 * </ul>
 * A request without a backlog still reuses a session that is in the cache; the client closes
 * it after that request (Postfix's DEL_REQ_FLAG_CONN_LOAD without CONN_STORE). A delivery that
 * never got a slot does not count as finished.
 *
 * <h2>SECURITY</h2>
 * Only next hops that the queue manager resolved go in; the table is bounded by
 * {@link #MAX_ENTRIES}: past it, destinations without a delivery running and none finished
 * within the last second (whose state is that of an unknown destination) are dropped, at most
 * once per second; while it stays full, a new destination is not tracked and has a backlog only
 * for the batches of its own message. The worst case is a connection closed or kept too early,
 * never a lost message.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtp_connection_cache_on_demand (yes) is applied by the client ({@code SmtpClientSettings.Cache});
 * the destination concurrency limit of the transport is passed in.
 *
 * <h2>BUGS</h2>
 * Per JVM: mail for the destination that other nodes of a cluster deliver, or that waits in the
 * JMS queue or the database and has not been dispatched yet, is not seen, as Postfix's qmgr sees
 * only its active queue. The back-to-back window is fixed at one second, as in qmgr(8).
 */
public final class DestinationBacklog {
    /** a delivery that starts this soon after the previous one finished follows it back to back (qmgr(8): 1s) */
    static final Duration BACK_TO_BACK = Duration.ofSeconds(1);
    /** a bound on the destinations tracked, as {@link DeadDestinations#MAX_ENTRIES} */
    static final int MAX_ENTRIES = 20_000;

    private static final DestinationBacklog SHARED = new DestinationBacklog(System::nanoTime);

    /* a Queue's lastDone before its first delivery finished */
    private static final long NEVER = Long.MIN_VALUE;

    private final LongSupplier clock;
    private final Map<Key, Queue> queues = new ConcurrentHashMap<>();
    private final long window = BACK_TO_BACK.toNanos();
    private volatile long lastPrune = NEVER;

    /** Key - a destination queue: the transport's service name and the next hop. */
    private record Key(String transport, NextHop hop) {
    }

    /** Queue - the state of one destination; guarded by itself. */
    private static final class Queue {
        /* deliveries dispatched and not done: running or waiting for a slot */
        int busy;
        /* when the last delivery finished (clock nanos), or NEVER */
        long lastDone = NEVER;
        /* on-demand caching is on (sticky, as qmgr's dflags) */
        boolean caching;
    }

    DestinationBacklog(LongSupplier clock) {
        this.clock = clock;
    }

    /** shared - the table of this JVM. */
    public static DestinationBacklog shared() {
        return SHARED;
    }

    /**
     * enter - a delivery to {@code transport}'s {@code hop} is dispatched (before it waits for a
     * slot); close the ticket when it is done.
     */
    public Ticket enter(String transport, NextHop hop) {
        Key key = new Key(transport, hop);
        Queue q = queues.get(key);
        if (q == null && queues.size() >= MAX_ENTRIES && !prune()) {
            return new Ticket(null);
        }
        q = queues.compute(key, (k, old) -> {
            Queue n = old != null ? old : new Queue();
            synchronized (n) {
                n.busy++;
            }
            return n;
        });
        return new Ticket(q);
    }

    /* prune - drop the destinations that are as good as unknown; false when the table stays full */
    private boolean prune() {
        long now = clock.getAsLong();
        if (lastPrune != NEVER && now - lastPrune < window) {
            return false;
        }
        lastPrune = now;
        for (Key k : queues.keySet()) {
            queues.computeIfPresent(k, (key, q) -> {
                synchronized (q) {
                    return q.busy == 0 && !backToBack(q, now) ? null : q;
                }
            });
        }
        return queues.size() < MAX_ENTRIES;
    }

    private boolean backToBack(Queue q, long now) {
        return q.lastDone != NEVER && now - q.lastDone <= window;
    }

    /** size - the destinations tracked (tests). */
    int size() {
        return queues.size();
    }

    /** clear - forget every destination (tests). */
    void clear() {
        queues.clear();
    }

    /** Ticket - one dispatched delivery of a destination. */
    public final class Ticket implements AutoCloseable {
        private final Queue queue;
        private boolean handed;
        private boolean closed;

        private Ticket(Queue queue) {
            this.queue = queue;
        }

        /**
         * backlog - the delivery is handed to the client now, under a destination concurrency
         * limit of {@code concurrencyLimit} (0: none); {@code moreBatches}: the same message has
         * more recipients for this destination after this batch. True when the client should
         * keep its session for what follows.
         */
        public boolean backlog(int concurrencyLimit, boolean moreBatches) {
            handed = true;
            if (queue == null) {
                return moreBatches;
            }
            long now = clock.getAsLong();
            synchronized (queue) {
                boolean backToBack = backToBack(queue, now);
                boolean waiting = concurrencyLimit > 0 && queue.busy > concurrencyLimit;
                if (!queue.caching) {
                    queue.caching = backToBack || waiting;
                } else if (queue.busy <= 1 && !backToBack) {
                    queue.caching = false;   // running out of steam: the last one does not store its session
                }
                return queue.caching || moreBatches;
            }
        }

        /** close - the delivery is done (or never got a slot: then it does not count as finished). */
        @Override
        public void close() {
            if (closed || queue == null) {
                return;
            }
            closed = true;
            long now = clock.getAsLong();
            synchronized (queue) {
                queue.busy--;
                if (handed) {
                    queue.lastDone = now;
                }
            }
        }
    }
}
