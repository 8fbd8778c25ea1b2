package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;
import static org.postern.smtp.SmtpTestSupport.settings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;

/** The session parameters of smtp(8), as conversations with a scripted server. */
class SmtpSessionOptionsTest {

    private FakeSmtpServer server;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private static SmtpClientSettings.Session options(boolean skip5xx, boolean alwaysEhlo, boolean neverEhlo,
                                                      boolean skipQuit, boolean quote, List<String> discard,
                                                      String bind, boolean convert) {
        return new SmtpClientSettings.Session(skip5xx, alwaysEhlo, neverEhlo, skipQuit, quote, discard, bind, "", convert);
    }

    private static SmtpClientSettings.Session defaults() {
        return SmtpClientSettings.Session.defaults(false);
    }

    private DeliveryOutcome deliver(SmtpClientSettings s, OutboundMessage m) throws IOException {
        try (SmtpClientSession session = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), s)) {
            return session.deliver(m);
        }
    }

    @Test
    void smtpAlwaysSendEhloNoSendsEhloOnlyToAnEsmtpGreeting() throws IOException {
        SmtpClientSettings s = fast().withSession(options(true, false, false, true, true, List.of(), "", true));
        server = new FakeSmtpServer(false);
        server.greeting = "220 fake.test SMTP ready";
        assertEquals(Status.SENT, deliver(s, message("x\r\n", "a@x.test")).recipients().get(0).status());
        assertEquals(List.of("HELO client.test"), server.commands("HELO"));
        assertEquals(List.of(), server.commands("EHLO"));
        server.close();
        server = new FakeSmtpServer(false);
        server.greeting = "220 fake.test ESMTP ready";
        deliver(s, message("x\r\n", "a@x.test"));
        assertEquals(List.of("EHLO client.test"), server.commands("EHLO"));
    }

    @Test
    void smtpNeverSendEhloSendsHelo() throws IOException {
        server = new FakeSmtpServer(false);
        SmtpClientSettings s = fast().withSession(options(true, true, true, true, true, List.of(), "", true));
        assertEquals(Status.SENT, deliver(s, message("x\r\n", "a@x.test")).recipients().get(0).status());
        assertEquals(List.of(), server.commands("EHLO"));
        assertEquals(List.of("HELO client.test"), server.commands("HELO"));
        // no ESMTP: no SIZE= even though the server could have offered it
        assertEquals(List.of("MAIL FROM:<sender@client.test>"), server.commands("MAIL"));
    }

    @Test
    void smtpSkip5xxGreetingNoBouncesYesDefers() throws IOException {
        server = new FakeSmtpServer(false);
        server.greeting = "554 5.7.1 go away";
        RecipientOutcome skipped = deliver(fast(), message("x\r\n", "a@x.test")).recipients().get(0);
        assertEquals(Status.DEFERRED, skipped.status());
        assertEquals("4.7.1", skipped.dsn());
        SmtpClientSettings s = fast().withSession(options(false, true, false, true, true, List.of(), "", true));
        RecipientOutcome bounced = deliver(s, message("x\r\n", "a@x.test")).recipients().get(0);
        assertEquals(new RecipientOutcome("a@x.test", Status.BOUNCED, "5.7.1",
                "host 127.0.0.1[127.0.0.1] refused to talk to me: 554 5.7.1 go away"), bounced);
    }

    @Test
    void smtpSkipQuitResponseDoesNotWaitForTheQuitReply() throws IOException {
        server = new FakeSmtpServer(false);
        server.on("QUIT", FakeSmtpServer.HANG);
        SmtpClientSettings skip = settings(1500).withSession(defaults());
        SmtpClientSettings wait = settings(1500).withSession(SmtpClientSettings.Session.defaults(true));
        long t0 = System.nanoTime();
        deliver(skip, message("x\r\n", "a@x.test"));
        long skipping = System.nanoTime() - t0;
        t0 = System.nanoTime();
        deliver(wait, message("x\r\n", "a@x.test"));
        long waiting = System.nanoTime() - t0;
        assertTrue(skipping < 1_000_000_000L, "skip: " + skipping / 1_000_000 + " ms");
        assertTrue(waiting >= 1_400_000_000L, "wait for the QUIT reply until smtp_quit_timeout: " + waiting / 1_000_000 + " ms");
        assertEquals(2, server.commands("QUIT").size());
    }

    @Test
    void smtpQuoteRfc821EnvelopeQuotesLocalPartsThatNeedIt() throws IOException {
        server = new FakeSmtpServer(false);
        deliver(fast(), message("x\r\n", "john doe@x.test", "a.b+c@x.test"));
        assertEquals(List.of("RCPT TO:<\"john doe\"@x.test>", "RCPT TO:<a.b+c@x.test>"), server.commands("RCPT"));
        server.transcript.clear();
        SmtpClientSettings raw = fast().withSession(options(true, true, false, true, false, List.of(), "", true));
        deliver(raw, message("x\r\n", "john doe@x.test"));
        assertEquals(List.of("RCPT TO:<john doe@x.test>"), server.commands("RCPT"));
        assertEquals("\"a..b\"@x", SmtpClientSession.quote("a..b@x"));
        assertEquals("\"q\\\"t\\\\\"@x", SmtpClientSession.quote("q\"t\\@x"));
        assertEquals("\"already quoted\"@x", SmtpClientSession.quote("\"already quoted\"@x"));
        assertEquals("", SmtpClientSession.quote(""));
        assertEquals("\u00fcser@x", SmtpClientSession.quote("\u00fcser@x"));
    }

    @Test
    void smtpDiscardEhloKeywordsIgnoresThoseFeatures() throws IOException {
        server = new FakeSmtpServer(false);
        SmtpClientSettings s = fast().withSession(options(true, true, false, true, true,
                List.of("pipelining", "size", "dsn"), "", true));
        OutboundMessage m = new OutboundMessage("Q", "s@x.test",
                List.of(new OutboundMessage.OutboundRecipient("a@x.test", "rfc822;a@x.test", "SUCCESS")), 3,
                () -> new java.io.ByteArrayInputStream("x\r\n".getBytes(StandardCharsets.US_ASCII)), "ENV1", "HDRS", false);
        assertEquals(Status.SENT, deliver(s, m).recipients().get(0).status());
        assertEquals(List.of("MAIL FROM:<s@x.test>"), server.commands("MAIL"), "no SIZE=, no DSN parameters");
        assertEquals(List.of("RCPT TO:<a@x.test>"), server.commands("RCPT"));
        assertEquals(List.of(), server.pipelined, "no PIPELINING: one command at a time");
    }

    @Test
    void smtpBindAddressIsTheSourceOfTheConnection() throws IOException {
        server = new FakeSmtpServer(false);
        SmtpClientSettings s = fast().withSession(options(true, true, false, true, true, List.of(), "127.0.0.2", true));
        assertEquals(Status.SENT, deliver(s, message("x\r\n", "a@x.test")).recipients().get(0).status());
        assertTrue(server.peers.get(0).startsWith("/127.0.0.2:"), server.peers.toString());
        // an address that is not ours cannot be bound: the delivery defers
        SmtpClientSettings bad = fast().withSession(options(true, true, false, true, true, List.of(), "192.0.2.77", true));
        RecipientOutcome r = deliver(bad, message("x\r\n", "a@x.test")).recipients().get(0);
        assertEquals(Status.DEFERRED, r.status());
        assertEquals("4.4.1", r.dsn());
    }

    private static final String TEXT_8BIT = "Subject: caf\u00e9\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n\r\ncaf\u00e9 = bon \r\n";

    @Test
    void eightBitTextIsConvertedToQuotedPrintableForAServerWithout8bitmime() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING", "SIZE 1000000");
        byte[] content = TEXT_8BIT.getBytes(StandardCharsets.UTF_8);
        assertEquals(Status.SENT, deliver(fast(), message(content, true, "a@x.test")).recipients().get(0).status());
        String got = new String(server.messages.get(0), StandardCharsets.ISO_8859_1);
        assertEquals("Subject: caf\u00c3\u00a9\r\nContent-Type: text/plain; charset=utf-8\r\nMIME-Version: 1.0\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =3D bon=20\r\n", got);
        assertFalse(server.commands("MAIL").get(0).contains("BODY="));
    }

    @Test
    void eightBitIsSentAsIsWith8bitmimeOrWhenConversionIsDisabledOrNotText() throws IOException {
        byte[] content = TEXT_8BIT.getBytes(StandardCharsets.UTF_8);
        server = new FakeSmtpServer(false);   // offers 8BITMIME
        deliver(fast(), message(content, true, "a@x.test"));
        assertTrue(server.commands("MAIL").get(0).endsWith(" BODY=8BITMIME"));
        assertEquals(TEXT_8BIT, new String(server.messages.get(0), StandardCharsets.UTF_8));
        server.close();

        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("PIPELINING");
        SmtpClientSettings off = fast().withSession(options(true, true, false, true, true, List.of(), "", false));
        deliver(off, message(content, true, "a@x.test"));
        assertEquals(TEXT_8BIT, new String(server.messages.get(0), StandardCharsets.UTF_8), "disable_mime_output_conversion");

        String multipart = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ncaf\u00e9\r\n--b--\r\n";
        deliver(fast(), message(multipart.getBytes(StandardCharsets.UTF_8), true, "a@x.test"));
        assertEquals(multipart, new String(server.messages.get(1), StandardCharsets.UTF_8), "a part without Content-Transfer-Encoding claims 7bit: sent as it is, as Postfix does");
    }

    @Test
    void quotedPrintableLinesStayWithin76Characters() throws IOException {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of();
        String body = "\u00e9".repeat(100) + "x".repeat(100);
        deliver(fast(), message(("Subject: q\r\n\r\n" + body + "\r\n").getBytes(StandardCharsets.UTF_8), true, "a@x.test"));
        String got = new String(server.messages.get(0), StandardCharsets.US_ASCII);
        String encoded = got.substring(got.indexOf("\r\n\r\n") + 4);
        StringBuilder decoded = new StringBuilder();
        for (String line : encoded.split("\r\n")) {
            assertTrue(line.length() <= 76, line.length() + ": " + line);
            decoded.append(line.endsWith("=") ? line.substring(0, line.length() - 1) : line + "\n");
        }
        byte[] bytes = new java.io.ByteArrayOutputStream() {
            {
                String d = decoded.toString();
                for (int i = 0; i < d.length(); i++) {
                    if (d.charAt(i) == '=') {
                        write(Integer.parseInt(d.substring(i + 1, i + 3), 16));
                        i += 2;
                    } else {
                        write(d.charAt(i));
                    }
                }
            }
        }.toByteArray();
        assertEquals(body + "\n", new String(bytes, StandardCharsets.UTF_8));
    }

    @Test
    void aDataDoneTimeoutWarnsThatTheMessageMayBeDeliveredTwice() throws IOException {
        server = new FakeSmtpServer(false);
        server.on(".", FakeSmtpServer.HANG);
        List<LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger("org.postern.smtp");
        log.addHandler(h);
        try {
            RecipientOutcome r = deliver(settings(300), message("x\r\n", "a@x.test")).recipients().get(0);
            assertEquals(Status.DEFERRED, r.status());
            assertTrue(r.reply().endsWith("timed out while sending end of data -- message may be sent more than once"));
        } finally {
            log.removeHandler(h);
        }
        LogRecord w = records.stream().filter(x -> x.getLevel() == Level.WARNING).findFirst().orElseThrow();
        String text = java.text.MessageFormat.format(w.getMessage(), w.getParameters());
        assertTrue(text.startsWith("PSTN3106: QID1: conversation with 127.0.0.1[127.0.0.1] timed out"), text);
        assertTrue(text.contains("message may be sent more than once"), text);
    }

    @Test
    void lmtpSendXforwardCommandSendsTheClientAttributesWhenOffered() throws IOException {
        server = new FakeSmtpServer(true);
        server.ehloKeywords = List.of("PIPELINING", "XFORWARD NAME ADDR PROTO HELO IDENT");
        server.on("XFORWARD", "250 2.0.0 Ok");
        OutboundMessage m = new OutboundMessage("Q7", "s@x.test", List.of(new OutboundMessage.OutboundRecipient(
                "a@x.test", null, null)), 3, () -> new java.io.ByteArrayInputStream("x\r\n".getBytes(StandardCharsets.US_ASCII)),
                null, null, false, java.util.Map.of("IDENT", "Q7", "NAME", "client.example", "ADDR", "192.0.2.1",
                "HELO", "odd helo"));
        SmtpClientSettings.Session on = new SmtpClientSettings.Session(true, true, false, false, true, List.of(), "", "",
                true, true);
        SmtpClientSettings lmtp = fast().withSession(on);
        try (SmtpClientSession session = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), lmtp)) {
            assertEquals(Status.SENT, session.deliver(m).recipients().get(0).status());
        }
        // Postfix's two commands; PROTO is announced but not known
        assertEquals(List.of("XFORWARD NAME=client.example ADDR=192.0.2.1",
                "XFORWARD PROTO=[UNAVAILABLE] HELO=odd+20helo IDENT=Q7"), server.commands("XFORWARD"));
        assertEquals("XFORWARD PROTO=[UNAVAILABLE] HELO=odd+20helo IDENT=Q7",
                server.transcript.get(server.transcript.indexOf("MAIL FROM:<s@x.test>") - 1), "just before MAIL");
        // off, or not offered: no XFORWARD
        server.transcript.clear();
        try (SmtpClientSession session = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()),
                fast().withSession(SmtpClientSettings.Session.defaults(true)))) {
            session.deliver(m);
        }
        server.ehloKeywords = List.of("PIPELINING");
        try (SmtpClientSession session = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), lmtp)) {
            session.deliver(m);
        }
        assertEquals(List.of(), server.commands("XFORWARD"));
        // a 421 to XFORWARD: the server is going away, the mail is deferred with its reply
        server.ehloKeywords = List.of("XFORWARD NAME ADDR");
        server.on("XFORWARD", "421 4.3.0 going away");
        try (SmtpClientSession session = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", server.port()), lmtp)) {
            RecipientOutcome r = session.deliver(m).recipients().get(0);
            assertEquals(Status.DEFERRED, r.status());
            assertTrue(r.reply().endsWith("(in reply to XFORWARD name/address command)"), r.reply());
        }
    }
}
