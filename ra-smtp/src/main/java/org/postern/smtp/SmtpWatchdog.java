package org.postern.smtp;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * SmtpWatchdog - one shared timer that enforces per-operation time limits where the
 * platform offers none: writes on any socket, and reads on a blocking unix-domain
 * {@code SocketChannel} (which has no SO_TIMEOUT). When a limit expires the watchdog
 * closes the channel, which wakes the blocked thread with an exception.
 *
 * <p>One daemon thread for the whole adapter; the tasks it runs only close sockets or hand
 * work to {@link #aside} (up to four daemon threads, e.g. for the QUIT of an expired cached
 * session).
 *
 * <p>Every deadline armed here must be disarmed by its owner when the operation ends (a
 * cancelled deadline leaves the queue at once): the queue holds one entry per operation in
 * progress and per idle cached session, never one per message delivered. {@link #pending}
 * shows it.
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

    /*
     * a few threads for work the timer must not wait for: the QUIT of an idle cached session
     * (bounded by smtp_quit_timeout) when its idle time is up
     */
    private static final ThreadPoolExecutor ASIDE = createAside();

    private static ThreadPoolExecutor createAside() {
        ThreadPoolExecutor t = new ThreadPoolExecutor(4, 4, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread th = new Thread(r, "postern-smtp-quit");
            th.setDaemon(true);
            return th;
        });
        t.allowCoreThreadTimeOut(true);
        return t;
    }

    /** aside - run {@code task} soon on another thread than the timer's (it may block within its own limits). */
    static void aside(Runnable task) {
        ASIDE.execute(task);
    }

    /** pending - the deadlines queued on the timer (cancelled ones leave at once): tests, statistics. */
    static int pending() {
        return TIMER.getQueue().size();
    }

    /** disarm - cancel a deadline returned by {@link #arm}. */
    static void disarm(ScheduledFuture<?> deadline) {
        if (deadline != null) {
            deadline.cancel(false);
        }
    }
}
