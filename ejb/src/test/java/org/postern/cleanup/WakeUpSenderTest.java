package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * WakeUpSenderTest - the accepting thread never waits for a wake-up: while a send hangs (the
 * broker gone), submit returns at once, and the ids submitted meanwhile go together in the
 * next send; none is lost or sent twice.
 */
class WakeUpSenderTest {

    @Test
    void submitNeverWaitsForAHangingSendAndWhatCameMeanwhileGoesInOneSend() throws Exception {
        WakeUpSender sender = new WakeUpSender();
        ExecutorService executor = Executors.newCachedThreadPool();
        CountDownLatch hanging = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        List<List<String>> sent = new CopyOnWriteArrayList<>();
        try {
            sender.submit(List.of("A1"), executor, ids -> {
                sent.add(ids);
                entered.countDown();
                try {
                    hanging.await(30, TimeUnit.SECONDS); // the broker does not answer
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the first send started");

            long t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                sender.submit(List.of("B" + i), executor, ids -> sent.add(ids));
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 1000, "submit returned while the send hung: " + ms + " ms for 100");
            assertEquals(1, sent.size(), "nothing else sent while the first send hangs");

            hanging.countDown();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sent.stream().mapToInt(List::size).sum() < 101 && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            List<String> all = new ArrayList<>();
            sent.forEach(all::addAll);
            assertEquals(101, all.size(), "every id sent once: " + sent);
            assertEquals(101, all.stream().distinct().count(), "none twice");
            assertEquals(2, sent.size(), "what came during the hanging send went in one send: " + sent.size());
        } finally {
            hanging.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void aRefusedTaskIsSentByTheCaller() {
        WakeUpSender sender = new WakeUpSender();
        List<String> sent = new ArrayList<>();
        sender.submit(List.of("C1", "C2"), r -> {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }, sent::addAll);
        assertEquals(List.of("C1", "C2"), sent);
    }
}
