package org.postern.smtp.jca;

import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.security.auth.Subject;
import javax.transaction.xa.XAResource;

import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.LocalTransaction;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionMetaData;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.SmtpClientSession;

/**
 * SmtpClientManagedConnection - one pooled {@link SmtpClientSession}: the entry of Postfix's
 * connection cache. The session connects on the first delivery and stays open between
 * deliveries; it sends RSET only to end a transaction that did not complete (Postfix 3.4),
 * and QUIT on {@link #destroy}.
 *
 * <p>After a delivery that left no live session because it failed (connection refused,
 * timeout, lost connection, 421, failed handshake, failed RSET) the managed connection fires
 * CONNECTION_ERROR_OCCURRED so that the pool destroys it instead of caching it. A session
 * the connection cache closed on purpose (caching off for the destination, or on demand and
 * the request without a backlog,
 * smtp_connection_reuse_count_limit or smtp_connection_reuse_time_limit (300s) reached,
 * idle past smtp_connection_cache_time_limit or,
 * for LMTP, lmtp_connection_cache_time_limit = $max_idle) is no error: the managed
 * connection stays in the pool, and its session has said QUIT and reconnects on its next
 * delivery, so the server log gets no destroy warning per retired session. No transactions
 * (NoTransaction).
 */
public final class SmtpClientManagedConnection implements ManagedConnection {

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");

    private final SmtpClientRequestInfo requestInfo;
    private final SmtpClientSession session;
    private final List<ConnectionEventListener> listeners = new CopyOnWriteArrayList<>();
    private final Set<SmtpClientConnectionImpl> handles = new CopyOnWriteArraySet<>();
    private volatile boolean failed;
    private PrintWriter logWriter;

    SmtpClientManagedConnection(SmtpClientRequestInfo requestInfo, SmtpClientSession session) {
        this.requestInfo = requestInfo;
        this.session = session;
    }

    SmtpClientRequestInfo requestInfo() {
        return requestInfo;
    }

    /** isFailed - true after an I/O failure: never to be matched again. */
    boolean isFailed() {
        return failed;
    }

    /** session - the protocol session (for tests and diagnostics). */
    public SmtpClientSession session() {
        return session;
    }

    @Override
    public Object getConnection(Subject subject, ConnectionRequestInfo cxRequestInfo) throws ResourceException {
        if (cxRequestInfo != null && !requestInfo.equals(cxRequestInfo)) {
            throw new ResourceException("PSTN3302: connection for " + requestInfo.hop().destination()
                    + " requested for " + cxRequestInfo);
        }
        SmtpClientConnectionImpl h = new SmtpClientConnectionImpl(this);
        handles.add(h);
        return h;
    }

    /* deliver - through a handle; reports a dead session to the pool */
    DeliveryOutcome deliver(SmtpClientConnectionImpl handle, OutboundMessage message) {
        DeliveryOutcome outcome;
        synchronized (session) {
            outcome = session.deliver(message);
        }
        if (!session.isConnected() && !session.closedOnPurpose()) {
            failed = true;
            ConnectionEvent e = new ConnectionEvent(this, ConnectionEvent.CONNECTION_ERROR_OCCURRED,
                    new ResourceException("PSTN3303: session with " + requestInfo.hop().destination()
                            + " ended: " + firstReply(outcome)));
            e.setConnectionHandle(handle);
            // the pool takes the connection back and destroys it: a later close() of the handle is a no-op
            handles.remove(handle);
            handle.invalidate();
            for (ConnectionEventListener l : listeners) {
                l.connectionErrorOccurred(e);
            }
        }
        return outcome;
    }

    private static String firstReply(DeliveryOutcome o) {
        return o.recipients().isEmpty() ? "no recipients" : o.recipients().get(0).reply();
    }

    /* handleClosed - the application closed a handle: the session goes back to the pool */
    void handleClosed(SmtpClientConnectionImpl handle) {
        if (!handles.remove(handle)) {
            return;
        }
        ConnectionEvent e = new ConnectionEvent(this, ConnectionEvent.CONNECTION_CLOSED);
        e.setConnectionHandle(handle);
        for (ConnectionEventListener l : listeners) {
            l.connectionClosed(e);
        }
    }

    @Override
    public void destroy() {
        invalidateHandles();
        synchronized (session) {
            session.close();
        }
        LOG.log(Level.FINE, "PSTN3304: destroyed session with {0}", requestInfo.hop().destination());
    }

    @Override
    public void cleanup() {
        invalidateHandles();
    }

    private void invalidateHandles() {
        for (SmtpClientConnectionImpl h : handles) {
            h.invalidate();
        }
        handles.clear();
    }

    @Override
    public void associateConnection(Object connection) throws ResourceException {
        if (!(connection instanceof SmtpClientConnectionImpl h)) {
            throw new ResourceException("PSTN3305: not an SMTP client connection handle: " + connection);
        }
        SmtpClientManagedConnection old = h.managed();
        if (old != null) {
            old.handles.remove(h);
        }
        h.associate(this);
        handles.add(h);
    }

    @Override
    public void addConnectionEventListener(ConnectionEventListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeConnectionEventListener(ConnectionEventListener listener) {
        listeners.remove(listener);
    }

    @Override
    public XAResource getXAResource() throws ResourceException {
        throw new NotSupportedException("PSTN3306: SMTP client connections are not transactional");
    }

    @Override
    public LocalTransaction getLocalTransaction() throws ResourceException {
        throw new NotSupportedException("PSTN3306: SMTP client connections are not transactional");
    }

    @Override
    public ManagedConnectionMetaData getMetaData() {
        return new SmtpClientManagedConnectionMetaData(session.relay());
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public String toString() {
        return "SmtpClientManagedConnection[" + session + "]";
    }
}
