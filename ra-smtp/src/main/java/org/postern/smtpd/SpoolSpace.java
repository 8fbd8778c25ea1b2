package org.postern.smtpd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * SpoolSpace - the free space of the spool file system, for queue_minfree, without a
 * file system call on the event loop.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #free} returns the last figure measured; it never blocks. {@link #refresh}
 * measures again on the blocking executor (one measurement at a time); the listener
 * ({@link SmtpdServer}) measures once when it starts and then calls refresh every
 * {@link #REFRESH_INTERVAL_MILLIS} ms, so that the figure a MAIL command sees is at most
 * that old plus the time of one measurement (and of a busy executor's queue). The
 * directory is the spool directory, or its nearest existing parent.
 *
 * <h2>BUGS</h2>
 * Within that second a burst of mail can use more space than the figure says; Postfix's
 * own check (statfs at MAIL) is no stronger, since the space is consumed later anyway.
 * {@link #direct} measures at every call, on the caller's thread: for sessions that run
 * without a listener (tests).
 */
final class SpoolSpace {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    /** The staleness bound of the figure, see the class comment. */
    static final long REFRESH_INTERVAL_MILLIS = 1000;
    /** No figure: never measured, or the measurement failed; queue_minfree is then not enforced. */
    static final long UNKNOWN = -1;

    private final Path directory;
    private final Executor blocking;
    private final boolean direct;
    private final AtomicBoolean measuring = new AtomicBoolean();
    private volatile long free = UNKNOWN;
    /** the last measurement failed: warn once per failing period, not every second */
    private volatile boolean failing;

    private SpoolSpace(Path directory, Executor blocking, boolean direct) {
        this.directory = directory;
        this.blocking = blocking;
        this.direct = direct;
    }

    /** background - a figure refreshed on blocking when {@link #refresh} is called. */
    static SpoolSpace background(Path directory, Executor blocking) {
        return new SpoolSpace(directory, blocking, false);
    }

    /** direct - measured at every {@link #free} call, on the caller's thread (no listener: tests). */
    static SpoolSpace direct(Path directory) {
        return new SpoolSpace(directory, Runnable::run, true);
    }

    /** free - usable bytes of the spool file system as last measured, or {@link #UNKNOWN}. */
    long free() {
        if (direct) {
            measure();
        }
        return free;
    }

    /** refresh - measure again on the blocking executor, unless a measurement is under way. */
    void refresh() {
        if (!measuring.compareAndSet(false, true)) {
            return;
        }
        try {
            blocking.execute(() -> {
                try {
                    measure();
                } finally {
                    measuring.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            measuring.set(false); // the adapter is stopping; the old figure stays
        }
    }

    /** measure - the usable space now (blocking: a statfs). */
    void measure() {
        try {
            Path dir = directory;
            while (dir != null && !Files.exists(dir)) {
                dir = dir.getParent();
            }
            free = dir == null ? UNKNOWN : Files.getFileStore(dir).getUsableSpace();
            failing = false;
        } catch (IOException | RuntimeException e) {
            if (!failing || direct) {
                LOG.log(Level.WARNING, "PSTN1008: cannot determine the free space of " + directory, e);
            }
            failing = true;
            free = UNKNOWN;
        }
    }
}
