package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

/**
 * The client's workarounds against Python's aiosmtpd as the receiving MTA: a greeting of
 * asterisks (what a Cisco PIX "mailguard" shows) turns on smtp_pix_workarounds - HELO instead
 * of EHLO, and for mail queued longer than smtp_pix_workaround_threshold_time a pause of
 * smtp_pix_workaround_delay_time before the final "." - while an ordinary greeting does not;
 * smtp_discard_ehlo_keyword_address_maps removes an EHLO keyword for one server address. The
 * server writes down, per message, HELO or EHLO, the MAIL FROM parameters and the seconds
 * between the last RCPT and the end of the data; the client's mail log lines are captured.
 */
class SmtpQuirksInteropTest {

    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path dir;
    private Process peer;
    private int port;
    private Path out;
    private final List<String> maillog = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            maillog.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private void start(String mode) throws Exception {
        Peers.assume(new File(PYTHON).canExecute(), "python3 missing");
        Process check = new ProcessBuilder(PYTHON, "-c", "import aiosmtpd").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Peers.assume(check.waitFor(30, TimeUnit.SECONDS) && check.exitValue() == 0, "aiosmtpd is not installed");
        Path script = dir.resolve("aiosmtpd_quirks.py");
        try (InputStream in = getClass().getResourceAsStream("aiosmtpd_quirks.py")) {
            Files.copy(in, script);
        }
        out = dir.resolve("seen.txt");
        for (int attempt = 0; attempt < 5 && peer == null; attempt++) {
            port = 22000 + new Random().nextInt(1000);
            Process p = new ProcessBuilder(PYTHON, script.toString(), String.valueOf(port), mode, out.toString())
                    .redirectErrorStream(true).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            if ("ready".equals(r.readLine())) {
                peer = p;
            } else {
                p.destroy();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
        Peers.assume(peer != null, "aiosmtpd did not start");
        Logger.getLogger("postern.maillog.smtp").addHandler(capture);
    }

    @AfterEach
    void stop() throws Exception {
        Logger.getLogger("postern.maillog.smtp").removeHandler(capture);
        if (peer != null) {
            peer.destroy();
            peer.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static OutboundMessage message(String queueId, Instant arrival) {
        byte[] content = "Subject: quirks\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        return new OutboundMessage(queueId, "sender@client.test",
                List.of(new OutboundMessage.OutboundRecipient("rcpt@x.test", null, null)), content.length,
                () -> new java.io.ByteArrayInputStream(content), null, null, false, null, arrival);
    }

    private static SmtpClientSettings.Workarounds workarounds(List<String> discardMaps) {
        SmtpClientSettings.Workarounds d = SmtpClientSettings.Workarounds.DEFAULTS;
        return new SmtpClientSettings.Workarounds(d.pixWorkarounds(), List.of(), Duration.ofSeconds(2),
                Duration.ofSeconds(60), discardMaps, d.mimeNestingLimit(), d.mimeBoundaryLimit(), d.daemonTimeout());
    }

    private List<String> seen() throws Exception {
        return Files.exists(out) ? Files.readAllLines(out) : List.of();
    }

    private DeliveryOutcome deliver(SmtpClientSettings settings, OutboundMessage m) throws Exception {
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), settings)) {
            return s.deliver(m);
        }
    }

    @Test
    void aGreetingOfAsterisksGetsHeloAndOldMailAPauseBeforeTheDot() throws Exception {
        start("pix");
        SmtpClientSettings settings = fast().withWorkarounds(workarounds(List.of()));
        DeliveryOutcome young = deliver(settings, message("Q1", Instant.now()));
        assertEquals(DeliveryOutcome.Status.SENT, young.recipients().get(0).status(), young.toString());
        DeliveryOutcome old = deliver(settings, message("Q2", Instant.now().minusSeconds(600)));
        assertEquals(DeliveryOutcome.Status.SENT, old.recipients().get(0).status(), old.toString());
        List<String> seen = seen();
        assertEquals(2, seen.size(), seen.toString());
        String[] first = seen.get(0).split(" ");
        String[] second = seen.get(1).split(" ");
        assertEquals("HELO", first[0], "disable_esmtp: " + seen);
        assertTrue(Double.parseDouble(first[2]) < 1.5, "mail younger than the threshold is not delayed: " + seen);
        assertEquals("HELO", second[0]);
        assertTrue(Double.parseDouble(second[2]) >= 1.9, "delay_dotcrlf pauses 2s before the dot: " + seen);
        assertTrue(maillog.contains("Q2: enabling PIX workarounds: disable_esmtp delay_dotcrlf for 127.0.0.1[127.0.0.1]:"
                + port), maillog.toString());
        // the workarounds can be switched off
        peerReset();
        SmtpClientSettings none = fast().withWorkarounds(new SmtpClientSettings.Workarounds(List.of(), List.of(),
                Duration.ofSeconds(2), Duration.ofSeconds(60), List.of(), 100, 2048, Duration.ofSeconds(18000)));
        deliver(none, message("Q3", Instant.now().minusSeconds(600)));
        assertTrue(seen().get(0).startsWith("EHLO "), seen().toString());
        assertTrue(Double.parseDouble(seen().get(0).split(" ")[2]) < 1.5, seen().toString());
    }

    private void peerReset() throws Exception {
        Files.deleteIfExists(out);
    }

    @Test
    void anOrdinaryGreetingGetsEhloAndNoPause() throws Exception {
        start("plain");
        SmtpClientSettings settings = fast().withWorkarounds(workarounds(List.of()));
        deliver(settings, message("Q4", Instant.now().minusSeconds(600)));
        List<String> seen = seen();
        assertTrue(seen.get(0).startsWith("EHLO SIZE="), seen.toString());
        assertTrue(Double.parseDouble(seen.get(0).split(" ")[2]) < 1.5, seen.toString());
        assertTrue(maillog.stream().noneMatch(l -> l.contains("PIX")), maillog.toString());
    }

    @Test
    void ehloKeywordsAreDiscardedByServerAddress() throws Exception {
        start("plain");
        SmtpClientSettings other = fast().withWorkarounds(workarounds(List.of("inline:{192.0.2.1=size}")));
        deliver(other, message("Q5", Instant.now()));
        SmtpClientSettings here = fast().withWorkarounds(workarounds(List.of("inline:{127.0.0.1=size}")));
        deliver(here, message("Q6", Instant.now()));
        assertTrue(maillog.contains("discarding EHLO keywords: SIZE"), maillog.toString());
        Path table = dir.resolve("ehlo_discard");
        Files.writeString(table, "127.0.0.1   size, silent-discard\n");
        SmtpClientSettings silent = fast().withWorkarounds(workarounds(List.of("texthash:" + table)));
        maillog.clear();
        deliver(silent, message("Q7", Instant.now()));
        List<String> seen = seen();
        assertEquals(3, seen.size(), seen.toString());
        assertTrue(seen.get(0).startsWith("EHLO SIZE="), "another server's entry does not apply: " + seen);
        assertTrue(seen.get(1).startsWith("EHLO -"), "SIZE discarded for 127.0.0.1: no SIZE= on MAIL FROM: " + seen);
        assertTrue(seen.get(2).startsWith("EHLO -"), seen.toString());
        assertTrue(maillog.stream().noneMatch(l -> l.startsWith("discarding EHLO keywords")), "silent-discard: " + maillog);
    }

    @Test
    void daemonTimeoutEndsADeliveryRequestThatTakesTooLong() throws Exception {
        // a server that never answers RCPT; every command's own limit is 30s, daemon_timeout 1s
        try (FakeSmtpServer server = new FakeSmtpServer(false)) {
            server.on("RCPT", FakeSmtpServer.HANG);
            SmtpClientSettings.Workarounds d = SmtpClientSettings.Workarounds.DEFAULTS;
            SmtpClientSettings settings = SmtpTestSupport.settings(30_000).withWorkarounds(new SmtpClientSettings.Workarounds(
                    d.pixWorkarounds(), List.of(), d.pixDelay(), d.pixThreshold(), List.of(), 100, 2048,
                    Duration.ofSeconds(1)));
            long start = System.nanoTime();
            DeliveryOutcome o;
            try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false), settings)) {
                o = s.deliver(message("Q8", Instant.now()));
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(DeliveryOutcome.Status.DEFERRED, o.recipients().get(0).status(), o.toString());
            assertTrue(ms >= 900 && ms < 10_000, ms + " ms");
            assertTrue(o.recipients().get(0).reply().contains("timed out while sending RCPT TO"), o.toString());
        }
    }

    @Test
    void debugPeerListLogsTheConversationWithAMatchingServer() throws Exception {
        start("plain");
        SmtpClientSettings.Workarounds d = SmtpClientSettings.Workarounds.DEFAULTS;
        SmtpClientSettings other = fast().withWorkarounds(new SmtpClientSettings.Workarounds(d.pixWorkarounds(),
                List.of(), d.pixDelay(), d.pixThreshold(), List.of(), 100, 2048, d.daemonTimeout(),
                List.of("192.0.2.0/24", "mx.example.com"), 2));
        deliver(other, message("Q9", Instant.now()));
        assertTrue(maillog.stream().noneMatch(l -> l.startsWith("> ") || l.startsWith("< ")), maillog.toString());
        SmtpClientSettings here = fast().withWorkarounds(new SmtpClientSettings.Workarounds(d.pixWorkarounds(),
                List.of(), d.pixDelay(), d.pixThreshold(), List.of(), 100, 2048, d.daemonTimeout(),
                List.of("127.0.0.0/8"), 2));
        deliver(here, message("Q10", Instant.now()));
        String peerName = "127.0.0.1[127.0.0.1]:" + port;
        assertTrue(maillog.contains("> " + peerName + ": EHLO client.test"), maillog.toString());
        assertTrue(maillog.stream().anyMatch(l -> l.startsWith("< " + peerName + ": 220 ")), maillog.toString());
        assertTrue(maillog.contains("> " + peerName + ": RCPT TO:<rcpt@x.test>"), maillog.toString());
        assertTrue(maillog.stream().anyMatch(l -> l.equals("< " + peerName + ": 250 2.0.0 Ok: queued")),
                maillog.toString());
        // debug_peer_level = 0 turns it off
        maillog.clear();
        SmtpClientSettings off = fast().withWorkarounds(new SmtpClientSettings.Workarounds(d.pixWorkarounds(),
                List.of(), d.pixDelay(), d.pixThreshold(), List.of(), 100, 2048, d.daemonTimeout(),
                List.of("127.0.0.0/8"), 0));
        deliver(off, message("Q11", Instant.now()));
        assertTrue(maillog.stream().noneMatch(l -> l.startsWith("> ")), maillog.toString());
    }
}
