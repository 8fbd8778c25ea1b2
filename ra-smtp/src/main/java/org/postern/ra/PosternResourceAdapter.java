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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.transaction.xa.XAResource;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdControl;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.smtpd.SmtpdServer;
import org.postern.smtpd.SmtpdSettings;

/**
 * PosternResourceAdapter - the resource adapter that owns Postern's sockets.
 *
 * <h2>DESCRIPTION</h2>
 * At start it creates one Netty event-loop group whose threads come from the bootstrap
 * context's work manager. It does not read the configuration itself: the application's
 * configuration service hands it the parsed main.cf and master.cf through the
 * administered object {@link SmtpdControlImpl} ({@link SmtpdControl#apply}), at start and
 * on every reload. One listener runs per smtpd service of type inet, each with the main.cf
 * parameters overridden by the service's -o options, once both the configuration and the
 * smtpd endpoint (the MDB bound to {@link SmtpdListener}) are there, whichever comes
 * second. Deactivation of the endpoint stops the listeners. Endpoint calls run on the work
 * manager's short-running threads, never on an event loop.
 *
 * <h2>SECURITY</h2>
 * Listens where master.cf says; the embedded default is 127.0.0.1:2525 only.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * master.cf smtpd services; main.cf parameters of smtpd(8) (see SmtpdSettingsFactory).
 */
public class PosternResourceAdapter implements ResourceAdapter {
    private static final Logger LOG = Logger.getLogger("org.postern.ra");

    private final Object lock = new Object();
    /** the listener the sessions call: the active endpoint, or a temporary failure */
    private final SmtpdListener dispatch = new Dispatch();
    private volatile EndpointInvoker endpoint;
    private ActivationSpec activeSpec;
    /** the configuration in force, null until the application has applied one */
    private Plan plan;
    /** the listeners running, by listen key (addresses and port) */
    private final Map<String, SmtpdServer> running = new LinkedHashMap<>();
    /** the listeners a reload removed, whose sessions may still be finishing */
    private final List<SmtpdServer> retired = new ArrayList<>();
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
        synchronized (lock) {
            stopAll();
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        LOG.info("PSTN2102: Postern resource adapter stopped");
    }

    @Override
    public void endpointActivation(MessageEndpointFactory factory, ActivationSpec spec) throws ResourceException {
        if (!(spec instanceof SmtpdActivationSpec)) {
            throw new NotSupportedException("PSTN2103: unknown activation spec " + spec);
        }
        synchronized (lock) {
            if (activeSpec != null) {
                throw new NotSupportedException("PSTN2109: an smtpd endpoint is already active");
            }
            endpoint = new EndpointInvoker(factory);
            activeSpec = spec;
            if (plan != null) {
                try {
                    change(plan, new ArrayList<>());
                } catch (RuntimeException e) {
                    endpoint = null;
                    activeSpec = null;
                    throw new ResourceException("PSTN2106: cannot start smtpd listeners: " + e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public void endpointDeactivation(MessageEndpointFactory factory, ActivationSpec spec) {
        synchronized (lock) {
            if (spec == activeSpec) {
                stopAll();
                activeSpec = null;
                endpoint = null;
            }
        }
    }

    /** apply - see {@link SmtpdControl#apply}. */
    List<String> apply(Config main, List<MasterService> services) {
        Plan next = plan(main, services);
        synchronized (lock) {
            List<String> changes = new ArrayList<>();
            if (endpoint != null) {
                change(next, changes);
            } else {
                changes.add("smtpd: configuration kept until the smtpd endpoint is active");
            }
            plan = next;
            return changes;
        }
    }

    /** services - see {@link SmtpdControl#services}. */
    List<SmtpdControl.ServiceState> services() {
        synchronized (lock) {
            List<SmtpdControl.ServiceState> out = new ArrayList<>();
            for (SmtpdServer s : running.values()) {
                out.add(new SmtpdControl.ServiceState(s.name(), s.listening(), s.sessions(), s.connections()));
            }
            return out;
        }
    }

    /** Planned - one smtpd service of a configuration: its settings and where it listens. */
    private record Planned(MasterService service, SmtpdSettings settings, List<String> hosts) {
        String key() {
            return hosts + ":" + service.port();
        }

        String where() {
            return String.join(",", hosts.stream().map(h -> h == null || h.isEmpty() ? "*" : h).toList())
                    + ":" + service.port();
        }
    }

    /** Plan - a configuration's smtpd services, by listen key, in master.cf order. */
    private record Plan(Map<String, Planned> services) {
    }

    /**
     * plan - every smtpd service's settings made from main and services: a value that does
     * not validate throws here, before anything changes.
     */
    private Plan plan(Config main, List<MasterService> services) {
        Map<String, Planned> planned = new LinkedHashMap<>();
        for (MasterService s : MasterCf.smtpdServices(services)) {
            Config c = s.settings(main);
            SmtpdSettings settings;
            try {
                settings = SmtpdSettingsFactory.from(c, s.name(), dispatch);
            } catch (ConfigException | IllegalArgumentException e) {
                // a service with -o options: its master.cf line; otherwise the values are main.cf's
                throw new ConfigException(s.overrides().isEmpty() ? main.fileName() : s.origin(), 0,
                        "service " + s.name() + ": " + e.getMessage(), e);
            }
            // "127.0.0.1:2525 inet ..." names its address; "smtp inet ..." listens on inet_interfaces
            List<String> hosts = s.bindHost().isPresent() ? List.of(s.bindHost().get())
                    : SmtpdSettingsFactory.listenAddresses(c);
            Planned p = new Planned(s, settings, hosts);
            Planned other = planned.putIfAbsent(p.key(), p);
            if (other != null && p.service().port() != 0) {
                throw new ConfigException(s.origin(), 0, "service " + s.name() + " listens on " + p.where()
                        + " as service " + other.service().name() + " does");
            }
        }
        return new Plan(planned);
    }

    /**
     * change - make the running listeners those of next: bind the new ones first (a
     * failure closes them again and changes nothing), then give the ones that stay their
     * new settings, then close the ones that went.
     */
    private void change(Plan next, List<String> changes) {
        List<SmtpdServer> started = new ArrayList<>();
        Map<String, SmtpdServer> added = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Planned> e : next.services().entrySet()) {
                Planned p = e.getValue();
                if (running.containsKey(e.getKey()) && p.service().port() != 0) {
                    continue;
                }
                SmtpdServer server = new SmtpdServer(p.service().name(), p.settings(), dispatch, group, blocking);
                server.start(p.hosts(), p.service().port());
                started.add(server);
                added.put(e.getKey(), server);
            }
        } catch (IOException | RuntimeException e) {
            started.forEach(SmtpdServer::stop);
            throw new IllegalStateException(e.getMessage(), e);
        }
        Map<String, SmtpdServer> now = new LinkedHashMap<>();
        for (Map.Entry<String, Planned> e : next.services().entrySet()) {
            Planned p = e.getValue();
            SmtpdServer server = added.get(e.getKey());
            if (server != null) {
                String line = p.service().name() + ": listening on " + String.join(", ", server.listening());
                changes.add(line);
                LOG.info("PSTN2105: smtpd " + line);
            } else {
                server = running.get(e.getKey());
                server.reconfigure(p.service().name(), p.settings());
                changes.add(p.service().name() + ": new sessions use the new settings");
            }
            now.put(e.getKey(), server);
        }
        for (Map.Entry<String, SmtpdServer> e : running.entrySet()) {
            if (!now.containsKey(e.getKey())) {
                SmtpdServer gone = e.getValue();
                changes.add(gone.name() + ": closed " + String.join(", ", gone.listening())
                        + (gone.sessions() > 0 ? "; " + gone.sessions() + " sessions finish" : ""));
                gone.retire();
                retired.add(gone);
            }
        }
        running.clear();
        running.putAll(now);
        retired.removeIf(s -> s.port() == -1); // stopped after their last session
        if (running.isEmpty()) {
            LOG.warning("PSTN2107: master.cf declares no smtpd inet service; not listening");
        }
    }

    private void stopAll() {
        running.values().forEach(SmtpdServer::stop);
        running.clear();
        retired.forEach(SmtpdServer::stop);
        retired.clear();
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
     * Dispatch - what the sessions call: the endpoint active now. Between a deactivation
     * and the listeners' close a session gets the endpoint's temporary failure.
     */
    private final class Dispatch implements SmtpdListener {
        private SmtpdListener current(String failureReply) throws EnqueueException {
            EndpointInvoker e = endpoint;
            if (e == null) {
                throw new EnqueueException(failureReply, "PSTN2108: no smtpd endpoint", null);
            }
            return e;
        }

        @Override
        public String enqueue(Envelope envelope, InputStream content) throws EnqueueException {
            return current("451 4.3.0 Error: queue file write error").enqueue(envelope, content);
        }

        @Override
        public boolean etrn(String domain) throws EnqueueException {
            return current("458 Unable to queue messages").etrn(domain);
        }

        @Override
        public boolean authenticate(String authzid, String username, char[] password) throws EnqueueException {
            return current("454 4.7.0 Temporary authentication failure").authenticate(authzid, username, password);
        }
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
