package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.settings;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;

/**
 * XFORWARD as Postfix's smtp(8) sends it (XFORWARD_README), against a scripted server: the
 * command text, the attributes the server announced, [UNAVAILABLE], the 512-octet line,
 * a refused XFORWARD, and smtp_xforward_timeout.
 */
class SmtpXforwardTest {

    private static final String ALL = "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE";

    private FakeSmtpServer server;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** on - smtp_send_xforward_command = yes, every other limit {@code ms}, XFORWARD's {@code xforward} */
    private static SmtpClientSettings on(long ms, Duration xforward) {
        return settings(ms).withSession(new SmtpClientSettings.Session(true, true, false, true, true, List.of(), "",
                "", true, true, xforward));
    }

    private static OutboundMessage message(Map<String, String> xforward) {
        byte[] content = "Subject: x\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII);
        return new OutboundMessage("Q7", "s@x.test", List.of(new OutboundMessage.OutboundRecipient("a@x.test", null,
                null)), content.length, () -> new ByteArrayInputStream(content), null, null, false, xforward);
    }

    private RecipientOutcome deliver(SmtpClientSettings s, OutboundMessage m) throws IOException {
        try (SmtpClientSession session = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), s)) {
            return session.deliver(m).recipients().get(0);
        }
    }

    private List<String> xforwardSent(List<String> ehlo, Map<String, String> attributes) throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = ehlo;
        server.on("XFORWARD", "250 2.0.0 Ok");
        assertEquals(Status.SENT, deliver(on(5000, null), message(attributes)).status());
        List<String> sent = server.commands("XFORWARD");
        server.close();
        server = null;
        return sent;
    }

    @Test
    void everyAttributeInPostfixsTwoCommandsBeforeMail() throws IOException {
        Map<String, String> a = Map.of("NAME", "mail.example.org", "ADDR", "192.0.2.7", "PORT", "40123",
                "PROTO", "ESMTP", "HELO", "mail.example.org", "IDENT", "Q7", "SOURCE", "REMOTE");
        for (List<String> ehlo : List.of(List.of("PIPELINING", ALL), List.of(ALL))) {
            server = new FakeSmtpServer(false);
            server.ehloKeywords = ehlo;
            server.on("XFORWARD", "250 2.0.0 Ok");
            assertEquals(Status.SENT, deliver(on(5000, null), message(a)).status());
            assertEquals(List.of("XFORWARD NAME=mail.example.org ADDR=192.0.2.7 PORT=40123",
                    "XFORWARD PROTO=ESMTP HELO=mail.example.org IDENT=Q7 SOURCE=REMOTE"), server.commands("XFORWARD"),
                    String.valueOf(ehlo));
            List<String> t = server.transcript;
            int mail = t.indexOf(t.stream().filter(l -> l.startsWith("MAIL FROM:")).findFirst().orElseThrow());
            assertTrue(t.get(mail - 1).startsWith("XFORWARD PROTO="), "just before MAIL: " + t);
            if (ehlo.contains("PIPELINING")) {
                assertTrue(server.pipelined.contains("XFORWARD NAME=mail.example.org ADDR=192.0.2.7 PORT=40123"),
                        "with PIPELINING the XFORWARD commands go in the group with MAIL");
            }
            server.close();
            server = null;
        }
    }

    @Test
    void onlyTheAnnouncedAttributesAndUnknownOnesAsUnavailable() throws IOException {
        Map<String, String> a = Map.of("NAME", "unknown", "ADDR", "2001:db8::7", "PORT", "40123", "PROTO", "ESMTP",
                "HELO", "a=b c", "IDENT", "Q7", "SOURCE", "REMOTE");
        // the README's example server: NAME ADDR PROTO HELO; an unresolved name is [UNAVAILABLE];
        // an IPv6 address with the IPv6: prefix Postfix writes, without brackets
        assertEquals(List.of("XFORWARD NAME=[UNAVAILABLE] ADDR=IPv6:2001:db8::7", "XFORWARD PROTO=ESMTP HELO=a+3Db+20c"),
                xforwardSent(List.of("XFORWARD NAME ADDR PROTO HELO"), a));
        // the keyword's attribute names in any case and order
        assertEquals(List.of("XFORWARD IDENT=Q7"), xforwardSent(List.of("xforward ident"), a));
        // a group none of whose announced attributes is known is not sent; the others of a group are [UNAVAILABLE]
        assertEquals(List.of("XFORWARD PROTO=[UNAVAILABLE] HELO=[UNAVAILABLE] IDENT=Q7 SOURCE=LOCAL"),
                xforwardSent(List.of(ALL), Map.of("NAME", "unknown", "IDENT", "Q7", "SOURCE", "LOCAL")));
        // XFORWARD without attribute names, or not offered: nothing
        assertEquals(List.of(), xforwardSent(List.of("XFORWARD"), a));
        assertEquals(List.of(), xforwardSent(List.of("PIPELINING"), a));
    }

    @Test
    void aLineThatWouldPass512OctetsIsSplitAndAnOverlongValueIsUnavailable() throws IOException {
        String name = "n".repeat(63) + "." + "a".repeat(63) + "." + "m".repeat(63) + "." + "e".repeat(55) + ".example";   // 255, the longest value
        String addr = "x".repeat(240);
        String helo = "+".repeat(100);   // 300 characters as xtext: longer than the 255 a value may have
        Map<String, String> a = Map.of("NAME", name, "ADDR", addr, "PORT", "25", "PROTO", "ESMTP", "HELO", helo,
                "IDENT", "Q7");
        List<String> sent = xforwardSent(List.of("PIPELINING", ALL), a);
        assertEquals(List.of("XFORWARD NAME=" + name, "XFORWARD ADDR=" + addr + " PORT=25",
                "XFORWARD PROTO=ESMTP HELO=[UNAVAILABLE] IDENT=Q7 SOURCE=[UNAVAILABLE]"), sent);
        assertEquals(255, name.length());
        for (String line : sent) {
            assertTrue(line.length() + 2 <= 512, line.length() + 2 + " octets with CRLF");
        }
        assertTrue(("XFORWARD NAME=" + name + " ADDR=" + addr + " PORT=25").length() + 2 > 512,
                "the test's first group would not fit in one line");
    }

    @Test
    void aRefusedXforwardIsAWarningAndTheMailGoesOnAsWithPostfix() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING", ALL);
        server.on("XFORWARD", "550 5.7.0 Error: insufficient authorization");
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        Logger log = Logger.getLogger("org.postern.smtp");
        log.addHandler(h);
        try {
            assertEquals(Status.SENT, deliver(on(5000, null), message(Map.of("NAME", "mail.example.org",
                    "ADDR", "192.0.2.7", "IDENT", "Q7"))).status());
        } finally {
            log.removeHandler(h);
        }
        assertEquals(1, server.messages.size());
        List<String> warnings = records.stream().filter(r -> r.getLevel() == Level.WARNING)
                .map(r -> java.text.MessageFormat.format(r.getMessage(), r.getParameters())).toList();
        assertEquals(List.of("PSTN3120: Q7: host 127.0.0.1[127.0.0.1] said: 550 5.7.0 Error: insufficient authorization"
                        + " (in reply to XFORWARD name/address command)",
                "PSTN3120: Q7: host 127.0.0.1[127.0.0.1] said: 550 5.7.0 Error: insufficient authorization"
                        + " (in reply to XFORWARD helo/protocol command)"), warnings);
    }

    @Test
    void smtpXforwardTimeoutLimitsXforwardNotTheMailTimeout() throws IOException {
        for (List<String> ehlo : List.of(List.of("PIPELINING", ALL), List.of(ALL))) {
            server = new FakeSmtpServer(false);
            server.ehloKeywords = ehlo;
            server.on("XFORWARD", FakeSmtpServer.HANG);
            long start = System.nanoTime();
            // every other limit 30s: only a 1s smtp_xforward_timeout ends this within seconds
            RecipientOutcome r = deliver(on(30_000, Duration.ofSeconds(1)), message(Map.of("NAME", "mail.example.org",
                    "ADDR", "192.0.2.7", "IDENT", "Q7")));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Status.DEFERRED, r.status(), String.valueOf(ehlo));
            assertEquals("conversation with 127.0.0.1[127.0.0.1] timed out while sending XFORWARD name/address",
                    r.reply());
            assertTrue(ms >= 900 && ms < 10_000, ms + " ms");
            server.close();
            server = null;
        }
    }
}
