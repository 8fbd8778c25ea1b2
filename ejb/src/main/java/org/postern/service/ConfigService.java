package org.postern.service;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.MainCfEditor;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.config.ServiceParameters;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtpd.api.SmtpdControl;

/**
 * ConfigService - the one configuration of the application: main.cf and master.cf as
 * parsed once, read by the queue manager, the delivery agents and (through
 * {@link SmtpdControl}) the resource adapter's smtpd listeners.
 *
 * <h2>DESCRIPTION</h2>
 * Loaded at deployment from the configuration directory (-Dpostern.config.dir,
 * POSTERN_CONFIG_DIR, or standalone/configuration/postern). A main.cf that does not parse
 * fails the deployment with the file, line and reason, as Postfix refuses to start.
 * Unknown parameters only give warnings.
 *
 * <p>{@link #reload} is Postfix's {@code postfix reload}: main.cf, master.cf and the
 * lookup tables are read again and validated as a whole - the values made from the
 * configuration in force (transport tables, virtual aliases, ...) are made again from the
 * new one, and the adapter makes every smtpd service's settings and binds the listeners
 * of new services, and the delivery agents' own tables (smtp_generic_maps, lmtp_generic_maps,
 * {@link SmtpClientParameters#checkTables}) are opened - before anything changes. A
 * configuration that does not validate is
 * refused with the file, line and reason, and the running one stays. The new one applies
 * to the sessions and delivery rounds that start after the reload.
 *
 * <p>master.cf's smtp and lmtp services are the delivery transports
 * ({@link #deliveryServices}): each runs with main.cf plus the {@code -o} overrides of its
 * line, made when the configuration is loaded, so that a bad override refuses the load or
 * reload with the master.cf line, as one of an smtpd service does. main.cf is read knowing
 * these services, so that the parameters named after them
 * ({@code slow_destination_recipient_limit}) are not reported as unused.
 */
@Singleton
@Startup
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
public class ConfigService {
    private static final Logger LOG = Logger.getLogger("org.postern.service");

    @Resource(lookup = SmtpdControl.JNDI_NAME)
    SmtpdControl smtpd;

    private volatile Config config;
    private volatile Map<String, String> transports = Map.of();
    /** master.cf's delivery services with their own configurations, made with the configuration in force */
    private volatile DeliveryServices deliveryServices;
    /** the values made from the configuration in force (its lookup tables opened once), by kind */
    private volatile Derived derived;
    /** how each kind of derived value is made, to make them all again on a reload */
    private final Map<Class<?>, BiFunction<Config, Map<String, String>, ?>> makers = new ConcurrentHashMap<>();
    private volatile Instant loaded;
    private final Object reloading = new Object();

    private record Derived(Config config, Map<String, String> transports, Map<Class<?>, Object> values) {
    }

    /** Reloaded - what a reload changed, one line each, and the warnings of the new main.cf. */
    public record Reloaded(List<String> changes, List<String> warnings) {
    }

    @PostConstruct
    void load() {
        Path dir = ConfigLocator.configDir();
        try {
            install(read(dir));
        } catch (ConfigException | IllegalStateException e) {
            // Postfix's "fatal:" - Postern does not start on a configuration it cannot use
            LOG.severe("PSTN4001: fatal: " + e.getMessage());
            throw new IllegalStateException("PSTN4001: fatal: " + e.getMessage(), e);
        }
        LOG.info(() -> "PSTN4002: configuration loaded from " + dir.toAbsolutePath());
    }

    /**
     * reload - read main.cf, master.cf and the lookup tables again and put them in force.
     *
     * @throws ConfigException the new configuration is not valid (file, line, reason) or a
     *         new listener cannot be bound; the running configuration stays
     */
    public Reloaded reload() {
        Path dir = ConfigLocator.configDir();
        synchronized (reloading) {
            Reloaded r;
            try {
                r = install(read(dir));
            } catch (ConfigException e) {
                LOG.warning("PSTN4003: reload refused: " + e.getMessage());
                throw e;
            } catch (IllegalStateException e) {
                LOG.warning("PSTN4003: reload refused: " + e.getMessage());
                throw new ConfigException(dir.resolve("master.cf").toString(), 0, e.getMessage(), e);
            }
            // Postfix master(8): "reload -- version 3.7.11, configuration /etc/postfix"
            MailLog.master("reload -- version " + version() + ", configuration " + dir.toAbsolutePath());
            return r;
        }
    }

    /**
     * set - postconf -e name=value for each entry (a null value removes the parameter),
     * then reload. When the reload refuses the result, main.cf gets its old text back and
     * the exception says why: main.cf never keeps a value the server refused.
     */
    public Reloaded set(Map<String, String> settings) {
        Path mainCf = ConfigLocator.configDir().resolve("main.cf");
        synchronized (reloading) {
            String old;
            try {
                old = Files.readString(mainCf, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                old = null;
            } catch (IOException e) {
                throw new ConfigException(mainCf.toString(), 0, "cannot read: " + e.getMessage(), e);
            }
            MainCfEditor.write(mainCf, settings);
            try {
                return reload();
            } catch (ConfigException e) {
                restore(mainCf, old);
                throw new ConfigException(e.origin(), e.line(), e.reason() + " (" + mainCf + " is unchanged)", e);
            }
        }
    }

    private static void restore(Path mainCf, String old) {
        try {
            if (old == null) {
                Files.deleteIfExists(mainCf);
            } else {
                Path tmp = mainCf.resolveSibling("main.cf.tmp");
                Files.writeString(tmp, old, StandardCharsets.UTF_8);
                Files.move(tmp, mainCf, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            LOG.severe("PSTN4004: cannot restore " + mainCf + " after a refused change: " + e.getMessage());
        }
    }

    /** Loaded - a configuration read from the directory, not yet in force. */
    private record Loaded(Config main, List<MasterService> services, Map<String, String> transports,
                          DeliveryServices delivery) {
    }

    private static Loaded read(Path dir) {
        // master.cf first: its delivery services name parameters of main.cf (slow_destination_recipient_limit)
        List<MasterService> services = MasterCf.load(dir);
        Config main = Config.load(dir, ServiceParameters.of(services));
        DeliveryServices delivery = DeliveryServices.of(main, services);
        return new Loaded(main, services, delivery.commands(), delivery);
    }

    /**
     * install - validate next as a whole and put it in force: the derived values first
     * (lookup tables opened), then the listeners (the adapter refuses without changing
     * anything), then this service's own fields.
     */
    private Reloaded install(Loaded next) {
        // the delivery agents' tables (smtp_generic_maps...) and key files (smtp_tls_cert_file...),
        // per-site tables: refused here, not at the first delivery
        SmtpClientParameters.checkTables(next.main());
        SmtpClientParameters.validate(next.main());
        // the same for each delivery service that overrides main.cf (-o smtp_generic_maps=...)
        for (Config own : next.delivery().ownConfigs()) {
            SmtpClientParameters.checkTables(own);
            SmtpClientParameters.validate(own);
        }
        Map<Class<?>, Object> values = new ConcurrentHashMap<>();
        for (Map.Entry<Class<?>, BiFunction<Config, Map<String, String>, ?>> m : makers.entrySet()) {
            try {
                values.put(m.getKey(), m.getValue().apply(next.main(), next.transports()));
            } catch (ConfigException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new ConfigException(next.main().fileName(), 0, String.valueOf(e.getMessage()), e);
            }
        }
        List<String> changes = new ArrayList<>();
        if (smtpd != null) {
            changes.addAll(smtpd.apply(next.main(), next.services()));
        }
        if (config != null) {
            changes.addAll(0, Config.differences(config, next.main()));
        }
        transports = next.transports();
        deliveryServices = next.delivery();
        config = next.main();
        MailLog.syslogName(next.main());
        derived = new Derived(next.main(), next.transports(), values);
        loaded = Instant.now();
        return new Reloaded(changes, next.main().warnings());
    }

    private static String version() {
        String v = ConfigService.class.getPackage().getImplementationVersion();
        return v != null ? v : "postern";
    }

    /** current - the configuration in force. */
    public Config current() {
        return config;
    }

    /** loaded - when the configuration in force was read. */
    public Instant loaded() {
        return loaded;
    }

    /**
     * transports - the delivery services of master.cf by name: smtp or lmtp, the program
     * that a transport of that name in transport_maps runs.
     */
    public Map<String, String> transports() {
        return transports;
    }

    /**
     * deliveryServices - master.cf's smtp and lmtp services (and the built-in smtp, relay,
     * lmtp) of the configuration in force, each with its own configuration and limits.
     * Where no configuration was loaded here (a test's own {@link #current}), those of the
     * configuration in force without master.cf.
     */
    public DeliveryServices deliveryServices() {
        DeliveryServices d = deliveryServices;
        if (d != null) {
            return d;
        }
        return derived(DeliveryServices.class, (Function<Config, DeliveryServices>) c -> DeliveryServices.of(c, List.of()));
    }

    /** smtpd - the adapter's listeners, or null outside the server (tests). */
    public SmtpdControl smtpd() {
        return smtpd;
    }

    /**
     * derived - the value of this kind made from the configuration in force: made by
     * {@code make} the first time it is asked for, then kept until the configuration in
     * force changes; a reload makes it again from the new configuration before that is put
     * in force, so that a lookup table that cannot be opened refuses the reload. So a
     * texthash table behind the value is read once per configuration, not once per
     * delivery round or per message. The kinds live with the code that uses them
     * ({@code TransportResolver.inForce}, {@code VirtualAliases.inForce}), so that this
     * service depends on no package that depends on it. A {@code make} that throws keeps
     * nothing, and the next call tries again.
     */
    public <T> T derived(Class<T> kind, Function<Config, T> make) {
        return derived(kind, (c, t) -> make.apply(c));
    }

    /** derived - as above, for a value made from main.cf and master.cf's delivery services ({@link #transports}). */
    public <T> T derived(Class<T> kind, BiFunction<Config, Map<String, String>, T> make) {
        makers.putIfAbsent(kind, make);
        Config c = current();
        Map<String, String> t = transports;
        Derived d = derived;
        if (d == null || d.config() != c) {
            d = new Derived(c, t, new ConcurrentHashMap<>());
            derived = d;
        }
        Derived in = d;
        return kind.cast(in.values().computeIfAbsent(kind, k -> make.apply(in.config(), in.transports())));
    }
}
