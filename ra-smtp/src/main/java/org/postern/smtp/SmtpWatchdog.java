package org.postern.smtp;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * SmtpWatchdog - one shared timer that enforces per-operation time limits where the
 * platform offers none: writes on any socket, and reads on a blocking unix-domain
 * {@code SocketChannel} (which has no SO_TIMEOUT). When a limit expires the watchdog
 * closes the channel, which wakes the blocked thread with an exception.
 *
 * <p>One daemon thread for the whole adapter; the tasks it runs only close sockets.
 */
final class SmtpWatchdog {

    private static final ScheduledThreadPoolExecutor TIMER = create();

    private SmtpWatchdog() {
    }

    private static ScheduledThreadPoolExecutor create() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "postern-smtp-watchdog");
            th.setDaemon(true);
            return th;
        });
        // cancelled deadlines are the normal case: do not keep them queued until they expire
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** arm - run {@code onExpiry} after {@code limit}, unless cancelled first; null for no limit. */
    static ScheduledFuture<?> arm(Duration limit, Runnable onExpiry) {
        if (limit == null || limit.isZero() || limit.isNegative()) {
            return null;
        }
        return TIMER.schedule(onExpiry, limit.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** disarm - cancel a deadline returned by {@link #arm}. */
    static void disarm(ScheduledFuture<?> deadline) {
        if (deadline != null) {
            deadline.cancel(false);
        }
    }
}
