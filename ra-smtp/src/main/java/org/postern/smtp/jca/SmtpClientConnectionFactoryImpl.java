package org.postern.smtp.jca;

import java.io.Serializable;
import java.time.Duration;

import javax.naming.Reference;

import jakarta.resource.Referenceable;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;

import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientSettings;

/**
 * SmtpClientConnectionFactoryImpl - the connection factory bound in JNDI: every
 * {@link #getConnection} goes through the container's ConnectionManager, which matches a
 * pooled session for the same next hop and settings or creates a new one. {@link #reserve}
 * takes a slot of the destination concurrency limit from the managed connection factory,
 * which owns the slots of every delivery through this pool.
 */
public final class SmtpClientConnectionFactoryImpl implements SmtpClientConnectionFactory, Serializable, Referenceable {

    private static final long serialVersionUID = 1L;

    private final SmtpClientManagedConnectionFactory mcf;
    private final ConnectionManager connectionManager;
    private Reference reference;

    public SmtpClientConnectionFactoryImpl(SmtpClientManagedConnectionFactory mcf, ConnectionManager connectionManager) {
        this.mcf = mcf;
        this.connectionManager = connectionManager;
    }

    @Override
    public SmtpClientConnection getConnection(NextHop hop, SmtpClientSettings settings) throws ResourceException {
        return (SmtpClientConnection) connectionManager.allocateConnection(mcf, new SmtpClientRequestInfo(hop, settings));
    }

    @Override
    public SmtpClientConnectionFactory.Permit reserve(String transport, NextHop hop, int limit, Duration maxWait)
            throws InterruptedException {
        return mcf.limiter().acquire(transport, hop.destination(), limit, maxWait);
    }

    @Override
    public java.util.Map<String, Integer> busy() {
        return mcf.limiter().busy();
    }

    @Override
    public void setReference(Reference reference) {
        this.reference = reference;
    }

    @Override
    public Reference getReference() {
        return reference;
    }
}
