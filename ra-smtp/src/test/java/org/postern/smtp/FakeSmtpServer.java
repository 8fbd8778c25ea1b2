package org.postern.smtp;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * FakeSmtpServer - a scripted SMTP/LMTP server for client tests: default replies, overridden
 * by rules matched on the command's prefix; records every command and every message as
 * received (still dot-stuffed). Reply {@link #HANG} never answers, {@link #CLOSE} disconnects.
 */
final class FakeSmtpServer implements AutoCloseable {

    static final String HANG = "<hang>";
    static final String CLOSE = "<close>";

    private record Rule(String prefix, String reply) {
    }

    private final boolean lmtp;
    private final ServerSocketChannel server;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
    /** every command line received, from all connections, in order; "CONNECT" starts a connection */
    final List<String> transcript = new CopyOnWriteArrayList<>();
    /** command lines that arrived with more input already buffered behind them (pipelined) */
    final List<String> pipelined = new CopyOnWriteArrayList<>();
    /** the content of each message, as received between 354 and the final dot */
    final List<byte[]> messages = new CopyOnWriteArrayList<>();
    /** the size of each BDAT chunk received (RFC 3030), in order */
    final List<Integer> chunks = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    /** the remote address of each connection, e.g. "/127.0.0.2:41234" */
    final List<String> peers = new CopyOnWriteArrayList<>();
    volatile String greeting = "220 fake.test ESMTP";
    volatile List<String> ehloKeywords = List.of("PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN");
    /** after 354, read nothing more: the client's writes block (data transfer timeout) */
    volatile boolean stallAfterData;
    /** when set, STARTTLS is answered with 220 and the session continues over TLS with this context */
    volatile javax.net.ssl.SSLContext tls;
    /** bytes sent in the clear right after "220" to STARTTLS (an injection attempt) */
    volatile String afterStarttls;
    /** set once a session completed a TLS handshake */
    volatile boolean tlsUsed;

    FakeSmtpServer(boolean lmtp) throws IOException {
        this(lmtp, new InetSocketAddress("127.0.0.1", 0));
    }

    FakeSmtpServer(boolean lmtp, SocketAddress bind) throws IOException {
        this.lmtp = lmtp;
        this.server = bind instanceof UnixDomainSocketAddress
                ? ServerSocketChannel.open(StandardProtocolFamily.UNIX) : ServerSocketChannel.open();
        server.bind(bind);
        Thread t = new Thread(this::acceptLoop, "fake-smtp-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** on - answer commands starting with {@code prefix} (case-insensitive; "." for end of data) with {@code reply}. */
    FakeSmtpServer on(String prefix, String reply) {
        rules.add(0, new Rule(prefix.toUpperCase(Locale.ROOT), reply));
        return this;
    }

    List<String> commands(String prefix) {
        return transcript.stream().filter(l -> l.toUpperCase(Locale.ROOT).startsWith(prefix)).toList();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                if (!(ch.getLocalAddress() instanceof UnixDomainSocketAddress)) {
                    // replies to pipelined commands go out one by one: no Nagle delay between them
                    ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                }
                open.add(ch);
                peers.add(String.valueOf(ch.getRemoteAddress()));
                connections.incrementAndGet();
                Thread t = new Thread(() -> serve(ch), "fake-smtp-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            boolean unix = ch.getLocalAddress() instanceof UnixDomainSocketAddress;
            java.net.Socket plain = unix ? null : ch.socket();
            BufferedInputStream in = new BufferedInputStream(unix ? Channels.newInputStream(ch) : plain.getInputStream());
            OutputStream out = unix ? Channels.newOutputStream(ch) : plain.getOutputStream();
            transcript.add("CONNECT");
            if (!reply(out, greeting)) {
                return;
            }
            List<String> accepted = new ArrayList<>();
            ByteArrayOutputStream bdat = new ByteArrayOutputStream();
            String line;
            while ((line = readLine(in)) != null) {
                transcript.add(line);
                if (in.available() > 0) {
                    pipelined.add(line);
                }
                String verb = line.toUpperCase(Locale.ROOT);
                if (verb.equals("STARTTLS") && tls != null && plain != null && rule(verb) == null) {
                    String extra = afterStarttls;
                    out.write(("220 2.0.0 Ready to start TLS\r\n" + (extra == null ? "" : extra))
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                            .createSocket(plain, null, plain.getPort(), true);
                    ssl.setUseClientMode(false);
                    ssl.startHandshake();
                    tlsUsed = true;
                    in = new BufferedInputStream(ssl.getInputStream());
                    out = ssl.getOutputStream();
                    accepted.clear();
                    continue;
                }
                if (verb.startsWith("BDAT ")) {
                    // RFC 3030: "BDAT size [LAST]" and exactly size octets; a refusal still reads them
                    String[] w = verb.split(" +");
                    byte[] chunk = in.readNBytes(Integer.parseInt(w[1]));
                    chunks.add(chunk.length);
                    bdat.write(chunk);
                    boolean last = w.length > 2 && w[2].equals("LAST");
                    String r = rule(verb);
                    if (r == null) {
                        r = accepted.isEmpty() ? "554 5.5.1 Error: no valid recipients"
                                : !last ? "250 2.0.0 Ok: " + chunk.length + " bytes"
                                : rule(".") != null ? rule(".") : null;
                        if (r == null) {
                            messages.add(bdat.toByteArray());
                            r = lmtp ? lmtpDone(accepted) : "250 2.0.0 Ok: queued as FAKE" + messages.size();
                        }
                    }
                    if (last || !r.startsWith("2")) {
                        bdat.reset();
                    }
                    if (last) {
                        accepted.clear();
                    }
                    if (!reply(out, r)) {
                        return;
                    }
                    continue;
                }
                String r = rule(verb);
                if (r == null) {
                    r = standard(verb, line, accepted);
                } else if (verb.startsWith("RCPT") && r.startsWith("2")) {
                    accepted.add(line);
                }
                if (verb.startsWith("MAIL") || verb.startsWith("RSET")) {
                    accepted.clear();
                }
                if (!reply(out, r)) {
                    return;
                }
                if (verb.equals("DATA") && r.startsWith("354")) {
                    if (stallAfterData) {
                        Thread.sleep(60_000);
                        return;
                    }
                    messages.add(readContent(in));
                    String done = rule(".");
                    if (done == null) {
                        done = lmtp ? lmtpDone(accepted) : "250 2.0.0 Ok: queued as FAKE" + messages.size();
                    }
                    accepted.clear();
                    if (!reply(out, done)) {
                        return;
                    }
                }
                if (verb.equals("QUIT")) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away: the test looks at what was recorded
        }
    }

    private String rule(String verb) {
        for (Rule r : rules) {
            if (verb.startsWith(r.prefix())) {
                return r.reply();
            }
        }
        return null;
    }

    private String standard(String verb, String line, List<String> accepted) {
        if (verb.startsWith("EHLO") || verb.startsWith("LHLO")) {
            StringBuilder b = new StringBuilder("250");
            b.append(ehloKeywords.isEmpty() ? " " : "-").append("fake.test");
            for (int i = 0; i < ehloKeywords.size(); i++) {
                b.append("\r\n250").append(i == ehloKeywords.size() - 1 ? " " : "-").append(ehloKeywords.get(i));
            }
            return b.toString();
        }
        if (verb.startsWith("HELO")) {
            return "250 fake.test";
        }
        if (verb.startsWith("MAIL")) {
            return "250 2.1.0 Ok";
        }
        if (verb.startsWith("RCPT")) {
            accepted.add(line);
            return "250 2.1.5 Ok";
        }
        if (verb.equals("DATA")) {
            return accepted.isEmpty() ? "554 5.5.1 Error: no valid recipients" : "354 End data with <CR><LF>.<CR><LF>";
        }
        if (verb.equals("QUIT")) {
            return "221 2.0.0 Bye";
        }
        if (verb.equals("RSET") || verb.equals("NOOP")) {
            return "250 2.0.0 Ok";
        }
        return "502 5.5.2 Error: command not recognized";
    }

    private static String lmtpDone(List<String> accepted) {
        StringBuilder b = new StringBuilder();
        for (String rcpt : accepted) {
            String addr = rcpt.substring(rcpt.indexOf('<'), rcpt.indexOf('>') + 1);
            b.append(b.length() > 0 ? "\n" : "").append("250 2.0.0 ").append(addr).append(" Saved");
        }
        return b.toString();
    }

    /* reply - write the reply lines ("\n" separates complete replies); false to end the session */
    private static boolean reply(OutputStream out, String r) throws IOException, InterruptedException {
        if (HANG.equals(r)) {
            Thread.sleep(60_000);
            return false;
        }
        if (CLOSE.equals(r)) {
            return false;
        }
        out.write((r.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return true;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return null;
    }

    private static byte[] readContent(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            line.write(c);
            if (c == '\n') {
                byte[] l = line.toByteArray();
                if (l.length == 3 && l[0] == '.' && l[1] == '\r') {
                    return all.toByteArray();
                }
                all.write(l);
                line.reset();
            }
        }
        throw new IOException("end of file in DATA");
    }

    /** dropConnections - close every open connection from the server side, as an idle timeout would. */
    void dropConnections() throws IOException {
        for (SocketChannel ch : open) {
            ch.close();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel ch : open) {
            ch.close();
        }
    }
}
