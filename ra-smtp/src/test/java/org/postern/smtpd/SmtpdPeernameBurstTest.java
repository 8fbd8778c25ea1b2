package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;
import org.postern.smtp.dns.Dnsmasq;
import org.postern.smtpd.policy.DnsJavaLookup;
import org.postern.smtpd.policy.DnsLookup;
import org.postern.smtpd.policy.HostsFile;
import org.postern.smtpd.policy.PolicySettings;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * A burst of clients from distinct addresses (127.0.9.1-200, in no hosts file) against a
 * listener with smtpd_peername_lookup = yes and dnsmasq on loopback answering every PTR
 * with NXDOMAIN: all are greeted, the lookups overlap, and a second burst from the same
 * addresses is answered from the cache (skipped without dnsmasq).
 */
class SmtpdPeernameBurstTest {
    private static final int CLIENTS = 200;

    @TempDir
    Path spool;

    private Dnsmasq dnsmasq;
    private NioEventLoopGroup group;
    private ExecutorService blocking;
    private ExecutorService clients;
    private SmtpdServer server;

    /** DNS as smtpd runs it, counting the queries and the most that were in flight at once */
    private final AtomicInteger queries = new AtomicInteger();
    private final AtomicInteger answeredAtOnce = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private DnsJavaLookup real;

    @BeforeEach
    void start() throws Exception {
        dnsmasq = Dnsmasq.start("probe.test", "--host-record=probe.test,127.0.0.2", "--local=/in-addr.arpa/");
        // dnsmasq's NXDOMAIN for a --local zone has no SOA: smtpd_dns_negative_ttl applies
        real = new DnsJavaLookup(List.of(dnsmasq.server()), Duration.ofSeconds(5), 1000, Duration.ofHours(1),
                Duration.ofMinutes(5));
        DnsLookup counting = (name, type) -> {
            queries.incrementAndGet();
            CompletableFuture<DnsLookup.Answer> f = real.lookup(name, type);
            if (f.isDone()) {
                answeredAtOnce.incrementAndGet();
                return f;
            }
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            return f.whenComplete((a, e) -> inFlight.decrementAndGet());
        };
        SmtpdSettings.Builder b = SmtpdSettings.defaults("smtpd", "mx.example.org", spool).toBuilder();
        b.check = new SmtpdCheck(PolicySettings.from(Config.parse("myhostname = mx.example.org", "main.cf")),
                counting, HostsFile.EMPTY);
        b.peernameLookup = true;
        b.connectionCountLimit = 0;
        b.connectionRateLimit = 0;
        group = new NioEventLoopGroup(2);
        blocking = Executors.newFixedThreadPool(2);
        clients = Executors.newFixedThreadPool(CLIENTS);
        server = new SmtpdServer("smtpd", b.build(), (envelope, content) -> envelope.queueId(), group, blocking);
        server.start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.stop();
            blocking.shutdownNow();
            clients.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    /** burst - CLIENTS connections at once, one per address; the greetings, and how long the slowest took */
    private List<String> burst(long[] slowestMillis) throws Exception {
        List<Callable<String>> tasks = new ArrayList<>();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        for (int i = 1; i <= CLIENTS; i++) {
            InetAddress from = InetAddress.getByName("127.0.9." + i);
            tasks.add(() -> {
                go.await();
                try (Socket s = new Socket()) {
                    s.setSoTimeout(30_000);
                    s.bind(new InetSocketAddress(from, 0));
                    s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.US_ASCII));
                    String greeting = in.readLine();
                    s.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    return greeting;
                }
            });
        }
        List<Future<String>> results = new ArrayList<>();
        for (Callable<String> t : tasks) {
            results.add(clients.submit(t));
        }
        long start = System.nanoTime();
        go.countDown();
        List<String> greetings = new ArrayList<>();
        for (Future<String> f : results) {
            greetings.add(f.get(60, TimeUnit.SECONDS));
        }
        slowestMillis[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return greetings;
    }

    @Test
    void allClientsAreGreetedLookupsOverlapAndAnswersAreCached() throws Exception {
        long[] took = new long[1];
        List<String> greetings = burst(took);
        System.out.println("burst 1: " + took[0] + " ms, PTR lookups " + queries.get() + ", at most "
                + maxInFlight.get() + " at once");
        assertEquals(CLIENTS, greetings.size());
        greetings.forEach(g -> assertEquals("220 mx.example.org ESMTP Postern", g));
        assertEquals(CLIENTS, queries.get(), "one PTR lookup per client");
        assertTrue(maxInFlight.get() > 1, "the lookups ran one at a time");
        assertTrue(real.cached() >= CLIENTS, "the NXDOMAIN answers are kept: " + real.cached());
        // generous: the 200 lookups took 5.3 s when they ran one after another
        assertTrue(took[0] < 20_000, "burst took " + took[0] + " ms");

        // the same addresses a moment later: every answer comes from the cache
        answeredAtOnce.set(0);
        greetings = burst(took);
        System.out.println("burst 2: " + took[0] + " ms, answered from the cache " + answeredAtOnce.get());
        greetings.forEach(g -> assertEquals("220 mx.example.org ESMTP Postern", g));
        assertEquals(CLIENTS, answeredAtOnce.get(), "no query for an address already looked up");
    }
}
