package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.config.Config;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;

/**
 * CHUNKING (RFC 3030) in the client, against the scripted server: a server that announces
 * it gets BDAT chunks of exact octet counts (no dot-stuffing, CRLF line ends), the last
 * with LAST; a refused chunk stops the content; LMTP gets one reply per recipient after
 * BDAT LAST; smtp_discard_ehlo_keywords = chunking brings DATA back.
 */
class SmtpClientChunkingTest {

    private static final List<String> CHUNKING = List.of("PIPELINING", "SIZE 10240000", "CHUNKING", "8BITMIME",
            "ENHANCEDSTATUSCODES");

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

    private SmtpClientSession open(boolean lmtp, SmtpClientSettings s) throws IOException {
        session = new SmtpClientSession(lmtp ? NextHop.lmtpInet("127.0.0.1", server.port())
                : NextHop.smtp("127.0.0.1", server.port(), false), s);
        return session;
    }

    /* big - a message of about {@code size} octets whose lines start with "." now and then */
    private static String big(int size) {
        StringBuilder b = new StringBuilder("Subject: big\r\n\r\n");
        for (int i = 0; b.length() < size; i++) {
            b.append(i % 5 == 0 ? "." : "").append("line ").append(i).append(" 0123456789abcdefghijklmnopqrstuvwxyz\r\n");
        }
        return b.toString();
    }

    @ParameterizedTest
    @CsvSource({"false", "true"})
    void aServerThatOffersChunkingGetsBdatWithTheExactOctets(boolean lmtp) throws IOException {
        server = new FakeSmtpServer(lmtp);
        server.ehloKeywords = CHUNKING;
        String content = "Subject: t\r\n\r\n.dot\r\nline\nbare LF\r\n.\r\n";
        String sent = "Subject: t\r\n\r\n.dot\r\nline\r\nbare LF\r\n.\r\n";   // CRLF everywhere, no dot-stuffing
        DeliveryOutcome o = open(lmtp, fast()).deliver(message(content, "a@x.test", "b@x.test"));
        for (RecipientOutcome r : o.recipients()) {
            assertEquals(Status.SENT, r.status(), r.toString());
        }
        assertEquals(List.of("CONNECT", (lmtp ? "LHLO" : "EHLO") + " client.test",
                "MAIL FROM:<sender@client.test> SIZE=" + content.length(), "RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>",
                "BDAT " + sent.length() + " LAST"), server.transcript);
        // MAIL and RCPT pipelined as with DATA; BDAT waits for the RCPT replies (nothing behind the last
        // RCPT), and its octets follow the BDAT line in one write
        assertEquals(List.of("MAIL FROM:<sender@client.test> SIZE=" + content.length(), "RCPT TO:<a@x.test>",
                "BDAT " + sent.length() + " LAST"), server.pipelined);
        assertArrayEquals(sent.getBytes(StandardCharsets.US_ASCII), server.messages.get(0));
        assertTrue(session.isConnected());
        // the transaction ended with the reply to BDAT LAST: the next message needs no RSET
        assertEquals(Status.SENT, session.deliver(message("x\r\n", "c@x.test")).recipients().get(0).status());
        assertTrue(server.commands("RSET").isEmpty(), server.transcript.toString());
        assertArrayEquals("x\r\n".getBytes(StandardCharsets.US_ASCII), server.messages.get(1));
    }

    @ParameterizedTest
    @CsvSource({"true, false", "false, false", "true, true", "false, true"})
    void aLargeMessageGoesIn64KiBChunks(boolean pipelining, boolean lmtp) throws IOException {
        server = new FakeSmtpServer(lmtp);
        server.ehloKeywords = pipelining ? CHUNKING : List.of("CHUNKING", "8BITMIME");
        String content = big(300_000);
        DeliveryOutcome o = open(lmtp, fast()).deliver(message(content, "a@x.test", "b@x.test"));
        for (RecipientOutcome r : o.recipients()) {
            assertEquals(Status.SENT, r.status(), r.toString());
        }
        int n = content.length();
        assertEquals(List.of(65536, 65536, 65536, 65536, n - 4 * 65536), server.chunks);
        assertEquals(List.of("BDAT 65536", "BDAT 65536", "BDAT 65536", "BDAT 65536", "BDAT " + (n - 4 * 65536) + " LAST"),
                server.commands("BDAT"));
        assertArrayEquals(content.getBytes(StandardCharsets.US_ASCII), server.messages.get(0));
    }

    @Test
    void aRefusedChunkEndsTheTransactionWithTheServersReplyAndNoMoreChunks() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = CHUNKING;
        server.on("BDAT 65536", "552 5.3.4 Error: message file too big");
        DeliveryOutcome o = open(false, fast()).deliver(message(big(300_000), "a@x.test"));
        RecipientOutcome r = o.recipients().get(0);
        assertEquals(Status.BOUNCED, r.status(), r.toString());
        assertEquals("5.3.4", r.dsn());
        assertTrue(r.reply().contains("552 5.3.4 Error: message file too big (in reply to BDAT command)"), r.reply());
        // the first chunk's refusal is read while the second is on its way; no third, no LAST
        assertEquals(List.of("BDAT 65536", "BDAT 65536"), server.commands("BDAT"));
        assertTrue(server.messages.isEmpty());
        // the session is reset and used again
        assertEquals(Status.SENT, session.deliver(message("x\r\n", "b@x.test")).recipients().get(0).status());
        assertEquals(List.of("RSET"), server.commands("RSET"));
        assertEquals(1, server.connections.get());
    }

    @Test
    void noRecipientAcceptedNoBdat() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = CHUNKING;
        server.on("RCPT", "550 5.1.1 <a@x.test>: Recipient address rejected: User unknown");
        DeliveryOutcome o = open(false, fast()).deliver(message("x\r\n", "a@x.test"));
        assertEquals(Status.BOUNCED, o.recipients().get(0).status());
        assertTrue(server.commands("BDAT").isEmpty(), server.transcript.toString());
        assertTrue(server.commands("DATA").isEmpty(), server.transcript.toString());
    }

    @Test
    void lmtpGetsOneReplyPerRecipientAfterBdatLast() throws IOException {
        server = new FakeSmtpServer(true);
        server.ehloKeywords = CHUNKING;
        server.on(".", "250 2.0.0 <a@x.test> Saved\n452 4.2.2 <b@x.test> Mailbox full");
        DeliveryOutcome o = open(true, fast()).deliver(message("x\r\n", "a@x.test", "b@x.test"));
        assertEquals(Status.SENT, o.recipients().get(0).status());
        RecipientOutcome b = o.recipients().get(1);
        assertEquals(Status.DEFERRED, b.status());
        assertTrue(b.reply().contains("452 4.2.2 <b@x.test> Mailbox full (in reply to BDAT LAST command)"), b.reply());
        assertTrue(session.isConnected());
    }

    @Test
    void discardingTheChunkingKeywordBringsDataBack() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = CHUNKING;
        SmtpClientSettings s = SmtpClientParameters.SMTP.settings(
                Config.parse("smtp_discard_ehlo_keywords = chunking\nsmtp_helo_name = client.test\n", "main.cf"),
                NextHop.smtp("127.0.0.1", server.port(), false));
        DeliveryOutcome o = open(false, s).deliver(message("Subject: t\r\n\r\n.dot\r\n", "a@x.test"));
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertTrue(server.commands("BDAT").isEmpty(), server.transcript.toString());
        assertFalse(server.commands("DATA").isEmpty(), server.transcript.toString());
        assertArrayEquals("Subject: t\r\n\r\n..dot\r\n".getBytes(StandardCharsets.US_ASCII), server.messages.get(0));
    }
}
