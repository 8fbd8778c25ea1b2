package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * GroupCommitTest - the leader/follower batching of GroupCommit: every item written once,
 * a sync after every write and before anyone is released, many items per sync under
 * concurrency, and one bad item failing alone.
 */
class GroupCommitTest {

    /** Recorder - a batch that writes into a list and checks the order of the calls. */
    static class Recorder implements GroupCommit.Batch<Integer> {
        final List<List<Integer>> written = Collections.synchronizedList(new ArrayList<>());
        final Set<Integer> synced = ConcurrentHashMap.newKeySet();
        final Set<Integer> durable = ConcurrentHashMap.newKeySet();
        final AtomicInteger syncs = new AtomicInteger();
        final List<Integer> unsynced = Collections.synchronizedList(new ArrayList<>());
        volatile int bad = -1;
        volatile boolean failSync;
        /** every write waits this long and then fails as a database that does not answer */
        volatile long hangMillis;
        final AtomicInteger writes = new AtomicInteger();

        @Override
        public void write(List<Integer> items) throws Exception {
            Thread.sleep(2); // a transaction takes time: followers pile up meanwhile
            writes.incrementAndGet();
            if (hangMillis > 0) {
                Thread.sleep(hangMillis);
                throw new java.sql.SQLException("An I/O error occurred while sending to the backend.", "08006",
                        new java.net.SocketTimeoutException("Read timed out"));
            }
            if (items.contains(bad)) {
                throw new IllegalStateException("bad item " + bad);
            }
            written.add(List.copyOf(items));
            unsynced.addAll(items);
        }

        @Override
        public void sync() throws Exception {
            Thread.sleep(1);
            if (failSync) {
                throw new java.sql.SQLException("fsync failed");
            }
            syncs.incrementAndGet();
            synchronized (unsynced) {
                synced.addAll(unsynced);
                unsynced.clear();
            }
        }

        @Override
        public void durable(List<Integer> items) {
            for (Integer i : items) {
                assertTrue(synced.contains(i), "durable before synced: " + i);
            }
            durable.addAll(items);
        }
    }

    @Test
    void everyItemIsWrittenOnceAndSyncedBeforeItsCallerGoesOn() throws Exception {
        GroupCommit<Integer> gc = new GroupCommit<>();
        Recorder r = new Recorder();
        int threads = 20;
        int each = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        Set<Integer> returnedDurable = ConcurrentHashMap.newKeySet();
        for (int t = 0; t < threads; t++) {
            int base = t * each;
            done.add(pool.submit(() -> {
                go.await();
                for (int i = base; i < base + each; i++) {
                    gc.submit(i, 64, r);
                    // the caller goes on (answers 250) only once its item is synced and published
                    assertTrue(r.synced.contains(i) && r.durable.contains(i), "item " + i);
                    returnedDurable.add(i);
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        List<Integer> all = new ArrayList<>();
        r.written.forEach(all::addAll);
        Collections.sort(all);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < threads * each; i++) {
            expected.add(i);
        }
        assertEquals(expected, all, "each item written exactly once");
        assertEquals(threads * each, returnedDurable.size());
        long[] counts = gc.counts();
        assertEquals(threads * each, counts[1]);
        // 20 writers against one 3 ms commit: many items share a sync
        assertTrue(r.syncs.get() < threads * each / 3, "syncs " + r.syncs.get() + " for " + threads * each + " items");
        assertTrue(r.written.stream().allMatch(b -> b.size() <= 64), "batch limit");
    }

    @Test
    void aBadItemFailsAloneAndItsNeighboursAreStored() throws Exception {
        GroupCommit<Integer> gc = new GroupCommit<>();
        Recorder r = new Recorder();
        r.bad = 7;
        ExecutorService pool = Executors.newFixedThreadPool(10);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int item = i;
            results.add(pool.submit(() -> {
                go.await();
                try {
                    gc.submit(item, 0, r);
                    return true;
                } catch (GroupCommit.StoreException e) {
                    return false;
                }
            }));
        }
        go.countDown();
        for (int i = 0; i < 10; i++) {
            assertEquals(i != 7, results.get(i).get(30, TimeUnit.SECONDS), "item " + i);
        }
        pool.shutdown();
        assertEquals(9, r.durable.size());
    }

    @Test
    void aFailedSyncFailsTheWholeBatch() {
        GroupCommit<Integer> gc = new GroupCommit<>();
        Recorder r = new Recorder();
        r.failSync = true;
        GroupCommit.StoreException e = assertThrows(GroupCommit.StoreException.class, () -> gc.submit(1, 0, r));
        assertTrue(e.getMessage().contains("fsync failed"), e.getMessage());
        assertTrue(r.durable.isEmpty(), "nothing published that is not on disk");
    }

    @Test
    void aDatabaseThatDoesNotAnswerFailsTheBatchOnceNotOncePerItem() throws Exception {
        GroupCommit<Integer> gc = new GroupCommit<>();
        Recorder r = new Recorder();
        r.hangMillis = 300;
        // the first item leads alone; the other nine pile up behind it and make one batch
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<Future<Long>> results = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int item = i;
            results.add(pool.submit(() -> {
                long t0 = System.nanoTime();
                assertThrows(GroupCommit.StoreException.class, () -> gc.submit(item, 0, r));
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            }));
            if (i == 0) {
                Thread.sleep(50);
            }
        }
        long slowest = 0;
        for (Future<Long> f : results) {
            slowest = Math.max(slowest, f.get(30, TimeUnit.SECONDS));
        }
        pool.shutdown();
        // two batches, one wait each; one at a time it would be 1 + 1 + 9 waits
        assertTrue(r.writes.get() <= 3, "writes: " + r.writes.get());
        assertTrue(slowest < 3 * r.hangMillis, "the slowest client waited " + slowest + " ms");
        assertTrue(r.durable.isEmpty());
    }

    @Test
    void unreachableIsAConnectionFailureNotABadMessage() {
        assertTrue(GroupCommit.unreachable(new RuntimeException(new java.sql.SQLException("io", "08006"))));
        assertTrue(GroupCommit.unreachable(new RuntimeException(new java.net.SocketTimeoutException("Read timed out"))));
        assertTrue(GroupCommit.unreachable(new java.sql.SQLTransientConnectionException("pool")));
        assertTrue(!GroupCommit.unreachable(new RuntimeException(new java.sql.SQLException("value too long", "22001"))));
        assertTrue(!GroupCommit.unreachable(new IllegalStateException("bad item")));
    }
}
