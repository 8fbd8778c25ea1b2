package org.postern.cleanup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * WakeUpSender - sends the delivery requests of stored mail off the accept path.
 *
 * <h2>DESCRIPTION</h2>
 * The group commit's leader hands the queue ids of a synced batch to {@link #submit} and
 * releases the batch's sessions at once: their 250 waits for the database, never for JMS.
 * One task at a time, on the executor given, drains the ids waiting here and sends them in
 * one call (DeliveryRequests.wakeUpAll: a few ids per JMS message). While the broker is slow
 * or gone, a send waits until the connection factory gives up (call-failover-timeout); the
 * ids that come meanwhile pile up here and go in the next attempt, and a failed attempt
 * leaves its messages to the queue scanner (AcceptedMessages.requestsLost). Before this, the
 * 250 of every message waited for its wake-up, up to 12 s per batch while an external
 * broker was down (ExternalBrokerIT).
 *
 * <p>A task drains for at most {@link #SLICE_MILLIS} and then hands over to a new task, so
 * that no task of the managed executor runs long enough to be reported hung.
 *
 * <h2>SEE ALSO</h2>
 * QueueAccept (the caller, for SmtpdEndpoint and SubmitEndpoint), GroupCommit, DeliveryRequests, QueueScanner
 */
public final class WakeUpSender {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");
    /** a draining task hands over to a new one after this long */
    static final long SLICE_MILLIS = 1000;

    private final ConcurrentLinkedQueue<String> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();

    /**
     * submit - send wake-ups for these queue ids soon, with {@code send}, on the executor;
     * returns at once. When the executor refuses the task the ids are sent on the caller's
     * thread, as before there was this class.
     */
    public void submit(List<String> queueIds, Executor executor, Consumer<List<String>> send) {
        pending.addAll(queueIds);
        if (draining.compareAndSet(false, true)) {
            start(executor, send);
        }
    }

    private void start(Executor executor, Consumer<List<String>> send) {
        try {
            executor.execute(() -> drain(executor, send));
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "wake-ups sent by the accepting thread: the executor refused the task", e);
            drain(null, send);
        }
    }

    /* drain - send what is waiting until nothing is, or the slice is over and a new task goes on */
    private void drain(Executor executor, Consumer<List<String>> send) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SLICE_MILLIS);
        while (true) {
            List<String> batch = new ArrayList<>();
            for (String id; (id = pending.poll()) != null;) {
                batch.add(id);
            }
            if (!batch.isEmpty()) {
                try {
                    send.accept(batch);
                } catch (RuntimeException e) {
                    // the mail is on disk; the queue scanner makes up for the wake-up
                    LOG.log(Level.WARNING, "PSTN7201: cannot hand " + batch.size() + " delivery request(s) to JMS,"
                            + " the queue scanner will: " + e);
                }
                if (executor != null && System.nanoTime() > end && !pending.isEmpty()) {
                    start(executor, send);
                    return;
                }
                continue;
            }
            draining.set(false);
            // an id added after the last poll and before the flag was cleared is this task's to send
            if (pending.isEmpty() || !draining.compareAndSet(false, true)) {
                return;
            }
        }
    }
}
