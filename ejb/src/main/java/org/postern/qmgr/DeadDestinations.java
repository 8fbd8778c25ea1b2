package org.postern.qmgr;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.postern.smtp.api.NextHop;

/**
 * DeadDestinations - the queue manager's short-term cache of destinations that just failed
 * at the site level (Postfix qmgr's "dead" or throttled queues).
 *
 * <h2>DESCRIPTION</h2>
 * When a delivery to a destination (a next hop: transport and host, e.g. smtp:example.com:25
 * or lmtp:inet:127.0.0.1:24) fails before any server of it could be talked to (the lookup, the
 * connection, the greeting or the EHLO/HELO failed with a temporary error), the destination is
 * dead until minimal_backoff_time has passed. Meanwhile the recipients of other messages for
 * it are deferred at once, without a connection, with Postfix's reason
 * "delivery temporarily suspended: &lt;the original reason&gt;" and its status code, and
 * rescheduled with the normal backoff. A delivery that reaches the destination (whatever the
 * servers answer per recipient) brings it back to life. A flush (ETRN, postqueue -s,
 * sendmail -q) ignores the cache, as ETRN_README says.
 *
 * <h2>SECURITY</h2>
 * Only next hops that the queue manager resolved go in; the cache is bounded by
 * {@link #MAX_ENTRIES}, past which expired entries are dropped and, if that is not enough,
 * nothing new is added (the worst case is a connection attempt more, never a lost message).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * minimal_backoff_time (300s): how long a destination stays dead; the caller passes it in.
 *
 * <h2>BUGS</h2>
 * The cache is per JVM, in memory only, and starts empty; in a cluster the nodes share what they
 * find through the database (ClusterDeadDestinations), within a heartbeat.
 */
public final class DeadDestinations {
    /** a bound on the cache, as Postfix bounds its by qmgr_message_recipient_limit (20000) */
    static final int MAX_ENTRIES = 20_000;

    private static final DeadDestinations SHARED = new DeadDestinations();

    /** Dead - why a destination is dead (its DSN status and reason) and until when. */
    public record Dead(String dsn, String reason, Instant until) {
        /** suspended - the reason a recipient deferred without a connection gets. */
        public String suspended() {
            return "delivery temporarily suspended: " + reason;
        }
    }

    private final Map<NextHop, Dead> dead = new ConcurrentHashMap<>();

    /** shared - the cache of this JVM. */
    public static DeadDestinations shared() {
        return SHARED;
    }

    /** dead - why the destination is dead at {@code now}, or null when it is not. */
    public Dead dead(NextHop hop, Instant now) {
        Dead d = dead.get(hop);
        if (d != null && !d.until().isAfter(now)) {
            dead.remove(hop, d);
            return null;
        }
        return d;
    }

    /** markDead - the destination failed at the site level; dead until {@code until}. */
    public void markDead(NextHop hop, String dsn, String reason, Instant until) {
        if (dead.size() >= MAX_ENTRIES && !dead.containsKey(hop)) {
            Instant now = Instant.now();
            dead.values().removeIf(d -> !d.until().isAfter(now));
            if (dead.size() >= MAX_ENTRIES) {
                return;
            }
        }
        dead.put(hop, new Dead(dsn, reason, until));
    }

    /** alive - a delivery reached the destination: forget that it was dead; true when it was. */
    public boolean alive(NextHop hop) {
        return !dead.isEmpty() && dead.remove(hop) != null;
    }

    /** DeadEntry - a dead destination as JMX and the console show it. */
    public record DeadEntry(String destination, String dsn, String reason, Instant until) {
    }

    /** snapshot - the destinations dead at {@code now}, by destination name. */
    public java.util.List<DeadEntry> snapshot(Instant now) {
        java.util.List<DeadEntry> out = new java.util.ArrayList<>();
        dead.forEach((hop, d) -> {
            if (d.until().isAfter(now)) {
                out.add(new DeadEntry(hop.protocol().name().toLowerCase(java.util.Locale.ROOT) + ":"
                        + hop.destination(), d.dsn(), d.reason(), d.until()));
            }
        });
        out.sort(java.util.Comparator.comparing(DeadEntry::destination));
        return out;
    }

    /** clear - forget every dead destination (Postfix's "F" trigger: flush dead). */
    public void clear() {
        dead.clear();
    }
}
