package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * SmtpMimeDowngradeFuzzTest - the 8BITMIME to 7BIT conversion of the SMTP client: the
 * headers and MIME structure it reads (Content-Type and its boundary, multipart nesting,
 * message/rfc822, Content-Transfer-Encoding) and the quoted-printable it writes.
 *
 * <p>Invariants, on any message: the conversion finishes without an exception and writes
 * at most 3 octets per input octet plus soft line breaks and the fields it adds. On a
 * single text/plain 8bit part with any body: the output is 7-bit only and no body line
 * is longer than 76 characters (RFC 2045 6.7). Seeds: SmtpMimeDowngradeFuzzTestInputs/downgrade/.
 */
class SmtpMimeDowngradeFuzzTest {
    private static final byte[] EIGHT_BIT_TEXT = ("Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    @FuzzTest
    @DictionaryEntries({"Content-Type: multipart/mixed; boundary=", "Content-Type: message/rfc822",
            "Content-Type: multipart/digest; boundary=\"b\"", "Content-Transfer-Encoding: 8bit", "binary",
            "quoted-printable", "MIME-Version: 1.0", "--b", "--b--", ": ", "=", "\t"})
    void downgrade(byte[] input) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SmtpMimeDowngrade.copy(new ByteArrayInputStream(input), out, 5, 100);
        assertTrue(out.size() <= 4 * input.length + 200, () -> out.size() + " octets out of " + input.length);

        byte[] message = new byte[EIGHT_BIT_TEXT.length + input.length];
        System.arraycopy(EIGHT_BIT_TEXT, 0, message, 0, EIGHT_BIT_TEXT.length);
        System.arraycopy(input, 0, message, EIGHT_BIT_TEXT.length, input.length);
        ByteArrayOutputStream converted = new ByteArrayOutputStream();
        SmtpMimeDowngrade.copy(new ByteArrayInputStream(message), converted);
        byte[] b = converted.toByteArray();
        for (byte c : b) {
            assertTrue(c >= 0, "an 8-bit octet after the conversion");
        }
        String text = new String(b, StandardCharsets.US_ASCII);
        int bodyStart = text.indexOf("\r\n\r\n") + 4;
        for (String line : text.substring(bodyStart).split("\r?\n", -1)) {
            assertTrue(line.length() <= 76, () -> "a body line of " + line.length() + ": " + line);
        }
    }
}
