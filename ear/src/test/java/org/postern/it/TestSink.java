package org.postern.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * TestSink - a small SMTP or LMTP server on loopback that records what it receives
 * (envelope and exact content bytes), for the tests of Postern's delivery side.
 * {@code endOfDataReply} decides the reply to the final dot by the number of the
 * transaction (1, 2, ...), so a test can make the first attempt fail with a 4xx.
 */
final class TestSink implements AutoCloseable {

    /** Delivery - one transaction the sink accepted. */
    record Delivery(String mailFrom, List<String> rcptTo, byte[] content) {
        String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private final ServerSocket server;
    private final boolean lmtp;
    private final IntFunction<String> endOfDataReply;
    private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    private final AtomicInteger transactions = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    /* transactions under way (MAIL FROM to the reply to the final dot) now, and the most at once */
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicInteger mostBusy = new AtomicInteger();
    /* sessions open now, and the most at once */
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger mostOpen = new AtomicInteger();
    private final Thread acceptor;
    /** the open sessions, closed with the sink: a closed sink is a server that went away */
    private final java.util.Set<Socket> sessions = java.util.concurrent.ConcurrentHashMap.newKeySet();

    TestSink(int port, boolean lmtp, IntFunction<String> endOfDataReply) throws IOException {
        this.lmtp = lmtp;
        this.endOfDataReply = endOfDataReply;
        this.server = listen(port);
        acceptor = new Thread(this::acceptLoop, "test-sink-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** listen - a listening socket on the port; the previous test's sink there may be closing still. */
    private static ServerSocket listen(int port) throws IOException {
        for (int attempt = 1; ; attempt++) {
            ServerSocket s = new ServerSocket();
            try {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                return s;
            } catch (java.net.BindException e) {
                s.close();
                if (attempt == 50) {
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    static TestSink smtp(int port) throws IOException {
        return new TestSink(port, false, n -> "250 2.0.0 Ok: queued as SINK" + n);
    }

    static TestSink lmtp(int port) throws IOException {
        return new TestSink(port, true, n -> "250 2.0.0 Ok: delivered");
    }

    /** next - the next delivery, waiting up to the timeout; null if none came. */
    Delivery next(long timeout, TimeUnit unit) throws InterruptedException {
        return deliveries.poll(timeout, unit);
    }

    /**
     * nextWith - the next delivery that carries the queue id (in the Received: header;
     * mail another test left for the same domain may come first), or null after the seconds.
     */
    Delivery nextWith(String queueId, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            Delivery d = next(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())), TimeUnit.MILLISECONDS);
            if (d != null && d.text().contains("id " + queueId)) {
                return d;
            }
        }
        return null;
    }

    int transactions() {
        return transactions.get();
    }

    int connections() {
        return connections.get();
    }

    /** mostConcurrentTransactions - the most transactions under way at once since the last {@link #resetMost}. */
    int mostConcurrentTransactions() {
        return mostBusy.get();
    }

    /** mostConcurrentSessions - the most sessions open at once since the last {@link #resetMost}. */
    int mostConcurrentSessions() {
        return mostOpen.get();
    }

    /** resetMost - count the most concurrent transactions and sessions from now on. */
    void resetMost() {
        mostBusy.set(busy.get());
        mostOpen.set(open.get());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sessions.add(s);
                connections.incrementAndGet();
                Thread t = new Thread(() -> session(s), "test-sink-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void session(Socket s) {
        mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
        boolean inTransaction = false;
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            s.setSoTimeout(60_000);
            reply(out, "220 sink.test ESMTP test sink");
            String from = null;
            List<String> rcpts = new ArrayList<>();
            String line;
            while ((line = readLine(in)) != null) {
                String upper = line.toUpperCase();
                if (upper.startsWith("EHLO") || upper.startsWith("LHLO")) {
                    reply(out, "250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES");
                } else if (upper.startsWith("HELO")) {
                    reply(out, "250 sink.test");
                } else if (upper.startsWith("MAIL FROM:")) {
                    if (!inTransaction) {
                        inTransaction = true;
                        mostBusy.accumulateAndGet(busy.incrementAndGet(), Math::max);
                    }
                    from = line.substring(10).trim();
                    rcpts.clear();
                    reply(out, "250 2.1.0 Ok");
                } else if (upper.startsWith("RCPT TO:")) {
                    rcpts.add(line.substring(8).trim());
                    reply(out, "250 2.1.5 Ok");
                } else if (upper.equals("DATA")) {
                    reply(out, "354 End data with <CR><LF>.<CR><LF>");
                    byte[] content = readData(in);
                    int n = transactions.incrementAndGet();
                    String r = endOfDataReply.apply(n);
                    if (lmtp) {
                        StringBuilder sb = new StringBuilder();
                        for (int i = 0; i < rcpts.size(); i++) {
                            sb.append(i == 0 ? "" : "\r\n").append(r);
                        }
                        reply(out, sb.toString());
                    } else {
                        reply(out, r);
                    }
                    if (inTransaction) {
                        inTransaction = false;
                        busy.decrementAndGet();
                    }
                    // recorded once the reply is out: a test that closes the sink on seeing it
                    // must not cut the reply off (the client would defer and send it again)
                    if (r.startsWith("2")) {
                        deliveries.add(new Delivery(from, List.copyOf(rcpts), content));
                    }
                } else if (upper.equals("RSET")) {
                    if (inTransaction) {
                        inTransaction = false;
                        busy.decrementAndGet();
                    }
                    from = null;
                    rcpts.clear();
                    reply(out, "250 2.0.0 Ok");
                } else if (upper.equals("NOOP")) {
                    reply(out, "250 2.0.0 Ok");
                } else if (upper.equals("QUIT")) {
                    reply(out, "221 2.0.0 Bye");
                    return;
                } else {
                    reply(out, "502 5.5.2 Error: command not recognized");
                }
            }
        } catch (IOException e) {
            // the client went away; nothing to record
        } finally {
            if (inTransaction) {
                busy.decrementAndGet();
            }
            open.decrementAndGet();
        }
    }

    /** readData - content up to the final dot, dot-unstuffed, CRLF kept. */
    private static byte[] readData(InputStream in) throws IOException {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        int b;
        while ((b = in.read()) >= 0) {
            line.write(b);
            if (prev == '\r' && b == '\n') {
                byte[] l = line.toByteArray();
                line.reset();
                if (l.length == 3 && l[0] == '.') {
                    return content.toByteArray();
                }
                int skip = l[0] == '.' ? 1 : 0;
                content.write(l, skip, l.length - skip);
            }
            prev = b;
        }
        throw new IOException("connection lost in DATA");
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String s = line.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
        return null;
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        // a client's cached connection must not outlive the sink and feed the next one's test
        for (Socket s : sessions) {
            s.close();
        }
    }
}
