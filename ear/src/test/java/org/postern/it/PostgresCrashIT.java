package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;

/**
 * PostgresCrashIT - the crash test on the production database: the server's copy is
 * switched to PostgreSQL with wildfly-config's configure-postgresql.cli (the documented
 * switch), the queue schema comes from the Flyway migrations at deployment, and every
 * acknowledged message must survive kill -9. Skipped when PostgreSQL is not installed.
 */
class PostgresCrashIT {

    @Test
    void everyAcknowledgedMessageArrivesAfterKillDashNineAndRestartOnPostgresql() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        String url = PostgresCluster.createDatabase("postern_crash");
        CrashIT.run(target.resolve("crash-server-pg"), target.resolve("crash-config-pg"), base -> {
            configurePostgresql(base);
            return Map.of("POSTERN_DB_URL", url, "POSTERN_DB_USER", "postgres", "POSTERN_DB_PASSWORD", "trusted-on-loopback");
        });
    }

    /** configurePostgresql - run configure-postgresql.cli offline against this base directory. */
    static void configurePostgresql(Path base) throws Exception {
        Path home = Path.of(System.getProperty("jboss.home"));
        // `module add` refuses a module that exists: start from the provisioned state
        Path module = home.resolve("modules/org/postgresql");
        if (Files.exists(module)) {
            try (Stream<Path> all = Files.walk(module)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Path out = base.getParent().resolve("configure-postgresql.out");
        Process cli = new ProcessBuilder(home.resolve("bin/jboss-cli.sh").toString(),
                "-Djboss.server.base.dir=" + base, "-Dpostgresql.jar=" + System.getProperty("postgresql.jar"),
                "--file=" + Path.of(System.getProperty("postern.cli.dir"), "configure-postgresql.cli"))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        cli.waitFor(120, TimeUnit.SECONDS);
        assertEquals(0, cli.exitValue(), Files.readString(out));
    }
}
