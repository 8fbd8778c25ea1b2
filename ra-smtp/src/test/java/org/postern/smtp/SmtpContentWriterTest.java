package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class SmtpContentWriterTest {

    private static String write(String content, int limit) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new SmtpContentWriter(out, limit).copy(new ByteArrayInputStream(content.getBytes(StandardCharsets.ISO_8859_1)));
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void dotStuffsLinesThatStartWithADot() throws IOException {
        assertEquals("a\r\n..\r\n..b\r\n c.\r\n...\r\n", write("a\r\n.\r\n.b\r\n c.\r\n..\r\n", 998));
    }

    @Test
    void terminatesALastLineWithoutCrlf() throws IOException {
        assertEquals("x\r\n.. end\r\n", write("x\r\n. end", 998));
    }

    @Test
    void turnsBareLfIntoCrlfAndKeepsBareCrAsData() throws IOException {
        assertEquals("a\r\nb\rc\r\n", write("a\nb\rc\r\n", 998));
    }

    @Test
    void foldsLongLinesWithCrlfSpaceAsPostfix() throws IOException {
        // limit 4: "abcd" fits; "abcdefghij" becomes "abcd", " efg", " hij"
        assertEquals("abcd\r\nabcd\r\n efg\r\n hij\r\n", write("abcd\r\nabcdefghij\r\n", 4));
    }

    @Test
    void doesNotFoldWhenTheLimitIsZero() throws IOException {
        String longLine = "y".repeat(5000);
        assertEquals(longLine + "\r\n", write(longLine + "\r\n", 0));
    }

    @Test
    void aFoldedContinuationIsNeverDotStuffed() throws IOException {
        assertEquals("..ab\r\n .c\r\n", write(".ab.c\r\n", 3));
    }

    @Test
    void aResetWriterStartsTheNextMessageCleanEvenAfterOneAbandonedHalfWay() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SmtpContentWriter w = new SmtpContentWriter(out, 4);
        byte[] half = "abcdefg\r".getBytes(StandardCharsets.ISO_8859_1);
        w.write(half, 0, half.length);   // mid-line, a CR pending, a folded column: then the connection died
        w.reset();
        out.reset();
        w.copy(new ByteArrayInputStream(".x\r\nabcdef\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("..x\r\nabcd\r\n ef\r\n", out.toString(StandardCharsets.ISO_8859_1));
        out.reset();
        w.reset();
        w.copy(new ByteArrayInputStream(".y".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("..y\r\n", out.toString(StandardCharsets.ISO_8859_1));
    }
}
