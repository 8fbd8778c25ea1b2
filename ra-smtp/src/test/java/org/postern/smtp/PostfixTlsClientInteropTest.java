package org.postern.smtp;

import org.postern.config.Config;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.jca.SmtpClientManagedConnectionFactory;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client's TLS parameters against a real Postfix 3.7 (Debian): the Postfix 2.2 names
 * (smtp_use_tls, smtp_enforce_tls, smtp_tls_enforce_peername, smtp_tls_per_site) mapped onto
 * the security levels, client certificates that Postfix's smtpd asks for and verifies, the
 * protocol and logging controls. The client settings are made from main.cf text by
 * {@link SmtpClientParameters} - the path the delivery agent takes - and delivered through
 * the JCA connection factory.
 *
 * <p>Three smtpd services of one instance: "tls" offers STARTTLS (a self-signed server
 * certificate), "clear" offers none, "ccert" requires TLS and a client certificate issued by
 * the test's own CA (smtpd_tls_req_ccert). Postfix's mail log says what it saw.
 */
class PostfixTlsClientInteropTest {

    private static Path dir;
    private static PostfixInstance postfix;
    private static int tlsPort;
    private static int clearPort;
    private static int ccertPort;
    private static Path serverCert;
    private static Path clientCert;
    private static Path clientKey;
    private static Path clientKeyPkcs1;
    private static Path strangerCert;
    private static Path strangerKey;
    private static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        PostfixInstance.assumeAvailable();
        Peers.assume(canRun("openssl", "version"), "openssl is not available");
        dir = Files.createTempDirectory("postfix-tls-client");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        serverCert = dir.resolve("server.pem");
        Path serverKey = dir.resolve("server.key");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", serverKey.toString(), "-out",
                serverCert.toString(), "-days", "2", "-subj", "/CN=mx.postfix.test");
        // the test's CA and a client certificate it signs
        Path caKey = dir.resolve("ca.key");
        Path caCert = dir.resolve("ca.pem");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.toString(), "-out", caCert.toString(),
                "-days", "2", "-subj", "/CN=Postern Test CA");
        clientKey = dir.resolve("client.key");
        Path csr = dir.resolve("client.csr");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", clientKey.toString(), "-out", csr.toString(),
                "-subj", "/CN=client.postern.test");
        clientCert = dir.resolve("client.pem");
        openssl("x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", clientCert.toString(), "-days", "2");
        clientKeyPkcs1 = dir.resolve("client-pkcs1.key");
        openssl("rsa", "-in", clientKey.toString(), "-traditional", "-out", clientKeyPkcs1.toString());
        // a certificate the CA did not sign
        strangerKey = dir.resolve("stranger.key");
        strangerCert = dir.resolve("stranger.pem");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", strangerKey.toString(), "-out",
                strangerCert.toString(), "-days", "2", "-subj", "/CN=stranger.postern.test");
        for (Path p : List.of(serverKey, caKey, clientKey, clientKeyPkcs1, strangerKey)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        }
        tlsPort = PostfixInstance.freePort();
        clearPort = PostfixInstance.freePort();
        ccertPort = PostfixInstance.freePort();
        postfix = PostfixInstance.start(dir.resolve("postfix"), List.of(
                "myhostname = mx.postfix.test",
                "mynetworks = 127.0.0.0/8",
                "relay_domains =",
                "smtpd_recipient_restrictions = permit_mynetworks, reject",
                "smtpd_tls_security_level = may",
                "smtpd_tls_cert_file = " + serverCert,
                "smtpd_tls_key_file = " + serverKey,
                "smtpd_tls_CAfile = " + caCert,
                "smtpd_tls_loglevel = 1",
                "smtpd_tls_received_header = yes",
                // accepted and discarded: the tests read what smtpd logged
                "default_transport = discard:",
                "virtual_transport = discard:"),
                List.of("127.0.0.1:" + tlsPort + " inet n - n - - smtpd",
                        "127.0.0.1:" + clearPort + " inet n - n - - smtpd -o smtpd_tls_security_level=none",
                        "127.0.0.1:" + ccertPort + " inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"
                                + " -o smtpd_tls_ask_ccert=yes -o smtpd_tls_req_ccert=yes -o smtpd_tls_loglevel=2"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (postfix != null) {
                postfix.close();
            }
        } finally {
            if (dir != null && System.getProperty("keep.postfix") == null) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
                }
            }
        }
    }

    private static boolean canRun(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, cmd + ": " + out);
    }

    /* deliver - one message to [127.0.0.1]:port with the client settings of these main.cf lines */
    private static Delivery deliver(int port, String... mainCf) throws Exception {
        List<String> lines = new ArrayList<>(List.of("myhostname = client.postern.test", "smtp_connect_timeout = 5s",
                "smtp_helo_timeout = 20s", "smtp_starttls_timeout = 20s"));
        lines.addAll(List.of(mainCf));
        Config c = Config.parse(String.join("\n", lines), "main.cf");
        NextHop hop = NextHop.parseSmtp("[127.0.0.1]:" + port);
        String subject = "tls-" + SEQ.incrementAndGet();
        String content = "From: <sender@client.postern.test>\r\nTo: <rcpt@example.net>\r\nSubject: " + subject
                + "\r\n\r\nbody\r\n";
        SmtpClientConnectionFactory factory = (SmtpClientConnectionFactory)
                new SmtpClientManagedConnectionFactory().createConnectionFactory();
        Capture maillog = Capture.on("postern.maillog.smtp");
        try (SmtpClientConnection conn = factory.getConnection(hop, SmtpClientParameters.SMTP.settings(c, hop))) {
            DeliveryOutcome o = conn.deliver(SmtpTestSupport.message(content, "rcpt@example.net"));
            return new Delivery(o, o.recipients().get(0), maillog.lines());
        } finally {
            maillog.close();
        }
    }

    private record Delivery(DeliveryOutcome outcome, RecipientOutcome rcpt, List<String> maillog) {
        /** queueId - Postfix's queue id from its 250 reply */
        String queueId() {
            String r = rcpt.reply();
            return r.substring(r.indexOf("queued as ") + 10).trim();
        }
    }

    /* Capture - the records of one logger while a delivery runs */
    private static final class Capture extends Handler {
        private final Logger logger;
        private final List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();

        private Capture(Logger logger) {
            this.logger = logger;
        }

        static Capture on(String name) {
            Capture c = new Capture(Logger.getLogger(name));
            c.logger.addHandler(c);
            return c;
        }

        List<String> lines() {
            return List.copyOf(lines);
        }

        @Override
        public void publish(LogRecord r) {
            lines.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    /* postfixSaw - Postfix's log lines of the smtpd session that queued this id */
    private static String postfixSaw(String queueId) throws Exception {
        return postfix.awaitLog(queueId + ": from=<sender@client.test>", Duration.ofSeconds(20));
    }

    @Test
    void smtpUseTlsWithAnEmptySecurityLevelEncryptsWhereTheServerOffersStarttls() throws Exception {
        Delivery d = deliver(tlsPort, "smtp_use_tls = yes");
        assertEquals(Status.SENT, d.rcpt().status(), d.rcpt() + "\n" + postfix.log());
        assertTrue(d.outcome().tls() != null && d.outcome().tls().startsWith("Untrusted TLS connection established to "
                + "127.0.0.1[127.0.0.1]:" + tlsPort), String.valueOf(d.outcome().tls()));
        String log = postfixSaw(d.queueId());
        assertTrue(log.contains("Anonymous TLS connection established from localhost[127.0.0.1]"), log);
        // and where the server offers none, smtp_use_tls sends in the clear, as Postfix's may does
        Delivery clear = deliver(clearPort, "smtp_use_tls = yes");
        assertEquals(Status.SENT, clear.rcpt().status(), clear.rcpt().toString());
        assertNull(clear.outcome().tls());
    }

    @Test
    void smtpEnforceTlsNeverSendsInTheClear() throws Exception {
        String before = postfix.log();
        Delivery d = deliver(clearPort, "smtp_enforce_tls = yes", "smtp_tls_enforce_peername = no");
        assertEquals(Status.DEFERRED, d.rcpt().status(), d.rcpt().toString());
        assertEquals("4.7.4", d.rcpt().dsn());
        assertTrue(d.rcpt().reply().contains("TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]"),
                d.rcpt().reply());
        String after = postfix.log().substring(before.length());
        assertFalse(after.contains("from=<sender@client.test>"), "no MAIL FROM reached Postfix: " + after);
        // enforce_tls with enforce_peername = no is encrypt: an untrusted certificate is enough
        Delivery enc = deliver(tlsPort, "smtp_enforce_tls = yes", "smtp_tls_enforce_peername = no");
        assertEquals(Status.SENT, enc.rcpt().status(), enc.rcpt().toString());
        assertTrue(enc.outcome().tls().startsWith("Untrusted TLS connection established"), enc.outcome().tls());
    }

    @Test
    void smtpEnforceTlsWithPeernameVerifiesTheCertificateAndItsName() throws Exception {
        // enforce_tls alone is verify: the self-signed server certificate is not trusted
        Delivery untrusted = deliver(tlsPort, "smtp_enforce_tls = yes");
        assertEquals(Status.DEFERRED, untrusted.rcpt().status(), untrusted.rcpt().toString());
        assertTrue(untrusted.rcpt().reply().contains("Server certificate not trusted"), untrusted.rcpt().reply());
        // trusted through smtp_tls_CAfile, but it names mx.postfix.test, not the server 127.0.0.1
        Delivery unmatched = deliver(tlsPort, "smtp_enforce_tls = yes", "smtp_tls_CAfile = " + serverCert);
        assertEquals(Status.DEFERRED, unmatched.rcpt().status(), unmatched.rcpt().toString());
        assertTrue(unmatched.rcpt().reply().contains("Server certificate not verified"), unmatched.rcpt().reply());
        // a security level, when set, wins over the Postfix 2.2 names
        Delivery level = deliver(tlsPort, "smtp_enforce_tls = yes", "smtp_tls_security_level = may");
        assertEquals(Status.SENT, level.rcpt().status(), level.rcpt().toString());
    }

    @Test
    void smtpTlsPerSiteActionsByNextHopAndByServerName() throws Exception {
        // MUST_NOPEERMATCH for the next hop: encrypt, so no delivery to a server without STARTTLS
        Delivery must = deliver(clearPort, "smtp_tls_per_site = inline:{127.0.0.1=MUST_NOPEERMATCH}");
        assertEquals(Status.DEFERRED, must.rcpt().status(), must.rcpt().toString());
        assertEquals("4.7.4", must.rcpt().dsn());
        // MUST: verify, the self-signed certificate fails
        Delivery verify = deliver(tlsPort, "smtp_use_tls = yes", "smtp_tls_per_site = inline:{127.0.0.1=MUST}");
        assertEquals(Status.DEFERRED, verify.rcpt().status(), verify.rcpt().toString());
        assertTrue(verify.rcpt().reply().contains("Server certificate not trusted"), verify.rcpt().reply());
        // NONE overrides a global may: the mail goes in the clear although the server offers STARTTLS
        Delivery none = deliver(tlsPort, "smtp_tls_security_level = may", "smtp_tls_per_site = inline:{127.0.0.1=NONE}");
        assertEquals(Status.SENT, none.rcpt().status(), none.rcpt().toString());
        assertNull(none.outcome().tls());
        // a site's own entry overrides even a global encrypt (TLS_README: "per-site policies consistently
        // override global policies"); only a MAY gives way to a stronger global level
        Delivery site = deliver(clearPort, "smtp_tls_security_level = encrypt",
                "smtp_tls_per_site = inline:{127.0.0.1=NONE}");
        assertEquals(Status.SENT, site.rcpt().status(), site.rcpt().toString());
        Delivery may = deliver(clearPort, "smtp_tls_security_level = encrypt",
                "smtp_tls_per_site = inline:{127.0.0.1=MAY}");
        assertEquals(Status.DEFERRED, may.rcpt().status(), may.rcpt().toString());
        // an action Postfix does not know defers the mail
        Delivery odd = deliver(tlsPort, "smtp_tls_per_site = inline:{127.0.0.1=SOMETIMES}");
        assertEquals(Status.DEFERRED, odd.rcpt().status(), odd.rcpt().toString());
        assertTrue(odd.rcpt().reply().contains("client TLS configuration problem"), odd.rcpt().reply());
        // smtp_tls_policy_maps wins over smtp_tls_per_site
        Delivery policy = deliver(clearPort, "smtp_tls_per_site = inline:{127.0.0.1=MUST}",
                "smtp_tls_policy_maps = inline:{[127.0.0.1]:" + clearPort + "=may}");
        assertEquals(Status.SENT, policy.rcpt().status(), policy.rcpt().toString());
    }

    @Test
    void aPolicyLevelPosternDoesNotImplementDefersInsteadOfSendingInTheClear() throws Exception {
        Delivery d = deliver(clearPort, "smtp_tls_policy_maps = inline:{[127.0.0.1]:" + clearPort + "=dane-only}");
        assertEquals(Status.DEFERRED, d.rcpt().status(), d.rcpt().toString());
        assertEquals("4.7.0", d.rcpt().dsn());
        assertTrue(d.rcpt().reply().contains("client TLS configuration problem"), d.rcpt().reply());
    }

    @Test
    void postfixThatRequiresAClientCertificateGetsOursAndVerifiesIt() throws Exception {
        // without a certificate Postfix refuses the session (smtpd_tls_req_ccert)
        Delivery without = deliver(ccertPort, "smtp_tls_security_level = encrypt");
        assertEquals(Status.DEFERRED, without.rcpt().status(), without.rcpt().toString());

        Delivery with = deliver(ccertPort, "smtp_tls_security_level = encrypt", "smtp_tls_cert_file = " + clientCert,
                "smtp_tls_key_file = " + clientKey);
        assertEquals(Status.SENT, with.rcpt().status(), with.rcpt() + "\n" + postfix.log());
        String log = postfixSaw(with.queueId());
        assertTrue(log.contains("Trusted TLS connection established from localhost[127.0.0.1]"), log);
        assertTrue(log.contains("subject_CN=client.postern.test, issuer=Postern Test CA"), log);

        // the same key in PKCS#1 ("BEGIN RSA PRIVATE KEY"), as older OpenSSL writes it
        Delivery pkcs1 = deliver(ccertPort, "smtp_tls_security_level = encrypt", "smtp_tls_cert_file = " + clientCert,
                "smtp_tls_key_file = " + clientKeyPkcs1);
        assertEquals(Status.SENT, pkcs1.rcpt().status(), pkcs1.rcpt().toString());

        // a certificate from another issuer is not what Postfix asked for
        Delivery stranger = deliver(ccertPort, "smtp_tls_security_level = encrypt",
                "smtp_tls_cert_file = " + strangerCert, "smtp_tls_key_file = " + strangerKey);
        assertEquals(Status.DEFERRED, stranger.rcpt().status(), stranger.rcpt().toString());
    }

    @Test
    void tlsLoglevelAndStarttlsOfferNotesGoToTheMailLog() throws Exception {
        Delivery two = deliver(tlsPort, "smtp_tls_security_level = may", "smtp_tls_loglevel = 2");
        assertEquals(Status.SENT, two.rcpt().status(), two.rcpt().toString());
        String line = two.maillog().stream().filter(l -> l.contains("subject_CN=")).findFirst().orElse("");
        assertTrue(line.startsWith("127.0.0.1[127.0.0.1]:" + tlsPort + ": subject_CN=mx.postfix.test, "
                + "issuer_CN=mx.postfix.test, fingerprint="), two.maillog().toString());
        assertTrue(line.matches(".*pkey_fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}$"), line);

        Delivery zero = deliver(tlsPort, "smtp_tls_security_level = may");
        assertTrue(zero.maillog().stream().noneMatch(l -> l.contains("subject_CN=")), zero.maillog().toString());

        Delivery note = deliver(tlsPort, "smtp_tls_note_starttls_offer = yes");
        assertNull(note.outcome().tls(), "level none: no TLS");
        assertTrue(note.maillog().contains("Host offered STARTTLS: [127.0.0.1]"), note.maillog().toString());
    }

    @Test
    void protocolsLimitWhatIsNegotiated() throws Exception {
        Delivery d = deliver(tlsPort, "smtp_tls_security_level = may", "smtp_tls_protocols = <=TLSv1.2");
        assertEquals(Status.SENT, d.rcpt().status(), d.rcpt().toString());
        assertTrue(d.outcome().tls().contains(": TLSv1.2 with cipher "), d.outcome().tls());
        String log = postfixSaw(d.queueId());
        assertTrue(log.contains("Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.2"), log);
        // excluding the suites the server would pick at TLS 1.2: another one is negotiated
        Delivery x = deliver(tlsPort, "smtp_tls_security_level = may", "smtp_tls_protocols = TLSv1.2",
                "smtp_tls_exclude_ciphers = AESGCM, CHACHA20");
        assertEquals(Status.SENT, x.rcpt().status(), x.rcpt().toString());
        assertFalse(x.outcome().tls().contains("GCM") || x.outcome().tls().contains("CHACHA"), x.outcome().tls());
    }
}
