package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * SmtpReplyFuzzTest - what an SMTP or LMTP server answers the client: reply lines,
 * multi-line replies, enhanced status codes, and the EHLO keywords the client acts on
 * (SmtpStream.readReply, SmtpReply.dsn, SmtpFeatures.parse).
 *
 * <p>Invariants: reading replies from any bytes ends in EOFException and nothing else;
 * each reply is well-formed (code 1-999 whose three ASCII digits begin its first line
 * on the wire) or malformed (code 0: its last line is not a reply line), with at most
 * REPLY_LINES_LIMIT lines of at most 2048 octets; the enhanced code is
 * class.subject.detail of the reply's class; and the features of any reply parse without an exception: SIZE -1 or more, AUTH
 * and XFORWARD words upper case, non-empty and each once. Seeds:
 * SmtpReplyFuzzTestInputs/replies/.
 */
class SmtpReplyFuzzTest {

    @FuzzTest
    @DictionaryEntries({"250-", "250 ", "220 ", "421 ", "550 5.1.1 ", "2.0.0 ", "PIPELINING", "SIZE ",
            "SIZE=", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH PLAIN LOGIN",
            "AUTH=", "XFORWARD NAME ADDR PROTO HELO", "CHUNKING", "="})
    void replies(byte[] input) throws IOException {
        SmtpStream stream = SmtpStream.over(new ByteArrayInputStream(input), new ByteArrayOutputStream());
        List<String> wire = wireLines(input);
        int next = 0;
        while (true) {
            SmtpReply r;
            try {
                r = stream.readReply();
            } catch (EOFException e) {
                return;
            }
            assertFalse(r.lines().isEmpty());
            String first = wire.get(next);
            if (r.code() != 0) {
                assertTrue(r.code() >= 1 && r.code() <= 999, r::toString);
                assertTrue(first.length() >= 3 && first.substring(0, 3).chars().allMatch(c -> c >= '0' && c <= '9')
                        && Integer.parseInt(first.substring(0, 3)) == r.code(),
                        () -> "reply code " + r.code() + " from the line \"" + first + "\"");
            }
            assertTrue(r.lines().size() <= SmtpStream.REPLY_LINES_LIMIT);
            next += r.lines().size();
            for (String line : r.lines()) {
                assertTrue(line.getBytes(StandardCharsets.UTF_8).length <= SmtpStream.REPLY_LINE_LIMIT * 3);
            }
            assertTrue(r.replyClass() >= 2 && r.replyClass() <= 5);
            String dsn = r.dsn();
            assertTrue(dsn.matches("[2-5]\\.[0-9]{1,3}\\.[0-9]{1,3}") && dsn.charAt(0) - '0' == r.replyClass(), dsn);

            SmtpFeatures f = SmtpFeatures.parse(r, List.of("dsn"));
            assertTrue(f.sizeLimit() >= -1, f::toString);
            assertFalse(f.dsn(), "a discarded keyword is offered");
            for (List<String> words : List.of(f.auth(), f.xforward())) {
                assertEquals(words.size(), new HashSet<>(words).size(), words::toString);
                for (String w : words) {
                    assertFalse(w.isEmpty());
                    assertEquals(w.toUpperCase(Locale.ROOT), w);
                }
            }
        }
    }

    /* wireLines - the lines as they arrive: up to LF, CR before it dropped, at most REPLY_LINE_LIMIT octets */
    private static List<String> wireLines(byte[] input) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < input.length; i++) {
            if (input[i] == '\n') {
                int len = Math.min(i - start, SmtpStream.REPLY_LINE_LIMIT);
                int n = len > 0 && input[start + len - 1] == '\r' ? len - 1 : len;
                lines.add(new String(input, start, n, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return lines;
    }
}
