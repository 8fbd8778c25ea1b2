package org.postern.smtpd;

import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;

/** AUTH against a real Dovecot auth server (smtpd_sasl_type = dovecot), over TCP and a UNIX socket. */
class DovecotAuthenticatorTest {
    private static final String DOVECOT = "/usr/sbin/dovecot";

    @TempDir
    static Path dir;
    static Process dovecot;
    static int port;
    static Path socket;

    @BeforeAll
    static void start() throws Exception {
        Peers.assume(new File(DOVECOT).canExecute(), "dovecot is not installed at " + DOVECOT);
        port = freePort();
        socket = dir.resolve("auth-client");
        // dovecot's auth process runs as its own user: it must be able to read the table
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("users"), "alice:{PLAIN}s3cret::::::\n");
        Files.setPosixFilePermissions(dir.resolve("users"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Files.createDirectories(dir.resolve("run"));
        Files.createDirectories(dir.resolve("state"));
        Files.writeString(dir.resolve("dovecot.conf"), String.join("\n",
                "base_dir = " + dir.resolve("run"), "state_dir = " + dir.resolve("state"), "protocols =",
                "ssl = no", "disable_plaintext_auth = no", "auth_mechanisms = plain login",
                "log_path = " + dir.resolve("dovecot.log"), "auth_failure_delay = 0",
                "passdb {", "  driver = passwd-file", "  args = " + dir.resolve("users"), "}",
                "userdb {", "  driver = static", "  args = uid=65534 gid=65534 home=" + dir + "/%u", "}",
                "service auth {", "  inet_listener {", "    address = 127.0.0.1", "    port = " + port, "  }",
                "  unix_listener " + socket + " {", "    mode = 0666", "  }", "}", ""));
        dovecot = new ProcessBuilder(DOVECOT, "-F", "-c", dir.resolve("dovecot.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IOException("dovecot did not start: " + Files.readString(dir.resolve("out.log")));
    }

    /** freePort - a port in 20000-20999 that nobody listens on now. */
    private static int freePort() throws IOException {
        for (int p = 20900; p < 21000; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
                return p;
            } catch (IOException busy) {
                // next
            }
        }
        throw new IOException("no free port in 20900-20999");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (dovecot != null) {
            dovecot.destroy();
            dovecot.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void passwordsOverTcpAndUnixSocket() {
        for (String path : new String[] {"inet:127.0.0.1:" + port, socket.toString()}) {
            DovecotAuthenticator a = new DovecotAuthenticator(path, Duration.ofSeconds(10));
            assertTrue(a.authenticate("", "alice", "s3cret".toCharArray()), path);
            assertFalse(a.authenticate("", "alice", "wrong".toCharArray()), path);
            assertFalse(a.authenticate("", "mallory", "s3cret".toCharArray()), path);
        }
    }

    @Test
    void unreachableServerIsNotAWrongPassword() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closed = s.getLocalPort();
        }
        DovecotAuthenticator a = new DovecotAuthenticator("inet:127.0.0.1:" + closed, Duration.ofSeconds(2));
        assertThrows(IllegalStateException.class, () -> a.authenticate("", "alice", "s3cret".toCharArray()));
        assertThrows(IllegalArgumentException.class, () -> new DovecotAuthenticator("private/auth",
                Duration.ofSeconds(2)));
    }

    @Test
    void aRelativeSaslPathIsUnderQueueDirectoryAsInPostfix() {
        // the usual Postfix + Dovecot main.cf: smtpd_sasl_path = private/auth under queue_directory
        Config c = Config.parse(String.join("\n", "smtpd_sasl_auth_enable = yes", "smtpd_sasl_type = dovecot",
                "queue_directory = " + socket.getParent().getParent(),
                "smtpd_sasl_path = " + socket.getParent().getFileName() + "/" + socket.getFileName()), "main.cf");
        SmtpdSettings s = org.postern.ra.SmtpdSettingsFactoryAccess.from(c, "submission");
        assertTrue(s.security().authenticator().authenticate("", "alice", "s3cret".toCharArray()));
        assertFalse(s.security().authenticator().authenticate("", "alice", "wrong".toCharArray()));
    }

    @Test
    void swaksAuthenticatesThroughDovecot(@TempDir Path spool) throws Exception {
        Config c = Config.parse(String.join("\n", "myhostname = mx.example.org", "smtpd_sasl_auth_enable = yes",
                "smtpd_sasl_type = dovecot", "smtpd_sasl_path = inet:127.0.0.1:" + port,
                "mynetworks = 192.0.2.0/24"), "main.cf");
        SmtpdSettings.Builder b = org.postern.ra.SmtpdSettingsFactoryAccess.from(c, "smtpd").toBuilder();
        b.spoolDirectory = spool;
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        ExecutorService blocking = Executors.newSingleThreadExecutor();
        SmtpdServer server = new SmtpdServer("smtpd", b.build(), (envelope, content) -> envelope.queueId(), group,
                blocking);
        try {
            server.start("127.0.0.1", 0);
            Process p;
            try {
                p = new ProcessBuilder("swaks", "--server", "127.0.0.1:" + server.port(), "--auth", "LOGIN",
                        "--auth-user", "alice", "--auth-password", "s3cret", "--from", "alice@example.com", "--to",
                        "someone@other.example", "--helo", "client.example").redirectErrorStream(true).start();
            } catch (IOException e) {
                Peers.abort("swaks is not installed");
                return;
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("<-  235 2.7.0 Authentication successful"), out);
            assertTrue(out.contains("<-  250 2.1.5 Ok"), out);
        } finally {
            server.stop();
            blocking.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
