package org.postern.qmgr;

import org.postern.config.Parameters;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.maps.DomainList;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;
import org.postern.service.ConfigService;
import org.postern.smtp.api.NextHop;

/**
 * TransportResolver - the next hop of a recipient (Postfix's trivial-rewrite resolver and
 * transport(5) lookups, the part the queue manager needs).
 *
 * <h2>DESCRIPTION</h2>
 * transport_maps are searched with the full address, then the domain, then each parent
 * domain as ".parent", then "*". A result is transport:nexthop; an empty transport keeps
 * the default one, an empty nexthop keeps the default next hop. Without a match the
 * transport follows the address class, as trivial-rewrite's does: local_transport for
 * mydestination, virtual_transport for virtual_mailbox_domains, relay_transport for
 * relay_domains, default_transport for the rest. The next hop is, in decreasing
 * precedence, the next hop written in that transport (smtp:[host]:port), relayhost (for
 * relay and default only), or the recipient domain.
 *
 * <p>A recipient of virtual_alias_domains that cleanup did not rewrite (no alias) and
 * that transport_maps do not route bounces with 5.1.1 "User unknown in virtual alias
 * table", as Postfix's error transport does for that class.
 *
 * <p>Postern has no local(8) and no virtual(8). With local_transport's default
 * ({@code local:$myhostname}) mail for mydestination goes to mailbox_transport when it is
 * set (what local(8) would do for a mailbox, without aliases or .forward files); the
 * transports local and virtual are otherwise "mail transport unavailable", a deferral
 * that keeps the mail until the administrator names an lmtp or smtp transport.
 * A relative UNIX-domain socket (lmtp:unix:private/dovecot-lmtp) is found under
 * queue_directory, as in Postfix.
 *
 * <p>Next-hop forms: smtp (and relay) take {@code [host]:port}, {@code [host]},
 * {@code host:port} and {@code host} (MX lookup without brackets); lmtp takes
 * {@code inet:host:port}, {@code inet:host} (port lmtp_tcp_port), {@code unix:/path} and
 * {@code host:port}.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * transport_maps (empty), default_transport (smtp), relay_transport (relay),
 * relay_domains (empty), relayhost (empty), lmtp_tcp_port (24), mydestination,
 * local_transport (local:$myhostname), mailbox_transport (empty),
 * virtual_mailbox_domains ($virtual_mailbox_maps), virtual_transport (virtual),
 * virtual_alias_domains ($virtual_alias_maps),
 * queue_directory (/var/spool/postfix).
 */
public final class TransportResolver {
    private final List<LookupTable> maps = new ArrayList<>();
    private final String defaultTransport;
    private final String relayTransport;
    private final String localTransport;
    private final String virtualTransport;
    private final DomainList mydestination;
    private final DomainList virtualDomains;
    private final DomainList aliasDomains;
    private final DomainList relayDomains;
    private final Config config;
    private final String relayhost;
    private final int lmtpPort;

    /** master.cf services that are delivery agents: name -> smtp or lmtp */
    private final Map<String, String> services;

    /**
     * inForce - the resolver of the configuration in force, with the delivery services of
     * master.cf; made once per configuration, so that a texthash table is read when the
     * resolver is made, not for every delivery round.
     */
    public static TransportResolver inForce(ConfigService configService) {
        return configService.derived(TransportResolver.class,
                (java.util.function.BiFunction<Config, Map<String, String>, TransportResolver>) TransportResolver::new);
    }

    public TransportResolver(Config config) throws ConfigException {
        this(config, Map.of());
    }

    /**
     * TransportResolver - with the delivery services of master.cf, so that a transport
     * name such as "etrn-only" in {@code etrn-only unix - - n - - smtp} is an smtp(8)
     * client of its own name (for defer_transports, the ETRN howto's etrn-only domains).
     */
    public TransportResolver(Config config, Map<String, String> services) throws ConfigException {
        this.services = Map.copyOf(services);
        for (String spec : config.get(Parameters.TRANSPORT_MAPS)) {
            maps.add(LookupTables.open(spec));
        }
        defaultTransport = config.get(Parameters.DEFAULT_TRANSPORT);
        relayTransport = config.get(Parameters.RELAY_TRANSPORT);
        relayDomains = DomainList.parse(config.get(Parameters.RELAY_DOMAINS), true, "relay_domains");
        mydestination = DomainList.parse(config.get(Parameters.MYDESTINATION), false, "mydestination");
        virtualDomains = DomainList.parse(config.get(Parameters.VIRTUAL_MAILBOX_DOMAINS), false,
                "virtual_mailbox_domains");
        aliasDomains = DomainList.parse(config.get(Parameters.VIRTUAL_ALIAS_DOMAINS), false, "virtual_alias_domains");
        String local = config.get(Parameters.LOCAL_TRANSPORT).trim();
        String mailbox = config.get(Parameters.MAILBOX_TRANSPORT).trim();
        // no local(8) here: its mailbox delivery is what mailbox_transport names
        localTransport = isTransport(local, "local") && !mailbox.isEmpty() ? mailbox : local;
        virtualTransport = config.get(Parameters.VIRTUAL_TRANSPORT).trim();
        this.config = config;
        relayhost = config.get(Parameters.RELAYHOST).trim();
        lmtpPort = port(config.get(Parameters.LMTP_TCP_PORT).trim(), "lmtp_tcp_port");
    }

    /** Route - a resolved next hop, or the reason why there is none. */
    public record Route(NextHop hop, String transport, String error, String bounceDsn) {
        Route(NextHop hop, String transport, String error) {
            this(hop, transport, error, null);
        }

        boolean ok() {
            return hop != null;
        }
    }

    /** resolve - where mail for the recipient goes. */
    public Route resolve(String recipient) {
        String rcpt = recipient.toLowerCase(Locale.ROOT);
        int at = rcpt.lastIndexOf('@');
        String domain = at < 0 ? "" : rcpt.substring(at + 1);
        if (domain.endsWith(".")) {
            domain = domain.substring(0, domain.length() - 1);
        }
        String transport;
        String nexthop = domain;
        if (!domain.startsWith("[") && aliasDomains.matches(domain) && lookup(rcpt, domain).isEmpty()) {
            // cleanup rewrote every alias of these domains: what is left has no mailbox anywhere
            // (trivial-rewrite's error transport for virtual alias domains)
            return new Route(null, "error", "User unknown in virtual alias table", "5.1.1");
        }
        if (!domain.startsWith("[") && mydestination.matches(domain)) {
            transport = localTransport;
        } else if (!domain.startsWith("[") && virtualDomains.matches(domain)) {
            transport = virtualTransport;
        } else {
            transport = !domain.startsWith("[") && relayDomains.matches(domain) ? relayTransport : defaultTransport;
            nexthop = relayhost.isEmpty() ? domain : relayhost;
        }
        // default_transport = smtp:[host]:port: its next hop wins over relayhost (postconf(5))
        int split = transport.indexOf(':');
        if (split >= 0) {
            String n = transport.substring(split + 1).trim();
            transport = transport.substring(0, split).trim();
            if (!n.isEmpty()) {
                nexthop = n;
            }
        }

        Optional<String> entry = lookup(rcpt, domain);
        if (entry.isPresent()) {
            String value = entry.get().trim();
            int colon = value.indexOf(':');
            String t = colon < 0 ? value : value.substring(0, colon);
            String n = colon < 0 ? "" : value.substring(colon + 1);
            if (!t.isEmpty()) {
                transport = t;
                // a transport given without next hop delivers to the recipient domain
                nexthop = domain;
            }
            if (!n.isEmpty()) {
                nexthop = n;
            }
        }
        return route(transport, nexthop);
    }

    private Optional<String> lookup(String rcpt, String domain) {
        if (maps.isEmpty()) {
            return Optional.empty();
        }
        List<String> keys = new ArrayList<>();
        keys.add(rcpt);
        if (!domain.isEmpty()) {
            keys.add(domain);
            for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
                keys.add(domain.substring(dot));
            }
        }
        keys.add("*");
        for (String key : keys) {
            for (LookupTable t : maps) {
                Optional<String> v = t.lookup(key);
                if (v.isPresent()) {
                    return v;
                }
            }
        }
        return Optional.empty();
    }

    /** route - a transport name and next hop as written in transport(5), parsed. */
    Route route(String transport, String nexthop) {
        String t = transport.toLowerCase(Locale.ROOT);
        try {
            switch (t) {
                case "smtp", "relay":
                    return new Route(smtpHop(nexthop), t, null);
                case "lmtp":
                    return new Route(lmtpHop(nexthop), t, null);
                default:
                    String command = services.get(t);
                    if ("smtp".equals(command)) {
                        return new Route(smtpHop(nexthop), t, null);
                    }
                    if ("lmtp".equals(command)) {
                        return new Route(lmtpHop(nexthop), t, null);
                    }
                    return new Route(null, t, "mail transport unavailable");
            }
        } catch (IllegalArgumentException e) {
            return new Route(null, t, "bad next hop: " + e.getMessage());
        }
    }

    /** isTransport - true when spec (transport[:nexthop]) names the transport name. */
    private static boolean isTransport(String spec, String name) {
        int colon = spec.indexOf(':');
        return (colon < 0 ? spec : spec.substring(0, colon)).trim().equalsIgnoreCase(name);
    }

    private static NextHop smtpHop(String nexthop) {
        return NextHop.parseSmtp(nexthop);
    }

    private NextHop lmtpHop(String nexthop) {
        String s = nexthop.trim();
        if (s.startsWith("unix:")) {
            String path = s.substring(5);
            if (path.isEmpty()) {
                throw new IllegalArgumentException(nexthop);
            }
            // lmtp:unix:private/dovecot-lmtp is relative to the queue directory (lmtp(8))
            return NextHop.lmtpUnix(config.socketPath(path));
        }
        if (s.startsWith("inet:")) {
            s = s.substring(5);
        }
        if (s.startsWith("/")) {
            return NextHop.lmtpUnix(s);
        }
        String host;
        String rest;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(nexthop);
            }
            host = s.substring(1, close);
            rest = s.substring(close + 1);
        } else {
            int colon = s.lastIndexOf(':');
            host = colon < 0 ? s : s.substring(0, colon);
            rest = colon < 0 ? "" : s.substring(colon);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException(nexthop);
        }
        return NextHop.lmtpInet(host, rest.isEmpty() ? lmtpPort : port(rest.substring(1), nexthop));
    }

    private static int port(String p, String nexthop) {
        return NextHop.port(p, nexthop);
    }
}
