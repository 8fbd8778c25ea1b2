package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;
import static org.postern.smtp.SmtpTestSupport.settings;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.OutboundMessage.OutboundRecipient;

/** Conversations of the client with a scripted server on 127.0.0.1. */
class SmtpClientSessionTest {

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

    private SmtpClientSession smtp(SmtpClientSettings s) throws IOException {
        session = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), s);
        return session;
    }

    private String peer() {
        return "127.0.0.1[127.0.0.1]";
    }

    private static void assertOutcome(RecipientOutcome o, Status status, String dsn, String reply) {
        assertEquals(status, o.status(), o.toString());
        assertEquals(dsn, o.dsn(), o.toString());
        assertEquals(reply, o.reply(), o.toString());
    }

    @Test
    void deliversWithPipeliningInOneWriteAndExactBytes() throws IOException {
        server = new FakeSmtpServer(false);
        String content = "Subject: t\r\n\r\n.hidden\r\nline\r\n..two\r\n.\r\n";
        DeliveryOutcome o = smtp(fast()).deliver(message(content, "a@x.test", "b@x.test"));
        assertEquals(peer() + ":" + server.port(), o.relay());
        for (RecipientOutcome r : o.recipients()) {
            assertOutcome(r, Status.SENT, "2.0.0", "250 2.0.0 Ok: queued as FAKE1");
        }
        assertEquals(List.of("CONNECT", "EHLO client.test", "MAIL FROM:<sender@client.test> SIZE=" + content.length(),
                "RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>", "DATA"), server.transcript);
        // MAIL, both RCPTs and DATA arrived in one write: each had more input behind it but the last
        assertEquals(List.of("MAIL FROM:<sender@client.test> SIZE=" + content.length(),
                "RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>"), server.pipelined);
        assertArrayEquals("Subject: t\r\n\r\n..hidden\r\nline\r\n...two\r\n..\r\n".getBytes(StandardCharsets.US_ASCII),
                server.messages.get(0));
        assertTrue(session.isConnected());
    }

    @Test
    void deliversWithoutPipeliningOneCommandAtATime() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("8BITMIME");
        byte[] body = "8bit: \u00e9\r\n".getBytes(StandardCharsets.UTF_8);
        DeliveryOutcome o = smtp(fast()).deliver(message(body, true, "a@x.test"));
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertEquals(List.of("CONNECT", "EHLO client.test", "MAIL FROM:<sender@client.test> BODY=8BITMIME",
                "RCPT TO:<a@x.test>", "DATA"), server.transcript);
        assertEquals(List.of(), server.pipelined);
        assertArrayEquals(body, server.messages.get(0));
    }

    @Test
    void sendsDsnParametersOnlyWhenOffered() throws IOException {
        server = new FakeSmtpServer(false);
        OutboundMessage m = new OutboundMessage("Q", "", List.of(new OutboundRecipient("a@x.test", "rfc822;a@x.test",
                "SUCCESS,FAILURE")), 3, () -> new ByteArrayInputStream("x\r\n".getBytes()), "ENV1", "HDRS", false);
        smtp(fast()).deliver(m);
        assertEquals(List.of("MAIL FROM:<> SIZE=3 RET=HDRS ENVID=ENV1"), server.commands("MAIL"));
        assertEquals(List.of("RCPT TO:<a@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@x.test"), server.commands("RCPT"));
        server.close();
        session.close();
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING");
        smtp(fast()).deliver(m);
        assertEquals(List.of("MAIL FROM:<>"), server.commands("MAIL"));
        assertEquals(List.of("RCPT TO:<a@x.test>"), server.commands("RCPT"));
    }

    @Test
    void a5xxGreetingSkipsTheServerAndDefers() throws IOException {
        server = new FakeSmtpServer(false);
        server.greeting = "554 5.7.1 go away";
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test"));
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.7.1",
                "host " + peer() + " refused to talk to me: 554 5.7.1 go away");
        assertFalse(session.isConnected());
    }

    @Test
    void a4xxGreetingDefers() throws IOException {
        server = new FakeSmtpServer(false);
        server.greeting = "421 busy";
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test"));
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.0.0",
                "host " + peer() + " refused to talk to me: 421 busy");
    }

    @Test
    void fallsBackToHeloWhenEhloIsRejected() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("EHLO", "502 5.5.2 Error: command not recognized");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test"));
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertEquals(List.of("CONNECT", "EHLO client.test", "HELO client.test", "MAIL FROM:<sender@client.test>",
                "RCPT TO:<a@x.test>", "DATA"), server.transcript);
    }

    @Test
    void a4xxToEhloDefersInReplyToEhlo() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("EHLO", "421 4.3.2 shutting down");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test"));
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.3.2",
                "host " + peer() + " said: 421 4.3.2 shutting down (in reply to EHLO command)");
    }

    @Test
    void aRejectedHeloBounces() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("EHLO", "500 no").on("HELO", "550 5.7.1 not you");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test"));
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.7.1",
                "host " + peer() + " said: 550 5.7.1 not you (in reply to HELO command)");
    }

    @Test
    void aMailRejectAppliesToEveryRecipientAndNoContentIsSent() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("MAIL", "553 5.7.1 <sender@client.test>: Sender address rejected").on("RCPT", "503 5.5.1 Error: need MAIL command");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        for (RecipientOutcome r : o.recipients()) {
            assertOutcome(r, Status.BOUNCED, "5.7.1", "host " + peer()
                    + " said: 553 5.7.1 <sender@client.test>: Sender address rejected (in reply to MAIL FROM command)");
        }
        assertTrue(server.messages.isEmpty());
        assertTrue(session.isConnected());
    }

    @Test
    void a4xxToMailDefersEveryRecipientWithoutPipelining() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of();
        server.on("MAIL", "451 4.3.0 try later");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        for (RecipientOutcome r : o.recipients()) {
            assertOutcome(r, Status.DEFERRED, "4.3.0", "host " + peer() + " said: 451 4.3.0 try later (in reply to MAIL FROM command)");
        }
        assertEquals(List.of(), server.commands("RCPT"));
    }

    @Test
    void eachRecipientGetsItsOwnRcptOutcome() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("RCPT TO:<unknown@", "550 5.1.1 <unknown@x.test>... User unknown")
                .on("RCPT TO:<busy@", "450 busy")
                .on(".", "250 2.0.0 Ok: queued as X");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "unknown@x.test", "busy@x.test", "ok@x.test"));
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.1.1",
                "host " + peer() + " said: 550 5.1.1 <unknown@x.test>... User unknown (in reply to RCPT TO command)");
        assertOutcome(o.recipients().get(1), Status.DEFERRED, "4.0.0",
                "host " + peer() + " said: 450 busy (in reply to RCPT TO command)");
        assertOutcome(o.recipients().get(2), Status.SENT, "2.0.0", "250 2.0.0 Ok: queued as X");
    }

    @Test
    void noAcceptedRecipientMeansNoData() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("ENHANCEDSTATUSCODES");
        server.on("RCPT", "550 5.1.1 no such user");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        assertEquals(List.of(Status.BOUNCED, Status.BOUNCED), o.recipients().stream().map(RecipientOutcome::status).toList());
        assertEquals(List.of(), server.commands("DATA"));
        assertTrue(server.messages.isEmpty());
    }

    @Test
    void aDataRejectAppliesToTheAcceptedRecipients() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("RCPT TO:<b@", "550 5.1.1 no").on("DATA", "554 5.5.1 Error: no way");
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.5.1",
                "host " + peer() + " said: 554 5.5.1 Error: no way (in reply to DATA command)");
        assertEquals("host " + peer() + " said: 550 5.1.1 no (in reply to RCPT TO command)", o.recipients().get(1).reply());
    }

    @ParameterizedTest
    @CsvSource({"552 5.3.4 Message too big, BOUNCED, 5.3.4", "451 4.3.0 Error: queue file write error, DEFERRED, 4.3.0"})
    void anEndOfDataRejectAppliesToEveryRecipient(String reply, Status status, String dsn) throws IOException {
        server = new FakeSmtpServer(false);
        server.on(".", reply);
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        for (RecipientOutcome r : o.recipients()) {
            assertOutcome(r, status, dsn, "host " + peer() + " said: " + reply + " (in reply to end of DATA command)");
        }
    }

    @Test
    void lmtpGivesOneReplyPerAcceptedRecipient() throws IOException {
        server = new FakeSmtpServer(true);
        server.on(".", "250 2.0.0 <a@x.test> Saved\n452 4.2.2 <b@x.test> Mailbox full\n550 5.1.1 <c@x.test> User unknown");
        session = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), fast());
        DeliveryOutcome o = session.deliver(message("x\r\n", "a@x.test", "b@x.test", "c@x.test"));
        assertEquals("LHLO client.test", server.transcript.get(1));
        assertOutcome(o.recipients().get(0), Status.SENT, "2.0.0", "250 2.0.0 <a@x.test> Saved");
        assertOutcome(o.recipients().get(1), Status.DEFERRED, "4.2.2",
                "host " + peer() + " said: 452 4.2.2 <b@x.test> Mailbox full (in reply to end of DATA command)");
        assertOutcome(o.recipients().get(2), Status.BOUNCED, "5.1.1",
                "host " + peer() + " said: 550 5.1.1 <c@x.test> User unknown (in reply to end of DATA command)");
        assertTrue(session.isConnected());
    }

    @Test
    void lmtpSkipsRecipientsRejectedAtRcptWhenCountingReplies() throws IOException {
        server = new FakeSmtpServer(true);
        server.on("RCPT TO:<b@", "550 5.1.1 <b@x.test> unknown");
        session = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), fast());
        DeliveryOutcome o = session.deliver(message("x\r\n", "a@x.test", "b@x.test", "c@x.test"));
        assertEquals(List.of(Status.SENT, Status.BOUNCED, Status.SENT),
                o.recipients().stream().map(RecipientOutcome::status).toList());
        assertEquals("250 2.0.0 <c@x.test> Saved", o.recipients().get(2).reply());
    }

    @Test
    void lmtpOverAUnixDomainSocket() throws IOException {
        Path dir = Files.createTempDirectory("postern-lmtp");
        Path sock = dir.resolve("lmtp");
        try {
            server = new FakeSmtpServer(true, UnixDomainSocketAddress.of(sock));
            session = new SmtpClientSession(NextHop.lmtpUnix(sock.toString()), fast());
            DeliveryOutcome o = session.deliver(message("hello\r\n", "a@x.test"));
            // Postfix writes relay=host[/path] for a socket
            assertEquals("client.test[" + sock + "]", o.relay());
            assertOutcome(o.recipients().get(0), Status.SENT, "2.0.0", "250 2.0.0 <a@x.test> Saved");
            assertArrayEquals("hello\r\n".getBytes(), server.messages.get(0));
        } finally {
            server.close();
            server = null;
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aUnixSocketTimeoutIsEnforcedByTheWatchdog() throws IOException {
        Path dir = Files.createTempDirectory("postern-lmtp");
        Path sock = dir.resolve("lmtp");
        try {
            server = new FakeSmtpServer(true, UnixDomainSocketAddress.of(sock));
            server.on("RCPT", FakeSmtpServer.HANG);
            session = new SmtpClientSession(NextHop.lmtpUnix(sock.toString()), settings(200));
            long t0 = System.nanoTime();
            DeliveryOutcome o = session.deliver(message("x\r\n", "a@x.test"));
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.4.2",
                    "conversation with client.test[" + sock + "] timed out while sending RCPT TO");
            assertFalse(session.isConnected());
        } finally {
            server.close();
            server = null;
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aMissingUnixSocketDefers() {
        session = new SmtpClientSession(NextHop.lmtpUnix("/nonexistent/postern/lmtp"), fast());
        DeliveryOutcome o = session.deliver(message("x\r\n", "a@x.test"));
        assertEquals("none", o.relay());
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.4.1",
                "connect to client.test[/nonexistent/postern/lmtp]: No such file or directory");
    }

    @Test
    void connectionRefusedDefersEveryRecipient() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        session = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), fast());
        DeliveryOutcome o = session.deliver(message("x\r\n", "a@x.test", "b@x.test"));
        assertEquals("none", o.relay());
        for (RecipientOutcome r : o.recipients()) {
            assertOutcome(r, Status.DEFERRED, "4.4.1", "connect to " + peer() + ":" + port + ": Connection refused");
        }
    }

    @ParameterizedTest
    @CsvSource({
            "GREETING, receiving the initial server greeting",
            "EHLO, performing the EHLO handshake",
            "MAIL, sending MAIL FROM",
            "RCPT, sending RCPT TO",
            "DATA, sending DATA command",
            "., sending end of data -- message may be sent more than once"})
    void aTimeoutDefersWithTheStage(String verb, String doing) throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of();   // one command at a time: every stage has its own read
        if (verb.equals("GREETING")) {
            server.greeting = FakeSmtpServer.HANG;
        } else {
            server.on(verb, FakeSmtpServer.HANG);
        }
        long t0 = System.nanoTime();
        DeliveryOutcome o = smtp(settings(200)).deliver(message("x\r\n", "a@x.test"));
        assertTrue(System.nanoTime() - t0 < 3_000_000_000L, "the 200 ms limit was enforced");
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.4.2", "conversation with " + peer() + " timed out while " + doing);
        assertFalse(session.isConnected());
    }

    @Test
    void aStalledReaderTimesOutTheContentTransfer() throws IOException {
        server = new FakeSmtpServer(false);
        server.stallAfterData = true;
        server.ehloKeywords = List.of("PIPELINING");
        byte[] big = ("z".repeat(78) + "\r\n").repeat(400_000).getBytes(StandardCharsets.US_ASCII); // 32 MB
        long t0 = System.nanoTime();
        DeliveryOutcome o = smtp(settings(300)).deliver(message(big, false, "a@x.test"));
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.4.2",
                "conversation with " + peer() + " timed out while sending message body");
    }

    @Test
    void aLostConnectionAfterTheDotMayDuplicate() throws IOException {
        server = new FakeSmtpServer(false);
        server.on(".", FakeSmtpServer.CLOSE);
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test"));
        assertOutcome(o.recipients().get(0), Status.DEFERRED, "4.4.2",
                "lost connection with " + peer() + " while sending end of data -- message may be sent more than once");
        assertFalse(session.isConnected());
    }

    @Test
    void aLostConnectionAtRcptKeepsEarlierOutcomes() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of();
        server.on("RCPT TO:<a@", "550 5.1.1 gone").on("RCPT TO:<b@", FakeSmtpServer.CLOSE);
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        assertEquals(Status.BOUNCED, o.recipients().get(0).status());
        assertOutcome(o.recipients().get(1), Status.DEFERRED, "4.4.2", "lost connection with " + peer() + " while sending RCPT TO");
    }

    @Test
    void reusesTheSessionWithoutRsetAfterACompletedTransaction() throws IOException {
        server = new FakeSmtpServer(false);
        smtp(fast());
        assertEquals(Status.SENT, session.deliver(message("one\r\n", "a@x.test")).recipients().get(0).status());
        assertEquals(Status.SENT, session.deliver(message("two\r\n", "b@x.test")).recipients().get(0).status());
        assertEquals(1, server.connections.get());
        assertEquals(2, session.transactions());
        // RFC 5321 section 4.1.1.4: the reply to end of data reset the server; the next MAIL FROM follows at once
        assertEquals(List.of("CONNECT", "EHLO client.test", "MAIL FROM:<sender@client.test> SIZE=5",
                "RCPT TO:<a@x.test>", "DATA", "MAIL FROM:<sender@client.test> SIZE=5", "RCPT TO:<b@x.test>", "DATA"),
                server.transcript);
        session.close();
        // smtp_skip_quit_response = yes: close() does not wait until the server has read QUIT
        for (int i = 0; i < 100 && !server.transcript.get(server.transcript.size() - 1).equals("QUIT"); i++) {
            sleep(20);
        }
        assertEquals("QUIT", server.transcript.get(server.transcript.size() - 1));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aTransactionWithoutAcceptedRecipientsIsResetBeforeTheSessionIsCached() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("RCPT TO:<gone@", "550 5.1.1 gone");
        smtp(fast());
        assertEquals(Status.BOUNCED, session.deliver(message("one\r\n", "gone@x.test")).recipients().get(0).status());
        // RSET at once, as Postfix does after an aborted transaction, not before the next use
        assertEquals("RSET", server.transcript.get(server.transcript.size() - 1), server.transcript.toString());
        assertTrue(session.isConnected());
        assertEquals(Status.SENT, session.deliver(message("two\r\n", "b@x.test")).recipients().get(0).status());
        assertEquals(Status.SENT, session.deliver(message("three\r\n", "c@x.test")).recipients().get(0).status());
        assertEquals(1, server.commands("RSET").size(), "only after the incomplete transaction");
        assertEquals(1, server.connections.get());
    }

    @Test
    void aFailedRsetRetiresTheSessionAndTheNextDeliveryOpensANewOne() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("RCPT TO:<gone@", "550 5.1.1 gone").on("RSET", "421 4.4.2 idle too long");
        smtp(fast());
        assertEquals(Status.BOUNCED, session.deliver(message("one\r\n", "gone@x.test")).recipients().get(0).status());
        assertFalse(session.isConnected(), "not cached after a failed RSET");
        assertFalse(session.closedOnPurpose(), "a failure: the pool destroys the managed connection");
        DeliveryOutcome second = session.deliver(message("two\r\n", "b@x.test"));
        assertEquals(Status.SENT, second.recipients().get(0).status());
        assertEquals(2, server.connections.get());
        assertEquals(1, server.messages.size());
    }

    @Test
    void aRsetTimeoutAlsoRetiresTheSession() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("RCPT TO:<gone@", "450 4.2.0 try later").on("RSET", FakeSmtpServer.HANG);
        smtp(settings(200));
        long start = System.nanoTime();
        RecipientOutcome r = session.deliver(message("one\r\n", "gone@x.test")).recipients().get(0);
        assertEquals(Status.DEFERRED, r.status());
        assertTrue(System.nanoTime() - start < 1_500_000_000L, "bounded by smtp_rset_timeout");
        assertFalse(session.isConnected());
        assertEquals(Status.SENT, session.deliver(message("two\r\n", "b@x.test")).recipients().get(0).status());
        assertEquals(2, server.connections.get());
    }

    @Test
    void aCachedSessionThatTheServerClosedIsReplacedWithoutDeferringTheMessage() throws Exception {
        for (boolean pipelining : new boolean[] {true, false}) {
            server = new FakeSmtpServer(false);
            if (!pipelining) {
                server.ehloKeywords = List.of("8BITMIME");
            }
            smtp(fast());
            assertEquals(Status.SENT, session.deliver(message("one\r\n", "a@x.test")).recipients().get(0).status());
            server.dropConnections();   // e.g. the server's idle timeout, unnoticed by the client
            sleep(100);
            DeliveryOutcome o = session.deliver(message("two\r\n", "b@x.test"));
            assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
            assertEquals(2, server.connections.get());
            assertEquals(2, server.messages.size());
            assertTrue(session.isConnected());
            session.close();
            server.close();
        }
    }

    @Test
    void aCachedSessionWhoseServerSpokeWhileIdleIsNotReused() throws Exception {
        server = new FakeSmtpServer(false);
        server.on(".", "250 2.0.0 Ok: queued\r\n421 4.4.2 fake.test Error: timeout exceeded");
        smtp(fast());
        assertEquals(Status.SENT, session.deliver(message("one\r\n", "a@x.test")).recipients().get(0).status());
        sleep(100);
        assertEquals(Status.SENT, session.deliver(message("two\r\n", "b@x.test")).recipients().get(0).status());
        assertEquals(2, server.connections.get(), "the 421 waiting in the socket retired the cached session");
        assertEquals(List.of(), server.commands("RSET"));
    }

    @Test
    void aMessageLargerThanTheServerSizeLimitBouncesWithoutMail() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING", "SIZE 1000");
        DeliveryOutcome o = smtp(fast()).deliver(message("x".repeat(4998) + "\r\n", "a@x.test"));
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.3.4",
                "message size 5000 exceeds size limit 1000 of server " + peer());
        assertEquals(List.of(), server.commands("MAIL"));
        assertTrue(session.isConnected());
    }

    @Test
    void withoutSmtputf8OnlyTheRecipientsThatNeedItBounce() throws IOException {
        server = new FakeSmtpServer(false);
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "j\u00f6rg@x.test", "joerg@x.test"));
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.6.7",
                "SMTPUTF8 is required, but was not offered by host " + peer());
        assertEquals(Status.SENT, o.recipients().get(1).status(), o.toString());
        assertEquals(List.of("RCPT TO:<joerg@x.test>"), server.commands("RCPT"));
        // a sender that needs UTF-8 fails the whole message
        session.close();
        OutboundMessage utf8Sender = new OutboundMessage("Q1", "s\u00e9nder@client.test",
                List.of(new OutboundMessage.OutboundRecipient("joerg@x.test", null, null)), 3,
                () -> new java.io.ByteArrayInputStream("x\r\n".getBytes(StandardCharsets.US_ASCII)), null, null, false);
        o = smtp(fast()).deliver(utf8Sender);
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.6.7",
                "SMTPUTF8 is required, but was not offered by host " + peer());
    }

    @Test
    void nonAsciiAddressesNeedSmtputf8() throws IOException {
        server = new FakeSmtpServer(false);
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "j\u00f6rg@x.test"));
        assertOutcome(o.recipients().get(0), Status.BOUNCED, "5.6.7",
                "SMTPUTF8 is required, but was not offered by host " + peer());
        session.close();
        server.close();
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("SMTPUTF8", "8BITMIME");
        o = smtp(fast()).deliver(message("x\r\n", "j\u00f6rg@x.test"));
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertEquals(List.of("MAIL FROM:<sender@client.test> SMTPUTF8"), server.commands("MAIL"));
    }

    @Test
    void addressesWithLineBreaksAreNeverSent() throws IOException {
        server = new FakeSmtpServer(false);
        DeliveryOutcome o = smtp(fast()).deliver(message("x\r\n", "a@x.test>\r\nRSET", "b@x.test"));
        assertEquals(Status.BOUNCED, o.recipients().get(0).status());
        assertEquals(Status.SENT, o.recipients().get(1).status());
        assertEquals(List.of("RCPT TO:<b@x.test>"), server.commands("RCPT"));
    }

    @Test
    void longLinesAreFoldedOnTheWire() throws IOException {
        server = new FakeSmtpServer(false);
        String line = "a".repeat(1500);
        smtp(fast()).deliver(message(line + "\r\n", "a@x.test"));
        assertArrayEquals((line.substring(0, 998) + "\r\n " + line.substring(998) + "\r\n").getBytes(),
                server.messages.get(0));
    }

    /**
     * syslog_name: the client's mail log lines (here the debug_peer_list transcript) carry the
     * ident syslog_name/smtp or syslog_name/lmtp of the delivery service's configuration
     * (main.cf with the -o overrides of its master.cf line), on the daemon's logger.
     */
    @ParameterizedTest
    @CsvSource({"false, postern, postern/smtp", "false, postfix-out, postfix-out/smtp",
            "true, postfix/lmtp-in, postfix/lmtp-in/lmtp"})
    void mailLogLinesCarryTheServicesSyslogName(boolean lmtp, String syslogName, String ident) throws IOException {
        server = new FakeSmtpServer(lmtp);
        org.postern.config.Config main = org.postern.config.Config.parse("myhostname = client.test\n"
                + "inet_interfaces = 127.0.0.1\ndebug_peer_list = 127.0.0.1", "main.cf");
        org.postern.config.Config service = syslogName.equals("postern") ? main
                : main.withOverrides(java.util.Map.of("syslog_name", syslogName), "master.cf");
        NextHop hop = lmtp ? NextHop.lmtpInet("127.0.0.1", server.port())
                : NextHop.smtp("127.0.0.1", server.port(), false);
        SmtpClientSettings s = (lmtp ? org.postern.smtp.api.SmtpClientParameters.LMTP
                : org.postern.smtp.api.SmtpClientParameters.SMTP).settings(service, hop);
        assertEquals(syslogName, s.syslogName());
        List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger daemon = java.util.logging.Logger.getLogger("postern.maillog." + (lmtp ? "lmtp" : "smtp"));
        daemon.addHandler(capture);
        try {
            session = new SmtpClientSession(hop, s);
            assertEquals(Status.SENT, session.deliver(message("x\r\n", "a@x.test")).recipients().get(0).status());
        } finally {
            daemon.removeHandler(capture);
        }
        assertTrue(records.stream().anyMatch(r -> r.getMessage().startsWith("> 127.0.0.1[127.0.0.1]")),
                records.stream().map(java.util.logging.LogRecord::getMessage).toList().toString());
        for (java.util.logging.LogRecord r : records) {
            assertEquals(ident, r.getSourceClassName(), r.getMessage());
        }
    }
}
