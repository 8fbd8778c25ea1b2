package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.dns.MxRecord;
import org.postern.smtp.dns.SecureAnswer;
import org.postern.test.Peers;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.Type;

/**
 * SmtpDane: TLSA matching against certificates made here with openssl (a CA, a server
 * certificate it issued for mx.dane.test, an unrelated key), and the effective policy of a
 * server from scripted DNSSEC answers, as Postfix's dane_init decides it.
 */
class SmtpDaneTest {

    private static Path dir;
    private static X509Certificate ca;
    private static X509Certificate leaf;
    private static X509Certificate other;

    @BeforeAll
    static void certificates() throws Exception {
        Peers.assume(new File("/usr/bin/openssl").canExecute(), "openssl is not installed");
        dir = Files.createTempDirectory("smtp-dane");
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Dane Test CA",
                "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign");
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=mx.dane.test");
        Files.writeString(dir.resolve("ext"), "subjectAltName=DNS:mx.dane.test\n");
        run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "ext", "-out", "leaf.pem");
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=mx.dane.test",
                "-addext", "subjectAltName=DNS:mx.dane.test");
        ca = cert("ca.pem");
        leaf = cert("leaf.pem");
        other = cert("other.pem");
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }

    private static X509Certificate cert(String file) throws Exception {
        try (InputStream in = Files.newInputStream(dir.resolve(file))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @AfterAll
    static void clean() throws Exception {
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private static byte[] digest(String alg, byte[] data) throws Exception {
        return MessageDigest.getInstance(alg).digest(data);
    }

    private static SmtpDane.Policy records(SmtpDane.Tlsa... tlsa) {
        return new SmtpDane.Policy(level("dane"), List.of(tlsa), List.of("mx.dane.test"), false, null, null);
    }

    private static String verify(SmtpDane.Policy p, X509Certificate... chain) {
        return SmtpDane.verify(chain, p, "mx.dane.test[127.0.0.1]");
    }

    @Test
    void daneEeMatchesTheServerKeyOrCertificateInEveryMatchingType() throws Exception {
        byte[] spki = leaf.getPublicKey().getEncoded();
        byte[] der = leaf.getEncoded();
        assertEquals("Verified", verify(records(new SmtpDane.Tlsa(3, 1, 1, digest("SHA-256", spki))), leaf, ca));
        assertEquals("Verified", verify(records(new SmtpDane.Tlsa(3, 1, 2, digest("SHA-512", spki))), leaf));
        assertEquals("Verified", verify(records(new SmtpDane.Tlsa(3, 0, 1, digest("SHA-256", der))), leaf));
        assertEquals("Verified", verify(records(new SmtpDane.Tlsa(3, 0, 0, der)), leaf));
        assertEquals("Verified", verify(records(new SmtpDane.Tlsa(3, 1, 0, spki)), leaf));
    }

    @Test
    void daneEeOfAnotherKeyIsUntrustedEvenWithTheRightName() throws Exception {
        SmtpDane.Policy p = records(new SmtpDane.Tlsa(3, 1, 1, digest("SHA-256", other.getPublicKey().getEncoded())));
        assertEquals("Untrusted", verify(p, leaf, ca));
        // the SHA-256 of the certificate is not that of its key: the selector counts
        assertEquals("Untrusted", verify(records(new SmtpDane.Tlsa(3, 1, 1, digest("SHA-256", leaf.getEncoded()))), leaf));
    }

    @Test
    void daneTaAnchorsTheChainThenTheNameMustMatchTheMxHost() throws Exception {
        SmtpDane.Tlsa ta = new SmtpDane.Tlsa(2, 0, 1, digest("SHA-256", ca.getEncoded()));
        assertEquals("Verified", verify(records(ta), leaf, ca));
        assertEquals("Verified", verify(records(new SmtpDane.Tlsa(2, 1, 1,
                digest("SHA-256", ca.getPublicKey().getEncoded()))), leaf, ca));
        SmtpDane.Policy otherName = new SmtpDane.Policy(level("dane"), List.of(ta), List.of("mx.elsewhere.test"),
                false, null, null);
        assertEquals("Trusted", verify(otherName, leaf, ca));
        // the anchor must be sent, and must have issued the server certificate
        assertEquals("Untrusted", verify(records(ta), leaf));
        assertEquals("Untrusted", verify(records(ta), other, ca));
        // DANE-TA never matches the server certificate itself
        assertEquals("Untrusted", verify(records(new SmtpDane.Tlsa(2, 0, 1, digest("SHA-256", leaf.getEncoded()))), leaf, ca));
    }

    @Test
    void pkixUsagesUnknownSelectorsAndShortDigestsAreUnusable() throws Exception {
        byte[] h = digest("SHA-256", leaf.getPublicKey().getEncoded());
        assertTrue(new SmtpDane.Tlsa(3, 1, 1, h).usable());
        assertTrue(new SmtpDane.Tlsa(2, 0, 2, new byte[64]).usable());
        assertFalse(new SmtpDane.Tlsa(0, 1, 1, h).usable());
        assertFalse(new SmtpDane.Tlsa(1, 1, 1, h).usable());
        assertFalse(new SmtpDane.Tlsa(3, 2, 1, h).usable());
        assertFalse(new SmtpDane.Tlsa(3, 1, 3, h).usable());
        assertFalse(new SmtpDane.Tlsa(3, 1, 2, h).usable(), "a SHA2-512 record has 64 bytes");
        assertFalse(new SmtpDane.Tlsa(3, 1, 255, h).usable(), "Postfix reserves 255 for fingerprints");
    }

    // ---- the policy of one server

    /** ScriptedDns - answers lookupSecure from a table: name/type to an answer, or SERVFAIL. */
    static final class ScriptedDns implements DnsResolver {
        final Map<String, SecureAnswer> answers = new HashMap<>();
        final List<String> servfail = new java.util.ArrayList<>();
        final List<String> asked = new java.util.ArrayList<>();

        ScriptedDns put(String name, int type, boolean secure, Record... records) {
            answers.put(name + "/" + Type.string(type), new SecureAnswer(List.of(records), false, secure));
            return this;
        }

        @Override
        public List<MxRecord> lookupMx(String domain) {
            return List.of();
        }

        @Override
        public List<InetAddress> lookupAddresses(String host) {
            return List.of();
        }

        @Override
        public SecureAnswer lookupSecure(String name, int type) throws DnsLookupException {
            String key = name + "/" + Type.string(type);
            asked.add(key);
            if (servfail.contains(key)) {
                throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "Host not found, try again");
            }
            return answers.getOrDefault(key, new SecureAnswer(List.of(), false, true));
        }
    }

    private static SmtpClientSettings.Tls level(String level) {
        return new SmtpClientSettings.Tls(level, "", "", List.of("hostname"), Duration.ofSeconds(5),
                null, null, new SmtpClientSettings.Dane("", "may"));
    }

    private static final SmtpTarget MX = target();

    private static SmtpTarget target() {
        try {
            return new SmtpTarget("mx.dane.test", InetAddress.getByName("127.0.0.1"), 25, null);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Name n(String name) throws Exception {
        return Name.fromString(name + ".");
    }

    /* dns - dane.test with its MX (secure or not), the MX host's address, and these TLSA records */
    private static ScriptedDns dns(boolean secureMx, TLSARecord... tlsa) throws Exception {
        ScriptedDns d = new ScriptedDns();
        d.put("dane.test", Type.MX, secureMx, new MXRecord(n("dane.test"), DClass.IN, 60, 10, n("mx.dane.test")));
        d.put("mx.dane.test", Type.A, secureMx,
                new ARecord(n("mx.dane.test"), DClass.IN, 60, InetAddress.getByName("127.0.0.1")));
        d.put("_25._tcp.mx.dane.test", Type.TLSA, secureMx, tlsa);
        return d;
    }

    private static TLSARecord tlsa(int u, int s, int m, byte[] data) throws Exception {
        return new TLSARecord(n("_25._tcp.mx.dane.test"), DClass.IN, 60, u, s, m, data);
    }

    private static SmtpDane.Policy policy(String level, DnsResolver dns) {
        return SmtpDane.policy(level(level), NextHop.smtp("dane.test", 25, true), MX, dns);
    }

    @Test
    void usableSecureRecordsKeepTheDaneLevel() throws Exception {
        byte[] h = digest("SHA-256", leaf.getPublicKey().getEncoded());
        SmtpDane.Policy p = policy("dane", dns(true, tlsa(3, 1, 1, h), tlsa(1, 1, 1, h)));
        assertTrue(p.authenticates());
        assertEquals("dane", p.tls().level());
        assertTrue(p.tls().required(), "mandatory TLS: mandatory protocols and ciphers");
        assertEquals(List.of(new SmtpDane.Tlsa(3, 1, 1, h)), p.tlsa(), "the PKIX-EE record is dropped");
        assertEquals(List.of("mx.dane.test"), p.names());
        assertFalse(p.halfDane());
        assertTrue(policy("dane-only", dns(true, tlsa(3, 1, 1, h))).authenticates());
    }

    @Test
    void noTlsaRecordsIsMayForDaneAndADeferralForDaneOnly() throws Exception {
        SmtpDane.Policy may = policy("dane", dns(true));
        assertEquals("may", may.tls().level());
        assertFalse(may.authenticates());
        SmtpDane.Policy only = policy("dane-only", dns(true));
        assertNull(only.tls());
        assertEquals("4.7.5", only.dsn());
        assertEquals("no TLSA records found", only.text());
    }

    @Test
    void onlyUnusableRecordsIsEncryptForDane() throws Exception {
        byte[] h = digest("SHA-256", leaf.getPublicKey().getEncoded());
        assertEquals("encrypt", policy("dane", dns(true, tlsa(1, 1, 1, h), tlsa(0, 0, 1, h))).tls().level());
        assertEquals("TLSA records unusable", policy("dane-only", dns(true, tlsa(1, 1, 1, h))).text());
    }

    @Test
    void anInsecureMxFollowsTheInsecureMxPolicy() throws Exception {
        byte[] h = digest("SHA-256", leaf.getPublicKey().getEncoded());
        ScriptedDns d = dns(false, tlsa(3, 1, 1, h));
        assertEquals("may", policy("dane", d).tls().level());
        assertEquals("non DNSSEC destination", policy("dane-only", d).text());
        // the MX RRset insecure, the MX host's zone signed: smtp_tls_dane_insecure_mx_policy
        d.put("mx.dane.test", Type.A, true, new ARecord(n("mx.dane.test"), DClass.IN, 60,
                InetAddress.getByName("127.0.0.1")));
        d.put("_25._tcp.mx.dane.test", Type.TLSA, true, tlsa(3, 1, 1, h));
        SmtpClientSettings.Tls dane = level("dane");
        SmtpClientSettings.Tls encrypt = new SmtpClientSettings.Tls("dane", "", "", List.of(), Duration.ofSeconds(5),
                null, null, new SmtpClientSettings.Dane("", "encrypt"));
        SmtpClientSettings.Tls half = new SmtpClientSettings.Tls("dane", "", "", List.of(), Duration.ofSeconds(5),
                null, null, new SmtpClientSettings.Dane("", "dane"));
        NextHop hop = NextHop.smtp("dane.test", 25, true);
        assertEquals("may", SmtpDane.policy(dane, hop, MX, d).tls().level());
        assertEquals("encrypt", SmtpDane.policy(encrypt, hop, MX, d).tls().level());
        SmtpDane.Policy p = SmtpDane.policy(half, hop, MX, d);
        assertTrue(p.authenticates());
        assertTrue(p.halfDane(), "a match is only Trusted");
    }

    @Test
    void aFailedTlsaLookupDefersThisServer() throws Exception {
        ScriptedDns d = dns(true);
        d.servfail.add("_25._tcp.mx.dane.test/TLSA");
        for (String level : List.of("dane", "dane-only")) {
            SmtpDane.Policy p = policy(level, d);
            assertNull(p.tls());
            assertEquals("4.7.5", p.dsn());
            assertEquals("TLSA lookup error for mx.dane.test:25", p.text());
        }
    }

    @Test
    void anInsecureHostIsNotAskedForTlsaRecords() throws Exception {
        ScriptedDns d = dns(true);
        d.put("mx.dane.test", Type.A, false, new ARecord(n("mx.dane.test"), DClass.IN, 60,
                InetAddress.getByName("127.0.0.1")));
        assertEquals("may", policy("dane", d).tls().level());
        assertFalse(d.asked.contains("_25._tcp.mx.dane.test/TLSA"));
    }

    @Test
    void withoutDnssecLookupsDaneIsMayAndDaneOnlyAConfigurationProblem() throws Exception {
        ScriptedDns d = dns(true);
        SmtpClientSettings.Tls off = new SmtpClientSettings.Tls("dane", "", "", List.of(), Duration.ofSeconds(5));
        NextHop hop = NextHop.smtp("dane.test", 25, true);
        assertEquals("may", SmtpDane.policy(off, hop, MX, d).tls().level());
        SmtpDane.Policy only = SmtpDane.policy(off.withLevel("dane-only"), hop, MX, d);
        assertNull(only.tls());
        assertEquals("4.7.0", only.dsn());
        assertEquals("client TLS configuration problem", only.text());
        assertTrue(d.asked.isEmpty(), "no DNS lookups without DNSSEC support");
        // other levels pass through untouched
        SmtpClientSettings.Tls verify = level("verify");
        assertEquals(verify, SmtpDane.policy(verify, hop, MX, d).tls());
    }
}
