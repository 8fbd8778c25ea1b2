package org.postern.smtpd.policy;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * RejectCounts - how many requests each restriction has rejected since the adapter
 * started, by the restriction's name as main.cf spells it; what pflogsumm counts from the
 * "reject:" lines, kept for the smtpd MBean, the console and the metrics. The implicit
 * checks after the lists count as reject_unlisted_sender / reject_unlisted_recipient, a
 * DEFER_IF_PERMIT that decides as defer_if_permit. Warnings (warn_if_reject) are not
 * rejects and are not counted.
 */
public final class RejectCounts {
    private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

    private RejectCounts() {
    }

    static void count(String restriction) {
        COUNTS.computeIfAbsent(restriction, r -> new LongAdder()).increment();
    }

    /** snapshot - the counts now, by restriction name in alphabetical order. */
    public static Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        COUNTS.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
