package org.postern.smtp.jca;

import java.io.PrintWriter;
import java.util.Set;

import javax.security.auth.Subject;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterAssociation;

import org.postern.smtp.SmtpDestinationLimiter;
import org.postern.smtp.SmtpClientSession;
import org.postern.smtp.dns.DnsJavaResolver;
import org.postern.smtp.dns.DnsResolver;

/**
 * SmtpClientManagedConnectionFactory - the outbound connection definition of the adapter:
 * SMTP and LMTP client sessions, pooled by the container and matched by destination
 * (next hop and client settings), which makes the pool Postfix's connection cache.
 *
 * <h2>CONFIGURATION</h2>
 * No config-property yet. The pool must be partitioned or matched by
 * ConnectionRequestInfo: a pooled session answers only requests for its own next hop
 * ({@link #matchManagedConnections}).
 *
 * <p>DNS: {@link DnsJavaResolver#system()} (resolv.conf, or the system property
 * {@code postern.dns.servers}).
 */
public class SmtpClientManagedConnectionFactory implements ManagedConnectionFactory, ResourceAdapterAssociation {

    private static final long serialVersionUID = 1L;

    private transient ResourceAdapter resourceAdapter;
    private transient PrintWriter logWriter;
    private transient DnsResolver dns;

    public SmtpClientManagedConnectionFactory() {
    }

    /** SmtpClientManagedConnectionFactory - with a resolver of one's own (tests). */
    public SmtpClientManagedConnectionFactory(DnsResolver dns) {
        this.dns = dns;
    }

    /** the destination concurrency slots of every delivery through this adapter's pool */
    private transient SmtpDestinationLimiter limiter;

    /** limiter - the slots of transport_destination_concurrency_limit, one table per connection definition. */
    synchronized SmtpDestinationLimiter limiter() {
        if (limiter == null) {
            limiter = new SmtpDestinationLimiter();
        }
        return limiter;
    }

    private DnsResolver dns() {
        DnsResolver d = dns;
        return d != null ? d : DnsJavaResolver.system();
    }

    @Override
    public Object createConnectionFactory(ConnectionManager cxManager) {
        return new SmtpClientConnectionFactoryImpl(this, cxManager);
    }

    /** createConnectionFactory - outside a container: a new session per connection, QUIT on close. */
    @Override
    public Object createConnectionFactory() {
        return new SmtpClientConnectionFactoryImpl(this, new UnpooledConnectionManager());
    }

    @Override
    public ManagedConnection createManagedConnection(Subject subject, ConnectionRequestInfo cxRequestInfo)
            throws ResourceException {
        if (!(cxRequestInfo instanceof SmtpClientRequestInfo info)) {
            throw new ResourceException("PSTN3307: an SMTP client connection needs an SmtpClientRequestInfo, got "
                    + cxRequestInfo);
        }
        SmtpClientManagedConnection mc = new SmtpClientManagedConnection(info,
                new SmtpClientSession(info.hop(), info.settings(), dns()));
        mc.setLogWriter(logWriter);
        return mc;
    }

    /** matchManagedConnections - a healthy pooled session for the same next hop and settings, or null. */
    @Override
    @SuppressWarnings("rawtypes")
    public ManagedConnection matchManagedConnections(Set connectionSet, Subject subject,
                                                     ConnectionRequestInfo cxRequestInfo) {
        for (Object o : connectionSet) {
            if (o instanceof SmtpClientManagedConnection mc && !mc.isFailed()
                    && mc.requestInfo().equals(cxRequestInfo)) {
                return mc;
            }
        }
        return null;
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
    public ResourceAdapter getResourceAdapter() {
        return resourceAdapter;
    }

    @Override
    public void setResourceAdapter(ResourceAdapter ra) {
        this.resourceAdapter = ra;
    }

    /* equals - JCA 5.5.3: equal when the configuration is equal; there is none yet */
    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }

    /** UnpooledConnectionManager - the non-managed environment: no cache, QUIT when the handle closes. */
    static final class UnpooledConnectionManager implements ConnectionManager {
        private static final long serialVersionUID = 1L;

        @Override
        public Object allocateConnection(ManagedConnectionFactory mcf, ConnectionRequestInfo cxRequestInfo)
                throws ResourceException {
            ManagedConnection mc = mcf.createManagedConnection(null, cxRequestInfo);
            mc.addConnectionEventListener(new ConnectionEventListener() {
                @Override
                public void connectionClosed(ConnectionEvent event) {
                    destroy(mc);
                }

                @Override
                public void connectionErrorOccurred(ConnectionEvent event) {
                    destroy(mc);
                }

                @Override
                public void localTransactionStarted(ConnectionEvent event) {
                }

                @Override
                public void localTransactionCommitted(ConnectionEvent event) {
                }

                @Override
                public void localTransactionRolledback(ConnectionEvent event) {
                }
            });
            return mc.getConnection(null, cxRequestInfo);
        }

        private static void destroy(ManagedConnection mc) {
            try {
                mc.destroy();
            } catch (ResourceException e) {
                // the session is closed as far as it can be
            }
        }
    }
}
