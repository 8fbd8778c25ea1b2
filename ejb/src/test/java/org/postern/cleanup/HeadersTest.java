package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HeadersTest {

    private static String id(String text) {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        return Headers.messageId(b, b.length);
    }

    @Test
    void findsTheMessageIdInTheHeaderUnfolded() {
        assertEquals("<a@b>", id("Received: from x\r\n\tby y\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n"));
        assertEquals("<a@b>", id("message-id:\r\n <a@b>\r\nSubject: s\r\n\r\n"));
    }

    @Test
    void ignoresTheBodyAndMissingHeaders() {
        assertNull(id("Subject: s\r\n\r\nMessage-ID: <in@body>\r\n"));
        assertNull(id("Subject: s\r\n\r\n"));
    }

    @Test
    void aBareCrOrOtherControlCharacterNeverReachesTheLog() {
        // smtpd stores a bare CR as data within a line: the value goes into "message-id=" of the mail log
        assertEquals("<a?b@c>", id("Message-ID: <a\rb@c>\r\n\r\n"));
        assertEquals("<a?b@c>", id("Message-ID: <a\u0000b@c>\r\n\r\n"));
        assertEquals("<a@b c>", id("Message-ID: <a@b\r\n\tc>\r\n\r\n"));
    }
}
