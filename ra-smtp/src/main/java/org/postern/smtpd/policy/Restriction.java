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
 * <p>reject_sender_login_mismatch is parsed, as in Postfix, into its two parts
 * reject_authenticated_sender_login_mismatch and
 * reject_unauthenticated_sender_login_mismatch. The Postfix restrictions in
 * {@link #NOT_YET} fail the start with a message that says what to use instead.
 *
 * @param name  the restriction name, lower case, aliases replaced by the current name
 * @param table the table of a check_*_access restriction, otherwise null
 * @param arg   the DNS domain of reject_rbl_client and reject_rhsbl_* (with an optional
 *              =address filter), the server of check_policy_service (with its { }
 *              attributes), the seconds of sleep, otherwise null
 */
record Restriction(String name, LookupTable table, String arg) {

    /** Restrictions without argument that Postern implements. */
    static final Set<String> SIMPLE = Set.of("permit", "reject", "defer", "warn_if_reject", "permit_mynetworks",
            "permit_sasl_authenticated", "reject_unauth_destination", "defer_unauth_destination",
            "permit_auth_destination", "reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname",
            "reject_non_fqdn_sender", "reject_non_fqdn_recipient", "reject_unlisted_recipient",
            "reject_unknown_sender_domain", "reject_unknown_recipient_domain", "reject_unknown_client_hostname",
            "reject_unknown_reverse_client_hostname", "reject_maps_rbl", "reject_unknown_helo_hostname",
            "reject_authenticated_sender_login_mismatch", "reject_known_sender_login_mismatch",
            "reject_unauthenticated_sender_login_mismatch", "reject_unlisted_sender", "reject_multi_recipient_bounce",
            "defer_if_permit", "defer_if_reject", "reject_unauth_pipelining");

    /** Restrictions followed by a DNS domain[=d.d.d.d] argument (a DNS blocklist). */
    static final Set<String> WITH_DNS_DOMAIN = Set.of("reject_rbl_client", "reject_rhsbl_client",
            "reject_rhsbl_reverse_client", "reject_rhsbl_sender", "reject_rhsbl_recipient", "reject_rhsbl_helo");

    /** Restrictions that need DNS answers (prefetched before a stage is evaluated). */
    static final Set<String> DNS = Set.of("reject_unknown_sender_domain", "reject_unknown_recipient_domain",
            "reject_unknown_client_hostname", "reject_unknown_reverse_client_hostname", "reject_maps_rbl",
            "reject_rbl_client", "reject_unknown_helo_hostname", "reject_rhsbl_client", "reject_rhsbl_reverse_client",
            "reject_rhsbl_sender", "reject_rhsbl_recipient", "reject_rhsbl_helo");

    /** Restrictions followed by a type:name lookup table. */
    static final Set<String> WITH_TABLE = Set.of("check_client_access", "check_helo_access", "check_sender_access",
            "check_recipient_access");

    /** Older names that Postfix still accepts. */
    static final Map<String, String> ALIASES = Map.of("reject_invalid_hostname", "reject_invalid_helo_hostname",
            "reject_non_fqdn_hostname", "reject_non_fqdn_helo_hostname",
            "check_recipient_maps", "reject_unlisted_recipient",
            "reject_unknown_client", "reject_unknown_client_hostname",
            "reject_unknown_hostname", "reject_unknown_helo_hostname");

    /** Postfix restrictions that Postern does not implement, with what to do instead. */
    static final Map<String, String> NOT_YET = Map.of(
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

    /** notYet - the start failure for a Postfix restriction that Postern does not implement. */
    private static ConfigException notYet(String origin, String name) {
        return new ConfigException(origin, 0, "restriction " + name + " is not supported by Postern: "
                + NOT_YET.get(name));
    }

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
            } else if (WITH_DNS_DOMAIN.contains(name)) {
                if (i + 1 >= elements.size() || !validDnsxl(elements.get(i + 1))) {
                    throw new ConfigException(parameter, 0,
                            "restriction " + name + " needs a DNS domain argument (domain or domain=d.d.d.d)");
                }
                out.add(new Restriction(name, null, elements.get(++i).toLowerCase(Locale.ROOT)));
            } else if (name.equals("sleep")) {
                // Postfix: "restriction sleep must be followed by number"
                if (i + 1 >= elements.size() || !elements.get(i + 1).matches("[0-9]{1,6}")) {
                    throw new ConfigException(parameter, 0, "restriction sleep must be followed by number");
                }
                out.add(new Restriction(name, null, String.valueOf(Integer.parseInt(elements.get(++i)))));
            } else if (name.equals("reject_sender_login_mismatch")) {
                out.add(new Restriction("reject_authenticated_sender_login_mismatch", null, null));
                out.add(new Restriction("reject_unauthenticated_sender_login_mismatch", null, null));
            } else if (SIMPLE.contains(name)) {
                out.add(new Restriction(name, null, null));
            } else {
                out.add(simple(name, parameter));
            }
        }
        return List.copyOf(out);
    }

    /** One octet of a d.d.d.d reply filter: a number, or [n;n..m;...] (Postfix 2.8 ip_match). */
    private static final String OCTET = "(?:\\d{1,3}|\\[\\d{1,3}(?:\\.\\.\\d{1,3})?(?:;\\d{1,3}(?:\\.\\.\\d{1,3})?)*\\])";
    private static final java.util.regex.Pattern FILTER = java.util.regex.Pattern.compile(
            OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);

    /** validDnsxl - domain, or domain=d.d.d.d where each d is a number or a [n;n..m] pattern. */
    static boolean validDnsxl(String arg) {
        String domain = rblDomain(arg);
        return Hostnames.validHostname(domain)
                && (domain.length() == arg.length() || FILTER.matcher(arg.substring(domain.length() + 1)).matches());
    }

    /** filterMatches - does an A record value match a d.d.d.d reply filter (each octet a number or [list]). */
    static boolean filterMatches(String filter, String address) {
        String[] f = filter.split("\\.(?![^\\[]*\\])");
        String[] a = address.split("\\.");
        if (f.length != 4 || a.length != 4) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            int octet;
            try {
                octet = Integer.parseInt(a[i]);
            } catch (NumberFormatException e) {
                return false;
            }
            if (!octetMatches(f[i], octet)) {
                return false;
            }
        }
        return true;
    }

    private static boolean octetMatches(String pattern, int octet) {
        if (!pattern.startsWith("[")) {
            return Integer.parseInt(pattern) == octet;
        }
        for (String range : pattern.substring(1, pattern.length() - 1).split(";")) {
            int dots = range.indexOf("..");
            int low = Integer.parseInt(dots < 0 ? range : range.substring(0, dots));
            int high = dots < 0 ? low : Integer.parseInt(range.substring(dots + 2));
            if (octet >= low && octet <= high) {
                return true;
            }
        }
        return false;
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
        if (name.equals("sleep") || name.equals("check_policy_service") || name.equals("reject_sender_login_mismatch")) {
            throw new ConfigException(origin, 0, "restriction " + name + " is not allowed in an access map result");
        }
        if (NOT_YET.containsKey(name)) {
            throw notYet(origin, name);
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
