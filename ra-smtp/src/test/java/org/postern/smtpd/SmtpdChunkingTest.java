package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** BDAT (RFC 3030) as conversations: chunks, LAST, errors that still consume the chunk. */
class SmtpdChunkingTest extends SessionConversation {

    private void transaction() {
        open(settings(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok");
    }

    private String body(int i) {
        String c = contents.get(i);
        return c.substring(c.indexOf("+0000 (UTC)\r\n") + 13);
    }

    @Test
    void chunksMakeOneMessageWithoutDotStuffing() {
        transaction();
        String first = "Subject: chunks\r\n\r\n.a line with a dot\r\n";
        String second = ".\r\nlast line without CRLF";
        raw("BDAT " + first.length() + "\r\n" + first);
        expect("250 2.0.0 Ok: " + first.length() + " bytes");
        raw("BDAT " + second.length() + " LAST\r\n" + second);
        assertEquals(1, replies.size());
        assertTrue(replies.get(0).startsWith("250 2.0.0 Ok: " + (first.length() + second.length())
                + " bytes queued as "), replies::toString);
        replies.clear();
        assertEquals("Subject: chunks\r\n\r\n.a line with a dot\r\n.\r\nlast line without CRLF\r\n", body(0));
        assertTrue(contents.get(0).contains(" with ESMTP id "));
        session.ended();
        expectLog("disconnect from unknown[192.0.2.1] ehlo=1 mail=1 rcpt=1 bdat=2 commands=5");
    }

    @Test
    void pipelinedChunkSplitAcrossReadsAndCommandsAfterIt() {
        transaction();
        String msg = "Subject: x\r\n\r\nbody\r\n";
        String all = "BDAT " + msg.length() + " LAST\r\n" + msg + "NOOP\r\nQUIT\r\n";
        raw(all.substring(0, 20));
        raw(all.substring(20));
        assertEquals(3, replies.size(), replies::toString);
        assertTrue(replies.get(0).startsWith("250 2.0.0 Ok: " + msg.length() + " bytes queued as "));
        assertEquals("250 2.0.0 Ok", replies.get(1));
        assertEquals("221 2.0.0 Bye", replies.get(2));
        assertEquals("Subject: x\r\n\r\nbody\r\n", body(0));
    }

    @Test
    void aChunkMayEndInTheMiddleOfALine() {
        // RFC 3030: a chunk is octets, and may end anywhere (Postern's client cuts at 64 KB).
        // The next command is a line of its own, never the rest of a content line, and the
        // content is the same as in one chunk: a header cut before its colon is still counted
        // (hopcount_limit), a CRLF cut between CR and LF is still one line end.
        transaction();
        String[] pieces = {"Received: from a by b; Sat, 21 Nov 2026 12:00:00 +0000\r\nRecei",
                "ved: from c by d; Sat, 21 Nov 2026 12:00:01 +0000\r\nSubject: cut\r",
                "\n\r\nbody li", "ne\r\n"};
        StringBuilder all = new StringBuilder();
        for (String p : pieces) {
            all.append(p);
        }
        for (int i = 0; i < pieces.length - 1; i++) {
            raw("BDAT " + pieces[i].length() + "\r\n" + pieces[i]);
            assertEquals("250 2.0.0 Ok: " + pieces[i].length() + " bytes", replies.get(i), replies::toString);
        }
        raw("BDAT " + pieces[pieces.length - 1].length() + " LAST\r\n" + pieces[pieces.length - 1]);
        assertTrue(replies.get(pieces.length - 1).startsWith("250 2.0.0 Ok: " + all.length() + " bytes queued as "),
                replies::toString);
        assertEquals(all.toString(), body(0));

        // the same cut, then BDAT 0 LAST: the line the last chunk ended in is the message's last
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        String cut = "Subject: y\r\n\r\nno CRLF";
        raw("BDAT " + cut.length() + "\r\n" + cut);
        raw("BDAT 0 LAST\r\n");
        assertEquals("250 2.0.0 Ok: " + cut.length() + " bytes", replies.get(2), replies::toString);
        assertTrue(replies.get(3).startsWith("250 2.0.0 Ok: " + cut.length() + " bytes queued as "), replies::toString);
        assertEquals("Subject: y\r\n\r\nno CRLF\r\n", body(1));
    }

    @Test
    void hopsCountedAcrossAChunkBoundaryInsideAHeaderName() {
        // hopcount_limit 50: 51 Received: headers, the last one cut before its colon
        transaction();
        StringBuilder h = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            h.append("Received: from a").append(i).append(" by b\r\n");
        }
        String first = h + "Rece";
        String second = "ived: from z by b\r\nSubject: loop\r\n\r\nx\r\n";
        raw("BDAT " + first.length() + "\r\n" + first);
        raw("BDAT " + second.length() + " LAST\r\n" + second);
        assertEquals("250 2.0.0 Ok: " + first.length() + " bytes", replies.get(0));
        assertTrue(replies.get(1).startsWith("554 5.4.0"), replies::toString);
    }

    @Test
    void zeroLengthLast() {
        transaction();
        raw("BDAT 6\r\nhello\n");
        raw("BDAT 0 LAST\r\n");
        assertEquals("250 2.0.0 Ok: 6 bytes", replies.get(0));
        assertTrue(replies.get(1).startsWith("250 2.0.0 Ok: 6 bytes queued as "), replies::toString);
        assertEquals("hello\r\n", body(0));
    }

    @Test
    void refusedChunkIsReadAndDiscarded() {
        open(settings(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        // no transaction: the 12 octets must not be taken for commands
        raw("BDAT 12 LAST\r\nQUIT\r\nRSET\r\nNOOP\r\n");
        expect("503 5.5.1 Error: need RCPT command", "250 2.0.0 Ok");
        assertTrue(!closed);
    }

    @Test
    void laterChunksOfAFailedMessageAreDiscarded() {
        open(settings("smtpd_data_restrictions = reject"), OUTSIDE);
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        replies.clear();
        raw("BDAT 5\r\nQUIT\n");
        raw("BDAT 5\r\nQUIT\n");
        raw("BDAT 5 LAST\r\nQUIT\n");
        expect("554 5.7.1 <DATA>: Data command rejected: Access denied",
                "551 5.0.0 Discarded 5 bytes after earlier error", "551 5.0.0 Discarded 5 bytes after earlier error");
        assertTrue(envelopes.isEmpty());
        send("RSET");
        expect("250 2.0.0 Ok");
    }

    @Test
    void nullChunkAndCommandsInsideABdatTransaction() {
        transaction();
        send("BDAT 0");
        expect("551 5.7.1 Null BDAT request");
        send("RSET");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        raw("BDAT 3\r\nab\n");
        send("MAIL FROM:<b@example.com>");
        send("RCPT TO:<y@mx.example.org>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.0.0 Ok: 3 bytes",
                "503 5.5.1 Error: MAIL after BDAT", "503 5.5.1 Error: RCPT after BDAT");
    }

    @Test
    void badSyntaxEndsTheSession() {
        transaction();
        send("BDAT 1 FIRST");
        expect("521 5.5.4 Syntax: BDAT count [LAST]");
        assertTrue(closed);
    }

    @Test
    void dataAfterBdatAndRsetAbort() throws IOException {
        transaction();
        raw("BDAT 4\r\nabc\n");
        send("DATA");
        expect("250 2.0.0 Ok: 4 bytes", "503 5.5.1 Error: DATA after BDAT");
        send("RSET");
        expect("250 2.0.0 Ok");
        try (Stream<java.nio.file.Path> left = Files.list(spool)) {
            assertEquals(0, left.count(), "the spool of the aborted message is gone");
        }
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
    }

    @Test
    void sizeLimitAppliesToChunks() {
        open(settings().withMessageSizeLimit(10), OUTSIDE);
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        replies.clear();
        raw("BDAT 30 LAST\r\n" + "x".repeat(28) + "\r\n");
        expect("552 5.3.4 Error: message file too big");
        assertTrue(envelopes.isEmpty());
    }
}
