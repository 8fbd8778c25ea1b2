package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * notify_classes: the postmaster gets a transcript of a session with policy or protocol
 * errors (Postfix smtpd_chat_notify), queued through the listener like any message.
 */
class SmtpdNotifyTest extends SessionConversation {

    private SmtpdSettings notify(String... classes) {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.notifyClasses = Set.of(classes);
        return b.build();
    }

    @Test
    void policyRejectSendsTheTranscriptToThePostmaster() {
        open(notify("policy"), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@elsewhere.example>");
        expect("250 2.1.0 Ok", "450 4.7.1 <x@elsewhere.example>: Relay access denied");
        send("QUIT");
        session.ended();
        assertEquals(1, envelopes.size());
        Envelope e = envelopes.get(0);
        assertEquals("double-bounce@mx.example.org", e.sender());
        assertEquals(List.of(new Envelope.Recipient("postmaster@mx.example.org", null, null)), e.recipients());
        assertTrue(QueueIds.isValid(e.queueId()));
        assertEquals(contents.get(0).length(), e.size());
        assertEquals("Message-Id: <20261121093000." + e.queueId() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
                + "To: Postmaster <postmaster@mx.example.org>\r\n"
                + "Subject: Postern SMTP server: errors from unknown[192.0.2.1]\r\n"
                + "\r\n"
                + "Transcript of session follows.\r\n"
                + "\r\n"
                + " Out: 220 mx.example.org ESMTP Postern\r\n"
                + " In:  EHLO client.example\r\n"
                + " Out: 250-mx.example.org\r\n"
                + " Out: 250-PIPELINING\r\n"
                + " Out: 250-SIZE 10240000\r\n"
                + " Out: 250-VRFY\r\n"
                + " Out: 250-ETRN\r\n"
                + " Out: 250-ENHANCEDSTATUSCODES\r\n"
                + " Out: 250-8BITMIME\r\n"
                + " Out: 250-DSN\r\n"
                + " Out: 250-SMTPUTF8\r\n"
                + " Out: 250 CHUNKING\r\n"
                + " In:  MAIL FROM:<a@example.com>\r\n"
                + " Out: 250 2.1.0 Ok\r\n"
                + " In:  RCPT TO:<x@elsewhere.example>\r\n"
                + " Out: 450 4.7.1 <x@elsewhere.example>: Relay access denied\r\n"
                + " In:  QUIT\r\n"
                + " Out: 221 2.0.0 Bye\r\n"
                + "\r\n"
                + "\r\n"
                + "For other details, see the local mail logfile\r\n", contents.get(0));
    }

    @Test
    void protocolErrorAndAbortReason() {
        open(notify("protocol"), OUTSIDE);
        send("FOO bar");
        expect("500 5.5.2 Error: command not recognized");
        session.ended(); // the client goes away without QUIT
        assertEquals(1, envelopes.size());
        String c = contents.get(0);
        assertTrue(c.endsWith("\r\n"
                + " Out: 220 mx.example.org ESMTP Postern\r\n"
                + " In:  FOO bar\r\n"
                + " Out: 500 5.5.2 Error: command not recognized\r\n"
                + "\r\n"
                + "Session aborted, reason: lost connection\r\n"
                + "\r\n"
                + "For other details, see the local mail logfile\r\n"), c);
    }

    @Test
    void onlyTheConfiguredClassesNotify() {
        // Postfix's default notify_classes (resource, software): a relay reject is no notice
        open(settings(), OUTSIDE);
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@elsewhere.example>");
        send("QUIT");
        session.ended();
        assertEquals(0, envelopes.size());
        replies.clear();
        // protocol only: a policy error is no notice either, a clean session neither
        open(notify("protocol"), OUTSIDE);
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@elsewhere.example>");
        send("QUIT");
        session.ended();
        assertEquals(0, envelopes.size());
        replies.clear();
        open(notify("policy", "protocol"), OUTSIDE);
        send("NOOP");
        send("QUIT");
        session.ended();
        assertEquals(0, envelopes.size());
    }

    @Test
    void authCredentialsNeverAppearInTheTranscript() {
        SmtpdSettings.Builder b = notify("protocol").toBuilder();
        b.saslAuthEnable = true;
        b.authenticator = (authzid, user, password) -> false;
        open(b.build(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        String plain = Base64.getEncoder().encodeToString("\0alice\0s3cret".getBytes(StandardCharsets.UTF_8));
        send("AUTH PLAIN " + plain);
        expect("535 5.7.8 Error: authentication failed: authentication failure");
        send("AUTH LOGIN");
        send(Base64.getEncoder().encodeToString("alice".getBytes(StandardCharsets.UTF_8)));
        send(Base64.getEncoder().encodeToString("s3cret".getBytes(StandardCharsets.UTF_8)));
        expect("334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6",
                "535 5.7.8 Error: authentication failed: authentication failure");
        send("QUIT");
        session.ended();
        assertEquals(1, envelopes.size());
        String c = contents.get(0);
        assertTrue(c.contains(" In:  AUTH PLAIN ********\r\n"
                + " Out: 535 5.7.8 Error: authentication failed: authentication failure\r\n"), c);
        assertTrue(c.contains(" In:  AUTH LOGIN\r\n Out: 334 VXNlcm5hbWU6\r\n In:  ********\r\n"
                + " Out: 334 UGFzc3dvcmQ6\r\n In:  ********\r\n"), c);
        assertFalse(c.contains(plain), c);
        assertFalse(c.contains("YWxpY2U="), c); // alice
        assertFalse(c.contains("czNjcmV0"), c); // s3cret
    }

    @Test
    void theTranscriptIsBounded() {
        SmtpdSettings.Builder b = notify("protocol").toBuilder();
        b.junkCommandLimit = 100_000;
        b.softErrorLimit = 100_000;
        open(b.build(), OUTSIDE);
        send("FOO");
        String noop = "NOOP " + "x".repeat(500);
        for (int i = 0; i < 1000; i++) {
            send(noop);
        }
        send("QUIT");
        session.ended();
        String c = contents.get(0);
        assertTrue(c.length() < 110_000, () -> "notice of " + c.length() + " characters");
        assertTrue(c.contains(" In:  FOO\r\n"), c);
        assertTrue(c.contains(" (transcript truncated)\r\n"), c);
        assertFalse(c.contains("221 2.0.0 Bye"));
    }

    @Test
    void longLinesAreWrappedAsPostfixDoes() {
        StringBuilder b = new StringBuilder();
        SmtpdNotice.wrap(b, "Out: 554 5.7.1 <x@elsewhere.example>: Recipient address rejected: a reason that is "
                + "longer than one line of seventy-eight columns");
        assertEquals(" Out: 554 5.7.1 <x@elsewhere.example>: Recipient address rejected: a reason\r\n"
                + "     that is longer than one line of seventy-eight columns\r\n", b.toString());
        b.setLength(0);
        SmtpdNotice.wrap(b, "In:  " + "y".repeat(100));
        // as Postfix: a word longer than a line stays whole
        assertEquals(" In: \r\n     " + "y".repeat(100) + "\r\n", b.toString());
    }
}
