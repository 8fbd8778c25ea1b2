package org.postern.qmgr;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * ActiveMessages - the bound on the active queue: how many messages this node has claimed
 * and is delivering at once (qmgr_message_active_limit, Postfix's in-memory active queue).
 *
 * <h2>DESCRIPTION</h2>
 * A delivery round enters before it claims its message and leaves when the round is
 * finished. When the active queue is full, the round does not claim the message: it
 * stays due in the database, untouched, and the next round to leave wakes as many due
 * messages as there is room for (or, failing that, the queue scanner finds them).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * qmgr_message_active_limit (20000): the callers pass it in; 0 or less means no limit.
 *
 * <h2>BUGS</h2>
 * The bound holds per JVM, as Postfix's holds per queue manager: a cluster of N nodes may
 * have N times the limit in flight.
 */
final class ActiveMessages {
    private static final ActiveMessages SHARED = new ActiveMessages();

    private final AtomicInteger active = new AtomicInteger();
    /* a round was turned away since the last wake-up: due messages wait for room */
    private final AtomicBoolean waiting = new AtomicBoolean();

    static ActiveMessages shared() {
        return SHARED;
    }

    /**
     * enter - take a place in the active queue; false (and remembered) when it is full.
     * The flag is set before the count is looked at again: a leave() between the first look
     * and the flag would have found no flag to act on, and the turned-away message would
     * wait for the scanner; looking again after setting it closes that window (either this
     * call sees the room and takes it, or that leave() sees the flag and wakes).
     */
    boolean enter(int limit) {
        while (true) {
            int n = active.get();
            if (limit > 0 && n >= limit) {
                waiting.set(true);
                if (active.get() >= limit) {
                    return false;
                }
                continue;
            }
            if (active.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** leave - give the place back; true when rounds were turned away and should be woken now. */
    boolean leave() {
        active.decrementAndGet();
        return waiting.getAndSet(false);
    }

    /** room - how many more messages may be claimed now; Integer.MAX_VALUE without a limit. */
    int room(int limit) {
        return limit <= 0 ? Integer.MAX_VALUE : Math.max(0, limit - active.get());
    }

    /** active - the messages in the active queue now. */
    int active() {
        return active.get();
    }

    /** full - there is no room: remember that due messages wait (the scanner found some). */
    void markWaiting() {
        waiting.set(true);
    }
}
