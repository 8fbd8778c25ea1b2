package org.postern.smtp;

import org.postern.smtp.api.SmtpClientSettings;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

/**
 * SmtpStream - the byte stream of one client session, TCP or unix-domain, with a time
 * limit on every read and every write (Postfix's per-operation smtp_*_timeout semantics).
 *
 * <p>A read or write that exceeds the current limit throws {@link SocketTimeoutException};
 * end of file throws {@link EOFException}; after either the stream is closed and useless.
 */
final class SmtpStream implements Closeable {

    /** bound on one reply line, as Postfix's line_length_limit (2048) bounds what it reads */
    static final int REPLY_LINE_LIMIT = 2048;
    /** bound on the lines of one multi-line reply: a server must not keep us reading forever */
    static final int REPLY_LINES_LIMIT = 1000;

    private final Closeable channel;
    private final Socket socket;            // null for a unix-domain channel
    private final InputStream in;
    private final OutputStream out;
    private volatile boolean expired;
    private Duration limit = Duration.ZERO;
    /* the reply line being read: one per connection, not one per line */
    private final byte[] lineBuf = new byte[REPLY_LINE_LIMIT];

    private SmtpStream(Closeable channel, Socket socket, InputStream rawIn, OutputStream rawOut) {
        this.channel = channel;
        this.socket = socket;
        InputStream timedIn = socket != null ? rawIn : new WatchedInput(rawIn);
        this.in = new BufferedInputStream(timedIn, 8192);
        this.out = new BufferedOutputStream(new WatchedOutput(rawOut), 16384);
    }

    /** connectTcp - open a TCP connection within {@code connectTimeout} (zero: the OS limit). */
    static SmtpStream connectTcp(InetSocketAddress address, Duration connectTimeout) throws IOException {
        return connectTcp(address, null, connectTimeout);
    }

    /** connectTcp - the same, from local address {@code bind} (smtp_bind_address) unless null. */
    static SmtpStream connectTcp(InetSocketAddress address, InetSocketAddress bind, Duration connectTimeout)
            throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            if (bind != null) {
                s.bind(bind);
            }
            s.connect(address, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
            return new SmtpStream(s, s, s.getInputStream(), s.getOutputStream());
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** connectUnix - open a unix-domain stream connection (lmtp:unix:/path). */
    static SmtpStream connectUnix(Path path, Duration connectTimeout) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ScheduledFuture<?> deadline = SmtpWatchdog.arm(connectTimeout, () -> closeQuietly(ch));
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            closeQuietly(ch);
            throw e;
        } finally {
            SmtpWatchdog.disarm(deadline);
        }
        return new SmtpStream(ch, null, Channels.newInputStream(ch), Channels.newOutputStream(ch));
    }

    /** pendingInput - bytes the server sent that were not read yet (a check before STARTTLS). */
    int pendingInput() throws IOException {
        return in.available();
    }

    /** isTcp - a TCP connection (STARTTLS is possible); false for a unix-domain socket. */
    boolean isTcp() {
        return socket != null;
    }

    /**
     * startTls - the TLS handshake over this connection within {@code timeout}; this stream
     * must not be used afterwards, the returned one carries the session.
     */
    SmtpTls.Established startTls(String serverName, int port, SmtpClientSettings.Tls tls, java.util.List<String> names,
                                 Duration timeout) throws IOException {
        out.flush();
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        ScheduledFuture<?> d = SmtpWatchdog.arm(timeout, this::expire);
        try {
            return SmtpTls.start(socket, serverName, port, tls, names);
        } catch (IOException e) {
            throw expired ? new SocketTimeoutException("TLS handshake timed out") : e;
        } finally {
            SmtpWatchdog.disarm(d);
        }
    }

    /** over - a stream over plain streams, without a socket and without a time limit (tests, fuzzing). */
    static SmtpStream over(InputStream in, OutputStream out) {
        return new SmtpStream(in, null, in, out);
    }

    /** overTls - the stream of an established TLS session. */
    static SmtpStream overTls(SmtpTls.Established tls) throws IOException {
        return new SmtpStream(tls.socket(), tls.socket(), tls.socket().getInputStream(), tls.socket().getOutputStream());
    }

    /** limit - the time limit of each following read and write; zero for none. */
    void limit(Duration perOperation) throws IOException {
        this.limit = perOperation;
        if (socket != null) {
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, perOperation.toMillis()));
        }
    }

    /** command - queue one command line (CRLF appended); nothing is sent before {@link #flush}. */
    void command(String line) throws IOException {
        if (trace != null || history != null) {
            // never the credentials of an AUTH command or of the responses that follow it
            boolean secret = line.regionMatches(true, 0, "AUTH ", 0, 5) && line.trim().indexOf(' ', 5) > 0
                    || authExchange;
            String shown = secret ? "AUTH ********" : line;
            if (trace != null) {
                trace.info("> " + peer + ": " + shown);
            }
            remember("Out: " + shown);
            authExchange = line.regionMatches(true, 0, "AUTH ", 0, 5);
        }
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write('\r');
        out.write('\n');
    }

    /** write - queue raw bytes (message content). */
    void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
    }

    void flush() throws IOException {
        out.flush();
    }

    /** readReply - read one complete reply, all its continuation lines included. */
    /* debug_peer_list: the mail log that the conversation goes to, and the peer's name */
    private org.postern.maillog.MailLogger trace;
    private String peer;
    private boolean authExchange;

    /** trace - log every command and reply line of this connection (debug_peer_list), as "> peer: ..." and "< peer: ...". */
    void trace(org.postern.maillog.MailLogger log, String peerName) {
        this.trace = log;
        this.peer = peerName;
    }

    SmtpReply readReply() throws IOException {
        SmtpReply r = readReplyLines();
        if (trace != null || history != null) {
            for (int i = 0; i < r.lines().size(); i++) {
                String sep = i < r.lines().size() - 1 ? "-" : " ";
                String line = (r.code() > 0 ? r.code() + sep : "") + r.lines().get(i);
                if (trace != null) {
                    trace.info("< " + peer + ": " + line);
                }
                remember("In:  " + line);
            }
        }
        return r;
    }

    /* notify_classes = protocol: the session's transcript, shared by the plain and the TLS stream */
    private java.util.List<String> history;

    /** history - record every command and reply line in {@code lines} ("Out: ", "In:  "), up to its limit. */
    void history(java.util.List<String> lines) {
        this.history = lines;
    }

    private void remember(String line) {
        if (history != null && history.size() < org.postern.smtp.api.DeliveryOutcome.Transcript.LIMIT) {
            history.add(line);
        }
    }

    private SmtpReply readReplyLines() throws IOException {
        List<String> lines = new ArrayList<>();
        int code = -1;
        while (true) {
            String line = readLine();
            // ASCII digits only: Character.isDigit and Integer.parseInt also take "\u0662\u0665\u0660" for 250
            boolean wellFormed = line.length() >= 3 && isAsciiDigit(line.charAt(0))
                    && isAsciiDigit(line.charAt(1)) && isAsciiDigit(line.charAt(2))
                    && (line.length() == 3 || line.charAt(3) == ' ' || line.charAt(3) == '-');
            if (!wellFormed) {
                lines.add(line);
                return new SmtpReply(0, lines);
            }
            if (code < 0) {
                code = Integer.parseInt(line.substring(0, 3));
            }
            lines.add(line.length() > 4 ? line.substring(4) : "");
            boolean more = line.length() > 3 && line.charAt(3) == '-';
            if (!more || lines.size() >= REPLY_LINES_LIMIT) {
                return new SmtpReply(code, lines);
            }
        }
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String readLine() throws IOException {
        int len = 0;
        while (true) {
            int c = readByte();
            if (c < 0) {
                throw new EOFException("end of file");
            }
            if (c == '\n') {
                break;
            }
            if (len < REPLY_LINE_LIMIT) {
                lineBuf[len++] = (byte) c;
            }
        }
        int n = len > 0 && lineBuf[len - 1] == '\r' ? len - 1 : len;
        return new String(lineBuf, 0, n, StandardCharsets.UTF_8);
    }

    /* readByte - one byte; a read that failed because the watchdog closed the channel is a timeout */
    private int readByte() throws IOException {
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            if (expired) {
                throw new SocketTimeoutException("timed out");
            }
            throw e;
        }
    }

    boolean isClosed() {
        return socket != null ? socket.isClosed() : !((SocketChannel) channel).isOpen();
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a broken socket: nothing left to do
        }
    }

    /* WatchedInput - a read with a deadline, for channels without SO_TIMEOUT */
    private final class WatchedInput extends FilterInputStream {
        WatchedInput(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            ScheduledFuture<?> d = SmtpWatchdog.arm(limit, SmtpStream.this::expire);
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw expired ? new SocketTimeoutException("read timed out") : e;
            } finally {
                SmtpWatchdog.disarm(d);
            }
        }
    }

    /* WatchedOutput - a write with a deadline: a peer that stops reading must not block us forever */
    private final class WatchedOutput extends FilterOutputStream {
        WatchedOutput(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ScheduledFuture<?> d = SmtpWatchdog.arm(limit, SmtpStream.this::expire);
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw expired ? new SocketTimeoutException("write timed out") : e;
            } finally {
                SmtpWatchdog.disarm(d);
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }
    }

    private void expire() {
        expired = true;
        closeQuietly(channel);
    }

    /** abort - close the connection from another thread (daemon_timeout): the blocked operation fails as timed out. */
    void abort() {
        expire();
    }
}
