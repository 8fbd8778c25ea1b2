package org.postern.smtp;

import org.postern.smtp.api.SmtpClientSettings;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * SmtpTls - the TLS side of STARTTLS in the client (RFC 3207): the handshake over an open
 * connection, then Postfix's checks of the server certificate by security level.
 *
 * <h2>DESCRIPTION</h2>
 * The handshake accepts any certificate; the checks come after it, so that the levels
 * below verify can still encrypt with an untrusted certificate, as Postfix does. The result
 * is Postfix's classification: "Verified" (trusted chain and a matching name), "Trusted"
 * (trusted chain, name not checked or not matching), "Untrusted". At the verify and secure
 * levels anything but Verified fails the connection (4.7.5). Trust anchors come from
 * smtp_tls_CAfile and smtp_tls_CApath (PEM), or the Java runtime's trust store when both
 * are empty; a chain longer than smtp_tls_scert_verifydepth is not trusted. Names:
 * subjectAltName dNSName entries (a "*" first label matches one label), or the subject CN
 * when there is no dNSName.
 *
 * <p>The client presents the key of smtp_tls_cert_file (and the other key parameters, see
 * {@link org.postern.smtp.api.TlsKeys}) to a server that asks for a certificate. Protocols
 * follow smtp_tls_protocols (level may) or smtp_tls_mandatory_protocols (encrypt and above) in
 * Postfix's syntax; suites named by smtp_tls_exclude_ciphers (and, when TLS is mandatory,
 * smtp_tls_mandatory_exclude_ciphers) are not offered. One SSL context per client identity:
 * the runtime keeps sessions for smtp_tls_session_cache_timeout and resumes them with the same
 * server and port when smtp_tls_session_cache_database is set; otherwise each session is
 * invalidated after its handshake, as Postfix without a session cache.
 *
 * <h2>SECURITY</h2>
 * Talks TLS to the server; trusts it only as far as the level requires. The caller checks
 * that no plaintext was pipelined after the 220 to STARTTLS (CVE-2011-0411 class).
 */
final class SmtpTls {

    /** Established - a TLS session and how far its certificate was checked. */
    record Established(SSLSocket socket, String trust, String protocol, String cipher, X509Certificate peer) {

        /** verified - trusted chain and matching name. */
        boolean verified() {
            return trust.equals("Verified");
        }
    }

    private static final Pattern CN = Pattern.compile("(?:^|,)\\s*CN=([^,]+)");
    private static final Map<String, X509TrustManager> TRUST = new ConcurrentHashMap<>();

    private SmtpTls() {
    }

    /** start - handshake over {@code plain}; {@code names} are the names a certificate may match. */
    static Established start(Socket plain, String serverName, int port, SmtpClientSettings.Tls tls,
                             List<String> names) throws IOException {
        SmtpClientSettings.TlsOptions o = tls.options();
        SSLContext ctx = context(o);
        SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(plain, serverName, port, true);
        ssl.setUseClientMode(true);
        boolean mandatory = tls.required();
        String[] protocols = protocols(mandatory ? o.mandatoryProtocols() : o.protocols(), ssl.getSupportedProtocols());
        if (protocols.length == 0) {
            throw new IOException("no TLS protocol is left by " + (mandatory ? "tls_mandatory_protocols = "
                    + o.mandatoryProtocols() : "tls_protocols = " + o.protocols()));
        }
        ssl.setEnabledProtocols(protocols);
        List<String> exclude = new ArrayList<>(o.excludeCiphers());
        if (mandatory) {
            exclude.addAll(o.mandatoryExclude());
        }
        ssl.setEnabledCipherSuites(ciphers(ssl.getEnabledCipherSuites(), exclude));
        if (serverName.indexOf('.') > 0 && !Character.isDigit(serverName.charAt(serverName.length() - 1))
                && serverName.indexOf(':') < 0) {
            SSLParameters p = ssl.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(serverName)));
            ssl.setSSLParameters(p);
        }
        ssl.startHandshake();
        SSLSession session = ssl.getSession();
        if (!o.sessionCache()) {
            // smtp_tls_session_cache_database empty: as Postfix, no session is kept for resumption
            session.invalidate();
        }
        X509Certificate[] chain = chain(session);
        String trust = classify(chain, tls, names);
        return new Established(ssl, trust, session.getProtocol(), session.getCipherSuite(),
                chain.length == 0 ? null : chain[0]);
    }

    /** the SSL contexts per client identity and session lifetime: made once, so that sessions can be resumed */
    private static final Map<Object, SSLContext> CONTEXTS = new ConcurrentHashMap<>();

    private record ContextKey(SmtpClientSettings.ClientIdentity identity, java.time.Duration sessionTimeout) {
    }

    /* context - the client context: the configured keys, any server certificate (classify() judges it) */
    private static SSLContext context(SmtpClientSettings.TlsOptions o) throws IOException {
        ContextKey key = new ContextKey(o.identity(), o.sessionTimeout());
        SSLContext ctx = CONTEXTS.get(key);
        if (ctx != null) {
            return ctx;
        }
        try {
            KeyManager[] keys = null;
            KeyStore store = org.postern.smtp.api.TlsKeys.load(o.identity(), "smtp_");
            if (store != null) {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(store, org.postern.smtp.api.TlsKeys.PASSWORD);
                keys = kmf.getKeyManagers();
            }
            ctx = SSLContext.getInstance("TLS");
            ctx.init(keys, new TrustManager[] {new AcceptAll()}, new SecureRandom());
            ctx.getClientSessionContext().setSessionTimeout((int) Math.min(8_640_000, o.sessionTimeout().toSeconds()));
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS unavailable: " + e.getMessage(), e);
        }
        if (CONTEXTS.size() > 100) {
            CONTEXTS.clear();
        }
        CONTEXTS.put(key, ctx);
        return ctx;
    }

    /** the protocols Postfix's smtp_tls_protocols syntax can name that TLS still has, oldest first */
    private static final List<String> TLS_PROTOCOLS = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");

    /**
     * protocols - Postfix's protocol list: names to use ("TLSv1.2 TLSv1.3"), names to exclude
     * ("!SSLv2, !SSLv3, !TLSv1"), or bounds (">=TLSv1.2", "<=TLSv1.2"); SSLv2 and SSLv3 are
     * never used. The result is limited to what the runtime supports.
     */
    static String[] protocols(List<String> spec, String[] supported) {
        List<String> include = new ArrayList<>();
        List<String> exclude = new ArrayList<>();
        int min = 0;
        int max = TLS_PROTOCOLS.size() - 1;
        for (String item : spec) {
            for (String word : item.split("[:,\\s]+")) {
                if (word.isEmpty()) {
                    continue;
                }
                if (word.startsWith(">=") || word.startsWith("<=")) {
                    int i = indexOf(word.substring(2));
                    if (i >= 0 && word.startsWith(">=")) {
                        min = Math.max(min, i);
                    } else if (i >= 0) {
                        max = Math.min(max, i);
                    }
                } else if (word.startsWith("!")) {
                    exclude.add(word.substring(1).toLowerCase(Locale.ROOT));
                } else {
                    include.add(word.toLowerCase(Locale.ROOT));
                }
            }
        }
        List<String> supportedList = List.of(supported);
        List<String> out = new ArrayList<>();
        for (int i = min; i <= max; i++) {
            String p = TLS_PROTOCOLS.get(i);
            String lower = p.toLowerCase(Locale.ROOT);
            if ((include.isEmpty() || include.contains(lower)) && !exclude.contains(lower) && supportedList.contains(p)) {
                out.add(p);
            }
        }
        return out.toArray(new String[0]);
    }

    private static int indexOf(String protocol) {
        for (int i = 0; i < TLS_PROTOCOLS.size(); i++) {
            if (TLS_PROTOCOLS.get(i).equalsIgnoreCase(protocol)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * ciphers - the enabled suites less those smtp_tls_exclude_ciphers names: standard names,
     * OpenSSL suite names, or OpenSSL cipher types. TLS 1.3 suites stay (OpenSSL's cipher
     * lists do not govern them either). The grade parameters need no filtering: every suite
     * the Java runtime enables is of OpenSSL's HIGH grade.
     */
    static String[] ciphers(String[] enabled, List<String> exclude) {
        if (exclude.isEmpty()) {
            return enabled;
        }
        List<String> out = new ArrayList<>();
        for (String suite : enabled) {
            boolean tls13 = !suite.contains("_WITH_") && !suite.endsWith("_SCSV");
            boolean drop = false;
            for (String x : exclude) {
                if (!tls13 && excludes(suite, x.trim())) {
                    drop = true;
                    break;
                }
            }
            if (!drop) {
                out.add(suite);
            }
        }
        return out.toArray(new String[0]);
    }

    /* excludes - does an exclusion (a suite name in either spelling, or an OpenSSL type) cover this suite */
    static boolean excludes(String suite, String x) {
        if (x.isEmpty() || suite.endsWith("_SCSV")) {
            return false;
        }
        if (x.equalsIgnoreCase(suite) || (x.contains("-") && openSslName(x).equals(suite))) {
            return true;
        }
        return switch (x) {
            case "aNULL", "ADH", "AECDH" -> suite.contains("_anon_");
            case "eNULL", "NULL" -> suite.contains("_WITH_NULL_");
            case "MD5" -> suite.endsWith("_MD5");
            case "SHA1", "SHA" -> suite.endsWith("_SHA");
            case "SHA256" -> suite.endsWith("_SHA256");
            case "SHA384" -> suite.endsWith("_SHA384");
            case "RC4" -> suite.contains("_RC4_");
            case "DES" -> suite.contains("_DES_") || suite.contains("_DES40_");
            case "3DES" -> suite.contains("_3DES_");
            case "AES" -> suite.contains("_AES_");
            case "AES128" -> suite.contains("_AES_128_");
            case "AES256" -> suite.contains("_AES_256_");
            case "AESGCM" -> suite.contains("_AES_") && suite.contains("_GCM_");
            case "AESCCM" -> suite.contains("_AES_") && suite.contains("_CCM");
            case "CAMELLIA" -> suite.contains("_CAMELLIA_");
            case "CHACHA20" -> suite.contains("_CHACHA20_");
            case "kRSA" -> suite.startsWith("TLS_RSA_WITH_");
            case "aRSA" -> suite.contains("RSA_WITH_");
            case "aECDSA", "ECDSA" -> suite.contains("_ECDSA_");
            case "kDHE", "DHE", "EDH", "kEDH" -> suite.startsWith("TLS_DHE_");
            case "kECDHE", "ECDHE", "EECDH", "kEECDH" -> suite.startsWith("TLS_ECDHE_");
            case "PSK" -> suite.contains("_PSK_");
            default -> false;
        };
    }

    /**
     * openSslName - the standard name of an OpenSSL suite name: ECDHE-RSA-AES128-GCM-SHA256 is
     * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, AES256-SHA is TLS_RSA_WITH_AES_256_CBC_SHA.
     */
    static String openSslName(String name) {
        List<String> parts = new ArrayList<>(List.of(name.toUpperCase(Locale.ROOT).split("-")));
        String kx = "RSA";
        String auth = "";
        if (!parts.isEmpty() && (parts.get(0).equals("ECDHE") || parts.get(0).equals("DHE"))) {
            kx = parts.remove(0);
            auth = parts.isEmpty() ? "" : parts.remove(0);
        }
        String cipher;
        String mac;
        if (parts.size() >= 2 && parts.get(0).equals("CHACHA20") && parts.get(1).equals("POLY1305")) {
            cipher = "CHACHA20_POLY1305";
            mac = "SHA256";
        } else if (!parts.isEmpty() && parts.get(0).matches("AES(128|256)")) {
            String bits = parts.get(0).substring(3);
            String mode = parts.size() >= 3 && (parts.get(1).equals("GCM") || parts.get(1).equals("CCM")) ? parts.get(1) : "CBC";
            cipher = "AES_" + bits + "_" + mode;
            mac = parts.get(parts.size() - 1);
        } else if (!parts.isEmpty() && parts.get(0).matches("CAMELLIA(128|256)")) {
            cipher = "CAMELLIA_" + parts.get(0).substring(8) + "_CBC";
            mac = parts.get(parts.size() - 1);
        } else {
            return "";
        }
        return "TLS_" + kx + (auth.isEmpty() ? "" : "_" + auth) + "_WITH_" + cipher + "_" + mac;
    }

    /**
     * describe - "subject_CN=..., issuer_CN=..., fingerprint=..., pkey_fingerprint=..." (SHA-256,
     * colon-separated hex, Postfix's smtp_tls_fingerprint_digest default since 3.6).
     */
    static String describe(X509Certificate cert) {
        return "subject_CN=" + cn(cert.getSubjectX500Principal().getName()) + ", issuer_CN="
                + cn(cert.getIssuerX500Principal().getName()) + ", fingerprint=" + fingerprint(encoded(cert))
                + ", pkey_fingerprint=" + fingerprint(cert.getPublicKey().getEncoded());
    }

    private static String cn(String dn) {
        Matcher m = CN.matcher(dn);
        return m.find() ? m.group(1).trim() : "";
    }

    private static byte[] encoded(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            return new byte[0];
        }
    }

    private static String fingerprint(byte[] der) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(der);
            StringBuilder b = new StringBuilder();
            for (byte x : d) {
                if (b.length() > 0) {
                    b.append(':');
                }
                b.append(String.format(Locale.ROOT, "%02X", x));
            }
            return b.toString();
        } catch (GeneralSecurityException e) {
            return "";
        }
    }

    /** chain - the server's certificates, its own first; empty when it sent none that is X.509. */
    static X509Certificate[] chain(SSLSession session) {
        try {
            Certificate[] peer = session.getPeerCertificates();
            X509Certificate[] chain = new X509Certificate[peer.length];
            for (int i = 0; i < peer.length; i++) {
                chain[i] = (X509Certificate) peer[i];
            }
            return chain;
        } catch (IOException | ClassCastException e) {
            return new X509Certificate[0];
        }
    }

    /* classify - Verified, Trusted or Untrusted */
    private static String classify(X509Certificate[] chain, SmtpClientSettings.Tls tls, List<String> names) {
        if (chain.length == 0) {
            return "Untrusted";
        }
        try {
            trustManager(tls).checkServerTrusted(chain, "UNKNOWN");
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return "Untrusted";
        }
        return matches(chain[0], names) ? "Verified" : "Trusted";
    }

    /**
     * mtaStsProblem - RFC 8461 section 4.2 for an established session: null when the server's
     * chain is trusted (the anchors of {@code tls}, as at the verify level) and its certificate
     * has a subjectAltName dNSName matching {@code host} (a "*" first label matches one label,
     * RFC 6125; the subject CN does not count); otherwise what is wrong.
     */
    static String mtaStsProblem(Established est, SmtpClientSettings.Tls tls, String host) {
        X509Certificate[] chain;
        try {
            chain = chain(est.socket().getSession());
        } catch (RuntimeException e) {
            chain = new X509Certificate[0];
        }
        if (chain.length == 0 || classify(chain, tls, List.of()).equals("Untrusted")) {
            return "the certificate of " + host + " is not trusted";
        }
        try {
            Collection<List<?>> alt = chain[0].getSubjectAlternativeNames();
            if (alt != null) {
                String wanted = host.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
                for (List<?> entry : alt) {
                    if (entry.size() >= 2 && Integer.valueOf(2).equals(entry.get(0))
                            && nameMatches(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT), wanted)) {
                        return null;
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable subjectAltName
        }
        return "the certificate has no subjectAltName for " + host;
    }

    /** matches - the certificate names one of {@code names} ("." + domain: any subdomain of it). */
    static boolean matches(X509Certificate cert, List<String> names) {
        List<String> certNames = new ArrayList<>();
        try {
            Collection<List<?>> alt = cert.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (entry.size() >= 2 && Integer.valueOf(2).equals(entry.get(0))) {
                        certNames.add(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        if (certNames.isEmpty()) {
            Matcher m = CN.matcher(cert.getSubjectX500Principal().getName());
            if (m.find()) {
                certNames.add(m.group(1).trim().toLowerCase(Locale.ROOT));
            }
        }
        for (String wanted : names) {
            String w = wanted.toLowerCase(Locale.ROOT);
            for (String c : certNames) {
                if (nameMatches(c, w)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean nameMatches(String certName, String wanted) {
        if (wanted.startsWith(".")) {
            // dot-nexthop: any subdomain of the next-hop domain
            String host = certName.startsWith("*.") ? certName.substring(1) : certName;
            return host.endsWith(wanted) && host.length() > wanted.length();
        }
        if (certName.startsWith("*.")) {
            int dot = wanted.indexOf('.');
            return dot > 0 && wanted.substring(dot).equals(certName.substring(1));
        }
        return certName.equals(wanted);
    }

    /* trustManager - from smtp_tls_CAfile/smtp_tls_CApath, cached per pair; the runtime's when both are empty */
    private static X509TrustManager trustManager(SmtpClientSettings.Tls tls) throws IOException, GeneralSecurityException {
        int depth = Math.max(1, tls.options().verifyDepth());
        String key = tls.caFile() + "\u0000" + tls.caPath() + "\u0000" + depth;
        X509TrustManager tm = TRUST.get(key);
        if (tm != null) {
            return tm;
        }
        KeyStore anchors = null;
        if (!tls.caFile().isEmpty() || !tls.caPath().isEmpty()) {
            anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            List<Path> files = new ArrayList<>();
            if (!tls.caFile().isEmpty()) {
                files.add(Path.of(tls.caFile()));
            }
            if (!tls.caPath().isEmpty()) {
                try (Stream<Path> s = Files.list(Path.of(tls.caPath()))) {
                    s.filter(Files::isRegularFile).sorted().forEach(files::add);
                }
            }
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            int n = 0;
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (Certificate c : cf.generateCertificates(in)) {
                        anchors.setCertificateEntry("ca" + n++, c);
                    }
                } catch (java.security.cert.CertificateException e) {
                    // CApath may hold other files (hash links to the same, CRLs): skip what is no certificate
                    if (f.toString().equals(tls.caFile())) {
                        throw e;
                    }
                }
            }
        }
        if (anchors == null) {
            // the runtime's trust store, so that the path length limit below applies to it too
            anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            Path cacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
            try (InputStream in = Files.newInputStream(cacerts)) {
                anchors.load(in, null);
            }
        }
        // smtp_tls_scert_verifydepth: depth 1 is a server certificate issued by a trusted CA itself
        java.security.cert.PKIXBuilderParameters pkix = new java.security.cert.PKIXBuilderParameters(anchors,
                new java.security.cert.X509CertSelector());
        pkix.setRevocationEnabled(false);
        pkix.setMaxPathLength(depth - 1);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(new javax.net.ssl.CertPathTrustManagerParameters(pkix));
        for (TrustManager t : tmf.getTrustManagers()) {
            if (t instanceof X509TrustManager x) {
                TRUST.put(key, x);
                return x;
            }
        }
        throw new GeneralSecurityException("no X509TrustManager");
    }

    /* AcceptAll - the handshake accepts any certificate; classify() decides afterwards by level */
    private static final class AcceptAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
