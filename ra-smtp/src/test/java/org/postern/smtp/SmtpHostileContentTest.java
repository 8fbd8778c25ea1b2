package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Content crafted to make the 8-bit downgrade expensive (issue 13): MIME nested 10,000
 * deep, a 10 MB header, a boundary of 100 KB. Each is converted within
 * mime_nesting_limit (100) and mime_boundary_length_limit (2048), in bounded time (a
 * generous 20 s on the 2-core machine; each takes well under a second) and with output
 * proportional to the input; the 8-bit text within the limits comes out 7-bit.
 */
class SmtpHostileContentTest {

    private static final String TEXT = "Gr\u00fc\u00dfe aus K\u00f6ln\r\n";

    /* convert - the downgrade of the content; its size is counted, nothing kept but the output */
    private static byte[] convert(byte[] content) {
        return assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 1024);
            SmtpMimeDowngrade.copy(new ByteArrayInputStream(content), out, 100, 2048);
            return out.toByteArray();
        });
    }

    @Test
    void mimeNestedTenThousandDeepIsConvertedWithinTheNestingLimit() {
        StringBuilder b = new StringBuilder("MIME-Version: 1.0\r\n");
        for (int i = 0; i < 10_000; i++) {
            b.append("Content-Type: multipart/mixed; boundary=\"b").append(i).append("\"\r\n\r\n--b").append(i)
                    .append("\r\n");
        }
        b.append("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").append(TEXT);
        for (int i = 9_999; i >= 0; i--) {
            b.append("--b").append(i).append("--\r\n");
        }
        byte[] in = b.toString().getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        byte[] out = convert(in);
        System.out.println("SmtpHostileContentTest: 10,000 levels, " + in.length + " bytes in, " + out.length
                + " out, " + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertTrue(out.length <= 2 * in.length + 1024, "output proportional to the input: " + out.length);
        String text = new String(out, StandardCharsets.ISO_8859_1);
        // past mime_nesting_limit the rest is copied as it is: everything arrives, in order
        assertTrue(text.contains("--b9999--\r\n") && text.endsWith("--b0--\r\n"), "the whole message went out");
    }

    @Test
    void aTenMegabyteHeaderEndsTheConversionAndTheMessageGoesOutWhole() {
        // a header block past header_size_limit (102400) ends the conversion: the rest is sent as it is
        // (cleanup keeps such a header from the queue; here the converter alone is tried)
        StringBuilder b = new StringBuilder("MIME-Version: 1.0\r\nX-Long: ");
        while (b.length() < 10_000_000) {
            b.append("word ").append(b.length()).append("\r\n\t");
        }
        b.append("end\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").append(TEXT);
        byte[] in = b.toString().getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        byte[] out = convert(in);
        System.out.println("SmtpHostileContentTest: a 10 MB header, " + in.length + " bytes in, " + out.length
                + " out, " + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertTrue(java.util.Arrays.equals(in, out), "the message went out whole and unchanged");
    }

    @Test
    void aBoundaryOfAHundredKilobytesIsCutToTheBoundaryLimit() {
        String boundary = "x".repeat(100_000);
        String content = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n"
                + "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + TEXT + "--" + boundary + "--\r\n";
        byte[] in = content.getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        byte[] out = convert(in);
        System.out.println("SmtpHostileContentTest: a 100 KB boundary, " + in.length + " bytes in, " + out.length
                + " out, " + (System.nanoTime() - start) / 1_000_000 + " ms");
        String text = new String(out, StandardCharsets.ISO_8859_1);
        // the part is found by the first 2048 octets of its boundary and converted
        assertTrue(text.contains("Content-Transfer-Encoding: quoted-printable"), "the 8-bit part was converted");
        for (byte x : out) {
            assertTrue(x >= 0, "7-bit output");
        }
        assertTrue(out.length <= 2 * in.length, "output proportional to the input: " + out.length);
    }

    @Test
    void manySessionsWorthOfContentDoNotAccumulate() {
        // the converter keeps no state between messages: a thousand hostile messages in a row, one output each
        byte[] in = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + TEXT
                + "--a--\r\n").getBytes(StandardCharsets.UTF_8);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int i = 0; i < 1000; i++) {
                SmtpMimeDowngrade.copy(new ByteArrayInputStream(in), OutputStream.nullOutputStream(), 100, 2048);
            }
        });
    }
}
