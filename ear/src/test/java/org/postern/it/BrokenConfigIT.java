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
 * name, the line number and the reason, as Postfix refuses to start: WildFly's boot fails
 * and the server exits; no listener opens.
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
            // WildFly gives up booting when the smtpd endpoint cannot be activated, and exits
            assertTrue(wildfly.waitFor(180, TimeUnit.SECONDS), "the server kept running on a broken main.cf");
            String log = Files.readString(serverLog, StandardCharsets.UTF_8);
            assertTrue(log.contains("PSTN4001: fatal: " + config.resolve("main.cf")
                            + ", line 3: missing '=' after attribute name: \"this\""),
                    "the server log names the file, line and reason:\n" + tail(log));
            assertTrue(log.contains("WFLYSRV0056"), "the boot failed:\n" + tail(log));
            assertFalse(listening(SMTPD_PORT), "no smtpd listener may run on a broken configuration");
        } finally {
            wildfly.destroy();
            if (!wildfly.waitFor(60, TimeUnit.SECONDS)) {
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
