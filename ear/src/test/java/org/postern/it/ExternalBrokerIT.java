package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * ExternalBrokerIT - Postern's JMS destinations on an external Apache Artemis broker (the
 * corporate broker), and that broker killed under load (issue 14's external broker, issue
 * 13's "the JMS broker unavailable").
 *
 * <h2>DESCRIPTION</h2>
 * A WildFly of its own (ports offset by 600) is switched with the documented scripts
 * (remove-jms.cli, then configure-external-broker.cli) to a standalone Artemis 2.44 that
 * the test creates and starts ({@link Artemis}): a login required, Postern's four
 * destinations, and TLS between WildFly and the broker (a key pair made by keytool, the
 * broker's certificate in a trust store named by POSTERN_BROKER_TRUSTSTORE). Before that,
 * on the same configuration: configure-external-broker.cli refuses a server whose embedded
 * broker still has Postern's queue, and the switch and its undo (remove-external-broker.cli,
 * configure-jms.cli) give back the provisioned standalone-full.xml byte for byte.
 *
 * <p>Then: mail sent over SMTP reaches the sink through the external broker (the counters
 * of {@code artemis queue stat} on postern.active show the requests, and the queue
 * managers as its consumers); a request put on postern.active by {@code artemis producer},
 * a client nobody here wrote, reaches the queue manager. Last, the broker is killed with
 * kill -9 while four clients send, they go on sending through the outage, and the broker
 * is started again on its journal: every message offered gets its 250 (the accept path
 * does not wait for JMS), every acknowledged message arrives at the sink once, and the
 * queue managers consume again from the restarted broker. Prints the time from the
 * restart to the first delivery of a message accepted after it, and the reliability line.
 */
class ExternalBrokerIT {
    private static final int SMTPD_PORT = 13225;
    private static final int SINK_PORT = 13226;
    private static final int BROKER_PORT = 13261;
    private static final int BROKER_TLS_PORT = 13262;
    private static final int OFFSET = 600;
    private static final String USER = "postern-app";
    private static final String PASSWORD = "Broker-Pass-1";
    private static final int CLIENTS = 4;
    /** messages acknowledged before the kill, during the outage, and after the restart, each at least */
    private static final int PER_PHASE = 24;
    private static final Pattern MESSAGE_ID = Pattern.compile("(?m)^Message-ID: <(broker-[a-z0-9-]+)@test>");
    /** postern.active's redelivery settings, as configure-jms.cli gives the embedded broker */
    private static final String ACTIVE_SETTINGS = """
            <address-setting match="postern.active">
                        <max-delivery-attempts>20</max-delivery-attempts>
                        <redelivery-delay>5000</redelivery-delay>
                        <redelivery-delay-multiplier>2.0</redelivery-delay-multiplier>
                        <max-redelivery-delay>300000</max-redelivery-delay>
                     </address-setting>""";

    private final Map<String, Integer> arrived = new ConcurrentHashMap<>();
    private final Map<String, Long> arrivedAt = new ConcurrentHashMap<>();

    @Test
    void theQueuesLiveOnTheCorporateBrokerAndNothingIsLostWhenItDies() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        Path base = target.resolve("broker-server");
        Path config = target.resolve("broker-config");
        CrashIT.prepare(base, config, SMTPD_PORT, "myhostname = broker.test", "relayhost = [127.0.0.1]:" + SINK_PORT,
                "minimal_backoff_time = 1s", "maximal_backoff_time = 2s", "queue_run_delay = 10s");
        switchToExternalBroker(base);

        try (Artemis broker = Artemis.create(target.resolve("broker-artemis"), BROKER_PORT, USER, PASSWORD,
                     List.of("postern.active", "postern.submit", "postern.submit.dead"), List.of("postern.events"),
                     ACTIVE_SETTINGS).tls(BROKER_TLS_PORT, "Store-Pass-1");
             TestSink sink = TestSink.smtp(SINK_PORT)) {
            broker.start();
            Map<String, String> env = Map.of("POSTERN_BROKER_HOST", "127.0.0.1",
                    "POSTERN_BROKER_PORT", Integer.toString(BROKER_TLS_PORT), "POSTERN_BROKER_USER", USER,
                    "POSTERN_BROKER_PASSWORD", PASSWORD, "POSTERN_BROKER_SSL", "true",
                    "POSTERN_BROKER_TRUSTSTORE", broker.trustStore().toString(),
                    "POSTERN_BROKER_TRUSTSTORE_PASSWORD", broker.trustStorePassword());
            Path out = target.resolve("broker-server.out");
            Process server = CrashIT.start(base, config, env, out, OFFSET);
            AtomicBoolean collecting = new AtomicBoolean(true);
            Thread collector = new Thread(() -> collect(sink, collecting), "broker-it-sink");
            collector.start();
            try {
                throughTheBroker(broker, out);
                brokerOutageUnderLoad(broker, out);
            } finally {
                collecting.set(false);
                collector.join(5000);
                CrashIT.stop(server);
            }
        }
    }

    /**
     * switchToExternalBroker - on the server's copy of standalone-full.xml: the switch
     * refuses a configuration that still has the embedded queue; switch and undo give back
     * the provisioned file exactly; then the switch, for the test.
     */
    private static void switchToExternalBroker(Path base) throws Exception {
        Path xml = base.resolve("configuration/standalone-full.xml");
        String provisioned = Files.readString(xml);
        Path cliDir = Path.of(System.getProperty("postern.cli.dir"));

        String refused = cli(base, "refused", cliDir.resolve("configure-external-broker.cli"), 1);
        assertTrue(refused.contains("postern.active is still on the embedded broker: run remove-jms.cli first"), refused);
        assertEquals(provisioned, Files.readString(xml), "a refused switch changes nothing");

        cli(base, "round-trip", script(base, "round-trip", cliDir, "remove-jms.cli", "configure-external-broker.cli",
                "remove-external-broker.cli", "configure-jms.cli"), 0);
        assertEquals(provisioned, Files.readString(xml),
                "remove-external-broker.cli and configure-jms.cli give back the provisioned configuration");

        cli(base, "switch", script(base, "switch", cliDir, "remove-jms.cli", "configure-external-broker.cli"), 0);
        String switched = Files.readString(xml);
        assertTrue(switched.contains("<remote-connector name=\"postern-broker\""), "switched to the external broker");
        assertTrue(!switched.contains("<jms-queue name=\"postern.active\""), "postern.active is off the embedded broker");
    }

    /** script - the CLI scripts one after the other in one file, run by one jboss-cli. */
    private static Path script(Path base, String name, Path cliDir, String... scripts) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String s : scripts) {
            sb.append(Files.readString(cliDir.resolve(s))).append('\n');
        }
        Path file = base.getParent().resolve("broker-" + name + ".cli");
        Files.writeString(file, sb);
        return file;
    }

    /** cli - jboss-cli.sh offline on the base directory with the script; its output; the exit status must be as expected. */
    private static String cli(Path base, String name, Path script, int expected) throws Exception {
        Path home = Path.of(System.getProperty("jboss.home"));
        Path out = base.getParent().resolve("broker-" + name + "-cli.out");
        Process cli = new ProcessBuilder(home.resolve("bin/jboss-cli.sh").toString(), "-Djboss.server.base.dir=" + base,
                "--file=" + script).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(cli.waitFor(180, TimeUnit.SECONDS), "jboss-cli ended");
        String text = Files.readString(out);
        assertEquals(expected, cli.exitValue(), name + ": " + text);
        return text;
    }

    /**
     * throughTheBroker - mail goes through the external broker: postern.active's counters
     * grow by the requests, the queue managers consume from it, and a request that a
     * foreign client puts there reaches them.
     */
    private void throughTheBroker(Artemis broker, Path out) throws Exception {
        // the MDBs' activation connects in the background once the deployment is up
        Artemis.QueueStat before = awaitConsumers(broker, 60);
        assertTrue(before.consumers() > 0, "the queue managers consume from postern.active on the external broker: "
                + before);
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String id = "broker-first-" + i;
            String reply = SmtpClient.message("127.0.0.1", SMTPD_PORT, id, 200);
            assertTrue(reply.startsWith("250 "), id + ": " + reply);
            sent.add(id);
        }
        awaitArrival(sent, 60);
        Artemis.QueueStat after = broker.queueStat().get("postern.active");
        System.out.println("ExternalBrokerIT: postern.active on the external broker before " + before + ", after 6 messages "
                + after);
        assertTrue(after.added() - before.added() >= 2,
                "the delivery requests of 6 messages went through the external broker: " + before + " -> " + after);
        assertTrue(after.acked() - before.acked() >= 2, "and were consumed there: " + before + " -> " + after);

        // a client nobody here wrote: the broker's own producer puts a request without a queue id
        broker.cli("producer", "--destination", "queue://postern.active", "--message-count", "1",
                "--message", "not-a-delivery-request", "--non-persistent");
        awaitLog(out, "PSTN4302: delivery request without a queue id dropped", 30);
    }

    /**
     * brokerOutageUnderLoad - kill -9 of the broker while clients send; they go on
     * through the outage and after the restart; every acknowledged message arrives once.
     */
    private void brokerOutageUnderLoad(Artemis broker, Path out) throws Exception {
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        List<String> refused = new CopyOnWriteArrayList<>();
        AtomicInteger phase = new AtomicInteger(0); // 0 before the kill, 1 during the outage, 2 after the restart
        AtomicInteger[] perPhase = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
        AtomicLong[] slowest = {new AtomicLong(), new AtomicLong(), new AtomicLong()};
        Map<String, Integer> phaseOf = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger counter = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        long restartedAt;
        try {
            for (int c = 0; c < CLIENTS; c++) {
                clients.submit(() -> {
                    while (!stop.get()) {
                        int p = phase.get();
                        String id = "broker-load-" + counter.getAndIncrement();
                        long t0 = System.nanoTime();
                        String reply;
                        try {
                            reply = SmtpClient.message("127.0.0.1", SMTPD_PORT, id, 500);
                        } catch (IOException e) {
                            reply = "no reply: " + e;
                        }
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                        if (reply.startsWith("250 ")) {
                            acknowledged.add(id);
                            // a message whose session spanned a phase change counts for the earlier phase
                            phaseOf.put(id, p);
                            perPhase[p].incrementAndGet();
                            slowest[p].accumulateAndGet(ms, Math::max);
                        } else {
                            refused.add(id + ": " + reply);
                        }
                    }
                });
            }
            awaitCount(perPhase[0], PER_PHASE, "before the kill");
            broker.kill9();
            phase.set(1);
            long killedAt = System.nanoTime();
            awaitCount(perPhase[1], PER_PHASE, "while the broker is down");
            broker.start();
            restartedAt = System.nanoTime();
            long outageMs = TimeUnit.NANOSECONDS.toMillis(restartedAt - killedAt);
            phase.set(2);
            awaitCount(perPhase[2], PER_PHASE, "after the broker's restart");
            stop.set(true);
            System.out.printf("ExternalBrokerIT: acknowledged before the kill %d (slowest 250 in %d ms), while the broker was"
                    + " down (%d ms, until the restarted broker was active) %d (slowest %d ms), after its restart %d (slowest %d ms); refused %s%n",
                    perPhase[0].get(), slowest[0].get(), outageMs, perPhase[1].get(), slowest[1].get(), perPhase[2].get(),
                    slowest[2].get(), refused);
        } finally {
            stop.set(true);
            clients.shutdown();
            assertTrue(clients.awaitTermination(120, TimeUnit.SECONDS), "the clients ended");
        }

        // every acknowledged message arrives, each once
        long t0 = System.nanoTime();
        awaitArrival(acknowledged, 240);
        long deliveredAllMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        Thread.sleep(5000); // a copy delivered twice may come a little after the last first copy
        List<String> lost = new ArrayList<>(acknowledged);
        lost.removeAll(arrived.keySet());
        long twice = acknowledged.stream().filter(id -> arrived.getOrDefault(id, 0) > 1).count();
        // deliveries resumed through the broker: the first message accepted after the restart to arrive
        long resumedMs = acknowledged.stream().filter(id -> phaseOf.get(id) == 2 && arrivedAt.containsKey(id))
                .mapToLong(id -> TimeUnit.NANOSECONDS.toMillis(arrivedAt.get(id) - restartedAt)).min().orElse(-1);
        long outageMailMs = acknowledged.stream().filter(id -> phaseOf.get(id) == 1 && arrivedAt.containsKey(id))
                .mapToLong(id -> TimeUnit.NANOSECONDS.toMillis(arrivedAt.get(id) - restartedAt)).max().orElse(-1);
        Artemis.QueueStat active = awaitConsumers(broker, 30);
        String log = Files.readString(out, StandardCharsets.UTF_8);
        System.out.printf("ExternalBrokerIT: %d acknowledged, %d arrived, %d lost, %d delivered twice; the first message"
                + " accepted after the restart arrived %d ms after it, the last accepted during the outage %d ms after it"
                + " (all %d ms after the load ended); postern.active after the restart %s; cannot-send warnings (PSTN4201) %d%n",
                acknowledged.size(), arrived.size(), lost.size(), twice, resumedMs, outageMailMs, deliveredAllMs, active,
                count(log, "PSTN4201"));
        System.out.printf("RELIABILITY case=broker-outage acknowledged=%d lost=%d duplicates=%d%n", acknowledged.size(),
                lost.size(), twice);
        assertEquals(List.of(), refused, "SMTP answers 250 while the broker is down: the accept path does not wait for JMS");
        // before WakeUpSender a 250 waited for the wake-up's send: 12 s while the broker was down
        assertTrue(slowest[1].get() < 5000, "a 250 while the broker is down waits for the database, not for JMS: "
                + slowest[1].get() + " ms");
        assertEquals(List.of(), lost, "acknowledged with 250 but never delivered");
        assertEquals(0, twice, "delivered twice");
        assertNotEquals(-1, resumedMs, "mail accepted after the restart is delivered");
        assertTrue(active.consumers() > 0, "the queue managers consume from the restarted broker: " + active);
    }

    /** awaitConsumers - postern.active's counters once it has a consumer, or after the seconds. */
    private static Artemis.QueueStat awaitConsumers(Artemis broker, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Artemis.QueueStat active = broker.queueStat().get("postern.active");
        while ((active == null || active.consumers() == 0) && System.nanoTime() < end) {
            Thread.sleep(1000);
            active = broker.queueStat().get("postern.active");
        }
        assertTrue(active != null, "the broker has postern.active");
        return active;
    }

    private void collect(TestSink sink, AtomicBoolean collecting) {
        while (collecting.get()) {
            try {
                TestSink.Delivery d = sink.next(200, TimeUnit.MILLISECONDS);
                if (d != null) {
                    Matcher m = MESSAGE_ID.matcher(d.text());
                    if (m.find()) {
                        arrivedAt.putIfAbsent(m.group(1), System.nanoTime());
                        arrived.merge(m.group(1), 1, Integer::sum);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void awaitArrival(java.util.Collection<String> ids, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!arrived.keySet().containsAll(ids) && System.nanoTime() < end) {
            Thread.sleep(100);
        }
    }

    private static void awaitCount(AtomicInteger n, int at, String when) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (n.get() < at && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertTrue(n.get() >= at, "SMTP kept acknowledging mail " + when + ": " + n.get());
    }

    private static void awaitLog(Path out, String text, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (Files.readString(out, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not logged within " + seconds + " s: " + text);
    }

    private static int count(String log, String what) {
        int n = 0;
        for (int i = log.indexOf(what); i >= 0; i = log.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
