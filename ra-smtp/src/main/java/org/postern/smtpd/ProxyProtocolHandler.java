package org.postern.smtpd;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;

/**
 * ProxyProtocolHandler - reads the PROXY header (smtpd_upstream_proxy_protocol = haproxy)
 * before anything else, TLS of wrapper mode included, then steps aside.
 *
 * <p>It holds back channelActive until the header is complete, so that the session
 * starts with the client the proxy names (kept in {@link #CLIENT}); the bytes after the
 * header go on as the first read. A bad header, a header over the size bound, or no
 * complete header within smtpd_upstream_proxy_timeout closes the connection without a
 * reply, as Postfix does.
 */
final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");

    /** The client named by the header; absent for LOCAL/UNKNOWN headers. */
    static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("postern.proxy.client");

    private final Duration timeout;
    private final byte[] header = new byte[ProxyProtocol.MAX_HEADER];
    private int length;
    private ScheduledFuture<?> timer;
    private boolean done;

    ProxyProtocolHandler(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            if (!done) {
                LOG.warning("PSTN1041: haproxy read: timeout from " + ctx.channel().remoteAddress());
                ctx.close();
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        try {
            int n = Math.min(in.readableBytes(), header.length - length);
            in.readBytes(header, length, n);
            length += n;
            ProxyProtocol.Result r = ProxyProtocol.parse(header, length);
            if (r.error() != null || (!r.complete() && length == header.length)) {
                LOG.warning("PSTN1040: haproxy read: " + (r.error() != null ? r.error() : "header too long")
                        + " from " + ctx.channel().remoteAddress());
                done = true;
                ctx.close();
                return;
            }
            if (!r.complete()) {
                return;
            }
            done = true;
            timer.cancel(false);
            if (r.address() != null) {
                ctx.channel().attr(CLIENT).set(InetSocketAddress.createUnresolved(r.address(), r.port()));
            }
            ctx.fireChannelActive();
            ByteBuf rest = ctx.alloc().buffer(length - r.consumed() + in.readableBytes());
            rest.writeBytes(header, r.consumed(), length - r.consumed());
            rest.writeBytes(in);
            if (rest.isReadable()) {
                ctx.fireChannelRead(rest);
            } else {
                rest.release();
            }
            ctx.pipeline().remove(this);
        } finally {
            in.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // Only reached before the header was complete (the handler is gone afterwards):
        // the handlers after it never saw the connection become active.
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
