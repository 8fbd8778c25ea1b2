package org.postern.smtpd;

import org.postern.test.SmtpReplies;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;

/** STARTTLS and implicit TLS over real sockets on 127.0.0.1, with a JDK SSLSocket client and swaks. */
class SmtpdTlsTest {
    @TempDir
    static Path certs;
    static TestCertificates.Pem pem;

    @TempDir
    Path spool;

    private NioEventLoopGroup group;
    private ExecutorService blocking;
    private SmtpdServer server;
    private final List<String> contents = new CopyOnWriteArrayList<>();
    private final SmtpdListener listener = (envelope, content) -> {
        try {
            contents.add(new String(content.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new EnqueueException("read", e);
        }
        return envelope.queueId();
    };

    @BeforeAll
    static void certificate() throws Exception {
        pem = TestCertificates.selfSigned(certs);
    }

    @BeforeEach
    void setUp() {
        group = new NioEventLoopGroup(2);
        blocking = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (server != null) {
            server.stop();
        }
        blocking.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private SmtpdAuthenticator authenticator;

    /** startWith - a server from exactly these main.cf lines (no PEM files), built as the adapter builds it. */
    private void startWith(String... mainCf) throws IOException {
        Config c = Config.parse("myhostname = mx.example.org\n" + String.join("\n", mainCf), "main.cf");
        SmtpdSettings.Builder b = org.postern.ra.SmtpdSettingsFactoryAccess.from(c, "smtpd").toBuilder();
        b.spoolDirectory = spool;
        server = new SmtpdServer("smtpd", b.build(), listener, group, blocking);
        server.start("127.0.0.1", 0);
    }

    /** keytool - a PKCS#12 store with two self-signed keys, as WildFly's key-manager makes one. */
    private static Path keyStore(Path dir) throws Exception {
        Path store = dir.resolve("smtpd.p12");
        for (String[] entry : new String[][] {{"web", "CN=www.example.org"}, {"mail", "CN=mail.example.org"}}) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "s3cret",
                    "-alias", entry[0], "-dname", entry[1], "-keyalg", "RSA", "-keysize", "2048", "-validity", "2")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        }
        return store;
    }

    @Test
    void aJavaKeyStoreServesStarttlsWithTheNamedKey() throws Exception {
        Path store = keyStore(spool);
        startWith("smtpd_tls_security_level = may", "smtpd_tls_keystore_file = " + store,
                "smtpd_tls_keystore_password = s3cret", "smtpd_tls_keystore_alias = mail");
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(),
                    StandardCharsets.US_ASCII));
            SmtpReplies.read(in);
            write(plain.getOutputStream(), "EHLO client.example\r\nSTARTTLS\r\n");
            assertTrue(SmtpReplies.read(in).contains("250-STARTTLS"));
            assertEquals("220 2.0.0 Ready to start TLS", SmtpReplies.read(in));
            SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory()
                    .createSocket(plain, "mx.example.org", server.port(), true);
            tls.startHandshake();
            java.security.cert.X509Certificate peer =
                    (java.security.cert.X509Certificate) tls.getSession().getPeerCertificates()[0];
            assertEquals("CN=mail.example.org", peer.getSubjectX500Principal().getName());
        }
    }

    @Test
    void aKeyStoreThatCannotServeFailsTheStartWithTheReason() throws Exception {
        Path store = keyStore(spool);
        org.postern.config.ConfigException twoKeys = org.junit.jupiter.api.Assertions.assertThrows(
                org.postern.config.ConfigException.class, () -> startWith("smtpd_tls_security_level = may",
                        "smtpd_tls_keystore_file = " + store, "smtpd_tls_keystore_password = s3cret"));
        assertTrue(twoKeys.getMessage().contains("2 private keys"), twoKeys.getMessage());
        org.postern.config.ConfigException badPassword = org.junit.jupiter.api.Assertions.assertThrows(
                org.postern.config.ConfigException.class, () -> startWith("smtpd_tls_security_level = may",
                        "smtpd_tls_keystore_file = " + store, "smtpd_tls_keystore_password = wrong",
                        "smtpd_tls_keystore_alias = mail"));
        assertTrue(badPassword.getMessage().contains("cannot load key store"), badPassword.getMessage());
        assertTrue(badPassword.getMessage().contains("smtpd_tls_keystore_file"), badPassword.getMessage());
    }

    /** start - a server from main.cf lines, built as the adapter builds it. */
    private void start(String... mainCf) throws IOException {
        Config c = Config.parse("myhostname = mx.example.org\nsmtpd_tls_cert_file = " + pem.cert()
                + "\nsmtpd_tls_key_file = " + pem.key() + "\n" + String.join("\n", mainCf), "main.cf");
        SmtpdSettings.Builder b = org.postern.ra.SmtpdSettingsFactoryAccess.from(c, "smtpd").toBuilder();
        b.spoolDirectory = spool;
        b.authenticator = authenticator;
        server = new SmtpdServer("smtpd", b.build(), listener, group, blocking);
        server.start("127.0.0.1", 0);
    }


    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Test
    void starttlsDiscardsPipelinedPlaintext() throws Exception {
        start("smtpd_tls_security_level = may");
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(),
                    StandardCharsets.US_ASCII));
            assertEquals("220 mx.example.org ESMTP Postern", SmtpReplies.read(in));
            write(plain.getOutputStream(), "EHLO client.example\r\n");
            assertTrue(SmtpReplies.read(in).contains("250-STARTTLS"));
            // the attack: a command injected after STARTTLS in the same segment
            write(plain.getOutputStream(), "STARTTLS\r\nRSET\r\n");
            assertEquals("220 2.0.0 Ready to start TLS", SmtpReplies.read(in));
            assertFalse(in.ready(), "nothing after the 220 in plaintext");
            SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory()
                    .createSocket(plain, "mx.example.org", server.port(), true);
            tls.startHandshake();
            BufferedReader tin = new BufferedReader(new InputStreamReader(tls.getInputStream(),
                    StandardCharsets.US_ASCII));
            OutputStream tout = tls.getOutputStream();
            write(tout, "EHLO client.example\r\n");
            // had the RSET been processed, its "250 2.0.0 Ok" would come first
            String ehlo = SmtpReplies.read(tin);
            assertTrue(ehlo.startsWith("250-mx.example.org\n250-PIPELINING"), ehlo);
            assertFalse(ehlo.contains("STARTTLS"), ehlo);
            write(tout, "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
            assertEquals("250 2.1.0 Ok", SmtpReplies.read(tin));
            assertEquals("250 2.1.5 Ok", SmtpReplies.read(tin));
            assertEquals("354 End data with <CR><LF>.<CR><LF>", SmtpReplies.read(tin));
            write(tout, "Subject: tls\r\n\r\nsecret\r\n.\r\nQUIT\r\n");
            assertTrue(SmtpReplies.read(tin).startsWith("250 2.0.0 Ok: queued as "));
            assertEquals("221 2.0.0 Bye", SmtpReplies.read(tin));
        }
        assertTrue(contents.get(0).contains(" with ESMTPS id "), contents.get(0));
    }

    @Test
    void plaintextAfterTheReadyReplyBreaksTheHandshakeNotTheServer() throws Exception {
        start("smtpd_tls_security_level = may");
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(),
                    StandardCharsets.US_ASCII));
            SmtpReplies.read(in);
            write(plain.getOutputStream(), "STARTTLS\r\n");
            assertEquals("220 2.0.0 Ready to start TLS", SmtpReplies.read(in));
            write(plain.getOutputStream(), "RSET\r\nMAIL FROM:<injected@example.com>\r\n");
            String next;
            try {
                next = in.readLine();
            } catch (SocketException e) {
                next = null; // reset by the server: as good as a close
            }
            assertTrue(next == null || !next.startsWith("250"), "plaintext command answered: " + next);
        }
        // and the server still serves others
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            assertEquals("220 mx.example.org ESMTP Postern", SmtpReplies.read(in));
        }
    }

    @Test
    void encryptLevelRequiresStarttls() throws Exception {
        start("smtpd_tls_security_level = encrypt");
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(),
                    StandardCharsets.US_ASCII));
            SmtpReplies.read(in);
            write(plain.getOutputStream(), "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n");
            SmtpReplies.read(in);
            assertEquals("530 5.7.0 Must issue a STARTTLS command first", SmtpReplies.read(in));
        }
    }

    @Test
    void wrapperModeIsTlsFromTheFirstByte() throws Exception {
        start("smtpd_tls_wrappermode = yes");
        try (SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory()
                .createSocket("127.0.0.1", server.port())) {
            tls.setSoTimeout(10_000);
            tls.startHandshake();
            BufferedReader in = new BufferedReader(new InputStreamReader(tls.getInputStream(),
                    StandardCharsets.US_ASCII));
            assertEquals("220 mx.example.org ESMTP Postern", SmtpReplies.read(in));
            write(tls.getOutputStream(), "EHLO client.example\r\n");
            assertFalse(SmtpReplies.read(in).contains("STARTTLS"));
            write(tls.getOutputStream(), "STARTTLS\r\nQUIT\r\n");
            assertEquals("554 5.5.1 Error: TLS already active", SmtpReplies.read(in));
            assertEquals("221 2.0.0 Bye", SmtpReplies.read(in));
        }
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.setSoTimeout(10_000);
            write(plain.getOutputStream(), "EHLO client.example\r\n");
            int b;
            try {
                b = plain.getInputStream().read();
            } catch (SocketException e) {
                b = -1;
            }
            assertTrue(b == -1 || b == 0x15, "a plaintext client gets no SMTP reply, got byte " + b);
        }
    }

    @Test
    void swaksWithStarttls() throws Exception {
        start("smtpd_tls_security_level = may");
        Process p;
        try {
            p = new ProcessBuilder("swaks", "--server", "127.0.0.1:" + server.port(), "--tls", "--from",
                    "a@example.com", "--to", "b@example.org", "--helo", "client.example", "--pipeline",
                    "--body", "hello over TLS").redirectErrorStream(true).start();
        } catch (IOException e) {
            Peers.abort("swaks is not installed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("<-  220 2.0.0 Ready to start TLS"), out);
        assertTrue(out.contains("=== TLS started with cipher"), out);
        assertTrue(out.contains("<~  250 2.0.0 Ok: queued as "), out);
        assertTrue(contents.get(0).contains("hello over TLS"));
    }

    @Test
    void swaksAuthPlainAndLoginOverStarttls() throws Exception {
        authenticator = (authzid, user, password) -> user.equals("alice") && new String(password).equals("s3cret");
        start("smtpd_tls_security_level = may", "smtpd_sasl_auth_enable = yes", "smtpd_tls_auth_only = yes",
                "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination",
                "mynetworks = 192.0.2.0/24");
        for (String mechanism : List.of("PLAIN", "LOGIN")) {
            Process p;
            try {
                p = new ProcessBuilder("swaks", "--server", "127.0.0.1:" + server.port(), "--tls", "--auth",
                        mechanism, "--auth-user", "alice", "--auth-password", "s3cret", "--from", "alice@example.com",
                        "--to", "someone@other.example", "--helo", "client.example", "--body", "relayed")
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                Peers.abort("swaks is not installed: " + e.getMessage());
                return;
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("~> AUTH " + mechanism), out);
            assertTrue(out.contains("<~  235 2.7.0 Authentication successful"), out);
            assertTrue(out.contains("<~  250 2.1.5 Ok"), out);
        }
        assertEquals(2, contents.size());
        assertTrue(contents.get(0).contains(" with ESMTPSA id "), contents.get(0));
    }

    @Test
    void pythonSmtplibWithStarttlsAndSmtputf8() throws Exception {
        start("smtpd_tls_security_level = encrypt");
        String script = String.join("\n",
                "import smtplib, ssl, sys",
                "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=20)",
                "s.starttls(context=ssl._create_unverified_context())",
                "s.ehlo('client.example')",
                "assert s.has_extn('smtputf8') and s.has_extn('pipelining') and not s.has_extn('starttls')",
                "msg = 'Subject: gr\u00fc\u00dfe\\r\\n\\r\\nk\u00f6rper\\r\\n'.encode('utf-8')",
                "s.sendmail('j\u00f6rg@example.com', ['m\u00fcller@mx.example.org'], msg, mail_options=['SMTPUTF8'])",
                "s.quit()",
                "print('sent')");
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", script, String.valueOf(server.port())).redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            Peers.abort("python3 is not installed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("sent"), out);
        assertTrue(contents.get(0).contains("with ESMTPS id "), contents.get(0));
        assertTrue(contents.get(0).contains("k\u00f6rper"), contents.get(0));
        assertTrue(contents.get(0).contains("for <m\u00fcller@mx.example.org>"), contents.get(0));
    }

    @Test
    void missingCertificateFailsTheStart() {
        Config c = Config.parse("myhostname = mx.example.org\nsmtpd_tls_security_level = may", "main.cf");
        org.postern.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.postern.config.ConfigException.class, () -> org.postern.ra.SmtpdSettingsFactoryAccess.from(c, "smtpd"));
        assertTrue(e.getMessage().contains("smtpd_tls_cert_file"), e.getMessage());
        assertNull(org.postern.ra.SmtpdSettingsFactoryAccess.from(Config.parse("myhostname = h.example", "main.cf"),
                "smtpd").security().sslContext());
    }
}
