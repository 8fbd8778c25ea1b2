package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.SmtpTargetResolverTest.FakeDns;
import org.postern.smtp.dns.MxRecord;

/**
 * STARTTLS by smtp_tls_security_level against a scripted server whose certificate (for
 * mx.tls.test, self-signed) is made with the JDK's keytool for this test.
 */
class SmtpTlsTest {

    private static Path dir;
    private static Path caFile;
    private static SSLContext serverContext;
    private FakeSmtpServer server;

    @BeforeAll
    static void certificate() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Peers.assume(Files.isExecutable(keytool), "keytool is not available");
        dir = Files.createTempDirectory("smtp-tls");
        Path ks = dir.resolve("server.p12");
        char[] pass = ("t" + (100_000 + new Random().nextInt(900_000))).toCharArray();   // a throw-away test keystore (keytool wants 6 characters or more)
        run(keytool.toString(), "-genkeypair", "-alias", "srv", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=mx.tls.test", "-ext", "SAN=dns:mx.tls.test", "-validity", "2",
                "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", new String(pass));
        caFile = dir.resolve("ca.pem");
        run(keytool.toString(), "-exportcert", "-rfc", "-alias", "srv", "-keystore", ks.toString(),
                "-storepass", new String(pass), "-file", caFile.toString());
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, pass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, pass);
        serverContext = SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }

    @AfterAll
    static void clean() throws Exception {
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private FakeSmtpServer tlsServer() throws Exception {
        server = new FakeSmtpServer(false);
        server.tls = serverContext;
        server.ehloKeywords = List.of("PIPELINING", "STARTTLS", "8BITMIME");
        return server;
    }

    /* deliver - to MX mx.tls.test (127.0.0.1) of domain tls.test, or of other.test */
    private DeliveryOutcome deliver(String domain, String mxName, SmtpClientSettings.Tls tls) throws Exception {
        FakeDns dns = new FakeDns().host(mxName, "127.0.0.1");
        dns.mx.put(domain, List.of(new MxRecord(10, mxName)));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp(domain, server.port(), true), fast().withTls(tls), dns)) {
            return s.deliver(message("Subject: tls\r\n\r\nx\r\n", "a@" + domain));
        }
    }

    private static SmtpClientSettings.Tls level(String level, boolean withCa, String... match) {
        return new SmtpClientSettings.Tls(level, withCa ? caFile.toString() : "", "", List.of(match), Duration.ofSeconds(5));
    }

    @Test
    void mayEncryptsWhenOfferedAndLogsTheTlsOutcome() throws Exception {
        tlsServer();
        DeliveryOutcome o = deliver("tls.test", "mx.tls.test", level("may", false, "hostname"));
        assertEquals(Status.SENT, o.recipients().get(0).status());
        assertTrue(server.tlsUsed);
        assertTrue(o.tls().startsWith("Untrusted TLS connection established to mx.tls.test[127.0.0.1]:" + server.port()
                + ": TLSv1."), o.tls());
        assertEquals(2, server.commands("EHLO").size(), "EHLO again after STARTTLS");
        assertEquals(1, server.messages.size());
    }

    @Test
    void mayWithoutStarttlsSendsInTheClearButEncryptDefers() throws Exception {
        server = new FakeSmtpServer(false);
        DeliveryOutcome clear = deliver("tls.test", "mx.tls.test", level("may", false));
        assertEquals(Status.SENT, clear.recipients().get(0).status());
        assertNull(clear.tls());
        RecipientOutcome r = deliver("tls.test", "mx.tls.test", level("encrypt", false)).recipients().get(0);
        assertEquals(new RecipientOutcome("a@tls.test", Status.DEFERRED, "4.7.4",
                "TLS is required, but was not offered by host mx.tls.test[127.0.0.1]"), r);
        assertEquals(1, server.messages.size(), "nothing sent in the clear at level encrypt");
    }

    @Test
    void verifyNeedsATrustedCertificateThatNamesTheMxHost() throws Exception {
        tlsServer();
        DeliveryOutcome ok = deliver("tls.test", "mx.tls.test", level("verify", true, "hostname"));
        assertEquals(Status.SENT, ok.recipients().get(0).status());
        assertTrue(ok.tls().startsWith("Verified TLS connection established"), ok.tls());
        // not trusted without the CA
        RecipientOutcome untrusted = deliver("tls.test", "mx.tls.test", level("verify", false, "hostname")).recipients().get(0);
        assertEquals(new RecipientOutcome("a@tls.test", Status.DEFERRED, "4.7.5", "Server certificate not trusted"), untrusted);
        // trusted, but the MX is called otherwise
        RecipientOutcome wrongName = deliver("other.test", "mx.other.test", level("verify", true, "hostname")).recipients().get(0);
        assertEquals(new RecipientOutcome("a@other.test", Status.DEFERRED, "4.7.5", "Server certificate not verified"), wrongName);
        assertEquals(1, server.messages.size());
    }

    @Test
    void secureMatchesTheNextHopDomainAndItsSubdomains() throws Exception {
        tlsServer();
        // mx.tls.test is a subdomain of the next hop tls.test: dot-nexthop matches
        assertEquals(Status.SENT, deliver("tls.test", "mx.tls.test", level("secure", true, "nexthop", "dot-nexthop"))
                .recipients().get(0).status());
        assertEquals(Status.DEFERRED, deliver("tls.test", "mx.tls.test", level("secure", true, "nexthop"))
                .recipients().get(0).status(), "the certificate does not name tls.test itself");
    }

    @Test
    void plaintextAfterTheStarttlsResponseIsRefused() throws Exception {
        tlsServer();
        server.afterStarttls = "250 injected\r\n";
        RecipientOutcome r = deliver("tls.test", "mx.tls.test", level("may", false)).recipients().get(0);
        assertEquals(Status.DEFERRED, r.status());
        assertTrue(r.reply().contains("possible STARTTLS injection"), r.reply());
        assertEquals(0, server.messages.size());
    }

    @Test
    void aFailedHandshakeAtLevelMayFallsBackToTheClear() throws Exception {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("STARTTLS");
        server.on("STARTTLS", "220 2.0.0 go ahead");   // but no TLS follows: the handshake fails
        DeliveryOutcome o = deliver("tls.test", "mx.tls.test", level("may", false));
        assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
        assertEquals(2, server.connections.get(), "a second connection in the clear");
        assertEquals(1, server.commands("STARTTLS").size());
        assertFalse(o.tls() != null);
    }
}
