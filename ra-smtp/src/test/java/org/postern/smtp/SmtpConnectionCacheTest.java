package org.postern.smtp;

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
import org.postern.smtp.DeliveryOutcome.Status;

/** The connection cache as the session keeps it: reuse limit, idle time limit, caching off. */
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

    private static void send(SmtpClientSession s, int n) {
        for (int i = 0; i < n; i++) {
            assertEquals(Status.SENT, s.deliver(message("m" + i + "\r\n", "a@x.test")).recipients().get(0).status());
        }
    }

    @Test
    void aSessionIsRetiredAfterTheReuseLimit() throws IOException {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(new SmtpClientSettings.Cache(true, 2, Duration.ofSeconds(10)))) {
            send(s, 5);
            assertEquals(3, server.connections.get(), "2 + 2 + 1 transactions");
            assertEquals(5, server.messages.size());
            assertEquals(2, server.commands("RSET").size(), "RSET before each reuse");
        }
    }

    @Test
    void anIdleSessionOlderThanTheTimeLimitIsNotReused() throws Exception {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(new SmtpClientSettings.Cache(true, 0, Duration.ofMillis(200)))) {
            send(s, 2);
            assertEquals(1, server.connections.get(), "reused within the time limit");
            Thread.sleep(600);
            assertFalse(s.isConnected(), "the idle session was closed");
            send(s, 1);
            assertEquals(2, server.connections.get());
            assertTrue(s.isConnected());
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
    void withTheDefaultsTenMessagesTravelOverOneConnection() throws IOException {
        server = new FakeSmtpServer(false);
        try (SmtpClientSession s = session(SmtpClientSettings.Cache.defaults())) {
            send(s, 10);
            assertEquals(1, server.connections.get());
            assertFalse(s.isConnected(), "retired after smtp_connection_cache_reuse_limit = 10");
        }
    }
}
