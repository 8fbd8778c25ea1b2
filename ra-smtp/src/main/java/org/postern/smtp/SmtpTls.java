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
 * are empty. Names: subjectAltName dNSName entries (a "*" first label matches one label),
 * or the subject CN when there is no dNSName.
 *
 * <h2>SECURITY</h2>
 * Talks TLS to the server; trusts it only as far as the level requires. The caller checks
 * that no plaintext was pipelined after the 220 to STARTTLS (CVE-2011-0411 class).
 */
final class SmtpTls {

    /** Established - a TLS session and how far its certificate was checked. */
    record Established(SSLSocket socket, String trust, String protocol, String cipher) {

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
        SSLContext ctx;
        try {
            ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new AcceptAll()}, new SecureRandom());
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS unavailable: " + e.getMessage(), e);
        }
        SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(plain, serverName, port, true);
        ssl.setUseClientMode(true);
        if (serverName.indexOf('.') > 0 && !Character.isDigit(serverName.charAt(serverName.length() - 1))
                && serverName.indexOf(':') < 0) {
            SSLParameters p = ssl.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(serverName)));
            ssl.setSSLParameters(p);
        }
        ssl.startHandshake();
        SSLSession session = ssl.getSession();
        String trust = classify(session, tls, names);
        return new Established(ssl, trust, session.getProtocol(), session.getCipherSuite());
    }

    /* classify - Verified, Trusted or Untrusted */
    private static String classify(SSLSession session, SmtpClientSettings.Tls tls, List<String> names) {
        X509Certificate[] chain;
        try {
            Certificate[] peer = session.getPeerCertificates();
            chain = new X509Certificate[peer.length];
            for (int i = 0; i < peer.length; i++) {
                chain[i] = (X509Certificate) peer[i];
            }
        } catch (IOException | ClassCastException e) {
            return "Untrusted";
        }
        try {
            trustManager(tls).checkServerTrusted(chain, "UNKNOWN");
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return "Untrusted";
        }
        return matches(chain[0], names) ? "Verified" : "Trusted";
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
        String key = tls.caFile() + "\u0000" + tls.caPath();
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
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(anchors);
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
