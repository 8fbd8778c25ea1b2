package org.postern.smtpd;

import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;

/**
 * Postfix 3.7 (Debian) as the sending MTA: it relays through Postern with STARTTLS
 * (smtp_tls_security_level = encrypt) and SASL (smtp_sasl_auth_enable), and Postern,
 * which does not trust 127.0.0.1, relays only because the client authenticated.
 * A private Postfix instance: its own configuration, queue and log in a temporary
 * directory, listening on 127.0.0.1 only. Skipped without Postfix or root.
 */
class PostfixRelayInteropTest {
    @TempDir
    Path dir;

    private static int freePort(int from) throws IOException {
        for (int p = from; p < 21000; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
                return p;
            } catch (IOException busy) {
                // next
            }
        }
        throw new IOException("no free port from " + from);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    private static String reply(BufferedReader in) throws IOException {
        String line;
        StringBuilder b = new StringBuilder();
        do {
            line = in.readLine();
            b.append(line).append('\n');
        } while (line != null && line.length() > 3 && line.charAt(3) == '-');
        return b.toString().trim();
    }

    @Test
    void postfixRelaysThroughPosternWithStarttlsAndSasl() throws Exception {
        Peers.assume(new File("/usr/sbin/postfix").canExecute(), "postfix is not installed");
        Peers.assume("root".equals(System.getProperty("user.name")), "a private Postfix instance needs root");
        TestCertificates.Pem pem = TestCertificates.selfSigned(Files.createDirectory(dir.resolve("certs")));

        // Postern: TLS and AUTH, 127.0.0.1 not trusted
        List<Envelope> envelopes = new CopyOnWriteArrayList<>();
        List<String> contents = new CopyOnWriteArrayList<>();
        Config c = Config.parse(String.join("\n", "myhostname = mx.example.org", "smtpd_tls_security_level = may",
                "smtpd_tls_cert_file = " + pem.cert(), "smtpd_tls_key_file = " + pem.key(),
                "smtpd_sasl_auth_enable = yes", "smtpd_tls_auth_only = yes", "mynetworks = 192.0.2.0/24",
                "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"),
                "main.cf");
        SmtpdSettings.Builder b = org.postern.ra.SmtpdSettingsFactoryAccess.from(c, "smtpd").toBuilder();
        b.spoolDirectory = Files.createDirectory(dir.resolve("spool"));
        b.authenticator = (authzid, user, password) -> user.equals("alice") && new String(password).equals("s3cret");
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        ExecutorService blocking = Executors.newSingleThreadExecutor();
        SmtpdServer postern = new SmtpdServer("smtpd", b.build(), (envelope, content) -> {
            try {
                contents.add(new String(content.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new EnqueueException("read", e);
            }
            envelopes.add(envelope);
            return envelope.queueId();
        }, group, blocking);

        // Postfix: a private instance relaying everything to Postern
        Path pf = dir.resolve("postfix");
        Path conf = Files.createDirectories(pf.resolve("conf"));
        Path data = Files.createDirectories(pf.resolve("data"));
        Files.createDirectories(pf.resolve("queue"));
        for (Path p : List.of(dir, pf, conf, pf.resolve("queue"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setOwner(data, data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postfix"));
        boolean started = false;
        try {
            postern.start("127.0.0.1", 0);
            int submit = freePort(20950);
            String relay = "[127.0.0.1]:" + postern.port();
            Files.writeString(conf.resolve("main.cf"), String.join("\n", "compatibility_level = 3.6",
                    "queue_directory = " + pf.resolve("queue"), "data_directory = " + data,
                    "inet_interfaces = 127.0.0.1", "inet_protocols = ipv4", "myhostname = sender.example",
                    "mydestination =", "alias_maps =", "alias_database =", "local_recipient_maps =",
                    "mynetworks = 127.0.0.0/8", "maillog_file = " + pf.resolve("postfix.log"),
                    "maillog_file_prefixes = " + dir, "relayhost = " + relay, "smtp_tls_security_level = encrypt",
                    "smtp_sasl_auth_enable = yes", "smtp_sasl_password_maps = inline:{" + relay + "=alice:s3cret}",
                    "smtp_sasl_security_options = noanonymous", "smtp_sasl_tls_security_options = noanonymous",
                    ""));
            StringBuilder master = new StringBuilder("127.0.0.1:" + submit + " inet n - n - - smtpd\n");
            for (String service : List.of("pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
                    "qmgr unix n - n 300 1 qmgr", "tlsmgr unix - - n 1000? 1 tlsmgr",
                    "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce",
                    "defer unix - - n - 0 bounce", "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify",
                    "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
                    "proxywrite unix - - n - 1 proxymap", "smtp unix - - n - - smtp", "relay unix - - n - - smtp",
                    "showq unix n - n - - showq", "error unix - - n - - error", "retry unix - - n - - error",
                    "discard unix - - n - - discard", "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache",
                    "postlog unix-dgram n - n - 1 postlogd")) {
                master.append(service).append('\n');
            }
            Files.writeString(conf.resolve("master.cf"), master.toString());
            run("/usr/sbin/postfix", "-c", conf.toString(), "start");
            started = true;

            try (Socket s = new Socket("127.0.0.1", submit)) {
                s.setSoTimeout(30_000);
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.US_ASCII));
                OutputStream out = s.getOutputStream();
                assertTrue(reply(in).startsWith("220 sender.example"));
                out.write(("EHLO client.example\r\n").getBytes(StandardCharsets.US_ASCII));
                reply(in);
                out.write(("MAIL FROM:<a@sender.example>\r\nRCPT TO:<b@remote.example>\r\nDATA\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertEquals("250 2.1.0 Ok", reply(in));
                assertEquals("250 2.1.5 Ok", reply(in));
                assertTrue(reply(in).startsWith("354"));
                out.write("Subject: via Postfix\r\n\r\nrelayed with TLS and SASL\r\n.\r\nQUIT\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                assertTrue(reply(in).startsWith("250 2.0.0 Ok: queued as "));
            }
            for (int i = 0; i < 300 && envelopes.isEmpty(); i++) {
                Thread.sleep(100);
            }
            String log = Files.exists(pf.resolve("postfix.log")) ? Files.readString(pf.resolve("postfix.log")) : "";
            assertEquals(1, envelopes.size(), "nothing reached Postern; Postfix log:\n" + log);
            Envelope e = envelopes.get(0);
            assertEquals("a@sender.example", e.sender());
            assertEquals("b@remote.example", e.recipients().get(0).address());
            assertEquals("sender.example", e.helo());
            assertEquals("127.0.0.1", e.clientAddress());
            assertTrue(contents.get(0).contains(" with ESMTPSA id "), contents.get(0));
            assertTrue(contents.get(0).contains("relayed with TLS and SASL"), contents.get(0));
            for (int i = 0; i < 100 && !Files.readString(pf.resolve("postfix.log")).contains("status=sent"); i++) {
                Thread.sleep(100);
            }
            assertTrue(Files.readString(pf.resolve("postfix.log")).contains("relay=127.0.0.1[127.0.0.1]:"
                    + postern.port() + ", delay="), Files.readString(pf.resolve("postfix.log")));
        } finally {
            if (started) {
                run("/usr/sbin/postfix", "-c", conf.toString(), "stop");
            }
            postern.stop();
            blocking.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
