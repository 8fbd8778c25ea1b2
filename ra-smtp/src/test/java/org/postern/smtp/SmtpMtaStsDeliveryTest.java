package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.dns.DnsJavaResolver;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.dns.Dnsmasq;
import org.postern.smtp.dns.MxRecord;
import org.postern.smtp.sts.MtaStsPolicies;
import org.postern.test.Peers;

/**
 * MTA-STS (RFC 8461) end to end on loopback: dnsmasq serves the _mta-sts TXT records, the
 * MX records and mta-sts.&lt;domain&gt; (127.0.0.1); a JDK HttpsServer on 127.0.0.1:443 serves
 * the policies with a certificate from a CA this test makes with keytool; FakeSmtpServers
 * with STARTTLS are the MX hosts (127.0.0.1 with a certificate of that CA, 127.0.0.5 with a
 * self-signed one, 127.0.0.6 without STARTTLS, 127.0.0.2 a host no policy names).
 */
class SmtpMtaStsDeliveryTest {

    private static Path dir;
    private static String caPem;
    private static Dnsmasq dnsmasq;
    private static DnsJavaResolver dns;
    private static HttpsServer https;
    private static int port;
    private static FakeSmtpServer good;
    private static FakeSmtpServer elsewhere;
    private static FakeSmtpServer untrusted;
    private static FakeSmtpServer plainOnly;
    /** policy text by mta-sts host name; absent: 404 */
    private static final Map<String, String> POLICIES = new ConcurrentHashMap<>();
    /** HTTP status to answer instead of the policy, by host name */
    private static final Map<String, Integer> FAIL = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> REQUESTS = new ConcurrentHashMap<>();

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            log.add(r.getLoggerName() + ": " + r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeAll
    static void start() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Peers.assume(Files.isExecutable(keytool), "keytool is not available");
        dir = Files.createTempDirectory("mta-sts");
        String pass = "t" + new Random().nextInt(1_000_000);   // throw-away test key stores
        String kt = keytool.toString();
        String ca = dir.resolve("ca.p12").toString();
        String srv = dir.resolve("srv.p12").toString();
        String bad = dir.resolve("bad.p12").toString();
        caPem = dir.resolve("ca.pem").toString();
        run(kt, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=Postern MTA-STS test CA", "-ext", "bc:c", "-validity", "2", "-keystore", ca, "-storetype", "PKCS12",
                "-storepass", pass);
        run(kt, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", pass, "-file", caPem);
        run(kt, "-genkeypair", "-alias", "srv", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=mx.sts.test",
                "-validity", "2", "-keystore", srv, "-storetype", "PKCS12", "-storepass", pass);
        String csr = dir.resolve("srv.csr").toString();
        String crt = dir.resolve("srv.pem").toString();
        run(kt, "-certreq", "-alias", "srv", "-keystore", srv, "-storepass", pass, "-file", csr);
        run(kt, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", pass, "-infile", csr, "-outfile", crt,
                "-validity", "2", "-ext", "SAN=dns:mx.sts.test,dns:mx.flaky.test,dns:mx.nofetch.test,"
                        + "dns:mta-sts.sts.test,dns:mta-sts.bad.test,dns:mta-sts.untrusted.test,dns:mta-sts.notls.test,"
                        + "dns:mta-sts.testing.test,dns:mta-sts.flaky.test,dns:mta-sts.nofetch.test",
                "-ext", "EKU=serverAuth");
        run(kt, "-importcert", "-noprompt", "-alias", "ca", "-file", caPem, "-keystore", srv, "-storepass", pass);
        run(kt, "-importcert", "-alias", "srv", "-file", crt, "-keystore", srv, "-storepass", pass);
        // a self-signed certificate whose names are right, but no CA vouches for it
        run(kt, "-genkeypair", "-alias", "bad", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=mx.untrusted.test", "-ext", "SAN=dns:mx.untrusted.test,dns:mx.testing.test", "-validity", "2",
                "-keystore", bad, "-storetype", "PKCS12", "-storepass", pass);
        SSLContext trusted = context(srv, pass);
        SSLContext selfSigned = context(bad, pass);

        dnsmasq = Dnsmasq.start("mx.sts.test",
                "--mx-host=sts.test,mx.sts.test,10", "--host-record=mx.sts.test,127.0.0.1",
                "--mx-host=bad.test,mx.elsewhere.test,10", "--host-record=mx.elsewhere.test,127.0.0.2",
                "--mx-host=untrusted.test,mx.untrusted.test,10", "--host-record=mx.untrusted.test,127.0.0.5",
                "--mx-host=notls.test,mx.notls.test,10", "--host-record=mx.notls.test,127.0.0.6",
                "--mx-host=testing.test,mx.testing.test,10", "--host-record=mx.testing.test,127.0.0.5",
                "--mx-host=flaky.test,mx.flaky.test,10", "--host-record=mx.flaky.test,127.0.0.1",
                "--mx-host=nofetch.test,mx.nofetch.test,10", "--host-record=mx.nofetch.test,127.0.0.1",
                "--mx-host=wrongname.test,mx.wrongname.test,10", "--host-record=mx.wrongname.test,127.0.0.1",
                "--host-record=mta-sts.sts.test,127.0.0.1", "--host-record=mta-sts.bad.test,127.0.0.1",
                "--host-record=mta-sts.untrusted.test,127.0.0.1", "--host-record=mta-sts.notls.test,127.0.0.1",
                "--host-record=mta-sts.testing.test,127.0.0.1", "--host-record=mta-sts.flaky.test,127.0.0.1",
                "--host-record=mta-sts.nofetch.test,127.0.0.1", "--host-record=mta-sts.wrongname.test,127.0.0.1",
                "--txt-record=_mta-sts.sts.test,v=STSv1; id=20260101",
                "--txt-record=_mta-sts.bad.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.untrusted.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.notls.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.testing.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.flaky.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.nofetch.test,v=STSv1; id=1",
                "--txt-record=_mta-sts.wrongname.test,v=STSv1; id=1");
        dns = new DnsJavaResolver(List.of(dnsmasq.server()), Duration.ofSeconds(2));

        POLICIES.put("mta-sts.sts.test", "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n");
        POLICIES.put("mta-sts.bad.test", "version: STSv1\nmode: enforce\nmx: mx.bad.test\nmax_age: 86400\n");
        POLICIES.put("mta-sts.untrusted.test", "version: STSv1\nmode: enforce\nmx: *.untrusted.test\nmax_age: 86400\n");
        POLICIES.put("mta-sts.notls.test", "version: STSv1\nmode: enforce\nmx: mx.notls.test\nmax_age: 86400\n");
        POLICIES.put("mta-sts.testing.test", "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n");
        POLICIES.put("mta-sts.flaky.test", "version: STSv1\nmode: enforce\nmx: mx.flaky.test\nmax_age: 86400\n");
        POLICIES.put("mta-sts.wrongname.test", "version: STSv1\nmode: enforce\nmx: none.invalid\nmax_age: 86400\n");
        try {
            https = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 443), 0);
        } catch (IOException e) {
            // root may bind 443; something else holding it fails the test under CI (Peers)
            Peers.abort("cannot bind 127.0.0.1:443 for the MTA-STS policy server: " + e);
        }
        https.setHttpsConfigurator(new HttpsConfigurator(trusted));
        https.createContext("/.well-known/mta-sts.txt", ex -> {
            String host = String.valueOf(ex.getRequestHeaders().getFirst("Host")).replaceAll(":443$", "");
            REQUESTS.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
            String policy = POLICIES.get(host);
            Integer fail = FAIL.get(host);
            if (fail != null || policy == null) {
                ex.sendResponseHeaders(fail != null ? fail : 404, -1);
            } else {
                byte[] body = policy.getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
            ex.close();
        });
        https.start();

        for (int attempt = 0; attempt < 50 && plainOnly == null; attempt++) {
            int p = 22000 + new Random().nextInt(800);
            List<FakeSmtpServer> made = new ArrayList<>();
            try {
                made.add(new FakeSmtpServer(false, new InetSocketAddress("127.0.0.1", p)));
                made.add(new FakeSmtpServer(false, new InetSocketAddress("127.0.0.2", p)));
                made.add(new FakeSmtpServer(false, new InetSocketAddress("127.0.0.5", p)));
                made.add(new FakeSmtpServer(false, new InetSocketAddress("127.0.0.6", p)));
            } catch (IOException e) {
                for (FakeSmtpServer f : made) {
                    f.close();
                }
                continue;
            }
            port = p;
            good = made.get(0);
            elsewhere = made.get(1);
            untrusted = made.get(2);
            plainOnly = made.get(3);
        }
        List<String> withTls = List.of("PIPELINING", "STARTTLS", "8BITMIME");
        good.tls = trusted;
        good.ehloKeywords = withTls;
        elsewhere.tls = trusted;
        elsewhere.ehloKeywords = withTls;
        untrusted.tls = selfSigned;
        untrusted.ehloKeywords = withTls;
        plainOnly.ehloKeywords = List.of("PIPELINING", "8BITMIME");
    }

    private static SSLContext context(String store, String pass) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(store))) {
            ks.load(in, pass.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass.toCharArray());
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf.getKeyManagers(), null, null);
        return c;
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }

    @AfterAll
    static void stop() throws Exception {
        for (FakeSmtpServer f : new FakeSmtpServer[] {good, elsewhere, untrusted, plainOnly}) {
            if (f != null) {
                f.close();
            }
        }
        if (https != null) {
            https.stop(0);
        }
        if (dnsmasq != null) {
            dnsmasq.close();
        }
        MtaStsPolicies.shared().clear();
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @BeforeEach
    void setUp() {
        MtaStsPolicies.shared().clear();
        REQUESTS.clear();
        FAIL.clear();
        Logger.getLogger("postern.maillog.smtp").addHandler(capture);
        Logger.getLogger("org.postern.smtp").addHandler(capture);
    }

    @AfterEach
    void tearDown() {
        Logger.getLogger("postern.maillog.smtp").removeHandler(capture);
        Logger.getLogger("org.postern.smtp").removeHandler(capture);
    }

    /* deliver - to domain by MX lookup, MTA-STS on, smtp_tls_CAfile the test CA, this smtp_tls_security_level */
    private static DeliveryOutcome deliver(String domain, String level, DnsResolver resolver) {
        SmtpClientSettings s = fast()
                .withTls(new SmtpClientSettings.Tls(level, caPem, "", List.of("hostname"), Duration.ofSeconds(5)))
                .withMtaSts(new SmtpClientSettings.MtaSts(true, 100, Duration.ofDays(1), Duration.ofSeconds(10), caPem));
        try (SmtpClientSession c = new SmtpClientSession(NextHop.smtp(domain, port, true), s, resolver)) {
            return c.deliver(message("Subject: mta-sts\r\n\r\nx\r\n", "a@" + domain));
        }
    }

    private static int requests(String domain) {
        AtomicInteger n = REQUESTS.get("mta-sts." + domain);
        return n == null ? 0 : n.get();
    }

    private boolean logged(String text) {
        return log.stream().anyMatch(l -> l.contains(text));
    }

    @Test
    void enforceWithAMatchingMxAndAValidCertificateDeliversVerified() {
        int before = good.messages.size();
        DeliveryOutcome o = deliver("sts.test", "none", dns);   // smtp_tls_security_level none: the policy raises it
        assertEquals(Status.SENT, o.recipients().get(0).status(), o.recipients().toString());
        assertTrue(o.tls() != null && o.tls().startsWith("Verified TLS connection established to mx.sts.test[127.0.0.1]:"
                + port), o.tls());
        assertEquals(before + 1, good.messages.size());
        assertTrue(logged("PSTN3126: MTA-STS policy of sts.test in force: mode=enforce, id=20260101"), log.toString());
    }

    @Test
    void enforceNeverConnectsToAnMxThePolicyDoesNotName() {
        int before = elsewhere.connections.get();
        RecipientOutcome r = deliver("bad.test", "may", dns).recipients().get(0);
        assertEquals(new RecipientOutcome("a@bad.test", Status.DEFERRED, "4.7.5",
                "MTA-STS policy of bad.test: no MX host matches its mx patterns (mx.elsewhere.test)"), r);
        assertEquals(before, elsewhere.connections.get());
    }

    @Test
    void enforceDefersAnUntrustedCertificateOrMissingStarttlsAndNeverSendsInTheClear() {
        int before = untrusted.messages.size();
        RecipientOutcome r = deliver("untrusted.test", "may", dns).recipients().get(0);
        assertEquals(Status.DEFERRED, r.status(), r.toString());
        assertEquals("4.7.5", r.dsn());
        assertTrue(r.reply().contains("Server certificate not trusted"), r.reply());
        assertEquals(before, untrusted.messages.size());

        int plainBefore = plainOnly.messages.size();
        RecipientOutcome n = deliver("notls.test", "may", dns).recipients().get(0);
        assertEquals(Status.DEFERRED, n.status(), n.toString());
        assertEquals("TLS is required, but was not offered by host mx.notls.test[127.0.0.6]", n.reply());
        assertEquals(plainBefore, plainOnly.messages.size());
        assertTrue(plainOnly.transcript.stream().noneMatch(l -> l.startsWith("MAIL")), plainOnly.transcript.toString());
    }

    @Test
    void testingModeDeliversAndLogsWhatEnforceWouldRefuse() {
        int before = untrusted.messages.size();
        DeliveryOutcome o = deliver("testing.test", "may", dns);
        assertEquals(Status.SENT, o.recipients().get(0).status(), o.recipients().toString());
        assertTrue(o.tls().startsWith("Untrusted TLS connection established to mx.testing.test[127.0.0.5]"), o.tls());
        assertEquals(before + 1, untrusted.messages.size());
        assertTrue(logged("postern.maillog.smtp: MTA-STS testing: policy of testing.test (id 1): mx.testing.test[127.0.0.5]:"
                + port + ": the certificate of mx.testing.test is not trusted; enforce mode would not deliver to it"),
                log.toString());
    }

    @Test
    void anUnchangedTxtIdDoesNotFetchThePolicyAgain() {
        assertEquals(Status.SENT, deliver("sts.test", "none", dns).recipients().get(0).status());
        assertEquals(1, requests("sts.test"));
        DeliveryOutcome again = deliver("sts.test", "none", dns);
        assertEquals(Status.SENT, again.recipients().get(0).status());
        assertTrue(again.tls().startsWith("Verified"), again.tls());
        assertEquals(1, requests("sts.test"));
    }

    @Test
    void aFailedFetchKeepsTheCachedPolicyAndWithoutOneThereIsNoPolicy() {
        DeliveryOutcome first = deliver("flaky.test", "none", dns);
        assertTrue(first.tls() != null && first.tls().startsWith("Verified"), String.valueOf(first.tls()));
        assertEquals(1, requests("flaky.test"));
        // a new id announced, but the policy server fails: the cached policy (enforce) still applies
        FAIL.put("mta-sts.flaky.test", 503);
        DeliveryOutcome second = deliver("flaky.test", "none", new NewId(dns, "flaky.test", "2"));
        assertEquals(2, requests("flaky.test"));
        assertEquals(Status.SENT, second.recipients().get(0).status());
        assertTrue(second.tls() != null && second.tls().startsWith("Verified"), String.valueOf(second.tls()));
        assertTrue(logged("PSTN3125: MTA-STS policy of flaky.test (id 2) cannot be fetched: HTTP status 503"), log.toString());
        assertTrue(logged("PSTN3129: MTA-STS policy of flaky.test applied from the cache"), log.toString());

        // no cached policy and a failed fetch (404; a certificate without the mta-sts name): no policy, no TLS
        DeliveryOutcome none = deliver("nofetch.test", "none", dns);
        assertEquals(Status.SENT, none.recipients().get(0).status());
        assertNull(none.tls());
        assertEquals(1, requests("nofetch.test"));
        DeliveryOutcome wrongName = deliver("wrongname.test", "none", dns);
        assertEquals(Status.SENT, wrongName.recipients().get(0).status(), wrongName.recipients().toString());
        assertEquals(0, requests("wrongname.test"));
        assertTrue(logged("PSTN3125: MTA-STS policy of wrongname.test (id 1) cannot be fetched: TLS handshake"),
                log.toString());
    }

    /** NewId - the resolver, but the _mta-sts TXT record of one domain announces another id. */
    private record NewId(DnsResolver dns, String domain, String id) implements DnsResolver {
        @Override
        public List<MxRecord> lookupMx(String d) throws DnsLookupException {
            return dns.lookupMx(d);
        }

        @Override
        public List<InetAddress> lookupAddresses(String host) throws DnsLookupException {
            return dns.lookupAddresses(host);
        }

        @Override
        public List<String> lookupTxt(String name) throws DnsLookupException {
            return name.equals("_mta-sts." + domain) ? List.of("v=STSv1; id=" + id) : dns.lookupTxt(name);
        }
    }
}
