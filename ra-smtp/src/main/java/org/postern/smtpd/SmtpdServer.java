package org.postern.smtpd;

import org.postern.smtpd.api.SmtpdListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;

/**
 * SmtpdServer - one smtpd listener service (a master.cf "inet ... smtpd" line).
 *
 * <h2>DESCRIPTION</h2>
 * Binds a Netty server socket on the adapter's event loop group and runs one
 * {@link SmtpdSession} per connection through {@link SmtpdChannelHandler}. No thread per
 * connection: sessions run on the event loops; only the {@link SmtpdListener} call
 * runs on the blocking executor (the adapter's WorkManager).
 *
 * <h2>SECURITY</h2>
 * Accepts connections from anyone who can reach the port. Per connection: bounded
 * line buffer (line_length_limit), idle timeout (smtpd_timeout), reads paused while
 * the listener stores a message or while the client does not read its replies
 * (back-pressure on channel writability). Per client address, like Postfix anvil(8):
 * simultaneous connections (smtpd_client_connection_count_limit) and connection
 * attempts per anvil_rate_time_unit (smtpd_client_connection_rate_limit), except for
 * smtpd_client_event_limit_exceptions; over a limit the client gets
 * "421 4.7.0 myhostname Error: too many connections from addr" before the greeting.
 * With smtpd_upstream_proxy_protocol = haproxy the client is the one a PROXY v1/v2
 * header names (see {@link ProxyProtocolHandler}). A failure in one session closes that
 * session only.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * {@link SmtpdSettings}; the bind address and port come from master.cf. With
 * smtpd_tls_wrappermode = yes every connection starts with TLS (implicit TLS, e.g. a
 * master.cf "465 inet ... smtpd -o smtpd_tls_wrappermode=yes" line).
 *
 * <p>queue_minfree: the free space of the spool file system is measured when the
 * listener starts and then every second on the blocking executor ({@link SpoolSpace});
 * a MAIL command reads that figure, at most about a second old, and never waits for
 * the file system.
 *
 * <h2>BUGS</h2>
 * NIO transport only (the group must be a NioEventLoopGroup or compatible).
 */
public final class SmtpdServer {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");

    private volatile String serviceName;
    /** the settings for the sessions that start next; a reload replaces them */
    private volatile SmtpdSettings settings;
    private final java.util.concurrent.atomic.LongAdder connections = new java.util.concurrent.atomic.LongAdder();
    /** closed by a reload that removed the service: no more connections, the sessions finish */
    private volatile boolean retired;
    private final SmtpdListener listener;
    private final EventLoopGroup group;
    private final Executor blocking;
    private final ChannelGroup sessions = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ClientConnectionLimiter limiter;
    /** queue_minfree's figure, shared by the sessions, refreshed every second off the event loop */
    private final SpoolSpace space;
    private io.netty.util.concurrent.ScheduledFuture<?> spaceRefresh;
    private Channel serverChannel;
    /** more listening sockets of the same service (one per inet_interfaces address) */
    private final java.util.List<Channel> moreChannels = new java.util.ArrayList<>();
    private Clock clock = Clock.systemDefaultZone();

    public SmtpdServer(String serviceName, SmtpdSettings settings, SmtpdListener listener, EventLoopGroup group,
                       Executor blocking) {
        this.serviceName = Objects.requireNonNull(serviceName, "serviceName");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.group = Objects.requireNonNull(group, "group");
        this.blocking = Objects.requireNonNull(blocking, "blocking");
        this.limiter = new ClientConnectionLimiter(settings.connections().connectionCountLimit(), settings.connections().connectionRateLimit(),
                settings.connections().rateTimeUnit(), settings.connections().eventLimitExceptions(), System::nanoTime);
        this.space = SpoolSpace.background(settings.content().spoolDirectory(), blocking);
    }

    /** withClock - use another clock for Received: dates and arrival times (tests). */
    SmtpdServer withClock(Clock c) {
        this.clock = c;
        return this;
    }

    /**
     * start - bind and accept connections.
     *
     * @param host address to bind, null or empty for all addresses
     * @param port TCP port, 0 for any free port (see {@link #port()})
     * @throws IOException when the address cannot be bound (port taken, no such address)
     */
    public synchronized void start(String host, int port) throws IOException {
        start(java.util.Collections.singletonList(host), port);
    }

    /**
     * start - bind each address (inet_interfaces) with the same port, sessions and limits;
     * a null or empty element means all addresses. Either every address is bound or none.
     */
    public synchronized void start(java.util.List<String> hosts, int port) throws IOException {
        if (serverChannel != null) {
            throw new IllegalStateException("smtpd service " + serviceName + " is already started");
        }
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("smtpd service " + serviceName + ": no address to listen on");
        }
        try {
            // queue_minfree: measured here (the caller's thread), then every second on the
            // blocking executor; the event loop only triggers it
            space.measure();
            spaceRefresh = group.next().scheduleAtFixedRate(this::refreshSpace, SpoolSpace.REFRESH_INTERVAL_MILLIS,
                    SpoolSpace.REFRESH_INTERVAL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            for (String host : hosts) {
                Channel c = bind(host, serverChannel == null ? port : port());
                if (serverChannel == null) {
                    serverChannel = c;
                } else {
                    moreChannels.add(c);
                }
            }
        } catch (IOException | RuntimeException e) {
            stop();
            throw e;
        }
    }

    private Channel bind(String host, int port) throws IOException {
        InetSocketAddress address = host == null || host.isEmpty()
                ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 256)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // one settings object per session: a reload affects the next sessions only
                        SmtpdSettings settings = SmtpdServer.this.settings;
                        sessions.add(ch);
                        connections.increment();
                        if (settings.connections().upstreamProxy()) {
                            // the PROXY header comes first, before TLS and SMTP
                            ch.pipeline().addLast("proxy", new ProxyProtocolHandler(settings.connections().upstreamProxyTimeout()));
                        }
                        if (settings.security().tlsWrapperMode()) {
                            // implicit TLS (smtpd_tls_wrappermode): the greeting waits for the handshake
                            ch.pipeline().addLast(SmtpdChannelHandler.TLS_HANDLER,
                                    new SslHandler(settings.security().sslContext().newEngine(ch.alloc())));
                        }
                        long timeout = settings.limits().timeout().toMillis();
                        ch.pipeline().addLast("idle", new IdleStateHandler(timeout, 0, 0,
                                java.util.concurrent.TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast("smtpd", new SmtpdChannelHandler(settings, listener, blocking, clock,
                                limiter, space));
                    }
                });
        ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new IOException("PSTN1020: smtpd service " + serviceName + " cannot listen on "
                    + (host == null || host.isEmpty() ? "*" : host) + ":" + port + ": "
                    + (cause == null ? "unknown error" : cause.getMessage()), cause);
        }
        LOG.info("PSTN1021: smtpd service " + serviceName + " listening on " + bound.channel().localAddress());
        return bound.channel();
    }

    /** refreshSpace - queue_minfree's figure; a retired service stops measuring after its last session. */
    private void refreshSpace() {
        if (retired && sessions.isEmpty()) {
            blocking.execute(this::stop); // stop() waits for channels: never on an event loop
            return;
        }
        space.refresh();
    }

    /**
     * reconfigure - the settings (and master.cf name) a reload gives this service: the
     * sessions that start next use them; open sessions keep the settings they started
     * with, as a Postfix smtpd process keeps its configuration until it exits.
     */
    public void reconfigure(String serviceName, SmtpdSettings settings) {
        this.serviceName = Objects.requireNonNull(serviceName, "serviceName");
        this.settings = Objects.requireNonNull(settings, "settings");
        limiter.limits(settings.connections().connectionCountLimit(), settings.connections().connectionRateLimit(),
                settings.connections().rateTimeUnit(), settings.connections().eventLimitExceptions());
    }

    /**
     * retire - a reload removed this service: close its listening sockets now, and let its
     * sessions finish; the rest of the service stops after the last one.
     */
    public synchronized void retire() {
        if (serverChannel == null) {
            return;
        }
        retired = true;
        serverChannel.close().awaitUninterruptibly();
        moreChannels.forEach(c -> c.close().awaitUninterruptibly());
        LOG.info("PSTN1024: smtpd service " + serviceName + " no longer listening; " + sessions.size()
                + " sessions finish");
        if (sessions.isEmpty()) {
            stop();
        }
    }

    /** name - the master.cf service name. */
    public String name() {
        return serviceName;
    }

    /** sessions - the sessions open now. */
    public int sessions() {
        return sessions.size();
    }

    /** connections - the connections accepted since the service started. */
    public long connections() {
        return connections.sum();
    }

    /** listening - the addresses the service listens on ("127.0.0.1:2525"), empty when stopped. */
    public synchronized java.util.List<String> listening() {
        java.util.List<String> out = new java.util.ArrayList<>();
        if (serverChannel != null && !retired) {
            out.add(address(serverChannel));
            moreChannels.forEach(c -> out.add(address(c)));
        }
        return out;
    }

    private static String address(Channel c) {
        InetSocketAddress a = (InetSocketAddress) c.localAddress();
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** stop - close the listening socket and every session; the event loop group stays up. */
    public synchronized void stop() {
        if (spaceRefresh != null) {
            spaceRefresh.cancel(false);
            spaceRefresh = null;
        }
        if (serverChannel == null) {
            return;
        }
        try {
            serverChannel.close().awaitUninterruptibly();
            moreChannels.forEach(c -> c.close().awaitUninterruptibly());
            moreChannels.clear();
            sessions.close().awaitUninterruptibly();
            LOG.info("PSTN1022: smtpd service " + serviceName + " stopped");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "PSTN1023: error stopping smtpd service " + serviceName, e);
        } finally {
            serverChannel = null;
        }
    }

    /** port - the bound port (useful after binding port 0), or -1 when not started. */
    public synchronized int port() {
        return serverChannel == null ? -1 : ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }
}
