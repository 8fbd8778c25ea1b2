package org.postern.smtpd;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * ClientConnectionLimiter - per-client connection count and rate limits of one smtpd
 * service, in the manner of Postfix anvil(8).
 *
 * <h2>DESCRIPTION</h2>
 * {@link #connect} is called when a connection is accepted and says whether it may
 * proceed; {@link #disconnect} when an admitted connection ends. The count is the
 * number of simultaneous connections from one address; the rate is the number of
 * connection attempts (admitted or not) from one address in the current
 * anvil_rate_time_unit, counted in fixed windows that start with the first attempt.
 * Clients matching smtpd_client_event_limit_exceptions are never limited.
 *
 * <h2>SECURITY</h2>
 * Bounds what one address can take of the service (not a regulator of legitimate mail).
 * State per address is small and dropped once the address has no connection and its
 * window has ended, so that the table does not grow with every address ever seen.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_client_connection_count_limit (50), smtpd_client_connection_rate_limit (0: no
 * limit), anvil_rate_time_unit (60s), smtpd_client_event_limit_exceptions ($mynetworks).
 */
final class ClientConnectionLimiter {
    /** Outcome - admitted, or which limit refused the connection and at what value. */
    record Outcome(boolean admitted, String limit, int value) {
        static final Outcome ADMITTED = new Outcome(true, null, 0);
    }

    private static final class Entry {
        int count;
        int rate;
        long windowStart;
    }

    private static final int PURGE_THRESHOLD = 10_000;

    private int countLimit;
    private int rateLimit;
    private long unitNanos;
    private Predicate<String> exceptions;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> clients = new HashMap<>();

    ClientConnectionLimiter(int countLimit, int rateLimit, Duration unit, Predicate<String> exceptions,
                            LongSupplier nanoTime) {
        this.countLimit = countLimit;
        this.rateLimit = rateLimit;
        this.unitNanos = unit.toNanos();
        this.exceptions = exceptions;
        this.nanoTime = nanoTime;
    }

    /**
     * limits - new limits after a reload, for the connections that come next; the counts
     * of the connections open now are kept.
     */
    synchronized void limits(int countLimit, int rateLimit, Duration unit, Predicate<String> exceptions) {
        this.countLimit = countLimit;
        this.rateLimit = rateLimit;
        this.unitNanos = unit.toNanos();
        this.exceptions = exceptions;
    }

    /** connect - a connection from address: admitted (and counted) or refused. */
    synchronized Outcome connect(String address) {
        if (countLimit <= 0 && rateLimit <= 0 || exceptions.test(address)) {
            return Outcome.ADMITTED;
        }
        long now = nanoTime.getAsLong();
        if (clients.size() > PURGE_THRESHOLD) {
            purge(now);
        }
        Entry e = clients.computeIfAbsent(address, a -> {
            Entry n = new Entry();
            n.windowStart = now;
            return n;
        });
        if (now - e.windowStart >= unitNanos) {
            e.windowStart = now;
            e.rate = 0;
        }
        e.rate++;
        if (rateLimit > 0 && e.rate > rateLimit) {
            return new Outcome(false, "rate", e.rate);
        }
        if (countLimit > 0 && e.count + 1 > countLimit) {
            return new Outcome(false, "concurrency", e.count + 1);
        }
        e.count++;
        return Outcome.ADMITTED;
    }

    /** disconnect - an admitted connection from address has ended. */
    synchronized void disconnect(String address) {
        Entry e = clients.get(address);
        if (e != null && e.count > 0) {
            e.count--;
            if (e.count == 0 && nanoTime.getAsLong() - e.windowStart >= unitNanos) {
                clients.remove(address);
            }
        }
    }

    /** size - addresses tracked (tests). */
    synchronized int size() {
        return clients.size();
    }

    private void purge(long now) {
        for (Iterator<Entry> it = clients.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.count == 0 && now - e.windowStart >= unitNanos) {
                it.remove();
            }
        }
    }
}
