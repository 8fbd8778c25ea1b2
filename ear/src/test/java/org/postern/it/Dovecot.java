package org.postern.it;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Dovecot - Dovecot's LMTP server (Debian package dovecot-lmtpd), run in the foreground
 * with a configuration of the test's own: LMTP on a loopback port, one Maildir per user
 * under {@code dir/mail}, static users, no TLS.
 */
final class Dovecot implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/sbin/dovecot");

    private final Path dir;
    private final int port;
    private final Process process;

    Dovecot(Path dir, int port) throws IOException, InterruptedException {
        this.dir = dir;
        this.port = port;
        if (Files.exists(dir)) {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        for (String d : List.of("run", "state", "mail", "home")) {
            Files.createDirectories(dir.resolve(d));
        }
        // delivery runs as nobody (uid 65534)
        for (String d : List.of("mail", "home")) {
            Files.setPosixFilePermissions(dir.resolve(d), PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        String conf = String.join("\n",
                "base_dir = " + dir.resolve("run"),
                "state_dir = " + dir.resolve("state"),
                "log_path = " + dir.resolve("dovecot.log"),
                "protocols = lmtp",
                "ssl = no",
                "listen = 127.0.0.1",
                "mail_location = maildir:" + dir.resolve("mail") + "/%n",
                "auth_username_format = %n",
                "userdb {", "  driver = static", "  args = uid=65534 gid=65534 home=" + dir.resolve("home") + "/%n", "}",
                "passdb {", "  driver = static", "  args = nopassword=y", "}",
                "service lmtp {", "  inet_listener lmtp {", "    address = 127.0.0.1", "    port = " + port, "  }",
                "  unix_listener " + socket() + " {", "    mode = 0666", "  }", "}",
                "");
        Path confFile = dir.resolve("dovecot.conf");
        Files.writeString(confFile, conf);
        process = new ProcessBuilder(BINARY.toString(), "-F", "-c", confFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < end) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IOException("dovecot exited: " + Files.readString(dir.resolve("stdout.log")));
                }
                Thread.sleep(100);
            }
        }
        throw new IOException("dovecot did not listen on port " + port);
    }

    /** socket - the LMTP unix-domain socket, beside the configuration */
    Path socket() {
        return dir.resolve("lmtp.sock");
    }

    /** waitForMail - the first message in the user's Maildir new/, waiting up to the timeout. */
    Path waitForMail(String user, long seconds) throws IOException, InterruptedException {
        Path newDir = dir.resolve("mail").resolve(user).resolve("new");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (Files.isDirectory(newDir)) {
                try (Stream<Path> files = Files.list(newDir)) {
                    var first = files.findFirst();
                    if (first.isPresent()) {
                        return first.get();
                    }
                }
            }
            Thread.sleep(200);
        }
        return null;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
