package org.postern.service;

import jakarta.annotation.PostConstruct;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.cleanup.VirtualAliases;
import org.postern.qmgr.TransportResolver;

/**
 * ConfigService - the main.cf in force for the queue manager and the smtpd endpoint.
 *
 * <p>Loaded once at deployment from the configuration directory (-Dpostern.config.dir,
 * POSTERN_CONFIG_DIR, or standalone/configuration/postern). A main.cf that does not parse
 * fails the deployment with the file, line and reason, as Postfix refuses to start.
 * Unknown parameters only give warnings.
 */
@Singleton
@Startup
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
public class ConfigService {
    private static final Logger LOG = Logger.getLogger("org.postern.service");

    private volatile Config config;
    private volatile Map<String, String> transports = Map.of();
    /** the resolver of the configuration in force, with its lookup tables opened once */
    private volatile Resolver resolver;

    private record Resolver(Config config, TransportResolver transportResolver, VirtualAliases aliases) {
    }

    @PostConstruct
    void load() {
        Path dir = ConfigLocator.configDir();
        try {
            config = Config.load(dir);
            Map<String, String> agents = new HashMap<>();
            for (MasterService s : MasterCf.load(dir)) {
                if ("smtp".equals(s.command()) || "lmtp".equals(s.command())) {
                    agents.put(s.name().toLowerCase(Locale.ROOT), s.command());
                }
            }
            transports = Map.copyOf(agents);
        } catch (ConfigException e) {
            // Postfix's "fatal:" - Postern does not start on a configuration it cannot read
            LOG.severe("PSTN4001: fatal: " + e.getMessage());
            throw new IllegalStateException("PSTN4001: fatal: " + e.getMessage(), e);
        }
        LOG.info(() -> "PSTN4002: configuration loaded from " + dir.toAbsolutePath());
    }

    /** current - the configuration in force. */
    public Config current() {
        return config;
    }

    /**
     * transports - the delivery services of master.cf by name: smtp or lmtp, the program
     * that a transport of that name in transport_maps runs.
     */
    public Map<String, String> transports() {
        return transports;
    }

    /**
     * transportResolver - transport_maps, relayhost and the transports of master.cf for the
     * configuration in force. Built once per configuration: a texthash table is read when
     * the resolver is made, not for every delivery round.
     */
    public TransportResolver transportResolver() {
        return resolver().transportResolver();
    }

    /** virtualAliases - virtual_alias_maps of the configuration in force, opened once. */
    public VirtualAliases virtualAliases() {
        return resolver().aliases();
    }

    private Resolver resolver() {
        Config c = current();
        Resolver r = resolver;
        if (r == null || r.config() != c) {
            r = new Resolver(c, new TransportResolver(c, transports()), VirtualAliases.of(c));
            resolver = r;
        }
        return r;
    }
}
