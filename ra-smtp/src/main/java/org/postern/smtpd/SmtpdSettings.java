package org.postern.smtpd;

import org.postern.config.Parameters;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;

import io.netty.handler.ssl.SslContext;
import org.postern.config.Config;
import org.postern.maillog.MailLogger;
import org.postern.smtpd.policy.DnsJavaLookup;
import org.postern.smtpd.policy.DnsLookup;
import org.postern.smtpd.policy.HostsFile;
import org.postern.smtpd.policy.PolicySettings;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * SmtpdSettings - everything the smtpd engine reads from main.cf and master.cf, resolved.
 *
 * <p>Immutable; the adapter builds one per listener service from the configuration
 * (parameter names and defaults are Postfix's, given in brackets) when it starts; there is
 * no reload yet (a redeploy builds new ones). The values are grouped by what they are for,
 * each group a record of its own; {@link Builder} has every value flat, for tests and
 * for the with... variants.
 *
 * @param identity    who the server says it is ({@link Identity})
 * @param limits      per-session limits and error handling ({@link Limits})
 * @param connections connection limits, PROXY protocol, peer name, debug peers ({@link Connections})
 * @param protocol    how strictly the dialogue is read ({@link Protocol})
 * @param security    STARTTLS and AUTH ({@link Security})
 * @param content     spool and what is added to the content ({@link Content})
 * @param notices     postmaster transcripts of failed sessions ({@link Notices})
 * @param check       the access policy (smtpd_*_restrictions), see
 *                    {@link org.postern.smtpd.policy.PolicySettings}
 */
public record SmtpdSettings(Identity identity, Limits limits, Connections connections, Protocol protocol,
                            Security security, Content content, Notices notices, SmtpdCheck check) {

    /**
     * Identity - who the server says it is.
     *
     * @param serviceName master.cf service name, e.g. "smtpd" or "2525"
     * @param myhostname  myhostname (the host name)
     * @param banner      smtpd_banner, already expanded ($myhostname ESMTP $mail_name)
     * @param mailName    mail_name (Postfix; Postern uses "Postern")
     * @param syslogName  syslog_name (postern): the mail log names the service's lines syslog_name/smtpd
     */
    public record Identity(String serviceName, String myhostname, String banner, String mailName,
                           String syslogName) {
        /** Identity - with the default syslog_name. */
        public Identity(String serviceName, String myhostname, String banner, String mailName) {
            this(serviceName, myhostname, banner, mailName, MailLogger.DEFAULT_SYSLOG_NAME);
        }

        public Identity {
            Objects.requireNonNull(serviceName, "serviceName");
            Objects.requireNonNull(myhostname, "myhostname");
            Objects.requireNonNull(banner, "banner");
            Objects.requireNonNull(mailName, "mailName");
            Objects.requireNonNull(syslogName, "syslogName");
        }
    }

    /**
     * Limits - per-session limits and error handling.
     *
     * @param messageSizeLimit message_size_limit in bytes, 0 = unlimited (10240000)
     * @param lineLengthLimit  line_length_limit (2048)
     * @param timeout          smtpd_timeout (300s)
     * @param recipientLimit   smtpd_recipient_limit (1000), 0 = unlimited
     * @param hardErrorLimit   smtpd_hard_error_limit (20)
     * @param softErrorLimit   smtpd_soft_error_limit (10)
     * @param errorSleepTime   smtpd_error_sleep_time (1s)
     * @param junkCommandLimit smtpd_junk_command_limit (100)
     * @param hopcountLimit    hopcount_limit (50), Received: headers per message
     * @param queueMinfree     queue_minfree in bytes (0: only the message size check)
     * @param spoolMemoryLimit smtpd_spool_memory_limit (Postern, 1048576): message content kept in memory up to this many bytes, then in a spool file; 0 = always a file
     * @param perRecordDeadline smtpd_per_record_deadline (Postern: yes; Postfix: no, yes under overload):
     *                         smtpd_timeout also bounds the time to receive one whole record (a command
     *                         line, a content line, a BDAT chunk), not only the time between two reads
     */
    public record Limits(long messageSizeLimit, int lineLengthLimit, Duration timeout, int recipientLimit,
                         int hardErrorLimit, int softErrorLimit, Duration errorSleepTime, int junkCommandLimit,
                         int hopcountLimit, long queueMinfree, long spoolMemoryLimit, boolean perRecordDeadline) {

        /** Limits - with the per-record deadline (the default). */
        public Limits(long messageSizeLimit, int lineLengthLimit, Duration timeout, int recipientLimit,
                      int hardErrorLimit, int softErrorLimit, Duration errorSleepTime, int junkCommandLimit,
                      int hopcountLimit, long queueMinfree, long spoolMemoryLimit) {
            this(messageSizeLimit, lineLengthLimit, timeout, recipientLimit, hardErrorLimit, softErrorLimit,
                    errorSleepTime, junkCommandLimit, hopcountLimit, queueMinfree, spoolMemoryLimit, true);
        }

        public Limits {
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(errorSleepTime, "errorSleepTime");
            if (softErrorLimit < 0 || junkCommandLimit < 1 || hopcountLimit < 1 || queueMinfree < 0
                    || errorSleepTime.isNegative()) {
                throw new IllegalArgumentException("smtpd_soft_error_limit >= 0, smtpd_junk_command_limit >= 1, "
                        + "hopcount_limit >= 1, queue_minfree >= 0 and smtpd_error_sleep_time >= 0 required");
            }
            if (spoolMemoryLimit < 0 || spoolMemoryLimit > SmtpdSpool.MAX_MEMORY) {
                throw new IllegalArgumentException("smtpd_spool_memory_limit must be >= 0 and <= "
                        + SmtpdSpool.MAX_MEMORY + ": " + spoolMemoryLimit);
            }
            if (messageSizeLimit < 0) {
                throw new IllegalArgumentException("message_size_limit must be >= 0: " + messageSizeLimit);
            }
            if (lineLengthLimit < 512) {
                // RFC 5321 4.5.3.1.4/6: command lines of 512 octets must fit.
                throw new IllegalArgumentException("line_length_limit must be >= 512: " + lineLengthLimit);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("smtpd_timeout must be > 0: " + timeout);
            }
            if (recipientLimit < 0 || hardErrorLimit < 1) {
                throw new IllegalArgumentException("smtpd_recipient_limit >= 0 and smtpd_hard_error_limit >= 1 required");
            }
        }
    }

    /**
     * Connections - what is known and enforced about clients before the conversation: connection limits (anvil), the PROXY protocol, the peer name, debug peers.
     *
     * @param connectionCountLimit smtpd_client_connection_count_limit (50), 0 = none
     * @param connectionRateLimit  smtpd_client_connection_rate_limit (0 = none)
     * @param rateTimeUnit         anvil_rate_time_unit (60s)
     * @param eventLimitExceptions smtpd_client_event_limit_exceptions ($mynetworks), as a predicate on the client IP address text
     * @param upstreamProxy        smtpd_upstream_proxy_protocol = haproxy: a PROXY v1/v2 header precedes the conversation (and TLS)
     * @param upstreamProxyTimeout smtpd_upstream_proxy_timeout (5s)
     * @param peernameLookup       smtpd_peername_lookup (yes): look up (hosts file, then DNS) and verify the client's name before the greeting
     * @param debugPeers           debug_peer_list (empty), as a predicate on the client IP address text
     * @param debugPeerLevel       debug_peer_level (2): above 0, the conversation with a matching client is logged
     */
    public record Connections(int connectionCountLimit, int connectionRateLimit, Duration rateTimeUnit,
                              Predicate<String> eventLimitExceptions, boolean upstreamProxy,
                              Duration upstreamProxyTimeout, boolean peernameLookup, Predicate<String> debugPeers,
                              int debugPeerLevel) {
        public Connections {
            Objects.requireNonNull(rateTimeUnit, "rateTimeUnit");
            Objects.requireNonNull(eventLimitExceptions, "eventLimitExceptions");
            Objects.requireNonNull(upstreamProxyTimeout, "upstreamProxyTimeout");
            Objects.requireNonNull(debugPeers, "debugPeers");
            if (connectionCountLimit < 0 || connectionRateLimit < 0 || rateTimeUnit.isNegative()
                    || rateTimeUnit.isZero()) {
                throw new IllegalArgumentException("smtpd_client_connection_count_limit >= 0, "
                        + "smtpd_client_connection_rate_limit >= 0 and anvil_rate_time_unit > 0 required");
            }
        }
    }

    /**
     * Protocol - how strictly the SMTP dialogue is read.
     *
     * @param heloRequired           smtpd_helo_required (no)
     * @param disableVrfy            disable_vrfy_command (no)
     * @param bareNewline            smtpd_forbid_bare_newline (Postfix 3.9+: normalize)
     * @param bareNewlineExclusions  smtpd_forbid_bare_newline_exclusions ($mynetworks), as a predicate on the client IP address text
     * @param bareNewlineRejectCode  smtpd_forbid_bare_newline_reject_code (550)
     * @param forbidUnauthPipelining smtpd_forbid_unauth_pipelining (no, as Postfix 3.7): 554 and disconnect on RFC 2920 violations
     */
    public record Protocol(boolean heloRequired, boolean disableVrfy, BareNewline bareNewline,
                           Predicate<String> bareNewlineExclusions, int bareNewlineRejectCode,
                           boolean forbidUnauthPipelining) {
        public Protocol {
            Objects.requireNonNull(bareNewline, "bareNewline");
            Objects.requireNonNull(bareNewlineExclusions, "bareNewlineExclusions");
            if (bareNewlineRejectCode < 500 || bareNewlineRejectCode > 599) {
                throw new IllegalArgumentException("smtpd_forbid_bare_newline_reject_code must be 5XX: "
                        + bareNewlineRejectCode);
            }
        }
    }

    /**
     * Security - STARTTLS and AUTH.
     *
     * @param tlsLevel       smtpd_tls_security_level (empty: none)
     * @param sslContext     the server TLS context from smtpd_tls_cert_file and smtpd_tls_key_file, or null without TLS
     * @param tlsWrapperMode smtpd_tls_wrappermode (no): TLS from the first byte
     * @param saslAuthEnable smtpd_sasl_auth_enable (no)
     * @param tlsAuthOnly    smtpd_tls_auth_only (no): AUTH only under TLS
     * @param authenticator  checks AUTH credentials; null: AUTH is not offered even with smtpd_sasl_auth_enable = yes
     */
    public record Security(TlsLevel tlsLevel, SslContext sslContext, boolean tlsWrapperMode,
                           boolean saslAuthEnable, boolean tlsAuthOnly, SmtpdAuthenticator authenticator) {
        public Security {
            Objects.requireNonNull(tlsLevel, "tlsLevel");
            if ((tlsLevel != TlsLevel.NONE || tlsWrapperMode) && sslContext == null) {
                throw new IllegalArgumentException("smtpd_tls_security_level = " + tlsLevel.name().toLowerCase(Locale.ROOT)
                        + (tlsWrapperMode ? " with smtpd_tls_wrappermode = yes" : "")
                        + " needs a certificate and key: set smtpd_tls_cert_file and smtpd_tls_key_file");
            }
        }
    }

    /**
     * Content - where content is spooled and what is added to it.
     *
     * @param spoolDirectory          where message content is spooled until the endpoint has stored it
     * @param alwaysBcc               always_bcc (empty): an extra recipient of every message
     * @param alwaysAddMissingHeaders always_add_missing_headers (no): add Message-Id:, Date: and From: when missing, whatever the client
     * @param headerRewriteClients    local_header_rewrite_clients (permit_inet_interfaces): the clients whose messages get the missing headers
     */
    public record Content(Path spoolDirectory, String alwaysBcc, boolean alwaysAddMissingHeaders,
                          HeaderRewriteClients headerRewriteClients) {
        public Content {
            Objects.requireNonNull(spoolDirectory, "spoolDirectory");
            Objects.requireNonNull(alwaysBcc, "alwaysBcc");
            Objects.requireNonNull(headerRewriteClients, "headerRewriteClients");
            if (!alwaysBcc.isEmpty()) {
                try {
                    org.postern.mail.MailAddress.parse(alwaysBcc);
                } catch (org.postern.mail.AddressSyntaxException e) {
                    throw new IllegalArgumentException("always_bcc: bad address \"" + alwaysBcc + "\": " + e.getMessage());
                }
            }
        }
    }

    /**
     * Notices - the transcripts of failed sessions sent to the postmaster.
     *
     * @param notifyClasses        notify_classes (resource, software), lower case: the error classes of a session that send the postmaster a transcript
     * @param errorNoticeRecipient error_notice_recipient (postmaster)
     * @param doubleBounceSender   double_bounce_sender (double-bounce), the sender of the notices, qualified with myhostname when it has no domain
     */
    public record Notices(java.util.Set<String> notifyClasses, String errorNoticeRecipient,
                          String doubleBounceSender) {
        public Notices {
            notifyClasses = java.util.Set.copyOf(notifyClasses);
            Objects.requireNonNull(errorNoticeRecipient, "errorNoticeRecipient");
            Objects.requireNonNull(doubleBounceSender, "doubleBounceSender");
        }
    }

    /**
     * BareNewline - values of smtpd_forbid_bare_newline (Postfix 3.9, postconf(5)).
     *
     * <p>NO: a bare &lt;LF&gt; ends a line like &lt;CR&gt;&lt;LF&gt; and "&lt;LF&gt;.&lt;LF&gt;"
     * ends DATA (vulnerable to SMTP smuggling, CVE-2023-51764). NORMALIZE ("yes" is an
     * alias): bare &lt;LF&gt; is still a line end, but only &lt;CR&gt;&lt;LF&gt;.&lt;CR&gt;&lt;LF&gt;
     * ends DATA. NOTE: NORMALIZE and log. REJECT: a command or message with a bare
     * &lt;LF&gt; is rejected with bareNewlineRejectCode; DATA still ends only at the standard
     * sequence.
     */
    public enum BareNewline {
        NO, NORMALIZE, NOTE, REJECT;

        /** parse - main.cf value, case-insensitive; "yes" means normalize. */
        public static BareNewline parse(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            switch (v) {
                case "no": return NO;
                case "yes":
                case "normalize": return NORMALIZE;
                case "note": return NOTE;
                case "reject": return REJECT;
                default: throw new IllegalArgumentException("smtpd_forbid_bare_newline: bad value \"" + value
                        + "\"; specify one of normalize, yes, note, reject, no");
            }
        }

        /** wantStandardEndOfData - true when only CRLF.CRLF ends DATA. */
        public boolean wantStandardEndOfData() {
            return this != NO;
        }
    }

    /** TlsLevel - values of smtpd_tls_security_level for the server. */
    public enum TlsLevel {
        /** No STARTTLS. */
        NONE,
        /** STARTTLS announced, not required. */
        MAY,
        /** STARTTLS announced and required before MAIL FROM (and VRFY). */
        ENCRYPT;

        /** parse - main.cf value; empty means none. */
        public static TlsLevel parse(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            switch (v) {
                case "":
                case "none": return NONE;
                case "may": return MAY;
                case "encrypt": return ENCRYPT;
                default: throw new IllegalArgumentException("smtpd_tls_security_level: bad value \"" + value
                        + "\"; specify one of none, may, encrypt");
            }
        }
    }

    public SmtpdSettings {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(connections, "connections");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(notices, "notices");
        Objects.requireNonNull(check, "check");
    }

    /** smtpd_spool_memory_limit's default, 1 MiB: see {@link org.postern.config.Parameters#SMTPD_SPOOL_MEMORY_LIMIT}. */
    public static final long DEFAULT_SPOOL_MEMORY_LIMIT = 1L << 20;

    /**
     * defaults - Postfix 3.9 defaults for everything but the names and the spool; mail_name
     * "Postern", banner "$myhostname ESMTP $mail_name", no bare-newline exclusions, the
     * default policy of main.cf (mynetworks 127.0.0.0/8 and [::1]/128, mydestination of
     * myhostname, no relay_domains); unlike Postfix no peer name lookup
     * (smtpd_peername_lookup = no), so that a session built from these never waits for a
     * name server.
     */
    public static SmtpdSettings defaults(String serviceName, String myhostname, Path spoolDirectory) {
        return new SmtpdSettings(
                new Identity(serviceName, myhostname, myhostname + " ESMTP Postern", "Postern"),
                new Limits(10_240_000L, 2048, Duration.ofSeconds(300), 1000, 20, 10, Duration.ofSeconds(1), 100, 50, 0,
                        DEFAULT_SPOOL_MEMORY_LIMIT),
                new Connections(50, 0, Duration.ofSeconds(60), address -> false, false, Duration.ofSeconds(5), false,
                        address -> false, 2),
                new Protocol(false, false, BareNewline.NORMALIZE, address -> false, 550, false),
                new Security(TlsLevel.NONE, null, false, false, false, null),
                new Content(spoolDirectory, "", false, HeaderRewriteClients.parse(java.util.List.of("permit_inet_interfaces"),
                        HeaderRewriteClients.ownAddresses(java.util.List.of("all")), address -> false)),
                new Notices(java.util.Set.of("resource", "software"), "postmaster", "double-bounce"),
                policy(Config.parse("myhostname = " + myhostname, "defaults")));
    }

    /** policy - the access policy of a configuration (restriction lists parsed, tables opened). */
    public static SmtpdCheck policy(Config config) {
        PolicySettings p = PolicySettings.from(config);
        // DNS is only set up when a restriction or the peer name lookup needs it
        boolean peername = config.get(Parameters.SMTPD_PEERNAME_LOOKUP);
        boolean dns = p.needsDns() || peername;
        // the client's name comes from /etc/hosts first, as nsswitch's "files dns"
        return new SmtpdCheck(p, dns ? DnsJavaLookup.fromSystem(config.get(Parameters.SMTPD_DNS_CACHE_SIZE),
                        config.get(Parameters.SMTPD_DNS_CACHE_MAX_TTL), config.get(Parameters.SMTPD_DNS_NEGATIVE_TTL))
                        : DnsLookup.NONE,
                peername ? HostsFile.system() : HostsFile.EMPTY);
    }

    /** offersStartTls - STARTTLS is announced and accepted (not in wrapper mode: TLS is on already). */
    public boolean offersStartTls() {
        return security.tlsLevel() != TlsLevel.NONE && !security.tlsWrapperMode();
    }

    /**
     * offersAuth - AUTH is announced and accepted, given whether TLS is active. With
     * smtpd_tls_security_level = encrypt no password is taken before STARTTLS either.
     */
    public boolean offersAuth(boolean tlsActive) {
        return security.saslAuthEnable() && security.authenticator() != null
                && (tlsActive || !security.tlsAuthOnly() && security.tlsLevel() != TlsLevel.ENCRYPT);
    }

    /** toBuilder - a mutable copy, for the with... variants. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** withMessageSizeLimit - a copy with another message_size_limit. */
    public SmtpdSettings withMessageSizeLimit(long limit) {
        Builder b = toBuilder();
        b.messageSizeLimit = limit;
        return b.build();
    }

    /** withLimits - a copy with other recipient, error and line limits. */
    public SmtpdSettings withLimits(int recipients, int hardErrors, int lineLength) {
        Builder b = toBuilder();
        b.recipientLimit = recipients;
        b.hardErrorLimit = hardErrors;
        b.lineLengthLimit = lineLength;
        return b.build();
    }

    /** withBareNewline - a copy with another smtpd_forbid_bare_newline and reject code. */
    public SmtpdSettings withBareNewline(BareNewline mode, Predicate<String> exclusions, int rejectCode) {
        Builder b = toBuilder();
        b.bareNewline = mode;
        b.bareNewlineExclusions = exclusions;
        b.bareNewlineRejectCode = rejectCode;
        return b.build();
    }

    /** withTimeout - a copy with another smtpd_timeout. */
    public SmtpdSettings withTimeout(Duration smtpdTimeout) {
        Builder b = toBuilder();
        b.timeout = smtpdTimeout;
        return b.build();
    }

    /** withHeloRequired - a copy with another smtpd_helo_required. */
    public SmtpdSettings withHeloRequired(boolean required) {
        Builder b = toBuilder();
        b.heloRequired = required;
        return b.build();
    }

    /** withPolicy - a copy with the access policy of a main.cf text (tests, postconf-like tools). */
    public SmtpdSettings withPolicy(String mainCf) {
        Builder b = toBuilder();
        b.check = policy(Config.parse("myhostname = " + identity.myhostname() + "\n" + mainCf, "main.cf"));
        return b.build();
    }

    /** withPolicy - the same, with the DNS lookups of this resolver. */
    public SmtpdSettings withPolicy(String mainCf, DnsLookup dns) {
        Builder b = toBuilder();
        b.check = new SmtpdCheck(PolicySettings.from(Config.parse("myhostname = " + identity.myhostname() + "\n" + mainCf,
                "main.cf")), dns);
        return b.build();
    }

    /** Builder - every component, mutable; {@link #build} validates. */
    public static final class Builder {
        public String serviceName;
        public String myhostname;
        public String banner;
        public String mailName;
        public String syslogName;
        public long messageSizeLimit;
        public int lineLengthLimit;
        public Duration timeout;
        public int recipientLimit;
        public int hardErrorLimit;
        public boolean heloRequired;
        public boolean disableVrfy;
        public BareNewline bareNewline;
        public Predicate<String> bareNewlineExclusions;
        public int bareNewlineRejectCode;
        public Path spoolDirectory;
        public SmtpdCheck check;
        public int softErrorLimit;
        public Duration errorSleepTime;
        public int junkCommandLimit;
        public int hopcountLimit;
        public long queueMinfree;
        public int connectionCountLimit;
        public int connectionRateLimit;
        public Duration rateTimeUnit;
        public Predicate<String> eventLimitExceptions;
        public TlsLevel tlsLevel;
        public SslContext sslContext;
        public boolean tlsWrapperMode;
        public boolean saslAuthEnable;
        public boolean tlsAuthOnly;
        public SmtpdAuthenticator authenticator;
        public boolean upstreamProxy;
        public Duration upstreamProxyTimeout;
        public Predicate<String> debugPeers;
        public int debugPeerLevel;
        public boolean peernameLookup;
        public boolean forbidUnauthPipelining;
        public String alwaysBcc;
        public boolean alwaysAddMissingHeaders;
        public HeaderRewriteClients headerRewriteClients;
        public java.util.Set<String> notifyClasses;
        public String errorNoticeRecipient;
        public String doubleBounceSender;
        public long spoolMemoryLimit;
        public boolean perRecordDeadline = true;

        Builder(SmtpdSettings s) {
            serviceName = s.identity().serviceName();
            myhostname = s.identity().myhostname();
            banner = s.identity().banner();
            mailName = s.identity().mailName();
            syslogName = s.identity().syslogName();
            messageSizeLimit = s.limits().messageSizeLimit();
            lineLengthLimit = s.limits().lineLengthLimit();
            timeout = s.limits().timeout();
            recipientLimit = s.limits().recipientLimit();
            hardErrorLimit = s.limits().hardErrorLimit();
            heloRequired = s.protocol().heloRequired();
            disableVrfy = s.protocol().disableVrfy();
            bareNewline = s.protocol().bareNewline();
            bareNewlineExclusions = s.protocol().bareNewlineExclusions();
            bareNewlineRejectCode = s.protocol().bareNewlineRejectCode();
            spoolDirectory = s.content().spoolDirectory();
            check = s.check;
            softErrorLimit = s.limits().softErrorLimit();
            errorSleepTime = s.limits().errorSleepTime();
            junkCommandLimit = s.limits().junkCommandLimit();
            hopcountLimit = s.limits().hopcountLimit();
            queueMinfree = s.limits().queueMinfree();
            connectionCountLimit = s.connections().connectionCountLimit();
            connectionRateLimit = s.connections().connectionRateLimit();
            rateTimeUnit = s.connections().rateTimeUnit();
            eventLimitExceptions = s.connections().eventLimitExceptions();
            tlsLevel = s.security().tlsLevel();
            sslContext = s.security().sslContext();
            tlsWrapperMode = s.security().tlsWrapperMode();
            saslAuthEnable = s.security().saslAuthEnable();
            tlsAuthOnly = s.security().tlsAuthOnly();
            authenticator = s.security().authenticator();
            upstreamProxy = s.connections().upstreamProxy();
            upstreamProxyTimeout = s.connections().upstreamProxyTimeout();
            debugPeers = s.connections().debugPeers();
            debugPeerLevel = s.connections().debugPeerLevel();
            peernameLookup = s.connections().peernameLookup();
            forbidUnauthPipelining = s.protocol().forbidUnauthPipelining();
            alwaysBcc = s.content().alwaysBcc();
            alwaysAddMissingHeaders = s.content().alwaysAddMissingHeaders();
            headerRewriteClients = s.content().headerRewriteClients();
            notifyClasses = s.notices().notifyClasses();
            errorNoticeRecipient = s.notices().errorNoticeRecipient();
            doubleBounceSender = s.notices().doubleBounceSender();
            spoolMemoryLimit = s.limits().spoolMemoryLimit();
            perRecordDeadline = s.limits().perRecordDeadline();
        }

        /** build - the settings; IllegalArgumentException on a bad value. */
        public SmtpdSettings build() {
            return new SmtpdSettings(
                    new Identity(serviceName, myhostname, banner, mailName, syslogName),
                    new Limits(messageSizeLimit, lineLengthLimit, timeout, recipientLimit, hardErrorLimit, softErrorLimit, errorSleepTime, junkCommandLimit, hopcountLimit, queueMinfree, spoolMemoryLimit, perRecordDeadline),
                    new Connections(connectionCountLimit, connectionRateLimit, rateTimeUnit, eventLimitExceptions, upstreamProxy, upstreamProxyTimeout, peernameLookup, debugPeers, debugPeerLevel),
                    new Protocol(heloRequired, disableVrfy, bareNewline, bareNewlineExclusions, bareNewlineRejectCode, forbidUnauthPipelining),
                    new Security(tlsLevel, sslContext, tlsWrapperMode, saslAuthEnable, tlsAuthOnly, authenticator),
                    new Content(spoolDirectory, alwaysBcc, alwaysAddMissingHeaders, headerRewriteClients),
                    new Notices(notifyClasses, errorNoticeRecipient, doubleBounceSender),
                    check);
        }
    }
}
