package org.postern.queue;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * PostgresCluster - a PostgreSQL 15 cluster of the tests' own, started once per test JVM.
 *
 * <p>initdb into ejb/target/postgresql (fresh every run), postgres on 127.0.0.1:22432 with
 * its socket in the same directory, trust authentication for the loopback only, fsync on
 * (as in production). When the tests run as root, the server runs as the postgres user
 * (runuser), since PostgreSQL refuses root. Stopped when the JVM exits. When the
 * PostgreSQL binaries are absent, {@link #database} skips the test with an assumption.
 */
public final class PostgresCluster {
    private static final Logger LOG = Logger.getLogger("org.postern.test");
    /** the binaries of Debian's postgresql-15 */
    public static final Path BIN = Path.of(System.getProperty("postern.test.pgbin", "/usr/lib/postgresql/15/bin"));
    public static final int PORT = Integer.getInteger("postern.test.pgport", 22432);
    private static final Path DIR = Path.of("target", "postgresql").toAbsolutePath();
    private static final Path DATA = DIR.resolve("data");
    private static boolean started;

    private PostgresCluster() {
    }

    /**
     * requireBinaries - skip the test when PostgreSQL is not installed; under CI (CI=true)
     * fail instead, since test.sh installs postgresql-15 and a skipped test hides a gap.
     */
    private static void requireBinaries() {
        if (available()) {
            return;
        }
        String reason = "PostgreSQL binaries not found in " + BIN;
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            org.junit.jupiter.api.Assertions.fail("missing peer under CI (test.sh installs postgresql-15): " + reason);
        }
        assumeTrue(false, reason + "; PostgreSQL tests skipped");
    }

    /** available - true when the PostgreSQL server binaries are installed. */
    public static boolean available() {
        return Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("pg_ctl"));
    }

    /**
     * createDatabase - a fresh, empty database of this name on the running cluster (started
     * on first use); its JDBC URL. For tests that run the real server on it (user postgres,
     * no password, loopback only).
     */
    public static synchronized String createDatabase(String name) {
        requireBinaries();
        start();
        exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        exec("CREATE DATABASE " + name);
        return url(name);
    }

    /**
     * database - a fresh database of this name on the running cluster (started on first
     * use), booted as the tests' queue database with the settings {@code extra} (e.g. the schema management).
     */
    public static synchronized QueueDatabase database(String name, Map<String, String> extra) {
        requireBinaries();
        start();
        exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        exec("CREATE DATABASE " + name);
        return reopen(name, extra);
    }

    /**
     * migrated - a fresh database with the production schema: no Hibernate DDL, the Flyway
     * migrations applied and the mapping validated by QueueSchema, as at deployment.
     */
    public static QueueDatabase migrated(String name) {
        return database(name, PRODUCTION_SCHEMA);
    }

    /** the persistence unit settings of production (see org.postern.queue.schema.QueueSchema) */
    public static final Map<String, String> PRODUCTION_SCHEMA = Map.of(
            "hibernate.hbm2ddl.auto", "none",
            "postern.schema", "migrate");

    /** reopen - boot the queue database on an existing database of the cluster, as a restart does. */
    public static synchronized QueueDatabase reopen(String name, Map<String, String> extra) {
        requireBinaries();
        start();
        Map<String, String> props = new java.util.HashMap<>(jdbc(name));
        props.putAll(extra);
        return new QueueDatabase(props);
    }

    /** jdbc - the JPA connection properties of a database on the cluster. */
    public static Map<String, String> jdbc(String name) {
        return Map.of(
                "jakarta.persistence.jdbc.driver", "org.postgresql.Driver",
                "jakarta.persistence.jdbc.url", url(name),
                "jakarta.persistence.jdbc.user", "postgres",
                "jakarta.persistence.jdbc.password", "");
    }

    public static String url(String name) {
        return "jdbc:postgresql://127.0.0.1:" + PORT + "/" + name;
    }

    /** exec - one statement on the maintenance database. */
    public static void exec(String sql) {
        try (Connection c = DriverManager.getConnection(url("postgres"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private static void start() {
        if (started) {
            return;
        }
        try {
            if (Files.exists(DATA.resolve("postmaster.pid"))) {
                run(List.of(BIN.resolve("pg_ctl").toString(), "-D", DATA.toString(), "-m", "immediate", "stop"), false);
            }
            deleteTree(DIR);
            Files.createDirectories(DIR);
            if (root()) {
                run(List.of("chown", "-R", "postgres:postgres", DIR.toString()), true);
            }
            run(List.of(BIN.resolve("initdb").toString(), "-D", DATA.toString(), "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"), true);
            run(List.of(BIN.resolve("pg_ctl").toString(), "-D", DATA.toString(), "-w", "-t", "60",
                    "-l", DIR.resolve("server.log").toString(),
                    "-o", "-p " + PORT + " -c listen_addresses=127.0.0.1 -k " + DIR
                            + " -c max_connections=50 -c shared_buffers=32MB", "start"), true);
            started = true;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> run(List.of(BIN.resolve("pg_ctl").toString(),
                    "-D", DATA.toString(), "-m", "fast", "-w", "stop"), false)));
            LOG.info("PostgreSQL test cluster on 127.0.0.1:" + PORT + " in " + DATA);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** run - a PostgreSQL command, as the postgres user when we are root. */
    private static void run(List<String> command, boolean check) {
        List<String> cmd = new ArrayList<>();
        if (root() && !command.get(0).equals("chown")) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(command);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(cmd + " did not finish");
            }
            if (check && p.exitValue() != 0) {
                throw new IllegalStateException(cmd + " failed (" + p.exitValue() + "): " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
