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
import org.postern.smtp.SmugglingReceiver;

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
 * logs it; plaintext pipelined behind STARTTLS is never executed (CVE-2011-0411), with a
 * certificate the test makes; commands pipelined behind AUTH run after its outcome, and
 * behind an exchange of several round trips are SASL responses, never commands; 10,000
 * sessions abandoned in mid-DATA leave no spool file, no open file, no heap and no
 * message behind (figures printed), and the server goes on delivering.
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

    /**
     * The same variants relayed end to end: the deployed server, with smtpd_forbid_bare_newline
     * = no, normalize and reject applied to the client (no exclusions), relays what it accepts
     * to a real Postfix (relayhost = its listener with smtpd_forbid_bare_newline = no, the
     * receiver that a smuggled end of data would fool; SmugglingReceiver). Postfix must log
     * exactly one transaction per message the server acknowledged, deliver each to bob, and
     * never see the forged sender or the victim.
     */
    @Test
    void noSmugglingVariantRelayedToARealPostfixMakesASecondMessage() throws Exception {
        try (SmugglingReceiver postfix = SmugglingReceiver.start("hostile-relay", List.of("no"))) {
            int port = postfix.listeners().values().iterator().next();
            Map<String, String> replies = new java.util.LinkedHashMap<>();
            int acknowledged = 0;
            for (String mode : List.of("no", "normalize", "reject")) {
                postconf("relayhost = [127.0.0.1]:" + port, "smtpd_forbid_bare_newline = " + mode,
                        "smtpd_forbid_bare_newline_exclusions =");
                for (Map.Entry<String, String> v : SmugglingReceiver.VARIANTS.entrySet()) {
                    if (v.getValue().equals("\r\n.\r\n")) {
                        continue; // from a client, the standard end of data: what follows is its next transaction
                    }
                    String tag = "relay-" + mode + "-" + v.getKey();
                    String reply;
                    try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
                        c.reply();
                        for (String[] step : new String[][] {{"EHLO client.postern.test", "250"},
                                {"MAIL FROM:<sender@client.postern.test>", "250"}, {"RCPT TO:<bob@postfix.test>", "250"},
                                {"DATA", "354"}}) {
                            c.send(step[0]);
                            String r = c.reply();
                            assertTrue(r.startsWith(step[1]), tag + ": " + step[0] + ": " + r);
                        }
                        c.write((SmugglingReceiver.attempt(tag, v.getValue()) + ".\r\n").getBytes(StandardCharsets.US_ASCII));
                        reply = c.reply();
                        try {
                            c.send("QUIT");
                            c.reply();
                        } catch (IOException gone) {
                            // a rejecting server may have closed already
                        }
                    }
                    replies.put(tag, reply);
                    if (reply.startsWith("250")) {
                        acknowledged++;
                    } else {
                        assertTrue(mode.equals("reject") && reply.startsWith("5"), tag + ": " + reply);
                    }
                }
            }
            System.out.println("HostileIT: smuggling relayed to Postfix " + postfix.listeners() + ": " + replies);
            assertTrue(acknowledged > 0, "the server relayed nothing: " + replies);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (postfix.deliveredToBob() < acknowledged && System.nanoTime() < end) {
                Thread.sleep(200);
            }
            postfix.assertNothingSmuggled(acknowledged);
            assertEquals(acknowledged, postfix.deliveredToBob(), "Postfix delivered one message to bob per message"
                    + " the server acknowledged:\n" + postfix.log());
            System.out.println("HostileIT: " + acknowledged + " acknowledged, " + postfix.deliveredToBob()
                    + " delivered by Postfix, no second message");
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

    /** postconf - postconf -e these settings, then postfix reload (restored after each test). */
    private void postconf(String... settings) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Commands.bin("postconf"), "-e"));
        cmd.addAll(List.of(settings));
        Commands.Result e = Commands.run(Map.of("POSTERN_CONFIG_DIR", config.toString()), null, cmd);
        assertEquals(0, e.status(), e.toString());
        Commands.Result r = Commands.server(null, "postfix", "reload");
        assertEquals(0, r.status(), "reload: " + r);
    }

    /** logSince - the mail log written since this byte offset. */
    private static String logSince(long offset) throws IOException {
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(Postern.mailLog())) {
            ch.position(offset);
            return new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** waitForLog - the log since offset, once it holds the line (or after 10 s, whatever it holds). */
    private static String waitForLog(long offset, String line) throws Exception {
        String log = logSince(offset);
        for (int i = 0; i < 50 && !log.contains(line); i++) {
            Thread.sleep(200);
            log = logSince(offset);
        }
        return log;
    }

    @Test
    void plaintextPipelinedAfterStarttlsIsNeverExecuted() throws Exception {
        // a certificate of the test's own, on loopback
        Path dir = Path.of(System.getProperty("it.server")).resolveSibling("hostile-tls");
        Files.createDirectories(dir);
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Commands.Result made = Commands.run(Map.of(), null, List.of("openssl", "req", "-x509", "-newkey", "rsa:2048",
                "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=postern.test",
                "-addext", "subjectAltName=DNS:postern.test,IP:127.0.0.1"));
        assertEquals(0, made.status(), made.toString());
        postconf("smtpd_tls_cert_file = " + cert, "smtpd_tls_key_file = " + key, "smtpd_tls_security_level = may");
        long offset = Files.size(Postern.mailLog());
        try (TestSink sink = TestSink.smtp(SINK); Raw c = new Raw()) {
            c.reply();
            c.send("EHLO client.example.org");
            assertTrue(c.reply().contains("250-STARTTLS"), "STARTTLS is offered");
            // CVE-2011-0411: commands in the same write as STARTTLS, in plaintext
            c.out.write("STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.com>\r\n".getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            assertEquals("220 2.0.0 Ready to start TLS", c.reply());
            Thread.sleep(500);
            assertEquals(0, c.in.available(), "no plaintext reply to the injected RSET and MAIL");
            javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) trusting(cert).getSocketFactory()
                    .createSocket(c.socket, Postern.HOST, Postern.PORT, true);
            tls.startHandshake();
            Raw t = new Raw(tls);
            // the first reply inside TLS is the one to EHLO, not the RSET's "250 2.0.0 Ok"
            t.send("EHLO client.example.org");
            String ehlo = t.reply();
            assertTrue(ehlo.startsWith("250-postern.test"), "the first reply after the handshake: " + ehlo);
            assertFalse(ehlo.contains("STARTTLS"), ehlo);
            // the injected MAIL never ran, before or after the handshake
            t.send("RCPT TO:<bob@smtp.test>");
            String rcpt = t.reply();
            assertEquals("503 5.5.1 Error: need MAIL command", rcpt);
            t.send("MAIL FROM:<sender@example.org>");
            assertTrue(t.reply().startsWith("250"));
            t.send("RCPT TO:<bob@smtp.test>");
            assertTrue(t.reply().startsWith("250"));
            t.send("DATA");
            assertTrue(t.reply().startsWith("354"));
            t.out.write("Subject: inside TLS\r\n\r\nbody\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
            t.out.flush();
            String id = Postern.queueId(t.reply());
            t.send("QUIT");
            t.reply();
            TestSink.Delivery d = sink.nextWith(id, 30);
            assertNotNull(d, "the message sent inside TLS was delivered");
            assertTrue(d.text().contains("with ESMTPS id " + id), d.text());
            assertEquals("<sender@example.org>", d.mailFrom());
            System.out.println("HostileIT: STARTTLS with RSET and MAIL pipelined in plaintext: 220, then nothing; "
                    + tls.getSession().getProtocol() + "; first reply inside TLS: " + ehlo.lines().findFirst().orElse("")
                    + "; RCPT: " + rcpt + "; " + id + " delivered");
        }
        String line = "improper command pipelining after STARTTLS from localhost[127.0.0.1]: "
                + "RSET??MAIL FROM:<injected@example.com>??";
        String log = waitForLog(offset, line);
        assertTrue(log.contains(line), "Postern's line for the injection:\n" + log);
        assertTrue(log.contains("Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1."), log);
        assertTrue(log.lines().filter(l -> l.contains("injected@example.com")).allMatch(l -> l.contains(line)),
                "the injected sender appears only as what it is:\n" + log);
    }

    /* trusting - a TLS context that trusts this one certificate */
    private static javax.net.ssl.SSLContext trusting(Path cert) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            store.setCertificateEntry("postern", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    @Test
    void commandsPipelinedBehindAuthRunAfterItsOutcomeAndNeverInsideAnExchange() throws Exception {
        // Postfix (smtpd.c's command table, smtpd_sasl_glue.c) discards nothing after AUTH: no
        // mechanism negotiates a security layer, and RFC 4954 4 lets AUTH PLAIN with its
        // initial response be followed in the same group. What matters is that the commands
        // run after the AUTH reply, with its outcome; behind an exchange of several round
        // trips (AUTH LOGIN) a line sent ahead is a SASL response, never a command.
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        // a user of its own: the guessing loop above leaves smtp-user locked by WildFly's
        // brute-force mitigation for a while
        String good = b64.encodeToString("\0pipelining-user\0Pipelining-Pass-1".getBytes(StandardCharsets.US_ASCII));
        String wrong = b64.encodeToString("\0pipelining-user\0not-the-password".getBytes(StandardCharsets.US_ASCII));
        long offset = Files.size(Postern.mailLog());
        List<String> failed = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        List<String> login = new ArrayList<>();
        try (TestSink sink = TestSink.smtp(SINK)) {
            try (Raw c = new Raw(12587)) {
                c.reply();
                c.send("EHLO client.example.org");
                assertTrue(c.reply().contains("AUTH"));
                c.out.write(("AUTH PLAIN " + wrong + "\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@smtp.test>\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                c.out.flush();
                for (int i = 0; i < 3; i++) {
                    failed.add(c.reply());
                }
            }
            String id;
            try (Raw c = new Raw(12587)) {
                c.reply();
                c.send("EHLO client.example.org");
                c.reply();
                c.out.write(("AUTH PLAIN " + good + "\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@smtp.test>\r\nDATA\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                c.out.flush();
                for (int i = 0; i < 4; i++) {
                    passed.add(c.reply());
                }
                assertEquals(List.of("235 2.7.0 Authentication successful", "250 2.1.0 Ok", "250 2.1.5 Ok",
                        "354 End data with <CR><LF>.<CR><LF>"), passed);
                c.out.write("Subject: pipelined behind AUTH\r\n\r\nbody\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
                c.out.flush();
                id = Postern.queueId(c.reply());
                c.send("QUIT");
                c.reply();
            }
            try (Raw c = new Raw(12587)) {
                c.reply();
                c.send("EHLO client.example.org");
                c.reply();
                c.out.write("AUTH LOGIN\r\nMAIL FROM:<injected@example.com>\r\nRCPT TO:<bob@smtp.test>\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                c.out.flush();
                for (int i = 0; i < 3; i++) {
                    login.add(c.reply());
                }
            }
            TestSink.Delivery d = sink.nextWith(id, 30);
            assertNotNull(d, "the message of the pipelined group was delivered");
            assertTrue(d.text().contains("with ESMTPA id " + id), d.text());
        }
        System.out.println("HostileIT: pipelined behind a failed AUTH PLAIN: " + failed + "; behind a good one: " + passed
                + "; behind AUTH LOGIN: " + login);
        // the failed AUTH's commands ran as an unauthenticated client's: no relay
        assertEquals(List.of("535 5.7.8 Error: authentication failed: authentication failure", "250 2.1.0 Ok",
                "554 5.7.1 <bob@smtp.test>: Relay access denied"), failed);
        assertEquals(List.of("334 VXNlcm5hbWU6", "501 5.5.2 Cannot decode response",
                "503 5.5.1 Error: need MAIL command"), login);
        String line = "improper command pipelining after AUTH from localhost[127.0.0.1]: "
                + "MAIL FROM:<injected@example.com>??RCPT TO:<bob@smtp.test>??";
        String log = waitForLog(offset, line);
        assertTrue(log.contains(line), "Postern's line for commands sent ahead of an exchange:\n" + log);
        assertEquals(1, log.lines().filter(l -> l.contains("improper command pipelining")).count(),
                "AUTH PLAIN with its response may be followed (RFC 4954 4):\n" + log);
        assertTrue(log.lines().filter(l -> l.contains("injected@example.com")).allMatch(l -> l.contains(line)), log);
    }

    @Test
    void tenThousandSessionsAbandonedInDataReleaseEverySpoolFileAndTheirMemory() throws Exception {
        // every other session sends more than the memory limit: half hold their content in
        // memory when they are dropped, half in a spool file
        postconf("smtpd_spool_memory_limit = 4096");
        long pid = serverPid();
        Path spool = Path.of(System.getProperty("it.server"), "tmp", "postern", "spool");
        String sender = "abandoned-" + Long.toHexString(System.nanoTime()) + "@example.org";
        // warm up: classes, caches and pools that any first sessions fill
        long offset = Files.size(Postern.mailLog());
        abandon(500, 250, sender, spool);
        awaitLost(offset, 500);
        long fdsBefore = fds(pid);
        long heapBefore = heapAfterGc(pid);
        long spoolBefore = spoolFiles(spool);
        offset = Files.size(Postern.mailLog());
        long start = System.nanoTime();
        int sessions = 10_000;
        int mostSpooled = abandon(sessions, 250, sender, spool);
        int lost = awaitLost(offset, sessions);
        double seconds = (System.nanoTime() - start) / 1e9;
        long fdsAfter = fds(pid);
        long heapAfter = heapAfterGc(pid);
        long spoolAfter = spoolFiles(spool);
        System.out.printf("HostileIT: %d sessions abandoned in DATA (250 at a time, half closed, half reset) in %.1f s;"
                        + " 'lost connection after DATA' lines %d; spool files at most %d while open, %d before, %d after;"
                        + " fds %d before, %d after; heap after full GC %d KB before, %d KB after (%+d KB)%n",
                sessions, seconds, lost, mostSpooled, spoolBefore, spoolAfter, fdsBefore, fdsAfter,
                heapBefore, heapAfter, heapAfter - heapBefore);
        assertEquals(sessions, lost, "every session ended in DATA");
        assertTrue(mostSpooled >= 125, "the sessions past the memory limit had spool files: " + mostSpooled);
        assertEquals(0, spoolAfter, "no spool file left");
        assertTrue(fdsAfter <= fdsBefore + 10, "open files: " + fdsBefore + " before, " + fdsAfter + " after");
        assertTrue(heapAfter - heapBefore <= HEAP_MARGIN_KB, "heap after a full GC grew by "
                + (heapAfter - heapBefore) + " KB");
        String log = logSince(offset);
        assertFalse(log.contains("from=<" + sender + ">"), "no message of the abandoned sessions was queued");
        Commands.Result q = Commands.server(null, "postqueue", "-p");
        assertFalse(q.out().contains(sender), q.out());
        try (TestSink sink = TestSink.smtp(SINK)) {
            String id = Postern.send("bob@smtp.test", "after 10000 abandoned sessions", "still serving");
            assertNotNull(sink.nextWith(id, 30), "a normal message is delivered afterwards");
        }
    }

    /** heap that 10,000 abandoned sessions may leave after a full GC: 1.6 KB each would be more */
    private static final long HEAP_MARGIN_KB = 16 * 1024;

    /*
     * abandon - sessions in batches of concurrent ones: EHLO, then MAIL, RCPT and DATA (one
     * group), then content lines and no end; the batch is dropped, odd sessions with a FIN,
     * even ones with a RST. The most spool files seen while a batch was open.
     */
    private static int abandon(int sessions, int batch, String sender, Path spool) throws Exception {
        String line = "abandoned content line, long enough to make some bytes of a message 0123456789\r\n";
        int most = 0;
        for (int done = 0; done < sessions; done += batch) {
            int n = Math.min(batch, sessions - done);
            List<Raw> open = new ArrayList<>(n);
            try {
                for (int i = 0; i < n; i++) {
                    open.add(new Raw());
                }
                for (Raw c : open) {
                    assertTrue(c.reply().startsWith("220"));
                    c.send("EHLO abandoning.example.org");
                }
                for (Raw c : open) {
                    assertTrue(c.reply().startsWith("250"));
                    c.out.write(("MAIL FROM:<" + sender + ">\r\nRCPT TO:<bob@smtp.test>\r\nDATA\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    c.out.flush();
                }
                int big = 0;
                for (int i = 0; i < n; i++) {
                    Raw c = open.get(i);
                    String mail = c.reply();
                    String rcpt = c.reply();
                    String data = c.reply();
                    assertTrue(mail.startsWith("250") && rcpt.startsWith("250") && data.startsWith("354"),
                            mail + " / " + rcpt + " / " + data);
                    // odd sessions pass smtpd_spool_memory_limit (4096), even ones stay below it
                    int lines = i % 2 == 1 ? 100 : 10;
                    big += i % 2;
                    c.out.write(("Subject: abandoned\r\n\r\n" + line.repeat(lines)).getBytes(StandardCharsets.US_ASCII));
                    c.out.flush();
                }
                long files = 0;
                for (int wait = 0; wait < 200 && (files = spoolFiles(spool)) < big; wait++) {
                    Thread.sleep(10);
                }
                most = (int) Math.max(most, files);
            } finally {
                for (int i = 0; i < open.size(); i++) {
                    Raw c = open.get(i);
                    if (i % 2 == 0) {
                        c.socket.setSoLinger(true, 0);
                    }
                    c.close();
                }
            }
        }
        return most;
    }

    /* awaitLost - the number of "lost connection after DATA" lines since offset, once it reaches n (or after 60 s) */
    private static int awaitLost(long offset, int n) throws Exception {
        int lost = 0;
        for (int i = 0; i < 300; i++) {
            lost = (int) logSince(offset).lines()
                    .filter(l -> l.contains("lost connection after DATA (") && l.contains("from localhost[127.0.0.1]"))
                    .count();
            if (lost >= n) {
                break;
            }
            Thread.sleep(200);
        }
        return lost;
    }

    /* serverPid - the test server's JVM: jboss-modules with the tests' base directory */
    private static long serverPid() throws IOException {
        String base = "-Djboss.server.base.dir=" + System.getProperty("it.server");
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                String cmd;
                try {
                    cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                } catch (IOException gone) {
                    continue;
                }
                if (cmd.contains("jboss-modules") && (cmd + " ").contains(base + " ")) {
                    return Long.parseLong(p.getFileName().toString());
                }
            }
        }
        throw new AssertionError("no server JVM with " + base);
    }

    private static long fds(long pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        }
    }

    private static long spoolFiles(Path spool) throws IOException {
        if (!Files.isDirectory(spool)) {
            return 0;
        }
        try (var files = Files.list(spool)) {
            return files.count();
        }
    }

    /* heapAfterGc - the server's heap in use (KB) after a full GC, as jcmd reports it */
    private static long heapAfterGc(long pid) throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 2; i++) {
            Commands.Result gc = Commands.run(Map.of(), null, List.of(jcmd, Long.toString(pid), "GC.run"));
            assertEquals(0, gc.status(), gc.toString());
            Commands.Result info = Commands.run(Map.of(), null, List.of(jcmd, Long.toString(pid), "GC.heap_info"));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info.out());
            assertTrue(m.find(), info.toString());
            used = Math.min(used, Long.parseLong(m.group(1)));
        }
        return used;
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
            this(new Socket(Postern.HOST, port));
        }

        Raw(Socket socket) throws IOException {
            this.socket = socket;
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
