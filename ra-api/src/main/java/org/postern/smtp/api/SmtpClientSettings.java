package org.postern.smtp.api;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import org.postern.mail.AddressMapping;
import org.postern.maillog.MailLogger;

/**
 * SmtpClientSettings - the client parameters of one delivery, taken from main.cf with the
 * smtp_* names or, for LMTP, the lmtp_* names (as Postfix's smtp(8) does in LMTP mode).
 * Equal settings (with an equal next hop) may share a cached session.
 *
 * @param heloName           smtp_helo_name / lmtp_lhlo_name (default $myhostname)
 * @param connectTimeout     smtp_connect_timeout (30s) / lmtp_connect_timeout (0s = OS default)
 * @param heloTimeout        smtp_helo_timeout (300s) / lmtp_lhlo_timeout (300s)
 * @param mailTimeout        smtp_mail_timeout (300s)
 * @param rcptTimeout        smtp_rcpt_timeout (300s)
 * @param dataInitTimeout    smtp_data_init_timeout (120s)
 * @param dataXferTimeout    smtp_data_xfer_timeout (180s)
 * @param dataDoneTimeout    smtp_data_done_timeout (600s)
 * @param rsetTimeout        smtp_rset_timeout (20s)
 * @param quitTimeout        smtp_quit_timeout (300s)
 * @param lineLengthLimit    smtp_line_length_limit (998)
 * @param session            protocol options of the session (EHLO, quoting, MIME conversion...)
 * @param routing            how next hops are turned into addresses (MX, fallback relays, loops)
 * @param cache              connection cache: whether, how often and how long a session is reused
 *                           ({@link Cache})
 * @param tls                TLS policy (STARTTLS)
 * @param sasl               SASL client (AUTH)
 * @param workarounds        accommodations of broken servers and limits ({@link Workarounds})
 * @param mtaSts             whether and how MTA-STS (RFC 8461) applies to this next hop ({@link MtaSts})
 * @param syslogName         syslog_name (postern) of the delivery service: the mail log names its lines
 *                           syslog_name/smtp or syslog_name/lmtp
 */
public record SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                                 Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                                 Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                                 Duration quitTimeout, int lineLengthLimit, Session session, Routing routing,
                                 Cache cache, Tls tls, Sasl sasl, Workarounds workarounds, MtaSts mtaSts,
                                 String syslogName)
        implements Serializable {

    /** SmtpClientSettings - with the default syslog_name. */
    public SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                              Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                              Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                              Duration quitTimeout, int lineLengthLimit, Session session, Routing routing, Cache cache,
                              Tls tls, Sasl sasl, Workarounds workarounds, MtaSts mtaSts) {
        this(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout, dataInitTimeout, dataXferTimeout,
                dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit, session, routing, cache, tls, sasl,
                workarounds, mtaSts, null);
    }

    /** SmtpClientSettings - without MTA-STS. */
    public SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                              Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                              Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                              Duration quitTimeout, int lineLengthLimit, Session session, Routing routing, Cache cache,
                              Tls tls, Sasl sasl, Workarounds workarounds) {
        this(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout, dataInitTimeout, dataXferTimeout,
                dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit, session, routing, cache, tls, sasl,
                workarounds, null);
    }

    /** SmtpClientSettings - with the default workarounds and limits. */
    public SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                              Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                              Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                              Duration quitTimeout, int lineLengthLimit, Session session, Routing routing, Cache cache,
                              Tls tls, Sasl sasl) {
        this(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout, dataInitTimeout, dataXferTimeout,
                dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit, session, routing, cache, tls, sasl, null);
    }

    public SmtpClientSettings {
        workarounds = workarounds != null ? workarounds : Workarounds.DEFAULTS;
        session = session != null ? session : Session.defaults(false);
        routing = routing != null ? routing : Routing.defaults();
        cache = cache != null ? cache : Cache.defaults();
        tls = tls != null ? tls : Tls.NONE;
        sasl = sasl != null ? sasl : Sasl.NONE;
        mtaSts = mtaSts != null ? mtaSts : MtaSts.NONE;
        syslogName = syslogName != null ? syslogName : MailLogger.DEFAULT_SYSLOG_NAME;
    }

    /** SmtpClientSettings - without SASL. */
    public SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                              Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                              Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                              Duration quitTimeout, int lineLengthLimit, Session session, Routing routing, Cache cache,
                              Tls tls) {
        this(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout, dataInitTimeout, dataXferTimeout,
                dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit, session, routing, cache, tls, null);
    }

    /** SmtpClientSettings - without TLS. */
    public SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                              Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                              Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                              Duration quitTimeout, int lineLengthLimit, Session session, Routing routing, Cache cache) {
        this(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout, dataInitTimeout, dataXferTimeout,
                dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit, session, routing, cache, null, null);
    }

    /** SmtpClientSettings - the timeouts and limits only; Postfix's defaults for the rest (SMTP mode). */
    public SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                              Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                              Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                              Duration quitTimeout, int lineLengthLimit) {
        this(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout, dataInitTimeout, dataXferTimeout,
                dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit, null, null, null, null, null);
    }

    /** defaults - Postfix's defaults, with the given helo name. */
    public static SmtpClientSettings defaults(String heloName) {
        return new SmtpClientSettings(heloName, Duration.ofSeconds(30), Duration.ofSeconds(300),
                Duration.ofSeconds(300), Duration.ofSeconds(300), Duration.ofSeconds(120),
                Duration.ofSeconds(180), Duration.ofSeconds(600), Duration.ofSeconds(20),
                Duration.ofSeconds(300), 998);
    }

    /** with - these settings with other parts (the timeouts and the HELO name are kept). */
    private SmtpClientSettings with(Session s, Routing r, Cache c, Tls t, Sasl a) {
        return new SmtpClientSettings(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout,
                dataInitTimeout, dataXferTimeout, dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit,
                s, r, c, t, a, workarounds, mtaSts, syslogName);
    }

    public SmtpClientSettings withWorkarounds(Workarounds w) {
        return new SmtpClientSettings(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout,
                dataInitTimeout, dataXferTimeout, dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit,
                session, routing, cache, tls, sasl, w, mtaSts, syslogName);
    }

    public SmtpClientSettings withMtaSts(MtaSts m) {
        return new SmtpClientSettings(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout,
                dataInitTimeout, dataXferTimeout, dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit,
                session, routing, cache, tls, sasl, workarounds, m, syslogName);
    }

    /** withSyslogName - these settings for a delivery service with that syslog_name. */
    public SmtpClientSettings withSyslogName(String name) {
        return new SmtpClientSettings(heloName, connectTimeout, heloTimeout, mailTimeout, rcptTimeout,
                dataInitTimeout, dataXferTimeout, dataDoneTimeout, rsetTimeout, quitTimeout, lineLengthLimit,
                session, routing, cache, tls, sasl, workarounds, mtaSts, name);
    }

    /**
     * MtaSts - SMTP MTA Strict Transport Security (RFC 8461) for this next hop: Postern's own
     * smtp_mta_sts_* parameters. It applies ({@code enabled}) only when smtp_mta_sts_enable is
     * yes, the next hop is an SMTP domain reached by MX lookup (not [host], not LMTP) and no
     * smtp_tls_policy_maps entry names it: an explicit policy wins, then DANE (a dane level),
     * then MTA-STS, then smtp_tls_security_level. The policies themselves are found and
     * cached by the SMTP client (org.postern.smtp.sts).
     *
     * @param enabled      the policy of the next-hop domain is looked up and applied
     * @param cacheSize    smtp_mta_sts_cache_size (10000): domains whose policy is kept
     * @param maxAgeLimit  smtp_mta_sts_max_age_limit (31557600s): the longest a policy is cached
     * @param fetchTimeout smtp_mta_sts_fetch_timeout (60s, at most 60s): the HTTPS fetch's time limit
     * @param caFile       smtp_mta_sts_CAfile: PEM trust anchors of the HTTPS fetch; empty: the
     *                     Java runtime's trust store
     */
    public record MtaSts(boolean enabled, int cacheSize, Duration maxAgeLimit, Duration fetchTimeout, String caFile)
            implements Serializable {

        /** the longest policy fetch RFC 8461 section 3.3 suggests */
        public static final Duration FETCH_TIMEOUT_LIMIT = Duration.ofSeconds(60);

        public static final MtaSts NONE = new MtaSts(false, 10_000, Duration.ofSeconds(31_557_600),
                FETCH_TIMEOUT_LIMIT, "");

        public MtaSts {
            cacheSize = Math.max(1, cacheSize);
            maxAgeLimit = maxAgeLimit == null || maxAgeLimit.isNegative() ? Duration.ZERO : maxAgeLimit;
            fetchTimeout = fetchTimeout == null || fetchTimeout.isZero() || fetchTimeout.isNegative()
                    || fetchTimeout.compareTo(FETCH_TIMEOUT_LIMIT) > 0 ? FETCH_TIMEOUT_LIMIT : fetchTimeout;
            caFile = caFile == null ? "" : caFile.trim();
        }
    }

    public SmtpClientSettings withSession(Session s) {
        return with(s, routing, cache, tls, sasl);
    }

    public SmtpClientSettings withRouting(Routing r) {
        return with(session, r, cache, tls, sasl);
    }

    public SmtpClientSettings withCache(Cache c) {
        return with(session, routing, c, tls, sasl);
    }

    /**
     * Session - protocol options.
     *
     * @param skip5xxGreeting      smtp_skip_5xx_greeting (yes): a 5xx greeting skips the server; no: it bounces
     * @param alwaysSendEhlo       smtp_always_send_ehlo (yes); no: EHLO only when the greeting says ESMTP
     * @param neverSendEhlo        smtp_never_send_ehlo (no): HELO only
     * @param skipQuitResponse     smtp_skip_quit_response (yes) / lmtp_skip_quit_response (no)
     * @param quoteRfc821Envelope  smtp_quote_rfc821_envelope (yes): quote local parts that need it
     * @param discardEhloKeywords  smtp_discard_ehlo_keywords / lmtp_discard_lhlo_keywords, lower case
     * @param bindAddress          smtp_bind_address (empty: any)
     * @param bindAddress6         smtp_bind_address6 (empty: any)
     * @param mimeOutputConversion not disable_mime_output_conversion: 8-bit text to quoted-printable
     *                             for servers without 8BITMIME
     * @param sendXforward         smtp_send_xforward_command / lmtp_send_xforward_command (no)
     * @param xforwardTimeout      smtp_xforward_timeout / lmtp_xforward_timeout (300s): the time limit
     *                             for sending XFORWARD and receiving its reply; null is the default
     * @param genericMaps          smtp_generic_maps / lmtp_generic_maps, tables opened: the envelope and
     *                             primary header addresses as sent; null: none (the default)
     */
    public record Session(boolean skip5xxGreeting, boolean alwaysSendEhlo, boolean neverSendEhlo,
                          boolean skipQuitResponse, boolean quoteRfc821Envelope, List<String> discardEhloKeywords,
                          String bindAddress, String bindAddress6, boolean mimeOutputConversion,
                          boolean sendXforward, Duration xforwardTimeout, AddressMapping genericMaps)
            implements Serializable {

        /** the default of smtp_xforward_timeout and lmtp_xforward_timeout */
        public static final Duration DEFAULT_XFORWARD_TIMEOUT = Duration.ofSeconds(300);

        /** Session - without generic maps. */
        public Session(boolean skip5xxGreeting, boolean alwaysSendEhlo, boolean neverSendEhlo,
                       boolean skipQuitResponse, boolean quoteRfc821Envelope, List<String> discardEhloKeywords,
                       String bindAddress, String bindAddress6, boolean mimeOutputConversion,
                       boolean sendXforward, Duration xforwardTimeout) {
            this(skip5xxGreeting, alwaysSendEhlo, neverSendEhlo, skipQuitResponse, quoteRfc821Envelope,
                    discardEhloKeywords, bindAddress, bindAddress6, mimeOutputConversion, sendXforward,
                    xforwardTimeout, null);
        }

        /** Session - without XFORWARD. */
        public Session(boolean skip5xxGreeting, boolean alwaysSendEhlo, boolean neverSendEhlo,
                       boolean skipQuitResponse, boolean quoteRfc821Envelope, List<String> discardEhloKeywords,
                       String bindAddress, String bindAddress6, boolean mimeOutputConversion) {
            this(skip5xxGreeting, alwaysSendEhlo, neverSendEhlo, skipQuitResponse, quoteRfc821Envelope,
                    discardEhloKeywords, bindAddress, bindAddress6, mimeOutputConversion, false);
        }

        /** Session - with the default XFORWARD time limit (300s): the form callers used before that limit existed. */
        public Session(boolean skip5xxGreeting, boolean alwaysSendEhlo, boolean neverSendEhlo,
                       boolean skipQuitResponse, boolean quoteRfc821Envelope, List<String> discardEhloKeywords,
                       String bindAddress, String bindAddress6, boolean mimeOutputConversion, boolean sendXforward) {
            this(skip5xxGreeting, alwaysSendEhlo, neverSendEhlo, skipQuitResponse, quoteRfc821Envelope,
                    discardEhloKeywords, bindAddress, bindAddress6, mimeOutputConversion, sendXforward,
                    DEFAULT_XFORWARD_TIMEOUT);
        }

        public Session {
            xforwardTimeout = xforwardTimeout != null ? xforwardTimeout : DEFAULT_XFORWARD_TIMEOUT;
            discardEhloKeywords = discardEhloKeywords.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
            bindAddress = bindAddress == null ? "" : bindAddress.trim();
            bindAddress6 = bindAddress6 == null ? "" : bindAddress6.trim();
            genericMaps = genericMaps == null || genericMaps.maps().isEmpty() ? null : genericMaps;
        }

        /** withGenericMaps - this session's options with smtp_generic_maps (null: none). */
        public Session withGenericMaps(AddressMapping maps) {
            return new Session(skip5xxGreeting, alwaysSendEhlo, neverSendEhlo, skipQuitResponse, quoteRfc821Envelope,
                    discardEhloKeywords, bindAddress, bindAddress6, mimeOutputConversion, sendXforward,
                    xforwardTimeout, maps);
        }

        /** defaults - Postfix's defaults; LMTP waits for the QUIT reply (lmtp_skip_quit_response = no). */
        public static Session defaults(boolean lmtp) {
            return new Session(true, true, false, !lmtp, true, List.of(), "", "", true);
        }
    }

    /**
     * Routing - from next hop to addresses.
     *
     * @param randomizeAddresses      smtp_randomize_addresses (yes)
     * @param mxAddressLimit          smtp_mx_address_limit (5; 0 = no limit)
     * @param mxSessionLimit          smtp_mx_session_limit (2; 0 = no limit)
     * @param ignoreMxLookupError     ignore_mx_lookup_error (no)
     * @param deferIfNoMxAddressFound smtp_defer_if_no_mx_address_found (no)
     * @param disableDnsLookups       disable_dns_lookups (no)
     * @param hostLookup              smtp_host_lookup: "dns", "native", in order (dns)
     * @param ipv4                    inet_protocols includes ipv4 (or all)
     * @param ipv6                    inet_protocols includes ipv6 (or all)
     * @param fallbackRelays          smtp_fallback_relay ($fallback_relay); SMTP only
     * @param ownAddresses            our own addresses (inet_interfaces, proxy_interfaces), textual
     * @param ownNames                our own host names ($myhostname), lower case
     * @param bestMxTransport         best_mx_transport (empty: a loop bounces)
     */
    public record Routing(boolean randomizeAddresses, int mxAddressLimit, int mxSessionLimit,
                          boolean ignoreMxLookupError, boolean deferIfNoMxAddressFound, boolean disableDnsLookups,
                          List<String> hostLookup, boolean ipv4, boolean ipv6, List<String> fallbackRelays,
                          List<String> ownAddresses, List<String> ownNames, String bestMxTransport)
            implements Serializable {

        public Routing {
            hostLookup = hostLookup.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
            fallbackRelays = List.copyOf(fallbackRelays);
            ownAddresses = List.copyOf(ownAddresses);
            ownNames = ownNames.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
            bestMxTransport = bestMxTransport == null ? "" : bestMxTransport.trim();
        }

        public static Routing defaults() {
            return new Routing(true, 5, 2, false, false, false, List.of("dns"), true, true, List.of(),
                    List.of(), List.of(), "");
        }

        public Routing withFallbackRelays(List<String> relays) {
            return new Routing(randomizeAddresses, mxAddressLimit, mxSessionLimit, ignoreMxLookupError,
                    deferIfNoMxAddressFound, disableDnsLookups, hostLookup, ipv4, ipv6, relays, ownAddresses,
                    ownNames, bestMxTransport);
        }

        public Routing withOwn(List<String> addresses, List<String> names) {
            return new Routing(randomizeAddresses, mxAddressLimit, mxSessionLimit, ignoreMxLookupError,
                    deferIfNoMxAddressFound, disableDnsLookups, hostLookup, ipv4, ipv6, fallbackRelays, addresses,
                    names, bestMxTransport);
        }
    }

    public SmtpClientSettings withTls(Tls t) {
        return with(session, routing, cache, t, sasl);
    }

    public SmtpClientSettings withSasl(Sasl a) {
        return with(session, routing, cache, tls, a);
    }

    /**
     * Sasl - the SASL client (RFC 4954 AUTH). The credentials are not here: the session looks
     * them up in the password maps when it knows the server's name, so that no password is
     * part of a pool key or a log line.
     *
     * @param enabled            smtp_sasl_auth_enable (no)
     * @param passwordMaps       smtp_sasl_password_maps: tables of "user:password" by server host
     *                           name, then by next-hop destination ([host]:port, [host], domain)
     * @param securityOptions    smtp_sasl_security_options (noplaintext, noanonymous)
     * @param tlsSecurityOptions smtp_sasl_tls_security_options ($smtp_sasl_security_options), over TLS
     * @param mechanismFilter    smtp_sasl_mechanism_filter: only these of the offered mechanisms; empty: all
     */
    public record Sasl(boolean enabled, List<String> passwordMaps, List<String> securityOptions,
                       List<String> tlsSecurityOptions, List<String> mechanismFilter) implements Serializable {

        public static final Sasl NONE = new Sasl(false, List.of(), List.of("noplaintext", "noanonymous"),
                List.of("noplaintext", "noanonymous"), List.of());

        public Sasl {
            passwordMaps = List.copyOf(passwordMaps);
            securityOptions = securityOptions.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
            tlsSecurityOptions = tlsSecurityOptions.stream().map(k -> k.toLowerCase(Locale.ROOT)).toList();
            mechanismFilter = mechanismFilter.stream().map(k -> k.toUpperCase(Locale.ROOT)).toList();
        }
    }

    /**
     * Tls - the TLS policy of this destination (smtp_tls_security_level, or the Postfix 2.2
     * smtp_use_tls/smtp_enforce_tls when it is empty, or the smtp_tls_policy_maps entry of
     * the next hop, or the smtp_tls_per_site actions), and how TLS is done.
     *
     * @param level           none, may, encrypt, dane, dane-only, verify or secure; anything
     *                        else (a policy table's fingerprint or a typo) is {@link #invalid}:
     *                        such mail is deferred, never sent in the clear. dane and dane-only
     *                        become an effective level per server when the session looks up its
     *                        TLSA records (see {@link Dane})
     * @param caFile          smtp_tls_CAfile (PEM); empty with caPath empty: the Java runtime's trust store
     * @param caPath          smtp_tls_CApath (directory of PEM files)
     * @param match           the names a verify/secure certificate must match: "hostname" (the MX
     *                        host), "nexthop", "dot-nexthop" (subdomains of the next hop), or a literal name
     * @param starttlsTimeout smtp_starttls_timeout (300s): the handshake's time limit
     * @param options         keys, protocols, ciphers, logging, session cache
     * @param perSite         the smtp_tls_per_site actions still to apply for the server's host name,
     *                        or null
     * @param dane            what the dane and dane-only levels need: DNSSEC lookups, the
     *                        insecure-MX policy; {@link Dane#UNAVAILABLE} when not given
     */
    public record Tls(String level, String caFile, String caPath, List<String> match, Duration starttlsTimeout,
                      TlsOptions options, PerSite perSite, Dane dane)
            implements Serializable {

        public static final Tls NONE = new Tls("none", "", "", List.of(), Duration.ofSeconds(300));

        /**
         * the levels Postern implements, weakest first (Postfix's order: none, may, encrypt, dane,
         * dane-only, verify, secure; Postfix's fingerprint level is not implemented)
         */
        public static final List<String> LEVELS = List.of("none", "may", "encrypt", "dane", "dane-only", "verify",
                "secure");

        public Tls {
            level = level == null || level.isBlank() ? "none" : level.trim().toLowerCase(Locale.ROOT);
            caFile = caFile == null ? "" : caFile.trim();
            caPath = caPath == null ? "" : caPath.trim();
            match = match.stream().map(m -> m.toLowerCase(Locale.ROOT)).toList();
            options = options == null ? TlsOptions.DEFAULTS : options;
            dane = dane == null ? Dane.UNAVAILABLE : dane;
        }

        /** Tls - without DNSSEC support for DANE (the form callers used before the dane levels existed). */
        public Tls(String level, String caFile, String caPath, List<String> match, Duration starttlsTimeout,
                   TlsOptions options, PerSite perSite) {
            this(level, caFile, caPath, match, starttlsTimeout, options, perSite, null);
        }

        /** Tls - with the default options and no per-site table. */
        public Tls(String level, String caFile, String caPath, List<String> match, Duration starttlsTimeout) {
            this(level, caFile, caPath, match, starttlsTimeout, TlsOptions.DEFAULTS, null);
        }

        /** withLevel - this policy at another level (the effective level of a DANE destination). */
        public Tls withLevel(String l) {
            return new Tls(l, caFile, caPath, match, starttlsTimeout, options, perSite, dane);
        }

        /** enabled - STARTTLS is attempted (may and above). */
        public boolean enabled() {
            return !level.equals("none");
        }

        /**
         * required - no delivery in the clear (encrypt and above, and an invalid level). For dane
         * this is the level with usable TLSA records; the session replaces it by may or encrypt
         * when the server has none.
         */
        public boolean required() {
            return level.equals("encrypt") || daneBased() || verified() || invalid();
        }

        /** daneBased - dane or dane-only: the server's TLSA records decide (RFC 7672). */
        public boolean daneBased() {
            return level.equals("dane") || level.equals("dane-only");
        }

        /** verified - the certificate must be trusted and match (verify, secure). */
        public boolean verified() {
            return level.equals("verify") || level.equals("secure");
        }

        /** invalid - a level Postern does not implement: the mail is deferred ("client TLS configuration problem"). */
        public boolean invalid() {
            return !LEVELS.contains(level);
        }

        /**
         * forHost - the policy for one server of the next hop: the smtp_tls_per_site action for
         * its host name combined with the next hop's; this policy when there is no per-site table.
         */
        public Tls forHost(String hostName) {
            if (perSite == null || hostName == null) {
                return this;
            }
            String l = perSite.level(hostName);
            return l.equals(level) ? this : withLevel(l);
        }
    }

    /**
     * Dane - what the dane and dane-only levels depend on beside the level.
     *
     * @param unavailable      why DANE cannot be used, in Postfix's words ("dnssec lookups
     *                         disabled": smtp_dns_support_level is not dnssec or smtp_host_lookup
     *                         has no dns; "MX lookup errors ignored": ignore_mx_lookup_error);
     *                         empty when it can. Then dane is may and dane-only is a
     *                         configuration problem, as in Postfix
     * @param insecureMxPolicy smtp_tls_dane_insecure_mx_policy in effect: may, encrypt or dane
     */
    public record Dane(String unavailable, String insecureMxPolicy) implements Serializable {

        /** without DNSSEC lookups */
        public static final Dane UNAVAILABLE = new Dane("dnssec lookups disabled", "may");

        public Dane {
            unavailable = unavailable == null ? "" : unavailable.trim();
            insecureMxPolicy = insecureMxPolicy == null || insecureMxPolicy.isBlank() ? "may"
                    : insecureMxPolicy.trim().toLowerCase(Locale.ROOT);
        }

        /** available - DNSSEC-validated lookups can be had: the TLSA records may be used. */
        public boolean available() {
            return unavailable.isEmpty();
        }
    }

    /**
     * PerSite - smtp_tls_per_site (Postfix 2.2), the part that depends on the server's host
     * name. The table is looked up for the next-hop domain (when the policy is made) and then
     * for each server's host name (when it is connected to). The actions raise or lower the
     * level as TLS_README describes: NONE lowers a not-found, NONE or MAY to none; MAY applies
     * only when nothing was found; MUST_NOPEERMATCH raises to encrypt, MUST to verify. A MAY
     * (a wild-card policy) gives way to a stronger global level; a site found in the table
     * otherwise overrides the global level; no entry leaves the global level. Another action
     * makes the level invalid: the mail is deferred.
     *
     * @param tables      the smtp_tls_per_site table specifications
     * @param nexthop     the next-hop domain (or host of [host]), lower case
     * @param siteLevel   the level after the next-hop lookup: "" when not found
     * @param globalLevel smtp_tls_security_level, or the level of smtp_use_tls/smtp_enforce_tls
     */
    public record PerSite(List<String> tables, String nexthop, String siteLevel, String globalLevel)
            implements Serializable {

        private static final java.util.Map<List<String>, List<org.postern.config.maps.LookupTable>> OPEN =
                new java.util.concurrent.ConcurrentHashMap<>();

        public PerSite {
            tables = List.copyOf(tables);
        }

        /** forget - drop the opened tables (a new configuration: their files may have changed). */
        public static void forget() {
            OPEN.clear();
        }

        /** forNexthop - the per-site policy of a next hop: the table looked up for its domain. */
        public static PerSite forNexthop(List<String> tables, String nexthop, String globalLevel) {
            String dest = nexthop.toLowerCase(Locale.ROOT);
            return new PerSite(tables, dest, apply(tables, "", dest), globalLevel);
        }

        /** level - the effective level for a server of the next hop (null: no host name known). */
        public String level(String hostName) {
            String site = siteLevel;
            if (hostName != null && !site.equals("invalid")) {
                String host = hostName.toLowerCase(Locale.ROOT);
                if (!host.equals(nexthop)) {
                    site = apply(tables, site, host);
                }
            }
            if (site.isEmpty()) {
                return globalLevel;
            }
            if (site.equals("may") && rank(globalLevel) > rank("may")) {
                return globalLevel;
            }
            return site;
        }

        /* apply - one lookup: the action found for name changes the level as TLS_README says */
        private static String apply(List<String> tables, String site, String name) {
            String action = null;
            for (org.postern.config.maps.LookupTable t : OPEN.computeIfAbsent(tables,
                    k -> org.postern.config.maps.LookupTables.openAll(k))) {
                java.util.Optional<String> v = t.lookup(name);
                if (v.isPresent()) {
                    action = v.get().trim().toUpperCase(Locale.ROOT);
                    break;
                }
            }
            if (action == null) {
                return site;
            }
            int r = rank(site);
            return switch (action) {
                case "NONE" -> r <= rank("may") ? "none" : site;
                case "MAY" -> site.isEmpty() ? "may" : site;
                case "MUST_NOPEERMATCH" -> r < rank("encrypt") ? "encrypt" : site;
                case "MUST" -> r < rank("verify") ? "verify" : site;
                default -> "invalid";
            };
        }

        /* rank - "" (not found) below none, then Postfix's order */
        private static int rank(String level) {
            return level.isEmpty() ? -1 : Tls.LEVELS.indexOf(level);
        }
    }

    /**
     * TlsOptions - how the client does TLS, beside the level.
     *
     * @param identity           the client's key and certificate (smtp_tls_cert_file and the
     *                           others, or a key store); {@link ClientIdentity#NONE}: none
     * @param protocols          smtp_tls_protocols (level may)
     * @param mandatoryProtocols smtp_tls_mandatory_protocols (encrypt and above)
     * @param ciphers            smtp_tls_ciphers grade (level may)
     * @param mandatoryCiphers   smtp_tls_mandatory_ciphers grade (encrypt and above)
     * @param excludeCiphers     smtp_tls_exclude_ciphers plus the exclusions of smtp_tls_cipherlist
     * @param mandatoryExclude   smtp_tls_mandatory_exclude_ciphers (encrypt and above, in addition)
     * @param verifyDepth        smtp_tls_scert_verifydepth (9)
     * @param logLevel           smtp_tls_loglevel (0)
     * @param noteStarttlsOffer  smtp_tls_note_starttls_offer (no)
     * @param sessionCache       smtp_tls_session_cache_database is not empty: sessions are resumed
     * @param sessionTimeout     smtp_tls_session_cache_timeout (3600s)
     */
    public record TlsOptions(ClientIdentity identity, List<String> protocols, List<String> mandatoryProtocols,
                             String ciphers, String mandatoryCiphers, List<String> excludeCiphers,
                             List<String> mandatoryExclude, int verifyDepth, int logLevel, boolean noteStarttlsOffer,
                             boolean sessionCache, Duration sessionTimeout) implements Serializable {

        public static final TlsOptions DEFAULTS = new TlsOptions(ClientIdentity.NONE, List.of(">=TLSv1"),
                List.of(">=TLSv1"), "medium", "medium", List.of(), List.of(), 9, 0, false, false,
                Duration.ofSeconds(3600));

        public TlsOptions {
            identity = identity == null ? ClientIdentity.NONE : identity;
            protocols = List.copyOf(protocols);
            mandatoryProtocols = List.copyOf(mandatoryProtocols);
            excludeCiphers = List.copyOf(excludeCiphers);
            mandatoryExclude = List.copyOf(mandatoryExclude);
        }
    }

    /**
     * ClientIdentity - the client's private keys and certificates: PEM files as Postfix names
     * them, or a Java key store. The password is not part of {@link #toString}.
     *
     * @param chainFiles       smtp_tls_chain_files: each a key then its chain; when set, the others are ignored
     * @param certFile         smtp_tls_cert_file (RSA)
     * @param keyFile          smtp_tls_key_file
     * @param dcertFile        smtp_tls_dcert_file (DSA)
     * @param dkeyFile         smtp_tls_dkey_file
     * @param eccertFile       smtp_tls_eccert_file (ECDSA)
     * @param eckeyFile        smtp_tls_eckey_file
     * @param keystoreFile     smtp_tls_keystore_file (Postern)
     * @param keystoreType     PKCS12 or JKS
     * @param keystorePassword the store's and its key's password
     * @param keystoreAlias    the key entry; empty: the only one
     */
    public record ClientIdentity(List<String> chainFiles, String certFile, String keyFile, String dcertFile,
                                 String dkeyFile, String eccertFile, String eckeyFile, String keystoreFile,
                                 String keystoreType, String keystorePassword, String keystoreAlias)
            implements Serializable {

        public static final ClientIdentity NONE = new ClientIdentity(List.of(), "", "", "", "", "", "", "", "PKCS12",
                "", "");

        public ClientIdentity {
            chainFiles = chainFiles.stream().map(String::trim).filter(f -> !f.isEmpty()).toList();
        }

        /** empty - no key is configured. */
        public boolean empty() {
            return chainFiles.isEmpty() && certFile.isBlank() && dcertFile.isBlank() && eccertFile.isBlank()
                    && keystoreFile.isBlank();
        }

        @Override
        public String toString() {
            return "ClientIdentity[chainFiles=" + chainFiles + ", certFile=" + certFile + ", keyFile=" + keyFile
                    + ", dcertFile=" + dcertFile + ", eccertFile=" + eccertFile + ", keystoreFile=" + keystoreFile
                    + ", keystoreAlias=" + keystoreAlias + "]";
        }
    }

    /**
     * Workarounds - the client's accommodations of broken servers, and its limits beside the
     * time limits of each command.
     *
     * @param pixWorkarounds         smtp_pix_workarounds (disable_esmtp, delay_dotcrlf): what to do for
     *                               a server whose greeting is only asterisks (a Cisco PIX "mailguard")
     * @param pixWorkaroundMaps      smtp_pix_workaround_maps: tables by server IP address, instead of the above
     * @param pixDelay               smtp_pix_workaround_delay_time (10s): the pause before the final "."
     * @param pixThreshold           smtp_pix_workaround_threshold_time (500s): how long a message must
     *                               have been queued for delay_dotcrlf
     * @param discardKeywordMaps     smtp_discard_ehlo_keyword_address_maps / lmtp_discard_lhlo_keyword_address_maps:
     *                               tables by server IP address with the keywords to ignore, instead of
     *                               {@link Session#discardEhloKeywords}
     * @param mimeNestingLimit       mime_nesting_limit (100): multipart levels the 7-bit conversion follows
     * @param mimeBoundaryLimit      mime_boundary_length_limit (2048): significant length of a boundary
     * @param daemonTimeout          daemon_timeout (18000s): the longest one delivery request may take
     * @param debugPeerList          debug_peer_list: servers (addresses, networks, host names) whose
     *                               conversation goes to the mail log
     * @param debugPeerLevel         debug_peer_level (2): 0 turns that off
     * @param protocolNotices        notify_classes has protocol: a delivery whose server gave a reply that
     *                               suggests a protocol error hands its transcript to the postmaster
     */
    public record Workarounds(List<String> pixWorkarounds, List<String> pixWorkaroundMaps, Duration pixDelay,
                              Duration pixThreshold, List<String> discardKeywordMaps, int mimeNestingLimit,
                              int mimeBoundaryLimit, Duration daemonTimeout, List<String> debugPeerList,
                              int debugPeerLevel, boolean protocolNotices) implements Serializable {

        /** Workarounds - without protocol notices. */
        public Workarounds(List<String> pixWorkarounds, List<String> pixWorkaroundMaps, Duration pixDelay,
                           Duration pixThreshold, List<String> discardKeywordMaps, int mimeNestingLimit,
                           int mimeBoundaryLimit, Duration daemonTimeout, List<String> debugPeerList,
                           int debugPeerLevel) {
            this(pixWorkarounds, pixWorkaroundMaps, pixDelay, pixThreshold, discardKeywordMaps, mimeNestingLimit,
                    mimeBoundaryLimit, daemonTimeout, debugPeerList, debugPeerLevel, false);
        }

        public static final Workarounds DEFAULTS = new Workarounds(List.of("disable_esmtp", "delay_dotcrlf"), List.of(),
                Duration.ofSeconds(10), Duration.ofSeconds(500), List.of(), 100, 2048, Duration.ofSeconds(18000));

        /** Workarounds - without debug peers. */
        public Workarounds(List<String> pixWorkarounds, List<String> pixWorkaroundMaps, Duration pixDelay,
                           Duration pixThreshold, List<String> discardKeywordMaps, int mimeNestingLimit,
                           int mimeBoundaryLimit, Duration daemonTimeout) {
            this(pixWorkarounds, pixWorkaroundMaps, pixDelay, pixThreshold, discardKeywordMaps, mimeNestingLimit,
                    mimeBoundaryLimit, daemonTimeout, List.of(), 2);
        }

        public Workarounds {
            pixWorkarounds = pixWorkarounds.stream().map(w -> w.trim().toLowerCase(Locale.ROOT)).toList();
            pixWorkaroundMaps = List.copyOf(pixWorkaroundMaps);
            discardKeywordMaps = List.copyOf(discardKeywordMaps);
            debugPeerList = debugPeerList == null ? List.of() : List.copyOf(debugPeerList);
        }
    }

    /**
     * Cache - the connection cache of this destination. A session is reused while it is
     * younger than {@code reuseTimeLimit} and has been reused fewer than {@code reuseLimit}
     * times; between deliveries it waits at most {@code timeLimit}. Whether it is kept after
     * a delivery at all is {@link #keeps}: always when caching is permanent for the
     * destination, only with a backlog when it is on demand.
     *
     * @param enabled        the session may be kept at all: smtp_connection_cache_on_demand, or the destination
     *                       in smtp_connection_cache_destinations, or lmtp_cache_connection
     * @param reuseLimit     smtp_connection_reuse_count_limit (0; older name smtp_connection_cache_reuse_limit) /
     *                       lmtp_connection_reuse_count_limit (0): the times a session may be reused, so N
     *                       allows N+1 transactions; 0 = no limit
     * @param timeLimit      smtp_connection_cache_time_limit (2s) / lmtp_connection_cache_time_limit ($max_idle):
     *                       an idle session older than this is closed and not reused
     * @param reuseTimeLimit smtp_connection_reuse_time_limit (300s) / lmtp_connection_reuse_time_limit (300s):
     *                       no new transaction on a session opened longer ago than this; zero = no limit
     * @param onDemand       caching is on demand (smtp_connection_cache_on_demand = yes, destination not in
     *                       smtp_connection_cache_destinations): the session is kept only after a request
     *                       whose destination has a backlog ({@link OutboundMessage#backlog}); false: kept
     *                       after every request while {@code enabled}
     */
    public record Cache(boolean enabled, int reuseLimit, Duration timeLimit, Duration reuseTimeLimit,
                        boolean onDemand) implements Serializable {

        /** the default of smtp_connection_reuse_time_limit and lmtp_connection_reuse_time_limit */
        public static final Duration DEFAULT_REUSE_TIME_LIMIT = Duration.ofSeconds(300);

        public Cache {
            reuseTimeLimit = reuseTimeLimit != null ? reuseTimeLimit : DEFAULT_REUSE_TIME_LIMIT;
            onDemand = enabled && onDemand;
        }

        /** Cache - permanent caching while {@code enabled} (a listed destination, lmtp_cache_connection). */
        public Cache(boolean enabled, int reuseLimit, Duration timeLimit, Duration reuseTimeLimit) {
            this(enabled, reuseLimit, timeLimit, reuseTimeLimit, false);
        }

        /** Cache - with the default reuse time limit (300s): the form callers used before that limit existed. */
        public Cache(boolean enabled, int reuseLimit, Duration timeLimit) {
            this(enabled, reuseLimit, timeLimit, DEFAULT_REUSE_TIME_LIMIT);
        }

        /** defaults - main.cf's defaults for SMTP: on-demand caching, no reuse count limit, 2s idle, 300s reuse. */
        public static Cache defaults() {
            return new Cache(true, 0, Duration.ofSeconds(2), DEFAULT_REUSE_TIME_LIMIT, true);
        }

        /**
         * keeps - the session goes back into the cache after a request whose destination has
         * ({@code backlog}) or has not more mail waiting: always when caching is permanent, with
         * a backlog only when it is on demand, never when caching is off.
         */
        public boolean keeps(boolean backlog) {
            return enabled && (backlog || !onDemand);
        }
    }
}
