package org.postern.smtp.sts;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;

/**
 * MtaStsFetcher - the HTTPS fetch of an MTA-STS policy (RFC 8461 section 3.3).
 *
 * <h2>DESCRIPTION</h2>
 * {@code GET /.well-known/mta-sts.txt} from {@code mta-sts.<domain>} on port 443, HTTP/1.1
 * with {@code Connection: close}. The host's addresses come from the SMTP client's own
 * resolver (the one its MX lookups use), tried in order. The server certificate must chain
 * to a trust anchor (smtp_mta_sts_CAfile, else the Java runtime's trust store) and match
 * {@code mta-sts.<domain>} (the runtime's HTTPS host name check, RFC 2818/6125); SNI names
 * the host. Only a 200 response counts: redirects (3xx) are not followed. The media type
 * must be {@code text/plain} (parameters such as a charset allowed); the body (plain,
 * Content-Length or chunked) may be at most 64 KiB and is read as UTF-8. Everything,
 * from the address lookup to the last byte, must finish within smtp_mta_sts_fetch_timeout.
 *
 * <h2>SECURITY</h2>
 * Talks to a web server named by DNS; trusts it only with a verified certificate, and
 * bounds what it reads (header lines, headers, body) and how long it waits.
 */
public class MtaStsFetcher {

    /** RFC 8461 section 3.3: a policy body larger than 64 KiB is not accepted */
    public static final int BODY_LIMIT = 64 * 1024;
    private static final int HEADER_LIMIT = 16 * 1024;
    private static final int PORT = 443;

    private static final Map<String, SSLContext> CONTEXTS = new ConcurrentHashMap<>();

    /** fetch - the policy text of {@code domain}; IOException says why there is none. */
    public String fetch(String domain, DnsResolver dns, Duration timeout, String caFile) throws IOException {
        String host = "mta-sts." + domain;
        long deadline = System.nanoTime() + timeout.toNanos();
        List<InetAddress> addresses;
        try {
            addresses = dns.lookupAddresses(host);
        } catch (DnsLookupException e) {
            throw new IOException("cannot resolve " + host + ": " + e.getMessage());
        }
        if (addresses.isEmpty()) {
            throw new IOException("no address for " + host);
        }
        IOException last = null;
        for (InetAddress a : addresses) {
            Socket plain = new Socket();
            try {
                plain.connect(new InetSocketAddress(a, PORT), remaining(deadline));
            } catch (IOException e) {
                plain.close();
                last = new IOException("connect to " + host + "[" + a.getHostAddress() + "]:" + PORT + ": "
                        + e.getMessage(), e);
                continue;
            }
            try (Socket s = plain) {
                return get(s, host, deadline, caFile);
            }
        }
        throw last;
    }

    /* get - TLS, the request and the response over one connection */
    private String get(Socket plain, String host, long deadline, String caFile) throws IOException {
        plain.setSoTimeout(remaining(deadline));
        SSLSocket ssl = (SSLSocket) context(caFile).getSocketFactory().createSocket(plain, host, PORT, true);
        SSLParameters p = ssl.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(host)));
        p.setEndpointIdentificationAlgorithm("HTTPS");   // the certificate must name mta-sts.<domain>
        ssl.setSSLParameters(p);
        ssl.setUseClientMode(true);
        try {
            ssl.startHandshake();
        } catch (IOException e) {
            throw new IOException("TLS handshake with " + host + " failed: " + e.getMessage(), e);
        }
        OutputStream out = ssl.getOutputStream();
        out.write(("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/plain\r\n"
                + "User-Agent: Postern\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = new Deadline(new java.io.BufferedInputStream(ssl.getInputStream()), ssl, deadline);
        int[] headerBytes = {0};
        String status = line(in, headerBytes);
        String[] words = status.split(" ", 3);
        if (words.length < 2 || !words[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response from " + host + ": " + status);
        }
        if (!words[1].equals("200")) {
            throw new IOException("HTTP status " + words[1] + " from " + host
                    + (words[1].startsWith("3") ? " (redirects are not followed)" : ""));
        }
        String type = null;
        long length = -1;
        boolean chunked = false;
        for (String h = line(in, headerBytes); !h.isEmpty(); h = line(in, headerBytes)) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-type" -> type = value;
                case "content-length" -> {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IOException("invalid Content-Length from " + host + ": " + value);
                    }
                }
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                default -> {
                }
            }
        }
        String media = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!media.equals("text/plain")) {
            throw new IOException("media type of the policy from " + host + " is not text/plain: " + type);
        }
        byte[] body = chunked ? chunked(in, host) : body(in, length, host);
        return new String(body, StandardCharsets.UTF_8);
    }

    private static byte[] body(InputStream in, long length, String host) throws IOException {
        if (length > BODY_LIMIT) {
            throw new IOException("policy from " + host + " is larger than " + BODY_LIMIT + " bytes");
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        long left = length < 0 ? BODY_LIMIT + 1L : length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                if (length >= 0) {
                    throw new IOException("policy from " + host + " ended early");
                }
                break;
            }
            b.write(buf, 0, n);
            left -= n;
        }
        if (b.size() > BODY_LIMIT) {
            throw new IOException("policy from " + host + " is larger than " + BODY_LIMIT + " bytes");
        }
        return b.toByteArray();
    }

    private static byte[] chunked(InputStream in, String host) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int[] lineBytes = {0};
        while (true) {
            lineBytes[0] = 0;
            String size = line(in, lineBytes).split(";", 2)[0].trim();
            long n;
            try {
                n = Long.parseLong(size, 16);
            } catch (NumberFormatException e) {
                throw new IOException("invalid chunk size from " + host + ": " + size);
            }
            if (n == 0) {
                return b.toByteArray();
            }
            if (n < 0 || b.size() + n > BODY_LIMIT) {
                throw new IOException("policy from " + host + " is larger than " + BODY_LIMIT + " bytes");
            }
            b.write(body(in, n, host));
            lineBytes[0] = 0;
            line(in, lineBytes);   // the CRLF after the chunk
        }
    }

    /* line - one header line without its CRLF; the header bytes are counted against HEADER_LIMIT */
    private static String line(InputStream in, int[] count) throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed in the HTTP header");
            }
            if (++count[0] > HEADER_LIMIT) {
                throw new IOException("HTTP header too long");
            }
            if (c == '\n') {
                int end = b.length();
                return (end > 0 && b.charAt(end - 1) == '\r' ? b.substring(0, end - 1) : b.toString());
            }
            b.append((char) c);
        }
    }

    private static int remaining(long deadline) throws IOException {
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0) {
            throw new java.net.SocketTimeoutException("smtp_mta_sts_fetch_timeout reached");
        }
        return (int) Math.min(Integer.MAX_VALUE, ms);
    }

    /* context - TLS with the trust anchors of caFile, or the runtime's default ones; made once per file */
    private static SSLContext context(String caFile) throws IOException {
        SSLContext ctx = CONTEXTS.get(caFile);
        if (ctx != null) {
            return ctx;
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (caFile.isEmpty()) {
                tmf.init((KeyStore) null);
            } else {
                KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
                anchors.load(null, null);
                try (InputStream in = Files.newInputStream(Path.of(caFile))) {
                    int n = 0;
                    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        anchors.setCertificateEntry("ca" + n++, c);
                    }
                }
                tmf.init(anchors);
            }
            ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
        } catch (GeneralSecurityException e) {
            throw new IOException("smtp_mta_sts_CAfile " + caFile + ": " + e.getMessage(), e);
        }
        CONTEXTS.put(caFile, ctx);
        return ctx;
    }

    /* Deadline - reads that never wait past the fetch's deadline */
    private static final class Deadline extends java.io.FilterInputStream {
        private final Socket socket;
        private final long deadline;

        Deadline(InputStream in, Socket socket, long deadline) {
            super(in);
            this.socket = socket;
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            socket.setSoTimeout(remaining(deadline));
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            socket.setSoTimeout(remaining(deadline));
            return super.read(b, off, len);
        }
    }
}
