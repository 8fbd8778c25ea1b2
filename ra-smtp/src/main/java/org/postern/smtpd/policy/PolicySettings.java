package org.postern.smtpd.policy;

import java.util.List;
import java.util.Set;

import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.DomainList;
import org.postern.config.NetworkList;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;

/**
 * PolicySettings - the parsed main.cf parameters of the policy engine.
 *
 * <p>Built once per listener service (and again on reload) by {@link #from}; every list is
 * parsed and every table opened here, so that a configuration error fails the start.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_client_restrictions, smtpd_helo_restrictions, smtpd_sender_restrictions,
 * smtpd_relay_restrictions (permit_mynetworks, permit_sasl_authenticated,
 * defer_unauth_destination), smtpd_recipient_restrictions, smtpd_data_restrictions,
 * smtpd_end_of_data_restrictions, smtpd_etrn_restrictions, smtpd_delay_reject (yes),
 * mynetworks, mydestination, virtual_mailbox_domains, relay_domains, myorigin,
 * relay_recipient_maps, virtual_mailbox_maps, unknown_virtual_mailbox_reject_code (550),
 * virtual_alias_domains ($virtual_alias_maps), virtual_alias_maps,
 * unknown_virtual_alias_reject_code (550),
 * smtpd_reject_unlisted_recipient (yes), allow_untrusted_routing (no), swap_bangpath
 * (yes), allow_percent_hack (yes), smtpd_null_access_lookup_key (&lt;&gt;),
 * access_map_reject_code (554), access_map_defer_code (450),
 * invalid_hostname_reject_code (501), non_fqdn_reject_code (504), reject_code (554),
 * defer_code (450), relay_domains_reject_code (554), unknown_relay_recipient_reject_code (550),
 * unknown_address_reject_code (450), unknown_client_reject_code (450),
 * maps_rbl_reject_code (554), maps_rbl_domains (for reject_maps_rbl),
 * unknown_hostname_reject_code (450), and for check_policy_service
 * smtpd_policy_service_timeout, smtpd_policy_service_max_idle,
 * smtpd_policy_service_max_ttl, smtpd_policy_service_default_action,
 * smtpd_policy_service_try_limit, smtpd_policy_service_retry_delay,
 * smtpd_policy_service_request_limit, smtpd_policy_service_policy_context (see
 * {@link PolicyClient}); for the *_sender_login_mismatch restrictions
 * smtpd_sender_login_maps and smtpd_sasl_auth_enable (no: the restrictions are ignored
 * with a warning, as in Postfix); smtpd_reject_unlisted_sender (no);
 * multi_recipient_bounce_reject_code (550).
 */
public record PolicySettings(List<Restriction> clientRestrictions, List<Restriction> heloRestrictions,
                             List<Restriction> senderRestrictions, List<Restriction> relayRestrictions,
                             List<Restriction> recipientRestrictions, List<Restriction> dataRestrictions,
                             List<Restriction> endOfDataRestrictions, List<Restriction> etrnRestrictions,
                             boolean delayReject, NetworkList mynetworks, AddressResolver resolver,
                             List<LookupTable> relayRecipientMaps, List<LookupTable> virtualMailboxMaps,
                             List<LookupTable> virtualAliasMaps,
                             boolean rejectUnlistedRecipient,
                             boolean allowUntrustedRouting, String nullAccessKey, Codes codes,
                             List<String> mapsRblDomains, java.util.Map<String, PolicyClient> policyClients,
                             List<LookupTable> senderLoginMaps, boolean saslEnabled,
                             boolean rejectUnlistedSender) {

    /**
     * Codes - the reply codes of the restrictions.
     */
    record Codes(int accessMapReject, int accessMapDefer, int invalidHostname, int nonFqdn, int reject, int defer,
                 int relayDomainsReject, int unknownRelayRecipient, int unknownAddress, int unknownClient,
                 int mapsRbl, int unknownHostname, int unknownVirtualMailbox, int unknownVirtualAlias,
                 int multiRecipientBounce) {
    }

    /** Restrictions that make a relay or recipient list safe against open relaying (Postfix's check). */
    private static final Set<String> RELAY_GUARDS = Set.of("reject_unauth_destination", "defer_unauth_destination",
            "reject", "defer");

    /** from - the policy of a listener's configuration; ConfigException on a bad restriction or table. */
    public static PolicySettings from(Config c) {
        List<Restriction> relay = list(c, "smtpd_relay_restrictions");
        List<Restriction> recipient = list(c, "smtpd_recipient_restrictions");
        if (relay.stream().noneMatch(r -> RELAY_GUARDS.contains(r.name()))
                && recipient.stream().noneMatch(r -> RELAY_GUARDS.contains(r.name()))) {
            // Postfix refuses to start as an open relay; so does Postern.
            throw new ConfigException("smtpd_relay_restrictions", 0, "in parameter smtpd_relay_restrictions or "
                    + "smtpd_recipient_restrictions, specify at least one working instance of: "
                    + "reject_unauth_destination, defer_unauth_destination, reject, defer");
        }
        DomainList mydestination = DomainList.parse(c.getList("mydestination"), false, "mydestination");
        DomainList relayDomains = DomainList.parse(c.getList("relay_domains"), true, "relay_domains");
        DomainList virtualDomains = DomainList.parse(c.getList("virtual_mailbox_domains"), false,
                "virtual_mailbox_domains");
        DomainList aliasDomains = DomainList.parse(c.getList("virtual_alias_domains"), false,
                "virtual_alias_domains");
        AddressResolver resolver = new AddressResolver(mydestination, aliasDomains, virtualDomains, relayDomains,
                c.get("myorigin"),
                c.getBoolean("swap_bangpath"), c.getBoolean("allow_percent_hack"));
        Codes codes = new Codes(code(c, "access_map_reject_code"), code(c, "access_map_defer_code"),
                code(c, "invalid_hostname_reject_code"), code(c, "non_fqdn_reject_code"), code(c, "reject_code"),
                code(c, "defer_code"), code(c, "relay_domains_reject_code"),
                code(c, "unknown_relay_recipient_reject_code"), code(c, "unknown_address_reject_code"),
                code(c, "unknown_client_reject_code"), code(c, "maps_rbl_reject_code"),
                code(c, "unknown_hostname_reject_code"), code(c, "unknown_virtual_mailbox_reject_code"),
                code(c, "unknown_virtual_alias_reject_code"), code(c, "multi_recipient_bounce_reject_code"));
        for (String d : c.getList("maps_rbl_domains")) {
            if (!Hostnames.validHostname(d)) {
                throw new ConfigException("maps_rbl_domains", 0, "bad DNS domain: \"" + d + "\"");
            }
        }
        return new PolicySettings(list(c, "smtpd_client_restrictions"), list(c, "smtpd_helo_restrictions"),
                list(c, "smtpd_sender_restrictions"), relay, recipient, list(c, "smtpd_data_restrictions"),
                list(c, "smtpd_end_of_data_restrictions"), list(c, "smtpd_etrn_restrictions"),
                c.getBoolean("smtpd_delay_reject"), NetworkList.parse(c.getList("mynetworks"), "mynetworks"),
                resolver, LookupTables.openAll(c.getList("relay_recipient_maps")),
                LookupTables.openAll(c.getList("virtual_mailbox_maps")),
                LookupTables.openAll(c.getList("virtual_alias_maps")),
                c.getBoolean("smtpd_reject_unlisted_recipient"), c.getBoolean("allow_untrusted_routing"),
                c.get("smtpd_null_access_lookup_key"), codes, c.getList("maps_rbl_domains"), policyClients(c),
                LookupTables.openAll(c.getList("smtpd_sender_login_maps")), c.getBoolean("smtpd_sasl_auth_enable"),
                c.getBoolean("smtpd_reject_unlisted_sender"));
    }

    /** policyClients - one client per distinct check_policy_service server of any list, by its argument. */
    private static java.util.Map<String, PolicyClient> policyClients(Config c) {
        PolicyClient.Settings defaults = new PolicyClient.Settings(c.getTime("smtpd_policy_service_timeout"),
                c.getTime("smtpd_policy_service_max_idle"), c.getTime("smtpd_policy_service_max_ttl"),
                c.get("smtpd_policy_service_default_action"), c.getInt("smtpd_policy_service_try_limit"),
                c.getTime("smtpd_policy_service_retry_delay"), c.getInt("smtpd_policy_service_request_limit"),
                c.get("smtpd_policy_service_policy_context"));
        java.util.Map<String, PolicyClient> clients = new java.util.LinkedHashMap<>();
        for (String name : List.of("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
                "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
                "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions")) {
            for (Restriction r : list(c, name)) {
                if (r.name().equals("check_policy_service") && !clients.containsKey(r.arg())) {
                    // unix:private/policy is relative to queue_directory, as in Postfix
                    String spec = r.arg().startsWith("unix:") ? "unix:" + c.socketPath(r.arg().substring(5)) : r.arg();
                    clients.put(r.arg(), PolicyClient.parse(spec, defaults, name));
                }
            }
        }
        return java.util.Map.copyOf(clients);
    }

    /** needsDns - true when some restriction list needs DNS answers. */
    public boolean needsDns() {
        return java.util.stream.Stream.of(clientRestrictions, heloRestrictions, senderRestrictions, relayRestrictions,
                recipientRestrictions, dataRestrictions, endOfDataRestrictions, etrnRestrictions)
                .flatMap(List::stream).anyMatch(r -> r.kind().needsDns());
    }

    private static List<Restriction> list(Config c, String name) {
        return Restrictions.parseList(c.getList(name), name);
    }

    /** code - a reply code parameter: 4XX or 5XX. */
    private static int code(Config c, String name) {
        int v = c.getInt(name);
        if (v < 400 || v > 599) {
            throw new ConfigException(name, 0, "bad reply code " + v + ": specify a 4XX or 5XX code");
        }
        return v;
    }
}
