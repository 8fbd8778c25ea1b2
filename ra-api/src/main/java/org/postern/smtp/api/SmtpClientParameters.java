package org.postern.smtp.api;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.Parameter;
import org.postern.config.Parameters;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;
import org.postern.mail.AddressMapping;

/**
 * SmtpClientParameters - the SMTP and LMTP client's parameter table.
 *
 * <h2>NAME</h2>
 * SmtpClientParameters - which main.cf parameters the client reads, and the settings of a
 * delivery made from them, as Postfix's {@code smtp_params.c}.
 *
 * <h2>DESCRIPTION</h2>
 * Postfix runs one program, smtp(8), as the SMTP client and, under the name lmtp, as the
 * LMTP client: the same parameter with an {@code smtp_} or an {@code lmtp_} name. Here the
 * two tables are {@link #SMTP} and {@link #LMTP}: each field is the typed key of one
 * parameter in that flavour ({@code connectTimeout} is {@code smtp_connect_timeout} or
 * {@code lmtp_connect_timeout}), so that the code that reads them is written once and
 * "find usages" of a parameter constant finds its reader. A few names differ between the
 * two ({@code smtp_helo_name}/{@code lmtp_lhlo_name}, {@code smtp_discard_ehlo_keywords}/
 * {@code lmtp_discard_lhlo_keywords}) and a few exist only for SMTP (EHLO choice, MX
 * lookup errors, fallback relays); LMTP uses fixed values for those, as lmtp(8) does.
 *
 * <p>{@link #settings(Config, NextHop)} turns a configuration and a next hop into the
 * {@link SmtpClientSettings} of a delivery (TLS policy from {@code *_tls_policy_maps},
 * connection caching from {@code smtp_connection_cache_destinations} and
 * {@code smtp_connection_cache_on_demand} ({@link SmtpClientSettings.Cache#keeps}), address rewriting from
 * {@code *_generic_maps});
 * {@link #cachedSettings(Config, NextHop)} does it once per configuration and next hop.
 * The queue manager asks {@link #concurrencyLimit} and {@link #recipientLimit} of the
 * transport.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * The {@code smtp_*} and {@code lmtp_*} parameters of the fields below, and
 * {@code inet_protocols}, {@code inet_interfaces}, {@code proxy_interfaces},
 * {@code disable_dns_lookups}, {@code ignore_mx_lookup_error}, {@code best_mx_transport},
 * {@code disable_mime_output_conversion}, {@code myhostname}; for the generic maps also
 * {@code myorigin}, {@code mydestination}, {@code recipient_delimiter},
 * {@code propagate_unmatched_extensions}.
 *
 * <h2>DIAGNOSTICS</h2>
 * PSTN4403 (warning, category org.postern.qmgr): an inet_interfaces or proxy_interfaces
 * name that does not resolve.
 */
public final class SmtpClientParameters {
    /** the category of the queue manager, which logged these warnings before the table moved here */
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");

    /** SMTP - the smtp_* table */
    public static final SmtpClientParameters SMTP = new SmtpClientParameters(false);
    /** LMTP - the lmtp_* table */
    public static final SmtpClientParameters LMTP = new SmtpClientParameters(true);

    private final boolean lmtp;
    /** smtp_skip_5xx_greeting, or lmtp_skip_5xx_greeting */
    final Parameter<Boolean> skip5xxGreeting;
    /** smtp_skip_quit_response, or lmtp_skip_quit_response */
    final Parameter<Boolean> skipQuitResponse;
    /** smtp_quote_rfc821_envelope, or lmtp_quote_rfc821_envelope */
    final Parameter<Boolean> quoteRfc821Envelope;
    /** smtp_bind_address, or lmtp_bind_address */
    final Parameter<String> bindAddress;
    /** smtp_bind_address6, or lmtp_bind_address6 */
    final Parameter<String> bindAddress6;
    /** smtp_send_xforward_command, or lmtp_send_xforward_command */
    final Parameter<Boolean> sendXforwardCommand;
    /** smtp_xforward_timeout, or lmtp_xforward_timeout */
    final Parameter<Duration> xforwardTimeout;
    /** smtp_randomize_addresses, or lmtp_randomize_addresses */
    final Parameter<Boolean> randomizeAddresses;
    /** smtp_mx_address_limit, or lmtp_mx_address_limit */
    final Parameter<Integer> mxAddressLimit;
    /** smtp_mx_session_limit, or lmtp_mx_session_limit */
    final Parameter<Integer> mxSessionLimit;
    /** smtp_host_lookup, or lmtp_host_lookup */
    final Parameter<List<String>> hostLookup;
    /** smtp_connect_timeout, or lmtp_connect_timeout */
    final Parameter<Duration> connectTimeout;
    /** smtp_mail_timeout, or lmtp_mail_timeout */
    final Parameter<Duration> mailTimeout;
    /** smtp_rcpt_timeout, or lmtp_rcpt_timeout */
    final Parameter<Duration> rcptTimeout;
    /** smtp_data_init_timeout, or lmtp_data_init_timeout */
    final Parameter<Duration> dataInitTimeout;
    /** smtp_data_xfer_timeout, or lmtp_data_xfer_timeout */
    final Parameter<Duration> dataXferTimeout;
    /** smtp_data_done_timeout, or lmtp_data_done_timeout */
    final Parameter<Duration> dataDoneTimeout;
    /** smtp_rset_timeout, or lmtp_rset_timeout */
    final Parameter<Duration> rsetTimeout;
    /** smtp_quit_timeout, or lmtp_quit_timeout */
    final Parameter<Duration> quitTimeout;
    /** smtp_line_length_limit, or lmtp_line_length_limit */
    final Parameter<Integer> lineLengthLimit;
    /** smtp_sasl_auth_enable, or lmtp_sasl_auth_enable */
    final Parameter<Boolean> saslAuthEnable;
    /** smtp_sasl_password_maps, or lmtp_sasl_password_maps */
    final Parameter<List<String>> saslPasswordMaps;
    /** smtp_sasl_security_options, or lmtp_sasl_security_options */
    final Parameter<List<String>> saslSecurityOptions;
    /** smtp_sasl_tls_security_options, or lmtp_sasl_tls_security_options */
    final Parameter<List<String>> saslTlsSecurityOptions;
    /** smtp_sasl_mechanism_filter, or lmtp_sasl_mechanism_filter */
    final Parameter<List<String>> saslMechanismFilter;
    /** smtp_tls_security_level, or lmtp_tls_security_level */
    final Parameter<String> tlsSecurityLevel;
    /** smtp_use_tls, or lmtp_use_tls (Postfix 2.2) */
    final Parameter<Boolean> useTls;
    /** smtp_enforce_tls, or lmtp_enforce_tls (Postfix 2.2) */
    final Parameter<Boolean> enforceTls;
    /** smtp_tls_enforce_peername, or lmtp_tls_enforce_peername (Postfix 2.2) */
    final Parameter<Boolean> tlsEnforcePeername;
    /** smtp_tls_per_site, or lmtp_tls_per_site (Postfix 2.2) */
    final Parameter<List<String>> tlsPerSite;
    /** smtp_tls_chain_files, smtp_tls_cert_file, smtp_tls_key_file, smtp_tls_dcert_file, smtp_tls_dkey_file,
     *  smtp_tls_eccert_file, smtp_tls_eckey_file, smtp_tls_keystore_file/_type/_password/_alias, or the lmtp_ names */
    final Parameter<List<String>> tlsChainFiles;
    final Parameter<String> tlsCertFile;
    final Parameter<String> tlsKeyFile;
    final Parameter<String> tlsDcertFile;
    final Parameter<String> tlsDkeyFile;
    final Parameter<String> tlsEccertFile;
    final Parameter<String> tlsEckeyFile;
    final Parameter<String> tlsKeystoreFile;
    final Parameter<String> tlsKeystoreType;
    final Parameter<String> tlsKeystorePassword;
    final Parameter<String> tlsKeystoreAlias;
    /** smtp_tls_protocols, smtp_tls_mandatory_protocols, or the lmtp_ names */
    final Parameter<List<String>> tlsProtocols;
    final Parameter<List<String>> tlsMandatoryProtocols;
    /** smtp_tls_ciphers, smtp_tls_mandatory_ciphers, smtp_tls_exclude_ciphers, smtp_tls_mandatory_exclude_ciphers */
    final Parameter<String> tlsCiphers;
    final Parameter<String> tlsMandatoryCiphers;
    final Parameter<List<String>> tlsExcludeCiphers;
    final Parameter<List<String>> tlsMandatoryExcludeCiphers;
    /** smtp_tls_scert_verifydepth, or lmtp_tls_scert_verifydepth */
    final Parameter<Integer> tlsScertVerifydepth;
    /** smtp_tls_loglevel, or lmtp_tls_loglevel */
    final Parameter<Integer> tlsLoglevel;
    /** smtp_tls_note_starttls_offer, or lmtp_tls_note_starttls_offer */
    final Parameter<Boolean> tlsNoteStarttlsOffer;
    /** smtp_tls_session_cache_database, smtp_tls_session_cache_timeout, or the lmtp_ names */
    final Parameter<String> tlsSessionCacheDatabase;
    final Parameter<Duration> tlsSessionCacheTimeout;
    /** smtp_tls_CAfile, or lmtp_tls_CAfile */
    final Parameter<String> tlsCafile;
    /** smtp_tls_CApath, or lmtp_tls_CApath */
    final Parameter<String> tlsCapath;
    /** smtp_tls_secure_cert_match, or lmtp_tls_secure_cert_match */
    final Parameter<List<String>> tlsSecureCertMatch;
    /** smtp_tls_verify_cert_match, or lmtp_tls_verify_cert_match */
    final Parameter<List<String>> tlsVerifyCertMatch;
    /** smtp_starttls_timeout, or lmtp_starttls_timeout */
    final Parameter<Duration> starttlsTimeout;
    /** smtp_tls_policy_maps, or lmtp_tls_policy_maps */
    final Parameter<List<String>> tlsPolicyMaps;
    /** smtp_dns_support_level, or lmtp_dns_support_level */
    final Parameter<String> dnsSupportLevel;
    /** smtp_destination_concurrency_limit, or lmtp_destination_concurrency_limit */
    final Parameter<Integer> destinationConcurrencyLimit;
    /** smtp_destination_recipient_limit, or lmtp_destination_recipient_limit */
    final Parameter<Integer> destinationRecipientLimit;
    /** smtp_discard_ehlo_keywords, or lmtp_discard_lhlo_keywords */
    final Parameter<List<String>> discardKeywords;
    /** smtp_helo_name, or lmtp_lhlo_name */
    final Parameter<String> heloName;
    /** smtp_helo_timeout, or lmtp_lhlo_timeout */
    final Parameter<Duration> heloTimeout;
    /** smtp_generic_maps, or lmtp_generic_maps */
    final Parameter<List<String>> genericMaps;

    private SmtpClientParameters(boolean lmtp) {
        this.lmtp = lmtp;
        skip5xxGreeting = lmtp ? Parameters.LMTP_SKIP_5XX_GREETING : Parameters.SMTP_SKIP_5XX_GREETING;
        skipQuitResponse = lmtp ? Parameters.LMTP_SKIP_QUIT_RESPONSE : Parameters.SMTP_SKIP_QUIT_RESPONSE;
        quoteRfc821Envelope = lmtp ? Parameters.LMTP_QUOTE_RFC821_ENVELOPE : Parameters.SMTP_QUOTE_RFC821_ENVELOPE;
        bindAddress = lmtp ? Parameters.LMTP_BIND_ADDRESS : Parameters.SMTP_BIND_ADDRESS;
        bindAddress6 = lmtp ? Parameters.LMTP_BIND_ADDRESS6 : Parameters.SMTP_BIND_ADDRESS6;
        sendXforwardCommand = lmtp ? Parameters.LMTP_SEND_XFORWARD_COMMAND : Parameters.SMTP_SEND_XFORWARD_COMMAND;
        xforwardTimeout = lmtp ? Parameters.LMTP_XFORWARD_TIMEOUT : Parameters.SMTP_XFORWARD_TIMEOUT;
        randomizeAddresses = lmtp ? Parameters.LMTP_RANDOMIZE_ADDRESSES : Parameters.SMTP_RANDOMIZE_ADDRESSES;
        mxAddressLimit = lmtp ? Parameters.LMTP_MX_ADDRESS_LIMIT : Parameters.SMTP_MX_ADDRESS_LIMIT;
        mxSessionLimit = lmtp ? Parameters.LMTP_MX_SESSION_LIMIT : Parameters.SMTP_MX_SESSION_LIMIT;
        hostLookup = lmtp ? Parameters.LMTP_HOST_LOOKUP : Parameters.SMTP_HOST_LOOKUP;
        connectTimeout = lmtp ? Parameters.LMTP_CONNECT_TIMEOUT : Parameters.SMTP_CONNECT_TIMEOUT;
        mailTimeout = lmtp ? Parameters.LMTP_MAIL_TIMEOUT : Parameters.SMTP_MAIL_TIMEOUT;
        rcptTimeout = lmtp ? Parameters.LMTP_RCPT_TIMEOUT : Parameters.SMTP_RCPT_TIMEOUT;
        dataInitTimeout = lmtp ? Parameters.LMTP_DATA_INIT_TIMEOUT : Parameters.SMTP_DATA_INIT_TIMEOUT;
        dataXferTimeout = lmtp ? Parameters.LMTP_DATA_XFER_TIMEOUT : Parameters.SMTP_DATA_XFER_TIMEOUT;
        dataDoneTimeout = lmtp ? Parameters.LMTP_DATA_DONE_TIMEOUT : Parameters.SMTP_DATA_DONE_TIMEOUT;
        rsetTimeout = lmtp ? Parameters.LMTP_RSET_TIMEOUT : Parameters.SMTP_RSET_TIMEOUT;
        quitTimeout = lmtp ? Parameters.LMTP_QUIT_TIMEOUT : Parameters.SMTP_QUIT_TIMEOUT;
        lineLengthLimit = lmtp ? Parameters.LMTP_LINE_LENGTH_LIMIT : Parameters.SMTP_LINE_LENGTH_LIMIT;
        saslAuthEnable = lmtp ? Parameters.LMTP_SASL_AUTH_ENABLE : Parameters.SMTP_SASL_AUTH_ENABLE;
        saslPasswordMaps = lmtp ? Parameters.LMTP_SASL_PASSWORD_MAPS : Parameters.SMTP_SASL_PASSWORD_MAPS;
        saslSecurityOptions = lmtp ? Parameters.LMTP_SASL_SECURITY_OPTIONS : Parameters.SMTP_SASL_SECURITY_OPTIONS;
        saslTlsSecurityOptions = lmtp ? Parameters.LMTP_SASL_TLS_SECURITY_OPTIONS : Parameters.SMTP_SASL_TLS_SECURITY_OPTIONS;
        saslMechanismFilter = lmtp ? Parameters.LMTP_SASL_MECHANISM_FILTER : Parameters.SMTP_SASL_MECHANISM_FILTER;
        tlsSecurityLevel = lmtp ? Parameters.LMTP_TLS_SECURITY_LEVEL : Parameters.SMTP_TLS_SECURITY_LEVEL;
        dnsSupportLevel = lmtp ? Parameters.LMTP_DNS_SUPPORT_LEVEL : Parameters.SMTP_DNS_SUPPORT_LEVEL;
        tlsCafile = lmtp ? Parameters.LMTP_TLS_CAFILE : Parameters.SMTP_TLS_CAFILE;
        useTls = lmtp ? Parameters.LMTP_USE_TLS : Parameters.SMTP_USE_TLS;
        enforceTls = lmtp ? Parameters.LMTP_ENFORCE_TLS : Parameters.SMTP_ENFORCE_TLS;
        tlsEnforcePeername = lmtp ? Parameters.LMTP_TLS_ENFORCE_PEERNAME : Parameters.SMTP_TLS_ENFORCE_PEERNAME;
        tlsPerSite = lmtp ? Parameters.LMTP_TLS_PER_SITE : Parameters.SMTP_TLS_PER_SITE;
        tlsChainFiles = lmtp ? Parameters.LMTP_TLS_CHAIN_FILES : Parameters.SMTP_TLS_CHAIN_FILES;
        tlsCertFile = lmtp ? Parameters.LMTP_TLS_CERT_FILE : Parameters.SMTP_TLS_CERT_FILE;
        tlsKeyFile = lmtp ? Parameters.LMTP_TLS_KEY_FILE : Parameters.SMTP_TLS_KEY_FILE;
        tlsDcertFile = lmtp ? Parameters.LMTP_TLS_DCERT_FILE : Parameters.SMTP_TLS_DCERT_FILE;
        tlsDkeyFile = lmtp ? Parameters.LMTP_TLS_DKEY_FILE : Parameters.SMTP_TLS_DKEY_FILE;
        tlsEccertFile = lmtp ? Parameters.LMTP_TLS_ECCERT_FILE : Parameters.SMTP_TLS_ECCERT_FILE;
        tlsEckeyFile = lmtp ? Parameters.LMTP_TLS_ECKEY_FILE : Parameters.SMTP_TLS_ECKEY_FILE;
        tlsKeystoreFile = lmtp ? Parameters.LMTP_TLS_KEYSTORE_FILE : Parameters.SMTP_TLS_KEYSTORE_FILE;
        tlsKeystoreType = lmtp ? Parameters.LMTP_TLS_KEYSTORE_TYPE : Parameters.SMTP_TLS_KEYSTORE_TYPE;
        tlsKeystorePassword = lmtp ? Parameters.LMTP_TLS_KEYSTORE_PASSWORD : Parameters.SMTP_TLS_KEYSTORE_PASSWORD;
        tlsKeystoreAlias = lmtp ? Parameters.LMTP_TLS_KEYSTORE_ALIAS : Parameters.SMTP_TLS_KEYSTORE_ALIAS;
        tlsProtocols = lmtp ? Parameters.LMTP_TLS_PROTOCOLS : Parameters.SMTP_TLS_PROTOCOLS;
        tlsMandatoryProtocols = lmtp ? Parameters.LMTP_TLS_MANDATORY_PROTOCOLS : Parameters.SMTP_TLS_MANDATORY_PROTOCOLS;
        tlsCiphers = lmtp ? Parameters.LMTP_TLS_CIPHERS : Parameters.SMTP_TLS_CIPHERS;
        tlsMandatoryCiphers = lmtp ? Parameters.LMTP_TLS_MANDATORY_CIPHERS : Parameters.SMTP_TLS_MANDATORY_CIPHERS;
        tlsExcludeCiphers = lmtp ? Parameters.LMTP_TLS_EXCLUDE_CIPHERS : Parameters.SMTP_TLS_EXCLUDE_CIPHERS;
        tlsMandatoryExcludeCiphers = lmtp ? Parameters.LMTP_TLS_MANDATORY_EXCLUDE_CIPHERS
                : Parameters.SMTP_TLS_MANDATORY_EXCLUDE_CIPHERS;
        tlsScertVerifydepth = lmtp ? Parameters.LMTP_TLS_SCERT_VERIFYDEPTH : Parameters.SMTP_TLS_SCERT_VERIFYDEPTH;
        tlsLoglevel = lmtp ? Parameters.LMTP_TLS_LOGLEVEL : Parameters.SMTP_TLS_LOGLEVEL;
        tlsNoteStarttlsOffer = lmtp ? Parameters.LMTP_TLS_NOTE_STARTTLS_OFFER : Parameters.SMTP_TLS_NOTE_STARTTLS_OFFER;
        tlsSessionCacheDatabase = lmtp ? Parameters.LMTP_TLS_SESSION_CACHE_DATABASE
                : Parameters.SMTP_TLS_SESSION_CACHE_DATABASE;
        tlsSessionCacheTimeout = lmtp ? Parameters.LMTP_TLS_SESSION_CACHE_TIMEOUT : Parameters.SMTP_TLS_SESSION_CACHE_TIMEOUT;
        tlsCapath = lmtp ? Parameters.LMTP_TLS_CAPATH : Parameters.SMTP_TLS_CAPATH;
        tlsSecureCertMatch = lmtp ? Parameters.LMTP_TLS_SECURE_CERT_MATCH : Parameters.SMTP_TLS_SECURE_CERT_MATCH;
        tlsVerifyCertMatch = lmtp ? Parameters.LMTP_TLS_VERIFY_CERT_MATCH : Parameters.SMTP_TLS_VERIFY_CERT_MATCH;
        starttlsTimeout = lmtp ? Parameters.LMTP_STARTTLS_TIMEOUT : Parameters.SMTP_STARTTLS_TIMEOUT;
        tlsPolicyMaps = lmtp ? Parameters.LMTP_TLS_POLICY_MAPS : Parameters.SMTP_TLS_POLICY_MAPS;
        destinationConcurrencyLimit = lmtp ? Parameters.LMTP_DESTINATION_CONCURRENCY_LIMIT : Parameters.SMTP_DESTINATION_CONCURRENCY_LIMIT;
        destinationRecipientLimit = lmtp ? Parameters.LMTP_DESTINATION_RECIPIENT_LIMIT : Parameters.SMTP_DESTINATION_RECIPIENT_LIMIT;
        discardKeywords = lmtp ? Parameters.LMTP_DISCARD_LHLO_KEYWORDS : Parameters.SMTP_DISCARD_EHLO_KEYWORDS;
        heloName = lmtp ? Parameters.LMTP_LHLO_NAME : Parameters.SMTP_HELO_NAME;
        heloTimeout = lmtp ? Parameters.LMTP_LHLO_TIMEOUT : Parameters.SMTP_HELO_TIMEOUT;
        genericMaps = lmtp ? Parameters.LMTP_GENERIC_MAPS : Parameters.SMTP_GENERIC_MAPS;
    }

    /** of - the table of one flavour. */
    public static SmtpClientParameters of(boolean lmtp) {
        return lmtp ? LMTP : SMTP;
    }

    /** of - the table of a next hop's protocol. */
    public static SmtpClientParameters of(NextHop hop) {
        return of(hop.protocol() == NextHop.Protocol.LMTP);
    }

    /** concurrencyLimit - transport_destination_concurrency_limit of this transport; 0 = unlimited. */
    public int concurrencyLimit(Config config) {
        return Math.max(0, config.get(destinationConcurrencyLimit));
    }

    /** recipientLimit - transport_destination_recipient_limit of this transport; 0 = unlimited. */
    public int recipientLimit(Config config) {
        return Math.max(0, config.get(destinationRecipientLimit));
    }

    /** assumeFinal - lmtp_assume_final: an LMTP 250 is a final delivery (DSN "delivered"). */
    public boolean assumeFinal(Config config) {
        return lmtp && config.get(Parameters.LMTP_ASSUME_FINAL);
    }

    /**
     * the client settings per configuration and next hop, built once, not per delivery: one
     * table per Config object (main.cf, and the own configuration of each master.cf delivery
     * service with -o overrides), so that deliveries by several transports do not throw each
     * other's settings away; a configuration no longer in force goes with its last reference
     */
    private static final Map<Config, java.util.concurrent.ConcurrentHashMap<HopKey, SmtpClientSettings>> SETTINGS =
            Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private record HopKey(boolean lmtp, NextHop hop) {
    }

    private static final java.util.concurrent.atomic.AtomicLong GENERATION = new java.util.concurrent.atomic.AtomicLong();

    /**
     * generation - a number that changes whenever a configuration not seen before is used (a
     * start, a reload): the client's caches of opened lookup tables start again then.
     */
    public static long generation() {
        return GENERATION.get();
    }

    /** SETTINGS_CACHE_LIMIT - next hops whose settings are kept; past it the cache starts again */
    public static final int SETTINGS_CACHE_LIMIT = 10_000;

    /**
     * cachedSettings - {@link #settings} of the next hop, computed once per configuration and
     * next hop (about 60 parameter look-ups and a policy-table search each time otherwise).
     * Each configuration (Config object) has its own cache; one not seen before (a reload,
     * or a delivery service's own configuration) also has the TLS tables read again.
     */
    public SmtpClientSettings cachedSettings(Config c, NextHop hop) {
        java.util.concurrent.ConcurrentHashMap<HopKey, SmtpClientSettings> byHop = SETTINGS.get(c);
        if (byHop == null || byHop.size() > SETTINGS_CACHE_LIMIT) {
            if (byHop == null) {
                // table files may have changed with the configuration (postfix reload)
                GENERATION.incrementAndGet();
                SmtpClientSettings.PerSite.forget();
                SMTP.policyTables.clear();
                LMTP.policyTables.clear();
            }
            byHop = new java.util.concurrent.ConcurrentHashMap<>();
            SETTINGS.put(c, byHop);
        }
        return byHop.computeIfAbsent(new HopKey(lmtp, hop), k -> settings(c, hop));
    }

    /** settings - client parameters from main.cf, smtp_* or lmtp_* names (LMTP is a mode of one client). */
    public SmtpClientSettings settings(Config c) {
        return settings(c, null);
    }

    /**
     * settings - the same for one next hop: {@code destination} (as in NextHop.destination())
     * is matched against smtp_connection_cache_destinations; null matches nothing.
     */
    public SmtpClientSettings settings(Config c, NextHop hop) {
        SmtpClientSettings.Session session = new SmtpClientSettings.Session(
                c.get(skip5xxGreeting),
                lmtp || c.get(Parameters.SMTP_ALWAYS_SEND_EHLO),
                !lmtp && c.get(Parameters.SMTP_NEVER_SEND_EHLO),
                c.get(skipQuitResponse),
                c.get(quoteRfc821Envelope),
                c.get(discardKeywords),
                c.get(bindAddress),
                c.get(bindAddress6),
                !c.get(Parameters.DISABLE_MIME_OUTPUT_CONVERSION),
                c.get(sendXforwardCommand),
                c.get(xforwardTimeout),
                genericMapping(c));
        List<String> protocols = c.get(Parameters.INET_PROTOCOLS).stream().map(s -> s.toLowerCase(Locale.ROOT)).toList();
        boolean all = protocols.contains("all");
        SmtpClientSettings.Routing routing = new SmtpClientSettings.Routing(
                c.get(randomizeAddresses),
                c.get(mxAddressLimit),
                c.get(mxSessionLimit),
                !lmtp && c.get(Parameters.IGNORE_MX_LOOKUP_ERROR),
                !lmtp && c.get(Parameters.SMTP_DEFER_IF_NO_MX_ADDRESS_FOUND),
                disableDnsLookups(c),
                c.get(hostLookup),
                all || protocols.contains("ipv4") || !protocols.contains("ipv6"),
                all || protocols.contains("ipv6"),
                lmtp ? List.of() : c.get(Parameters.SMTP_FALLBACK_RELAY),
                ownAddresses(c),
                List.of(c.get(Parameters.MYHOSTNAME)),
                c.get(Parameters.BEST_MX_TRANSPORT));
        SmtpClientSettings.Cache cache = lmtp
                ? new SmtpClientSettings.Cache(c.get(Parameters.LMTP_CACHE_CONNECTION),
                        c.get(Parameters.LMTP_CONNECTION_REUSE_COUNT_LIMIT), c.get(Parameters.LMTP_CONNECTION_CACHE_TIME_LIMIT),
                        c.get(Parameters.LMTP_CONNECTION_REUSE_TIME_LIMIT))
                : smtpCache(c, hop);
        return new SmtpClientSettings(
                c.get(heloName),
                c.get(connectTimeout),
                c.get(heloTimeout),
                c.get(mailTimeout),
                c.get(rcptTimeout),
                c.get(dataInitTimeout),
                c.get(dataXferTimeout),
                c.get(dataDoneTimeout),
                c.get(rsetTimeout),
                c.get(quitTimeout),
                c.get(lineLengthLimit),
                session, routing, cache, tls(c, hop),
                new SmtpClientSettings.Sasl(c.get(saslAuthEnable), c.get(saslPasswordMaps),
                        c.get(saslSecurityOptions), c.get(saslTlsSecurityOptions),
                        c.get(saslMechanismFilter)),
                new SmtpClientSettings.Workarounds(
                        lmtp ? List.of() : c.get(Parameters.SMTP_PIX_WORKAROUNDS),
                        lmtp ? List.of() : c.get(Parameters.SMTP_PIX_WORKAROUND_MAPS),
                        c.get(Parameters.SMTP_PIX_WORKAROUND_DELAY_TIME),
                        c.get(Parameters.SMTP_PIX_WORKAROUND_THRESHOLD_TIME),
                        c.get(lmtp ? Parameters.LMTP_DISCARD_LHLO_KEYWORD_ADDRESS_MAPS
                                : Parameters.SMTP_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS),
                        c.get(Parameters.MIME_NESTING_LIMIT), c.get(Parameters.MIME_BOUNDARY_LENGTH_LIMIT),
                        c.get(Parameters.DAEMON_TIMEOUT), c.get(Parameters.DEBUG_PEER_LIST),
                        c.get(Parameters.DEBUG_PEER_LEVEL),
                        c.get(Parameters.NOTIFY_CLASSES).stream().anyMatch(k -> k.trim().equalsIgnoreCase("protocol"))),
                mtaSts(c, hop),
                c.get(Parameters.SYSLOG_NAME));
    }

    /**
     * smtpCache - the connection cache of an SMTP next hop, as smtp(8) decides it: permanent for a
     * destination in smtp_connection_cache_destinations; else on demand with
     * smtp_connection_cache_on_demand = yes (the session is kept only after a request that the
     * queue manager marked as having a backlog, {@link OutboundMessage#backlog}); else off.
     */
    static SmtpClientSettings.Cache smtpCache(Config c, NextHop hop) {
        boolean listed = cachedDestination(c.get(Parameters.SMTP_CONNECTION_CACHE_DESTINATIONS), hop);
        boolean onDemand = c.get(Parameters.SMTP_CONNECTION_CACHE_ON_DEMAND);
        return new SmtpClientSettings.Cache(listed || onDemand, c.get(Parameters.SMTP_CONNECTION_CACHE_REUSE_LIMIT),
                c.get(Parameters.SMTP_CONNECTION_CACHE_TIME_LIMIT), c.get(Parameters.SMTP_CONNECTION_REUSE_TIME_LIMIT),
                !listed);
    }

    /**
     * mtaSts - Postern's MTA-STS (RFC 8461) settings of a next hop. It is enabled only with
     * smtp_mta_sts_enable = yes, for the SMTP flavour, for a domain reached by MX lookup that
     * is not the relayhost, and when neither an smtp_tls_policy_maps entry nor a DANE level
     * decides the next hop's TLS: the precedence is policy table, DANE, MTA-STS, then
     * smtp_tls_security_level.
     */
    SmtpClientSettings.MtaSts mtaSts(Config c, NextHop hop) {
        boolean on = !lmtp && hop != null && hop.host() != null && hop.mxLookup() && c.get(Parameters.SMTP_MTA_STS_ENABLE)
                && tlsPolicy(c, hop) == null && !globalLevel(c).trim().toLowerCase(Locale.ROOT).startsWith("dane")
                && !isRelayhost(c.get(Parameters.RELAYHOST), hop);
        return new SmtpClientSettings.MtaSts(on, c.get(Parameters.SMTP_MTA_STS_CACHE_SIZE),
                c.get(Parameters.SMTP_MTA_STS_MAX_AGE_LIMIT), c.get(Parameters.SMTP_MTA_STS_FETCH_TIMEOUT),
                c.get(Parameters.SMTP_MTA_STS_CAFILE));
    }

    /* isRelayhost - the next hop is the relayhost (an MX-looked-up relay is not the recipient's domain) */
    private static boolean isRelayhost(String relayhost, NextHop hop) {
        if (relayhost == null || relayhost.isBlank()) {
            return false;
        }
        try {
            NextHop r = NextHop.parseSmtp(relayhost);
            return r.mxLookup() && r.host().equalsIgnoreCase(hop.host()) && r.port() == hop.port();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * tls - the TLS policy of a next hop, by Postfix's precedence: the next hop's
     * smtp_tls_policy_maps entry ("level [match=a:b]"); else smtp_tls_per_site (Postfix 2.2,
     * ignored when smtp_tls_policy_maps is set); else the global level, which is
     * smtp_tls_security_level or, when that is empty, the level of the Postfix 2.2 names:
     * smtp_enforce_tls = yes gives verify (encrypt with smtp_tls_enforce_peername = no),
     * smtp_use_tls = yes gives may, neither gives none. The names to match come from
     * smtp_tls_verify_cert_match or smtp_tls_secure_cert_match unless the entry has match=.
     */
    SmtpClientSettings.Tls tls(Config c, NextHop hop) {
        String global = globalLevel(c);
        String level = global;
        List<String> match = null;
        SmtpClientSettings.PerSite perSite = null;
        String policy = hop == null ? null : tlsPolicy(c, hop);
        if (policy != null) {
            String[] words = policy.trim().split("\\s+");
            level = words[0];
            for (int i = 1; i < words.length; i++) {
                if (words[i].toLowerCase(Locale.ROOT).startsWith("match=")) {
                    match = List.of(words[i].substring(6).split(":"));
                }
            }
        } else if (hop != null && hop.host() != null && !c.get(tlsPerSite).isEmpty()
                && c.get(tlsPolicyMaps).isEmpty()) {
            perSite = SmtpClientSettings.PerSite.forNexthop(c.get(tlsPerSite), hop.host(), global);
            level = perSite.level(null);
        }
        String l = level.trim().toLowerCase(Locale.ROOT);
        if (match == null) {
            match = c.get(l.equals("secure") ? tlsSecureCertMatch : tlsVerifyCertMatch);
        }
        return new SmtpClientSettings.Tls(l, c.get(tlsCafile), c.get(tlsCapath), match,
                c.get(starttlsTimeout), tlsOptions(c), perSite, dane(c, global));
    }

    /**
     * dane - what the dane levels need (Postfix's dane_init): smtp_dns_support_level = dnssec
     * with DNS in smtp_host_lookup, and (SMTP) ignore_mx_lookup_error = no; and
     * smtp_tls_dane_insecure_mx_policy, whose empty default is dane when the global level is
     * dane, else may (Postfix 3.6 and later).
     */
    SmtpClientSettings.Dane dane(Config c, String globalLevel) {
        String why = "";
        if (!c.get(dnsSupportLevel).trim().equalsIgnoreCase("dnssec")
                || c.get(hostLookup).stream().noneMatch(w -> w.trim().equalsIgnoreCase("dns"))) {
            why = "dnssec lookups disabled";
        } else if (!lmtp && c.get(Parameters.IGNORE_MX_LOOKUP_ERROR)) {
            why = "MX lookup errors ignored";
        }
        String insecure = c.get(Parameters.SMTP_TLS_DANE_INSECURE_MX_POLICY).trim();
        if (insecure.isEmpty()) {
            insecure = globalLevel.trim().equalsIgnoreCase("dane") ? "dane" : "may";
        }
        return new SmtpClientSettings.Dane(why, insecure);
    }

    /**
     * validate - what the client would only find out at delivery: its key files (read as the
     * TLS engine reads them) and its smtp_tls_per_site tables; for both flavours. A reload
     * or a start with a bad file is refused, naming the parameter's line.
     *
     * @throws org.postern.config.ConfigException the file and line, and what is wrong
     */
    public static void validate(Config c) {
        for (SmtpClientParameters p : List.of(SMTP, LMTP)) {
            SmtpClientSettings.TlsOptions o = p.tlsOptions(c);
            try {
                TlsKeys.load(o.identity(), p.lmtp ? "lmtp_" : "smtp_");
            } catch (IOException e) {
                Parameter<?> where = !o.identity().chainFiles().isEmpty() ? p.tlsChainFiles
                        : !o.identity().certFile().isBlank() ? p.tlsCertFile
                        : !o.identity().dcertFile().isBlank() ? p.tlsDcertFile
                        : !o.identity().eccertFile().isBlank() ? p.tlsEccertFile : p.tlsKeystoreFile;
                throw c.error(where, e.getMessage());
            }
            LookupTables.openAll(c.get(p.tlsPerSite));
        }
        LookupTables.openAll(c.get(Parameters.SMTP_PIX_WORKAROUND_MAPS));
        LookupTables.openAll(c.get(Parameters.SMTP_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS));
        LookupTables.openAll(c.get(Parameters.LMTP_DISCARD_LHLO_KEYWORD_ADDRESS_MAPS));
    }

    /** disableDnsLookups - smtp_dns_support_level = disabled, or disable_dns_lookups when that is empty (Postfix 2.11) */
    boolean disableDnsLookups(Config c) {
        String level = c.get(dnsSupportLevel).trim();
        return level.isEmpty() ? c.get(Parameters.DISABLE_DNS_LOOKUPS) : level.equalsIgnoreCase("disabled");
    }

    /** globalLevel - smtp_tls_security_level, or the level that smtp_use_tls/smtp_enforce_tls name when it is empty */
    String globalLevel(Config c) {
        String level = c.get(tlsSecurityLevel).trim();
        if (!level.isEmpty()) {
            return level;
        }
        if (c.get(enforceTls)) {
            return c.get(tlsEnforcePeername) ? "verify" : "encrypt";
        }
        return c.get(useTls) ? "may" : "none";
    }

    /** tlsOptions - keys, protocols, ciphers, logging and the session cache of this flavour */
    SmtpClientSettings.TlsOptions tlsOptions(Config c) {
        SmtpClientSettings.ClientIdentity id = new SmtpClientSettings.ClientIdentity(c.get(tlsChainFiles),
                c.get(tlsCertFile).trim(), c.get(tlsKeyFile).trim(), c.get(tlsDcertFile).trim(),
                c.get(tlsDkeyFile).trim(), c.get(tlsEccertFile).trim(), c.get(tlsEckeyFile).trim(),
                c.get(tlsKeystoreFile).trim(), c.get(tlsKeystoreType), c.get(tlsKeystorePassword),
                c.get(tlsKeystoreAlias).trim());
        List<String> exclude = new ArrayList<>(c.get(tlsExcludeCiphers));
        if (!lmtp) {
            // smtp_tls_cipherlist (Postfix 2.2): an OpenSSL list; its exclusions are kept
            for (String item : c.get(Parameters.SMTP_TLS_CIPHERLIST).split("[:,\\s]+")) {
                if (item.length() > 1 && (item.startsWith("!") || item.startsWith("-"))) {
                    exclude.add(item.substring(1));
                }
            }
        }
        return new SmtpClientSettings.TlsOptions(id, c.get(tlsProtocols), c.get(tlsMandatoryProtocols),
                c.get(tlsCiphers), c.get(tlsMandatoryCiphers), exclude, c.get(tlsMandatoryExcludeCiphers),
                c.get(tlsScertVerifydepth), c.get(tlsLoglevel), c.get(tlsNoteStarttlsOffer),
                !c.get(tlsSessionCacheDatabase).isBlank(), c.get(tlsSessionCacheTimeout));
    }

    /** the tables of each tls_policy_maps value seen since the last new configuration (one table set per client flavour) */
    private final Map<List<String>, List<LookupTable>> policyTables = new java.util.concurrent.ConcurrentHashMap<>();

    /* tlsPolicy - the policy map entry for the next hop: domain[:port] then .parent domains, or [host][:port] */
    private String tlsPolicy(Config c, NextHop hop) {
        List<String> specs = c.get(tlsPolicyMaps);
        if (specs.isEmpty() || hop.host() == null) {
            return null;
        }
        List<LookupTable> tables = policyTables.get(specs);
        if (tables == null) {
            tables = new ArrayList<>();
            for (String spec : specs) {
                tables.add(LookupTables.open(spec));
            }
            policyTables.put(List.copyOf(specs), tables);
        }
        String host = hop.host().toLowerCase(Locale.ROOT);
        String port = hop.port() == 25 || hop.port() == 24 ? "" : ":" + hop.port();
        List<String> keys = new ArrayList<>();
        if (hop.mxLookup()) {
            keys.add(host + port);
            for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
                keys.add(host.substring(dot));
            }
        } else {
            keys.add("[" + host + "]" + port);
        }
        for (String key : keys) {
            for (LookupTable t : tables) {
                Optional<String> v = t.lookup(key);
                if (v.isPresent()) {
                    return v.get();
                }
            }
        }
        return null;
    }

    /** the generic maps of each configuration (one per client flavour), opened once for all its next hops */
    private final Map<Config, Optional<AddressMapping>> genericCache =
            Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /**
     * genericMapping - smtp_generic_maps (lmtp_generic_maps) with its tables opened, once per
     * configuration (each Config object: main.cf, or a delivery service's own; a reload opens them again, so an edited table takes effect), or null
     * when the parameter is empty.
     *
     * @throws org.postern.config.ConfigException a table cannot be opened
     */
    public AddressMapping genericMapping(Config c) {
        Optional<AddressMapping> cached = genericCache.get(c);
        if (cached != null) {
            return cached.orElse(null);
        }
        List<String> maps = c.get(genericMaps);
        AddressMapping m = maps.isEmpty() ? null : AddressMapping.open(genericMaps.name(), maps,
                c.get(Parameters.MYDESTINATION), c.get(Parameters.MYORIGIN), ownAddresses(c),
                c.get(Parameters.RECIPIENT_DELIMITER),
                c.get(Parameters.PROPAGATE_UNMATCHED_EXTENSIONS).stream().anyMatch(x -> x.equalsIgnoreCase("generic")));
        genericCache.put(c, Optional.ofNullable(m));
        return m;
    }

    /**
     * checkTables - open the client's lookup tables that a configuration names
     * (smtp_generic_maps, lmtp_generic_maps), so that one that cannot be opened refuses the
     * configuration at its load or reload rather than failing deliveries.
     *
     * @throws org.postern.config.ConfigException naming the parameter and the table
     */
    public static void checkTables(Config c) {
        SMTP.genericMapping(c);
        LMTP.genericMapping(c);
    }

    /* cachedDestination - the next hop is listed in smtp_connection_cache_destinations (domain, [host], host:port) */
    static boolean cachedDestination(List<String> destinations, NextHop hop) {
        if (hop == null || hop.host() == null) {
            return false;
        }
        String host = hop.host().toLowerCase(Locale.ROOT);
        for (String d : destinations) {
            String x = d.trim().toLowerCase(Locale.ROOT);
            if (x.startsWith("smtp:")) {
                x = x.substring(5);
            }
            String plain = hop.mxLookup() ? host : "[" + host + "]";
            if (x.equals(plain) || x.equals(plain + ":" + hop.port()) || x.equals(hop.destination().toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    private static volatile Map.Entry<List<String>, List<String>> ownCache;

    /**
     * ownAddresses - this system's addresses for mail loop detection: inet_interfaces
     * ("all": every address of every interface, "loopback-only", or addresses and names)
     * plus proxy_interfaces; computed once per distinct setting, not per message.
     */
    public static List<String> ownAddresses(Config c) {
        List<String> key = new ArrayList<>(c.get(Parameters.INET_INTERFACES));
        key.add("|");
        key.addAll(c.get(Parameters.PROXY_INTERFACES));
        Map.Entry<List<String>, List<String>> cached = ownCache;
        if (cached != null && cached.getKey().equals(key)) {
            return cached.getValue();
        }
        Set<String> out = new LinkedHashSet<>();
        boolean proxy = false;
        for (String item : key) {
            if (item.equals("|")) {
                proxy = true;
                continue;
            }
            String v = item.toLowerCase(Locale.ROOT).replaceAll("^\\[|\\]$", "");
            try {
                if (!proxy && v.equals("all")) {
                    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                            out.add(a.getHostAddress().replaceAll("%.*$", ""));
                        }
                    }
                } else if (!proxy && v.equals("loopback-only")) {
                    out.add("127.0.0.1");
                    out.add("0:0:0:0:0:0:0:1");
                } else {
                    for (InetAddress a : InetAddress.getAllByName(v)) {
                        out.add(a.getHostAddress());
                    }
                }
            } catch (IOException e) {
                LOG.warning("PSTN4403: inet_interfaces/proxy_interfaces: cannot resolve " + item + ": " + e);
            }
        }
        List<String> result = List.copyOf(out);
        ownCache = Map.entry(List.copyOf(key), result);
        return result;
    }
}
