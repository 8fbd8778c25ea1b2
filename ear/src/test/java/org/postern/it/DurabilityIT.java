package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
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
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;

/**
 * DurabilityIT - a 250 means the message is on stable storage: the server's system calls,
 * traced with strace while clients send, show for every message an fsync or fdatasync of
 * the queue's files that starts after the read that holds the message's end of data and
 * ends before the write of its "250 2.0.0 Ok: queued". On H2 (the embedded default) that
 * is Postern's own CHECKPOINT SYNC of queue.mv.db; on PostgreSQL it is the server's WAL
 * flush (fdatasync of a pg_wal file) at commit. The figures printed show the group commit:
 * several messages per sync. Runs a WildFly of its own (ports offset by 450).
 */
class DurabilityIT {
    private static final int SMTPD_PORT = 12935;
    private static final int SINK_PORT = 12936;
    private static final int OFFSET = 450;
    private static final int CLIENTS = 4;
    private static final int MESSAGES = 40;

    @Test
    void everyTwoFiftyOnH2FollowsAnFsyncOfTheQueueFile() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        run(target.resolve("durable-server"), target.resolve("durable-config"), base -> Map.of(),
                path -> path.endsWith("/postern/queue.mv.db"), List::of);
    }

    @Test
    void everyTwoFiftyOnPostgresqlFollowsAWalFlush() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        String url = PostgresCluster.createDatabase("postern_durable");
        long postmaster = Long.parseLong(Files.readAllLines(Path.of("target", "postgresql", "data", "postmaster.pid"))
                .get(0).trim());
        // the postmaster and every process it has once the server is up (its pooled backends
        // among them); backends forked later are followed (-f)
        java.util.function.Supplier<List<Long>> pg = () -> {
            List<Long> pids = new ArrayList<>();
            pids.add(postmaster);
            ProcessHandle.of(postmaster).orElseThrow().descendants().forEach(h -> pids.add(h.pid()));
            return pids;
        };
        run(target.resolve("durable-server-pg"), target.resolve("durable-config-pg"), base -> {
            PostgresCrashIT.configurePostgresql(base);
            return Map.of("POSTERN_DB_URL", url, "POSTERN_DB_USER", "postgres", "POSTERN_DB_PASSWORD",
                    "trusted-on-loopback");
        }, path -> path.contains("/pg_wal/"), pg);
    }

    /**
     * run - send MESSAGES over CLIENTS concurrent clients to a server of its own while strace
     * follows it (and the {@code others} processes: the database server), then check every
     * acknowledged message against the trace.
     */
    private static void run(Path base, Path config, CrashIT.Database db, Predicate<String> queueFile,
                            java.util.function.Supplier<List<Long>> others) throws Exception {
        Path strace = Path.of("/usr/bin/strace");
        if (!Files.isExecutable(strace)) {
            fail("strace is not installed (test.sh installs the Debian package strace)");
        }
        Path target = base.getParent();
        CrashIT.prepare(base, config, SMTPD_PORT, "myhostname = durable.test", "relayhost = [127.0.0.1]:" + SINK_PORT);
        Map<String, String> env = db.prepare(base);
        String name = base.getFileName().toString();
        try (TestSink sink = TestSink.smtp(SINK_PORT)) {
            Process server = CrashIT.start(base, config, env, target.resolve(name + ".out"), OFFSET);
            try {
                // one message first, so that the database and every pool are warm before tracing
                send("warm-up", ConcurrentHashMap.newKeySet());
                List<Path> traces = new ArrayList<>();
                List<Process> tracers = new ArrayList<>();
                traces.add(target.resolve(name + "-jvm.strace"));
                tracers.add(trace(strace, List.of(CrashIT.jvm(server).pid()), traces.get(0)));
                List<Long> dbServer = others.get();
                if (!dbServer.isEmpty()) {
                    traces.add(target.resolve(name + "-db.strace"));
                    tracers.add(trace(strace, dbServer, traces.get(1)));
                }
                Thread.sleep(3000); // strace attaches to every thread of the JVM
                Set<String> acknowledged = ConcurrentHashMap.newKeySet();
                ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    clients.submit(() -> {
                        for (int i = client; i < MESSAGES; i += CLIENTS) {
                            send("durable-" + i, acknowledged);
                        }
                    });
                }
                clients.shutdown();
                assertTrue(clients.awaitTermination(180, TimeUnit.SECONDS), "the clients did not finish");
                Thread.sleep(500);
                for (Process t : tracers) {
                    t.destroy();
                    t.waitFor(30, TimeUnit.SECONDS);
                }
                assertEquals(MESSAGES, acknowledged.size(), "every message acknowledged: " + acknowledged);
                check(traces, acknowledged, queueFile, name);
            } finally {
                CrashIT.stop(server);
            }
        }
    }

    private static Process trace(Path strace, List<Long> pids, Path out) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(strace.toString(), "-f", "-tt", "-y", "-s", "4096",
                "-e", "trace=fsync,fdatasync,read,write,writev,sendto,recvfrom", "-o", out.toString()));
        for (long pid : pids) {
            cmd.add("-p");
            cmd.add(Long.toString(pid));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(out.resolveSibling(out.getFileName() + ".err").toFile()).start();
    }

    /** send - one message in a session of its own; its id is added when it got 250. */
    private static void send(String id, Set<String> acknowledged) {
        try {
            if (SmtpClient.message("127.0.0.1", SMTPD_PORT, id, 500).startsWith("250 2.0.0 Ok: queued as ")) {
                acknowledged.add(id);
            }
        } catch (IOException e) {
            throw new AssertionError(id + ": " + e, e);
        }
    }

    /** Event - one system call: when it started and ended, what it was, on which file, with what text. */
    private record Event(long start, long end, String call, String fd, String text) {
    }

    private static final Pattern LINE = Pattern.compile("^(\\d+)\\s+(\\d\\d:\\d\\d:\\d\\d\\.\\d+) (.*)$");
    /* a call on a descriptor that -y names; a TCP name holds "->", so the name ends at the first '>' before ", ", ")" or " <unfinished" */
    private static final Pattern CALL = Pattern.compile("^(\\w+)\\((\\d+)<(.+?)>((?:, | <unfinished|\\)).*)$");
    private static final Pattern RESUMED = Pattern.compile("^<\\.\\.\\. (\\w+) resumed>(.*)$");

    /** parse - the events of strace -f -tt -y output, unfinished calls joined with their resumption. */
    private static List<Event> parse(Path file) throws IOException {
        List<Event> events = new ArrayList<>();
        Map<String, String[]> open = new HashMap<>(); // pid -> {start, call, fd, text}
        for (String line : Files.readAllLines(file, StandardCharsets.ISO_8859_1)) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String pid = m.group(1);
            long t = LocalTime.parse(m.group(2)).toNanoOfDay();
            String rest = m.group(3);
            Matcher r = RESUMED.matcher(rest);
            if (r.matches()) {
                String[] o = open.remove(pid + " " + r.group(1));
                if (o != null) {
                    events.add(new Event(Long.parseLong(o[0]), t, o[1], o[2], o[3] + r.group(2)));
                }
                continue;
            }
            Matcher c = CALL.matcher(rest);
            if (!c.matches()) {
                continue;
            }
            if (rest.endsWith("<unfinished ...>")) {
                open.put(pid + " " + c.group(1), new String[] {Long.toString(t), c.group(1), c.group(3), c.group(4)});
            } else {
                events.add(new Event(t, t, c.group(1), c.group(3), c.group(4)));
            }
        }
        return events;
    }

    private static void check(List<Path> traces, Set<String> acknowledged, Predicate<String> queueFile, String name)
            throws IOException {
        List<Event> all = new ArrayList<>();
        for (Path t : traces) {
            all.addAll(parse(t));
        }
        all.sort(Comparator.comparingLong(Event::start));
        List<Event> syncs = all.stream().filter(e -> (e.call().equals("fsync") || e.call().equals("fdatasync"))
                && queueFile.test(e.fd())).toList();
        List<String> missing = new ArrayList<>();
        Set<Event> used = new java.util.HashSet<>();
        for (String id : acknowledged) {
            // the content may come in several reads: the marker in one, the final dot in the same or a later one
            Event first = all.stream().filter(e -> (e.call().equals("read") || e.call().equals("recvfrom"))
                    && (e.fd().startsWith("socket:") || e.fd().startsWith("TCP:"))
                    && e.text().contains("<" + id + "@test>")).findFirst().orElse(null);
            Event eod = first == null ? null : all.stream().filter(e -> e.start() >= first.start()
                    && e.fd().equals(first.fd()) && e.call().equals(first.call())
                    && e.text().contains("\\r\\n.\\r\\n")).findFirst().orElse(null);
            if (eod == null) {
                missing.add(id + ": its end of data is not in the trace");
                continue;
            }
            Event ok = all.stream().filter(e -> e.start() >= eod.end() && e.fd().equals(eod.fd())
                    && e.call().matches("write|writev|sendto") && e.text().contains("250 2.0.0 Ok: queued as "))
                    .findFirst().orElse(null);
            if (ok == null) {
                missing.add(id + ": its 250 is not in the trace");
                continue;
            }
            Event sync = syncs.stream().filter(s -> s.start() >= eod.end() && s.end() <= ok.start())
                    .findFirst().orElse(null);
            if (sync == null) {
                missing.add(id + ": no fsync/fdatasync of the queue between its end of data and its 250");
            } else {
                used.add(sync);
            }
        }
        System.out.printf("DurabilityIT (%s): %d messages acknowledged, %d syncs of the queue in the trace, "
                + "%d of them between an end of data and its 250 (%.1f messages per sync)%n",
                name, acknowledged.size(), syncs.size(), used.size(), acknowledged.size() / (double) Math.max(1, used.size()));
        assertEquals(List.of(), missing, "a 250 without a sync of the queue before it (traces: " + traces + ")");
    }
}
