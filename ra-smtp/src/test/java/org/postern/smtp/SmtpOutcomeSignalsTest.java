package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;

/**
 * What a delivery tells the queue manager besides the recipients' replies: which servers
 * announced DSN (success notices, RFC 3461 section 4.1) and whether the destination could
 * not be reached at all (the dead-destination cache).
 */
class SmtpOutcomeSignalsTest {

    private FakeSmtpServer server;
    private SmtpClientSession session;

    @AfterEach
    void tearDown() throws IOException {
        if (session != null) {
            session.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private DeliveryOutcome deliver(String... rcpts) throws IOException {
        session = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), fast());
        return session.deliver(message("x\r\n", rcpts));
    }

    @Test
    void aServerThatAnnouncesDsnIsNamed() throws IOException {
        server = new FakeSmtpServer(false);
        DeliveryOutcome o = deliver("a@x.test");
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertEquals(Set.of(o.relay()), o.dsnRelays());
        assertTrue(o.dsnAware(o.relay()));
        assertFalse(o.siteFailure());
    }

    @Test
    void aServerWithoutDsnIsNot() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING", "8BITMIME");
        DeliveryOutcome o = deliver("a@x.test");
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertEquals(Set.of(), o.dsnRelays());
        assertFalse(o.dsnAware(o.relay()));
    }

    @Test
    void aRecipientRefusedWith4xxIsNoSiteFailure() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("RCPT", "450 4.2.0 mailbox busy");
        DeliveryOutcome o = deliver("a@x.test");
        assertEquals(Status.DEFERRED, o.recipients().get(0).status());
        assertFalse(o.siteFailure(), "the server was reached");
    }

    @Test
    void a4xxGreetingIsASiteFailure() throws IOException {
        server = new FakeSmtpServer(false);
        server.greeting = "421 4.3.2 busy";
        DeliveryOutcome o = deliver("a@x.test", "b@x.test");
        assertEquals(Status.DEFERRED, o.recipients().get(1).status());
        assertTrue(o.siteFailure());
    }

    @Test
    void aRefusedConnectionIsASiteFailure() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        session = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), fast());
        DeliveryOutcome o = session.deliver(message("x\r\n", "a@x.test"));
        assertEquals("4.4.1", o.recipients().get(0).dsn());
        assertTrue(o.siteFailure());
    }
}
