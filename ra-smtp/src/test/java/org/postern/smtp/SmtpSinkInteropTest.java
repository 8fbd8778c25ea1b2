package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;

/** Interop with Postfix's smtp-sink, a peer nobody here wrote (skipped when it is absent). */
class SmtpSinkInteropTest {

    private static final String SINK = "/usr/sbin/smtp-sink";
    private final List<Process> sinks = new ArrayList<>();

    @BeforeEach
    void requireSink() {
        Peers.assume(new File(SINK).canExecute(), "Postfix smtp-sink is not installed at " + SINK);
        Peers.assume("root".equals(System.getProperty("user.name")), "smtp-sink -u nobody needs root");
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : sinks) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /* sink - start smtp-sink with these options on a free port; returns the port once it accepts */
    private int sink(String... options) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(SINK, "-u", "nobody"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("127.0.0.1:" + port, "10"));
        sinks.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        for (int i = 0; i < 50; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return port;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IOException("smtp-sink did not start on port " + port);
    }

    @Test
    void deliversToSmtpSinkAndReusesTheSession() throws Exception {
        int port = sink();
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), fast())) {
            for (int i = 0; i < 3; i++) {
                DeliveryOutcome o = s.deliver(message("Subject: " + i + "\r\n\r\n.dot\r\n", "a@x.test", "b@x.test"));
                for (RecipientOutcome r : o.recipients()) {
                    assertEquals(Status.SENT, r.status(), r.toString());
                    assertEquals("2.0.0", r.dsn());
                }
            }
            assertTrue(s.isConnected());
            assertEquals(3, s.transactions());
        }
    }

    @Test
    void deliversToSmtpSinkInLmtpMode() throws Exception {
        int port = sink("-L");
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", port), fast())) {
            DeliveryOutcome o = s.deliver(message("x\r\n", "a@x.test", "b@x.test", "c@x.test"));
            assertEquals(3, o.recipients().size());
            o.recipients().forEach(r -> assertEquals(Status.SENT, r.status(), r.toString()));
        }
    }

    @Test
    void aSoftRcptRejectBySmtpSinkDefers() throws Exception {
        int port = sink("-r", "RCPT");
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), fast())) {
            RecipientOutcome r = s.deliver(message("x\r\n", "a@x.test")).recipients().get(0);
            assertEquals(Status.DEFERRED, r.status());
            assertTrue(r.reply().startsWith("host 127.0.0.1[127.0.0.1] said: 4"), r.reply());
            assertTrue(r.reply().endsWith("(in reply to RCPT TO command)"), r.reply());
        }
    }

    @Test
    void aHardDataRejectBySmtpSinkBounces() throws Exception {
        int port = sink("-f", "DATA");
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), fast())) {
            RecipientOutcome r = s.deliver(message("x\r\n", "a@x.test")).recipients().get(0);
            assertEquals(Status.BOUNCED, r.status(), r.toString());
            assertTrue(r.reply().endsWith("(in reply to DATA command)"), r.reply());
        }
    }

    @Test
    void nMessagesTravelOverFewerConnectionsCountedBySmtpSink() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        java.nio.file.Path counters = java.nio.file.Files.createTempFile("smtp-sink", ".out");
        Process p = new ProcessBuilder(SINK, "-c", "-u", "nobody", "127.0.0.1:" + port, "10")
                .redirectErrorStream(true).redirectOutput(counters.toFile()).start();
        sinks.add(p);
        for (int i = 0; i < 50; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                break;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        int n = 12;
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), fast())) {
            for (int i = 0; i < n; i++) {
                assertEquals(Status.SENT, s.deliver(message("Subject: " + i + "\r\n\r\nx\r\n", "a@x.test"))
                        .recipients().get(0).status());
            }
        }
        // "sess=S quit=Q mesg=M", updated when a session ends; the probe counts as a session too
        java.util.regex.Pattern counter = java.util.regex.Pattern.compile("sess=(\\d+) quit=(\\d+) mesg=(\\d+)");
        int sessions = -1;
        int messages = -1;
        for (int i = 0; i < 50 && messages < n; i++) {
            Thread.sleep(100);
            java.util.regex.Matcher m = counter.matcher(java.nio.file.Files.readString(counters));
            while (m.find()) {
                sessions = Integer.parseInt(m.group(1));
                messages = Integer.parseInt(m.group(3));
            }
        }
        java.nio.file.Files.deleteIfExists(counters);
        assertEquals(n, messages);
        // the probe, then all 12 messages over one session: no reuse count limit by default
        assertTrue(sessions < n, "sessions " + sessions);
        assertEquals(2, sessions);
    }
}
