package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.Random;

import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;

/**
 * 8-bit to 7-bit conversion of MIME messages for servers without 8BITMIME: multipart and
 * message/rfc822 walked as Postfix's mime_state does, the result read back with Jakarta Mail.
 */
class SmtpMimeDowngradeTest {

    private static final String TEXT = "Gr\u00fc\u00dfe aus K\u00f6ln = 100 \u20ac \r\n"
            + ".a line that starts with a dot\r\n"
            + "\tand one that starts with a tab, and ends with one\t\r\n";
    /* the text as a part's content: the CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1) */
    private static final String TEXT_IN_PART = TEXT.substring(0, TEXT.length() - 2);
    private static final byte[] ATTACHMENT = new byte[3000];

    static {
        new Random(4).nextBytes(ATTACHMENT);
    }

    private FakeSmtpServer server;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private static String base64Lines(byte[] data) {
        return Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(data) + "\r\n";
    }

    /* multipart/mixed, itself labelled 8bit: an 8-bit text part and a base64 attachment */
    private static final String MIXED = "From: a@client.test\r\n"
            + "To: b@x.test\r\n"
            + "Subject: Gr\u00fc\u00dfe\r\n"
            + "MIME-Version: 1.0\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n"
            + "Content-Type: multipart/mixed;\r\n\tboundary=\"==b1==\"\r\n"
            + "\r\n"
            + "This is a multi-part message in MIME format.\r\n"
            + "--==b1==\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n"
            + "\r\n"
            + TEXT
            + "--==b1==\r\n"
            + "Content-Type: application/octet-stream; name=data.bin\r\n"
            + "Content-Transfer-Encoding: base64\r\n"
            + "\r\n"
            + base64Lines(ATTACHMENT)
            + "--==b1==--\r\n"
            + "epilogue\r\n";

    private static String convert(String content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SmtpMimeDowngrade.copy(new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static MimeMessage parse(byte[] content) throws Exception {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(content));
    }

    /* unstuff - the message as the fake server received it, without the dot-stuffing */
    private static byte[] unstuff(byte[] wire) {
        String s = new String(wire, StandardCharsets.ISO_8859_1);
        s = (s.startsWith("..") ? s.substring(1) : s).replace("\r\n..", "\r\n.");
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /* body - what follows the primary header block */
    private static String body(String message) {
        return message.substring(message.indexOf("\r\n\r\n") + 4);
    }

    private static void assertSevenBit(String s) {
        for (int i = 0; i < s.length(); i++) {
            assertTrue(s.charAt(i) < 0x80, "8-bit byte at " + i + ": " + s);
        }
    }

    private static void assertLinesWithin(String s, int limit) {
        for (String line : s.split("\r\n")) {
            assertTrue(line.length() <= limit, line.length() + ": " + line);
        }
    }

    @Test
    void aMultipartWithAn8bitTextPartAndABase64AttachmentReachesAServerWithout8bitmimeIn7bit() throws Exception {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING", "SIZE 1000000");
        byte[] content = MIXED.getBytes(StandardCharsets.UTF_8);
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), fast())) {
            assertEquals(Status.SENT, s.deliver(message(content, true, "b@x.test")).recipients().get(0).status());
        }
        assertFalse(server.commands("MAIL").get(0).contains("BODY="));
        byte[] received = unstuff(server.messages.get(0));
        String got = new String(received, StandardCharsets.ISO_8859_1);

        // the header block: 8-bit Subject left as it was, the multipart relabelled 7bit
        String header = got.substring(0, got.indexOf("\r\n\r\n") + 2);
        assertEquals("From: a@client.test\r\nTo: b@x.test\r\n"
                + "Subject: Gr\u00c3\u00bc\u00c3\u009fe\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed;\r\n\tboundary=\"==b1==\"\r\n"
                + "Content-Transfer-Encoding: 7bit\r\n", header);
        assertSevenBit(body(got));
        assertLinesWithin(got, 76);
        // boundaries, preamble, epilogue and the base64 part byte for byte
        assertEquals(List.of("--==b1==", "--==b1==", "--==b1==--"), got.lines().filter(l -> l.startsWith("--")).toList());
        assertTrue(got.contains("\r\n\r\nThis is a multi-part message in MIME format.\r\n--==b1==\r\n"), got);
        assertTrue(got.contains("Content-Transfer-Encoding: base64\r\n\r\n" + base64Lines(ATTACHMENT) + "--==b1==--\r\n"
                + "epilogue\r\n"), got);
        assertTrue(got.contains("Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "Gr=C3=BC=C3=9Fe aus K=C3=B6ln =3D 100 =E2=82=AC=20\r\n"), got);

        // and a MIME parser reads the original text and the original attachment back
        MimeMessage m = parse(received);
        Multipart mp = (Multipart) m.getContent();
        assertEquals(2, mp.getCount());
        Part text = mp.getBodyPart(0);
        assertEquals("quoted-printable", ((jakarta.mail.internet.MimeBodyPart) text).getEncoding());
        assertEquals(TEXT_IN_PART, text.getContent());
        Part bin = mp.getBodyPart(1);
        assertArrayEquals(ATTACHMENT, bin.getInputStream().readAllBytes());
        assertEquals("data.bin", bin.getFileName());
    }

    @Test
    void anEightBitMessageInsideAMessageRfc822PartIsConvertedToo() throws Exception {
        String inner = "From: c@inner.test\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + TEXT;
        String outer = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n"
                + "--outer\r\nContent-Type: text/plain\r\n\r\nsee the attached message\r\n"
                + "--outer\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + inner
                + "--outer--\r\n";
        String got = convert(outer);
        assertSevenBit(got);
        assertTrue(got.contains("--outer\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                + "From: c@inner.test\r\n"), got);
        assertTrue(got.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
                + "\r\n\r\nGr=C3=BC"), got);
        MimeMessage m = parse(got.getBytes(StandardCharsets.ISO_8859_1));
        Multipart mp = (Multipart) m.getContent();
        assertEquals("see the attached message", mp.getBodyPart(0).getContent());
        MimeMessage attached = (MimeMessage) mp.getBodyPart(1).getContent();
        assertEquals("inner", attached.getSubject());
        assertEquals(TEXT_IN_PART, attached.getContent());
    }

    @Test
    void theMessagesOfADigestDefaultToMessageRfc822() throws Exception {
        String digest = "MIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n"
                + "--d\r\n\r\nSubject: one\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n\r\n" + TEXT + "--d--\r\n";
        String got = convert(digest);
        assertSevenBit(got);
        assertTrue(got.contains("--d\r\n\r\nSubject: one\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC"), got);
        // Jakarta Mail takes a digest's unlabelled parts as text/plain: read the part's bytes as the message
        Part part = ((Multipart) parse(got.getBytes(StandardCharsets.ISO_8859_1)).getContent()).getBodyPart(0);
        MimeMessage one = parse(part.getInputStream().readAllBytes());
        assertEquals("one", one.getSubject());
        assertEquals(TEXT_IN_PART, one.getContent());
    }

    @Test
    void aMessageWithout8bitPartsPassesByteForByte() throws Exception {
        String sevenBit = MIXED.replace("Subject: Gr\u00fc\u00dfe", "Subject: hello")
                .replace("Content-Transfer-Encoding: 8bit\r\n\r\n" + TEXT,
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n")
                .replace("Content-Transfer-Encoding: 8bit\r\nContent-Type: multipart", "Content-Type: multipart");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] in = sevenBit.getBytes(StandardCharsets.US_ASCII);
        assertFalse(SmtpMimeDowngrade.copy(new ByteArrayInputStream(in), out), "nothing to convert");
        assertArrayEquals(in, out.toByteArray());

        // and a 7-bit message (no BODY=8BITMIME) goes to a server without 8BITMIME untouched
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING");
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), fast())) {
            assertEquals(Status.SENT, s.deliver(message(in, false, "b@x.test")).recipients().get(0).status());
        }
        assertArrayEquals(in, unstuff(server.messages.get(0)));
    }

    @Test
    void aPartThatClaims7bitIsLeftAloneAsPostfixDoes() throws Exception {
        String claims7bit = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                + "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\u00e9\r\n--b--\r\n";
        assertEquals(new String(claims7bit.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1),
                convert(claims7bit));
    }

    @Test
    void aLongLineIsEncodedAcrossChunksWithin76CharacterLines() throws Exception {
        String line = ("\u00e9t\u00e9 " + "x".repeat(40) + " ").repeat(600);   // longer than one read chunk
        String in = "Content-Type: multipart/alternative; boundary=\"a b\"\r\n\r\n--a b\r\n"
                + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                + line + "\r\n--a b--\r\n";
        String got = convert(in);
        assertSevenBit(got);
        assertLinesWithin(got, 76);
        Multipart mp = (Multipart) parse(got.getBytes(StandardCharsets.ISO_8859_1)).getContent();
        assertEquals(line, mp.getBodyPart(0).getContent());
    }

    @Test
    void headersWithoutABodyPassAndABodyWithoutHeadersGetsItsEmptyLine() throws Exception {
        assertEquals("Subject: caf\u00c3\u00a9\r\n", convert("Subject: caf\u00e9\r\n"));
        assertEquals("", convert(""));
        // no header at all: the new fields, then the empty line Postfix inserts, then the body
        assertEquals("MIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n",
                convert("caf\u00e9\r\n"));
    }

    @Test
    void boundaryParametersAreReadAsTokensOrQuotedStrings() {
        assertEquals("==b1==", SmtpMimeDowngrade.parameter(" charset=x; boundary=\"==b1==\"", "boundary"));
        assertEquals("simple", SmtpMimeDowngrade.parameter("BOUNDARY=simple ; x=y", "boundary"));
        assertEquals("a\"b", SmtpMimeDowngrade.parameter("boundary=\"a\\\"b\"", "boundary"));
        assertEquals(null, SmtpMimeDowngrade.parameter("charset=utf-8", "boundary"));
    }

    @Test
    void mimeNestingLimitAndBoundaryLengthLimitAreParameters() throws IOException {
        String nested = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
                + "--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
                + "--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + TEXT + "--inner--\r\n--outer--\r\n";
        byte[] bytes = nested.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream deep = new ByteArrayOutputStream();
        assertTrue(SmtpMimeDowngrade.copy(new ByteArrayInputStream(bytes), deep, 100, 2048));
        assertSevenBit(deep.toString(StandardCharsets.ISO_8859_1));
        // mime_nesting_limit = 1: the inner multipart is not followed, its 8-bit part goes as it is
        ByteArrayOutputStream shallow = new ByteArrayOutputStream();
        SmtpMimeDowngrade.copy(new ByteArrayInputStream(bytes), shallow, 1, 2048);
        assertTrue(shallow.toString(StandardCharsets.UTF_8).contains(TEXT), shallow.toString(StandardCharsets.UTF_8));
        // mime_boundary_length_limit = 3: "inner" and "outer" compare as "inn" and "out" - still distinct, still converted
        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        assertTrue(SmtpMimeDowngrade.copy(new ByteArrayInputStream(bytes), cut, 100, 3));
        assertSevenBit(cut.toString(StandardCharsets.ISO_8859_1));
    }
}
