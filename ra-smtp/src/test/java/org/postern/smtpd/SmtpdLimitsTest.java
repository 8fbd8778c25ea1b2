package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Limits and the tarpit as conversations: Postfix's replies; delays appear as "(delay N ms)". */
class SmtpdLimitsTest extends SessionConversation {

    private SmtpdSettings limits(int soft, int hard, int junk) {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.softErrorLimit = soft;
        b.hardErrorLimit = hard;
        b.junkCommandLimit = junk;
        b.errorSleepTime = Duration.ofSeconds(1);
        return b.build();
    }

    @Test
    void tarpitDelaysEveryReplyAfterTheSoftLimit() {
        open(limits(2, 20, 100), OUTSIDE);
        send("FOO");
        send("BAR");
        expect("500 5.5.2 Error: command not recognized", "500 5.5.2 Error: command not recognized");
        // two errors: from now on every reply waits smtpd_error_sleep_time
        send("NOOP");
        send("NOOP");
        expect("(delay 1000 ms)", "250 2.0.0 Ok", "(delay 1000 ms)", "250 2.0.0 Ok");
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), delays);
    }

    @Test
    void pipelinedCommandsWaitTheirTurnInOrder() {
        open(limits(1, 20, 100), OUTSIDE);
        raw("FOO\r\nNOOP\r\nHELO client.example\r\nQUIT\r\n");
        expect("500 5.5.2 Error: command not recognized", "(delay 1000 ms)", "250 2.0.0 Ok", "(delay 1000 ms)",
                "250 mx.example.org", "(delay 1000 ms)", "221 2.0.0 Bye");
        assertTrue(closed);
    }

    @Test
    void deliveredMailForgivesErrors() {
        open(limits(2, 20, 100), OUTSIDE);
        send("FOO");
        send("BAR");
        replies.clear();
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        replies.clear();
        send("NOOP");
        expect("250 2.0.0 Ok");
    }

    @Test
    void hardErrorLimitDisconnects() {
        open(limits(100, 3, 100), OUTSIDE);
        send("FOO");
        send("RCPT TO:<x@mx.example.org>");
        send("BAR");
        expect("500 5.5.2 Error: command not recognized", "503 5.5.1 Error: need MAIL command",
                "500 5.5.2 Error: command not recognized", "421 4.7.0 mx.example.org Error: too many errors");
        assertTrue(closed);
        session.ended();
        expectLog("too many errors after UNKNOWN from unknown[192.0.2.1]");
    }

    @Test
    void rejectsCountAsErrors() {
        open(limits(100, 2, 100), OUTSIDE);
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        replies.clear();
        send("RCPT TO:<x@other.example>");
        send("RCPT TO:<y@other.example>");
        expect("450 4.7.1 <x@other.example>: Relay access denied", "450 4.7.1 <y@other.example>: Relay access denied",
                "421 4.7.0 mx.example.org Error: too many errors");
        assertTrue(closed);
    }

    @Test
    void junkCommandsBecomeErrors() {
        open(limits(1, 20, 2), OUTSIDE);
        send("NOOP");
        send("RSET");
        expect("250 2.0.0 Ok", "250 2.0.0 Ok");
        // the third junk command counts as an error, so the tarpit starts with the next reply
        send("VRFY <x@mx.example.org>");
        expect("252 2.0.0 <x@mx.example.org>");
        send("NOOP");
        expect("(delay 1000 ms)", "250 2.0.0 Ok");
    }

    @Test
    void junkCommandsEndInDisconnection() {
        open(limits(100, 3, 1), OUTSIDE);
        for (int i = 0; i < 3; i++) {
            send("NOOP");
        }
        assertFalse(closed);
        send("NOOP");
        expect("250 2.0.0 Ok", "250 2.0.0 Ok", "250 2.0.0 Ok", "250 2.0.0 Ok",
                "421 4.7.0 mx.example.org Error: too many errors");
        assertTrue(closed);
    }

    @Test
    void recipientLimit() {
        open(settings().withLimits(2, 20, 2048), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("RCPT TO:<y@mx.example.org>");
        send("RCPT TO:<z@mx.example.org>");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok", "452 4.5.3 Error: too many recipients");
    }

    private void dataWithHops(int hops) {
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        replies.clear();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < hops; i++) {
            b.append("Received: from hop").append(i).append(".example\r\n\tby x; Sat, 21 Nov 2026 09:00:00 +0000\r\n");
        }
        b.append("Subject: loop\r\n\r\nReceived: in the body does not count\r\n.\r\n");
        raw(b.toString());
    }

    @Test
    void hopcountLimit() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.hopcountLimit = 3;
        open(b.build(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        dataWithHops(3);
        assertEquals(1, replies.size());
        assertTrue(replies.get(0).startsWith("250 2.0.0 Ok: queued as "), replies::toString);
        replies.clear();
        dataWithHops(4);
        expect("554 5.4.0 Error: too many hops");
        expectQueueLog("reject: END-OF-MESSAGE from unknown[192.0.2.1]: 554 5.4.0 Error: too many hops; "
                + "from=<a@example.com> to=<x@mx.example.org> proto=ESMTP helo=<client.example>");
        assertEquals(1, envelopes.size());
    }

    @Test
    void queueMinfree() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.queueMinfree = Long.MAX_VALUE / 4;
        open(b.build(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("452 4.3.1 Insufficient system storage");
        assertTrue(maillog.stream().anyMatch(l -> l.matches(
                "warning: not enough free space in mail queue: [0-9]+ bytes < 1\\.5\\*message size limit")),
                maillog::toString);

        open(settings().withMessageSizeLimit(0), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com> SIZE=900000000000000000");
        send("MAIL FROM:<a@example.com> SIZE=1000");
        expect("452 4.3.1 Insufficient system storage", "250 2.1.0 Ok");
    }

    private SmtpdSettings forbidPipelining() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.forbidUnauthPipelining = true;
        return b.build();
    }

    @Test
    void forbidUnauthPipelining() {
        open(forbidPipelining(), OUTSIDE);
        raw("EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n");
        expect("554 5.5.0 Error: SMTP protocol synchronization");
        assertTrue(closed);
        expectLog("improper command pipelining after EHLO from unknown[192.0.2.1]: MAIL FROM:<a@example.com>??");

        // no EHLO, no PIPELINING: a HELO client may not pipeline at all
        closed = false;
        open(forbidPipelining(), OUTSIDE);
        send("HELO client.example");
        raw("MAIL FROM:<a@example.com>\r\nRCPT TO:<x@mx.example.org>\r\n");
        expect("250 mx.example.org", "554 5.5.0 Error: SMTP protocol synchronization");
        assertTrue(closed);

        // after EHLO, MAIL RCPT DATA in one group is what RFC 2920 allows; content after DATA is not
        closed = false;
        open(forbidPipelining(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        raw("MAIL FROM:<a@example.com>\r\nRCPT TO:<x@mx.example.org>\r\nDATA\r\nSubject: early\r\n");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok", "554 5.5.0 Error: SMTP protocol synchronization");
        assertTrue(closed);
    }

    @Test
    void pipeliningIsToleratedByDefault() {
        open(settings(), OUTSIDE);
        raw("EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n");
        assertEquals("250 2.1.0 Ok", replies.get(replies.size() - 1));
        assertTrue(!closed);
    }

    @Test
    void alwaysBccAddsARecipientOnce() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.alwaysBcc = "archive@mx.example.org";
        open(b.build(), "127.0.0.1");
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<Archive@mx.example.org>");
        send("DATA");
        raw("Subject: y\r\n\r\nbody\r\n.\r\n");
        assertEquals(List.of(new Envelope.Recipient("x@other.example", null, null),
                new Envelope.Recipient("archive@mx.example.org", null, "NEVER")), envelopes.get(0).recipients());
        assertEquals(1, envelopes.get(1).recipients().size(), "not twice");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> {
            SmtpdSettings.Builder bad = settings().toBuilder();
            bad.alwaysBcc = "not an address";
            bad.build();
        });
    }
}
