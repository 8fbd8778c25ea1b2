package org.postern.qmgr;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postern.queue.RecipientStatus;

/**
 * Removals - delivered messages removed in batches: one transaction of a few bulk
 * statements for every message whose round ended at about the same time, instead of a
 * load, an update and a cascade of deletes for each.
 *
 * <h2>DESCRIPTION</h2>
 * A delivery thread whose message is done hands it over with {@link #remove} and goes on
 * at once. If no batch is being removed, that thread becomes the remover: it takes every
 * message waiting (at most {@link #LIMIT}), removes them in one transaction, and goes on
 * as long as others arrived meanwhile. Nobody waits for a removal: it needs no sync,
 * since a removal lost in a crash only means that the message is delivered again after
 * the restart, the same window Postfix has between a delivery and the unlink of its
 * queue file.
 *
 * <p>Only the rounds of {@link #removable} come here: a round in which every recipient of
 * the message was due and was sent, and no success notice is owed (a first delivery from
 * memory, or a retry such as an ETRN flush; its fast flush index rows go with it). Every other round is recorded
 * by QueueStore#finishRound, which keeps the bounce, delay and success notices, the
 * flush index and the retry schedule.
 */
final class Removals {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    private static final Removals SHARED = new Removals();
    /** messages per removal transaction at most */
    static final int LIMIT = 256;

    private final Object lock = new Object();
    private List<Removal> waiting = new ArrayList<>();
    private boolean removing;

    /**
     * Removal - a message done: its claim (queue id and lease token), its round's outcomes,
     * and whether it was a first delivery from memory (which has no flush index rows).
     */
    record Removal(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes, boolean fromMemory) {
    }

    static Removals shared() {
        return SHARED;
    }

    /**
     * removable - the round may end with a bulk removal: every recipient of the message was
     * due in it and was sent, and none asked for a success notice (NOTIFY=SUCCESS).
     */
    static boolean removable(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes) {
        if (outcomes.size() != claim.nrcpt() || claim.due().size() != claim.nrcpt()) {
            return false;
        }
        for (QueueStore.Claim.Rcpt r : claim.due()) {
            QueueStore.Outcome o = outcomes.get(r.id());
            if (o == null || o.status() != RecipientStatus.SENT) {
                return false;
            }
            if (r.notifyParam() != null && r.notifyParam().toUpperCase(java.util.Locale.ROOT).contains("SUCCESS")) {
                return false;
            }
        }
        return true;
    }

    /**
     * remove - queue the message for removal; this thread removes the waiting batch itself
     * when no other thread is doing it ({@code remover}: one transaction for a list).
     */
    void remove(Removal r, Consumer<List<Removal>> remover) {
        synchronized (lock) {
            waiting.add(r);
            if (removing) {
                return;
            }
            removing = true;
        }
        while (true) {
            List<Removal> batch;
            lingerForCompany();
            synchronized (lock) {
                if (waiting.isEmpty()) {
                    removing = false;
                    return;
                }
                if (waiting.size() <= LIMIT) {
                    batch = waiting;
                    waiting = new ArrayList<>();
                } else {
                    batch = new ArrayList<>(waiting.subList(0, LIMIT));
                    waiting.subList(0, LIMIT).clear();
                }
            }
            try {
                remover.accept(batch);
            } catch (RuntimeException | Error e) {
                // never leave the flag set: the next message would wait for a remover forever
                LOG.log(Level.SEVERE, "PSTN4408: removal of " + batch.size() + " delivered message(s) failed; "
                        + "they are delivered again after their lease: " + e, e);
            }
        }
    }

    /**
     * lingerForCompany - when few messages wait, give the deliveries under way a moment to
     * finish and join the batch: a removal transaction costs about the same for one
     * message as for fifty (on H2 each commit writes a chunk of the file). Only the
     * remover waits, never a client; at most {@link #LINGER_MICROS}.
     */
    private void lingerForCompany() {
        synchronized (lock) {
            if (waiting.size() >= LINGER_ENOUGH) {
                return;
            }
        }
        java.util.concurrent.locks.LockSupport.parkNanos(LINGER_MICROS * 1000L);
    }

    /** the remover waits for company when fewer than this many messages wait */
    static final int LINGER_ENOUGH = 16;
    /** how long the remover waits for company, in microseconds */
    static final long LINGER_MICROS = 2000;

    /** waiting - messages waiting for removal now. */
    int waiting() {
        synchronized (lock) {
            return waiting.size();
        }
    }
}
