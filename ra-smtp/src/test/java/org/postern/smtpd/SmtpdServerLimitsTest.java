package org.postern.smtpd;

import org.postern.test.SmtpReplies;
import org.postern.smtpd.api.SmtpdListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tarpit and the per-client connection limits over real sockets on 127.0.0.1. */
class SmtpdServerLimitsTest {
    @TempDir
    Path spool;

    private NioEventLoopGroup group;
    private ExecutorService blocking;
    private SmtpdServer server;
    private final SmtpdListener listener = (envelope, content) -> envelope.queueId();

    @BeforeEach
    void setUp() {
        // one event loop: a sleeping session would stop every other session
        group = new NioEventLoopGroup(1);
        blocking = Executors.newFixedThreadPool(1);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (server != null) {
            server.stop();
        }
        blocking.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private void start(SmtpdSettings.Builder b) throws IOException {
        server = new SmtpdServer("smtpd", b.build(), listener, group, blocking);
        server.start("127.0.0.1", 0);
    }

    private SmtpdSettings.Builder settings() {
        return SmtpdSettings.defaults("smtpd", "mx.example.org", spool).toBuilder();
    }

    /** Client - a socket with line reading and writing. */
    private final class Client implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;

        Client() throws IOException {
            socket = new Socket("127.0.0.1", server.port());
            socket.setSoTimeout(10_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        void send(String text) throws IOException {
            socket.getOutputStream().write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        }

        String reply() throws IOException {
            return SmtpReplies.read(in);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void tarpitDelaysWithoutBlockingTheEventLoop() throws Exception {
        SmtpdSettings.Builder b = settings();
        b.softErrorLimit = 1;
        b.errorSleepTime = Duration.ofSeconds(2);
        start(b);
        try (Client slow = new Client(); Client other = new Client()) {
            assertEquals("220 mx.example.org ESMTP Postern", slow.reply());
            assertEquals("220 mx.example.org ESMTP Postern", other.reply());
            slow.send("FOO");
            assertEquals("500 5.5.2 Error: command not recognized", slow.reply());
            long start = System.nanoTime();
            slow.send("NOOP");
            // the other session on the same event loop is served meanwhile
            other.send("NOOP");
            assertEquals("250 2.0.0 Ok", other.reply());
            long otherMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(otherMillis < 1900, "other session waited " + otherMillis + " ms: the event loop was blocked");
            assertEquals("250 2.0.0 Ok", slow.reply());
            long slowMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(slowMillis >= 1900, "tarpit lasted only " + slowMillis + " ms");
        }
    }

    @Test
    void connectionCountLimit() throws Exception {
        SmtpdSettings.Builder b = settings();
        b.connectionCountLimit = 2;
        start(b);
        try (Client one = new Client(); Client two = new Client()) {
            assertEquals("220 mx.example.org ESMTP Postern", one.reply());
            assertEquals("220 mx.example.org ESMTP Postern", two.reply());
            try (Client three = new Client()) {
                assertEquals("421 4.7.0 mx.example.org Error: too many connections from 127.0.0.1", three.reply());
                assertNull(three.in.readLine());
            }
            one.send("QUIT");
            assertEquals("221 2.0.0 Bye", one.reply());
            assertNull(one.in.readLine());
            // the server counts the QUIT session out when its channel closes
            String greeting = null;
            for (int i = 0; i < 50 && greeting == null; i++) {
                try (Client again = new Client()) {
                    String r = again.reply();
                    if (r.startsWith("220")) {
                        greeting = r;
                    } else {
                        Thread.sleep(20);
                    }
                }
            }
            assertEquals("220 mx.example.org ESMTP Postern", greeting);
        }
    }

    @Test
    void connectionRateLimit() throws Exception {
        SmtpdSettings.Builder b = settings();
        b.connectionRateLimit = 2;
        start(b);
        for (int i = 0; i < 2; i++) {
            try (Client c = new Client()) {
                assertEquals("220 mx.example.org ESMTP Postern", c.reply());
            }
        }
        try (Client c = new Client()) {
            assertEquals("421 4.7.0 mx.example.org Error: too many connections from 127.0.0.1", c.reply());
        }
    }

    @Test
    void limitExceptions() throws Exception {
        SmtpdSettings.Builder b = settings();
        b.connectionRateLimit = 1;
        b.eventLimitExceptions = "127.0.0.1"::equals;
        start(b);
        for (int i = 0; i < 3; i++) {
            try (Client c = new Client()) {
                assertEquals("220 mx.example.org ESMTP Postern", c.reply());
            }
        }
    }

    @Test
    void thousandsOfIdleSessionsTakeNoThreadEach() throws Exception {
        SmtpdSettings.Builder b = settings();
        b.connectionCountLimit = 0; // all from 127.0.0.1 here
        start(b);
        int before = java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount();
        java.util.List<Client> idle = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 2000; i++) {
                Client c = new Client();
                idle.add(c);
                assertEquals("220 mx.example.org ESMTP Postern", c.reply());
            }
            int during = java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount();
            assertTrue(during - before < 20, "threads grew from " + before + " to " + during);
            long start = System.nanoTime();
            try (Client fresh = new Client()) {
                assertEquals("220 mx.example.org ESMTP Postern", fresh.reply());
                fresh.send("NOOP");
                assertEquals("250 2.0.0 Ok", fresh.reply());
            }
            assertTrue((System.nanoTime() - start) / 1_000_000 < 2000, "a new session waited");
        } finally {
            for (Client c : idle) {
                c.close();
            }
        }
    }
}
