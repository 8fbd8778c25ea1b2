package org.postern.smtpd.policy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.postern.config.ConfigException;
import org.postern.config.Lists;
import org.postern.maillog.MailLogger;

/**
 * PolicyClient - one check_policy_service server (Postfix SMTPD_POLICY_README): the
 * policy delegation protocol over inet:host:port or unix:/path.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #query} sends one request (name=value lines and an empty line) and completes
 * with the value of the server's "action=" attribute. The I/O runs on a small pool of its
 * own, never on a Netty event loop; the session waits for the future without blocking.
 * Connections are kept for more requests (a pool per server) within
 * smtpd_policy_service_max_idle, smtpd_policy_service_max_ttl and
 * smtpd_policy_service_request_limit. A request that fails (connect, write or read
 * error, smtpd_policy_service_timeout, no action in the answer) is tried again on a new
 * connection after smtpd_policy_service_retry_delay, at most
 * smtpd_policy_service_try_limit times in all; then the answer is
 * smtpd_policy_service_default_action.
 *
 * <h2>SECURITY</h2>
 * The server is trusted as a part of the configuration; its answers are bounded
 * (4096 bytes) and attribute values sent to it never contain line ends.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_policy_service_timeout (100s), smtpd_policy_service_max_idle (300s),
 * smtpd_policy_service_max_ttl (1000s), smtpd_policy_service_default_action (451 4.3.5
 * Server configuration problem), smtpd_policy_service_try_limit (2),
 * smtpd_policy_service_retry_delay (1s), smtpd_policy_service_request_limit (0), each
 * also per service in Postfix's {@code { inet:host:port, timeout=10s, default_action=DUNNO }}
 * form (timeout, max_idle, max_ttl, default_action, try_limit, retry_delay,
 * request_limit, policy_context).
 *
 * <h2>BUGS</h2>
 * The I/O threads are the client's own (at most 32), not the adapter's WorkManager.
 */
public final class PolicyClient {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    private static final int MAX_ANSWER = 4096;
    private static final Executor IO = ioPool();

    /** Settings - the parameters of one service. */
    public record Settings(Duration timeout, Duration maxIdle, Duration maxTtl, String defaultAction, int tryLimit,
                           Duration retryDelay, int requestLimit, String policyContext) {
    }

    private final String endpoint;
    private final SocketAddress address;
    private final Settings settings;
    /** the mail log of the smtpd service that asks this server (syslog_name/smtpd) */
    private final MailLogger maillog;
    private final Deque<Conn> idle = new ArrayDeque<>();

    private PolicyClient(String endpoint, SocketAddress address, Settings settings, MailLogger maillog) {
        this.endpoint = endpoint;
        this.address = address;
        this.settings = settings;
        this.maillog = maillog;
    }

    /**
     * parse - "inet:host:port", "unix:/path", or "inet:host:port, name=value, ..." (the
     * inside of Postfix's { } form) with the main.cf defaults; its warnings go to maillog,
     * the smtpd service's mail log.
     */
    public static PolicyClient parse(String spec, Settings defaults, String origin, MailLogger maillog) {
        java.util.List<String> parts = Lists.split(spec);
        if (parts.isEmpty()) {
            throw new ConfigException(origin, 0, "check_policy_service needs a server");
        }
        String endpoint = parts.get(0);
        Settings s = defaults;
        for (String p : parts.subList(1, parts.size())) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(origin, 0, "check_policy_service " + endpoint + ": bad attribute \"" + p + "\"");
            }
            String name = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String value = p.substring(eq + 1).trim();
            try {
                switch (name) {
                    case "timeout": s = new Settings(time(value), s.maxIdle, s.maxTtl, s.defaultAction, s.tryLimit,
                            s.retryDelay, s.requestLimit, s.policyContext); break;
                    case "max_idle": s = new Settings(s.timeout, time(value), s.maxTtl, s.defaultAction, s.tryLimit,
                            s.retryDelay, s.requestLimit, s.policyContext); break;
                    case "max_ttl": s = new Settings(s.timeout, s.maxIdle, time(value), s.defaultAction, s.tryLimit,
                            s.retryDelay, s.requestLimit, s.policyContext); break;
                    case "default_action": s = new Settings(s.timeout, s.maxIdle, s.maxTtl, value, s.tryLimit,
                            s.retryDelay, s.requestLimit, s.policyContext); break;
                    case "try_limit": s = new Settings(s.timeout, s.maxIdle, s.maxTtl, s.defaultAction,
                            Integer.parseInt(value), s.retryDelay, s.requestLimit, s.policyContext); break;
                    case "retry_delay": s = new Settings(s.timeout, s.maxIdle, s.maxTtl, s.defaultAction, s.tryLimit,
                            time(value), s.requestLimit, s.policyContext); break;
                    case "request_limit": s = new Settings(s.timeout, s.maxIdle, s.maxTtl, s.defaultAction,
                            s.tryLimit, s.retryDelay, Integer.parseInt(value), s.policyContext); break;
                    case "policy_context": s = new Settings(s.timeout, s.maxIdle, s.maxTtl, s.defaultAction,
                            s.tryLimit, s.retryDelay, s.requestLimit, value); break;
                    default:
                        throw new ConfigException(origin, 0, "check_policy_service " + endpoint
                                + ": unknown attribute \"" + name + "\"");
                }
            } catch (IllegalArgumentException e) {
                throw new ConfigException(origin, 0, "check_policy_service " + endpoint + ": bad " + name + " \""
                        + value + "\"");
            }
        }
        if (s.tryLimit < 1 || s.timeout.isZero() || s.timeout.isNegative() || s.requestLimit < 0) {
            throw new ConfigException(origin, 0, "check_policy_service " + endpoint
                    + ": try_limit >= 1, timeout > 0 and request_limit >= 0 required");
        }
        return new PolicyClient(endpoint, address(endpoint, origin), s, maillog);
    }

    /** time - "100s", "5m", "1h", "2d", or seconds. */
    static Duration time(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        char unit = v.isEmpty() ? 's' : v.charAt(v.length() - 1);
        long n = Long.parseLong(Character.isDigit(unit) ? v : v.substring(0, v.length() - 1));
        switch (unit) {
            case 'h': return Duration.ofHours(n);
            case 'm': return Duration.ofMinutes(n);
            case 'd': return Duration.ofDays(n);
            case 'w': return Duration.ofDays(7 * n);
            default: return Duration.ofSeconds(n);
        }
    }

    private static SocketAddress address(String endpoint, String origin) {
        if (endpoint.startsWith("unix:")) {
            return UnixDomainSocketAddress.of(endpoint.substring(5));
        }
        String hp = endpoint.startsWith("inet:") ? endpoint.substring(5) : endpoint;
        int colon = hp.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException(origin, 0, "check_policy_service: bad server \"" + endpoint
                    + "\": specify inet:host:port or unix:/path");
        }
        String host = hp.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return InetSocketAddress.createUnresolved(host, Integer.parseInt(hp.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(origin, 0, "check_policy_service: bad server \"" + endpoint + "\"");
        }
    }

    /** endpoint - the server as configured ("inet:127.0.0.1:9998"). */
    public String endpoint() {
        return endpoint;
    }

    /** settings - the parameters of this service. */
    public Settings settings() {
        return settings;
    }

    /**
     * query - send one request (attribute lines without the final empty line); the future
     * completes with the action, or with default_action when the server fails. Never
     * completes exceptionally.
     */
    public CompletableFuture<String> query(String request) {
        CompletableFuture<String> result = new CompletableFuture<>();
        try {
            IO.execute(() -> result.complete(ask(request)));
        } catch (RuntimeException e) {
            LOG.warning("PSTN1120: policy service " + endpoint + ": cannot run the request: " + e);
            result.complete(settings.defaultAction());
        }
        return result;
    }

    /** ask - on an I/O thread: try_limit attempts, then default_action. */
    private String ask(String request) {
        byte[] bytes = (request + "\n").getBytes(StandardCharsets.UTF_8);
        for (int attempt = 1; ; attempt++) {
            Conn c = null;
            try {
                c = borrow();
                String action = c.exchange(bytes);
                c.requests++;
                giveBack(c);
                return action;
            } catch (IOException | RuntimeException e) {
                if (c != null) {
                    c.close();
                }
                maillog.warning("warning: problem talking to server " + endpoint + ": " + e.getMessage());
                if (attempt >= settings.tryLimit()) {
                    return settings.defaultAction();
                }
                try {
                    Thread.sleep(settings.retryDelay().toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return settings.defaultAction();
                }
            }
        }
    }

    private Conn borrow() throws IOException {
        long now = System.nanoTime();
        synchronized (idle) {
            while (!idle.isEmpty()) {
                Conn c = idle.pollFirst();
                if (now - c.lastUsed < settings.maxIdle().toNanos() && now - c.created < settings.maxTtl().toNanos()) {
                    return c;
                }
                c.close();
            }
        }
        return Conn.open(address, settings.timeout());
    }

    private void giveBack(Conn c) {
        c.lastUsed = System.nanoTime();
        if (settings.requestLimit() > 0 && c.requests >= settings.requestLimit()
                || c.lastUsed - c.created >= settings.maxTtl().toNanos()) {
            c.close();
            return;
        }
        synchronized (idle) {
            idle.addFirst(c);
        }
    }

    /** Conn - one connection to the server, non-blocking I/O with a selector for the time limits. */
    private static final class Conn {
        final SocketChannel channel;
        final Selector selector;
        final long created = System.nanoTime();
        final Duration timeout;
        long lastUsed = created;
        int requests;

        private Conn(SocketChannel channel, Selector selector, Duration timeout) {
            this.channel = channel;
            this.selector = selector;
            this.timeout = timeout;
        }

        static Conn open(SocketAddress address, Duration timeout) throws IOException {
            SocketAddress target = address;
            SocketChannel ch;
            if (address instanceof InetSocketAddress inet) {
                target = new InetSocketAddress(inet.getHostString(), inet.getPort());
                if (((InetSocketAddress) target).isUnresolved()) {
                    throw new IOException("cannot resolve " + inet.getHostString());
                }
                ch = SocketChannel.open();
            } else {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            }
            Selector sel = Selector.open();
            Conn c = new Conn(ch, sel, timeout);
            try {
                ch.configureBlocking(false);
                long deadline = System.nanoTime() + timeout.toNanos();
                if (!ch.connect(target)) {
                    SelectionKey key = ch.register(sel, SelectionKey.OP_CONNECT);
                    while (!ch.finishConnect()) {
                        c.select(key, deadline, "connect");
                    }
                    key.cancel();
                    sel.selectNow();
                }
                return c;
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        }

        private void select(SelectionKey key, long deadline, String what) throws IOException {
            long left = deadline - System.nanoTime();
            if (left <= 0 || selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) == 0
                    && System.nanoTime() >= deadline) {
                throw new IOException(what + " timeout after " + timeout.toSeconds() + "s");
            }
            selector.selectedKeys().clear();
        }

        /** exchange - write the request, read the answer up to its empty line; the action value. */
        String exchange(byte[] request) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            ByteBuffer out = ByteBuffer.wrap(request);
            SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    select(key, deadline, "write");
                }
            }
            key.interestOps(SelectionKey.OP_READ);
            ByteBuffer in = ByteBuffer.allocate(MAX_ANSWER);
            while (true) {
                int n = channel.read(in);
                if (n < 0) {
                    throw new IOException("connection closed by the server");
                }
                if (ends(in)) {
                    break;
                }
                if (!in.hasRemaining()) {
                    throw new IOException("answer longer than " + MAX_ANSWER + " bytes");
                }
                if (n == 0) {
                    select(key, deadline, "read");
                }
            }
            key.cancel();
            selector.selectNow();
            String answer = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
            for (String line : answer.split("\n")) {
                if (line.startsWith("action=")) {
                    return line.substring(7).strip();
                }
            }
            throw new IOException("the server returned no action");
        }

        private static boolean ends(ByteBuffer in) {
            int p = in.position();
            byte[] a = in.array();
            return p >= 2 && a[p - 1] == '\n' && (a[p - 2] == '\n' || p >= 3 && a[p - 2] == '\r' && a[p - 3] == '\n');
        }

        void close() {
            try {
                selector.close();
            } catch (IOException e) {
                // nothing to do
            }
            try {
                channel.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    private static Executor ioPool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(32, 32, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "postern-policy-client");
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
