package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** queue_minfree's free-space figure: measured on the blocking executor, read at MAIL without waiting. */
class SpoolSpaceTest extends SessionConversation {
    private final List<Runnable> blockingTasks = new ArrayList<>();

    @Test
    void theFigureIsMeasuredOnTheBlockingExecutorOneMeasurementAtATime() {
        SpoolSpace space = SpoolSpace.background(spool.resolve("not/yet"), blockingTasks::add);
        assertEquals(SpoolSpace.UNKNOWN, space.free());
        assertTrue(blockingTasks.isEmpty(), "reading never measures");
        space.refresh();
        space.refresh();
        assertEquals(1, blockingTasks.size(), "one measurement at a time");
        blockingTasks.remove(0).run();
        assertTrue(space.free() > 0, "the nearest existing parent's file system");
        space.refresh();
        assertEquals(1, blockingTasks.size());
    }

    @Test
    void mailReadsTheSharedFigure() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.queueMinfree = 1_000_000;
        SmtpdSettings s = b.build();
        SpoolSpace space = SpoolSpace.background(spool, blockingTasks::add);

        // not measured yet: the check passes, as when the free space cannot be determined
        open(s, OUTSIDE);
        session.freeSpace(space);
        ehloMail("a@example.com");

        space.measure();
        open(s, OUTSIDE);
        session.freeSpace(space);
        ehloMail("a@example.com");
        assertTrue(blockingTasks.isEmpty(), "MAIL does not measure");

        // a figure below queue_minfree: 452, still without a measurement at MAIL
        b.queueMinfree = Long.MAX_VALUE / 4;
        open(b.build(), OUTSIDE);
        session.freeSpace(space);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("452 4.3.1 Insufficient system storage");
        assertTrue(blockingTasks.isEmpty());
    }
}
