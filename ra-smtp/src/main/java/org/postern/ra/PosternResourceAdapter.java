package org.postern.ra;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.BootstrapContext;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterInternalException;
import jakarta.resource.spi.endpoint.MessageEndpoint;
import jakarta.resource.spi.endpoint.MessageEndpointFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.transaction.xa.XAResource;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.smtpd.SmtpdServer;

/**
 * PosternResourceAdapter - the resource adapter that owns Postern's sockets.
 *
 * <h2>DESCRIPTION</h2>
 * At start it creates one Netty event-loop group whose threads come from the bootstrap
 * context's work manager. When the smtpd endpoint (an MDB bound to {@link SmtpdListener})
 * is activated, it reads main.cf and master.cf and starts one listener per smtpd service
 * of type inet, each with the main.cf parameters overridden by the service's -o options.
 * Deactivation stops exactly the listeners of that activation. Endpoint calls run on
 * the work manager's short-running threads, never on an event loop.
 *
 * <h2>SECURITY</h2>
 * Listens where master.cf says; the embedded default is 127.0.0.1:2525 only.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * master.cf smtpd services; main.cf parameters of smtpd(8) (see SmtpdSettingsFactory).
 */
public class PosternResourceAdapter implements ResourceAdapter {
    private static final Logger LOG = Logger.getLogger("org.postern.ra");

    private final Map<ActivationSpec, List<SmtpdServer>> activations = new ConcurrentHashMap<>();
    private BootstrapContext context;
    private EventLoopGroup group;
    private Executor blocking;

    @Override
    public void start(BootstrapContext ctx) throws ResourceAdapterInternalException {
        this.context = ctx;
        int loops = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.group = new NioEventLoopGroup(loops, new WorkManagerExecutor(ctx.getWorkManager(), true));
        this.blocking = new WorkManagerExecutor(ctx.getWorkManager(), false);
        LOG.info(() -> "PSTN2101: Postern resource adapter started, " + loops + " event loops");
    }

    @Override
    public void stop() {
        for (ActivationSpec spec : new ArrayList<>(activations.keySet())) {
            stopListeners(spec);
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        LOG.info("PSTN2102: Postern resource adapter stopped");
    }

    @Override
    public void endpointActivation(MessageEndpointFactory factory, ActivationSpec spec) throws ResourceException {
        if (!(spec instanceof SmtpdActivationSpec smtpdSpec)) {
            throw new NotSupportedException("PSTN2103: unknown activation spec " + spec);
        }
        Path dir = smtpdSpec.getConfigDirectory() != null ? Path.of(smtpdSpec.getConfigDirectory())
                : ConfigLocator.configDir();
        Config main;
        List<MasterService> services;
        try {
            main = Config.load(dir);
            services = MasterCf.load(dir);
        } catch (ConfigException e) {
            throw new ResourceException("PSTN2104: fatal: " + e.getMessage(), e);
        }
        SmtpdListener listener = new EndpointInvoker(factory);
        List<SmtpdServer> started = new ArrayList<>();
        try {
            for (MasterService s : MasterCf.smtpdServices(services)) {
                Config c = s.settings(main);
                SmtpdServer server = new SmtpdServer(s.name(), SmtpdSettingsFactory.from(c, s.name(), listener), listener,
                        group, blocking);
                // "127.0.0.1:2525 inet ..." names its address; "smtp inet ..." listens on inet_interfaces
                server.start(s.bindHost().isPresent() ? List.of(s.bindHost().get())
                        : SmtpdSettingsFactory.listenAddresses(c), s.port());
                started.add(server);
                LOG.info(() -> "PSTN2105: smtpd listening on " + s.name() + " (port " + server.port() + ")");
            }
        } catch (IOException | RuntimeException e) {
            started.forEach(SmtpdServer::stop);
            throw new ResourceException("PSTN2106: cannot start smtpd listeners: " + e.getMessage(), e);
        }
        if (started.isEmpty()) {
            LOG.warning("PSTN2107: master.cf in " + dir + " declares no smtpd inet service; not listening");
        }
        activations.put(spec, started);
    }

    @Override
    public void endpointDeactivation(MessageEndpointFactory factory, ActivationSpec spec) {
        stopListeners(spec);
    }

    private void stopListeners(ActivationSpec spec) {
        List<SmtpdServer> servers = activations.remove(spec);
        if (servers != null) {
            servers.forEach(SmtpdServer::stop);
        }
    }

    @Override
    public XAResource[] getXAResources(ActivationSpec[] specs) {
        return new XAResource[0];
    }

    /** the bootstrap context, for the outbound side */
    BootstrapContext context() {
        return context;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    /**
     * EndpointInvoker - calls the smtpd endpoint: one endpoint instance per call, released
     * in every case.
     */
    private static final class EndpointInvoker implements SmtpdListener {
        private final MessageEndpointFactory factory;

        EndpointInvoker(MessageEndpointFactory factory) {
            this.factory = factory;
        }

        @Override
        public String enqueue(Envelope envelope, InputStream content) throws EnqueueException {
            MessageEndpoint endpoint = endpoint("451 4.3.0 Error: queue file write error");
            try {
                return ((SmtpdListener) endpoint).enqueue(envelope, content);
            } finally {
                endpoint.release();
            }
        }

        @Override
        public boolean etrn(String domain) throws EnqueueException {
            MessageEndpoint endpoint = endpoint("458 Unable to queue messages");
            try {
                return ((SmtpdListener) endpoint).etrn(domain);
            } finally {
                endpoint.release();
            }
        }

        @Override
        public boolean authenticate(String authzid, String username, char[] password) throws EnqueueException {
            MessageEndpoint endpoint = endpoint("454 4.7.0 Temporary authentication failure");
            try {
                return ((SmtpdListener) endpoint).authenticate(authzid, username, password);
            } finally {
                endpoint.release();
            }
        }

        /** endpoint - a new endpoint instance, or the reply for the client when there is none. */
        private MessageEndpoint endpoint(String failureReply) throws EnqueueException {
            try {
                return factory.createEndpoint(null);
            } catch (Exception e) {
                throw new EnqueueException(failureReply, "PSTN2108: no smtpd endpoint: " + e, e);
            }
        }
    }
}
