package org.postern.smtp;

import org.postern.smtp.api.SmtpClientConnectionFactory.Permit;

import org.postern.smtp.api.SmtpClientConnectionFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * SmtpDestinationLimiter - the destination concurrency limit of qmgr(8): at most N parallel
 * deliveries per transport and next-hop destination, across every delivery bean of this
 * client connection pool (transport_destination_concurrency_limit,
 * default_destination_concurrency_limit = 20).
 *
 * <h2>DESCRIPTION</h2>
 * One counting slot table per client connection pool (the managed connection factory owns it,
 * and {@link SmtpClientConnectionFactory#reserve} hands out its slots), keyed by transport
 * and destination. {@link #acquire} waits for a slot at most the given time and returns
 * null when none became free; the caller defers the recipients briefly rather than holding
 * its thread (a slow destination must not take every delivery thread: head-of-line
 * blocking). The limit is given with each request, so a new configuration (a redeploy) applies
 * at once; a lower limit lets running deliveries finish and admits new ones only below it.
 * Entries without deliveries or waiters are removed, so the table is bounded by the
 * destinations in use.
 *
 * <h2>BUGS</h2>
 * Per pool, so per JVM: in a cluster each node has its own slots (N nodes: up to N times the limit).
 * No feedback-driven concurrency (Postfix's slow start, destination_concurrency_feedback).
 */
public final class SmtpDestinationLimiter {

    private static final Permit UNLIMITED = () -> { };

    private static final class Slot {
        int inUse;
        int waiting;
    }

    private final Map<String, Slot> slots = new HashMap<>();

    /**
     * acquire - a slot for a delivery to {@code destination} by {@code transport}, waiting at
     * most {@code maxWait}; null when the limit stayed reached. A limit of 0 means no limit.
     */
    public Permit acquire(String transport, String destination, int limit, Duration maxWait)
            throws InterruptedException {
        if (limit <= 0) {
            return UNLIMITED;
        }
        String key = transport + "\u0000" + destination;
        long deadline = System.nanoTime() + maxWait.toNanos();
        synchronized (slots) {
            Slot s = slots.computeIfAbsent(key, k -> new Slot());
            s.waiting++;
            try {
                while (s.inUse >= limit) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return null;
                    }
                    slots.wait(Math.max(1, left / 1_000_000));
                }
                s.inUse++;
            } finally {
                s.waiting--;
                forgetIfIdle(key, s);
            }
        }
        return new Permit() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (slots) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    Slot s = slots.get(key);
                    if (s != null) {
                        s.inUse--;
                        forgetIfIdle(key, s);
                    }
                    slots.notifyAll();
                }
            }
        };
    }

    /** inUse - the deliveries now running to this destination by this transport. */
    public int inUse(String transport, String destination) {
        synchronized (slots) {
            Slot s = slots.get(transport + "\u0000" + destination);
            return s == null ? 0 : s.inUse;
        }
    }

    /**
     * busy - the deliveries running now per destination ("transport:destination"), and
     * how many more wait for a slot ("transport:destination waiting"), for JMX.
     */
    public Map<String, Integer> busy() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        synchronized (slots) {
            slots.forEach((k, s) -> {
                String name = k.replace('\u0000', ':');
                out.put(name, s.inUse);
                if (s.waiting > 0) {
                    out.put(name + " waiting", s.waiting);
                }
            });
        }
        return out;
    }

    /** size - the destinations with running or waiting deliveries (bounded; for tests and JMX). */
    public int size() {
        synchronized (slots) {
            return slots.size();
        }
    }

    private void forgetIfIdle(String key, Slot s) {
        if (s.inUse == 0 && s.waiting == 0) {
            slots.remove(key);
        }
    }
}
