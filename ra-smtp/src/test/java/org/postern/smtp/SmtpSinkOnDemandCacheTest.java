package org.postern.smtp;

import org.postern.config.Config;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;

/**
 * smtp_connection_cache_on_demand against Postfix's smtp-sink, a peer nobody here wrote, which
 * counts what it saw ({@code -c}: "sess=S quit=Q mesg=M", a line per message and per session
 * that ended): a session is kept for the next request only when the queue manager said the
 * destination has a backlog, or when the destination is in smtp_connection_cache_destinations;
 * with on_demand = no and the destination not listed, never. Skipped without smtp-sink or root.
 */
class SmtpSinkOnDemandCacheTest {

    private static final String SINK = "/usr/sbin/smtp-sink";
    private static final Pattern COUNTERS = Pattern.compile("sess=(\\d+) quit=(\\d+) mesg=(\\d+)");

    private Process sink;
    private Path counters;
    private int port;
    /* the sessions the sink had counted before the test (the start-up probe) */
    private int probes;

    /** Seen - what smtp-sink has counted since the probe: sessions ended, QUITs, messages. */
    record Seen(int sessions, int quits, int messages) {
    }

    @BeforeEach
    void startSink() throws Exception {
        Peers.assume(new File(SINK).canExecute(), "Postfix smtp-sink is not installed at " + SINK);
        Peers.assume("root".equals(System.getProperty("user.name")), "smtp-sink -u nobody needs root");
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        counters = Files.createTempFile("smtp-sink", ".out");
        sink = new ProcessBuilder(SINK, "-c", "-u", "nobody", "127.0.0.1:" + port, "10")
                .redirectErrorStream(true).redirectOutput(counters.toFile()).start();
        for (int i = 0; i < 50; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                break;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        probes = 0;
        probes = await(seen -> seen.sessions() >= 1).sessions();
    }

    @AfterEach
    void stopSink() throws Exception {
        if (sink != null) {
            sink.destroy();
            sink.waitFor(5, TimeUnit.SECONDS);
        }
        if (counters != null) {
            Files.deleteIfExists(counters);
        }
    }

    /* seen - the sink's last counters, less the probe */
    private Seen seen() throws IOException {
        Matcher m = COUNTERS.matcher(Files.readString(counters));
        Seen last = new Seen(0, 0, 0);
        while (m.find()) {
            last = new Seen(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
        }
        return new Seen(last.sessions() - probes, last.quits(), last.messages());
    }

    /* await - the counters once they satisfy {@code done}, or as they are after 5 s */
    private Seen await(Predicate<Seen> done) throws Exception {
        Seen s = seen();
        for (int i = 0; i < 100 && !done.test(s); i++) {
            Thread.sleep(50);
            s = seen();
        }
        return s;
    }

    /* session - a client session with the connection cache that this main.cf gives the sink's next hop */
    private SmtpClientSession session(String mainCf) {
        NextHop hop = NextHop.smtp("127.0.0.1", port, false);
        Config c = Config.parse("inet_interfaces = 127.0.0.1\n" + mainCf, "main.cf");
        SmtpClientSettings.Cache cache = SmtpClientParameters.of(false).settings(c, hop).cache();
        return new SmtpClientSession(hop, fast().withCache(cache));
    }

    private static void send(SmtpClientSession s, int i, boolean backlog) {
        OutboundMessage m = message("Subject: " + i + "\r\n\r\nx\r\n", "a@x.test").withBacklog(backlog);
        assertEquals(Status.SENT, s.deliver(m).recipients().get(0).status());
    }

    @Test
    void withABacklogTwoMessagesShareOneConnectionThatStaysCached() throws Exception {
        try (SmtpClientSession s = session("")) {
            send(s, 1, true);
            send(s, 2, true);
            assertTrue(s.isConnected(), "a backlog: the session stays in the cache");
            assertEquals(new Seen(0, 0, 2), await(seen -> seen.messages() >= 2), "two messages, no session ended");
            assertEquals(1, s.connectionsOpened());
            assertEquals(2, s.transactions());
        }
        assertEquals(new Seen(1, 1, 2), await(seen -> seen.sessions() >= 1), "one connection for both, ended by QUIT");
    }

    @Test
    void withoutABacklogTheConnectionIsClosedRightAfterTheMessage() throws Exception {
        try (SmtpClientSession s = session("smtp_connection_cache_time_limit = 60s")) {
            long start = System.nanoTime();
            send(s, 1, false);
            assertFalse(s.isConnected(), "a one-off message leaves no connection open");
            assertTrue(s.closedOnPurpose(), "closed by the cache, not failed: the pool keeps the managed connection");
            assertEquals(new Seen(1, 1, 1), await(seen -> seen.sessions() >= 1));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5),
                    "closed at once, not after smtp_connection_cache_time_limit (60s)");
        }
    }

    @Test
    void aCachedSessionCarriesARequestWithoutABacklogAndIsThenClosed() throws Exception {
        try (SmtpClientSession s = session("")) {
            send(s, 1, true);
            send(s, 2, false);
            assertFalse(s.isConnected());
            assertEquals(1, s.connectionsOpened(), "the cached session was reused (Postfix's CONN_LOAD), not stored back");
            assertEquals(new Seen(1, 1, 2), await(seen -> seen.sessions() >= 1));
        }
    }

    @Test
    void aListedDestinationStaysCachedWithoutABacklog() throws Exception {
        try (SmtpClientSession s = session("smtp_connection_cache_destinations = [127.0.0.1]:" + port)) {
            send(s, 1, false);
            send(s, 2, false);
            assertTrue(s.isConnected(), "smtp_connection_cache_destinations: cached whatever the backlog");
            assertEquals(new Seen(0, 0, 2), await(seen -> seen.messages() >= 2));
            assertEquals(1, s.connectionsOpened());
        }
        assertEquals(new Seen(1, 1, 2), await(seen -> seen.sessions() >= 1));
    }

    @Test
    void withOnDemandOffAndNotListedNothingIsEverCached() throws Exception {
        try (SmtpClientSession s = session("smtp_connection_cache_on_demand = no")) {
            send(s, 1, true);
            assertFalse(s.isConnected(), "even with a backlog");
            send(s, 2, true);
            assertFalse(s.isConnected());
            assertEquals(2, s.connectionsOpened());
            assertEquals(new Seen(2, 2, 2), await(seen -> seen.sessions() >= 2), "a connection per message");
        }
    }
}
