package org.postern.smtpd;

import org.postern.smtpd.api.SmtpdListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import javax.net.ssl.SSLSession;

/**
 * SmtpdChannelHandler - binds one Netty channel to one {@link SmtpdSession}.
 *
 * <p>Bytes go to the session as they arrive; replies are written as the session
 * produces them and flushed once per read batch, so the answers to a pipelined group
 * of commands (RFC 2920) leave in one segment. The listener call runs on the blocking
 * executor with reads paused (autoRead off); reads are also paused while the client
 * does not take its replies (channel not writable).
 */
final class SmtpdChannelHandler extends ChannelInboundHandlerAdapter implements SmtpdTransport {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    static final String TLS_HANDLER = "tls";

    private final SmtpdSettings settings;
    private final SmtpdListener listener;
    private final Executor blocking;
    private final Clock clock;
    private ChannelHandlerContext ctx;
    private SmtpdSession session;

    private final ClientConnectionLimiter limiter;
    private final SpoolSpace space;
    private String admittedAddress;

    SmtpdChannelHandler(SmtpdSettings settings, SmtpdListener listener, Executor blocking, Clock clock,
                        ClientConnectionLimiter limiter, SpoolSpace space) {
        this.settings = settings;
        this.listener = listener;
        this.blocking = blocking;
        this.clock = clock;
        this.limiter = limiter;
        this.space = space;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        this.ctx = context;
        InetSocketAddress proxied = context.channel().attr(ProxyProtocolHandler.CLIENT).get();
        SocketAddress remote = proxied != null ? proxied : context.channel().remoteAddress();
        String address = "unknown";
        int port = 0;
        if (remote instanceof InetSocketAddress inet) {
            address = inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
            int scope = address.indexOf('%');
            if (scope >= 0) {
                address = address.substring(0, scope);
            }
            port = inet.getPort();
        }
        session = new SmtpdSession(settings, listener, this, "unknown", address, port, clock);
        session.freeSpace(space);
        ClientConnectionLimiter.Outcome outcome = limiter.connect(address);
        if (outcome.admitted()) {
            admittedAddress = address;
            guarded(session::start);
            return;
        }
        // Postfix anvil(8) limits: 421 and hang up before the greeting.
        String client = "unknown[" + address + "]";
        String warning = (outcome.limit().equals("rate") ? "Connection rate limit exceeded: "
                : "Connection concurrency limit exceeded: ") + outcome.value() + " from " + client
                + " for service " + settings.identity().serviceName();
        String reply = "421 4.7.0 " + settings.identity().myhostname() + " Error: too many connections from " + address;
        guarded(() -> session.refuse(warning, reply));
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            guarded(() -> session.input(bytes, 0, bytes.length));
        } finally {
            buf.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        context.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        if (admittedAddress != null) {
            limiter.disconnect(admittedAddress);
            admittedAddress = null;
        }
        if (session != null) {
            guarded(session::ended);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object evt) {
        if (evt instanceof IdleStateEvent && session != null) {
            guarded(session::timeout);
        } else if (evt instanceof SslHandshakeCompletionEvent done && session != null) {
            if (done.isSuccess()) {
                SSLSession ssl = context.pipeline().get(SslHandler.class).engine().getSession();
                guarded(() -> session.tlsStarted(ssl.getProtocol(), ssl.getCipherSuite()));
            } else {
                session.maillog.info("SSL_accept error from " + session.namaddr() + ": "
                        + done.cause().getMessage());
                context.close();
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        // Back-pressure: a client that sends commands but does not read replies stops being read.
        boolean writable = context.channel().isWritable();
        if (!writable) {
            context.channel().config().setAutoRead(false);
        } else if (session != null && !session.isSuspended() && !session.isClosed()) {
            context.channel().config().setAutoRead(true);
        }
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
            // a client that breaks the connection or TLS is not a server problem (the
            // handshake failure itself is logged as "SSL_accept error")
            LOG.log(Level.FINE, "PSTN1030: I/O error on " + context.channel(), cause);
        } else {
            LOG.log(Level.WARNING, "PSTN1031: unexpected error on " + context.channel(), cause);
        }
        context.close();
    }

    // ------------------------------------------------------------ SmtpdTransport

    @Override
    public void reply(String line) {
        ctx.write(Unpooled.copiedBuffer(line + "\r\n", StandardCharsets.UTF_8), ctx.voidPromise());
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public void close() {
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void runBlocking(Runnable work, Runnable then) {
        ctx.channel().config().setAutoRead(false);
        ctx.flush();
        Runnable back = () -> {
            guarded(then);
            if (!session.isSuspended() && !session.isClosed() && ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        };
        try {
            blocking.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "PSTN1032: enqueue task failed", e);
                } finally {
                    ctx.executor().execute(back);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.log(Level.WARNING, "PSTN1033: blocking executor refused the enqueue task", e);
            ctx.executor().execute(back);
        }
    }

    @Override
    public void delay(java.time.Duration delay, Runnable then) {
        ctx.channel().config().setAutoRead(false);
        ctx.flush();
        ctx.executor().schedule(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            guarded(then);
            if (!session.isSuspended() && !session.isClosed() && ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }, delay.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    @Override
    public void await(java.util.concurrent.CompletionStage<?> pending, Runnable then) {
        ctx.channel().config().setAutoRead(false);
        ctx.flush();
        pending.whenComplete((result, error) -> ctx.executor().execute(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            guarded(then);
            if (!session.isSuspended() && !session.isClosed() && ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }));
    }

    @Override
    public void startTls() {
        // The 220 leaves in plaintext now; everything read from here on goes through TLS,
        // including bytes of this read batch that the session has not consumed.
        ctx.flush();
        SslHandler tls = new SslHandler(settings.security().sslContext().newEngine(ctx.alloc()));
        ctx.pipeline().addFirst(TLS_HANDLER, tls);
    }

    /** guarded - no session error may escape into the event loop; it ends this session only. */
    private void guarded(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "PSTN1034: internal error in smtpd session " + ctx.channel(), e);
            if (ctx.channel().isActive()) {
                ctx.writeAndFlush(Unpooled.copiedBuffer("421 4.3.0 " + settings.identity().myhostname()
                        + " Server local error\r\n", StandardCharsets.UTF_8)).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
