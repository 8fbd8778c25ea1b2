package org.postern.smtpd.api;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * QueueIds - queue id generation and validation.
 *
 * <p>A queue id is 16 upper-case hex digits: 11 of the time in milliseconds, then 5 of
 * a per-JVM counter started at a random value, so that ids sort roughly by arrival, are
 * unique within one node and (with the random start) practically unique across the
 * nodes of a cluster. Upper-case hex keeps log tools written for Postfix's short ids
 * (pflogsumm among them) matching them. Ids that come from outside are validated with
 * {@link #isValid} before use, as Postfix's mail_queue_id_ok() does.
 */
public final class QueueIds {
    private static final Pattern VALID = Pattern.compile("[0-9A-F]{16}");
    private static final AtomicLong COUNTER = new AtomicLong(new SecureRandom().nextInt(1 << 20));

    private QueueIds() {
    }

    /** next - a new queue id. */
    public static String next() {
        long time = System.currentTimeMillis() & 0xFFFFFFFFFFFL;
        long count = COUNTER.getAndIncrement() & 0xFFFFFL;
        return String.format("%011X%05X", time, count);
    }

    /**
     * derived - the queue id of a message that comes with an identity of its own (a JMS
     * message: its JMSTimestamp and JMSMessageID): 11 digits of the time as {@link #next}
     * has them, then 5 of a hash of the key. The same message handed over twice gets the
     * same id, so a second copy is found by its id (SubmitEndpoint). Two different keys of
     * the same millisecond share the id with a chance of 1 in 2^20; the caller must compare
     * the stored message before treating a match as a copy.
     */
    public static String derived(long millis, String key) {
        long time = millis & 0xFFFFFFFFFFFL;
        int h = key.hashCode();
        // spread the high bits into the low 20 (String.hashCode varies most at the end)
        h ^= (h >>> 20) ^ (h >>> 12);
        return String.format("%011X%05X", time, h & 0xFFFFF);
    }

    /** isValid - true when the text has the shape of a queue id. */
    public static boolean isValid(String id) {
        return id != null && VALID.matcher(id).matches();
    }
}
