package org.postern.smtpd;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * DovecotAuthenticator - SMTP AUTH credentials checked by a Dovecot auth server, as
 * Postfix does with smtpd_sasl_type = dovecot.
 *
 * <h2>DESCRIPTION</h2>
 * Speaks the Dovecot authentication protocol (version 1.2, client side) to the server
 * named by smtpd_sasl_path: {@code inet:host:port}, or the absolute path of a UNIX-domain
 * socket (Postfix writes {@code private/auth}, relative to its queue directory; Postern
 * has none, so the path must be absolute). One connection per check: handshake
 * (VERSION, CPID; the server's MECH list up to DONE), then an AUTH request with
 * mechanism PLAIN and service=smtp, answered OK or FAIL. The client's own mechanism
 * (PLAIN or LOGIN) does not matter: the session has decoded the credentials already.
 *
 * <h2>SECURITY</h2>
 * Runs on the blocking executor. Sends the password to the auth server, so the path
 * must be local or otherwise protected. The request does not claim "secured": Dovecot's
 * disable_plaintext_auth applies unless the auth server is told otherwise; Postern's
 * smtpd_tls_auth_only decides what the SMTP client may do. Every read is bounded by a
 * timeout; a server that cannot be reached is a temporary failure (exception), not a
 * wrong password.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_sasl_type (dovecot), smtpd_sasl_path.
 */
public final class DovecotAuthenticator implements SmtpdAuthenticator {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    private static final AtomicInteger REQUEST_IDS = new AtomicInteger();
    private static final int MAX_LINE = 8192;

    private final String path;
    private final Duration timeout;

    /** DovecotAuthenticator - path as smtpd_sasl_path: inet:host:port or /absolute/socket. */
    public DovecotAuthenticator(String path, Duration timeout) {
        if (!(path.startsWith("inet:") && path.lastIndexOf(':') > 5) && !path.startsWith("/")) {
            throw new IllegalArgumentException("smtpd_sasl_path = " + path + ": with smtpd_sasl_type = dovecot "
                    + "specify inet:host:port or the absolute path of the auth socket");
        }
        this.path = path;
        this.timeout = timeout;
    }

    @Override
    public boolean authenticate(String authzid, String username, char[] password) {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(password));
        byte[] secret = encoded.array();
        int secretLength = encoded.limit();
        byte[] plain = null;
        try (Connection c = connect()) {
            handshake(c);
            byte[] a = authzid.getBytes(StandardCharsets.UTF_8);
            byte[] u = username.getBytes(StandardCharsets.UTF_8);
            plain = new byte[a.length + 1 + u.length + 1 + secretLength];
            System.arraycopy(a, 0, plain, 0, a.length);
            System.arraycopy(u, 0, plain, a.length + 1, u.length);
            System.arraycopy(secret, 0, plain, a.length + u.length + 2, secretLength);
            int id = REQUEST_IDS.incrementAndGet() & 0x7fffffff;
            c.write("AUTH\t" + id + "\tPLAIN\tservice=smtp\tnologin\tresp="
                    + Base64.getEncoder().encodeToString(plain) + "\n");
            for (;;) {
                String line = c.readLine();
                String[] f = line.split("\t", -1);
                if (f.length < 2 || !f[1].equals(String.valueOf(id))) {
                    continue;
                }
                switch (f[0]) {
                    case "OK":
                        return true;
                    case "FAIL":
                        return false;
                    default:
                        // CONT: PLAIN with an initial response needs no continuation
                        throw new IllegalStateException("PSTN1121: dovecot auth " + path + ": unexpected reply "
                                + f[0]);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "PSTN1050: cannot talk to the dovecot auth server " + path + ": " + e);
            throw new IllegalStateException("dovecot auth server " + path + " unavailable", e);
        } finally {
            Arrays.fill(secret, (byte) 0);
            if (plain != null) {
                Arrays.fill(plain, (byte) 0);
            }
        }
    }

    /** handshake - VERSION and CPID out; the server's lines up to DONE in. */
    private void handshake(Connection c) throws IOException {
        c.write("VERSION\t1\t2\nCPID\t" + ProcessHandle.current().pid() + "\n");
        String line = c.readLine();
        if (!line.startsWith("VERSION\t1\t")) {
            throw new IOException("not a dovecot auth server: " + line);
        }
        while (!c.readLine().equals("DONE")) {
            // MECH, SPID, CUID, COOKIE: nothing Postern needs
        }
    }

    private Connection connect() throws IOException {
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        if (path.startsWith("inet:")) {
            int colon = path.lastIndexOf(':');
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(path.substring(5, colon), Integer.parseInt(path.substring(colon + 1))),
                        millis);
                s.setSoTimeout(millis);
                return new Connection(s, null, new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8)), s.getOutputStream());
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            }
        }
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
            // a UNIX channel has no read timeout of its own: the auth server is local
            return new Connection(null, ch, new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                    StandardCharsets.UTF_8)), Channels.newOutputStream(ch));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    /** Connection - one request's connection, TCP or UNIX-domain. */
    private record Connection(Socket socket, SocketChannel channel, BufferedReader in, OutputStream out)
            implements AutoCloseable {

        void write(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String readLine() throws IOException {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed by the auth server");
            }
            if (line.length() > MAX_LINE) {
                throw new IOException("line too long from the auth server");
            }
            return line;
        }

        @Override
        public void close() throws IOException {
            if (socket != null) {
                socket.close();
            } else {
                channel.close();
            }
        }
    }
}
