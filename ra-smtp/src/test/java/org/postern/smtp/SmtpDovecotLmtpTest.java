package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;

/**
 * Interop with Dovecot's LMTP server over TCP and over a unix-domain socket, with a mailbox
 * over quota: a per-recipient failure after the content while the other recipient
 * succeeds. Dovecot announces CHUNKING: the content goes with BDAT and the per-recipient
 * replies follow BDAT LAST (RFC 3030 with RFC 2033); lmtp_discard_lhlo_keywords = chunking
 * brings DATA back (skipped when dovecot is absent or not run as root; a failure under CI).
 */
class SmtpDovecotLmtpTest {

    private static final String DOVECOT = "/usr/sbin/dovecot";
    private static Path dir;
    private static Process dovecot;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        Peers.assume(new File(DOVECOT).canExecute(), "dovecot is not installed");
        Peers.assume("root".equals(System.getProperty("user.name")), "dovecot -F with its own config needs root here");
        dir = Files.createTempDirectory("dovecot-lmtp");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path mail = Files.createDirectory(dir.resolve("mail"));
        Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.createDirectory(dir.resolve("base"));
        Files.createDirectory(dir.resolve("state"));
        Files.writeString(dir.resolve("users"), "alice:{PLAIN}x:65534:65534::" + mail.resolve("alice") + "::\n");
        Files.writeString(dir.resolve("full"), "full:{PLAIN}x:65534:65534::" + mail.resolve("full") + "::\n");
        port = 21700 + new Random().nextInt(100);
        Files.writeString(dir.resolve("dovecot.conf"), String.join("\n",
                "base_dir = " + dir.resolve("base"),
                "state_dir = " + dir.resolve("state"),
                "protocols = lmtp",
                "ssl = no",
                "log_path = " + dir.resolve("dovecot.log"),
                "mail_location = maildir:" + mail + "/%n",
                "auth_username_format = %n",
                "mail_plugins = quota",
                "plugin {",
                "  quota = maildir:User quota",
                "  quota_rule = *:storage=10M",
                "}",
                // the user "full" may store 1 kB: every message of 2 kB to it is over quota
                "userdb {",
                "  driver = passwd-file",
                "  args = " + dir.resolve("full"),
                "  override_fields = quota_rule=*:storage=1",
                "}",
                "userdb {",
                "  driver = passwd-file",
                "  args = " + dir.resolve("users"),
                "}",
                "passdb {",
                "  driver = static",
                "  args = nopassword=y",
                "}",
                "service lmtp {",
                "  inet_listener lmtp {",
                "    address = 127.0.0.1",
                "    port = " + port,
                "  }",
                "  unix_listener lmtp-test {",
                "    mode = 0666",
                "  }",
                "}",
                "protocol lmtp {",
                "  mail_plugins = quota",
                "}",
                ""));
        dovecot = new ProcessBuilder(DOVECOT, "-F", "-c", dir.resolve("dovecot.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
        boolean up = false;
        for (int i = 0; i < 50 && !up; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                up = true;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        Peers.assume(up, "dovecot did not listen on " + port + ": " + Files.readString(dir.resolve("out.log")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (dovecot != null) {
            dovecot.destroy();
            dovecot.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null && System.getProperty("keep.dovecot") == null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private static long delivered(String user) throws IOException {
        Path inbox = dir.resolve("mail").resolve(user).resolve("new");
        if (!Files.isDirectory(inbox)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(inbox)) {
            return s.count();
        }
    }

    private static void check(DeliveryOutcome o) {
        check(o, "BDAT LAST command");
    }

    private static void check(DeliveryOutcome o, String inReplyTo) {
        RecipientOutcome alice = o.recipients().get(0);
        RecipientOutcome full = o.recipients().get(1);
        assertEquals(Status.SENT, alice.status(), alice.toString());
        assertTrue(alice.reply().startsWith("250 2.0.0 <alice@lmtp.test>"), alice.reply());
        assertEquals(Status.BOUNCED, full.status(), full.toString());
        assertEquals("5.2.2", full.dsn());
        assertTrue(full.reply().endsWith("(in reply to " + inReplyTo + ")"), full.reply());
    }

    @Test
    void overTcpOneMailboxOverQuotaFailsAloneAfterData() throws Exception {
        long before = delivered("alice");
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", port),
                fast().withSession(SmtpClientSettings.Session.defaults(true)))) {
            check(s.deliver(message("Subject: quota\r\n\r\n" + "z".repeat(2000) + "\r\n", "alice@lmtp.test", "full@lmtp.test")));
            // the session is cached and reused for a second transaction (no RSET: the first one completed)
            check(s.deliver(message("Subject: again\r\n\r\n" + "z".repeat(2000) + "\r\n", "alice@lmtp.test",
                    "full@lmtp.test")));
            assertEquals(1, s.connectionsOpened());
        }
        assertEquals(before + 2, delivered("alice"));
        assertEquals(0, delivered("full"));
    }

    @Test
    void overAUnixDomainSocket() throws Exception {
        long before = delivered("alice");
        Path socket = dir.resolve("base").resolve("lmtp-test");
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpUnix(socket.toString()),
                fast().withSession(SmtpClientSettings.Session.defaults(true)))) {
            DeliveryOutcome o = s.deliver(message("Subject: unix\r\n\r\n" + "z".repeat(2000) + "\r\n",
                    "alice@lmtp.test", "full@lmtp.test"));
            check(o);
            // Postfix's lmtp writes relay=host[/path/to/socket]
            assertTrue(o.relay().endsWith("[" + socket + "]"), o.relay());
        }
        assertEquals(before + 1, delivered("alice"));
    }

    @Test
    void withoutTheChunkingKeywordTheContentGoesWithData() throws Exception {
        long before = delivered("alice");
        SmtpClientSettings.Session noChunking = new SmtpClientSettings.Session(true, true, false, false, true,
                List.of("chunking"), "", "", true);
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", port),
                fast().withSession(noChunking))) {
            check(s.deliver(message("Subject: data\r\n\r\n" + "z".repeat(2000) + "\r\n", "alice@lmtp.test",
                    "full@lmtp.test")), "end of DATA command");
        }
        assertEquals(before + 1, delivered("alice"));
    }

    @Test
    void aLargeMessageInSeveralChunksIsStoredAsSent() throws Exception {
        StringBuilder b = new StringBuilder("Subject: chunks\r\nMessage-ID: <chunks@lmtp.test>\r\n\r\n");
        for (int i = 0; b.length() < 200_000; i++) {
            b.append(i % 3 == 0 ? "." : "").append("line ").append(i).append(" of a message in BDAT chunks\r\n");
        }
        String content = b.toString();
        try (SmtpClientSession s = new SmtpClientSession(NextHop.lmtpInet("127.0.0.1", port),
                fast().withSession(SmtpClientSettings.Session.defaults(true)))) {
            RecipientOutcome r = s.deliver(message(content, "alice@lmtp.test")).recipients().get(0);
            assertEquals(Status.SENT, r.status(), r.toString());
        }
        Path inbox = dir.resolve("mail").resolve("alice").resolve("new");
        String stored = null;
        try (Stream<Path> files = Files.list(inbox)) {
            for (Path p : files.toList()) {
                String text = Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1);
                if (text.contains("Message-ID: <chunks@lmtp.test>")) {
                    stored = text;
                }
            }
        }
        assertTrue(stored != null, "no message in " + inbox);
        // Dovecot stores LF line ends after its own Return-Path and Received; the lines that start with "." kept one
        String expected = content.replace("\r\n", "\n");
        assertTrue(stored.endsWith(expected.substring(expected.indexOf("Subject: chunks"))),
                "stored copy differs from the message sent");
    }
}
