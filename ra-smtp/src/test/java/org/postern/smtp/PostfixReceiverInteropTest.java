package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.config.Parameters;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.OutboundMessage.OutboundRecipient;
import org.postern.smtp.jca.SmtpClientManagedConnectionFactory;

/**
 * Postfix 3.7 (Debian) as the receiving MTA: STARTTLS offered (smtpd_tls_security_level =
 * may, a self-signed certificate), SASL against a private Dovecot auth server
 * (smtpd_sasl_type = dovecot, a passwd-file), AUTH only over TLS, delivery by virtual(8)
 * to a maildir the test owns. Postern's client, through the JCA connection factory the
 * delivery agent uses, delivers with smtp_tls_security_level = encrypt and
 * smtp_sasl_auth_enable = yes. A second smtpd of the same instance does not announce
 * 8BITMIME (smtpd_discard_ehlo_keywords): 8-bit multipart mail reaches it converted to 7 bit.
 * Skipped without Postfix, Dovecot, openssl or root.
 */
class PostfixReceiverInteropTest {

    private static final String DOVECOT = "/usr/sbin/dovecot";
    private static Path dir;
    private static Process dovecot;
    private static PostfixInstance postfix;
    private static int port;
    /* a second smtpd that does not announce 8BITMIME */
    private static int port7bit;

    @BeforeAll
    static void start() throws Exception {
        PostfixInstance.assumeAvailable();
        Peers.assume(new File(DOVECOT).canExecute(), "dovecot is not installed");
        dir = Files.createTempDirectory("postfix-receiver");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process ssl;
        try {
            ssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=mx.postfix.test")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Peers.assume(false, "openssl is not available: " + e.getMessage());
            return;
        }
        ssl.getInputStream().readAllBytes();
        assertTrue(ssl.waitFor(60, TimeUnit.SECONDS) && ssl.exitValue() == 0, "openssl req failed");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

        // Dovecot: only the auth service, on a unix socket Postfix's smtpd asks
        Path dove = Files.createDirectories(dir.resolve("dovecot"));
        Files.createDirectories(dove.resolve("base"));
        Files.createDirectories(dove.resolve("state"));
        Files.writeString(dove.resolve("passwd"), "alice:{PLAIN}s3cret\n");
        Path auth = dove.resolve("auth");
        Files.writeString(dove.resolve("dovecot.conf"), String.join("\n",
                "base_dir = " + dove.resolve("base"),
                "state_dir = " + dove.resolve("state"),
                "protocols = none",
                "ssl = no",
                "log_path = " + dove.resolve("dovecot.log"),
                "disable_plaintext_auth = no",
                "auth_mechanisms = plain login",
                "passdb {",
                "  driver = passwd-file",
                "  args = " + dove.resolve("passwd"),
                "}",
                "userdb {",
                "  driver = static",
                "  args = uid=65534 gid=65534 home=/nonexistent",
                "}",
                "service auth {",
                "  unix_listener " + auth + " {",
                "    mode = 0666",
                "  }",
                "}",
                ""));
        dovecot = new ProcessBuilder(DOVECOT, "-F", "-c", dove.resolve("dovecot.conf").toString())
                .redirectErrorStream(true).redirectOutput(dove.resolve("out.log").toFile()).start();
        for (int i = 0; i < 50 && !Files.exists(auth); i++) {
            Thread.sleep(100);
        }
        Peers.assume(Files.exists(auth), "dovecot made no auth socket: " + Files.readString(dove.resolve("out.log")));

        // Postfix: virtual mailboxes for postfix.test, STARTTLS, SASL via Dovecot, AUTH only over TLS
        Path mail = Files.createDirectories(dir.resolve("mail"));
        Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
        port = PostfixInstance.freePort();
        port7bit = PostfixInstance.freePort();
        postfix = PostfixInstance.start(dir.resolve("postfix"), List.of(
                "myhostname = mx.postfix.test",
                "mynetworks = 192.0.2.0/24",
                "virtual_mailbox_domains = postfix.test",
                "virtual_mailbox_base = " + mail,
                "virtual_mailbox_maps = inline:{bob@postfix.test=bob/}",
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534",
                "smtpd_tls_security_level = may",
                "smtpd_tls_cert_file = " + cert,
                "smtpd_tls_key_file = " + key,
                "smtpd_tls_received_header = yes",
                "smtpd_tls_auth_only = yes",
                "smtpd_sasl_auth_enable = yes",
                "smtpd_sasl_type = dovecot",
                "smtpd_sasl_path = " + auth,
                "smtpd_sasl_authenticated_header = yes"),
                List.of("127.0.0.1:" + port + " inet n - n - - smtpd",
                        "127.0.0.1:" + port7bit + " inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=8bitmime"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (postfix != null) {
                postfix.close();
            }
        } finally {
            if (dovecot != null) {
                dovecot.destroy();
                dovecot.waitFor(10, TimeUnit.SECONDS);
            }
            if (dir != null && System.getProperty("keep.postfix") == null) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
                }
            }
        }
    }

    /*
     * clientSettings - the client settings from main.cf as the delivery agent reads them
     * (DeliveryAgent.settings): the smtp_* names, Postfix's defaults for the rest.
     */
    private static SmtpClientSettings clientSettings(Config c) {
        SmtpClientSettings d = SmtpClientSettings.defaults(c.get(Parameters.SMTP_HELO_NAME));
        return new SmtpClientSettings(d.heloName(), c.get(Parameters.SMTP_CONNECT_TIMEOUT),
                c.get(Parameters.SMTP_HELO_TIMEOUT), c.get(Parameters.SMTP_MAIL_TIMEOUT), c.get(Parameters.SMTP_RCPT_TIMEOUT),
                c.get(Parameters.SMTP_DATA_INIT_TIMEOUT), c.get(Parameters.SMTP_DATA_XFER_TIMEOUT),
                c.get(Parameters.SMTP_DATA_DONE_TIMEOUT), c.get(Parameters.SMTP_RSET_TIMEOUT), c.get(Parameters.SMTP_QUIT_TIMEOUT),
                c.get(Parameters.SMTP_LINE_LENGTH_LIMIT), null, null, null,
                new SmtpClientSettings.Tls(c.get(Parameters.SMTP_TLS_SECURITY_LEVEL), c.get(Parameters.SMTP_TLS_CAFILE),
                        c.get(Parameters.SMTP_TLS_CAPATH), c.get(Parameters.SMTP_TLS_VERIFY_CERT_MATCH),
                        c.get(Parameters.SMTP_STARTTLS_TIMEOUT)),
                new SmtpClientSettings.Sasl(c.get(Parameters.SMTP_SASL_AUTH_ENABLE),
                        c.get(Parameters.SMTP_SASL_PASSWORD_MAPS), c.get(Parameters.SMTP_SASL_SECURITY_OPTIONS),
                        c.get(Parameters.SMTP_SASL_TLS_SECURITY_OPTIONS), c.get(Parameters.SMTP_SASL_MECHANISM_FILTER)));
    }

    private static Config clientConfig(String relay) {
        return Config.parse(String.join("\n", "myhostname = client.postern.test",
                "smtp_tls_security_level = encrypt",
                "smtp_sasl_auth_enable = yes",
                "smtp_sasl_password_maps = inline:{" + relay + "=alice:s3cret}",
                "smtp_sasl_tls_security_options = noanonymous",
                "smtp_connect_timeout = 5s", "smtp_helo_timeout = 20s", "smtp_data_done_timeout = 20s"),
                "main.cf");
    }

    private static DeliveryOutcome deliver(String relay, OutboundMessage m) throws Exception {
        SmtpClientConnectionFactory factory = (SmtpClientConnectionFactory)
                new SmtpClientManagedConnectionFactory().createConnectionFactory();
        try (SmtpClientConnection conn = factory.getConnection(NextHop.parseSmtp(relay),
                clientSettings(clientConfig(relay)))) {
            return conn.deliver(m);
        }
    }

    private static List<Path> mailbox(String user) throws IOException {
        Path inbox = dir.resolve("mail").resolve(user).resolve("new");
        if (!Files.isDirectory(inbox)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(inbox)) {
            return s.sorted().toList();
        }
    }

    @Test
    void postfixReceivesOverStarttlsAfterSaslAuthentication() throws Exception {
        String relay = "[127.0.0.1]:" + port;
        String content = String.join("\r\n",
                "From: Sender <sender@client.postern.test>",
                "To: Bob <bob@postfix.test>",
                "Subject: over STARTTLS, after AUTH",
                "Date: Sat, 21 Nov 2026 12:00:00 +0000",
                "Message-ID: <interop-1@client.postern.test>",
                "",
                "First line.",
                ".a line that starts with a dot (dot-stuffed with DATA, as is in BDAT)",
                "..two dots",
                "",
                "Last line.",
                "");
        byte[] bytes = content.getBytes(StandardCharsets.US_ASCII);
        OutboundMessage m = new OutboundMessage("PSTNQ1", "sender@client.postern.test",
                List.of(new OutboundRecipient("bob@postfix.test", null, null)), bytes.length,
                () -> new ByteArrayInputStream(bytes), null, null, false);

        DeliveryOutcome o = deliver(relay, m);
        RecipientOutcome bob = o.recipients().get(0);
        assertEquals(Status.SENT, bob.status(), bob + "\nPostfix log:\n" + postfix.log());
        // Postfix 3.7 announces CHUNKING: the content went with BDAT, and the reply counts its octets
        assertTrue(bob.reply().startsWith("250 2.0.0 Ok: " + bytes.length + " bytes queued as "), bob.reply());
        assertEquals("127.0.0.1[127.0.0.1]:" + port, o.relay());
        assertNotNull(o.tls(), "the outcome reports the TLS session");
        assertTrue(o.tls().contains("TLS connection established to 127.0.0.1[127.0.0.1]:" + port + ": TLSv1.3"),
                o.tls());

        String queueId = queueId(bob.reply());
        String log = postfix.awaitLog(queueId + ": to=<bob@postfix.test>, relay=virtual", Duration.ofSeconds(20));
        assertTrue(log.contains(queueId + ": client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice"),
                log);
        assertTrue(log.contains("status=sent (delivered to maildir)"), log);
        assertTrue(log.contains("starttls=1 auth=1 mail=1 rcpt=1 bdat=1"), log);

        Path stored0 = storedFile(queueId);
        String stored = Files.readString(stored0, StandardCharsets.US_ASCII);
        // the message as sent, with LF line ends as virtual(8) stores it, after the headers Postfix prepends
        String sent = content.replace("\r\n", "\n");
        assertTrue(stored.endsWith(sent), stored);
        String prepended = stored.substring(0, stored.length() - sent.length());
        assertTrue(prepended.contains("Received: from client.postern.test (localhost [127.0.0.1])"), prepended);
        assertTrue(prepended.contains("(using TLSv1.3 with cipher "), prepended);
        assertTrue(prepended.contains("(Authenticated sender: alice)"), prepended);
        assertTrue(prepended.contains("by mx.postfix.test (Postfix) with ESMTPSA id " + queueId), prepended);
    }

    /* queueId - from "250 2.0.0 Ok: queued as ID" (DATA) or "250 2.0.0 Ok: N bytes queued as ID" (BDAT) */
    private static String queueId(String reply) {
        int at = reply.indexOf(" queued as ");
        assertTrue(reply.startsWith("250 2.0.0 Ok: ") && at > 0, reply);
        return reply.substring(at + " queued as ".length()).trim();
    }

    /* storedFile - the maildir file of the message Postfix queued as queueId */
    private static Path storedFile(String queueId) throws IOException {
        for (Path p : mailbox("bob")) {
            if (Files.readString(p, StandardCharsets.ISO_8859_1).contains(" id " + queueId + "\n")) {
                return p;
            }
        }
        throw new AssertionError("no message " + queueId + " in bob's maildir: " + mailbox("bob"));
    }

    @Test
    void anEightBitMultipartReachesAPostfixWithout8bitmimeAs7bitAndReadsBackTheSame() throws Exception {
        String relay = "[127.0.0.1]:" + port7bit;
        String text = "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 100 \u20ac\r\n.dot\r\nend";
        String content = "From: sender@client.postern.test\r\nTo: bob@postfix.test\r\nSubject: 8bit\r\n"
                + "Date: Sat, 21 Nov 2026 12:00:00 +0000\r\nMessage-ID: <interop-2@client.postern.test>\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b-1\"\r\n\r\n"
                + "--b-1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + text + "\r\n--b-1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + "AAECAwQFBgcICQ==\r\n--b-1--\r\n";
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        OutboundMessage m = new OutboundMessage("PSTNQ2", "sender@client.postern.test",
                List.of(new OutboundRecipient("bob@postfix.test", null, null)), bytes.length,
                () -> new ByteArrayInputStream(bytes), null, null, true);
        DeliveryOutcome o = deliver(relay, m);
        RecipientOutcome bob = o.recipients().get(0);
        assertEquals(Status.SENT, bob.status(), bob + "\nPostfix log:\n" + postfix.log());
        String queueId = queueId(bob.reply());
        postfix.awaitLog(queueId + ": to=<bob@postfix.test>, relay=virtual", Duration.ofSeconds(20));

        byte[] stored = Files.readAllBytes(storedFile(queueId));
        for (byte b : stored) {
            assertTrue(b >= 0, "Postfix stored 7-bit mail only");
        }
        jakarta.mail.internet.MimeMessage parsed = new jakarta.mail.internet.MimeMessage(
                jakarta.mail.Session.getInstance(new java.util.Properties()), new ByteArrayInputStream(stored));
        jakarta.mail.Multipart mp = (jakarta.mail.Multipart) parsed.getContent();
        assertEquals(text.replace("\r\n", "\n"), mp.getBodyPart(0).getContent(), "virtual(8) stores LF line ends");
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, mp.getBodyPart(1).getInputStream().readAllBytes());
    }
}
