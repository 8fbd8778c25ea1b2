package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;

/**
 * DatabaseOutageIT - the queue database goes away under a running server (PostgreSQL behind
 * a TCP relay that the test cuts: every pooled connection dies, new ones are refused).
 * While it is gone, mail offered over SMTP gets a 4xx (Postfix's "451 4.3.0 Error: queue
 * file write error" at the end of data), never a 250; mail accepted before the outage and
 * deferred is not lost, and is delivered once the database is back (also the round that was
 * in flight when it went, whose outcome waits in memory meanwhile); and new mail is
 * accepted again without a restart. Runs a WildFly of its own (ports offset by 500).
 */
class DatabaseOutageIT {
    private static final int SMTPD_PORT = 13025;
    private static final int SINK_PORT = 13026;
    private static final int PROXY_PORT = 13027;
    private static final int OFFSET = 500;
    private static final int EACH = 10;
    private static final Pattern MESSAGE_ID = Pattern.compile("(?m)^Message-ID: <(outage-[a-z]-\\d+)@test>");

    @Test
    void theDatabaseGoneMeansFourXxNeverTwoFiftyAndNothingAcceptedIsLost() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        Path base = target.resolve("outage-server");
        Path config = target.resolve("outage-config");
        String url = PostgresCluster.createDatabase("postern_outage")
                .replace(":" + PostgresCluster.PORT + "/", ":" + PROXY_PORT + "/");
        CrashIT.prepare(base, config, SMTPD_PORT, "myhostname = outage.test", "relayhost = [127.0.0.1]:" + SINK_PORT,
                "minimal_backoff_time = 2s", "maximal_backoff_time = 4s", "queue_run_delay = 2s");
        PostgresCrashIT.configurePostgresql(base);
        Map<String, String> env = Map.of("POSTERN_DB_URL", url, "POSTERN_DB_USER", "postgres",
                "POSTERN_DB_PASSWORD", "trusted-on-loopback");

        AtomicBoolean sinkRefuses = new AtomicBoolean(true);
        // the last message's first attempt gets its reply only once the database is gone, so
        // that a round is in flight when it goes and cannot record its outcome
        CountDownLatch cut = new CountDownLatch(1);
        IntFunction<String> sinkReply = n -> {
            if (n == EACH) {
                try {
                    cut.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "451 4.3.0 sink: try again later";
            }
            return sinkRefuses.get() ? "451 4.3.0 sink: try again later" : "250 2.0.0 Ok: queued as SINK" + n;
        };
        try (TcpProxy database = new TcpProxy(PROXY_PORT, PostgresCluster.PORT);
             TestSink sink = new TestSink(SINK_PORT, false, sinkReply)) {
            Path out = target.resolve("outage-server.out");
            Process server = CrashIT.start(base, config, env, out, OFFSET);
            try {
                // A: accepted while the next hop refuses, so it waits in the deferred queue
                List<String> acknowledged = new ArrayList<>();
                for (int i = 0; i < EACH; i++) {
                    String reply = offer("outage-a-" + i);
                    assertTrue(reply.startsWith("250 "), "before the outage: " + reply);
                    acknowledged.add("outage-a-" + i);
                }
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (sink.transactions() < EACH && System.nanoTime() < end) {
                    Thread.sleep(100);
                }
                assertTrue(sink.transactions() >= EACH, "every message tried once: " + sink.transactions());

                // the database goes away (while the last round waits for its reply); the next hop comes back
                database.cut();
                sinkRefuses.set(false);
                cut.countDown();

                // B: offered while the database is gone: never a 250
                Map<String, String> duringOutage = new LinkedHashMap<>();
                for (int i = 0; i < EACH; i++) {
                    long t0 = System.nanoTime();
                    String reply = offer("outage-b-" + i);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    duringOutage.put("outage-b-" + i, reply + " (" + ms + " ms)");
                }
                System.out.println("DatabaseOutageIT: replies while the database is gone: " + duringOutage);
                for (Map.Entry<String, String> e : duringOutage.entrySet()) {
                    assertTrue(e.getValue().startsWith("4"), "a 4xx while the database is gone: " + e);
                }
                assertTrue(duringOutage.values().stream().anyMatch(r -> r.startsWith("451 4.3.0 ")),
                        "Postfix's 451 4.3.0 for mail that cannot be queued: " + duringOutage);
                Thread.sleep(5000); // queue runs against a database that is not there

                // the database is back: new mail is accepted again, without a restart
                database.restore();
                end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                String first = "";
                while (!first.startsWith("250 ") && System.nanoTime() < end) {
                    first = offer("outage-c-0");
                    if (!first.startsWith("250 ")) {
                        Thread.sleep(1000);
                    }
                }
                assertTrue(first.startsWith("250 "), "accepted again once the database is back: " + first);
                acknowledged.add("outage-c-0");
                for (int i = 1; i < EACH; i++) {
                    String reply = offer("outage-c-" + i);
                    assertTrue(reply.startsWith("250 "), "after the outage: " + reply);
                    acknowledged.add("outage-c-" + i);
                }

                // every acknowledged message arrives; nothing refused during the outage does
                Map<String, Integer> arrived = new HashMap<>();
                end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!arrived.keySet().containsAll(acknowledged) && System.nanoTime() < end) {
                    count(sink.next(1, TimeUnit.SECONDS), arrived);
                }
                long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < settle) {
                    count(sink.next(200, TimeUnit.MILLISECONDS), arrived);
                }
                List<String> lost = new ArrayList<>(acknowledged);
                lost.removeAll(arrived.keySet());
                long twice = arrived.values().stream().filter(n -> n > 1).count();
                List<String> refusedYetDelivered = arrived.keySet().stream().filter(id -> id.startsWith("outage-b-")).toList();
                System.out.printf("DatabaseOutageIT: %d acknowledged, %d arrived, %d lost, %d delivered twice,"
                        + " %d refused during the outage yet delivered%n", acknowledged.size(), arrived.size(),
                        lost.size(), twice, refusedYetDelivered.size());
                System.out.printf("RELIABILITY case=database-outage-postgresql acknowledged=%d lost=%d duplicates=%d%n",
                        acknowledged.size(), lost.size(), twice);
                assertEquals(List.of(), lost, "acknowledged with 250 but never delivered");
                assertEquals(List.of(), refusedYetDelivered, "refused with a 4xx, yet queued");
                String log = Files.readString(out, StandardCharsets.UTF_8);
                assertTrue(log.contains("queue file write error"), "the refusal is logged");
                assertTrue(log.contains("PSTN4411"), "the round in flight kept its outcome in memory");
                assertTrue(log.contains("PSTN4413"), "and recorded it once the database was back");
            } finally {
                CrashIT.stop(server);
            }
        }
    }

    /**
     * offer - one message in a session of its own; the reply to the final dot, or the first
     * reply that refused the transaction before it, or the failure of the connection.
     */
    private static String offer(String id) {
        try (SmtpClient c = new SmtpClient("127.0.0.1", SMTPD_PORT)) {
            String r = c.reply();
            for (String command : List.of("EHLO client.test", "MAIL FROM:<outage@client.test>", "RCPT TO:<sink@remote.test>", "DATA")) {
                if (!r.startsWith("2") && !r.startsWith("3")) {
                    return r;
                }
                c.send(command);
                r = c.reply();
            }
            if (!r.startsWith("354")) {
                return r;
            }
            c.write(("Message-ID: <" + id + "@test>\r\nSubject: " + id + "\r\n\r\nbody\r\n.\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            r = c.reply();
            try {
                c.send("QUIT");
            } catch (IOException e) {
                // the reply to the dot is what counts
            }
            return r;
        } catch (IOException e) {
            return "connection failed: " + e;
        }
    }

    private static void count(TestSink.Delivery d, Map<String, Integer> arrived) {
        if (d != null) {
            Matcher m = MESSAGE_ID.matcher(d.text());
            if (m.find()) {
                arrived.merge(m.group(1), 1, Integer::sum);
            }
        }
    }
}
