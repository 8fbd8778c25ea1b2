package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.config.Parameters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;

/** The connection cache as the session keeps it: reuse count and time limits, idle time limit, caching off. */
class SmtpConnectionCacheTest {

    private FakeSmtpServer server;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private SmtpClientSession session(SmtpClientSettings.Cache cache) throws IOException {
        return new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), fast().withCache(cache));
    }

    /* quits - the QUIT commands the server has read, once there are {@code n} of them (or after 5 s) */
    private List<String> quits(int n) throws InterruptedException {
        for (int i = 0; i < 100 && server.commands("QUIT").size() < n; i++) {
            Thread.sleep(50);
        }
        return server.commands("QUIT");
    }

    private static void send(SmtpClientSession s, int n) {
        for (int i = 0; i < n; i++) {
            assertEquals(Status.SENT, s.deliver(message("m" + i + "\r\n", "a@x.test")).recipients().get(0).status());
        }
    }

    @Test
    void aSessionIsRetiredAfterTheReuseCountLimit() throws Exception {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(new SmtpClientSettings.Cache(true, 2, Duration.ofSeconds(10)))) {
            send(s, 5);
            // smtp_connection_reuse_count_limit = 2: used once, reused twice
            assertEquals(2, server.connections.get(), "3 + 2 transactions");
            assertEquals(5, server.messages.size());
            assertEquals(List.of(), server.commands("RSET"), "no RSET after completed transactions");
            assertEquals(1, quits(1).size(), "the first session said QUIT at its limit");
        }
    }

    @Test
    void aSessionIsNotReusedOnceItsReuseTimeLimitHasPassed() throws Exception {
        server = new FakeSmtpServer(false);
        SmtpClientSettings.Cache cache = new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(10),
                Duration.ofMillis(400));
        try (SmtpClientSession s = session(cache)) {
            send(s, 3);
            assertEquals(1, server.connections.get());
            Thread.sleep(500);
            assertTrue(s.isConnected(), "still within smtp_connection_cache_time_limit");
            send(s, 2);
            assertEquals(2, server.connections.get(), "a session opened too long ago carries no new transaction");
            assertEquals(List.of("QUIT"), quits(1), "the old one was closed politely");
        }
    }

    @Test
    void aSessionThatPassesItsReuseTimeLimitDuringADeliveryIsNotCached() throws Exception {
        server = new FakeSmtpServer(false);
        SmtpClientSettings.Cache cache = new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(10),
                Duration.ofMillis(300));
        try (SmtpClientSession s = session(cache)) {
            send(s, 1);
            Thread.sleep(150);
            byte[] content = "slow\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            OutboundMessage slow = new OutboundMessage("QID2", "sender@client.test",
                    List.of(new OutboundMessage.OutboundRecipient("a@x.test", null, null)), content.length, () -> {
                        sleepQuietly(250);   // a slow queue file: the session ages during the delivery
                        return new java.io.ByteArrayInputStream(content);
                    }, null, null, false);
            assertEquals(Status.SENT, s.deliver(slow).recipients().get(0).status());
            assertFalse(s.isConnected(), "too old to wait in the cache for a transaction it may not carry");
            assertTrue(s.closedOnPurpose());
            assertEquals(List.of("QUIT"), quits(1));
            assertEquals(1, server.connections.get());
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void theReuseLimitsOfMainCfAsPostfix34HasThem() {
        org.postern.config.Config d = org.postern.config.Config.parse("", "main.cf");
        assertEquals(0, d.get(Parameters.SMTP_CONNECTION_REUSE_COUNT_LIMIT));
        assertEquals(0, d.get(Parameters.SMTP_CONNECTION_CACHE_REUSE_LIMIT), "the 2.2 name no longer caps reuse at 10");
        assertEquals(0, d.get(Parameters.LMTP_CONNECTION_REUSE_COUNT_LIMIT));
        assertEquals(Duration.ofSeconds(300), d.get(Parameters.SMTP_CONNECTION_REUSE_TIME_LIMIT));
        assertEquals(Duration.ofSeconds(300), d.get(Parameters.LMTP_CONNECTION_REUSE_TIME_LIMIT));
        // the older name follows the newer one unless it is set itself
        org.postern.config.Config c = org.postern.config.Config.parse("smtp_connection_reuse_count_limit = 7", "main.cf");
        assertEquals(7, c.get(Parameters.SMTP_CONNECTION_CACHE_REUSE_LIMIT));
        c = org.postern.config.Config.parse("smtp_connection_reuse_count_limit = 7\n"
                + "smtp_connection_cache_reuse_limit = 3", "main.cf");
        assertEquals(3, c.get(Parameters.SMTP_CONNECTION_CACHE_REUSE_LIMIT));
        assertEquals(Duration.ofSeconds(300), SmtpClientSettings.Cache.defaults().reuseTimeLimit());
        assertEquals(new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(2), Duration.ofSeconds(300), false),
                new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(2)),
                "the three-argument form means the default reuse time limit, and permanent caching");
        assertTrue(SmtpClientSettings.Cache.defaults().onDemand(), "smtp_connection_cache_on_demand = yes");
    }

    @Test
    void idleReapersLeaveTheWatchdogQueueWhenTheSessionIsUsedOrClosed() throws Exception {
        server = new FakeSmtpServer(false);
        int before = SmtpWatchdog.pending();
        try (SmtpClientSession s = session(new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(60)))) {
            send(s, 500);
            assertEquals(1, server.connections.get());
            // one reaper for the one idle cached session, not one per delivery
            assertTrue(SmtpWatchdog.pending() <= before + 1, "pending " + SmtpWatchdog.pending() + ", before " + before);
        }
        assertTrue(SmtpWatchdog.pending() <= before, "pending " + SmtpWatchdog.pending() + ", before " + before);
    }

    @Test
    void anIdleSessionOlderThanTheTimeLimitSaysQuitAndIsNotReused() throws Exception {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(new SmtpClientSettings.Cache(true, 0, Duration.ofMillis(200)))) {
            send(s, 2);
            assertEquals(1, server.connections.get(), "reused within the time limit");
            assertEquals(List.of(), server.commands("QUIT"));
            Thread.sleep(600);
            assertFalse(s.isConnected(), "the idle session was closed");
            assertTrue(s.closedOnPurpose(), "by the cache, not by a failure");
            assertEquals(List.of("QUIT"), quits(1), "closed politely, once");
            send(s, 1);
            assertEquals(2, server.connections.get());
            assertTrue(s.isConnected());
        }
        assertEquals(2, quits(2).size(), "and the second session on close");
    }

    @Test
    void anLmtpSessionStaysCachedForMaxIdleThenSaysQuit() throws Exception {
        server = new FakeSmtpServer(true);
        // lmtp_connection_cache_time_limit defaults to $max_idle: what main.cf says is what the session gets
        Duration idle = org.postern.config.Config.parse("max_idle = 1s", "main.cf")
                .get(Parameters.LMTP_CONNECTION_CACHE_TIME_LIMIT);
        assertEquals(Duration.ofSeconds(1), idle);
        SmtpClientSettings settings = fast().withSession(SmtpClientSettings.Session.defaults(true))
                .withCache(new SmtpClientSettings.Cache(true, 0, idle));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), settings)) {
            send(s, 2);
            Thread.sleep(600);
            assertTrue(s.isConnected(), "still cached within max_idle");
            send(s, 1);
            assertEquals(1, server.connections.get(), "three deliveries, one connection");
            Thread.sleep(1600);
            assertFalse(s.isConnected(), "idle for longer than max_idle");
            assertEquals(List.of("QUIT"), quits(1));
            assertEquals(List.of(), server.commands("RSET"), "LMTP: no RSET after completed transactions either");
        }
    }

    @Test
    void aPeerThatNeverAnswersTheIdleQuitDelaysNoDelivery() throws Exception {
        server = new FakeSmtpServer(true);
        server.on("QUIT", FakeSmtpServer.HANG);
        // lmtp_skip_quit_response = no: the reaper waits for a 221 that never comes (2 s quit timeout)
        SmtpClientSettings settings = fast().withSession(SmtpClientSettings.Session.defaults(true))
                .withCache(new SmtpClientSettings.Cache(true, 0, Duration.ofMillis(200)));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), settings)) {
            send(s, 1);
            Thread.sleep(500);
            assertEquals(1, quits(1).size(), "the QUIT went out");
            long start = System.nanoTime();
            send(s, 1);
            assertTrue(System.nanoTime() - start < 1_000_000_000L, "the next delivery did not wait for the QUIT reply");
            assertEquals(2, server.connections.get());
        }
    }

    @Test
    void withCachingOffEveryDeliveryHasItsOwnSession() throws IOException {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(new SmtpClientSettings.Cache(false, 10, Duration.ofSeconds(2)))) {
            send(s, 3);
            assertFalse(s.isConnected());
            assertEquals(3, server.connections.get());
            assertEquals(List.of(), server.commands("RSET"));
        }
    }

    @Test
    void withTheDefaultsManyMessagesTravelOverOneConnection() throws IOException {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(SmtpClientSettings.Cache.defaults())) {
            send(s, 50);
            assertEquals(1, server.connections.get(), "no reuse count limit by default (Postfix 3.4)");
            assertTrue(s.isConnected(), "still cached: only smtp_connection_reuse_time_limit (300s) retires it");
            assertEquals(List.of(), server.commands("RSET"));
        }
    }
}
