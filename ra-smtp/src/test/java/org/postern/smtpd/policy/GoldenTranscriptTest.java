package org.postern.smtpd.policy;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.smtpd.SmtpdSession;
import org.postern.smtpd.SmtpdSettings;
import org.postern.smtpd.SmtpdTransport;

/**
 * GoldenTranscriptTest - the smtpd restrictions as golden transcripts, in the manner of
 * Postfix's smtpd_check.in and smtpd_check.ref: a text file of configuration and SMTP
 * commands per restriction family, and the transcript that the server must produce.
 *
 * <h2>DESCRIPTION</h2>
 * Every file {@code src/test/resources/smtpd_check/NAME.in} is run, one after the other,
 * and the transcript is compared with {@code NAME.ref}; any difference fails the test
 * and is printed as a diff ("-" expected, "+" actual). A transcript is the .in file with
 * the server's answers after each command: "&lt; " a reply line, "log " a policy line of
 * the mail log (reject, reject_warning, warn, info, hold, discard, and the PSTN11xx
 * warnings of the policy engine), "policy " a request that the policy server received,
 * "enqueued" a message given to the queue with its HOLD or DISCARD parameter. Queue ids
 * read QUEUEID, the folder of the tables $tables.
 *
 * <p>An .in file is read line by line:
 * <pre>
 * # text                  a comment, copied
 * main.cf:                the configuration of the next sessions: the indented lines
 *     name = value        that follow (Postfix's defaults for everything else);
 *                         "$tables" is the folder of the tables, "$policy" the port
 *                         of the policy server
 * table NAME:             a lookup table file $tables/NAME, the indented lines that
 *     key value           follow (use texthash:$tables/NAME)
 * dns TYPE NAME VALUE     a record of the fake DNS (A, AAAA, MX, PTR, TXT); repeat
 *                         for more records of a name; MX "." is a null MX; every other
 *                         name has none (NXDOMAIN)
 * dnsfail TYPE NAME       a query that fails temporarily (SERVFAIL)
 * policy ACTION           the next answer of the policy server (DUNNO when none is
 *                         left; the next main.cf: drops those not used)
 * connect NAME ADDRESS    a new session from a client with this verified name
 *                         ("unknown") and address, with the configuration so far
 * anything else           an SMTP command line, sent as is; after DATA and its 354
 *                         the lines up to "." are the message
 * </pre>
 * The server runs in the same JVM over an in-memory transport; the policy server
 * listens on loopback; nothing else leaves the process.
 *
 * <h2>REGENERATING</h2>
 * After a deliberate change of behaviour, write the .ref files anew and read every
 * changed line before committing it:
 * <pre>
 * mvn -o -pl ra-smtp test -Dtest=GoldenTranscriptTest -Dgolden.update=true
 * git diff ra-smtp/src/test/resources/smtpd_check
 * </pre>
 * The update writes each .ref from its .in: a remark about the behaviour (a "# NOTE:"
 * where Postern deviates from Postfix) belongs in the .in file, as a comment.
 */
class GoldenTranscriptTest {
    private static final Path DIR = Path.of(System.getProperty("golden.dir", "src/test/resources/smtpd_check"));
    private static final boolean UPDATE = Boolean.getBoolean("golden.update");
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-21T09:30:00Z"), ZoneOffset.UTC);
    private static final Pattern QUEUE_ID = Pattern.compile("\\b[0-9A-F]{16}\\b");
    private static final Pattern POLICY_LOG = Pattern.compile(
            "^(NOQUEUE|QUEUEID): (reject|reject_warning|warn|info|hold|discard): .*|^PSTN11\\d\\d: .*|^enqueued .*");
    private static final Pattern FINAL_REPLY = Pattern.compile("^\\d{3}( .*)?$");

    @TempDir
    Path tables;

    @TestFactory
    Stream<DynamicTest> transcripts() throws IOException {
        List<Path> inputs;
        try (Stream<Path> files = Files.list(DIR)) {
            inputs = files.filter(p -> p.getFileName().toString().endsWith(".in")).sorted().toList();
        }
        if (inputs.isEmpty()) {
            fail("no transcripts in " + DIR.toAbsolutePath());
        }
        return inputs.stream().map(in -> DynamicTest.dynamicTest(in.getFileName().toString(), () -> check(in)));
    }

    private void check(Path in) throws Exception {
        Path ref = in.resolveSibling(in.getFileName().toString().replaceAll("\\.in$", ".ref"));
        String actual;
        try (Transcript t = new Transcript(tables.resolve(in.getFileName().toString()))) {
            actual = t.run(Files.readAllLines(in, StandardCharsets.UTF_8));
        }
        if (UPDATE) {
            Files.writeString(ref, actual, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(ref)) {
            fail(ref + " is missing; run with -Dgolden.update=true to write it, then read it");
        }
        String expected = Files.readString(ref, StandardCharsets.UTF_8);
        if (!expected.equals(actual)) {
            fail(in.getFileName() + ": the transcript differs from " + ref.getFileName() + " (- expected, + actual):\n"
                    + diff(expected.split("\n", -1), actual.split("\n", -1)));
        }
    }

    /** diff - a line diff (longest common subsequence), with the lines that differ and one line of context. */
    static String diff(String[] a, String[] b) {
        int[][] lcs = new int[a.length + 1][b.length + 1];
        for (int i = a.length - 1; i >= 0; i--) {
            for (int j = b.length - 1; j >= 0; j--) {
                lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < a.length || j < b.length) {
            if (i < a.length && j < b.length && a[i].equals(b[j])) {
                out.add("  " + a[i]);
                i++;
                j++;
            } else if (i < a.length && (j == b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
                out.add("- " + a[i++]);
            } else {
                out.add("+ " + b[j++]);
            }
        }
        StringBuilder s = new StringBuilder();
        for (int k = 0; k < out.size(); k++) {
            boolean near = false;
            for (int d = -1; d <= 1; d++) {
                int n = k + d;
                near |= n >= 0 && n < out.size() && !out.get(n).startsWith("  ");
            }
            if (near) {
                s.append(k + 1).append(": ").append(out.get(k)).append('\n');
            }
        }
        return s.toString();
    }

    /** Transcript - one .in file being run: its configuration, fake DNS, policy server and session. */
    private static final class Transcript implements AutoCloseable {
        private final Path tableDir;
        private final StringBuilder out = new StringBuilder();
        private final List<String> replies = new CopyOnWriteArrayList<>();
        private final List<String> log = new CopyOnWriteArrayList<>();
        private final List<String> policyRequests = new CopyOnWriteArrayList<>();
        private final Queue<String> policyActions = new ConcurrentLinkedQueue<>();
        private final Map<String, DnsLookup.Answer> zone = new HashMap<>();
        private final List<Logger> loggers = List.of(Logger.getLogger("postern.maillog.smtpd"),
                Logger.getLogger("org.postern.smtpd"));
        private final Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                log.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        private ServerSocket policyServer;
        private String mainCf;
        private SmtpdSettings settings;
        private SmtpdSession session;
        private boolean inData;

        Transcript(Path tableDir) throws IOException {
            this.tableDir = Files.createDirectories(tableDir);
            loggers.forEach(l -> l.addHandler(capture));
        }

        @Override
        public void close() throws IOException {
            loggers.forEach(l -> l.removeHandler(capture));
            if (policyServer != null) {
                policyServer.close();
            }
        }

        String run(List<String> lines) throws Exception {
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (inData) {
                    echo(line);
                    send(line, line.equals("."));
                    inData = !line.equals(".");
                    if (!inData) {
                        flushReplies();
                    }
                    continue;
                }
                if (line.isBlank() || line.startsWith("#")) {
                    echo(line);
                    continue;
                }
                String[] w = line.strip().split("\\s+", 4);
                if (line.equals("main.cf:") || (w[0].equals("table") && line.endsWith(":"))) {
                    echo(line);
                    // the block's first line sets the indentation; a line indented deeper continues the one before
                    StringBuilder block = new StringBuilder();
                    int indent = -1;
                    while (i + 1 < lines.size() && !lines.get(i + 1).isEmpty()
                            && Character.isWhitespace(lines.get(i + 1).charAt(0))) {
                        String b = lines.get(++i);
                        echo(b);
                        int n = b.length() - b.stripLeading().length();
                        indent = indent < 0 ? n : indent;
                        block.append(b.substring(Math.min(n, indent))).append('\n');
                    }
                    if (line.equals("main.cf:")) {
                        mainCf = block.toString();
                        settings = null;
                        policyActions.clear();
                    } else {
                        Files.writeString(tableDir.resolve(w[1].replace(":", "")), block, StandardCharsets.UTF_8);
                    }
                } else if (w[0].equals("dns") && w.length == 4) {
                    echo(line);
                    String key = w[1] + " " + w[2];
                    List<String> values = new ArrayList<>();
                    DnsLookup.Answer old = zone.get(key);
                    if (old != null) {
                        values.addAll(old.values());
                    }
                    values.add(w[1].equals("MX") && w[3].equals(".") ? "" : w[3]);
                    zone.put(key, new DnsLookup.Answer(DnsLookup.Status.FOUND, values));
                } else if (w[0].equals("dnsfail") && w.length == 3) {
                    echo(line);
                    zone.put(w[1] + " " + w[2], new DnsLookup.Answer(DnsLookup.Status.TEMP_FAIL, List.of()));
                } else if (w[0].equals("policy")) {
                    echo(line);
                    policyActions.add(line.strip().substring("policy".length()).strip());
                } else if (w[0].equals("connect") && w.length == 3) {
                    echo(line);
                    connect(w[1], w[2]);
                } else {
                    echo(line);
                    send(line, true);
                    inData = line.equalsIgnoreCase("DATA") && !replies.isEmpty()
                            && replies.get(replies.size() - 1).startsWith("354");
                    flushReplies();
                }
            }
            return out.toString();
        }

        private void echo(String line) {
            out.append(line).append('\n');
        }

        private void connect(String name, String address) throws IOException {
            if (settings == null) {
                String cf = mainCf == null ? "" : mainCf.replace("$tables", tableDir.toString())
                        .replace("$policy", String.valueOf(policyPort()));
                settings = SmtpdSettings.defaults("smtpd", "mx.example.org",
                                Files.createDirectories(tableDir.resolve("spool")))
                        .withPolicy(cf, this::lookup);
            }
            log.clear();
            session = new SmtpdSession(settings, listener, transport, name, address, 40000, CLOCK);
            session.start();
            awaitReply();
            flushReplies();
        }

        private CompletableFuture<DnsLookup.Answer> lookup(String name, DnsLookup.Type type) {
            return CompletableFuture.completedFuture(zone.getOrDefault(type + " " + name,
                    new DnsLookup.Answer(DnsLookup.Status.NOT_FOUND, List.of())));
        }

        private void send(String line, boolean wait) throws InterruptedException {
            if (session == null) {
                throw new IllegalStateException("an SMTP command before connect: " + line);
            }
            byte[] b = (line + "\r\n").getBytes(StandardCharsets.UTF_8);
            session.input(b, 0, b.length);
            if (wait) {
                awaitReply();
            }
        }

        /** awaitReply - until the last reply line is a final one (a policy server answers on its own thread). */
        private void awaitReply() {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline && (replies.isEmpty()
                    || !FINAL_REPLY.matcher(replies.get(replies.size() - 1)).matches())) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        private void flushReplies() {
            for (String r : policyRequests) {
                echo("policy " + r);
            }
            policyRequests.clear();
            for (String r : replies) {
                echo("< " + mask(r));
            }
            replies.clear();
            for (String l : log) {
                String m = mask(l);
                if (POLICY_LOG.matcher(m).matches()) {
                    echo("log " + m);
                }
            }
            log.clear();
        }

        /** mask - what differs from run to run: queue ids, the folder of the tables. */
        private String mask(String text) {
            return QUEUE_ID.matcher(text.replace(tableDir.toString(), "$tables")).replaceAll("QUEUEID");
        }

        private final SmtpdListener listener = (envelope, content) -> {
            try {
                content.readAllBytes();
            } catch (IOException e) {
                throw new org.postern.smtpd.api.EnqueueException("read", e);
            }
            StringBuilder b = new StringBuilder("enqueued from=<" + envelope.sender() + ">");
            for (String p : List.of(Envelope.HOLD, Envelope.DISCARD)) {
                if (envelope.mailParams().containsKey(p)) {
                    b.append(' ').append(p).append("=\"").append(envelope.mailParams().get(p)).append('"');
                }
            }
            log.add(b.toString());
            return envelope.queueId();
        };

        private final SmtpdTransport transport = new SmtpdTransport() {
            @Override
            public void reply(String line) {
                replies.add(line);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }

            @Override
            public void await(java.util.concurrent.CompletionStage<?> pending, Runnable then) {
                pending.whenComplete((r, e) -> then.run());
            }

            @Override
            public void startTls() {
                throw new UnsupportedOperationException("no TLS in transcripts");
            }

            @Override
            public void runBlocking(Runnable work, Runnable then) {
                work.run();
                then.run();
            }

            @Override
            public void delay(Duration delay, Runnable then) {
                replies.add("(delay " + delay.toMillis() + " ms)");
                then.run();
            }
        };

        /** policyPort - the loopback policy server, started on first use; it answers with the policy lines. */
        private int policyPort() throws IOException {
            if (policyServer == null) {
                policyServer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Thread acceptor = new Thread(() -> {
                    while (!policyServer.isClosed()) {
                        try {
                            Socket s = policyServer.accept();
                            Thread t = new Thread(() -> serve(s));
                            t.setDaemon(true);
                            t.start();
                        } catch (IOException e) {
                            return;
                        }
                    }
                });
                acceptor.setDaemon(true);
                acceptor.start();
            }
            return policyServer.getLocalPort();
        }

        private void serve(Socket s) {
            try (s) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8));
                OutputStream os = s.getOutputStream();
                Map<String, String> attrs = new HashMap<>();
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.isEmpty()) {
                        int eq = line.indexOf('=');
                        attrs.put(line.substring(0, eq), line.substring(eq + 1));
                        continue;
                    }
                    StringBuilder shown = new StringBuilder();
                    for (String k : List.of("protocol_state", "client_name", "client_address", "helo_name", "sender",
                            "recipient")) {
                        shown.append(shown.length() == 0 ? "" : " ").append(k).append('=')
                                .append(attrs.getOrDefault(k, "(none)"));
                    }
                    policyRequests.add(shown.toString());
                    attrs.clear();
                    String action = policyActions.poll();
                    os.write(("action=" + (action == null ? "DUNNO" : action) + "\n\n")
                            .getBytes(StandardCharsets.UTF_8));
                    os.flush();
                }
            } catch (IOException e) {
                if (!policyServer.isClosed()) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
