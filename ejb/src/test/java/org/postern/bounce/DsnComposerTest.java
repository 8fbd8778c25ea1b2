package org.postern.bounce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MessageHeaders;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.junit.jupiter.api.Test;

/** DsnComposerTest - the RFC 3464 report, read back by Jakarta Mail and by Python's email package. */
class DsnComposerTest {
    private static final Instant ARRIVAL = Instant.parse("2025-03-14T09:26:53Z");
    private static final Instant NOW = Instant.parse("2025-03-14T10:00:00Z");
    private static final String ORIGINAL = "Received: from client.example.net\r\n"
            + "Message-ID: <orig-1@example.org>\r\n"
            + "From: Sender <sender@example.org>\r\n"
            + "To: a@example.com, b@example.com\r\n"
            + "Subject: quarterly figures\r\n"
            + "\r\n"
            + "Hello,\r\n"
            + "the figures are attached.\r\n";
    private static final DsnComposer COMPOSER = new DsnComposer("mx.postern.test", "Postern", 50000);

    private static DsnComposer.Original original(String content, String envid) {
        byte[] c = content.getBytes(StandardCharsets.US_ASCII);
        return new DsnComposer.Original("0195948AB2C00001", "sender@example.org", ARRIVAL, envid, c, true);
    }

    private static final DsnComposer.Failure USER_UNKNOWN = new DsnComposer.Failure("a@example.com",
            "rfc822;A+2Bx@example.com", "5.1.1", "mx.example.com[192.0.2.25]:25",
            "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown");
    private static final DsnComposer.Failure EXPIRED = new DsnComposer.Failure("b@example.com", null, "5.4.7",
            "none", "message expired: connect to mx.example.com: Connection refused");

    private static byte[] fullReport() {
        return COMPOSER.compose(DsnComposer.Kind.SENDER, "0195948AB2C00002", "sender@example.org",
                original(ORIGINAL, "env-1"), List.of(USER_UNKNOWN, EXPIRED), false, NOW).content();
    }

    @Test
    void jakartaMailReadsTheReportAndItsDeliveryStatus() throws Exception {
        MimeMessage m = DsnParsers.jakarta(fullReport());

        assertTrue(m.isMimeType("multipart/report"), m.getContentType());
        assertEquals("delivery-status",
                new jakarta.mail.internet.ContentType(m.getContentType()).getParameter("report-type"));
        assertEquals("Undelivered Mail Returned to Sender", m.getSubject());
        assertEquals("sender@example.org", m.getHeader("To", null));
        assertEquals("MAILER-DAEMON@mx.postern.test (Mail Delivery System)", m.getHeader("From", null));
        assertEquals("auto-replied", m.getHeader("Auto-Submitted", null));
        assertEquals("<0195948AB2C00002@mx.postern.test>", m.getMessageID());

        MultipartReport report = assertInstanceOf(MultipartReport.class, m.getContent());
        String text = (String) report.getTextBodyPart().getContent();
        assertTrue(text.startsWith("This is the mail system at host mx.postern.test."), text);
        assertTrue(text.contains("<a@example.com>: host mx.example.com[192.0.2.25] said: 550 5.1.1"), text);
        assertTrue(text.contains("<b@example.com>: message expired: connect to mx.example.com"), text);

        DeliveryStatus status = assertInstanceOf(DeliveryStatus.class, report.getReport());
        InternetHeaders msg = status.getMessageDSN();
        assertEquals("env-1", msg.getHeader("Original-Envelope-Id", null));
        assertEquals("dns; mx.postern.test", msg.getHeader("Reporting-MTA", null));
        assertEquals("Fri, 14 Mar 2025 09:26:53 +0000", msg.getHeader("Arrival-Date", null));
        assertEquals("0195948AB2C00001", msg.getHeader("X-Postern-Queue-ID", null));
        assertEquals(2, status.getRecipientDSNCount());

        InternetHeaders a = status.getRecipientDSN(0);
        assertEquals("rfc822; a@example.com", a.getHeader("Final-Recipient", null));
        assertEquals("rfc822;A+x@example.com", a.getHeader("Original-Recipient", null), "ORCPT decoded from xtext");
        assertEquals("failed", a.getHeader("Action", null));
        assertEquals("5.1.1", a.getHeader("Status", null));
        assertEquals("dns; mx.example.com", a.getHeader("Remote-MTA", null));
        assertEquals("smtp; 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown",
                unfold(a.getHeader("Diagnostic-Code", null)));

        InternetHeaders b = status.getRecipientDSN(1);
        assertEquals("rfc822; b@example.com", b.getHeader("Final-Recipient", null));
        assertNull(b.getHeader("Original-Recipient"));
        assertEquals("5.4.7", b.getHeader("Status", null));
        assertNull(b.getHeader("Remote-MTA"), "no remote server was reached");
        assertNull(b.getHeader("Diagnostic-Code"), "no remote server answered");

        MimeMessage returned = assertInstanceOf(MimeMessage.class, report.getReturnedMessage());
        assertEquals("quarterly figures", returned.getSubject());
        assertEquals("<orig-1@example.org>", returned.getMessageID());
        assertEquals("Hello,\r\nthe figures are attached.\r\n", returned.getContent());
    }

    @Test
    void pythonsEmailPackageReadsTheSameFields() {
        Map<String, String> f = DsnParsers.python(fullReport());

        assertEquals("0", f.get("defects"), f.toString());
        assertEquals("multipart/report", f.get("content-type"));
        assertEquals("delivery-status", f.get("report-type"));
        assertEquals("3", f.get("parts"));
        assertEquals("text/plain", f.get("part0"));
        assertEquals("message/delivery-status", f.get("part1"));
        assertEquals("message/rfc822", f.get("part2"));
        assertEquals("sender@example.org", f.get("to"));
        assertEquals("dns; mx.postern.test", f.get("msg.Reporting-MTA"));
        assertEquals("env-1", f.get("msg.Original-Envelope-Id"));
        assertEquals("rfc822; a@example.com", f.get("rcpt0.Final-Recipient"));
        assertEquals("rfc822;A+x@example.com", f.get("rcpt0.Original-Recipient"));
        assertEquals("failed", f.get("rcpt0.Action"));
        assertEquals("5.1.1", f.get("rcpt0.Status"));
        assertEquals("dns; mx.example.com", f.get("rcpt0.Remote-MTA"));
        assertEquals("smtp; 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown",
                f.get("rcpt0.Diagnostic-Code"));
        assertEquals("rfc822; b@example.com", f.get("rcpt1.Final-Recipient"));
        assertEquals("5.4.7", f.get("rcpt1.Status"));
        assertFalse(f.containsKey("rcpt1.Remote-MTA"));
        assertEquals("quarterly figures", f.get("returned.Subject"));
        assertEquals("Hello,|the figures are attached.|", f.get("returned.body"));
    }

    @Test
    void retHdrsReturnsOnlyTheHeaderAsTextRfc822Headers() throws Exception {
        byte[] r = COMPOSER.compose(DsnComposer.Kind.SENDER, "0195948AB2C00002", "sender@example.org",
                original(ORIGINAL, null), List.of(USER_UNKNOWN), true, NOW).content();

        MultipartReport report = (MultipartReport) DsnParsers.jakarta(r).getContent();
        MessageHeaders headers = assertInstanceOf(MessageHeaders.class, report.getReturnedMessage());
        assertEquals("quarterly figures", headers.getSubject());
        assertFalse(new String(r, StandardCharsets.US_ASCII).contains("the figures are attached"));
        assertNull(report.getDeliveryStatus().getMessageDSN().getHeader("Original-Envelope-Id"), "no ENVID given");

        Map<String, String> f = DsnParsers.python(r);
        assertEquals("text/rfc822-headers", f.get("part2"));
        assertEquals("quarterly figures", f.get("returned.Subject"));
        assertEquals("0", f.get("defects"));
    }

    @Test
    void theReturnedMessageIsCutAtBounceSizeLimitOnALineEnd() throws Exception {
        StringBuilder big = new StringBuilder(ORIGINAL);
        for (int i = 0; i < 2000; i++) {
            big.append("line ").append(i).append(" of a long message body\r\n");
        }
        DsnComposer small = new DsnComposer("mx.postern.test", "Postern", 1000);
        byte[] r = small.compose(DsnComposer.Kind.SENDER, "0195948AB2C00002", "sender@example.org",
                original(big.toString(), null), List.of(USER_UNKNOWN), false, NOW).content();

        assertTrue(r.length < 4000, "report size " + r.length);
        MimeMessage returned = (MimeMessage) ((MultipartReport) DsnParsers.jakarta(r).getContent())
                .getReturnedMessage();
        String body = (String) returned.getContent();
        assertTrue(body.endsWith(" of a long message body\r\n"), body);
        assertEquals("quarterly figures", DsnParsers.python(r).get("returned.Subject"));
    }

    @Test
    void hostileEnvelopeValuesCannotAddFields() throws Exception {
        DsnComposer.Failure hostile = new DsnComposer.Failure("a@example.com",
                "rfc822;x+0D+0AAction:+20delivered@example.com", "5.1.1", "mx.example.com[192.0.2.25]:25",
                "550 no\r\nAction: delivered\r\n\r\nFinal-Recipient: rfc822; evil@example.com");
        byte[] r = COMPOSER.compose(DsnComposer.Kind.SENDER, "0195948AB2C00002", "sender@example.org",
                original(ORIGINAL, "e\r\nReporting-MTA: dns; evil"), List.of(hostile), false, NOW).content();

        DeliveryStatus status = ((MultipartReport) DsnParsers.jakarta(r).getContent()).getDeliveryStatus();
        assertEquals(1, status.getRecipientDSNCount());
        assertEquals(1, status.getMessageDSN().getHeader("Reporting-MTA").length);
        assertEquals(1, status.getRecipientDSN(0).getHeader("Action").length);
        assertEquals("failed", status.getRecipientDSN(0).getHeader("Action", null));
        assertEquals("rfc822;x Action: delivered@example.com",
                status.getRecipientDSN(0).getHeader("Original-Recipient", null));
    }

    @Test
    void aPostmasterNoticeSaysSoAndReturnsHeaders() throws Exception {
        byte[] r = COMPOSER.compose(DsnComposer.Kind.POSTMASTER, "0195948AB2C00003", "postmaster@postern.test",
                new DsnComposer.Original("0195948AB2C00002", "", ARRIVAL, null,
                        ORIGINAL.getBytes(StandardCharsets.US_ASCII), true),
                List.of(USER_UNKNOWN), true, NOW).content();

        MimeMessage m = DsnParsers.jakarta(r);
        assertEquals("Postmaster Copy: Undelivered Mail", m.getSubject());
        MultipartReport report = (MultipartReport) m.getContent();
        assertTrue(((String) report.getTextBodyPart().getContent()).contains("Queue ID: 0195948AB2C00002"));
        assertEquals("rfc822; ", report.getDeliveryStatus().getMessageDSN().getHeader("X-Postern-Sender", null)
                .stripTrailing() + " ");
        assertInstanceOf(MessageHeaders.class, report.getReturnedMessage());
    }

    @Test
    void statusAndRemoteHostHelpers() {
        assertEquals("mx.example.com", DsnComposer.remoteHost("mx.example.com[192.0.2.25]:25"));
        assertNull(DsnComposer.remoteHost("none"));
        assertNull(DsnComposer.remoteHost(null));
        assertEquals("private/dovecot-lmtp", DsnComposer.remoteHost("private/dovecot-lmtp"));
        assertEquals("rfc822;a+b@example.com", DsnComposer.originalRecipient("rfc822;a+2Bb@example.com"));
        assertNull(DsnComposer.originalRecipient("no-type"));
        assertTrue(BounceNotifier.wantsFailureNotice(null));
        assertTrue(BounceNotifier.wantsFailureNotice("FAILURE,DELAY"));
        assertTrue(BounceNotifier.wantsFailureNotice("success,failure"));
        assertFalse(BounceNotifier.wantsFailureNotice("NEVER"));
        assertFalse(BounceNotifier.wantsFailureNotice("SUCCESS,DELAY"));
    }

    private static String unfold(String s) {
        return s.replaceAll("\r\n[ \t]", " ");
    }

    @Test
    void theClientsProtocolNoticeCarriesTheTranscriptAsPostfixWritesIt() throws Exception {
        String longReply = "In:  500 5.5.2 Error: command not recognized, and a reason long enough to be wrapped at "
                + "seventy-eight columns";
        DsnComposer.Report r = COMPOSER.transcriptNotice("0195948AB2C00009", "postmaster@mx.postern.test",
                false, "mx.example.com[192.0.2.25]:25",
                List.of("In:  220 mx.example.com ESMTP", "Out: EHLO mx.postern.test", "Out: RCPT TO:<a@example.com>",
                        longReply, "In:  550 caf\u00e9\r\nSubject: forged"), NOW);
        String text = new String(r.content(), StandardCharsets.US_ASCII);
        MimeMessage m = new MimeMessage(null, new java.io.ByteArrayInputStream(r.content()));
        assertEquals("Postern SMTP client: errors from mx.example.com[192.0.2.25]:25", m.getSubject());
        assertEquals("postmaster@mx.postern.test (Postmaster)", m.getHeader("To", ","));
        assertEquals("auto-generated", m.getHeader("Auto-Submitted", ","));
        assertTrue(text.contains("\r\n\r\nUnexpected response from mx.example.com[192.0.2.25]:25.\r\n\r\nTranscript of session follows.\r\n\r\n In:  220 mx.example.com ESMTP\r\n"
                + " Out: EHLO mx.postern.test\r\n Out: RCPT TO:<a@example.com>\r\n"), text);
        // wrapped at 78 columns between words, the continuation indented by four
        assertTrue(text.contains(" In:  500 5.5.2 Error: command not recognized, and a reason long enough to be\r\n"
                + "     wrapped at seventy-eight columns\r\n"), text);
        // what the server said cannot make a header line or leave ASCII
        assertTrue(text.contains(" In:  550 caf???Subject: forged\r\n"), text);
        assertTrue(text.endsWith("\r\nFor other details, see the local mail logfile\r\n"), text);
        for (byte b : r.content()) {
            assertTrue(b > 0, "ASCII only");
        }
        DsnComposer.Report lmtp = COMPOSER.transcriptNotice("0195948AB2C0000A", "postmaster@mx.postern.test",
                true, "private/dovecot-lmtp", List.of("In:  220 ready"), NOW);
        assertEquals("Postern LMTP client: errors from private/dovecot-lmtp",
                new MimeMessage(null, new java.io.ByteArrayInputStream(lmtp.content())).getSubject());
    }

    @Test
    void aReturnedMessageThatHoldsTheBoundaryCannotCutTheReport() throws Exception {
        // the boundary is Postfix's (queue id, time, host): guessable, so the sender may put it in the message
        String guessed = "0195948AB2C00002." + NOW.getEpochSecond() + "/mx.postern.test";
        String content = ORIGINAL + "--" + guessed + "\r\nContent-Type: text/plain\r\n\r\nforged part\r\n--"
                + guessed + "--\r\nafter\r\n";
        byte[] report = COMPOSER.compose(DsnComposer.Kind.SENDER, "0195948AB2C00002", "sender@example.org",
                original(content, null), List.of(USER_UNKNOWN), false, NOW).content();
        MimeMessage m = DsnParsers.jakarta(report);
        MultipartReport r = assertInstanceOf(MultipartReport.class, m.getContent());
        assertEquals(3, r.getCount(), "three parts, the last one the whole message");
        String returned = new String(report, StandardCharsets.US_ASCII);
        assertTrue(returned.contains("boundary=\"" + guessed + ".1\""), returned);
        assertTrue(returned.contains("forged part\r\n--" + guessed + "--\r\nafter\r\n\r\n--" + guessed + ".1--\r\n"),
                returned);
    }

    @Test
    void theHeaderOfAMessageWithoutHeaderIsEmpty() {
        byte[] report = COMPOSER.compose(DsnComposer.Kind.SENDER, "0195948AB2C00002", "sender@example.org",
                original("\r\nonly a body\r\n\r\nand more\r\n", null), List.of(USER_UNKNOWN), true, NOW).content();
        String text = new String(report, StandardCharsets.US_ASCII);
        assertTrue(text.contains("Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\r\n--"),
                text);
        assertFalse(text.contains("only a body"), text);
    }
}
