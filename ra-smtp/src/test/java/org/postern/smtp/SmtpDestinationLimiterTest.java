package org.postern.smtp;

import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;

/** Destination concurrency across threads (the delivery beans of one JVM). */
class SmtpDestinationLimiterTest {

    @Test
    void atMostTheLimitRunAtOnceAndTheRestWaitOrTimeOut() throws Exception {
        SmtpDestinationLimiter limiter = new SmtpDestinationLimiter();
        SmtpClientConnectionFactory.Permit a = limiter.acquire("smtp", "d.test:25", 2, Duration.ZERO);
        SmtpClientConnectionFactory.Permit b = limiter.acquire("smtp", "d.test:25", 2, Duration.ZERO);
        assertNotNull(a);
        assertNotNull(b);
        long t0 = System.nanoTime();
        assertNull(limiter.acquire("smtp", "d.test:25", 2, Duration.ofMillis(200)), "the third waits, then gives up");
        assertTrue(System.nanoTime() - t0 >= 190_000_000L);
        // other destinations and other transports have their own slots
        SmtpClientConnectionFactory.Permit other = limiter.acquire("smtp", "e.test:25", 2, Duration.ZERO);
        SmtpClientConnectionFactory.Permit lmtp = limiter.acquire("lmtp", "d.test:25", 2, Duration.ZERO);
        assertNotNull(other);
        assertNotNull(lmtp);
        // a waiter gets the slot as soon as one is released
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<SmtpClientConnectionFactory.Permit> waiter = pool.submit(
                () -> limiter.acquire("smtp", "d.test:25", 2, Duration.ofSeconds(5)));
        Thread.sleep(100);
        a.close();
        a.close();   // closing twice releases once
        SmtpClientConnectionFactory.Permit c = waiter.get(2, TimeUnit.SECONDS);
        assertNotNull(c);
        assertEquals(2, limiter.inUse("smtp", "d.test:25"));
        b.close();
        c.close();
        other.close();
        lmtp.close();
        pool.shutdown();
        assertEquals(0, limiter.size(), "idle destinations are forgotten");
        assertNotNull(limiter.acquire("smtp", "d.test:25", 0, Duration.ZERO), "0 = no limit");
    }

    @Test
    void parallelDeliveriesToOneDestinationNeverExceedTheLimitAtTheServer() throws Exception {
        SmtpDestinationLimiter limiter = new SmtpDestinationLimiter();
        try (FakeSmtpServer server = new FakeSmtpServer(false)) {
            AtomicInteger running = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            NextHop hop = NextHop.smtp("127.0.0.1", server.port(), false);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<Status>> results = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                results.add(pool.submit(() -> {
                    try (SmtpClientConnectionFactory.Permit p = limiter.acquire("smtp", hop.destination(), 3, Duration.ofSeconds(20))) {
                        int now = running.incrementAndGet();
                        peak.accumulateAndGet(now, Math::max);
                        try (SmtpClientSession s = new SmtpClientSession(hop, fast())) {
                            Thread.sleep(20);
                            return s.deliver(message("x\r\n", "a@x.test")).recipients().get(0).status();
                        } finally {
                            running.decrementAndGet();
                        }
                    }
                }));
            }
            for (Future<Status> f : results) {
                assertEquals(Status.SENT, f.get(30, TimeUnit.SECONDS));
            }
            pool.shutdown();
            assertEquals(3, peak.get(), "8 threads, limit 3");
            assertEquals(24, server.messages.size());
        }
    }
}
