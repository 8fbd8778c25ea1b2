package org.postern.smtp.jca;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientConnection;

/**
 * SmtpClientConnectionImpl - the application's handle on a pooled session. {@link #close}
 * returns the session to the pool (CONNECTION_CLOSED); using a closed handle is an error.
 */
public final class SmtpClientConnectionImpl implements SmtpClientConnection {

    private volatile SmtpClientManagedConnection managed;

    SmtpClientConnectionImpl(SmtpClientManagedConnection managed) {
        this.managed = managed;
    }

    @Override
    public DeliveryOutcome deliver(OutboundMessage message) {
        SmtpClientManagedConnection mc = managed;
        if (mc == null) {
            throw new IllegalStateException("PSTN3301: connection handle is closed");
        }
        return mc.deliver(this, message);
    }

    @Override
    public void close() {
        SmtpClientManagedConnection mc = managed;
        managed = null;
        if (mc != null) {
            mc.handleClosed(this);
        }
    }

    /* associate - move this handle to another managed connection (associateConnection) */
    void associate(SmtpClientManagedConnection mc) {
        managed = mc;
    }

    /* invalidate - the managed connection is cleaned up or destroyed: the handle is dead */
    void invalidate() {
        managed = null;
    }

    SmtpClientManagedConnection managed() {
        return managed;
    }
}
