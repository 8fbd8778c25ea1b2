package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.SmtpdListener;

/**
 * SmtpdSessionFuzzTest - what an SMTP client sends, as bytes: the line framer
 * (SmtpdLineFramer: CRLF, bare LF, long lines, the DATA dot), every command handler
 * (HELO/EHLO, MAIL and RCPT with their paths and ESMTP parameters: SIZE, BODY, SMTPUTF8,
 * RET, ENVID, NOTIFY, ORCPT, AUTH=; AUTH PLAIN/LOGIN with initial responses; DATA; BDAT
 * sizes and LAST; RSET, NOOP, VRFY, ETRN, QUIT), with AUTH offered.
 *
 * <p>Invariants: the session never throws, whatever the bytes; every reply line is a
 * reply code 2xx-5xx followed by " " or "-" and printable text without control
 * characters, at most 512 octets (RFC 5321 4.5.3.1.5); nothing is answered after 221 or
 * 421; and the replies do not depend on how the bytes arrive: the same input split at
 * another point gives the same replies (queue ids aside). Seeds:
 * SmtpdSessionFuzzTestInputs/session/.
 */
class SmtpdSessionFuzzTest {
    private static final Path SPOOL;

    static {
        try {
            SPOOL = Files.createTempDirectory("postern-fuzz-spool");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final SmtpdSettings SETTINGS = auth();

    /* the mail log and the daemon's warnings are not what is tested, and cost most of the time */
    private static final List<java.util.logging.Logger> QUIET = List.of(
            java.util.logging.Logger.getLogger("postern.maillog"), java.util.logging.Logger.getLogger("org.postern"));

    /* the levels before this class silenced them: the other test classes of the JVM read the mail log */
    private static final java.util.Map<java.util.logging.Logger, java.util.logging.Level> BEFORE =
            new java.util.HashMap<>();

    @org.junit.jupiter.api.BeforeAll
    static void quiet() {
        QUIET.forEach(l -> {
            BEFORE.put(l, l.getLevel());
            l.setLevel(java.util.logging.Level.OFF);
        });
    }

    @org.junit.jupiter.api.AfterAll
    static void loud() {
        BEFORE.forEach(java.util.logging.Logger::setLevel);
    }

    private static SmtpdSettings auth() {
        SmtpdSettings.Builder b = SmtpdSettings.defaults("smtpd", "mx.example.org", SPOOL).withPolicy("").toBuilder();
        b.saslAuthEnable = true;
        b.authenticator = (authzid, username, password) ->
                username.equals("alice") && new String(password).equals("s3cret");
        return b.build();
    }

    @FuzzTest
    @DictionaryEntries({"EHLO client.example", "HELO ", "MAIL FROM:<", "RCPT TO:<", ">", "@example.org",
            "postmaster", "DATA", "BDAT ", " LAST", "RSET", "NOOP", "QUIT", "VRFY ", "ETRN ",
            "AUTH PLAIN ", "AUTH LOGIN", "AGFsaWNlAHMzY3JldA==", "=", "*", " SIZE=", " BODY=8BITMIME",
            " BODY=BINARYMIME", " SMTPUTF8", " RET=HDRS", " ENVID=", " NOTIFY=SUCCESS,DELAY", " NOTIFY=NEVER",
            " ORCPT=rfc822;", " AUTH=<>", "+2B", "STARTTLS", "XCLIENT ", "\"", "[192.0.2.1]"})
    void session(byte[] input) {
        List<String> whole = run(input, input.length);
        check(whole);
        if (input.length > 1) {
            List<String> split = run(input, 1 + (input[0] & 0xFF) % (input.length - 1));
            assertEquals(normalised(whole), normalised(split), "the replies depend on how the bytes arrive");
        }
    }

    /* run - a session from an outside client, the input in two pieces split at {@code at} */
    private static List<String> run(byte[] input, int at) {
        List<String> replies = new ArrayList<>();
        SmtpdListener listener = (envelope, content) -> {
            try {
                content.readAllBytes();
            } catch (IOException e) {
                throw new EnqueueException("read", e);
            }
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
            }

            @Override
            public void runBlocking(Runnable work, Runnable then) {
                work.run();
                then.run();
            }

            @Override
            public void delay(Duration delay, Runnable then) {
                then.run();
            }

            @Override
            public void startTls() {
            }

            @Override
            public void await(CompletionStage<?> pending, Runnable then) {
                pending.whenComplete((r, e) -> then.run());
            }
        };
        SmtpdSession session = new SmtpdSession(SETTINGS, listener, transport, "unknown",
                SessionConversation.OUTSIDE, 40000, SessionConversation.CLOCK);
        session.start();
        session.input(input, 0, at);
        session.input(input, at, input.length - at);
        return replies;
    }

    private static void check(List<String> replies) {
        for (int i = 0; i < replies.size(); i++) {
            String r = replies.get(i);
            assertTrue(r.matches("[2-5][0-9][0-9]([ -].*)?"), () -> "not a reply line: " + r);
            assertTrue(r.getBytes(StandardCharsets.UTF_8).length + 2 <= 512, () -> "reply line too long: " + r);
            assertTrue(r.chars().noneMatch(c -> c < 32 || c == 127), () -> "control character in reply: " + r);
            if (r.startsWith("221 ") || r.startsWith("421 ")) {
                List<String> after = replies.subList(i + 1, replies.size());
                assertTrue(after.isEmpty(), () -> "replies after \"" + r + "\": " + after);
            }
        }
    }

    private static List<String> normalised(List<String> replies) {
        return replies.stream().map(r -> r.replaceAll("queued as [0-9A-Za-z]+", "queued as QUEUEID")).toList();
    }
}
