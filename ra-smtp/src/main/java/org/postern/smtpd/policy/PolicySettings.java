package org.postern.smtpd.policy;

import org.postern.config.Parameter;
import org.postern.config.Parameters;
import java.util.List;
import java.util.Set;

import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.maps.DomainList;
import org.postern.config.NetworkList;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;
import org.postern.maillog.MailLogger;

/**
 * PolicySettings - the parsed main.cf parameters of the policy engine.
 *
 * <p>Built once per listener service (at deployment: no reload yet) by {@link #from}; every list is
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
 * unknown_hostname_reject_code (450), and for {@code check_policy_service}
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
        List<Restriction> relay = list(c, Parameters.SMTPD_RELAY_RESTRICTIONS);
        List<Restriction> recipient = list(c, Parameters.SMTPD_RECIPIENT_RESTRICTIONS);
        if (relay.stream().noneMatch(r -> RELAY_GUARDS.contains(r.name()))
                && recipient.stream().noneMatch(r -> RELAY_GUARDS.contains(r.name()))) {
            // Postfix refuses to start as an open relay; so does Postern.
            throw new ConfigException("smtpd_relay_restrictions", 0, "in parameter smtpd_relay_restrictions or "
                    + "smtpd_recipient_restrictions, specify at least one working instance of: "
                    + "reject_unauth_destination, defer_unauth_destination, reject, defer");
        }
        DomainList mydestination = DomainList.parse(c.get(Parameters.MYDESTINATION), false, "mydestination");
        DomainList relayDomains = DomainList.parse(c.get(Parameters.RELAY_DOMAINS), true, "relay_domains");
        DomainList virtualDomains = DomainList.parse(c.get(Parameters.VIRTUAL_MAILBOX_DOMAINS), false,
                "virtual_mailbox_domains");
        DomainList aliasDomains = DomainList.parse(c.get(Parameters.VIRTUAL_ALIAS_DOMAINS), false,
                "virtual_alias_domains");
        AddressResolver resolver = new AddressResolver(mydestination, aliasDomains, virtualDomains, relayDomains,
                c.get(Parameters.MYORIGIN),
                c.get(Parameters.SWAP_BANGPATH), c.get(Parameters.ALLOW_PERCENT_HACK));
        Codes codes = new Codes(code(c, Parameters.ACCESS_MAP_REJECT_CODE), code(c, Parameters.ACCESS_MAP_DEFER_CODE),
                code(c, Parameters.INVALID_HOSTNAME_REJECT_CODE), code(c, Parameters.NON_FQDN_REJECT_CODE), code(c, Parameters.REJECT_CODE),
                code(c, Parameters.DEFER_CODE), code(c, Parameters.RELAY_DOMAINS_REJECT_CODE),
                code(c, Parameters.UNKNOWN_RELAY_RECIPIENT_REJECT_CODE), code(c, Parameters.UNKNOWN_ADDRESS_REJECT_CODE),
                code(c, Parameters.UNKNOWN_CLIENT_REJECT_CODE), code(c, Parameters.MAPS_RBL_REJECT_CODE),
                code(c, Parameters.UNKNOWN_HOSTNAME_REJECT_CODE), code(c, Parameters.UNKNOWN_VIRTUAL_MAILBOX_REJECT_CODE),
                code(c, Parameters.UNKNOWN_VIRTUAL_ALIAS_REJECT_CODE), code(c, Parameters.MULTI_RECIPIENT_BOUNCE_REJECT_CODE));
        for (String d : c.get(Parameters.MAPS_RBL_DOMAINS)) {
            if (!Hostnames.validHostname(d)) {
                throw new ConfigException("maps_rbl_domains", 0, "bad DNS domain: \"" + d + "\"");
            }
        }
        return new PolicySettings(list(c, Parameters.SMTPD_CLIENT_RESTRICTIONS), list(c, Parameters.SMTPD_HELO_RESTRICTIONS),
                list(c, Parameters.SMTPD_SENDER_RESTRICTIONS), relay, recipient, list(c, Parameters.SMTPD_DATA_RESTRICTIONS),
                list(c, Parameters.SMTPD_END_OF_DATA_RESTRICTIONS), list(c, Parameters.SMTPD_ETRN_RESTRICTIONS),
                c.get(Parameters.SMTPD_DELAY_REJECT), NetworkList.parse(c.get(Parameters.MYNETWORKS), "mynetworks"),
                resolver, LookupTables.openAll(c.get(Parameters.RELAY_RECIPIENT_MAPS)),
                LookupTables.openAll(c.get(Parameters.VIRTUAL_MAILBOX_MAPS)),
                LookupTables.openAll(c.get(Parameters.VIRTUAL_ALIAS_MAPS)),
                c.get(Parameters.SMTPD_REJECT_UNLISTED_RECIPIENT), c.get(Parameters.ALLOW_UNTRUSTED_ROUTING),
                c.get(Parameters.SMTPD_NULL_ACCESS_LOOKUP_KEY), codes, c.get(Parameters.MAPS_RBL_DOMAINS), policyClients(c),
                LookupTables.openAll(c.get(Parameters.SMTPD_SENDER_LOGIN_MAPS)), c.get(Parameters.SMTPD_SASL_AUTH_ENABLE),
                c.get(Parameters.SMTPD_REJECT_UNLISTED_SENDER));
    }

    /** policyClients - one client per distinct check_policy_service server of any list, by its argument. */
    private static java.util.Map<String, PolicyClient> policyClients(Config c) {
        PolicyClient.Settings defaults = new PolicyClient.Settings(c.get(Parameters.SMTPD_POLICY_SERVICE_TIMEOUT),
                c.get(Parameters.SMTPD_POLICY_SERVICE_MAX_IDLE), c.get(Parameters.SMTPD_POLICY_SERVICE_MAX_TTL),
                c.get(Parameters.SMTPD_POLICY_SERVICE_DEFAULT_ACTION), c.get(Parameters.SMTPD_POLICY_SERVICE_TRY_LIMIT),
                c.get(Parameters.SMTPD_POLICY_SERVICE_RETRY_DELAY), c.get(Parameters.SMTPD_POLICY_SERVICE_REQUEST_LIMIT),
                c.get(Parameters.SMTPD_POLICY_SERVICE_POLICY_CONTEXT));
        java.util.Map<String, PolicyClient> clients = new java.util.LinkedHashMap<>();
        for (Parameter<List<String>> list : List.of(Parameters.SMTPD_CLIENT_RESTRICTIONS,
                Parameters.SMTPD_HELO_RESTRICTIONS, Parameters.SMTPD_SENDER_RESTRICTIONS,
                Parameters.SMTPD_RELAY_RESTRICTIONS, Parameters.SMTPD_RECIPIENT_RESTRICTIONS,
                Parameters.SMTPD_DATA_RESTRICTIONS, Parameters.SMTPD_END_OF_DATA_RESTRICTIONS,
                Parameters.SMTPD_ETRN_RESTRICTIONS)) {
            String name = list.name();
            for (Restriction r : list(c, list)) {
                if (r.name().equals("check_policy_service") && !clients.containsKey(r.arg())) {
                    // unix:private/policy is relative to queue_directory, as in Postfix
                    String spec = r.arg().startsWith("unix:") ? "unix:" + c.socketPath(r.arg().substring(5)) : r.arg();
                    clients.put(r.arg(), PolicyClient.parse(spec, defaults, name,
                            MailLogger.of("smtpd", c.get(Parameters.SYSLOG_NAME))));
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

    private static List<Restriction> list(Config c, Parameter<List<String>> p) {
        return Restrictions.parseList(c.get(p), p.name());
    }

    /** code - a reply code parameter: 4XX or 5XX. */
    private static int code(Config c, Parameter<Integer> p) {
        String name = p.name();
        int v = c.get(p);
        if (v < 400 || v > 599) {
            throw new ConfigException(name, 0, "bad reply code " + v + ": specify a 4XX or 5XX code");
        }
        return v;
    }
}
