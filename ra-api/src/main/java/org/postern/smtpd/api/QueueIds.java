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

    /** isValid - true when the text has the shape of a queue id. */
    public static boolean isValid(String id) {
        return id != null && VALID.matcher(id).matches();
    }
}
