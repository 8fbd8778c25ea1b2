package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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

/** smtpd_upstream_proxy_protocol = haproxy over real sockets: the client is the one the header names. */
class SmtpdProxyProtocolTest {
    @TempDir
    Path spool;

    private NioEventLoopGroup group;
    private ExecutorService blocking;
    private SmtpdServer server;
    private final List<Envelope> envelopes = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        group = new NioEventLoopGroup(1);
        blocking = Executors.newSingleThreadExecutor();
        SmtpdSettings.Builder b = SmtpdSettings.defaults("smtpd", "mx.example.org", spool).toBuilder();
        b.upstreamProxy = true;
        b.upstreamProxyTimeout = Duration.ofMillis(500);
        server = new SmtpdServer("smtpd", b.build(), (envelope, content) -> {
            envelopes.add(envelope);
            return envelope.queueId();
        }, group, blocking);
        server.start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop();
        blocking.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private String conversation(byte[] header) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            byte[] commands = ("HELO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<x@other.example>\r\n"
                    + "RCPT TO:<x@mx.example.org>\r\nDATA\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] all = new byte[header.length + commands.length];
            System.arraycopy(header, 0, all, 0, header.length);
            System.arraycopy(commands, 0, all, header.length, commands.length);
            out.write(all);
            out.flush();
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                b.append(in.readLine()).append('\n');
            }
            out.write("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            b.append(in.readLine(), 0, 24).append('\n').append(in.readLine());
            return b.toString();
        }
    }

    @Test
    void version1NamesTheClient() throws IOException {
        String t = conversation("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("220 mx.example.org ESMTP Postern\n250 mx.example.org\n250 2.1.0 Ok\n"
                + "450 4.7.1 <x@other.example>: Relay access denied\n250 2.1.5 Ok\n"
                + "354 End data with <CR><LF>.<CR><LF>\n250 2.0.0 Ok: queued as \n221 2.0.0 Bye", t);
        assertEquals("192.0.2.1", envelopes.get(0).clientAddress());
        assertEquals(56324, envelopes.get(0).clientPort());
    }

    @Test
    void version2NamesTheClient() throws IOException {
        String t = conversation(ProxyProtocolTest.v2(new int[] {192, 0, 2, 9}, 40000, 3));
        assertTrue(t.contains("450 4.7.1 <x@other.example>: Relay access denied"), t);
        assertEquals("192.0.2.9", envelopes.get(0).clientAddress());
    }

    @Test
    void unknownKeepsTheProxyConnectionsPeer() throws IOException {
        String t = conversation("PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(t.contains("250 2.1.5 Ok\n250 2.1.5 Ok"), t); // 127.0.0.1 is in mynetworks
        assertEquals("127.0.0.1", envelopes.get(0).clientAddress());
    }

    private void assertClosedWithoutReply(Socket s) throws IOException {
        int b;
        try {
            b = s.getInputStream().read();
        } catch (SocketException e) {
            b = -1;
        }
        assertEquals(-1, b, "the server must close without a reply");
    }

    @Test
    void badHeaderOrTimeoutCloses() throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII));
            assertClosedWithoutReply(s);
        }
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("PROXY TCP4 192.0.2.1".getBytes(StandardCharsets.US_ASCII));
            assertClosedWithoutReply(s); // smtpd_upstream_proxy_timeout = 500ms
        }
    }
}
