package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The anvil-like per-client counters, on a fake clock. */
class ClientConnectionLimiterTest {
    private long now;

    @Test
    void concurrencyLimit() {
        ClientConnectionLimiter l = new ClientConnectionLimiter(2, 0, Duration.ofSeconds(60), a -> false, () -> now);
        assertTrue(l.connect("192.0.2.1").admitted());
        assertTrue(l.connect("192.0.2.1").admitted());
        assertEquals(new ClientConnectionLimiter.Outcome(false, "concurrency", 3), l.connect("192.0.2.1"));
        assertTrue(l.connect("192.0.2.2").admitted(), "other clients are not affected");
        l.disconnect("192.0.2.1");
        assertTrue(l.connect("192.0.2.1").admitted());
    }

    @Test
    void rateLimitInWindows() {
        ClientConnectionLimiter l = new ClientConnectionLimiter(0, 2, Duration.ofSeconds(60), a -> false, () -> now);
        assertTrue(l.connect("192.0.2.1").admitted());
        l.disconnect("192.0.2.1");
        assertTrue(l.connect("192.0.2.1").admitted());
        l.disconnect("192.0.2.1");
        assertEquals(new ClientConnectionLimiter.Outcome(false, "rate", 3), l.connect("192.0.2.1"));
        now += Duration.ofSeconds(60).toNanos();
        assertTrue(l.connect("192.0.2.1").admitted(), "a new time unit");
    }

    @Test
    void exceptionsAndForgetting() {
        ClientConnectionLimiter l = new ClientConnectionLimiter(1, 0, Duration.ofSeconds(60),
                a -> a.equals("127.0.0.1"), () -> now);
        assertTrue(l.connect("127.0.0.1").admitted());
        assertTrue(l.connect("127.0.0.1").admitted());
        assertEquals(0, l.size());
        assertTrue(l.connect("192.0.2.1").admitted());
        now += Duration.ofSeconds(61).toNanos();
        l.disconnect("192.0.2.1");
        assertEquals(0, l.size(), "an idle client is forgotten");
    }
}
