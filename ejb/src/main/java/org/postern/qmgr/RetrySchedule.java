package org.postern.qmgr;

import java.time.Duration;
import java.time.Instant;
import org.postern.config.Config;
import org.postern.config.Parameters;
import org.postern.queue.RecipientStatus;

/**
 * RetrySchedule - when a deferred recipient is tried again, and when a message expires.
 *
 * <h2>NAME</h2>
 * RetrySchedule - Postfix's qmgr(8) backoff and queue lifetimes for one delivery round.
 *
 * <h2>DESCRIPTION</h2>
 * A recipient deferred in a round is tried again after the message's age, but no sooner
 * than minimal_backoff_time and no later than maximal_backoff_time ({@link #backoff}), as
 * Postfix does: young mail is retried often, old mail rarely. A message lives
 * maximal_queue_lifetime, a notice (from the null sender or from double_bounce_sender)
 * bounce_queue_lifetime; a recipient deferred at or past that age bounces instead, its
 * 4.x.x status turned into 5.x.x and its reply prefixed with "message expired: "
 * ({@link #expire}). A batch that found no free slot of its destination's concurrency
 * limit is tried again after {@link #CONCURRENCY_RETRY}, whatever its age.
 *
 * <p>This is the one place to change the retry schedule.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * minimal_backoff_time (300s), maximal_backoff_time (4000s), maximal_queue_lifetime (5d),
 * bounce_queue_lifetime (5d), double_bounce_sender (double-bounce).
 *
 * @param retry    when the recipients deferred in this round are due again
 * @param age      the message's age at the start of the round
 * @param lifetime how long this message may stay in the queue
 */
record RetrySchedule(Instant retry, Duration age, Duration lifetime) {

    /** CONCURRENCY_RETRY - the pause of a batch that found every slot of its destination busy */
    static final Duration CONCURRENCY_RETRY = Duration.ofSeconds(30);

    /** of - the schedule of a message from this sender that arrived then, for a round starting now. */
    static RetrySchedule of(Config config, String sender, Instant arrival, Instant now) {
        Duration age = Duration.between(arrival, now);
        // notices (from <> or, for postmaster notices, from double_bounce_sender) live
        // bounce_queue_lifetime, other mail maximal_queue_lifetime
        String doubleBounce = config.get(Parameters.DOUBLE_BOUNCE_SENDER) + "@";
        boolean notice = sender.isEmpty() || sender.regionMatches(true, 0, doubleBounce, 0, doubleBounce.length());
        Duration lifetime = config.get(notice ? Parameters.BOUNCE_QUEUE_LIFETIME : Parameters.MAXIMAL_QUEUE_LIFETIME);
        Instant retry = now.plus(backoff(age, config.get(Parameters.MINIMAL_BACKOFF_TIME),
                config.get(Parameters.MAXIMAL_BACKOFF_TIME)));
        return new RetrySchedule(retry, age, lifetime);
    }

    /** expire - a deferred recipient past the message's lifetime bounces. */
    QueueStore.Outcome expire(QueueStore.Outcome o) {
        return expire(o, false);
    }

    /**
     * expire - a deferred recipient bounces when the message is past its lifetime or
     * forced (postsuper -e, -f: Postfix's "4.7.0 message is administratively expired").
     */
    QueueStore.Outcome expire(QueueStore.Outcome o, boolean forced) {
        if (o.status() == RecipientStatus.DEFERRED && (forced || age.compareTo(lifetime) >= 0)) {
            return new QueueStore.Outcome(RecipientStatus.BOUNCED, o.dsn().replaceFirst("^4", "5"), o.relay(),
                    "message expired: " + o.reply(), null);
        }
        return o;
    }

    /** backoff - Postfix's retry interval: the message age, within [min, max]. */
    static Duration backoff(Duration age, Duration min, Duration max) {
        if (age.compareTo(min) < 0) {
            return min;
        }
        return age.compareTo(max) > 0 ? max : age;
    }
}
