package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * BrokenConfigIT - a main.cf with a syntax error stops Postern at start with the file
 * name, the line number and the reason, as Postfix refuses to start: Postern's deployment
 * fails (deployments/postern.ear.failed, as for any deployment WildFly cannot start) and
 * no listener opens; WildFly itself stays up, so that main.cf can be fixed and Postern
 * deployed again.
 * Runs a WildFly of its own (ports offset by 200) with the real EAR in deployments/.
 */
class BrokenConfigIT {
    private static final int SMTPD_PORT = 12725;

    @Test
    void aSyntaxErrorInMainCfFailsTheDeploymentWithFileLineAndReason() throws Exception {
        Path target = Path.of(System.getProperty("it.server")).getParent();
        Path base = target.resolve("broken-server");
        Path config = target.resolve("broken-config");
        delete(base);
        delete(config);
        copyServer(Path.of(System.getProperty("jboss.home"), "standalone"), base);
        Files.createDirectories(config);
        Files.writeString(config.resolve("main.cf"), "# a broken main.cf\nmyhostname = broken.test\n"
                + "this line has no equals sign\n");
        Files.writeString(config.resolve("master.cf"), "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd\n");
        Files.copy(Path.of(System.getProperty("postern.ear")), base.resolve("deployments/postern.ear"),
                StandardCopyOption.REPLACE_EXISTING);

        Path serverLog = base.resolve("log/server.log");
        Process wildfly = new ProcessBuilder(Path.of(System.getProperty("jboss.home"), "bin", "standalone.sh").toString(),
                "-c", "standalone-full.xml", "-Djboss.server.base.dir=" + base,
                "-Dpostern.config.dir=" + config, "-Djboss.socket.binding.port-offset=200")
                .redirectErrorStream(true).redirectOutput(target.resolve("broken-server.out").toFile()).start();
        try {
            Path failed = base.resolve("deployments/postern.ear.failed");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!Files.exists(failed) && wildfly.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            String log = Files.readString(serverLog, StandardCharsets.UTF_8);
            assertTrue(Files.exists(failed), "Postern's deployment did not fail on a broken main.cf:\n" + tail(log));
            assertTrue(log.contains("PSTN4001: fatal: " + config.resolve("main.cf")
                            + ", line 3: missing '=' after attribute name: \"this\""),
                    "the server log names the file, line and reason:\n" + tail(log));
            assertTrue(log.contains("WFLYCTL0013"), "the deployment failed:\n" + tail(log));
            assertFalse(listening(SMTPD_PORT), "no smtpd listener may run on a broken configuration");
        } finally {
            // standalone.sh does not pass a SIGTERM on to its JVM: stop the JVM itself
            wildfly.descendants().forEach(ProcessHandle::destroy);
            wildfly.destroy();
            if (!wildfly.waitFor(60, TimeUnit.SECONDS)) {
                wildfly.descendants().forEach(ProcessHandle::destroyForcibly);
                wildfly.destroyForcibly();
            }
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(String log) {
        return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
    }

    /** copyServer - a server base directory from the provisioned standalone/, without data, logs or Postern. */
    static void copyServer(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path rel = from.relativize(p);
                String r = rel.toString();
                if (r.startsWith("data") || r.startsWith("log") || r.startsWith("tmp")
                        || r.startsWith("deployments/postern")) {
                    continue;
                }
                Path dest = to.resolve(rel);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
