package org.postern.smtpd;

import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;
import org.postern.smtpd.api.SmtpdListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtpd.SmtpdSettings.BareNewline;

/** Conversations with SmtpdSession: send(...) then expect(...) replies, as in Postfix. */
class SmtpdSessionTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-21T09:30:00Z"), ZoneOffset.UTC);

    @TempDir
    Path spool;

    private final List<String> replies = new ArrayList<>();
    private final List<String> maillog = new ArrayList<>();
    /** the ident (syslog_name/smtpd) of each mail log line */
    private final List<String> idents = new ArrayList<>();
    private final List<Envelope> envelopes = new ArrayList<>();
    private final List<byte[]> contents = new ArrayList<>();
    private boolean closed;
    private int tlsStarts;
    private int flushes;
    private RuntimeException listenerFailure;
    private EnqueueException listenerRefusal;
    private Runnable pendingWork;
    private Runnable pendingThen;
    private boolean deferBlocking;
    private SmtpdSession session;
    private final Handler logCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            maillog.add(record.getMessage());
            idents.add(record.getSourceClassName());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** the flush service's answers to ETRN, by domain: true started, false not eligible, absent fails */
    private final java.util.Map<String, Boolean> flushable = new java.util.HashMap<>();
    private final List<String> flushed = new ArrayList<>();

    private final SmtpdListener listener = new SmtpdListener() {
        @Override
        public String enqueue(Envelope envelope, java.io.InputStream content) throws EnqueueException {
            if (listenerFailure != null) {
                throw listenerFailure;
            }
            if (listenerRefusal != null) {
                throw listenerRefusal;
            }
            try {
                contents.add(content.readAllBytes());
            } catch (IOException e) {
                throw new EnqueueException("read", e);
            }
            envelopes.add(envelope);
            return envelope.queueId();
        }

        @Override
        public boolean etrn(String domain) throws EnqueueException {
            flushed.add(domain);
            Boolean answer = flushable.get(domain);
            if (answer == null) {
                throw new EnqueueException(SmtpdSession.ETRN_FAILED, "flush index unavailable", null);
            }
            return answer;
        }
    };

    private final SmtpdTransport transport = new SmtpdTransport() {
        @Override
        public void reply(String line) {
            replies.add(line);
        }

        @Override
        public void flush() {
            flushes++;
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public void delay(java.time.Duration delay, Runnable then) {
            then.run();
        }

        @Override
        public void await(java.util.concurrent.CompletionStage<?> pending, Runnable then) {
            pending.whenComplete((r, e) -> then.run());
        }

        @Override
        public void startTls() {
            tlsStarts++;
        }

        @Override
        public void runBlocking(Runnable work, Runnable then) {
            if (deferBlocking) {
                pendingWork = work;
                pendingThen = then;
            } else {
                work.run();
                then.run();
            }
        }
    };

    @BeforeEach
    void captureLog() {
        java.util.logging.Logger.getLogger("postern.maillog.smtpd").addHandler(logCapture);
    }

    @AfterEach
    void releaseLog() {
        java.util.logging.Logger.getLogger("postern.maillog.smtpd").removeHandler(logCapture);
    }

    /** settings - Postfix's defaults, but no header completion: these tests compare content byte for byte. */
    private SmtpdSettings settings() {
        SmtpdSettings.Builder b = SmtpdSettings.defaults("smtpd", "mx.example.org", spool).toBuilder();
        b.headerRewriteClients = HeaderRewriteClients.NONE; // see SmtpdMissingHeadersTest
        return b.build();
    }

    private void open(SmtpdSettings settings) {
        session = new SmtpdSession(settings, listener, transport, "unknown", "127.0.0.1", 40000, CLOCK);
        session.start();
        expect("220 mx.example.org ESMTP Postern");
    }

    private void open() {
        open(settings());
    }

    private void raw(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        session.input(b, 0, b.length);
    }

    private void send(String command) {
        raw(command + "\r\n");
    }

    private void expect(String... lines) {
        assertEquals(List.of(lines), List.copyOf(replies));
        replies.clear();
    }

    private void transaction() {
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<b@example.org>");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok");
    }

    private String content(int i) {
        return new String(contents.get(i), StandardCharsets.UTF_8);
    }

    private String body(int i) {
        String c = content(i);
        return c.substring(c.indexOf("+0000 (UTC)\r\n") + 13);
    }

    /** syslog_name: the service's name (master.cf -o syslog_name=...) prefixes every line of its sessions. */
    @Test
    void mailLogLinesCarryTheServicesSyslogName() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.syslogName = "postfix/submission";
        open(b.build());
        send("NOOP");
        send("QUIT");
        session.ended();
        assertEquals(List.of("connect from unknown[127.0.0.1]",
                "disconnect from unknown[127.0.0.1] noop=1 quit=1 commands=2"), maillog);
        assertEquals(List.of("postfix/submission/smtpd", "postfix/submission/smtpd"), idents);
    }

    @Test
    void fullConversationAndLogLines() {
        open();
        send("EHLO client.example");
        expect("250-mx.example.org", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-ENHANCEDSTATUSCODES",
                "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING");
        send("MAIL FROM:<a@example.com> SIZE=100 BODY=8BITMIME");
        expect("250 2.1.0 Ok");
        send("RCPT TO:<b@example.org>");
        send("RCPT TO:<c@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40example.org");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok");
        send("DATA");
        expect("354 End data with <CR><LF>.<CR><LF>");
        raw("Subject: hi\r\n\r\nbody\r\n..dot\r\n.\r\n");
        String id = envelopes.get(0).queueId();
        expect("250 2.0.0 Ok: queued as " + id);
        send("QUIT");
        expect("221 2.0.0 Bye");
        assertTrue(closed);
        session.ended();

        Envelope e = envelopes.get(0);
        assertTrue(QueueIds.isValid(id));
        assertEquals("a@example.com", e.sender());
        assertEquals("100", e.mailParams().get("SIZE"));
        assertEquals("8BITMIME", e.mailParams().get("BODY"));
        assertEquals(List.of(new Envelope.Recipient("b@example.org", null, null),
                new Envelope.Recipient("c@example.org", "rfc822;c+40example.org", "SUCCESS,FAILURE")), e.recipients());
        assertEquals("ESMTP", e.protocol());
        assertEquals("client.example", e.helo());
        assertEquals("smtpd", e.service());
        assertEquals(contents.get(0).length, e.size());
        assertEquals("Received: from client.example (unknown [127.0.0.1])\r\n"
                + "\tby mx.example.org (Postern) with ESMTP id " + id + ";\r\n"
                + "\tSat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\n"
                + "Subject: hi\r\n\r\nbody\r\n.dot\r\n", content(0));
        assertEquals(List.of("connect from unknown[127.0.0.1]", id + ": client=unknown[127.0.0.1]",
                "disconnect from unknown[127.0.0.1] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6"), maillog);
        assertEquals(List.of("postern/smtpd", "postern/smtpd", "postern/smtpd"), idents);
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals(0, left.count(), "spool file deleted");
        } catch (IOException ex) {
            throw new AssertionError(ex);
        }
    }

    @Test
    void receivedHeaderHasForClauseWithOneRecipient() {
        open();
        transaction();
        send("DATA");
        raw("x\r\n.\r\n");
        String id = envelopes.get(0).queueId();
        assertEquals("Received: from client.example (unknown [127.0.0.1])\r\n"
                + "\tby mx.example.org (Postern) with ESMTP id " + id + "\r\n"
                + "\tfor <b@example.org>; Sat, 21 Nov 2026 09:30:00 +0000 (UTC)\r\nx\r\n", content(0));
    }

    @Test
    void heloIsSmtpAndVerbsAreCaseInsensitive() {
        open();
        send("helo client.example");
        expect("250 mx.example.org");
        send("mail from:<>");
        send("rcpt to:<b@example.org>");
        send("data");
        raw(".\r\n");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                "250 2.0.0 Ok: queued as " + envelopes.get(0).queueId());
        assertEquals("", envelopes.get(0).sender());
        assertEquals("SMTP", envelopes.get(0).protocol());
        assertTrue(content(0).contains("with SMTP id"));
    }

    @Test
    void sequenceErrors() {
        open();
        send("RCPT TO:<b@example.org>");
        expect("503 5.5.1 Error: need MAIL command");
        send("DATA");
        expect("503 5.5.1 Error: need RCPT command");
        send("MAIL FROM:<a@example.com>");
        send("MAIL FROM:<a@example.com>");
        expect("250 2.1.0 Ok", "503 5.5.1 Error: nested MAIL command");
        send("DATA");
        expect("554 5.5.1 Error: no valid recipients");
        send("RSET");
        send("RSET x");
        expect("250 2.0.0 Ok", "501 5.5.4 Syntax: RSET");
        send("RCPT TO:<b@example.org>");
        expect("503 5.5.1 Error: need MAIL command");
    }

    @Test
    void heloRequired() {
        open(settings().withHeloRequired(true));
        send("MAIL FROM:<a@example.com>");
        expect("503 5.5.1 Error: send HELO/EHLO first");
        send("HELO x");
        send("MAIL FROM:<a@example.com>");
        expect("250 mx.example.org", "250 2.1.0 Ok");
    }

    @Test
    void syntaxErrors() {
        open();
        send("HELO");
        send("EHLO");
        expect("501 Syntax: HELO hostname", "501 Syntax: EHLO hostname");
        send("MAIL");
        send("MAIL TO:<a@b>");
        send("MAIL FROM:");
        expect("501 5.5.4 Syntax: MAIL FROM:<address>", "501 5.5.4 Syntax: MAIL FROM:<address>",
                "501 5.5.4 Syntax: MAIL FROM:<address>");
        send("MAIL FROM:<a@b");
        send("MAIL FROM:<<a@b>>");
        expect("501 5.1.7 Bad sender address syntax", "501 5.1.7 Bad sender address syntax");
        send("MAIL FROM: a@example.com");
        expect("250 2.1.0 Ok");
        send("RCPT FROM:<b@c>");
        send("RCPT TO:<>");
        send("RCPT TO:<b@c");
        expect("501 5.5.4 Syntax: RCPT TO:<address>", "501 5.1.3 Bad recipient address syntax",
                "501 5.1.3 Bad recipient address syntax");
        send("RCPT TO:<b@c> FOO=1");
        send("RCPT TO:<b@c> NOTIFY=SOMETIMES");
        send("RCPT TO:<b@c> ORCPT=nosemicolon");
        expect("555 5.5.4 Unsupported option: FOO=1", "501 5.5.4 Error: Bad NOTIFY parameter syntax",
                "501 5.5.4 Error: Bad ORCPT parameter syntax");
        send("RCPT TO:<b@c>");
        send("DATA now");
        expect("250 2.1.5 Ok", "501 5.5.4 Syntax: DATA");
    }

    @Test
    void mailParameters() {
        open();
        send("MAIL FROM:<a@b> SIZE=abc");
        send("MAIL FROM:<a@b> SIZE=10240001");
        send("MAIL FROM:<a@b> SIZE=99999999999999999999");
        send("MAIL FROM:<a@b> BODY=BINARYMIME");
        send("MAIL FROM:<a@b> RET=ALL");
        send("MAIL FROM:<a@b> ENVID=a+zz");
        send("MAIL FROM:<a@b> XYZZY");
        expect("501 5.5.4 Bad message size syntax", "552 5.3.4 Message size exceeds fixed limit",
                "552 5.3.4 Message size exceeds file system imposed limit",
                "555 5.5.4 Unsupported option: BODY=BINARYMIME", "501 5.5.4 Bad RET parameter syntax",
                "501 5.5.4 Bad ENVID parameter syntax", "555 5.5.4 Unsupported option: XYZZY");
        send("MAIL FROM:<a@b> SIZE=10240000 RET=hdrs ENVID=QQ+2BA");
        expect("250 2.1.0 Ok");
        send("RCPT TO:<c@d>");
        send("DATA");
        raw(".\r\n");
        assertEquals("HDRS", envelopes.get(0).mailParams().get("RET"));
        assertEquals("QQ+A", envelopes.get(0).mailParams().get("ENVID"));
    }

    @Test
    void smtputf8MustBeDeclared() {
        open();
        send("MAIL FROM:<jörg@example.com>");
        expect("553 5.6.7 Must declare SMTPUTF8 to send unicode address");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<用户@例子.广告>");
        expect("250 2.1.0 Ok", "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
        send("RSET");
        send("MAIL FROM:<jörg@example.com> SMTPUTF8");
        send("RCPT TO:<用户@例子.广告>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.1.5 Ok");
    }

    @Test
    void otherCommands() {
        open();
        send("NOOP");
        send("NOOP anything");
        send("VRFY postmaster");
        send("VRFY");
        send("HELP");
        send("EXPN list");
        expect("250 2.0.0 Ok", "250 2.0.0 Ok", "252 2.0.0 postmaster", "501 5.5.4 Syntax: VRFY address",
                "214 2.0.0 Commands: DATA EHLO ETRN HELO HELP MAIL NOOP QUIT RCPT RSET VRFY",
                "500 5.5.2 Error: command not recognized");
        assertFalse(closed);
    }

    @Test
    void etrnAsTheHowtoShowsIt() {
        flushable.put("example.com", true);
        flushable.put("quiet.example", true);
        flushable.put("not.a.customer.domain", false);
        open();
        send("ETRN example.com");
        expect("503 5.5.1 Error: send HELO/EHLO first");
        send("HELO client.example.org");
        send("ETRN example.com");
        send("ETRN @quiet.example");
        send("ETRN not.a.customer.domain");
        send("ETRN broken.example");
        expect("250 mx.example.org", "250 Queuing started", "250 Queuing started",
                "459 <not.a.customer.domain>: service unavailable", "458 Unable to queue messages");
        // the '@' of RFC 1985 (the domain and its subdomains) is dropped, as Postfix does
        assertEquals(List.of("example.com", "quiet.example", "not.a.customer.domain", "broken.example"), flushed);
        assertFalse(closed);
    }

    @Test
    void etrnBadInputNeverReachesTheFlushService() {
        flushable.put("example.com", true);
        open();
        send("EHLO client.example.org");
        replies.clear();
        send("ETRN");
        send("ETRN ../../etc/passwd");
        send("ETRN a b");
        send("MAIL FROM:<a@example.org>");
        send("ETRN example.com");
        expect("500 5.5.2 Syntax: ETRN domain", "501 5.5.4 Error: invalid parameter syntax",
                "500 5.5.2 Syntax: ETRN domain", "250 2.1.0 Ok", "503 5.5.1 Error: MAIL transaction in progress");
        assertEquals(List.of(), flushed);
    }

    @Test
    void nonSmtpCommandEndsSession() {
        open();
        send("GET / HTTP/1.1");
        expect("221 2.7.0 Error: I can break rules, too. Goodbye.");
        assertTrue(closed);
    }

    @Test
    void recipientLimit() {
        open(settings().withLimits(2, 20, 2048));
        send("MAIL FROM:<a@b>");
        send("RCPT TO:<1@b>");
        send("RCPT TO:<2@b>");
        send("RCPT TO:<3@b>");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "452 4.5.3 Error: too many recipients");
        send("DATA");
        raw(".\r\n");
        assertEquals(2, envelopes.get(0).recipients().size());
    }

    @Test
    void hardErrorLimitDisconnects() {
        open(settings().withLimits(1000, 3, 2048));
        send("BOGUS1");
        send("BOGUS2");
        assertFalse(closed);
        send("BOGUS3");
        expect("500 5.5.2 Error: command not recognized", "500 5.5.2 Error: command not recognized",
                "500 5.5.2 Error: command not recognized", "421 4.7.0 mx.example.org Error: too many errors");
        assertTrue(closed);
        send("NOOP");
        expect();
        session.ended();
        assertTrue(maillog.contains("too many errors after UNKNOWN from unknown[127.0.0.1]"));
        assertTrue(maillog.contains("disconnect from unknown[127.0.0.1] unknown=0/3 commands=0/3"));
    }

    @Test
    void commandTooLongIsSkippedAndAnswered() {
        open(settings().withLimits(1000, 20, 512));
        raw("NOOP " + "x".repeat(3000) + "\r\nNOOP\r\n");
        expect("500 5.5.2 mx.example.org Error: command too long", "250 2.0.0 Ok");
    }

    @Test
    void nulAndBinaryGarbageGetReplies() {
        open();
        raw("MAIL FROM:<a\u0000b@c>\r\n");
        session.input(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, '\r', '\n'}, 0, 6);
        raw("\r\n");
        expect("501 5.1.7 Bad sender address syntax", "500 5.5.2 Error: bad UTF-8 syntax",
                "500 5.5.2 Error: bad syntax");
    }

    @Test
    void sizeLimitByContent() {
        open(settings().withMessageSizeLimit(100));
        transaction();
        send("DATA");
        replies.clear();
        raw(("x".repeat(60) + "\r\n").repeat(3) + ".\r\n");
        expect("552 5.3.4 Error: message file too big");
        assertTrue(envelopes.isEmpty());
        assertTrue(maillog.stream().anyMatch(l -> l.endsWith(": queue file size limit exceeded")));
        // the session goes on: a new transaction works
        send("MAIL FROM:<a@b>");
        expect("250 2.1.0 Ok");
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals(0, left.count());
        } catch (IOException ex) {
            throw new AssertionError(ex);
        }
    }

    @Test
    void longContentLinesAreKeptWhole() {
        open(settings().withLimits(1000, 20, 512));
        transaction();
        send("DATA");
        String longLine = ".." + "y".repeat(2000);
        raw(longLine + "\r\n" + "z\r\n.\r\n");
        assertEquals("." + "y".repeat(2000) + "\r\nz\r\n", body(0));
    }

    @Test
    void longLineWhosePieceStartsWithDotIsNotEndOfData() {
        open(settings().withLimits(1000, 20, 512));
        transaction();
        send("DATA");
        String line = "a".repeat(512) + ".";
        raw(line + "\r\n.\r\n");
        assertEquals(line + "\r\n", body(0));
    }

    @Test
    void firstLineFromOrWhiteSpace() {
        open();
        transaction();
        send("DATA");
        raw("From someone\r\n.\r\n");
        assertEquals("X-Mailbox-Line: From someone\r\n", body(0));
        transaction();
        send("DATA");
        raw(" indented\r\n.\r\n");
        assertEquals("\r\n indented\r\n", body(1));
    }

    @Test
    void bareLfNormalizeRequiresStandardEndOfData() {
        open();
        transaction();
        send("DATA");
        replies.clear();
        // SMTP smuggling attempt: <LF>.<LF> must not end the message.
        raw("a\n.\nMAIL FROM:<evil@x>\r\nb\r\n.\r\n");
        expect("250 2.0.0 Ok: queued as " + envelopes.get(0).queueId());
        assertEquals(1, envelopes.size());
        assertEquals("a\r\nMAIL FROM:<evil@x>\r\nb\r\n", body(0));
    }

    @Test
    void bareLfNoEndsDataAtLfDotLf() {
        open(settings().withBareNewline(BareNewline.NO, a -> false, 550));
        transaction();
        send("DATA");
        replies.clear();
        raw("a\n.\nNOOP\n");
        assertEquals("a\r\n", body(0));
        expect("250 2.0.0 Ok: queued as " + envelopes.get(0).queueId(), "250 2.0.0 Ok");
    }

    @Test
    void bareLfNoStillRefusesASmuggledEndOfDataInsideCrlfContent() {
        // an excluded client (mynetworks) or smtpd_forbid_bare_newline = no: a relay that passes
        // <LF>.<LF>, <LF>.<CR><LF> or <CR><LF>.<LF> through cannot end the message there (Postfix would)
        open(settings().withBareNewline(BareNewline.NO, a -> false, 550));
        String[] variants = {"\n.\n", "\n.\r\n", "\r\n.\n"};
        for (int i = 0; i < variants.length; i++) {
            transaction();
            send("DATA");
            replies.clear();
            raw("Subject: s" + i + "\r\n\r\nfirst" + variants[i] + "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\n"
                    + "second\r\n.\r\n");
            assertEquals(i + 1, envelopes.size(), "one message per session, variant " + i + ": " + replies);
            expect("250 2.0.0 Ok: queued as " + envelopes.get(i).queueId());
            assertTrue(body(i).contains("MAIL FROM:<evil@x>"), body(i));
        }
    }

    /* Ticking - a clock the test moves */
    private static final class Ticking extends Clock {
        long millis = CLOCK.millis();

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void aCommandDrippedByteByBytePastSmtpdTimeoutEndsTheSession(boolean perRecord) {
        // smtpd_per_record_deadline: the idle timer never runs out at one byte a second; the record deadline does
        SmtpdSettings.Builder b = settings().withTimeout(Duration.ofSeconds(10)).toBuilder();
        b.perRecordDeadline = perRecord;
        Ticking clock = new Ticking();
        session = new SmtpdSession(b.build(), listener, transport, "unknown", "127.0.0.1", 40000, clock);
        session.start();
        expect("220 mx.example.org ESMTP Postern");
        // a whole line each second, 30 times: every record arrives within the limit
        for (int i = 0; i < 30; i++) {
            clock.millis += 1000;
            send("NOOP");
        }
        assertFalse(closed);
        replies.clear();
        String line = "EHLO slow.example\r\n";
        for (int i = 0; i < line.length() && !closed; i++) {
            clock.millis += 1000;
            raw(line.substring(i, i + 1));
        }
        if (perRecord) {
            assertTrue(closed, "cut after smtpd_timeout");
            expect("421 4.4.2 mx.example.org Error: timeout exceeded");
        } else {
            assertFalse(closed, "no deadline per record: only the idle timer, which each byte resets");
            assertTrue(replies.get(0).startsWith("250-mx.example.org"), replies.toString());
        }
    }

    @Test
    void bareLfRejectInCommandDisconnects() {
        open(settings().withBareNewline(BareNewline.REJECT, a -> false, 550));
        raw("NOOP\n");
        expect("550 5.5.2 mx.example.org Error: bare <LF> received");
        assertTrue(closed);
        assertTrue(maillog.contains("NOQUEUE: reject: CONNECT from unknown[127.0.0.1]: bare <LF> received;"
                + " proto=SMTP"));
    }

    @Test
    void bareLfRejectInDataRejectsMessage() {
        open(settings().withBareNewline(BareNewline.REJECT, a -> false, 550));
        transaction();
        send("DATA");
        replies.clear();
        raw("a\nb\r\n.\r\n");
        expect("550 5.5.2 mx.example.org Error: bare <LF> received");
        assertTrue(envelopes.isEmpty());
        assertFalse(closed);
    }

    @Test
    void bareLfExclusionsGetOldBehaviour() {
        open(settings().withBareNewline(BareNewline.REJECT, "127.0.0.1"::equals, 550));
        raw("NOOP\n");
        expect("250 2.0.0 Ok");
    }

    @Test
    void bareCrIsContent() {
        open();
        transaction();
        send("DATA");
        raw("a\rb\r\n.\r\n");
        assertEquals("a\rb\r\n", body(0));
    }

    @Test
    void listenerRefusalAndFailure() {
        open();
        listenerRefusal = new EnqueueException("450 4.3.0 Try later", "db down", null);
        transaction();
        send("DATA");
        replies.clear();
        raw("x\r\n.\r\n");
        expect("450 4.3.0 Try later");
        listenerRefusal = null;
        listenerFailure = new IllegalStateException("boom");
        transaction();
        send("DATA");
        replies.clear();
        raw("x\r\n.\r\n");
        expect("451 4.3.0 Error: queue file write error");
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals(0, left.count());
        } catch (IOException ex) {
            throw new AssertionError(ex);
        }
    }

    @Test
    void pipelinedCommandsAfterDotWaitForTheListener() {
        open();
        deferBlocking = true;
        send("EHLO c");
        replies.clear();
        raw("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
        raw("x\r\n.\r\nMAIL FROM:<e@f>\r\nRCPT TO:<g@h>\r\n");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
        assertTrue(session.isSuspended());
        raw("QUIT\r\n");
        expect();
        pendingWork.run();
        pendingThen.run();
        expect("250 2.0.0 Ok: queued as " + envelopes.get(0).queueId(), "250 2.1.0 Ok", "250 2.1.5 Ok",
                "221 2.0.0 Bye");
        assertTrue(closed);
    }

    @Test
    void timeoutAndLostConnectionAreLogged() {
        open();
        send("EHLO c");
        send("MAIL FROM:<a@b>");
        replies.clear();
        session.timeout();
        expect("421 4.4.2 mx.example.org Error: timeout exceeded");
        session.ended();
        assertTrue(maillog.contains("timeout after MAIL from unknown[127.0.0.1]"));

        maillog.clear();
        open();
        transaction();
        send("DATA");
        raw("partial content");
        session.ended();
        assertTrue(maillog.contains("lost connection after DATA (15 bytes) from unknown[127.0.0.1]"), maillog::toString);
        assertTrue(maillog.contains("disconnect from unknown[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=0/1 commands=3/4")
                || maillog.contains("disconnect from unknown[127.0.0.1] ehlo=1 mail=1 rcpt=1 commands=3"),
                maillog::toString);
    }

    /** spoolLimit - the test settings with another smtpd_spool_memory_limit. */
    private SmtpdSettings spoolLimit(long bytes) {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.spoolMemoryLimit = bytes;
        return b.build();
    }

    private long spoolFiles() {
        try (Stream<Path> files = Files.list(spool)) {
            return files.count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anOrdinaryMessageNeverTouchesTheSpoolDirectory() throws IOException {
        Files.delete(spool); // not even created
        open();
        transaction();
        send("DATA");
        raw("Subject: hi\r\n\r\n" + ("y".repeat(998) + "\r\n").repeat(100));
        assertTrue(Files.notExists(spool), "content in memory while DATA continues");
        raw(".\r\n");
        expect("354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as " + envelopes.get(0).queueId());
        assertEquals(100 * 1000, body(0).length() - "Subject: hi\r\n\r\n".length());
        assertEquals(contents.get(0).length, envelopes.get(0).size());
        assertTrue(Files.notExists(spool));
    }

    @Test
    void contentPastTheMemoryLimitGoesToTheSpoolFile() throws IOException {
        open(spoolLimit(50_000));
        transaction();
        send("DATA");
        byte[] chunk = ("z".repeat(998) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 200; i++) {
            session.input(chunk, 0, chunk.length);
        }
        try (Stream<Path> files = Files.list(spool)) {
            Path file = files.findFirst().orElseThrow();
            assertTrue(Files.size(file) > 100_000, "content already on disk while DATA continues");
        }
        raw(".\r\n");
        assertEquals(200 * 1000, body(0).length());
        assertEquals(contents.get(0).length, envelopes.get(0).size());
        assertEquals(0, spoolFiles(), "spool file deleted");
    }

    @Test
    void aZeroMemoryLimitSpoolsEveryMessageToAFile() {
        open(spoolLimit(0));
        transaction();
        send("DATA");
        raw("Subject: hi\r\n\r\nbody\r\n");
        assertEquals(1, spoolFiles(), "a file from the first byte");
        raw(".\r\n");
        assertEquals("Subject: hi\r\n\r\nbody\r\n", body(0));
        assertEquals(0, spoolFiles());
    }

    @Test
    void aSpilledMessageIsDroppedOnRsetLostConnectionAndListenerFailure() {
        // BDAT then RSET
        open(spoolLimit(1000));
        transaction();
        raw("BDAT 2000\r\n" + "x".repeat(1998) + "\r\n");
        assertEquals(1, spoolFiles());
        send("RSET");
        expect("250 2.0.0 Ok: 2000 bytes", "250 2.0.0 Ok");
        assertEquals(0, spoolFiles());
        // DATA then the client goes away
        transaction();
        send("DATA");
        raw("x".repeat(3000) + "\r\n");
        assertEquals(1, spoolFiles());
        session.ended();
        assertEquals(0, spoolFiles());
        // the listener fails
        replies.clear();
        open(spoolLimit(1000));
        listenerFailure = new IllegalStateException("boom");
        transaction();
        send("DATA");
        replies.clear();
        raw("x".repeat(3000) + "\r\n.\r\n");
        expect("451 4.3.0 Error: queue file write error");
        assertEquals(0, spoolFiles());
        // too big: the content stops at message_size_limit, in memory
        listenerFailure = null;
        open(spoolLimit(1 << 20).toBuilder().build().withMessageSizeLimit(5000));
        transaction();
        send("DATA");
        replies.clear();
        raw(("x".repeat(998) + "\r\n").repeat(10) + ".\r\n");
        expect("552 5.3.4 Error: message file too big");
        assertEquals(0, spoolFiles());
    }

    @Test
    void aSpoolFileThatCannotBeCreatedIsAWriteError() throws IOException {
        Path notADirectory = spool.resolve("file");
        Files.writeString(notADirectory, "x");
        SmtpdSettings.Builder b = spoolLimit(1000).toBuilder();
        b.spoolDirectory = notADirectory;
        open(b.build());
        transaction();
        send("DATA");
        replies.clear();
        raw("short\r\n"); // in memory: fine so far
        raw("x".repeat(2000) + "\r\n.\r\n");
        expect("451 4.3.0 Error: queue file write error");
        assertTrue(envelopes.isEmpty());
        // with no memory at all DATA itself fails, as before
        b.spoolMemoryLimit = 0;
        open(b.build());
        transaction();
        send("DATA");
        expect("451 4.3.0 Error: queue file write error");
    }
}
