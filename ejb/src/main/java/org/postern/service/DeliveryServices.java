package org.postern.service;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.postern.config.Config;
import org.postern.config.MasterService;
import org.postern.config.ServiceParameters;
import org.postern.smtp.api.NextHop;

/**
 * DeliveryServices - the smtp and lmtp delivery services of master.cf, each with the
 * configuration it runs with and the queue manager's limits for it.
 *
 * <h2>DESCRIPTION</h2>
 * A master.cf line {@code slow unix - - n - 2 smtp -o smtp_helo_name=out.example.com} is
 * an smtp(8) client named slow, the transport that {@code transport_maps} names as
 * {@code slow:}. As in Postfix:
 * <ul>
 * <li>its {@code -o name=value} settings override main.cf for that service alone: the
 * client parameters of its deliveries are read from {@link Service#config}, main.cf with
 * the line's overrides, made once per configuration (a bad value refuses the load or
 * reload with the master.cf line);</li>
 * <li>the queue manager's limits per destination are {@code slow_destination_concurrency_limit}
 * and {@code slow_destination_recipient_limit} ({@link ServiceParameters}), falling back to
 * default_destination_concurrency_limit and default_destination_recipient_limit. They are
 * read from main.cf, not from the line's overrides: they are qmgr(8)'s parameters, and a
 * {@code -o} on a delivery service reaches only that delivery agent;</li>
 * <li>the maxproc column bounds the deliveries of the service that run at once, all
 * destinations together ({@code -}: default_process_limit; 0: no limit).</li>
 * </ul>
 *
 * <p>The transports smtp, relay and lmtp work without a master.cf line in Postern (the
 * transport resolver routes to them): then they run with main.cf, their
 * {@code transport_destination_*} limits, and no process limit.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * default_destination_concurrency_limit (20), default_destination_recipient_limit (50),
 * default_process_limit (100), and the per-service names above.
 */
public final class DeliveryServices {

    /**
     * Service - one delivery service.
     *
     * @param name             the transport name, in lower case
     * @param command          smtp or lmtp
     * @param config           main.cf with the -o overrides of the service's line
     * @param concurrencyLimit parallel deliveries to one destination; 0 = no limit
     * @param recipientLimit   recipients per delivery; 0 = no limit
     * @param processLimit     parallel deliveries of the service; 0 = no limit
     * @param origin           the master.cf line, or "built-in"
     */
    public record Service(String name, String command, Config config, int concurrencyLimit, int recipientLimit,
                          int processLimit, String origin) {
        /** lmtp - true for an lmtp(8) service. */
        public boolean lmtp() {
            return "lmtp".equals(command);
        }
    }

    private final Config main;
    private final Map<String, Service> byName;

    private DeliveryServices(Config main, Map<String, Service> byName) {
        this.main = main;
        this.byName = Map.copyOf(byName);
    }

    /**
     * of - the delivery services of master.cf with main.cf, and the built-in ones.
     *
     * @throws org.postern.config.ConfigException a bad -o value (with the master.cf line) or
     *         a bad limit (with its main.cf line)
     */
    public static DeliveryServices of(Config main, List<MasterService> services) {
        Map<String, Service> byName = new LinkedHashMap<>();
        for (MasterService s : services) {
            if (!"smtp".equals(s.command()) && !"lmtp".equals(s.command())) {
                continue;
            }
            Config own = s.settings(main);
            // master(5): when lines repeat a service name and type, the last one counts
            byName.put(s.name().toLowerCase(Locale.ROOT), service(main, s.name(), s.command(), own,
                    s.processLimit(main), s.origin()));
        }
        for (String builtIn : List.of("smtp", "relay", "lmtp")) {
            byName.computeIfAbsent(builtIn, n -> service(main, n, n.equals("lmtp") ? "lmtp" : "smtp", main, 0,
                    "built-in"));
        }
        return new DeliveryServices(main, byName);
    }

    private static Service service(Config main, String name, String command, Config own, int processLimit,
                                   String origin) {
        int concurrency = Math.max(0, main.value(ServiceParameters.destinationConcurrencyLimit(name)));
        int recipients = Math.max(0, main.value(ServiceParameters.destinationRecipientLimit(name)));
        return new Service(name.toLowerCase(Locale.ROOT), command, own, concurrency, recipients, processLimit, origin);
    }

    /** main - the main.cf these services were made from. */
    public Config main() {
        return main;
    }

    /** service - the delivery service of that transport name, or null when there is none. */
    public Service service(String transport) {
        return byName.get(transport.toLowerCase(Locale.ROOT));
    }

    /**
     * service - the service of a transport that the resolver gave for this next hop; a name
     * that is not a delivery service (none should reach here) counts as the built-in smtp or
     * lmtp of the hop's protocol.
     */
    public Service service(String transport, NextHop hop) {
        Service s = transport == null ? null : service(transport);
        if (s == null || s.lmtp() != (hop.protocol() == NextHop.Protocol.LMTP)) {
            return byName.get(hop.protocol() == NextHop.Protocol.LMTP ? "lmtp" : "smtp");
        }
        return s;
    }

    /** commands - the master.cf delivery services by name: smtp or lmtp (not the built-in ones). */
    public Map<String, String> commands() {
        Map<String, String> out = new LinkedHashMap<>();
        byName.values().stream().filter(s -> !s.origin().equals("built-in"))
                .forEach(s -> out.put(s.name(), s.command()));
        return Map.copyOf(out);
    }

    /** ownConfigs - the configurations of services with -o overrides, each once (not main.cf itself). */
    public List<Config> ownConfigs() {
        Map<Config, Boolean> seen = new IdentityHashMap<>();
        List<Config> out = new ArrayList<>();
        for (Service s : byName.values()) {
            if (s.config() != main && seen.put(s.config(), Boolean.TRUE) == null) {
                out.add(s.config());
            }
        }
        return out;
    }
}
