package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * HeadersFuzzTest - the Message-ID that cleanup reads from a message's first content chunk
 * and writes into the mail log ("queue id: message-id=...").
 *
 * <p>Invariants: {@link Headers#messageId} never throws for any length within the buffer;
 * its value, when there is one, is trimmed, at most 998 characters, and holds no control
 * character (no CR, LF, NUL or other that could end or forge a log line: CVE-style log
 * injection, as Postfix's cleanup prints it through printable()); it comes from a
 * Message-ID: field of the header section (before the first empty line), never from the
 * body; reading the same bytes with a longer len past the header gives the same value.
 * Seeds: HeadersFuzzTestInputs/messageId/.
 */
class HeadersFuzzTest {

    @FuzzTest
    @DictionaryEntries({"Message-ID:", "message-id: ", "\\x0D\\x0A", "\\x0D\\x0A\\x0D\\x0A", "\\x0D\\x0A\\x09", "\\x0D\\x0A ", "<", "@", ">",
            "Received: ", "Subject: "})
    void messageId(byte[] data) {
        String id = Headers.messageId(data, data.length);
        if (id == null) {
            return;
        }
        assertTrue(!id.isEmpty() && id.length() <= 998, id);
        assertEquals(id.trim(), id);
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            assertTrue(c >= 0x20 && c != 0x7f, "a control character " + (int) c + " in " + id);
        }
        String text = new String(data, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        String header = (end < 0 ? text : text.substring(0, end + 2)).toLowerCase(Locale.ROOT);
        assertTrue(header.startsWith("message-id:") || header.contains("\r\nmessage-id:"),
                "a Message-ID from outside the header section: " + id);
        if (end >= 0) {
            // the header section decides: the same bytes cut just after it give the same value
            assertEquals(id, Headers.messageId(data, end + 2));
        }
    }
}
