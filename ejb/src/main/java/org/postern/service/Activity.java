package org.postern.service;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Activity - what this server has done since it started, for the metrics, the console's
 * rates and JMX: messages accepted (the 250 to the final dot), recipients delivered,
 * deferred and bounced (expired ones with the bounced), and the delivery delay (arrival to
 * the final status, as delay= in the mail log). Beside the totals it keeps the last 60
 * minutes, minute by minute, for the console's chart of the last hour.
 *
 * <p>Counting is a LongAdder increment and, once per event, a short lock on the minute
 * ring: nothing that a message waits for. The figures are per JVM and start at zero.
 */
public final class Activity {
    /** the kinds of events, in the order of {@link Minute#counts()} */
    public enum Kind { ACCEPTED, SENT, DEFERRED, BOUNCED }

    /** Minute - one minute of the ring: its start and the count of each kind. */
    public record Minute(Instant start, long[] counts) {
        public long count(Kind k) {
            return counts[k.ordinal()];
        }
    }

    private static final int MINUTES = 60;
    private static final Activity SHARED = new Activity(Clock.systemUTC());

    private final Clock clock;
    private final LongAdder[] totals = new LongAdder[Kind.values().length];
    private final DoubleAdder delaySeconds = new DoubleAdder();
    private final long[] ringMinute = new long[MINUTES];
    private final long[][] ring = new long[MINUTES][Kind.values().length];

    Activity(Clock clock) {
        this.clock = clock;
        for (int i = 0; i < totals.length; i++) {
            totals[i] = new LongAdder();
        }
        java.util.Arrays.fill(ringMinute, -1);
    }

    /** shared - the figures of this JVM. */
    public static Activity shared() {
        return SHARED;
    }

    /** accepted - a message was acknowledged with a 250. */
    public void accepted() {
        count(Kind.ACCEPTED);
    }

    /** delivered - a recipient got a status (sent, deferred, bounced or expired) after delaySeconds in the queue. */
    public void delivered(String status, double delaySeconds) {
        Kind k = switch (status) {
            case "sent" -> Kind.SENT;
            case "deferred" -> Kind.DEFERRED;
            default -> Kind.BOUNCED;
        };
        count(k);
        if (k != Kind.DEFERRED) {
            this.delaySeconds.add(Math.max(0, delaySeconds));
        }
    }

    private void count(Kind k) {
        totals[k.ordinal()].increment();
        long minute = clock.millis() / 60_000;
        int slot = (int) (minute % MINUTES);
        synchronized (ring) {
            if (ringMinute[slot] != minute) {
                ringMinute[slot] = minute;
                java.util.Arrays.fill(ring[slot], 0);
            }
            ring[slot][k.ordinal()]++;
        }
    }

    /** total - the events of a kind since the server started. */
    public long total(Kind k) {
        return totals[k.ordinal()].sum();
    }

    /** finalDeliveries - the recipients that got a final status (sent, bounced, expired). */
    public long finalDeliveries() {
        return total(Kind.SENT) + total(Kind.BOUNCED);
    }

    /** delaySeconds - the sum of their delays, in seconds. */
    public double delaySeconds() {
        return delaySeconds.sum();
    }

    /** lastHour - the last 60 minutes, oldest first, the current minute last; minutes without events count 0. */
    public List<Minute> lastHour() {
        long now = clock.millis() / 60_000;
        List<Minute> out = new ArrayList<>(MINUTES);
        synchronized (ring) {
            for (long m = now - MINUTES + 1; m <= now; m++) {
                int slot = (int) (m % MINUTES);
                long[] c = ringMinute[slot] == m ? ring[slot].clone() : new long[Kind.values().length];
                out.add(new Minute(Instant.ofEpochSecond(m * 60), c));
            }
        }
        return out;
    }
}
