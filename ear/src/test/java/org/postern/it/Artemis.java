package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Artemis - a standalone Apache ActiveMQ Artemis broker for the integration tests: the
 * real broker a company runs, from its own distribution, driven by its own command-line
 * tools (which nobody here wrote).
 *
 * <h2>DESCRIPTION</h2>
 * The ear build unpacks {@code org.apache.activemq:apache-artemis:2.44.0:zip:bin} into
 * target/ (offline, like the WildFly distribution) and names it in the system property
 * {@code artemis.home}. {@link #create} makes a broker instance with {@code artemis create}
 * in a directory of the test's: one core-protocol acceptor on loopback, a login required
 * (one user, all permissions), the given anycast queues and multicast addresses, and any
 * extra address settings (redelivery and dead-letter settings) added to its broker.xml.
 * {@link #tls} adds a second acceptor that speaks TLS with a key pair made by keytool, and
 * gives the trust store a client needs. {@link #start} runs it ({@code artemis run}) and
 * returns once it is active; {@link #kill9} kills its JVM with SIGKILL, {@link #stop} ends
 * it gently; a stopped or killed broker can be started again on the same journal.
 * {@link #cli} runs any other {@code artemis} command against it (producer, consumer,
 * browser, queue stat), and {@link #queueStat} reads the queues' counters.
 *
 * <p>Example:
 * <pre>
 * try (Artemis broker = Artemis.create(dir, 13261, "postern", "Broker-Pass-1",
 *         List.of("postern.active"), List.of("postern.events"), "")) {
 *     broker.start();
 *     broker.cli("producer", "--destination", "queue://postern.active", "--message-count", "1");
 *     long added = broker.queueStat().get("postern.active").added();
 * }
 * </pre>
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * <dl>
 * <dt>artemis.home</dt><dd>the unpacked distribution (set by the ear pom).</dd>
 * </dl>
 * The broker's JVM gets a 64 MB initial and 256 MB maximum heap; its console (web) and
 * the AMQP, MQTT, STOMP and HornetQ acceptors are not created.
 *
 * <h2>SEE ALSO</h2>
 * ExternalBrokerIT, wildfly-config/src/main/cli/configure-external-broker.cli,
 * the Artemis manual: "Using the CLI", "Configuring Transports".
 */
final class Artemis implements AutoCloseable {
    /** the version the ear pom unpacks */
    static final String VERSION = "2.44.0";

    private final Path instance;
    private final int port;
    private final String user;
    private final String password;
    private Process process;
    private int runs;
    private Path trustStore;
    private String trustStorePassword;
    private int tlsPort = -1;

    private Artemis(Path instance, int port, String user, String password) {
        this.instance = instance;
        this.port = port;
        this.user = user;
        this.password = password;
    }

    /** home - the unpacked Artemis distribution. */
    static Path home() {
        String home = System.getProperty("artemis.home");
        assertTrue(home != null && Files.isDirectory(Path.of(home)),
                "the Artemis distribution is unpacked by the ear build (system property artemis.home): " + home);
        return Path.of(home);
    }

    /**
     * create - a new broker instance in {@code instance} (removed first if it exists),
     * listening on 127.0.0.1:{@code port} (core protocol), with one user who has every
     * permission, the anycast queues and the multicast addresses given (each its own
     * address of the same name), and {@code addressSettings}, XML of
     * {@code <address-setting>} elements, added to broker.xml before its catch-all.
     */
    static Artemis create(Path instance, int port, String user, String password, List<String> anycast,
            List<String> multicast, String addressSettings) throws Exception {
        CrashIT.delete(instance);
        Files.createDirectories(instance.getParent());
        Path artemis = home().resolve("bin/artemis");
        artemis.toFile().setExecutable(true);
        List<String> command = new ArrayList<>(List.of(artemis.toString(), "create", "--silent", "--force",
                "--user", user, "--password", password, "--role", "amq", "--require-login",
                "--host", "127.0.0.1", "--default-port", Integer.toString(port),
                "--no-web", "--no-amqp-acceptor", "--no-mqtt-acceptor", "--no-stomp-acceptor", "--no-hornetq-acceptor",
                "--nio", "--no-autotune", "--java-memory", "256M"));
        if (!anycast.isEmpty()) {
            command.add("--queues");
            command.add(String.join(",", anycast.stream().map(q -> q + ":anycast").toList()));
        }
        if (!multicast.isEmpty()) {
            command.add("--addresses");
            command.add(String.join(",", multicast.stream().map(a -> a + ":multicast").toList()));
        }
        command.add(instance.toString());
        run(command, instance.getParent().resolve(instance.getFileName() + "-create.out"));

        Path profile = instance.resolve("etc/artemis.profile");
        // `create` writes -Xms512M whatever --java-memory says: a smaller start for the tests' machine
        Files.writeString(profile, Files.readString(profile).replace("-Xms512M", "-Xms64M"));
        if (!addressSettings.isEmpty()) {
            Path broker = instance.resolve("etc/broker.xml");
            String xml = Files.readString(broker);
            String catchAll = "<address-setting match=\"#\">";
            assertTrue(xml.contains(catchAll), "broker.xml has its catch-all address setting");
            Files.writeString(broker, xml.replace(catchAll, addressSettings + "\n         " + catchAll));
        }
        return new Artemis(instance, port, user, password);
    }

    /**
     * tls - a second acceptor on 127.0.0.1:{@code tlsPort} that speaks TLS, with a key
     * pair for CN=localhost (subject alternative names localhost and 127.0.0.1) made by
     * keytool in the instance's etc/; {@link #trustStore()} is the PKCS12 trust store that
     * holds its certificate. Call before {@link #start}.
     */
    Artemis tls(int tlsPort, String storePassword) throws Exception {
        Path etc = instance.resolve("etc");
        Path keyStore = etc.resolve("broker-keystore.p12");
        Path cert = etc.resolve("broker.crt");
        Path trust = etc.resolve("client-truststore.p12");
        Path out = instance.getParent().resolve(instance.getFileName() + "-keytool.out");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(List.of(keytool, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "30",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", keyStore.toString(), "-storepass", storePassword, "-keypass", storePassword), out);
        run(List.of(keytool, "-exportcert", "-alias", "broker", "-keystore", keyStore.toString(),
                "-storepass", storePassword, "-rfc", "-file", cert.toString()), out);
        run(List.of(keytool, "-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(),
                "-storetype", "PKCS12", "-keystore", trust.toString(), "-storepass", storePassword), out);
        Path broker = etc.resolve("broker.xml");
        String xml = Files.readString(broker);
        String acceptor = "<acceptor name=\"artemis-tls\">tcp://127.0.0.1:" + tlsPort + "?sslEnabled=true;keyStorePath="
                + keyStore + ";keyStorePassword=" + storePassword + ";protocols=CORE</acceptor>\n         ";
        assertTrue(xml.contains("</acceptors>"), "broker.xml has acceptors");
        Files.writeString(broker, xml.replace("</acceptors>", acceptor + "</acceptors>"));
        this.trustStore = trust;
        this.trustStorePassword = storePassword;
        this.tlsPort = tlsPort;
        return this;
    }

    /** trustStore - the PKCS12 trust store that holds the TLS acceptor's certificate. */
    Path trustStore() {
        return trustStore;
    }

    String trustStorePassword() {
        return trustStorePassword;
    }

    int port() {
        return port;
    }

    int tlsPort() {
        return tlsPort;
    }

    /** url - the core protocol URL of the plain acceptor. */
    String url() {
        return "tcp://127.0.0.1:" + port;
    }

    /** start - run the broker ({@code artemis run}); returns once it is active (AMQ221007). */
    void start() throws Exception {
        assertTrue(process == null || !process.isAlive(), "the broker is not running already");
        runs++;
        Path out = instance.getParent().resolve(instance.getFileName() + "-run-" + runs + ".out");
        process = new ProcessBuilder(instance.resolve("bin/artemis").toString(), "run")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < end) {
            String log = Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
            if (log.contains("AMQ221007")) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("the broker ended at its start, see " + out);
            }
            Thread.sleep(100);
        }
        stop();
        throw new AssertionError("the broker did not start in time, see " + out);
    }

    /** running - whether the broker's process is alive. */
    boolean running() {
        return process != null && process.isAlive();
    }

    /** kill9 - SIGKILL to the broker's JVM (the java child of bin/artemis, or that script itself when it exec'ed java). */
    void kill9() throws Exception {
        assertTrue(running(), "the broker runs before it is killed");
        List<ProcessHandle> jvms = new ArrayList<>(process.descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false)).toList());
        if (jvms.isEmpty()) {
            jvms.add(process.toHandle());
        }
        for (ProcessHandle jvm : jvms) {
            new ProcessBuilder("kill", "-9", Long.toString(jvm.pid())).start().waitFor();
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the broker's start script ended with its JVM");
    }

    /** stop - end the broker gently (SIGTERM), forcibly after a minute. */
    void stop() throws InterruptedException {
        if (process == null) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /**
     * cli - an {@code artemis} command against this broker: the plain acceptor's URL, the
     * user and the password are added (after the command's name); its output. Fails the test when the
     * command exits with other than 0.
     */
    String cli(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(instance.resolve("bin/artemis").toString());
        command.addAll(List.of(args).subList(0, commandWords(args)));
        command.addAll(List.of("--url", url(), "--user", user, "--password", password));
        command.addAll(List.of(args).subList(commandWords(args), args.length));
        Path out = Files.createTempFile(instance.getParent(), "artemis-cli-", ".out");
        run(command, out);
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    /** commandWords - how many leading words name the command: "queue stat" is two, "producer" one. */
    private static int commandWords(String[] args) {
        int n = 0;
        while (n < args.length && !args[n].startsWith("-")) {
            n++;
        }
        return n;
    }

    /** QueueStat - a queue's counters as {@code artemis queue stat} prints them. */
    record QueueStat(String name, String address, long consumers, long messages, long added, long delivering,
            long acked, long scheduled) {
    }

    /** queueStat - every queue's counters, by queue name ({@code artemis queue stat --json}). */
    Map<String, QueueStat> queueStat() throws Exception {
        String out = cli("queue", "stat", "--json", "--maxRows", "10000");
        Map<String, QueueStat> stats = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String name = field(line, "name");
            if (name != null && field(line, "messagesAdded") != null) {
                stats.put(name, new QueueStat(name, field(line, "address"), number(line, "consumerCount"),
                        number(line, "messageCount"), number(line, "messagesAdded"), number(line, "deliveringCount"),
                        number(line, "messagesAcked"), number(line, "scheduledCount")));
            }
        }
        assertTrue(out.contains("\"data\"") && !stats.isEmpty(), "the output of `artemis queue stat --json`: " + out);
        return stats;
    }

    /* field - a string field of one queue's JSON object, all on one line as queue stat prints it; null when absent */
    private static String field(String line, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(line);
        return m.find() ? m.group(1) : null;
    }

    private static long number(String line, String name) {
        String v = field(line, name);
        assertTrue(v != null && v.matches("-?\\d+"), name + " in " + line);
        return Long.parseLong(v);
    }

    private static void run(List<String> command, Path out) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not end in time: " + command);
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + readQuietly(out));
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
