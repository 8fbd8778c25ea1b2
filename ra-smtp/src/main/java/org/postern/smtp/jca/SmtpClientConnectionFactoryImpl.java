package org.postern.smtp.jca;

import java.io.Serializable;

import javax.naming.Reference;

import jakarta.resource.Referenceable;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;

import org.postern.smtp.NextHop;
import org.postern.smtp.SmtpClientConnection;
import org.postern.smtp.SmtpClientConnectionFactory;
import org.postern.smtp.SmtpClientSettings;

/**
 * SmtpClientConnectionFactoryImpl - the connection factory bound in JNDI: every
 * {@link #getConnection} goes through the container's ConnectionManager, which matches a
 * pooled session for the same next hop and settings or creates a new one.
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
    public void setReference(Reference reference) {
        this.reference = reference;
    }

    @Override
    public Reference getReference() {
        return reference;
    }
}
