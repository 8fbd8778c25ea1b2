package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.message;
import static org.postern.smtp.SmtpTestSupport.settings;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;

/**
 * Fault injection with Postfix's smtp-sink at every stage: a soft reject (-r), a hard reject
 * (-f), a disconnect without reply (-q), a 421 and disconnect (-Q), and a reply slower than
 * the stage's time limit (-W). For each: the outcome of both recipients, and how many copies
 * the sink stored (-d): one when sent, none when deferred or bounced before the final ".".
 * After the final "." smtp-sink has stored the message before it answers: a reject is still a
 * reject (no warning), but a lost connection or a timeout leaves the client in doubt, and it
 * warns that the message may be delivered twice (PSTN3106).
 */
class SmtpSinkFaultTest {

    private static final String SINK = "/usr/sbin/smtp-sink";
    private Process sink;
    private Path dumps;
    private final List<LogRecord> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(r);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void setUp() throws IOException {
        Peers.assume(new File(SINK).canExecute(), "Postfix smtp-sink is not installed at " + SINK);
        Peers.assume("root".equals(System.getProperty("user.name")), "smtp-sink -u nobody needs root");
        dumps = Files.createTempDirectory("sink-dumps");
        Files.setPosixFilePermissions(dumps, PosixFilePermissions.fromString("rwxrwxrwx"));
        Logger.getLogger("org.postern.smtp").addHandler(handler);
    }

    @AfterEach
    void tearDown() throws Exception {
        Logger.getLogger("org.postern.smtp").removeHandler(handler);
        if (sink != null) {
            sink.destroy();
            sink.waitFor(5, TimeUnit.SECONDS);
        }
        if (dumps != null) {
            try (Stream<Path> s = Files.walk(dumps)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private int start(String option, String value) throws IOException, InterruptedException {
        return start(false, option, value);
    }

    private int start(boolean lmtp, String option, String value) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(SINK, "-u", "nobody", "-d", dumps + "/%H%M%S."));
        if (lmtp) {
            cmd.add("-L");
        }
        if (!option.equals("none")) {
            cmd.add(option);
            cmd.add(value);
        }
        cmd.addAll(List.of("127.0.0.1:" + port, "10"));
        sink = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        for (int i = 0; i < 50; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return port;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IOException("smtp-sink did not start");
    }

    private long stored() throws IOException, InterruptedException {
        Thread.sleep(300);   // the sink writes its dump asynchronously from our point of view
        // smtp-sink opens a dump per transaction at MAIL FROM: count those that hold the message
        try (Stream<Path> s = Files.list(dumps)) {
            return s.filter(p -> {
                try {
                    return Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1).contains("Subject: fault");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }

    @ParameterizedTest(name = "LMTP {0} {1}")
    @CsvSource(delimiter = '|', value = {
            "none | -       | SENT     | 250                                                   | 1",
            "-r | LHLO      | DEFERRED | (in reply to LHLO command)                            | 0",
            "-r | RCPT      | DEFERRED | (in reply to RCPT TO command)                         | 0",
            "-f | RCPT      | BOUNCED  | (in reply to RCPT TO command)                         | 0",
            "-f | .         | BOUNCED  | (in reply to end of DATA command)                     | -2",
            "-q | .         | DEFERRED | while sending end of data -- message may be sent more than once | -1",
            "-W | .:2       | DEFERRED | timed out while sending end of data -- message may be sent more than once | -1",
    })
    void eachFaultInLmtpMode(String option, String value, Status status, String fragment, int copies) throws Exception {
        int port = start(true, option, value.trim());
        DeliveryOutcome o;
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", port), settings(800))) {
            o = s.deliver(message("Subject: fault\r\n\r\nbody\r\n", "a@x.test", "b@x.test"));
        }
        check(o, status, fragment, copies);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "none | -    | SENT     | 250                                                        | 1",
            "-r | CONNECT | DEFERRED | refused to talk to me: 4                                 | 0",
            "-f | CONNECT | DEFERRED | refused to talk to me: 5                                 | 0",
            "-q | CONNECT | DEFERRED | while receiving the initial server greeting              | 0",
            "-r | EHLO    | DEFERRED | (in reply to EHLO command)                               | 0",
            "-f | EHLO    | SENT     | 250                                                      | 1",
            "-q | EHLO    | DEFERRED | lost connection with 127.0.0.1[127.0.0.1] while performing the EHLO handshake | 0",
            "-Q | EHLO    | DEFERRED | 421                                                      | 0",
            "-r | MAIL    | DEFERRED | (in reply to MAIL FROM command)                          | 0",
            "-f | MAIL    | BOUNCED  | (in reply to MAIL FROM command)                          | 0",
            "-q | MAIL    | DEFERRED | lost connection with 127.0.0.1[127.0.0.1] while sending MAIL FROM | 0",
            "-Q | MAIL    | DEFERRED | 421                                                      | 0",
            "-r | RCPT    | DEFERRED | (in reply to RCPT TO command)                            | 0",
            "-f | RCPT    | BOUNCED  | (in reply to RCPT TO command)                            | 0",
            "-q | RCPT    | DEFERRED | lost connection with 127.0.0.1[127.0.0.1] while sending RCPT TO | 0",
            "-Q | RCPT    | DEFERRED | 421                                                      | 0",
            "-r | DATA    | DEFERRED | (in reply to DATA command)                               | 0",
            "-f | DATA    | BOUNCED  | (in reply to DATA command)                               | 0",
            "-q | DATA    | DEFERRED | lost connection with 127.0.0.1[127.0.0.1] while sending DATA command | 0",
            "-Q | DATA    | DEFERRED | 421                                                      | 0",
            "-r | .       | DEFERRED | (in reply to end of DATA command)                        | -2",
            "-f | .       | BOUNCED  | (in reply to end of DATA command)                        | -2",
            "-q | .       | DEFERRED | while sending end of data -- message may be sent more than once | -1",
            "-Q | .       | DEFERRED | 421                                                      | -2",
            "-W | CONNECT:2 | DEFERRED | timed out while receiving the initial server greeting  | 0",
            "-W | EHLO:2  | DEFERRED | timed out while performing the EHLO handshake            | 0",
            "-W | MAIL:2  | DEFERRED | timed out while sending MAIL FROM                        | 0",
            "-W | RCPT:2  | DEFERRED | timed out while sending RCPT TO                          | 0",
            "-W | DATA:2  | DEFERRED | timed out while sending DATA command                     | 0",
            "-W | .:2     | DEFERRED | timed out while sending end of data -- message may be sent more than once | -1",
    })
    void eachFaultAtEachStage(String option, String value, Status status, String fragment, int copies) throws Exception {
        int port = start(option, value.trim());
        DeliveryOutcome o;
        SmtpClientSettings settings = settings(800);
        if (option.equals("-W")) {
            // smtp-sink answers pipelined commands out of order while it delays one reply: one at a time,
            // so that each stage's own time limit is what expires
            settings = settings.withSession(new SmtpClientSettings.Session(true, true, false, true, true,
                    List.of("pipelining"), "", "", true));
        }
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), settings)) {
            o = s.deliver(message("Subject: fault\r\n\r\nbody\r\n", "a@x.test", "b@x.test"));
        }
        check(o, status, fragment, copies);
    }

    private void check(DeliveryOutcome o, Status status, String fragment, int copies) throws Exception {
        for (RecipientOutcome r : o.recipients()) {
            assertEquals(status, r.status(), r.toString());
            assertTrue(r.reply().contains(fragment.trim()), r.reply());
        }
        long n = stored();
        if (copies >= 0) {
            assertEquals(copies, n, "copies stored by the sink");
        } else if (copies == -2) {
            // smtp-sink stores the message before it sends its (reject) reply to the final "."
            assertTrue(n <= 1, "at most one copy: " + n);
            assertTrue(warnings.stream().noneMatch(w -> w.getMessage().startsWith("PSTN3106")), "a reply is no duplicate risk");
        } else {
            // after the final ".": the sink may have the message; the retry may duplicate it, and we say so
            assertTrue(n <= 1, "at most one copy: " + n);
            assertTrue(warnings.stream().anyMatch(w -> w.getMessage().startsWith("PSTN3106")), "PSTN3106 warning");
        }
    }

    /* notices - settings whose notify_classes has protocol (or not) */
    private static SmtpClientSettings notices(boolean protocol) {
        SmtpClientSettings.Workarounds d = SmtpClientSettings.Workarounds.DEFAULTS;
        return settings(800).withWorkarounds(new SmtpClientSettings.Workarounds(d.pixWorkarounds(),
                d.pixWorkaroundMaps(), d.pixDelay(), d.pixThreshold(), d.discardKeywordMaps(), d.mimeNestingLimit(),
                d.mimeBoundaryLimit(), d.daemonTimeout(), d.debugPeerList(), d.debugPeerLevel(), protocol));
    }

    @ParameterizedTest(name = "notify_classes protocol {0}")
    @CsvSource({"true", "false"})
    void aReplyThatSuggestsAProtocolErrorHandsTheTranscriptToThePostmaster(boolean protocol) throws Exception {
        // smtp-sink -f answers "500 5.3.0 Error: command failed": a 50x is Postfix's protocol error class
        int port = start("-f", "RCPT");
        DeliveryOutcome o;
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), notices(protocol))) {
            o = s.deliver(message("Subject: fault\r\n\r\nbody\r\n", "a@x.test"));
        }
        assertEquals(Status.BOUNCED, o.recipients().get(0).status());
        if (!protocol) {
            assertEquals(null, o.transcript());
            return;
        }
        assertTrue(o.transcript() != null, "a transcript for the postmaster");
        assertEquals("127.0.0.1[127.0.0.1]:" + port, o.transcript().server());
        List<String> lines = o.transcript().lines();
        assertEquals("In:  220 smtp-sink ESMTP", lines.get(0));
        assertEquals("Out: EHLO client.test", lines.get(1));
        assertTrue(lines.contains("Out: RCPT TO:<a@x.test>"), lines.toString());
        assertTrue(lines.contains("In:  500 5.3.0 Error: command failed"), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.contains("Subject: fault")), "no content in a transcript");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"-r, RCPT", "none, -"})
    void anOrdinaryRejectOrSuccessIsNoProtocolError(String option, String value) throws Exception {
        int port = start(option, value);
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), notices(true))) {
            assertEquals(null, s.deliver(message("Subject: fault\r\n\r\nbody\r\n", "a@x.test")).transcript());
        }
    }
}
