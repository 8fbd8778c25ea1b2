package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.NextHop;

/** When a destination has a backlog, as qmgr(8) decides on-demand connection caching. */
class DestinationBacklogTest {

    private static final NextHop HOP = NextHop.smtp("example.com", 25, true);

    private final AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(1));
    private final DestinationBacklog table = new DestinationBacklog(now::get);

    private void later(long ms) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    /* one delivery from dispatch to done, without other work: its backlog flag */
    private boolean deliver(String transport, NextHop hop, int limit, boolean moreBatches) {
        try (DestinationBacklog.Ticket t = table.enter(transport, hop)) {
            return t.backlog(limit, moreBatches);
        }
    }

    @Test
    void aOneOffMessageHasNoBacklogAndOneThatFollowsBackToBackHasOne() {
        assertFalse(deliver("smtp", HOP, 20, false), "nothing before it, nothing after it");
        later(900);
        assertTrue(deliver("smtp", HOP, 20, false), "started 0.9s after the previous one finished");
        later(500);
        assertTrue(deliver("smtp", HOP, 20, false));
        later(2000);
        assertFalse(deliver("smtp", HOP, 20, false), "2s of quiet: the destination ran dry");
    }

    @Test
    void concurrentDeliveriesAloneDoNotTurnCachingOn() {
        // a burst no larger than the concurrency limit: qmgr(8) does not cache it either
        List<DestinationBacklog.Ticket> burst = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            burst.add(table.enter("smtp", HOP));
        }
        for (DestinationBacklog.Ticket t : burst) {
            assertFalse(t.backlog(20, false));
        }
        burst.forEach(DestinationBacklog.Ticket::close);
    }

    @Test
    void deliveriesWaitingForASlotAreABacklog() {
        DestinationBacklog.Ticket running = table.enter("smtp", HOP);
        DestinationBacklog.Ticket waiting = table.enter("smtp", HOP);
        assertTrue(running.backlog(1, false), "one more than smtp_destination_concurrency_limit = 1 waits for its slot");
        running.close();
        assertTrue(waiting.backlog(1, false), "the waiting one follows back to back");
        waiting.close();
    }

    @Test
    void cachingStaysOnWhileOtherDeliveriesRunAndStopsWhenTheDestinationRunsDry() {
        deliver("smtp", HOP, 20, false);
        DestinationBacklog.Ticket a = table.enter("smtp", HOP);
        DestinationBacklog.Ticket b = table.enter("smtp", HOP);
        assertTrue(a.backlog(20, false), "back to back: on");
        later(3000);
        assertTrue(b.backlog(20, false), "not back to back any more, but a is still running: stays on");
        a.close();
        b.close();
        later(3000);
        DestinationBacklog.Ticket last = table.enter("smtp", HOP);
        assertFalse(last.backlog(20, false), "alone and 3s after the last: off, its session is not stored");
        last.close();
    }

    @Test
    void moreBatchesOfTheSameMessageAreABacklogWithoutTurningCachingOn() {
        assertTrue(deliver("smtp", HOP, 20, true), "the recipient limit split the message: its next batch follows");
        later(2000);
        assertFalse(deliver("smtp", HOP, 20, false));
    }

    @Test
    void aDeliveryThatNeverGotASlotDoesNotCountAsFinished() {
        table.enter("smtp", HOP).close();   // deferred: concurrency limit reached
        assertFalse(deliver("smtp", HOP, 20, false));
    }

    @Test
    void eachTransportAndNextHopIsAQueueOfItsOwn() {
        deliver("smtp", HOP, 20, false);
        assertFalse(deliver("slow", HOP, 20, false), "smtp and slow to one host are two queues");
        assertFalse(deliver("smtp", NextHop.smtp("example.org", 25, true), 20, false));
        assertTrue(deliver("smtp", HOP, 20, false));
    }

    @Test
    void theTableIsBoundedAndForgetsIdleDestinationsFirst() {
        int max = DestinationBacklog.MAX_ENTRIES;
        List<DestinationBacklog.Ticket> busy = new ArrayList<>();
        for (int i = 0; i < max; i++) {
            NextHop hop = NextHop.smtp("d" + i + ".example", 25, true);
            if (i % 2 == 0) {
                busy.add(table.enter("smtp", hop));
            } else {
                deliver("smtp", hop, 20, false);
            }
        }
        assertEquals(max, table.size());
        later(2000);
        assertFalse(deliver("smtp", HOP, 20, false));
        assertEquals(max / 2 + 1, table.size(), "the idle half was dropped; the running half kept");
        for (int i = 0; table.size() < max; i++) {
            table.enter("smtp", NextHop.smtp("e" + i + ".example", 25, true));
        }
        // full of running destinations: a new one is not tracked; its own batches still count
        assertTrue(deliver("smtp", NextHop.smtp("new.example", 25, true), 20, true));
        assertFalse(deliver("smtp", NextHop.smtp("new.example", 25, true), 20, false));
        assertEquals(max, table.size());
        busy.forEach(DestinationBacklog.Ticket::close);
    }
}
