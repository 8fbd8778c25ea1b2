package org.postern.smtpd;

import org.postern.test.SmtpReplies;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SmtpdServer over real sockets on 127.0.0.1. */
class SmtpdServerTest {
    @TempDir
    Path spool;

    private NioEventLoopGroup group;
    private ExecutorService blocking;
    private SmtpdServer server;
    private final List<Envelope> envelopes = new CopyOnWriteArrayList<>();
    private final List<byte[]> contents = new CopyOnWriteArrayList<>();
    private final List<Long> counted = new CopyOnWriteArrayList<>();
    private volatile boolean countOnly;

    private final SmtpdListener listener = (envelope, content) -> {
        try {
            if (countOnly) {
                long n = 0;
                byte[] buf = new byte[65536];
                for (int r; (r = content.read(buf)) > 0; ) {
                    n += r;
                }
                counted.add(n);
            } else {
                contents.add(content.readAllBytes());
            }
        } catch (IOException e) {
            throw new EnqueueException("read failed", e);
        }
        envelopes.add(envelope);
        return envelope.queueId();
    };

    @BeforeEach
    void start() throws IOException {
        group = new NioEventLoopGroup(2);
        blocking = Executors.newFixedThreadPool(2);
        SmtpdSettings settings = SmtpdSettings.defaults("smtpd", "mx.example.org", spool)
                .withMessageSizeLimit(0);
        server = new SmtpdServer("smtpd", settings, listener, group, blocking);
        server.start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop();
        blocking.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }


    @Test
    void oneServiceListensOnEachInetInterfacesAddressAndOnNoOther() throws Exception {
        SmtpdServer two = new SmtpdServer("smtp", SmtpdSettings.defaults("smtp", "mx.example.org", spool), listener,
                group, blocking);
        try {
            two.start(java.util.List.of("127.0.0.2", "127.0.0.3"), 0);
            for (String address : new String[] {"127.0.0.2", "127.0.0.3"}) {
                try (Socket s = new Socket(address, two.port())) {
                    s.setSoTimeout(10_000);
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.US_ASCII));
                    assertEquals("220 mx.example.org ESMTP Postern", SmtpReplies.read(in), address);
                }
            }
            // not bound to the wildcard: another loopback address of the same port is refused
            assertThrows(java.net.ConnectException.class, () -> new Socket("127.0.0.4", two.port()).close());
        } finally {
            two.stop();
        }
        assertEquals(-1, two.port());
    }

    @Test
    void pipelinedTransactionDeliversExactContent() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            assertEquals("220 mx.example.org ESMTP Postern", SmtpReplies.read(in));
            out.write("EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(SmtpReplies.read(in).contains("250-PIPELINING"));
            out.write(("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertEquals("250 2.1.0 Ok", SmtpReplies.read(in));
            assertEquals("250 2.1.5 Ok", SmtpReplies.read(in));
            assertEquals("250 2.1.5 Ok", SmtpReplies.read(in));
            assertEquals("354 End data with <CR><LF>.<CR><LF>", SmtpReplies.read(in));
            out.write("Subject: t\r\n\r\n..leading dot\r\nend\r\n.\r\nNOOP\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            String queued = SmtpReplies.read(in);
            assertTrue(queued.startsWith("250 2.0.0 Ok: queued as "), queued);
            assertEquals("250 2.0.0 Ok", SmtpReplies.read(in));
            assertEquals("221 2.0.0 Bye", SmtpReplies.read(in));
            assertEquals(null, in.readLine());
        }
        Envelope e = envelopes.get(0);
        String c = new String(contents.get(0), StandardCharsets.UTF_8);
        assertTrue(c.startsWith("Received: from client.example (unknown [127.0.0.1])\r\n\tby mx.example.org (Postern)"
                + " with ESMTP id " + e.queueId() + ";\r\n\t"), c);
        // a loopback client is local (local_header_rewrite_clients = permit_inet_interfaces):
        // the missing Message-Id:, Date: and From: are added at the end of its headers
        assertTrue(c.contains(")\r\nSubject: t\r\nMessage-Id: <"), c);
        assertTrue(c.contains("." + e.queueId() + "@mx.example.org>\r\nDate: "), c);
        assertTrue(c.endsWith(")\r\nFrom: <a@example.com>\r\n\r\n.leading dot\r\nend\r\n"), c);
        assertEquals(2, e.recipients().size());
        assertEquals(contents.get(0).length, e.size());
        try (var left = Files.list(spool)) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void twentyMegabytesStreamThrough() throws Exception {
        countOnly = true;
        byte[] line = ("x".repeat(998) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        int lines = 20 * 1024 * 1024 / line.length;
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(60_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 65536);
            SmtpReplies.read(in);
            out.write("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            SmtpReplies.read(in);
            SmtpReplies.read(in);
            SmtpReplies.read(in);
            assertTrue(SmtpReplies.read(in).startsWith("354"));
            for (int i = 0; i < lines; i++) {
                out.write(line);
            }
            out.write(".\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(SmtpReplies.read(in).startsWith("250 2.0.0 Ok: queued as "));
            assertEquals("221 2.0.0 Bye", SmtpReplies.read(in));
        }
        long received = counted.get(0);
        long header = envelopes.get(0).size() - (long) lines * line.length;
        assertEquals(envelopes.get(0).size(), received);
        assertTrue(header > 100 && header < 400, "Received: header only: " + header);
    }

    @Test
    void hostileInputGetsRepliesAndOtherSessionsAreUnaffected() throws Exception {
        try (Socket bad = new Socket("127.0.0.1", server.port());
             Socket good = new Socket("127.0.0.1", server.port())) {
            bad.setSoTimeout(10_000);
            good.setSoTimeout(10_000);
            BufferedReader badIn = new BufferedReader(new InputStreamReader(bad.getInputStream(), StandardCharsets.ISO_8859_1));
            BufferedReader goodIn = new BufferedReader(new InputStreamReader(good.getInputStream(), StandardCharsets.UTF_8));
            SmtpReplies.read(badIn);
            SmtpReplies.read(goodIn);
            OutputStream badOut = bad.getOutputStream();
            badOut.write(new byte[] {0, 1, 2, (byte) 0xff, '\r', '\n'});
            badOut.write(("A".repeat(100_000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            badOut.write("DATA\r\nRCPT TO:<x@y>\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("500 5.5.2 Error: bad UTF-8 syntax", SmtpReplies.read(badIn));
            assertEquals("500 5.5.2 mx.example.org Error: command too long", SmtpReplies.read(badIn));
            assertEquals("503 5.5.1 Error: need RCPT command", SmtpReplies.read(badIn));
            assertEquals("503 5.5.1 Error: need MAIL command", SmtpReplies.read(badIn));
            good.getOutputStream().write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("250 2.0.0 Ok", SmtpReplies.read(goodIn));
        }
    }

    @Test
    void portTakenGivesClearError() {
        SmtpdServer second = new SmtpdServer("smtpd2", SmtpdSettings.defaults("smtpd2", "h", spool), listener, group,
                blocking);
        IOException e = assertThrows(IOException.class, () -> second.start("127.0.0.1", server.port()));
        assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + server.port()), e.getMessage());
    }

    @Test
    void swaksPipelinedDelivery() throws Exception {
        Path swaks = Path.of("/usr/bin/swaks");
        Peers.assume(Files.isExecutable(swaks), "swaks is not installed at /usr/bin/swaks");
        Process p = new ProcessBuilder(List.of(swaks.toString(), "--server", "127.0.0.1:" + server.port(),
                "--pipeline", "--to", "a@b", "--from", "c@d"))
                .redirectErrorStream(true).start();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "swaks finished");
        assertEquals(0, p.exitValue(), output);
        assertEquals(1, envelopes.size(), output);
        assertEquals("c@d", envelopes.get(0).sender());
        assertEquals(List.of(new Envelope.Recipient("a@b", null, null)), envelopes.get(0).recipients());
        assertTrue(output.contains("queued as " + envelopes.get(0).queueId()), output);
        assertTrue(new String(contents.get(0), StandardCharsets.UTF_8).contains("X-Mailer: swaks"));
    }

    @Test
    void posternsClientSendsALargeMessageInChunksCutInMidLine() {
        // Postern's client cuts BDAT chunks every 64 KB wherever that falls, inside a line
        // most of the time: Postern's server must take the five chunks as one message
        StringBuilder b = new StringBuilder("Subject: chunks\r\n\r\n");
        for (int i = 0; b.length() < 300_000; i++) {
            b.append(i % 5 == 0 ? "." : "").append("line ").append(i).append(" of a message cut into chunks\r\n");
        }
        byte[] sent = b.toString().getBytes(StandardCharsets.US_ASCII);
        java.time.Duration d = java.time.Duration.ofSeconds(10);
        org.postern.smtp.api.SmtpClientSettings settings = new org.postern.smtp.api.SmtpClientSettings("client.test",
                d, d, d, d, d, d, d, d, d, 998);
        org.postern.smtp.api.OutboundMessage m = new org.postern.smtp.api.OutboundMessage("QID1", "a@example.com",
                List.of(new org.postern.smtp.api.OutboundMessage.OutboundRecipient("b@example.org", null, null)),
                sent.length, () -> new java.io.ByteArrayInputStream(sent), null, null, false);
        org.postern.smtp.api.DeliveryOutcome.RecipientOutcome r;
        try (org.postern.smtp.SmtpClientSession c = new org.postern.smtp.SmtpClientSession(
                org.postern.smtp.api.NextHop.smtp("127.0.0.1", server.port(), false), settings)) {
            r = c.deliver(m).recipients().get(0);
        }
        assertEquals(org.postern.smtp.api.DeliveryOutcome.Status.SENT, r.status(), r.toString());
        assertTrue(r.reply().startsWith("250 2.0.0 Ok: " + sent.length + " bytes queued as "), r.reply());
        assertEquals(1, contents.size());
        String got = new String(contents.get(0), StandardCharsets.US_ASCII);
        assertTrue(got.endsWith("\r\n\r\n" + b.substring(b.indexOf("\r\n\r\n") + 4)), "the content arrived whole");
    }
}
