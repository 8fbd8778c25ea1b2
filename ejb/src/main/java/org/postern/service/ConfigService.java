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
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;

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
    /** the values made from the configuration in force (its lookup tables opened once), by kind */
    private volatile Derived derived;

    private record Derived(Config config, Map<Class<?>, Object> values) {
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
     * derived - the value of this kind made from the configuration in force: made by
     * {@code make} the first time it is asked for, then kept until the configuration in
     * force changes. So a texthash table behind the value is read once per configuration,
     * not once per delivery round or per message. The kinds live with the code that uses
     * them ({@code TransportResolver.inForce}, {@code VirtualAliases.inForce}), so that this
     * service depends on no package that depends on it. A {@code make} that throws keeps
     * nothing, and the next call tries again.
     */
    public <T> T derived(Class<T> kind, Function<Config, T> make) {
        Config c = current();
        Derived d = derived;
        if (d == null || d.config() != c) {
            d = new Derived(c, new ConcurrentHashMap<>());
            derived = d;
        }
        return kind.cast(d.values().computeIfAbsent(kind, k -> make.apply(c)));
    }
}
