package org.postern.config;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * ServiceParameters - the main.cf names that Postfix makes from master.cf service names.
 *
 * <h2>NAME</h2>
 * ServiceParameters - {@code transport_destination_concurrency_limit} and its kin, with
 * the name of a master.cf delivery service in place of "transport".
 *
 * <h2>DESCRIPTION</h2>
 * The queue manager reads some of its parameters per transport: for a master.cf service
 * {@code slow unix - - n - - smtp}, {@code slow_destination_concurrency_limit} and
 * {@code slow_destination_recipient_limit}, each falling back to its {@code default_}
 * parameter (postconf(5)). These names are not registered, as there is one per service;
 * Postfix's postconf knows them by pattern, for each service whose command is a delivery
 * agent that the queue manager talks to (smtp, lmtp, local, virtual, pipe, error), and
 * {@code transport_time_limit} for pipe and spawn; postconf 3.7 reports any other such name
 * as an unused parameter. {@link #of} makes the same list from master.cf, so that main.cf can
 * set them without a warning ({@link Config#load(java.nio.file.Path, ServiceParameters)}).
 *
 * <p>Postern honours the destination concurrency and recipient limits of its smtp and lmtp
 * services ({@link #destinationConcurrencyLimit}, {@link #destinationRecipientLimit}, read
 * with {@link Config#value}); the other derived names are known but not supported, and are
 * reported as such. The transports smtp, relay and lmtp count as delivery services when
 * master.cf does not define them, as Postern's transport resolver routes mail to them then.
 */
public final class ServiceParameters {
    /** the master.cf commands that are delivery agents of the queue manager (postconf 3.7) */
    static final Set<String> DELIVERY_AGENTS = Set.of("smtp", "lmtp", "local", "virtual", "pipe", "error");
    /** the delivery agents that Postern runs */
    static final Set<String> POSTERN_AGENTS = Set.of("smtp", "lmtp");
    /** the suffixes of the queue manager's per-transport parameters (postconf(5) transport_*) */
    static final List<String> QMGR_SUFFIXES = List.of("_delivery_slot_cost", "_delivery_slot_discount",
            "_delivery_slot_loan", "_destination_concurrency_failed_cohort_limit", "_destination_concurrency_limit",
            "_destination_concurrency_negative_feedback", "_destination_concurrency_positive_feedback",
            "_destination_rate_delay", "_destination_recipient_limit", "_extra_recipient_limit",
            "_initial_destination_concurrency", "_minimum_delivery_slots", "_recipient_limit",
            "_recipient_refill_delay", "_recipient_refill_limit", "_transport_rate_delay");
    /** the suffixes that Postern reads */
    static final Set<String> SUPPORTED_SUFFIXES = Set.of("_destination_concurrency_limit",
            "_destination_recipient_limit");
    /** the transports that Postern runs without a master.cf line: name -> command */
    static final Map<String, String> BUILT_IN = Map.of("smtp", "smtp", "relay", "smtp", "lmtp", "lmtp");

    /** NONE - no master.cf: only the built-in transports */
    public static final ServiceParameters NONE = of(List.of());

    /** derived name -> true when Postern reads it */
    private final Map<String, Boolean> names;

    private ServiceParameters(Map<String, Boolean> names) {
        this.names = Map.copyOf(names);
    }

    /** of - the names derived from the services of a master.cf (and from the built-in transports). */
    public static ServiceParameters of(List<MasterService> services) {
        Map<String, Boolean> names = new HashMap<>();
        Set<String> defined = new java.util.HashSet<>();
        for (MasterService s : services) {
            defined.add(s.name().toLowerCase(Locale.ROOT));
            add(names, s.name(), s.command());
        }
        BUILT_IN.forEach((name, command) -> {
            if (!defined.contains(name)) {
                add(names, name, command);
            }
        });
        return new ServiceParameters(names);
    }

    private static void add(Map<String, Boolean> names, String service, String command) {
        if (DELIVERY_AGENTS.contains(command)) {
            for (String suffix : QMGR_SUFFIXES) {
                names.merge(service + suffix, POSTERN_AGENTS.contains(command) && SUPPORTED_SUFFIXES.contains(suffix),
                        Boolean::logicalOr);
            }
        }
        if (command.equals("pipe") || command.equals("spawn")) {
            names.putIfAbsent(service + "_time_limit", false);
        }
    }

    /** derived - true when Postfix knows this name from a service of this master.cf. */
    public boolean derived(String name) {
        return names.containsKey(name);
    }

    /** used - true when the name is derived and Postern reads it. */
    public boolean used(String name) {
        return names.getOrDefault(name, false);
    }

    /**
     * destinationConcurrencyLimit - {@code transport_destination_concurrency_limit} of a
     * transport: parallel deliveries to one destination; default
     * {@code $default_destination_concurrency_limit}, 0 = no limit. For smtp and lmtp, the
     * registered parameter.
     */
    public static Parameter<Integer> destinationConcurrencyLimit(String transport) {
        return switch (transport) {
            case "smtp" -> Parameters.SMTP_DESTINATION_CONCURRENCY_LIMIT;
            case "lmtp" -> Parameters.LMTP_DESTINATION_CONCURRENCY_LIMIT;
            default -> Parameter.integer(transport + "_destination_concurrency_limit",
                    "$" + Parameters.DEFAULT_DESTINATION_CONCURRENCY_LIMIT.name(),
                    "The maximal number of parallel deliveries to the same destination via the " + transport
                            + " transport; 0: none.");
        };
    }

    /**
     * destinationRecipientLimit - {@code transport_destination_recipient_limit} of a
     * transport: recipients per delivery; default {@code $default_destination_recipient_limit},
     * 0 = no limit. For smtp and lmtp, the registered parameter.
     */
    public static Parameter<Integer> destinationRecipientLimit(String transport) {
        return switch (transport) {
            case "smtp" -> Parameters.SMTP_DESTINATION_RECIPIENT_LIMIT;
            case "lmtp" -> Parameters.LMTP_DESTINATION_RECIPIENT_LIMIT;
            default -> Parameter.integer(transport + "_destination_recipient_limit",
                    "$" + Parameters.DEFAULT_DESTINATION_RECIPIENT_LIMIT.name(),
                    "The maximal number of recipients per message delivery by the " + transport + " transport.");
        };
    }
}
