package org.postern.cleanup;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * GroupCommit - many sessions' messages stored in one transaction and made durable by one
 * sync (group commit), before any of them is answered 250.
 *
 * <h2>DESCRIPTION</h2>
 * A thread that has a message to store calls {@link #submit} and blocks. When no batch is
 * being written, that thread becomes the leader: it takes every message that is waiting
 * (at most the batch limit), writes them in one transaction ({@link Batch#write}), forces
 * the database to stable storage ({@link Batch#sync}), lets the batch act on what is now
 * durable ({@link Batch#durable}: log lines, delivery requests), and only then releases
 * the waiting threads, its own included. Messages that arrive while a batch is being
 * written wait for the next leader, which takes them all at once: under load a sync covers
 * as many messages as arrived during the previous one, with no timer and no added latency
 * when the queue is idle.
 *
 * <p>A batch whose transaction fails is written again one message at a time, so that one
 * bad message costs only its own 451, never its neighbours'; but not when the database
 * could not be reached ({@link #unreachable}: a connection error, SQLState class 08, a
 * socket timeout, a refused connect, no pooled connection in time): then every message
 * of the batch fails at once, as do the rest of a one-at-a-time pass when the database
 * goes away in the middle of it. A database that hangs would otherwise hold every client
 * of the batch for one timeout per message (POSTERN_DB_SOCKET_TIMEOUT, as many times as
 * queue_group_commit_limit). A sync that fails fails every
 * message of the batch: its rows are committed but not known to be on disk, so the client
 * is told 451 and sends again (a possible duplicate, never a loss).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * The batch limit (queue_group_commit_limit, passed in by the caller).
 *
 * <h2>SEE ALSO</h2>
 * QueueAccept (the caller, for SmtpdEndpoint and SubmitEndpoint), CleanupService#storeAll (the transaction), QueueSync (the sync)
 */
public final class GroupCommit<T> {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");

    /** Batch - what the leader does with a batch; the calls come in this order. */
    public interface Batch<T> {
        /** write - store every item in one transaction, committed when this returns. */
        void write(List<T> items) throws Exception;

        /** sync - force what was committed to stable storage. */
        void sync() throws Exception;

        /** durable - the items are committed and synced; runs before their threads are released. */
        void durable(List<T> items);
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    private final ArrayDeque<Slot<T>> waiting = new ArrayDeque<>();
    private boolean leading;
    /* statistics: batches written and items in them, for the log and the tests */
    private long batches;
    private long items;

    private static final class Slot<T> {
        final T item;
        Throwable failure;
        boolean finished;

        Slot(T item) {
            this.item = item;
        }
    }

    /**
     * submit - store the item with the next batch; returns once it is committed and synced,
     * throws {@link StoreException} when it could not be (nothing of it is then to be
     * acknowledged). {@code batch} is used when this thread becomes the leader.
     */
    public void submit(T item, int limit, Batch<T> batch) throws StoreException {
        Slot<T> mine = new Slot<>(item);
        lock.lock();
        try {
            waiting.add(mine);
            while (!mine.finished) {
                if (leading) {
                    done.awaitUninterruptibly();
                    continue;
                }
                leading = true;
                List<Slot<T>> taken = new ArrayList<>();
                while (!waiting.isEmpty() && (limit <= 0 || taken.size() < limit)) {
                    taken.add(waiting.poll());
                }
                lock.unlock();
                try {
                    lead(taken, batch);
                } finally {
                    lock.lock();
                    leading = false;
                    batches++;
                    items += taken.size();
                    for (Slot<T> s : taken) {
                        s.finished = true;
                    }
                    done.signalAll();
                }
            }
        } finally {
            lock.unlock();
        }
        if (mine.failure != null) {
            throw new StoreException(mine.failure);
        }
    }

    /* lead - write, sync and publish one batch; failures are recorded in the slots */
    private void lead(List<Slot<T>> taken, Batch<T> batch) {
        List<Slot<T>> written = new ArrayList<>(taken.size());
        try {
            batch.write(items(taken));
            written.addAll(taken);
        } catch (Exception | Error e) {
            if (taken.size() == 1 || unreachable(e)) {
                // the database is away: each message alone would only wait for it again
                for (Slot<T> s : taken) {
                    s.failure = e;
                }
            } else {
                // one bad message must not cost its neighbours their 250: one at a time
                LOG.log(Level.FINE, "group commit of " + taken.size() + " failed; storing one by one", e);
                Throwable away = null;
                for (Slot<T> s : taken) {
                    if (away != null) {
                        s.failure = away;
                        continue;
                    }
                    try {
                        batch.write(List.of(s.item));
                        written.add(s);
                    } catch (Exception | Error e1) {
                        s.failure = e1;
                        if (unreachable(e1)) {
                            away = e1;
                        }
                    }
                }
            }
        }
        if (written.isEmpty()) {
            return;
        }
        try {
            batch.sync();
        } catch (Exception | Error e) {
            for (Slot<T> s : written) {
                s.failure = e;
            }
            return;
        }
        try {
            batch.durable(items(written));
        } catch (RuntimeException e) {
            // the mail is safe on disk; what it missed (a wake-up) the queue scanner makes up
            LOG.log(Level.WARNING, "PSTN4103: after a group commit: " + e, e);
        }
    }

    /**
     * unreachable - the failure says that the database could not be reached, not that the
     * message was bad: somewhere in its causes a SQLException of SQLState class 08
     * (connection exception), a java.sql connection exception, a socket timeout or refused
     * connect, or a JCA ResourceException (no pooled connection within the pool's blocking
     * timeout).
     */
    static boolean unreachable(Throwable e) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof java.sql.SQLTransientConnectionException || t instanceof java.sql.SQLNonTransientConnectionException
                    || t instanceof java.net.SocketTimeoutException || t instanceof java.net.ConnectException
                    || isA(t, "jakarta.resource.ResourceException")) {
                return true;
            }
            if (t instanceof java.sql.SQLException q && q.getSQLState() != null && q.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isA(Throwable t, String className) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals(className)) {
                return true;
            }
        }
        return false;
    }

    private static <T> List<T> items(List<Slot<T>> slots) {
        List<T> out = new ArrayList<>(slots.size());
        for (Slot<T> s : slots) {
            out.add(s.item);
        }
        return out;
    }

    /** batches - how many batches were written, and the items in them: {batches, items}. */
    public long[] counts() {
        lock.lock();
        try {
            return new long[] {batches, items};
        } finally {
            lock.unlock();
        }
    }

    /** StoreException - the item was not stored durably; the cause says why. */
    public static final class StoreException extends Exception {
        private static final long serialVersionUID = 1L;

        StoreException(Throwable cause) {
            super(cause.toString(), cause);
        }
    }
}
