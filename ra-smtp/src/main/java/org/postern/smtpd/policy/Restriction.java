package org.postern.smtpd.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.postern.config.ConfigException;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;

/**
 * Restriction - one element of an smtpd_*_restrictions list: a name and, for the
 * check_*_access restrictions, its lookup table.
 *
 * @param name  the restriction name, lower case, aliases replaced by the current name
 * @param table the table of a check_*_access restriction, otherwise null
 * @param arg   the DNS domain of reject_rbl_client (with an optional =address filter), the
 *              server of check_policy_service (with its { } attributes), otherwise null
 */
record Restriction(String name, LookupTable table, String arg) {

    /** Restrictions without argument that Postern implements. */
    static final Set<String> SIMPLE = Set.of("permit", "reject", "defer", "warn_if_reject", "permit_mynetworks",
            "permit_sasl_authenticated", "reject_unauth_destination", "defer_unauth_destination",
            "permit_auth_destination", "reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname",
            "reject_non_fqdn_sender", "reject_non_fqdn_recipient", "reject_unlisted_recipient",
            "reject_unknown_sender_domain", "reject_unknown_recipient_domain", "reject_unknown_client_hostname",
            "reject_unknown_reverse_client_hostname", "reject_maps_rbl", "reject_unknown_helo_hostname");

    /** Restrictions that need DNS answers (prefetched before a stage is evaluated). */
    static final Set<String> DNS = Set.of("reject_unknown_sender_domain", "reject_unknown_recipient_domain",
            "reject_unknown_client_hostname", "reject_unknown_reverse_client_hostname", "reject_maps_rbl",
            "reject_rbl_client", "reject_unknown_helo_hostname");

    /** Restrictions followed by a type:name lookup table. */
    static final Set<String> WITH_TABLE = Set.of("check_client_access", "check_helo_access", "check_sender_access",
            "check_recipient_access");

    /** Older names that Postfix still accepts. */
    static final Map<String, String> ALIASES = Map.of("reject_invalid_hostname", "reject_invalid_helo_hostname",
            "reject_non_fqdn_hostname", "reject_non_fqdn_helo_hostname",
            "check_recipient_maps", "reject_unlisted_recipient",
            "reject_unknown_client", "reject_unknown_client_hostname",
            "reject_unknown_hostname", "reject_unknown_helo_hostname");

    /** Postfix restrictions that Postern does not implement yet (DNS, SASL, policy service...). */
    static final Set<String> NOT_YET = Set.of(
            "reject_rhsbl_client",
            "reject_rhsbl_sender", "reject_rhsbl_recipient", "reject_rhsbl_helo",
            "reject_unverified_sender", "reject_unverified_recipient",
            "reject_unauth_pipelining", "reject_unlisted_sender", "permit_mx_backup", "check_ccert_access",
            "permit_tls_clientcerts", "permit_tls_all_clientcerts", "reject_sender_login_mismatch",
            "defer_if_permit", "defer_if_reject", "reject_multi_recipient_bounce", "sleep");

    /**
     * parse - a restriction list parameter value (already split into elements).
     *
     * @throws ConfigException for an unknown restriction, one that Postern does not
     *                         implement, a missing table, or a table that cannot be opened
     */
    static List<Restriction> parseList(List<String> elements, String parameter) {
        List<Restriction> out = new ArrayList<>();
        for (int i = 0; i < elements.size(); i++) {
            String name = name(elements.get(i));
            if (WITH_TABLE.contains(name)) {
                if (i + 1 >= elements.size() || elements.get(i + 1).indexOf(':') <= 0) {
                    throw new ConfigException(parameter, 0, "restriction " + name
                            + " needs a type:name lookup table argument");
                }
                out.add(new Restriction(name, LookupTables.open(elements.get(++i)), null));
            } else if (name.equals("check_policy_service")) {
                if (i + 1 >= elements.size()) {
                    throw new ConfigException(parameter, 0,
                            "restriction check_policy_service needs a server argument (inet:host:port or unix:/path)");
                }
                out.add(new Restriction(name, null, elements.get(++i)));
            } else if (name.equals("reject_rbl_client")) {
                if (i + 1 >= elements.size() || !Hostnames.validHostname(rblDomain(elements.get(i + 1)))) {
                    throw new ConfigException(parameter, 0,
                            "restriction reject_rbl_client needs a DNS domain argument");
                }
                out.add(new Restriction(name, null, elements.get(++i).toLowerCase(Locale.ROOT)));
            } else if (SIMPLE.contains(name)) {
                out.add(new Restriction(name, null, null));
            } else {
                out.add(simple(name, parameter));
            }
        }
        return List.copyOf(out);
    }

    /** rblDomain - "zen.example=127.0.0.2" without its filter. */
    static String rblDomain(String arg) {
        int eq = arg.indexOf('=');
        return eq < 0 ? arg : arg.substring(0, eq);
    }

    /** simple - a restriction without argument, as in an access map's right-hand side. */
    static Restriction simple(String element, String origin) {
        String name = name(element);
        if (SIMPLE.contains(name) && !DNS.contains(name)) {
            return new Restriction(name, null, null);
        }
        if (DNS.contains(name)) {
            // an access map result is evaluated without waiting for DNS
            throw new ConfigException(origin, 0, "restriction " + name + " is not allowed in an access map result");
        }
        if (WITH_TABLE.contains(name)) {
            throw new ConfigException(origin, 0, "restriction " + name + " needs a lookup table argument");
        }
        if (NOT_YET.contains(name)) {
            throw new ConfigException(origin, 0, "restriction " + name + " is not supported by Postern yet");
        }
        throw new ConfigException(origin, 0, "unknown smtpd restriction: \"" + element + "\"");
    }

    private static String name(String element) {
        String n = element.toLowerCase(Locale.ROOT);
        return ALIASES.getOrDefault(n, n);
    }

    @Override
    public String toString() {
        return table != null ? name + " " + table.spec() : arg != null ? name + " " + arg : name;
    }
}
