package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * CrashIT - a message that got a 250 survives kill -9 of the JVM, five times in a row:
 * clients send under load, the server is killed in the middle, restarted on the same data
 * (and, while it delivers what the earlier rounds left, killed again under new load), and
 * after the fifth kill and a last start every message that was acknowledged arrives at the
 * sink. Prints the acknowledged, lost and twice-delivered counts. Runs a WildFly of its own
 * (ports offset by 400).
 */
class CrashIT {
    private static final int SMTPD_PORT = 12925;
    private static final int SINK_PORT = 12926;
    private static final int CLIENTS = 4;
    private static final int MESSAGES = 240;
    /** kill -9 this many times in a row, each under load, before the last start */
    private static final int ROUNDS = 5;
    private static final Pattern MESSAGE_ID = Pattern.compile("(?m)^Message-ID: <(crash-\\d+-\\d+)@test>");

    @Test
    void everyAcknowledgedMessageArrivesAfterKillDashNineAndRestart() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        run(target.resolve("crash-server"), target.resolve("crash-config"), base -> Map.of());
    }

    /** Database - prepares the server's base directory for its database; the server's environment. */
    interface Database {
        Map<String, String> prepare(Path base) throws Exception;
    }

    /** run - the crash test on a server of its own in base, on the database that db prepares. */
    static void run(Path base, Path config, Database db) throws Exception {
        Path target = base.getParent();
        prepare(base, config, SMTPD_PORT, "myhostname = crash.test", "relayhost = [127.0.0.1]:" + SINK_PORT,
                "minimal_backoff_time = 1s", "maximal_backoff_time = 2s", "queue_run_delay = 2s");
        Map<String, String> env = db.prepare(base);
        String name = base.getFileName().toString();

        try (TestSink sink = TestSink.smtp(SINK_PORT)) {
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            List<Integer> perRound = new ArrayList<>();
            for (int round = 1; round <= ROUNDS; round++) {
                // each restart also delivers what the rounds before it acknowledged: kill -9
                // hits a server that is recovering as well as one that is taking mail
                Process server = start(base, config, env, target.resolve(name + "-" + round + ".out"));
                perRound.add(load(round, server, acknowledged));
            }
            int total = acknowledged.size();

            Process again = start(base, config, env, target.resolve(name + "-final.out"));
            try {
                Map<String, Integer> arrived = new HashMap<>();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
                while (!arrived.keySet().containsAll(acknowledged) && System.nanoTime() < end) {
                    count(sink.next(1, TimeUnit.SECONDS), arrived);
                }
                // a copy delivered twice may come a little after the last first copy
                long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < settle) {
                    count(sink.next(200, TimeUnit.MILLISECONDS), arrived);
                }
                List<String> lost = new ArrayList<>(acknowledged);
                lost.removeAll(arrived.keySet());
                long twice = arrived.values().stream().filter(n -> n > 1).count();
                System.out.printf("CrashIT (%s): kill -9 %d times in a row, acknowledged per round %s: %d acknowledged,"
                        + " %d arrived, %d lost, %d delivered twice%n", name, ROUNDS, perRound, total, arrived.size(),
                        lost.size(), twice);
                // the line the reliability report (bench/reliability.sh) adds up
                System.out.printf("RELIABILITY case=kill-9x%d-%s acknowledged=%d lost=%d duplicates=%d%n", ROUNDS,
                        name.endsWith("-pg") ? "postgresql" : "h2", total, lost.size(), twice);
                assertEquals(List.of(), lost, "acknowledged with 250 but never delivered");
            } finally {
                stop(again);
            }
        }
    }

    /**
     * load - one round: CLIENTS clients send numbered messages until about half of the
     * round's MESSAGES have been acknowledged, then the JVM gets kill -9; the number of
     * messages the round got acknowledged.
     */
    private static int load(int round, Process server, Set<String> acknowledged) throws Exception {
        Set<String> mine = ConcurrentHashMap.newKeySet();
        AtomicBoolean killed = new AtomicBoolean();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.submit(() -> send(round, client, mine, killed));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (mine.size() < MESSAGES / 2 && System.nanoTime() < end) {
                Thread.sleep(5);
            }
            assertTrue(mine.size() >= MESSAGES / 2, "round " + round + ": the load did not get going: " + mine.size());
            killed.set(true);
            kill9(server);
        } finally {
            clients.shutdown();
            assertTrue(clients.awaitTermination(60, TimeUnit.SECONDS), "the clients ended with the server");
        }
        // a 250 read after the kill was still a 250 the server sent: it counts
        acknowledged.addAll(mine);
        return mine.size();
    }

    private static void count(TestSink.Delivery d, Map<String, Integer> arrived) {
        if (d != null) {
            Matcher m = MESSAGE_ID.matcher(d.text());
            if (m.find()) {
                arrived.merge(m.group(1), 1, Integer::sum);
            }
        }
    }

    /**
     * prepare - a server of its own: a fresh copy of the provisioned standalone directory in
     * base with the EAR deployed, and a configuration directory with these main.cf lines and
     * one smtpd on loopback at smtpdPort in master.cf.
     */
    static void prepare(Path base, Path config, int smtpdPort, String... mainCf) throws IOException {
        delete(base);
        delete(config);
        BrokenConfigIT.copyServer(Path.of(System.getProperty("jboss.home"), "standalone"), base);
        Files.createDirectories(config);
        Files.writeString(config.resolve("main.cf"), String.join("\n", mainCf) + "\n");
        Files.writeString(config.resolve("master.cf"), "127.0.0.1:" + smtpdPort + " inet n - n - - smtpd\n");
        Files.copy(Path.of(System.getProperty("postern.ear")), base.resolve("deployments/postern.ear"),
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** send - one client: numbered messages, one session each, until the server is killed. */
    private static void send(int round, int client, Set<String> acknowledged, AtomicBoolean killed) {
        for (int i = client; i < MESSAGES && !killed.get(); i += CLIENTS) {
            String id = "crash-" + round + "-" + i;
            try {
                if (SmtpClient.message("127.0.0.1", SMTPD_PORT, id, 2000).startsWith("250 ")) {
                    acknowledged.add(id);
                }
            } catch (IOException e) {
                // the server died under us: this message was not acknowledged
            }
        }
    }

    static Process start(Path base, Path config, Map<String, String> env, Path out) throws Exception {
        return start(base, config, env, out, 400);
    }

    /** start - a server of its own on base, with its ports offset by {@code offset}; returns once it has started. */
    static Process start(Path base, Path config, Map<String, String> env, Path out, int offset, String... options)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("jboss.home"), "bin", "standalone.sh").toString(),
                "-c", "standalone-full.xml", "-Djboss.server.base.dir=" + base,
                "-Dpostern.config.dir=" + config, "-Djboss.socket.binding.port-offset=" + offset));
        command.addAll(List.of(options));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < end) {
            String log = Files.exists(out) ? Files.readString(out) : "";
            if (log.contains("WFLYSRV0025")) {
                return p;
            }
            if (log.contains("WFLYSRV0026") || !p.isAlive()) {
                stop(p);
                throw new AssertionError("the server did not start cleanly, see " + out);
            }
            Thread.sleep(250);
        }
        stop(p);
        throw new AssertionError("the server did not start in time, see " + out);
    }

    /** jvm - the server's JVM, the java child of standalone.sh. */
    static ProcessHandle jvm(Process script) {
        List<ProcessHandle> jvms = script.descendants()
                .filter(h -> h.info().commandLine().map(c -> c.contains("jboss-modules")).orElse(false)).toList();
        assertEquals(1, jvms.size(), "one server JVM under the start script");
        return jvms.get(0);
    }

    /** kill9 - SIGKILL to the server's JVM, the java child of standalone.sh. */
    static void kill9(Process script) throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(jvm(script).pid())).start().waitFor();
        assertTrue(script.waitFor(60, TimeUnit.SECONDS), "the start script ended with its JVM");
    }

    static void stop(Process script) throws InterruptedException {
        script.descendants().forEach(ProcessHandle::destroy);
        script.destroy();
        if (!script.waitFor(60, TimeUnit.SECONDS)) {
            script.descendants().forEach(ProcessHandle::destroyForcibly);
            script.destroyForcibly();
        }
    }

    static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
