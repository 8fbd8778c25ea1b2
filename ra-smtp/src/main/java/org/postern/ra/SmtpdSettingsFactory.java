package org.postern.ra;

import org.postern.config.Parameters;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import java.nio.file.Path;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.NetworkList;
import org.postern.smtpd.DovecotAuthenticator;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.HeaderRewriteClients;
import org.postern.smtpd.SmtpdAuthenticator;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.smtpd.SmtpdSettings;

/**
 * SmtpdSettingsFactory - the smtpd engine's settings from a listener's configuration
 * (main.cf with the master.cf -o overrides of the service already applied).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * myhostname, smtpd_banner, mail_name, message_size_limit, line_length_limit,
 * smtpd_timeout, smtpd_recipient_limit, smtpd_hard_error_limit, smtpd_helo_required,
 * disable_vrfy_command, smtpd_forbid_bare_newline, smtpd_forbid_bare_newline_exclusions
 * ($mynetworks), smtpd_forbid_bare_newline_reject_code, smtpd_soft_error_limit,
 * smtpd_error_sleep_time, smtpd_junk_command_limit, hopcount_limit, queue_minfree,
 * smtpd_client_connection_count_limit, smtpd_client_connection_rate_limit,
 * anvil_rate_time_unit, smtpd_client_event_limit_exceptions ($mynetworks),
 * smtpd_tls_security_level, smtpd_tls_cert_file, smtpd_tls_key_file,
 * smtpd_tls_wrappermode, smtpd_sasl_auth_enable, smtpd_tls_auth_only, smtpd_sasl_type
 * (elytron, dovecot; cyrus means elytron), smtpd_sasl_path (dovecot),
 * smtpd_upstream_proxy_protocol, smtpd_upstream_proxy_timeout, debug_peer_list (addresses
 * and networks only), debug_peer_level, smtpd_peername_lookup,
 * smtpd_forbid_unauth_pipelining, always_bcc, always_add_missing_headers,
 * local_header_rewrite_clients (with inet_interfaces and mynetworks), notify_classes,
 * error_notice_recipient, double_bounce_sender, smtpd_spool_memory_limit (Postern), and
 * the access policy parameters (see org.postern.smtpd.policy.PolicySettings).
 */
final class SmtpdSettingsFactory {
    private static final Logger LOG = Logger.getLogger("org.postern.ra");
    private SmtpdSettingsFactory() {
    }

    /** from - settings for the service; ConfigException or IllegalArgumentException on bad values. */
    static SmtpdSettings from(Config c, String serviceName) {
        return from(c, serviceName, null);
    }

    /**
     * from - settings for the service whose endpoint is listener (null: none, as in tests;
     * smtpd_sasl_type = elytron then offers no AUTH).
     */
    static SmtpdSettings from(Config c, String serviceName, SmtpdListener listener) {
        return new SmtpdSettings(
                new SmtpdSettings.Identity(serviceName,
                        c.get(Parameters.MYHOSTNAME),
                        c.get(Parameters.SMTPD_BANNER),
                        c.get(Parameters.MAIL_NAME),
                        c.get(Parameters.SYSLOG_NAME)),
                new SmtpdSettings.Limits(c.get(Parameters.MESSAGE_SIZE_LIMIT),
                        c.get(Parameters.LINE_LENGTH_LIMIT),
                        c.get(Parameters.SMTPD_TIMEOUT),
                        c.get(Parameters.SMTPD_RECIPIENT_LIMIT),
                        c.get(Parameters.SMTPD_HARD_ERROR_LIMIT),
                        c.get(Parameters.SMTPD_SOFT_ERROR_LIMIT),
                        c.get(Parameters.SMTPD_ERROR_SLEEP_TIME),
                        c.get(Parameters.SMTPD_JUNK_COMMAND_LIMIT),
                        c.get(Parameters.HOPCOUNT_LIMIT),
                        c.get(Parameters.QUEUE_MINFREE),
                        c.get(Parameters.SMTPD_SPOOL_MEMORY_LIMIT),
                        c.get(Parameters.SMTPD_PER_RECORD_DEADLINE)),
                new SmtpdSettings.Connections(c.get(Parameters.SMTPD_CLIENT_CONNECTION_COUNT_LIMIT),
                        c.get(Parameters.SMTPD_CLIENT_CONNECTION_RATE_LIMIT),
                        c.get(Parameters.ANVIL_RATE_TIME_UNIT),
                        NetworkList.parse(c.get(Parameters.SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS),
                                "smtpd_client_event_limit_exceptions"),
                        c.get(Parameters.SMTPD_UPSTREAM_PROXY_PROTOCOL).equals("haproxy"),
                        c.get(Parameters.SMTPD_UPSTREAM_PROXY_TIMEOUT),
                        c.get(Parameters.SMTPD_PEERNAME_LOOKUP),
                        NetworkList.parse(c.get(Parameters.DEBUG_PEER_LIST), "debug_peer_list"),
                        c.get(Parameters.DEBUG_PEER_LEVEL)),
                new SmtpdSettings.Protocol(c.get(Parameters.SMTPD_HELO_REQUIRED),
                        c.get(Parameters.DISABLE_VRFY_COMMAND),
                        SmtpdSettings.BareNewline.parse(c.get(Parameters.SMTPD_FORBID_BARE_NEWLINE)),
                        NetworkList.parse(c.get(Parameters.SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS),
                                "smtpd_forbid_bare_newline_exclusions"),
                        c.get(Parameters.SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE),
                        c.get(Parameters.SMTPD_FORBID_UNAUTH_PIPELINING)),
                new SmtpdSettings.Security(SmtpdSettings.TlsLevel.parse(c.get(Parameters.SMTPD_TLS_SECURITY_LEVEL)),
                        sslContext(c),
                        c.get(Parameters.SMTPD_TLS_WRAPPERMODE),
                        c.get(Parameters.SMTPD_SASL_AUTH_ENABLE),
                        c.get(Parameters.SMTPD_TLS_AUTH_ONLY),
                        authenticator(c, serviceName, listener)),
                new SmtpdSettings.Content(spoolDirectory(),
                        c.get(Parameters.ALWAYS_BCC),
                        c.get(Parameters.ALWAYS_ADD_MISSING_HEADERS),
                        headerRewriteClients(c)),
                new SmtpdSettings.Notices(notifyClasses(c),
                        c.get(Parameters.ERROR_NOTICE_RECIPIENT),
                        c.get(Parameters.DOUBLE_BOUNCE_SENDER)),
                SmtpdSettings.policy(c));
    }

    /** headerRewriteClients - local_header_rewrite_clients with inet_interfaces and mynetworks. */
    static HeaderRewriteClients headerRewriteClients(Config c) {
        try {
            return HeaderRewriteClients.parse(c.get(Parameters.LOCAL_HEADER_REWRITE_CLIENTS),
                    HeaderRewriteClients.ownAddresses(c.get(Parameters.INET_INTERFACES)),
                    NetworkList.parse(c.get(Parameters.MYNETWORKS), "mynetworks"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("local_header_rewrite_clients", 0, e.getMessage(), e);
        }
    }

    /** notifyClasses - notify_classes, lower case; unknown class names are refused. */
    static java.util.Set<String> notifyClasses(Config c) {
        java.util.Set<String> classes = new java.util.HashSet<>();
        for (String name : c.get(Parameters.NOTIFY_CLASSES)) {
            String n = name.toLowerCase(java.util.Locale.ROOT);
            if (!java.util.Set.of("bounce", "2bounce", "data", "delay", "policy", "protocol", "resource",
                    "software").contains(n)) {
                throw new ConfigException("notify_classes", 0, "unknown mail error class: \"" + name + "\"");
            }
            classes.add(n);
        }
        return classes;
    }

    /**
     * listenAddresses - where an inet service without an address in master.cf listens, as
     * Postfix's master does: every address for inet_interfaces = all (one wildcard socket),
     * 127.0.0.1 and/or ::1 (by inet_protocols) for loopback-only, else each address or host
     * name of the list.
     */
    static List<String> listenAddresses(Config c) {
        List<String> out = new ArrayList<>();
        for (String e : c.get(Parameters.INET_INTERFACES)) {
            String v = e.trim().toLowerCase(java.util.Locale.ROOT);
            if (v.equals("all")) {
                return Collections.singletonList(null);
            }
            if (v.equals("loopback-only")) {
                String protocols = String.join(",", c.get(Parameters.INET_PROTOCOLS)).toLowerCase(java.util.Locale.ROOT);
                boolean v6 = protocols.contains("ipv6") || protocols.contains("all");
                boolean v4 = protocols.contains("ipv4") || protocols.contains("all") || !v6;
                if (v4) {
                    out.add("127.0.0.1");
                }
                if (v6 && hasIpv6Loopback()) {
                    out.add("::1");
                }
            } else if (!v.isEmpty()) {
                out.add(v.startsWith("[") && v.endsWith("]") ? v.substring(1, v.length() - 1) : v);
            }
        }
        if (out.isEmpty()) {
            throw new ConfigException("inet_interfaces", 0, "no address to listen on");
        }
        return List.copyOf(new java.util.LinkedHashSet<>(out));
    }

    /** hasIpv6Loopback - true when ::1 is configured here (Postfix, too, skips IPv6 it cannot use). */
    private static boolean hasIpv6Loopback() {
        try {
            return java.net.NetworkInterface.getByInetAddress(java.net.InetAddress.getByName("::1")) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * sslContext - the server TLS context when TLS is wanted (a security level other than
     * none, or wrapper mode): smtpd_tls_cert_file (PEM chain) and smtpd_tls_key_file (PEM
     * PKCS#8 key; the default is the certificate file, which may hold both), or a Java key
     * store, smtpd_tls_keystore_file. A missing or unreadable file fails the start rather
     * than silently disabling TLS.
     */
    static SslContext sslContext(Config c) {
        boolean wanted = SmtpdSettings.TlsLevel.parse(c.get(Parameters.SMTPD_TLS_SECURITY_LEVEL)) != SmtpdSettings.TlsLevel.NONE
                || c.get(Parameters.SMTPD_TLS_WRAPPERMODE);
        if (!wanted) {
            return null;
        }
        String cert = c.get(Parameters.SMTPD_TLS_CERT_FILE);
        String key = c.get(Parameters.SMTPD_TLS_KEY_FILE);
        String store = c.get(Parameters.SMTPD_TLS_KEYSTORE_FILE).trim();
        if (!store.isEmpty()) {
            if (!cert.isEmpty()) {
                throw new ConfigException("smtpd_tls_keystore_file", 0, "specify either smtpd_tls_keystore_file or "
                        + "smtpd_tls_cert_file and smtpd_tls_key_file, not both");
            }
            return keyStoreContext(c, store);
        }
        if (cert.isEmpty() || key.isEmpty()) {
            throw new ConfigException("smtpd_tls_cert_file", 0, "TLS is enabled (smtpd_tls_security_level = "
                    + c.get(Parameters.SMTPD_TLS_SECURITY_LEVEL) + ", smtpd_tls_wrappermode = "
                    + (c.get(Parameters.SMTPD_TLS_WRAPPERMODE) ? "yes" : "no")
                    + ") but smtpd_tls_cert_file or smtpd_tls_key_file is empty (or set smtpd_tls_keystore_file)");
        }
        try {
            return SslContextBuilder.forServer(new File(cert), new File(key)).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("smtpd_tls_cert_file", 0, "cannot load certificate " + cert + " and key "
                    + key + ": " + e.getMessage(), e);
        }
    }

    /**
     * keyStoreContext - the server context of a PKCS#12 or JKS key store: the entry named
     * by smtpd_tls_keystore_alias, or the only private key in the store. A relative file
     * name is found in WildFly's configuration directory, where its key stores live.
     */
    static SslContext keyStoreContext(Config c, String file) {
        Path path = Path.of(file);
        String configDir = System.getProperty("jboss.server.config.dir");
        if (!path.isAbsolute() && configDir != null) {
            path = Path.of(configDir).resolve(path);
        }
        char[] password = c.get(Parameters.SMTPD_TLS_KEYSTORE_PASSWORD).toCharArray();
        String alias = c.get(Parameters.SMTPD_TLS_KEYSTORE_ALIAS).trim();
        try {
            KeyStore store = KeyStore.getInstance(c.get(Parameters.SMTPD_TLS_KEYSTORE_TYPE));
            try (InputStream in = Files.newInputStream(path)) {
                store.load(in, password);
            }
            List<String> keys = new ArrayList<>();
            for (String a : Collections.list(store.aliases())) {
                if (store.isKeyEntry(a)) {
                    keys.add(a);
                }
            }
            if (alias.isEmpty()) {
                if (keys.size() != 1) {
                    throw new ConfigException("smtpd_tls_keystore_alias", 0, path + " holds " + keys.size()
                            + " private keys " + keys + ": name one with smtpd_tls_keystore_alias");
                }
                alias = keys.get(0);
            } else if (!keys.contains(alias)) {
                throw new ConfigException("smtpd_tls_keystore_alias", 0, path + " has no private key \"" + alias
                        + "\" (its keys: " + keys + ")");
            }
            // only that entry, so the key manager cannot pick another
            KeyStore one = KeyStore.getInstance("PKCS12");
            one.load(null, null);
            one.setKeyEntry(alias, store.getKey(alias, password), password, store.getCertificateChain(alias));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(one, password);
            return SslContextBuilder.forServer(kmf).build();
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException("smtpd_tls_keystore_file", 0, "cannot load key store " + path + ": " + e, e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /**
     * authenticator - the SASL back end of smtpd_sasl_type when smtpd_sasl_auth_enable =
     * yes: elytron (Postern's default), the WildFly Elytron security domain of the
     * endpoint's deployment, asked through the endpoint; or dovecot, a Dovecot auth server
     * at smtpd_sasl_path. Cyrus SASL has no JVM implementation: cyrus (Postfix's default,
     * often left in a copied main.cf) uses the security domain as well, with a warning,
     * rather than silently offering no AUTH.
     */
    static SmtpdAuthenticator authenticator(Config c, String serviceName, SmtpdListener listener) {
        if (!c.get(Parameters.SMTPD_SASL_AUTH_ENABLE)) {
            return null;
        }
        switch (c.get(Parameters.SMTPD_SASL_TYPE)) {
            case "dovecot":
                try {
                    // smtpd_sasl_path = private/auth (Postfix + Dovecot's usual setting) is under queue_directory
                    String path = c.get(Parameters.SMTPD_SASL_PATH).trim();
                    return new DovecotAuthenticator(path.startsWith("inet:") ? path : c.socketPath(path),
                            c.get(Parameters.SMTPD_TIMEOUT));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("smtpd_sasl_path", 0, e.getMessage(), e);
                }
            case "cyrus":
                LOG.warning("PSTN2110: service " + serviceName + ": smtpd_sasl_type = cyrus is not available in "
                        + "Postern; AUTH is checked by the WildFly Elytron security domain (smtpd_sasl_type = "
                        + "elytron)");
                break;
            default:
                break;
        }
        return listener == null ? null : new EndpointAuthenticator(listener);
    }

    /**
     * EndpointAuthenticator - smtpd_sasl_type = elytron: the endpoint checks the
     * credentials against its deployment's security domain; an endpoint that cannot
     * answer is a temporary failure (454), never a success.
     */
    static final class EndpointAuthenticator implements SmtpdAuthenticator {
        private final SmtpdListener listener;

        EndpointAuthenticator(SmtpdListener listener) {
            this.listener = listener;
        }

        @Override
        public boolean authenticate(String authzid, String username, char[] password) {
            try {
                return listener.authenticate(authzid, username, password);
            } catch (EnqueueException e) {
                throw new IllegalStateException("PSTN2111: security domain unavailable: " + e.getMessage(), e);
            }
        }
    }

    /**
     * spoolDirectory - where content waits between the final dot and the endpoint's commit:
     * the server's temporary directory, which WildFly empties at start (nothing there is
     * ever the only copy of a message that got a 250).
     */
    static Path spoolDirectory() {
        String tmp = System.getProperty("jboss.server.temp.dir", System.getProperty("java.io.tmpdir"));
        return Path.of(tmp, "postern", "spool");
    }
}
