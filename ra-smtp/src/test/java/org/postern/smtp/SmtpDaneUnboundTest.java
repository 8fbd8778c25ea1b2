package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.dns.DnsJavaResolver;
import org.postern.smtp.dns.Unbound;
import org.postern.test.Peers;

/**
 * DANE deliveries through a real validating resolver: unbound on a loopback port serves the
 * zone dane.test (signed here with ldns-signzone, its KSK the trust anchor) and the unsigned
 * zone plain.test; every MX host is 127.0.0.1, where a scripted server offers STARTTLS with a
 * certificate made here by keytool. In dane.test: good (TLSA 3 1 1 of the server's key), bad
 * (TLSA 3 1 1 of another key), none (no TLSA), bogus (a TLSA record whose signature no longer
 * fits: SERVFAIL). In plain.test the TLSA record names another key, but it is insecure and
 * must be ignored.
 */
class SmtpDaneUnboundTest {

    private static Path dir;
    private static Unbound unbound;
    private static DnsJavaResolver dns;
    private static FakeSmtpServer server;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Peers.assume(Files.isExecutable(keytool), "keytool is not available");
        dir = Files.createTempDirectory("smtp-dane-unbound");
        Path ks = dir.resolve("server.p12");
        char[] pass = ("t" + new Random().nextInt(1_000_000)).toCharArray();   // a throw-away test keystore
        run(keytool.toString(), "-genkeypair", "-alias", "srv", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=mx.good.dane.test", "-ext", "SAN=dns:mx.good.dane.test", "-validity", "2",
                "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", new String(pass));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, pass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, pass);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        X509Certificate cert = (X509Certificate) store.getCertificate("srv");
        String good = sha256(cert.getPublicKey().getEncoded());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        String other = sha256(g.generateKeyPair().getPublic().getEncoded());

        server = new FakeSmtpServer(false);
        server.tls = context;
        server.ehloKeywords = List.of("PIPELINING", "STARTTLS", "8BITMIME");
        port = server.port();
        String tlsa = "_" + port + "._tcp.";
        String signed = String.join("\n",
                "$ORIGIN dane.test.",
                "$TTL 60",
                "@ IN SOA ns.dane.test. hostmaster.dane.test. 1 3600 600 86400 60",
                "@ IN NS ns.dane.test.",
                "ns IN A 127.0.0.1",
                "good IN MX 10 mx.good.dane.test.",
                "mx.good IN A 127.0.0.1",
                tlsa + "mx.good IN TLSA 3 1 1 " + good,
                "bad IN MX 10 mx.bad.dane.test.",
                "mx.bad IN A 127.0.0.1",
                tlsa + "mx.bad IN TLSA 3 1 1 " + other,
                "none IN MX 10 mx.none.dane.test.",
                "mx.none IN A 127.0.0.1",
                "bogus IN MX 10 mx.bogus.dane.test.",
                "mx.bogus IN A 127.0.0.1",
                tlsa + "mx.bogus IN TLSA 3 1 1 " + good, "");
        String plain = String.join("\n",
                "$ORIGIN plain.test.",
                "$TTL 60",
                "@ IN SOA ns.plain.test. hostmaster.plain.test. 1 3600 600 86400 60",
                "@ IN NS ns.plain.test.",
                "ns IN A 127.0.0.1",
                "@ IN MX 10 mx.plain.test.",
                "mx IN A 127.0.0.1",
                tlsa + "mx IN TLSA 3 1 1 " + other, "");
        // bogus: the record changes after signing, so that its RRSIG no longer verifies
        unbound = Unbound.start(dir, "dane.test", signed,
                text -> text.lines().map(l -> l.startsWith(tlsa + "mx.bogus.dane.test.") && l.contains("\tTLSA\t")
                        ? l.replace(good, other) : l).reduce("", (a, b) -> a + b + "\n"),
                Map.of("plain.test", plain));
        dns = new DnsJavaResolver(List.of(unbound.server()), Duration.ofSeconds(3));
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (unbound != null) {
            unbound.close();
        }
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @BeforeEach
    void reset() {
        server.transcript.clear();
        server.messages.clear();
        server.tlsUsed = false;
    }

    /* deliver - one message to domain at this level, DNSSEC lookups on (smtp_dns_support_level = dnssec) */
    private static DeliveryOutcome deliver(String domain, String level) {
        SmtpClientSettings.Tls tls = new SmtpClientSettings.Tls(level, "", "", List.of("hostname"),
                Duration.ofSeconds(5), null, null, new SmtpClientSettings.Dane("", "may"));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp(domain, port, true), fast().withTls(tls), dns)) {
            return s.deliver(message("Subject: dane\r\n\r\nx\r\n", "a@" + domain));
        }
    }

    private static void assertNothingSent(RecipientOutcome r) {
        assertEquals(Status.DEFERRED, r.status(), r.toString());
        assertTrue(server.commands("MAIL").isEmpty(), "never in the clear, nor without a match: " + server.transcript);
        assertTrue(server.messages.isEmpty());
    }

    @Test
    void aMatchingTlsaRecordDeliversVerified() {
        for (String level : List.of("dane", "dane-only")) {
            reset();
            DeliveryOutcome o = deliver("good.dane.test", level);
            assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
            assertTrue(o.tls().startsWith("Verified TLS connection established to mx.good.dane.test[127.0.0.1]:"
                    + port + ": TLSv1."), o.tls());
            assertEquals(1, server.messages.size());
        }
    }

    @Test
    void aTlsaRecordOfAnotherKeyDefersAndNothingIsSent() {
        for (String level : List.of("dane", "dane-only")) {
            reset();
            RecipientOutcome r = deliver("bad.dane.test", level).recipients().get(0);
            assertNothingSent(r);
            assertEquals("4.7.5", r.dsn());
            assertTrue(r.reply().contains("Server certificate not trusted"), r.reply());
            assertEquals(1, server.commands("STARTTLS").size(), "TLS was started, then the certificate refused");
        }
    }

    @Test
    void daneWithoutTlsaRecordsDeliversOpportunistically() {
        DeliveryOutcome o = deliver("none.dane.test", "dane");
        assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
        assertTrue(o.tls().startsWith("Untrusted TLS connection established to mx.none.dane.test"), o.tls());
    }

    @Test
    void daneOnlyWithoutTlsaRecordsDefers() {
        RecipientOutcome r = deliver("none.dane.test", "dane-only").recipients().get(0);
        assertNothingSent(r);
        assertEquals("4.7.5", r.dsn());
        assertTrue(r.reply().contains("no TLSA records found"), r.reply());
        assertTrue(server.commands("STARTTLS").isEmpty());
    }

    @Test
    void anUnsignedZoneIsMayForDaneAndItsTlsaRecordsAreIgnored() {
        DeliveryOutcome o = deliver("plain.test", "dane");
        assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
        assertTrue(o.tls().startsWith("Untrusted TLS connection established to mx.plain.test"), o.tls());
        reset();
        RecipientOutcome r = deliver("plain.test", "dane-only").recipients().get(0);
        assertNothingSent(r);
        assertTrue(r.reply().contains("non DNSSEC destination"), r.reply());
    }

    @Test
    void aBogusTlsaRecordDefersTheServer() {
        for (String level : List.of("dane", "dane-only")) {
            reset();
            RecipientOutcome r = deliver("bogus.dane.test", level).recipients().get(0);
            assertNothingSent(r);
            assertEquals("4.7.5", r.dsn());
            assertTrue(r.reply().contains("TLSA lookup error for mx.bogus.dane.test:" + port), r.reply());
        }
    }
}
