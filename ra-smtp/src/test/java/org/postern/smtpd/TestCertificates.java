package org.postern.smtpd;

import org.postern.test.Peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

/** TestCertificates - a self-signed certificate made with openssl for the TLS tests, and a trusting client. */
final class TestCertificates {
    private TestCertificates() {
    }

    /** Pem - the certificate and key files. */
    record Pem(Path cert, Path key) {
        SslContext serverContext() throws IOException {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile()).build();
        }
    }

    /** selfSigned - "openssl req -x509" for CN=mx.example.org into dir; skips the test without openssl. */
    static Pem selfSigned(Path dir) throws IOException, InterruptedException {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p;
        try {
            p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=mx.example.org")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Peers.abort("openssl is not available to make a test certificate: " + e.getMessage());
            throw e;
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl req failed: " + output);
        }
        if (!Files.readString(key).contains("BEGIN PRIVATE KEY")) {
            throw new IOException("openssl wrote no PKCS#8 key");
        }
        return new Pem(cert, key);
    }

    /** trustAll - a client SSLContext that accepts the self-signed certificate. */
    static SSLContext trustAll() throws Exception {
        TrustManager tm = new X509TrustManager() {
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
        };
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {tm}, null);
        return c;
    }
}
