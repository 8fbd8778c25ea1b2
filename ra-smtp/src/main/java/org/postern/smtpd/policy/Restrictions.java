package org.postern.smtpd.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import org.postern.config.ConfigException;
import org.postern.config.maps.LookupTables;

/**
 * Restrictions - the registry of the restrictions Postern implements, and the parser of
 * smtpd_*_restrictions lists.
 *
 * <h2>DESCRIPTION</h2>
 * The registry holds every {@link RestrictionKind} of the families
 * {@link GenericRestrictions}, {@link ClientRestrictions}, {@link HeloRestrictions},
 * {@link SenderRestrictions}, {@link RecipientRestrictions}, {@link DnsListRestrictions}
 * and {@link PolicyServiceRestriction}, by name. Older names that Postfix still accepts
 * are aliases of the current ones. reject_sender_login_mismatch is parsed, as in
 * Postfix, into its two parts reject_authenticated_sender_login_mismatch and
 * reject_unauthenticated_sender_login_mismatch.
 *
 * <p>A list is parsed when the settings are built, so that a bad restriction fails the
 * deployment, never a session. The Postfix restrictions that Postern does not
 * implement fail the start with a message that says what to use instead.
 */
final class Restrictions {

    /** Every restriction Postern implements, by name. */
    private static final Map<String, RestrictionKind> KINDS = registry(GenericRestrictions.KINDS,
            ClientRestrictions.KINDS, HeloRestrictions.KINDS, SenderRestrictions.KINDS, RecipientRestrictions.KINDS,
            DnsListRestrictions.KINDS, PolicyServiceRestriction.KINDS);

    /** Older names that Postfix still accepts. */
    private static final Map<String, String> ALIASES = Map.of("reject_invalid_hostname", "reject_invalid_helo_hostname",
            "reject_non_fqdn_hostname", "reject_non_fqdn_helo_hostname",
            "check_recipient_maps", "reject_unlisted_recipient",
            "reject_unknown_client", "reject_unknown_client_hostname",
            "reject_unknown_hostname", "reject_unknown_helo_hostname");

    /** Postfix restrictions that Postern does not implement, with what to do instead. */
    private static final Map<String, String> NOT_YET = Map.of(
            "reject_unverified_sender", "Postern has no verify(8) address verification service; use "
                    + "reject_unknown_sender_domain, or a check_policy_service server that verifies addresses",
            "reject_unverified_recipient", "Postern has no verify(8) address verification service; list the valid "
                    + "recipients in relay_recipient_maps or virtual_mailbox_maps (reject_unlisted_recipient), or "
                    + "use a check_policy_service server that verifies addresses",
            "permit_mx_backup", "Postern does not look up MX records for relay permission; list the backup "
                    + "domains in relay_domains (with relay_recipient_maps) instead",
            "check_ccert_access", "Postern does not ask SMTP clients for TLS certificates; authenticate clients "
                    + "with AUTH (permit_sasl_authenticated) or by address (check_client_access, mynetworks)",
            "permit_tls_clientcerts", "Postern does not ask SMTP clients for TLS certificates; use "
                    + "permit_sasl_authenticated or permit_mynetworks instead",
            "permit_tls_all_clientcerts", "Postern does not ask SMTP clients for TLS certificates; use "
                    + "permit_sasl_authenticated or permit_mynetworks instead");

    private Restrictions() {
    }

    @SafeVarargs
    private static Map<String, RestrictionKind> registry(List<RestrictionKind>... families) {
        Map<String, RestrictionKind> m = new LinkedHashMap<>();
        Stream.of(families).flatMap(List::stream).forEach(k -> {
            if (m.put(k.name(), k) != null) {
                throw new IllegalStateException("restriction registered twice: " + k.name());
            }
        });
        return Map.copyOf(m);
    }

    /** kind - the restriction of this name (aliases resolved), or null when Postern has none. */
    static RestrictionKind kind(String name) {
        return KINDS.get(current(name));
    }

    /** current - the name in lower case, an older name replaced by the current one. */
    private static String current(String element) {
        String n = element.toLowerCase(Locale.ROOT);
        return ALIASES.getOrDefault(n, n);
    }

    /**
     * parseList - a restriction list parameter value (already split into elements).
     *
     * @throws ConfigException for an unknown restriction, one that Postern does not
     *                         implement, a missing or bad argument, or a table that
     *                         cannot be opened
     */
    static List<Restriction> parseList(List<String> elements, String parameter) {
        List<Restriction> out = new ArrayList<>();
        for (int i = 0; i < elements.size(); i++) {
            RestrictionKind kind = kind(elements.get(i));
            if (kind == null) {
                throw unknown(current(elements.get(i)), parameter);
            }
            String next = i + 1 < elements.size() ? elements.get(i + 1) : null;
            String name = kind.name();
            switch (kind.argument()) {
                case TABLE -> {
                    if (next == null || next.indexOf(':') <= 0) {
                        throw new ConfigException(parameter, 0, "restriction " + name
                                + " needs a type:name lookup table argument");
                    }
                    out.add(new Restriction(kind, LookupTables.open(next), null));
                    i++;
                }
                case SERVER -> {
                    if (next == null) {
                        throw new ConfigException(parameter, 0, "restriction " + name
                                + " needs a server argument (inet:host:port or unix:/path)");
                    }
                    out.add(new Restriction(kind, null, next));
                    i++;
                }
                case DNS_DOMAIN -> {
                    if (next == null || !DnsListRestrictions.validDnsxl(next)) {
                        throw new ConfigException(parameter, 0,
                                "restriction " + name + " needs a DNS domain argument (domain or domain=d.d.d.d)");
                    }
                    out.add(new Restriction(kind, null, next.toLowerCase(Locale.ROOT)));
                    i++;
                }
                case SECONDS -> {
                    // Postfix: "restriction sleep must be followed by number"
                    if (next == null || !next.matches("[0-9]{1,6}")) {
                        throw new ConfigException(parameter, 0, "restriction " + name + " must be followed by number");
                    }
                    out.add(new Restriction(kind, null, String.valueOf(Integer.parseInt(next))));
                    i++;
                }
                default -> {
                    for (String part : kind.expansion()) {
                        out.add(new Restriction(KINDS.get(part), null, null));
                    }
                    if (kind.expansion().isEmpty()) {
                        out.add(new Restriction(kind, null, null));
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    /** simple - a restriction without argument and without DNS, as in an access map's right-hand side. */
    static Restriction simple(String element, String origin) {
        RestrictionKind kind = kind(element);
        if (kind == null) {
            throw unknown(element, origin);
        }
        if (kind.allowedInAccessMap()) {
            return new Restriction(kind, null, null);
        }
        if (kind.argument() == RestrictionKind.Argument.TABLE) {
            throw new ConfigException(origin, 0, "restriction " + kind.name() + " needs a lookup table argument");
        }
        // DNS: an access map result is evaluated without waiting for DNS
        throw new ConfigException(origin, 0, "restriction " + kind.name() + " is not allowed in an access map result");
    }

    /** unknown - the start failure for a name that is no restriction of Postern's. */
    private static ConfigException unknown(String element, String origin) {
        String name = current(element);
        if (NOT_YET.containsKey(name)) {
            return new ConfigException(origin, 0, "restriction " + name + " is not supported by Postern: "
                    + NOT_YET.get(name));
        }
        return new ConfigException(origin, 0, "unknown smtpd restriction: \"" + element + "\"");
    }
}
