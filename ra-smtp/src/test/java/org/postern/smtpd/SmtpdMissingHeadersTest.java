package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Message-Id:, Date: and From: added when missing, as Postfix's cleanup does for
 * local_header_rewrite_clients (default permit_inet_interfaces) or with
 * always_add_missing_headers = yes; at the end of the header section.
 */
class SmtpdMissingHeadersTest extends SessionConversation {

    /** send - one message from the client address; the content after Postern's Received: header. */
    private String message(SmtpdSettings settings, String client, String sender, String... lines) {
        open(settings, client);
        ehloMail(sender);
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        expect("250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
        for (String l : lines) {
            send(l);
        }
        send(".");
        assertEquals(1, replies.size());
        assertTrue(replies.get(0).startsWith("250 2.0.0 Ok: queued as "), replies::toString);
        replies.clear();
        String c = contents.get(contents.size() - 1);
        return c.substring(c.indexOf("+0000 (UTC)\r\n") + 13);
    }

    private String id() {
        return envelopes.get(envelopes.size() - 1).queueId();
    }

    @Test
    void loopbackClientGetsTheMissingHeadersAtTheEndOfTheHeaderSection() {
        String body = message(settings(), "127.0.0.1", "a@example.com", "Subject: hi", "To: <x@mx.example.org>", "",
                "body");
        assertEquals("Subject: hi\r\nTo: <x@mx.example.org>\r\n"
                + "Message-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "From: <a@example.com>\r\n"
                + "\r\nbody\r\n", body);
    }

    @Test
    void presentHeadersAreLeftByteForByte() {
        String body = message(settings(), "127.0.0.1", "a@example.com", "message-ID: <x@y>",
                "DATE: Fri, 20 Nov 2026 08:00:00 +0100", "From: Someone <s@example.net>", "Subject: hi", "",
                "Message-Id: <in-the-body@example>");
        assertEquals("message-ID: <x@y>\r\nDATE: Fri, 20 Nov 2026 08:00:00 +0100\r\n"
                + "From: Someone <s@example.net>\r\nSubject: hi\r\n\r\nMessage-Id: <in-the-body@example>\r\n", body);
    }

    @Test
    void onlyWhatIsMissingIsAdded() {
        String body = message(settings(), "127.0.0.1", "a@example.com", "Date: Fri, 20 Nov 2026 08:00:00 +0100",
                "Subject: hi", "", "x");
        assertEquals("Date: Fri, 20 Nov 2026 08:00:00 +0100\r\nSubject: hi\r\n"
                + "Message-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "From: <a@example.com>\r\n\r\nx\r\n", body);
    }

    @Test
    void remoteClientIsNotCompleted() {
        String body = message(settings(), OUTSIDE, "a@example.com", "Subject: hi", "", "body");
        assertEquals("Subject: hi\r\n\r\nbody\r\n", body);
    }

    @Test
    void alwaysAddMissingHeadersCompletesEveryClient() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.alwaysAddMissingHeaders = true;
        String body = message(b.build(), OUTSIDE, "", "Subject: hi", "", "body");
        assertEquals("Subject: hi\r\n"
                + "Message-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "From: <MAILER-DAEMON@mx.example.org>\r\n\r\nbody\r\n", body);
    }

    @Test
    void permitMynetworksAndSaslClasses() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.headerRewriteClients = HeaderRewriteClients.parse(java.util.List.of("permit_mynetworks"), a -> false,
                org.postern.config.NetworkList.parse(java.util.List.of("192.0.2.0/24"), "mynetworks"));
        assertTrue(message(b.build(), OUTSIDE, "a@example.com", "Subject: hi").contains("From: <a@example.com>"));
        b.headerRewriteClients = HeaderRewriteClients.parse(java.util.List.of("permit_sasl_authenticated"),
                a -> true, a -> true);
        assertEquals("Subject: hi\r\n", message(b.build(), "127.0.0.1", "a@example.com", "Subject: hi"));
        b.headerRewriteClients = HeaderRewriteClients.parse(java.util.List.of("static:all"), a -> false, a -> false);
        assertTrue(message(b.build(), OUTSIDE, "a@example.com", "Subject: hi").startsWith("Subject: hi\r\nMessage-Id: <"));
    }

    @Test
    void headersOnlyMessageAndEmptyMessage() {
        String body = message(settings(), "127.0.0.1", "a@example.com", "Subject: no blank line, no body");
        assertEquals("Subject: no blank line, no body\r\n"
                + "Message-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "From: <a@example.com>\r\n", body);
        String empty = message(settings(), "127.0.0.1", "a@example.com");
        assertEquals("Message-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "From: <a@example.com>\r\n", empty);
    }

    @Test
    void bodyWithoutHeadersGetsThemBeforeItsFirstLine() {
        String body = message(settings(), "127.0.0.1", "a@example.com", "just text, no header", "more");
        assertEquals("Message-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "From: <a@example.com>\r\njust text, no header\r\nmore\r\n", body);
    }

    @Test
    void bdatMessageIsCompletedToo() {
        open(settings(), "127.0.0.1");
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        String msg = "Subject: chunk\r\n\r\nbody";
        raw("BDAT " + msg.length() + " LAST\r\n" + msg);
        assertTrue(replies.get(0).startsWith("250 2.0.0 Ok: " + msg.length() + " bytes queued as "), replies::toString);
        String c = contents.get(0);
        assertEquals("Subject: chunk\r\nMessage-Id: <20261121093000." + id() + "@mx.example.org>\r\n"
                + "Date: Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\nFrom: <a@example.com>\r\n\r\nbody\r\n",
                c.substring(c.indexOf("+0000 (UTC)\r\n") + 13));
    }
}
