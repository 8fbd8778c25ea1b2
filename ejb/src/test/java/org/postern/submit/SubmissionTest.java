package org.postern.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/** SubmissionTest - the envelope properties and the body of a JMS submission, and each refusal's reply. */
class SubmissionTest {
    private static final String ID = "0123456789ABCDEF";
    private static final Instant ARRIVAL = Instant.parse("2026-12-06T10:00:00Z");
    private static final Submission.Limits LIMITS = new Submission.Limits(10240000, 1000, "mx.postern.test", "Postern");
    private static final String MESSAGE = "From: App <app@example.org>\r\nSubject: hello\r\n"
            + "Message-ID: <m1@example.org>\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nbody\r\n";

    private static Map<String, String> props(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Submission read(Map<String, String> props, String body) throws Rejection {
        return read(props, body == null ? null : body.getBytes(StandardCharsets.UTF_8), LIMITS);
    }

    private static Submission read(Map<String, String> props, byte[] body, Submission.Limits limits) throws Rejection {
        return Submission.read(props::get, body, ID, ARRIVAL, limits);
    }

    private static String rejected(Map<String, String> props, String body) {
        return assertThrows(Rejection.class, () -> read(props, body)).reply();
    }

    @Test
    void theEnvelopeComesFromTheProperties() throws Exception {
        Submission s = read(props("postern_sender", "<app@example.org>",
                "postern_recipients", "bob@example.com, <carol@example.net>\n dave@example.com",
                "postern_notify", "success,failure", "postern_orcpt", "rfc822;bob@example.com carol@example.net <dave+tag=1@example.com>",
                "postern_ret", "hdrs", "postern_envid", "batch 42"), MESSAGE);
        Envelope e = s.envelope();
        assertEquals(ID, e.queueId());
        assertEquals("app@example.org", e.sender());
        assertEquals(List.of(new Envelope.Recipient("bob@example.com", "rfc822;bob@example.com", "SUCCESS,FAILURE"),
                new Envelope.Recipient("carol@example.net", "rfc822;carol@example.net", "SUCCESS,FAILURE"),
                new Envelope.Recipient("dave@example.com", "rfc822;dave+2Btag+3D1@example.com", "SUCCESS,FAILURE")), e.recipients());
        assertEquals("HDRS", e.mailParams().get("RET"));
        assertEquals("batch 42", e.mailParams().get("ENVID"));
        assertFalse(e.mailParams().containsKey("BODY"));
        assertEquals("JMS", e.protocol());
        assertEquals(ARRIVAL, e.arrival());
        assertEquals(s.content().length, e.size());
    }

    @Test
    void theContentIsReceivedThenTheMessageUnchanged() throws Exception {
        Submission s = read(props("postern_sender", "app@example.org", "postern_recipients", "bob@example.com"), MESSAGE);
        String text = new String(s.content(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("Received: by mx.postern.test (Postern, from JMS queue postern.submit)\r\n\tid "
                + ID + "; "), text);
        // the message has Message-ID, Date and From: nothing is added but the Received: header
        assertEquals(text.indexOf("\r\n\tid ") + ("\r\n\tid " + ID + "; ").length(), text.indexOf("; ") + 2);
        String received = text.substring(0, text.indexOf("\r\n", text.indexOf("\tid ")) + 2);
        assertEquals(received + MESSAGE, text);
    }

    @Test
    void missingMessageIdDateAndFromAreAddedAtTheEndOfTheHeaderAndBareLfBecomesCrlf() throws Exception {
        Submission s = read(props("postern_sender", "app@example.org", "postern_recipients", "bob@example.com"),
                "Subject: bare\n\nline one\nline two");
        String text = new String(s.content(), StandardCharsets.UTF_8);
        String body = text.substring(text.indexOf("Subject:"));
        assertTrue(body.matches("Subject: bare\r\nMessage-Id: <\\d{14}\\." + ID + "@mx\\.postern\\.test>\r\n"
                + "Date: \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4} \\(.+\\)\r\n"
                + "From: <app@example\\.org>\r\n\r\nline one\r\nline two\r\n"), body);
    }

    @Test
    void theNullSenderIsEmptyOrBrackets() throws Exception {
        assertEquals("", read(props("postern_sender", "<>", "postern_recipients", "bob@example.com"), MESSAGE)
                .envelope().sender());
        Submission s = read(props("postern_sender", "", "postern_recipients", "bob@example.com"), "Subject: x\r\n\r\n.\r\n");
        assertEquals("", s.envelope().sender());
        assertFalse(new String(s.content(), StandardCharsets.UTF_8).contains("From:"), "no From: for the null sender");
    }

    @Test
    void eightBitIsBody8bitmimeAndUtf8HeadersAreSmtputf8() throws Exception {
        Submission body8 = read(props("postern_sender", "a@example.org", "postern_recipients", "b@example.org"),
                "Subject: x\r\n\r\ncaf\u00e9\r\n");
        assertEquals("8BITMIME", body8.envelope().mailParams().get("BODY"));
        assertFalse(body8.envelope().mailParams().containsKey("SMTPUTF8"));
        Submission header8 = read(props("postern_sender", "a@example.org", "postern_recipients", "b@example.org"),
                "Subject: caf\u00e9\r\n\r\nplain\r\n");
        assertTrue(header8.envelope().mailParams().containsKey("SMTPUTF8"));
        assertNull(header8.envelope().mailParams().get("BODY"));
        Submission address8 = read(props("postern_sender", "a@example.org", "postern_recipients", "j\u00f6rg@example.org"),
                "Subject: x\r\n\r\nplain\r\n");
        assertTrue(address8.envelope().mailParams().containsKey("SMTPUTF8"));
    }

    @Test
    void eachMalformedSubmissionHasItsReply() {
        Map<String, String> ok = props("postern_sender", "a@example.org", "postern_recipients", "b@example.org");
        assertEquals("501 5.1.7 Missing postern_sender property", rejected(props("postern_recipients", "b@example.org"), MESSAGE));
        assertEquals("501 5.1.7 Bad sender address syntax",
                rejected(props("postern_sender", "a@@example.org", "postern_recipients", "b@example.org"), MESSAGE));
        assertEquals("554 5.5.1 Error: no valid recipients", rejected(props("postern_sender", "a@example.org"), MESSAGE));
        assertEquals("554 5.5.1 Error: no valid recipients",
                rejected(props("postern_sender", "a@example.org", "postern_recipients", " , "), MESSAGE));
        assertEquals("501 5.1.3 Bad recipient address syntax",
                rejected(props("postern_sender", "a@example.org", "postern_recipients", "b@example.org, <>"), MESSAGE));
        assertEquals("501 5.1.3 Bad recipient address syntax",
                rejected(props("postern_sender", "a@example.org", "postern_recipients", "b@example.org @example.org"), MESSAGE));
        Map<String, String> notify = new HashMap<>(ok);
        notify.put("postern_notify", "NEVER,SUCCESS");
        assertEquals("501 5.5.4 Error: Bad NOTIFY parameter syntax", rejected(notify, MESSAGE));
        Map<String, String> orcpt = new HashMap<>(ok);
        orcpt.put("postern_orcpt", "rfc822;a rfc822;b");
        assertEquals("501 5.5.4 Error: postern_orcpt needs one value per recipient", rejected(orcpt, MESSAGE));
        orcpt.put("postern_orcpt", "rfc822;a=b");
        assertEquals("501 5.5.4 Error: Bad ORCPT parameter syntax", rejected(orcpt, MESSAGE));
        Map<String, String> ret = new HashMap<>(ok);
        ret.put("postern_ret", "BODY");
        assertEquals("501 5.5.4 Bad RET parameter syntax", rejected(ret, MESSAGE));
        Map<String, String> envid = new HashMap<>(ok);
        envid.put("postern_envid", "x".repeat(101));
        assertEquals("501 5.5.4 Bad ENVID parameter syntax", rejected(envid, MESSAGE));
        envid.put("postern_envid", "tab\there");
        assertEquals("501 5.5.4 Bad ENVID parameter syntax", rejected(envid, MESSAGE));
        assertEquals("554 5.6.0 Error: the message body is not a BytesMessage", rejected(ok, null));
        assertEquals("554 5.6.0 Error: empty message", rejected(ok, ""));
        assertEquals("554 5.6.0 Error: message content contains a NUL character", rejected(ok, "Subject: x\r\n\r\na\0b\r\n"));
        assertEquals("554 5.6.0 Error: malformed message header: line 2 is not a header field",
                rejected(ok, "Subject: x\r\nno colon here\r\n\r\nbody\r\n"));
        assertEquals("554 5.6.0 Error: malformed message header: line 1 is not a header field",
                rejected(ok, "just a body without a header\r\n"));
        assertEquals("554 5.6.0 Error: malformed message header: first line is a continuation",
                rejected(ok, " folded\r\nSubject: x\r\n\r\n"));
        assertEquals("554 5.6.0 Error: malformed message header: the message has no header", rejected(ok, "\r\nbody\r\n"));
        assertEquals("554 5.6.7 Error: 8-bit message header is not UTF-8", assertThrows(Rejection.class,
                () -> read(ok, "Subject: caf\u00e9\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), LIMITS)).reply());
    }

    @Test
    void eightBitBodyTextNeedNotBeUtf8() throws Exception {
        Submission s = read(props("postern_sender", "a@example.org", "postern_recipients", "b@example.org"),
                "Subject: x\r\n\r\ncaf\u00e9\r\n".getBytes(StandardCharsets.ISO_8859_1), LIMITS);
        assertEquals("8BITMIME", s.envelope().mailParams().get("BODY"));
    }

    @Test
    void theLimitsAreMessageSizeLimitAndJmsRecipientLimit() throws Exception {
        Map<String, String> ok = props("postern_sender", "a@example.org", "postern_recipients", "b@example.org, c@example.org");
        byte[] body = MESSAGE.getBytes(StandardCharsets.US_ASCII);
        Submission.Limits small = new Submission.Limits(body.length - 1, 2, "mx.postern.test", "Postern");
        assertEquals("552 5.3.4 Message size exceeds fixed limit",
                assertThrows(Rejection.class, () -> read(ok, body, small)).reply());
        // the limit counts what is stored: the added Received: header as well
        Submission.Limits exact = new Submission.Limits(body.length, 2, "mx.postern.test", "Postern");
        assertEquals("552 5.3.4 Message size exceeds fixed limit",
                assertThrows(Rejection.class, () -> read(ok, body, exact)).reply());
        Submission.Limits two = new Submission.Limits(0, 2, "mx.postern.test", "Postern");
        read(ok, body, two);
        Map<String, String> three = props("postern_sender", "a@example.org",
                "postern_recipients", "b@example.org c@example.org d@example.org");
        Rejection r = assertThrows(Rejection.class, () -> read(three, body, two));
        assertEquals("452 4.5.3 Error: too many recipients", r.reply());
        assertEquals("4.5.3", r.status());
        read(three, body, new Submission.Limits(0, 0, "mx.postern.test", "Postern"));
    }

    @Test
    void aDerivedQueueIdIsValidAndTheSameForTheSameMessage() {
        String a = QueueIds.derived(1765015200123L, "ID:5c1e6a2e-d0c2-11f0-a7c2-0242ac110002");
        assertTrue(QueueIds.isValid(a), a);
        assertEquals(a, QueueIds.derived(1765015200123L, "ID:5c1e6a2e-d0c2-11f0-a7c2-0242ac110002"));
        assertFalse(a.equals(QueueIds.derived(1765015200123L, "ID:5c1e6a2e-d0c2-11f0-a7c2-0242ac110003")));
        assertEquals(String.format("%011X", 1765015200123L), a.substring(0, 11));
    }
}
