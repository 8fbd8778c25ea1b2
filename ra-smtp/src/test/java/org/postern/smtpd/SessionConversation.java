package org.postern.smtpd;

import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * SessionConversation - a base for conversation tests with {@link SmtpdSession}: a
 * session over an in-memory transport, send(...) and expect(...), the mail log captured.
 */
abstract class SessionConversation {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-21T09:30:00Z"), ZoneOffset.UTC);
    /** An address outside the default mynetworks (TEST-NET-1). */
    static final String OUTSIDE = "192.0.2.1";

    @TempDir
    Path spool;

    final List<String> replies = new ArrayList<>();
    final List<String> maillog = new CopyOnWriteArrayList<>();
    final List<Envelope> envelopes = new ArrayList<>();
    final List<String> contents = new ArrayList<>();
    final List<Duration> delays = new ArrayList<>();
    boolean closed;
    int tlsStarts;
    SmtpdSession session;

    private final Handler logCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            maillog.add(record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    final SmtpdListener listener = (envelope, content) -> {
        try {
            contents.add(new String(content.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new EnqueueException("read", e);
        }
        envelopes.add(envelope);
        return envelope.queueId();
    };

    SmtpdTransport transport = new SmtpdTransport() {
        @Override
        public void reply(String line) {
            replies.add(line);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            closed = true;
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
            work.run();
            then.run();
        }

        @Override
        public void delay(Duration delay, Runnable then) {
            // the tarpit: note the delay and the replies sent before it, then go on at once
            delays.add(delay);
            replies.add("(delay " + delay.toMillis() + " ms)");
            then.run();
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

    /** settings - mx.example.org with Postfix's default policy, plus main.cf lines. */
    SmtpdSettings settings(String... mainCf) {
        return SmtpdSettings.defaults("smtpd", "mx.example.org", spool).withPolicy(String.join("\n", mainCf));
    }

    /** connect - a session from the client address; the greeting is left in the replies. */
    void connect(SmtpdSettings settings, String clientAddress) {
        session = new SmtpdSession(settings, listener, transport, "unknown", clientAddress, 40000, CLOCK);
        session.start();
    }

    /** open - a session from the client address, its 220 greeting checked. */
    void open(SmtpdSettings settings, String clientAddress) {
        connect(settings, clientAddress);
        expect("220 mx.example.org ESMTP Postern");
    }

    void raw(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        session.input(b, 0, b.length);
    }

    void send(String command) {
        raw(command + "\r\n");
    }

    /** expect - exactly these replies since the last expect. */
    void expect(String... lines) {
        assertEquals(List.of(lines), List.copyOf(replies));
        replies.clear();
    }

    /** expectLog - the mail log contains this line. */
    void expectLog(String line) {
        if (!maillog.contains(line)) {
            throw new AssertionError("log line not found: " + line + "\nlog: " + String.join("\n", maillog));
        }
    }

    /** expectQueueLog - the mail log contains "QUEUEID: " followed by this text. */
    void expectQueueLog(String rest) {
        String regex = "[0-9A-F]+: " + java.util.regex.Pattern.quote(rest);
        if (maillog.stream().noneMatch(l -> l.matches(regex))) {
            throw new AssertionError("log line not found: QUEUEID: " + rest + "\nlog: " + String.join("\n", maillog));
        }
    }

    /** ehloMail - EHLO client.example and MAIL FROM, both accepted. */
    void ehloMail(String sender) {
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<" + sender + ">");
        expect("250 2.1.0 Ok");
    }
}
