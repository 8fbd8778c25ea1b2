package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;

/**
 * ClusterIT - two Postern servers (WildFly nodes node1 and node2, ports offset by 650 and 750)
 * on one PostgreSQL queue database: each accepts mail and each delivers it; ETRN on one node
 * brings the deferred mail that the other accepted; postfix reload on one node reaches the other; a
 * destination one node finds dead is dead on the other;
 * the destination concurrency limit holds for both nodes together; and after kill -9 of one node in the middle
 * of its deliveries, the other takes its leases over within cluster_node_timeout and delivers
 * everything that was acknowledged. Prints accepted and delivered counts per node, and the
 * acknowledged, lost and twice-delivered counts of the kill.
 *
 * <p>Each node has its own embedded JMS broker here: the database is the queue, and JMS only
 * wakes a node's own queue managers.
 */
class ClusterIT {
    private static final int SINK_PORT = 13126;
    private static final String[] NODES = {"node1", "node2"};
    private static final int[] SMTPD_PORTS = {13127, 13128};
    private static final int[] OFFSETS = {650, 750};
    private static final int EACH = 15;
    private static final Pattern MESSAGE_ID = Pattern.compile("(?m)^Message-ID: <(cluster-[a-z]+-\\d+-\\d+)@test>");
    /** cluster_node_timeout of the test: take-over must come within it and a heartbeat */
    private static final int NODE_TIMEOUT = 6;
    /** default_destination_concurrency_limit of the test: deliveries to the sink at once, both nodes together */
    private static final int LIMIT = 2;

    @Test
    void twoNodesShareOneQueue() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        String url = PostgresCluster.createDatabase("postern_cluster");
        Map<String, String> env = Map.of("POSTERN_DB_URL", url, "POSTERN_DB_USER", "postgres",
                "POSTERN_DB_PASSWORD", "trusted-on-loopback");
        Path[] bases = new Path[2];
        Path[] configs = new Path[2];
        for (int i = 0; i < 2; i++) {
            bases[i] = target.resolve("cluster-" + NODES[i]);
            configs[i] = target.resolve("cluster-config-" + NODES[i]);
            CrashIT.prepare(bases[i], configs[i], SMTPD_PORTS[i], "myhostname = " + NODES[i] + ".cluster.test",
                    "relayhost = [127.0.0.1]:" + SINK_PORT, "fast_flush_domains = flush.test",
                    // retries come only from ETRN or the take-over, never from the timer, in this test
                    "minimal_backoff_time = 600s", "maximal_backoff_time = 1200s", "queue_run_delay = 600s",
                    "default_destination_concurrency_limit = " + LIMIT, "cluster_heartbeat_interval = 1s",
                    // no session kept between deliveries: the sink's dead port is met by a new connection
                    // (a site failure), and the sink's sessions at once are deliveries at once
                    "smtp_connection_cache_on_demand = no", "cluster_node_timeout = " + NODE_TIMEOUT + "s");
            PostgresCrashIT.configurePostgresql(bases[i]);
        }
        AtomicBoolean refuse = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger delay = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.IntFunction<String> reply = n -> {
            sleep(delay.get());
            return refuse.get() ? "451 4.3.0 sink: try again later" : "250 2.0.0 Ok: queued as SINK" + n;
        };
        TestSink sink = new TestSink(SINK_PORT, false, reply);
        try {
            Process[] servers = new Process[2];
            try {
                // both nodes start at once (the second joins while the first is starting)
                java.util.concurrent.ExecutorService starts = java.util.concurrent.Executors.newFixedThreadPool(2);
                List<java.util.concurrent.Future<Process>> started = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    int n = i;
                    started.add(starts.submit(() -> CrashIT.start(bases[n], configs[n], env,
                            target.resolve("cluster-" + NODES[n] + ".out"), OFFSETS[n], "-Djboss.node.name=" + NODES[n])));
                }
                starts.shutdown();
                for (int i = 0; i < 2; i++) {
                    try {
                        servers[i] = started.get(i).get(240, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new AssertionError(NODES[i] + " did not start", e.getCause());
                    }
                }
                Map<String, Integer> arrived = new ConcurrentHashMap<>();

                // any node accepts, any node delivers
                Set<String> sent = new java.util.TreeSet<>();
                for (int i = 0; i < 2; i++) {
                    for (int m = 0; m < EACH; m++) {
                        String id = "cluster-plain-" + i + "-" + m;
                        assertTrue(SmtpClient.message("127.0.0.1", SMTPD_PORTS[i], id, 500).startsWith("250 "), id);
                        sent.add(id);
                    }
                }
                awaitAll(sink, sent, arrived, 60);
                int[] accepted = new int[2];
                int[] delivered = new int[2];
                // the mail log is written a moment after the sink has the message
                long logged = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (count(mailLog(bases[0]), "status=sent") + count(mailLog(bases[1]), "status=sent") < 2 * EACH
                        && System.nanoTime() < logged) {
                    Thread.sleep(100);
                }
                for (int i = 0; i < 2; i++) {
                    List<String> log = mailLog(bases[i]);
                    accepted[i] = (int) log.stream().filter(l -> l.contains(": client=")).count();
                    delivered[i] = (int) log.stream().filter(l -> l.contains("status=sent")).count();
                }
                System.out.printf("ClusterIT: accepted per node %s=%d %s=%d, delivered per node %s=%d %s=%d%n",
                        NODES[0], accepted[0], NODES[1], accepted[1], NODES[0], delivered[0], NODES[1], delivered[1]);
                assertEquals(EACH, accepted[0], "node1 accepted its messages");
                assertEquals(EACH, accepted[1], "node2 accepted its messages");
                assertEquals(2 * EACH, delivered[0] + delivered[1], "each message delivered once");

                // postfix reload on node1 reaches node2, which reads its own main.cf again
                Files.writeString(configs[1].resolve("main.cf"), Files.readString(configs[1].resolve("main.cf"))
                        + "smtpd_banner = $myhostname ESMTP reloaded by the cluster\n");
                Commands.Result reload = Commands.at("127.0.0.1:" + (9990 + OFFSETS[0]), null, "postfix", "reload");
                assertEquals(0, reload.status(), reload.err());
                long reloadAsked = System.nanoTime();
                String banner = "";
                while (!banner.contains("reloaded by the cluster") && System.nanoTime() - reloadAsked < TimeUnit.SECONDS.toNanos(15)) {
                    try (SmtpClient c = new SmtpClient("127.0.0.1", SMTPD_PORTS[1])) {
                        banner = c.reply();
                        c.send("QUIT");
                    }
                    Thread.sleep(200);
                }
                System.out.printf("ClusterIT: postfix reload on %s reached %s in %d ms (%s)%n", NODES[0], NODES[1],
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reloadAsked), banner.strip());
                assertTrue(banner.contains("reloaded by the cluster"), "node2 reloaded: " + banner);
                assertTrue(Files.readString(target.resolve("cluster-" + NODES[1] + ".out"))
                        .contains("PSTN4428: node " + NODES[1] + ": configuration reloaded, as node " + NODES[0] + " asked"));

                // ETRN on node2 brings what node1 accepted and deferred
                refuse.set(true);
                Set<String> deferred = new java.util.TreeSet<>();
                for (int m = 0; m < 5; m++) {
                    String id = "cluster-flush-0-" + m;
                    assertTrue(SmtpClient.message("127.0.0.1", SMTPD_PORTS[0], id, 500, "customer@flush.test")
                            .startsWith("250 "), id);
                    deferred.add(id);
                }
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (count(mailLog(bases[0]), "status=deferred") < deferred.size() && System.nanoTime() < until) {
                    Thread.sleep(200);
                }
                assertEquals(deferred.size(), count(mailLog(bases[0]), "status=deferred"), "node1 deferred the flush.test mail");
                refuse.set(false);
                long asked = System.nanoTime();
                assertTrue(EtrnIT.etrn("127.0.0.1", SMTPD_PORTS[1], "flush.test").startsWith("250 "), "ETRN on node2");
                awaitAll(sink, deferred, arrived, 30);
                System.out.printf("ClusterIT: ETRN on %s delivered %d messages that %s deferred, in %d ms%n", NODES[1],
                        deferred.size(), NODES[0], TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked));

                // a destination node1 finds dead is dead on node2 too: its mail waits without a connection
                sink.close();
                String deadId = "cluster-dead-0-0";
                assertTrue(SmtpClient.message("127.0.0.1", SMTPD_PORTS[0], deadId, 500).startsWith("250 "), deadId);
                long deadSent = System.nanoTime();
                Path node2Out = target.resolve("cluster-" + NODES[1] + ".out");
                while (!Files.readString(node2Out).contains("PSTN4431") && System.nanoTime() - deadSent < TimeUnit.SECONDS.toNanos(20)) {
                    Thread.sleep(200);
                }
                assertTrue(Files.readString(node2Out).contains("PSTN4431"), "node2 learned that the sink is dead; rows in"
                        + " dead_destination: " + rows(url, "dead_destination"));
                String suspendedId = "cluster-dead-1-0";
                String suspended = Postern.queueId(SmtpClient.message("127.0.0.1", SMTPD_PORTS[1], suspendedId, 500));
                until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                String line = null;
                while (line == null && System.nanoTime() < until) {
                    line = mailLog(bases[1]).stream().filter(l -> l.contains(suspended) && l.contains("status=deferred"))
                            .findFirst().orElse(null);
                    Thread.sleep(100);
                }
                System.out.printf("ClusterIT: %s found the sink dead; %s learned it in %d ms and deferred without a"
                        + " connection: %s%n", NODES[0], NODES[1], TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deadSent),
                        line);
                assertTrue(line != null && line.contains("delivery temporarily suspended: connect to"), String.valueOf(line));
                sink = new TestSink(SINK_PORT, false, reply);
                // the flush ignores the dead-destination cache, as on one node
                Commands.Result flush = Commands.at("127.0.0.1:" + (9990 + OFFSETS[1]), null, "postqueue", "-f");
                assertEquals(0, flush.status(), flush.err());
                awaitAll(sink, Set.of(deadId, suspendedId), arrived, 30);
                // node2 reached the sink: node1, which found it dead, hears of it at its next heartbeat
                Path node1Out = target.resolve("cluster-" + NODES[0] + ".out");
                until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Files.readString(node1Out).contains("PSTN4437") && System.nanoTime() < until) {
                    Thread.sleep(100);
                }
                assertTrue(Files.readString(node1Out).contains("PSTN4437"), "node1 learned that the sink is alive again");

                // the destination concurrency limit holds for both nodes together
                delay.set(300);
                sink.resetMost();
                Set<String> parallel = new java.util.TreeSet<>();
                for (int m = 0; m < 8; m++) {
                    for (int i = 0; i < 2; i++) {
                        String id = "cluster-limit-" + i + "-" + m;
                        assertTrue(SmtpClient.message("127.0.0.1", SMTPD_PORTS[i], id, 500).startsWith("250 "), id);
                        parallel.add(id);
                    }
                }
                awaitAll(sink, parallel, arrived, 60);
                delay.set(0);
                System.out.printf("ClusterIT: destination concurrency limit %d on 2 nodes: at most %d transactions and %d"
                        + " sessions at once at the sink%n", LIMIT, sink.mostConcurrentTransactions(),
                        sink.mostConcurrentSessions());
                assertTrue(sink.mostConcurrentTransactions() <= LIMIT, "the limit held across the cluster: "
                        + sink.mostConcurrentTransactions());
                assertEquals(LIMIT, sink.mostConcurrentTransactions(), "the deliveries did run in parallel");

                // kill -9 of node1 in the middle of its deliveries: node2 takes them over
                delay.set(2000);
                int transactionsBefore = sink.transactions();
                Set<String> acknowledged = ConcurrentHashMap.newKeySet();
                AtomicBoolean killedFlag = new AtomicBoolean();
                java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(2);
                for (int c = 0; c < 2; c++) {
                    int client = c;
                    clients.submit(() -> {
                        for (int m = client; !killedFlag.get() && m < 10_000; m += 2) {
                            String id = "cluster-kill-0-" + m;
                            try {
                                if (SmtpClient.message("127.0.0.1", SMTPD_PORTS[0], id, 500).startsWith("250 ")) {
                                    acknowledged.add(id);
                                }
                            } catch (java.io.IOException e) {
                                return; // the node died under us: this one was not acknowledged
                            }
                        }
                    });
                }
                // under load: clients keep sending to node1 while it delivers to the slow sink
                until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((acknowledged.size() < EACH || sink.transactions() == transactionsBefore) && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
                int leased = leasedBy(url, NODES[0]);
                assertTrue(leased > 0, "node1 was delivering when it was killed");
                killedFlag.set(true);
                CrashIT.kill9(servers[0]);
                clients.shutdown();
                assertTrue(clients.awaitTermination(30, TimeUnit.SECONDS), "the clients ended with node1");
                long killed = System.nanoTime();
                delay.set(0);
                until = System.nanoTime() + TimeUnit.SECONDS.toNanos(NODE_TIMEOUT + 30);
                while (leasedBy(url, NODES[0]) > 0 && System.nanoTime() < until) {
                    Thread.sleep(100);
                }
                long takeOver = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
                assertEquals(0, leasedBy(url, NODES[0]), "node2 took node1's leases over");
                awaitAll(sink, acknowledged, arrived, 60);
                // a copy delivered twice (the killed node's delivery got through before the kill) comes soon after
                long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < settle) {
                    count(sink.next(200, TimeUnit.MILLISECONDS), arrived);
                }
                List<String> lost = new ArrayList<>(acknowledged);
                lost.removeAll(arrived.keySet());
                long twice = arrived.values().stream().filter(n -> n > 1).count();
                List<String> takeOverLines = mailLog(bases[1]).stream().filter(l -> l.contains("PSTN4425")).toList();
                System.out.printf("ClusterIT: kill -9 of %s with %d message(s) leased: leases taken over by %s after %d ms"
                        + " (cluster_node_timeout %ds); %d acknowledged, %d lost, %d delivered twice%n", NODES[0], leased,
                        NODES[1], takeOver, NODE_TIMEOUT, acknowledged.size(), lost.size(), twice);
                System.out.printf("RELIABILITY case=cluster-kill-9-node acknowledged=%d lost=%d duplicates=%d%n",
                        acknowledged.size(), lost.size(), twice);
                assertEquals(List.of(), lost, "acknowledged with 250 but never delivered");
                assertTrue(takeOver < TimeUnit.SECONDS.toMillis(NODE_TIMEOUT + 5), "take-over within the timeout: " + takeOver);
                String server = Files.readString(target.resolve("cluster-" + NODES[1] + ".out"));
                assertTrue(server.contains("PSTN4425: node " + NODES[0]), "node2 logged the take-over");
            } finally {
                for (Process p : servers) {
                    if (p != null) {
                        CrashIT.stop(p);
                    }
                }
            }
        } finally {
            sink.close();
        }
    }

    /* awaitAll - wait until every id has arrived at the sink */
    private static void awaitAll(TestSink sink, Set<String> ids, Map<String, Integer> arrived, int seconds)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!arrived.keySet().containsAll(ids) && System.nanoTime() < end) {
            count(sink.next(500, TimeUnit.MILLISECONDS), arrived);
        }
        List<String> missing = new ArrayList<>(ids);
        missing.removeAll(arrived.keySet());
        assertEquals(List.of(), missing, "not delivered within " + seconds + " s");
    }

    private static void count(TestSink.Delivery d, Map<String, Integer> arrived) {
        if (d == null) {
            return;
        }
        Matcher m = MESSAGE_ID.matcher(d.text());
        if (m.find()) {
            arrived.merge(m.group(1), 1, Integer::sum);
        }
    }

    private static List<String> mailLog(Path base) throws java.io.IOException {
        Path log = base.resolve("log/mail.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private static long count(List<String> lines, String what) {
        return lines.stream().filter(l -> l.contains(what)).count();
    }

    /* rows - the rows of a table of the shared database */
    private static int rows(String url, String table) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + table);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /* leasedBy - messages whose lease the node holds, read from the shared database */
    private static int leasedBy(String url, String node) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM queue_message WHERE lease_owner = ? AND lease_until IS NOT NULL")) {
            ps.setString(1, node);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
