package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HostileIT - hostile SMTP sessions against the deployed server (issue 13, first cases):
 * every published SMTP smuggling variant, with the default configuration (loopback is in
 * mynetworks, so exempt from smtpd_forbid_bare_newline) and with smtpd_forbid_bare_newline
 * applied to the client, never makes a second message; bare CR and NUL in command
 * arguments never reach the mail log or the Received header as line breaks, so no log
 * line can be forged; a 1 MB command line and 100,000 pipelined RCPT commands are refused
 * within the limits and the server goes on serving; a client that sends a byte a second is
 * cut by smtpd_timeout (smtpd_per_record_deadline); an AUTH guessing loop is slowed by the
 * tarpit after smtpd_soft_error_limit and cut at smtpd_hard_error_limit, logged as Postfix
 * logs it.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class HostileIT {
    private static final int SINK = 12526;

    private final Path config = Path.of(System.getProperty("it.config"));
    private String mainCf;

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @BeforeEach
    void keep() throws Exception {
        mainCf = Files.readString(config.resolve("main.cf"));
    }

    @AfterEach
    void restore() throws Exception {
        Files.writeString(config.resolve("main.cf"), mainCf);
        Commands.Result r = Commands.server(null, "postfix", "reload");
        assertEquals(0, r.status(), "restoring the configuration: " + r);
    }

    /** the end-of-data look-alikes of the SMTP smuggling papers (SEC Consult 2023, Postfix's smuggling page) */
    private static final Map<String, String> VARIANTS = Map.of(
            "LF.LF", "\n.\n",
            "CR.CR", "\r.\r",
            "LF.CRLF", "\n.\r\n",
            "CRLF.LF", "\r\n.\n",
            "CRLF.CR", "\r\n.\r",
            "CR.LF", "\r.\n");

    @Test
    void noSmugglingVariantEverMakesASecondMessage() throws Exception {
        smuggle("default");
        Commands.Result e = Commands.run(Map.of("POSTERN_CONFIG_DIR", config.toString()), null,
                List.of(Commands.bin("postconf"), "-e", "smtpd_forbid_bare_newline = normalize",
                        "smtpd_forbid_bare_newline_exclusions ="));
        assertEquals(0, e.status(), e.toString());
        assertEquals(0, Commands.server(null, "postfix", "reload").status());
        smuggle("normalize");
        e = Commands.run(Map.of("POSTERN_CONFIG_DIR", config.toString()), null,
                List.of(Commands.bin("postconf"), "-e", "smtpd_forbid_bare_newline = reject"));
        assertEquals(0, e.status(), e.toString());
        assertEquals(0, Commands.server(null, "postfix", "reload").status());
        smuggle("reject");
    }

    /*
     * smuggle - one session per variant: a message whose body carries the variant and then a
     * second transaction from a forged sender to a victim; at most one message may come of it
     * (or none, refused), and the victim never gets one
     */
    private void smuggle(String mode) throws Exception {
        try (TestSink sink = TestSink.smtp(SINK)) {
            List<String> ids = new ArrayList<>();
            for (Map.Entry<String, String> v : VARIANTS.entrySet()) {
                String tag = mode + "-" + v.getKey();
                String reply;
                try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
                    c.reply();
                    c.send("EHLO client.example.org");
                    c.reply();
                    c.send("MAIL FROM:<sender@example.org>");
                    assertTrue(c.reply().startsWith("250"));
                    c.send("RCPT TO:<bob@smtp.test>");
                    assertTrue(c.reply().startsWith("250"));
                    c.send("DATA");
                    assertTrue(c.reply().startsWith("354"));
                    c.write(("Subject: smuggle " + tag + "\r\n\r\nfirst part" + v.getValue()
                            + "MAIL FROM:<forged@evil.example>\r\nRCPT TO:<victim@smtp.test>\r\nDATA\r\n"
                            + "Subject: smuggled " + tag + "\r\n\r\nsecond part\r\n.\r\n").getBytes(StandardCharsets.US_ASCII));
                    reply = c.reply();
                    try {
                        c.send("QUIT");
                        c.reply();
                    } catch (IOException gone) {
                        // a rejecting server may have closed already
                    }
                }
                System.out.println("HostileIT: smuggling " + tag + ": " + reply);
                if (reply.startsWith("250")) {
                    ids.add(Postern.queueId(reply));
                } else {
                    // refused (smtpd_forbid_bare_newline = reject): a 5xx, never a second 250
                    assertTrue(reply.startsWith("5"), tag + ": " + reply);
                }
            }
            // the messages arrive in any order (concurrent deliveries): each one once, all of them to bob
            java.util.Set<String> missing = new java.util.HashSet<>(ids);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!missing.isEmpty() && System.nanoTime() < end) {
                TestSink.Delivery d = sink.next(1, TimeUnit.SECONDS);
                if (d == null) {
                    continue;
                }
                assertFalse(smuggled(d), "a smuggled message: " + d.text());
                missing.removeIf(id -> d.text().contains("id " + id) && d.rcptTo().equals(List.of("<bob@smtp.test>")));
            }
            assertTrue(missing.isEmpty(), "messages that did not reach the sink: " + missing);
            // other tests' mail for smtp.test may arrive too: none of it may come from the smuggled transaction
            for (TestSink.Delivery extra; (extra = sink.next(3, TimeUnit.SECONDS)) != null; ) {
                assertFalse(smuggled(extra), "a smuggled message: " + extra.text());
            }
            String log = Files.readString(Postern.mailLog(), StandardCharsets.UTF_8);
            assertFalse(log.contains("forged@evil.example"), "the forged sender is no envelope in the mail log");
            assertFalse(log.contains("victim@smtp.test"), "no delivery to the victim");
        }
    }

    /*
     * smuggled - a delivery that the smuggled transaction made: its envelope, or a header whose
     * Subject is the smuggled one (inside the first message's body that text is only content)
     */
    private static boolean smuggled(TestSink.Delivery d) {
        String text = d.text();
        int end = text.indexOf("\r\n\r\n");
        String header = end < 0 ? text : text.substring(0, end);
        return d.mailFrom().contains("forged@evil.example") || d.rcptTo().toString().contains("victim")
                || header.contains("Subject: smuggled");
    }

    @Test
    void bareCrAndNulInCommandsCannotForgeALogLineOrAHeader() throws Exception {
        String forged = "Dec 06 12:00:00 postern.test postern/qmgr[1]: FORGED0LINE: from=<ceo@example.org>";
        try (TestSink sink = TestSink.smtp(SINK); Raw c = new Raw()) {
            c.reply();
            c.send("EHLO evil.example\r" + forged);
            String ehlo = c.reply();
            c.send("MAIL FROM:<a\0b@example.org>");
            String nul = c.reply();
            assertTrue(nul.startsWith("5"), "NUL in a command: " + nul);
            c.send("MAIL FROM:<sender@example.org>");
            assertTrue(c.reply().startsWith("250"));
            c.send("RCPT TO:<bob@smtp.test>\r" + forged);
            String rcpt = c.reply();
            c.send("RCPT TO:<bob@smtp.test>");
            assertTrue(c.reply().startsWith("250"));
            c.send("DATA");
            assertTrue(c.reply().startsWith("354"));
            c.out.write("Subject: injection\r\n\r\nbody\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            String queued = c.reply();
            String id = Postern.queueId(queued);
            c.send("ETRN smtp.test\r" + forged);
            c.reply();
            TestSink.Delivery d = sink.nextWith(id, 30);
            assertNotNull(d, "the message was delivered");
            String header = d.text().substring(0, d.text().indexOf("\r\n\r\n"));
            for (String line : header.split("\r\n")) {
                assertFalse(line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0 || line.indexOf('\0') >= 0,
                        "a header line with CR, LF or NUL: " + line);
                assertFalse(line.startsWith("Dec 06") || line.contains("FORGED0LINE:") && !line.startsWith(" ")
                        && !line.startsWith("\t") && !line.startsWith("Received:"), "a forged header line: " + line);
            }
            DeliveryIT.waitForLog(id, "status=sent");
            byte[] log = Files.readAllBytes(Postern.mailLog());
            for (byte b : log) {
                assertTrue(b != '\r' && b != 0, "the mail log holds a bare CR or a NUL");
            }
            for (String line : new String(log, StandardCharsets.UTF_8).split("\n")) {
                assertFalse(line.startsWith("Dec 06 12:00:00 postern.test postern/qmgr[1]"), "a forged log line: " + line);
            }
            System.out.println("HostileIT: EHLO with a bare CR: " + ehlo.lines().findFirst().orElse("") + "; MAIL with NUL: "
                    + nul + "; RCPT with a bare CR: " + rcpt);
            assertTrue(ehlo.startsWith("250") || ehlo.startsWith("5"), ehlo);
            assertTrue(rcpt.startsWith("5") || rcpt.startsWith("4") || rcpt.startsWith("250"), rcpt);
        }
    }

    @Test
    void aOneMegabyteCommandLineIsRefusedAndTheServerGoesOn() throws Exception {
        try (Raw c = new Raw()) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.out.write(("NOOP " + "a".repeat(1 << 20) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            String r = c.reply();
            System.out.println("HostileIT: a 1 MB command line: " + r);
            assertTrue(r.startsWith("500") || r.startsWith("421"), "a 1 MB line: " + r);
            if (r.startsWith("500")) {
                c.send("NOOP");
                assertTrue(c.reply().startsWith("250"), "the session goes on after the refused line");
            }
        }
        assertTrue(Postern.send("bob@smtp.test", "after a long line", "still serving").matches("[0-9A-F]{16}"));
    }

    @Test
    void oneHundredThousandRcptCommandsEndInTheErrorLimits() throws Exception {
        long start = System.nanoTime();
        int replies = 0;
        String last = "";
        try (Raw c = new Raw()) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<sender@example.org>");
            assertTrue(c.reply().startsWith("250"));
            Thread writer = new Thread(() -> {
                try {
                    StringBuilder b = new StringBuilder();
                    for (int i = 0; i < 100_000; i++) {
                        b.append("RCPT TO:<r").append(i).append("@smtp.test>\r\n");
                        if (b.length() > 60_000) {
                            c.out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
                            b.setLength(0);
                        }
                    }
                    c.out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
                    c.out.flush();
                } catch (IOException closed) {
                    // the server hung up: that is the point
                }
            }, "rcpt-flood");
            writer.setDaemon(true);
            writer.start();
            String r;
            while ((r = c.replyOrNull()) != null) {
                replies++;
                last = r;
                if (r.startsWith("421")) {
                    break;
                }
            }
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.println("HostileIT: 100000 pipelined RCPT: " + replies + " replies in " + seconds + " s, the last: " + last);
        // smtpd_recipient_limit (1000) accepted, then 452 4.5.3 until smtpd_hard_error_limit (20) ends the session
        assertTrue(last.startsWith("421"), "the session ended with 421 after " + replies + " replies: " + last);
        assertTrue(replies <= 1000 + 25, "replies before the end: " + replies);
        assertTrue(seconds < 60, "ended within the soft error delays: " + seconds + " s");
        assertTrue(Postern.send("bob@smtp.test", "after a flood", "still serving").matches("[0-9A-F]{16}"));
    }

    @Test
    void aClientThatSendsOneBytePerSecondIsCutBySmtpdTimeout() throws Exception {
        Commands.Result e = Commands.run(Map.of("POSTERN_CONFIG_DIR", config.toString()), null,
                List.of(Commands.bin("postconf"), "-e", "smtpd_timeout = 3s"));
        assertEquals(0, e.status(), e.toString());
        assertEquals(0, Commands.server(null, "postfix", "reload").status());
        long start = System.nanoTime();
        String reply = null;
        try (Raw c = new Raw()) {
            c.reply();
            c.socket.setSoTimeout(1000);
            for (byte b : "EHLO slow.example.org and then some more words\r\n".getBytes(StandardCharsets.US_ASCII)) {
                try {
                    c.out.write(b);
                    c.out.flush();
                } catch (IOException closed) {
                    break;
                }
                if (c.in.available() > 0 || (reply = c.replyOrNull()) != null) {
                    reply = reply != null ? reply : c.replyOrNull();
                    break;
                }
            }
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.println("HostileIT: one byte a second with smtpd_timeout = 3s: " + reply + " after " + seconds + " s");
        assertNotNull(reply, "the server answered before the line was complete");
        assertTrue(reply.startsWith("421 4.4.2"), reply);
        assertTrue(seconds <= 8, "cut within smtpd_timeout and a byte: " + seconds + " s");
    }

    @Test
    void anAuthGuessingLoopIsSlowedByTheTarpitAndCutByTheHardErrorLimit() throws Exception {
        // the submission service of the test master.cf offers AUTH (smtpd_sasl_auth_enable=yes, no TLS)
        List<Long> millis = new ArrayList<>();
        List<String> replies = new ArrayList<>();
        try (Raw c = new Raw(12587)) {
            c.reply();
            c.send("EHLO guesser.example.org");
            assertTrue(c.reply().contains("AUTH"), "the submission service offers AUTH");
            for (int i = 0; i < 40; i++) {
                long t = System.nanoTime();
                c.send("AUTH PLAIN " + java.util.Base64.getEncoder().encodeToString(
                        ("\0smtp-user\0guess-" + i).getBytes(StandardCharsets.US_ASCII)));
                String r = c.replyOrNull();
                if (r == null) {
                    break;
                }
                millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
                replies.add(r);
                if (r.startsWith("421")) {
                    break;
                }
            }
        }
        System.out.println("HostileIT: AUTH guessing: " + replies.size() + " replies, ms each " + millis + ", the last: "
                + replies.get(replies.size() - 1));
        // smtpd_soft_error_limit (10): later error replies wait smtpd_error_sleep_time (1s);
        // smtpd_hard_error_limit (20): the session ends
        assertTrue(replies.get(0).startsWith("535 5.7.8"), replies.get(0));
        assertTrue(millis.get(0) < 900, "the first failures are answered at once: " + millis);
        assertTrue(millis.get(15) >= 900, "past the soft error limit each failure waits: " + millis);
        assertTrue(replies.get(replies.size() - 1).startsWith("421 4.7.0"), "cut: " + replies);
        assertTrue(replies.size() <= 21, "at most the hard error limit of guesses: " + replies.size());
        // the session's last line is written when the connection is gone, asynchronously
        List<String> log = List.of();
        for (int i = 0; i < 50; i++) {
            log = Files.readAllLines(Postern.mailLog(), StandardCharsets.UTF_8);
            if (log.stream().anyMatch(l -> l.contains("too many errors after AUTH from localhost[127.0.0.1]"))) {
                break;
            }
            Thread.sleep(200);
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("SASL PLAIN authentication failed")
                && l.contains("sasl_username=smtp-user")), "Postfix's warning for a failed AUTH");
        assertTrue(log.stream().anyMatch(l -> l.contains("too many errors after AUTH from localhost[127.0.0.1]")),
                "Postfix's line for the cut session");
        assertTrue(log.stream().noneMatch(l -> l.contains("guess-")), "no password in the mail log");
    }

    /** Raw - a client that writes bytes as they are (bare CR and NUL included) and reads replies. */
    private static final class Raw implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Raw() throws IOException {
            this(Postern.PORT);
        }

        Raw(int port) throws IOException {
            socket = new Socket(Postern.HOST, port);
            socket.setSoTimeout(60_000);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        void send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        String reply() throws IOException {
            String r = replyOrNull();
            if (r == null) {
                throw new IOException("the server closed the connection");
            }
            return r;
        }

        /* replyOrNull - one complete reply, or null when the server closed the connection */
        String replyOrNull() throws IOException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                int c;
                try {
                    while ((c = in.read()) >= 0 && c != '\n') {
                        line.write(c);
                    }
                } catch (SocketTimeoutException | java.net.SocketException e) {
                    return sb.length() == 0 ? null : sb.toString();
                }
                if (c < 0 && line.size() == 0) {
                    return sb.length() == 0 ? null : sb.toString();
                }
                String l = line.toString(StandardCharsets.ISO_8859_1);
                l = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
                sb.append(sb.length() == 0 ? "" : "\n").append(l);
                if (l.length() < 4 || l.charAt(3) != '-') {
                    return sb.toString();
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
