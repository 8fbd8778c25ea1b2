package org.postern.qmgr;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.postern.smtp.api.SmtpClientConnectionFactory;

/**
 * ProcessLimits - the process limit of each delivery transport: at most maxproc deliveries
 * of one master.cf delivery service at once, all destinations together (master(5): "the
 * maximum number of processes that may execute this service simultaneously"; Postern runs
 * a delivery where Postfix runs an smtp(8) process).
 *
 * <h2>DESCRIPTION</h2>
 * One counting table per JVM, keyed by transport name, shared by every delivery bean.
 * {@link #acquire} waits for a place at most the given time and returns null when none
 * became free, so that the caller defers its batch briefly instead of holding a thread, as
 * it does for the destination concurrency limit. The limit comes with each request: a reload
 * that lowers it lets the running deliveries finish and admits new ones below it. Entries
 * without deliveries or waiters are removed.
 *
 * <h2>BUGS</h2>
 * Per JVM, not across a cluster, like the destination concurrency limits.
 */
final class ProcessLimits {
    private static final ProcessLimits SHARED = new ProcessLimits();
    private static final SmtpClientConnectionFactory.Permit UNLIMITED = () -> { };

    private static final class Count {
        int running;
        int waiting;
    }

    private final Map<String, Count> counts = new HashMap<>();

    static ProcessLimits shared() {
        return SHARED;
    }

    /**
     * acquire - a place for one delivery by {@code transport} under a process limit of
     * {@code limit} (0: no limit), waiting at most {@code maxWait}; null when the limit stayed
     * reached. Close the permit when the delivery is done.
     */
    SmtpClientConnectionFactory.Permit acquire(String transport, int limit, Duration maxWait)
            throws InterruptedException {
        if (limit <= 0) {
            return UNLIMITED;
        }
        long deadline = System.nanoTime() + maxWait.toNanos();
        synchronized (counts) {
            Count c = counts.computeIfAbsent(transport, k -> new Count());
            c.waiting++;
            try {
                while (c.running >= limit) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return null;
                    }
                    counts.wait(Math.max(1, left / 1_000_000));
                }
                c.running++;
            } finally {
                c.waiting--;
                forgetIfIdle(transport, c);
            }
        }
        return new SmtpClientConnectionFactory.Permit() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (counts) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    Count c = counts.get(transport);
                    if (c != null) {
                        c.running--;
                        forgetIfIdle(transport, c);
                    }
                    counts.notifyAll();
                }
            }
        };
    }

    /** running - the deliveries of this transport running now. */
    int running(String transport) {
        synchronized (counts) {
            Count c = counts.get(transport);
            return c == null ? 0 : c.running;
        }
    }

    private void forgetIfIdle(String transport, Count c) {
        if (c.running == 0 && c.waiting == 0) {
            counts.remove(transport);
        }
    }
}
