package org.postern.dns;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

/**
 * DnsServers - the name servers that Postern asks, and the dnsjava resolver that asks them.
 *
 * <h2>DESCRIPTION</h2>
 * The one place where dnsjava's resolver is set up, for both users of DNS in the resource
 * adapter: smtpd's DNS restrictions ({@code org.postern.smtpd.policy.DnsJavaLookup}:
 * reject_unknown_*, reject_rbl_client, reject_rhsbl_*, the client's PTR) and the SMTP
 * client's MX and address lookups ({@code org.postern.smtp.dns.DnsJavaResolver}). Both
 * therefore ask the same servers, named the same way.
 *
 * <p>The servers are those of /etc/resolv.conf unless the system property
 * {@value #PROPERTY} names others, comma separated, each one {@code host},
 * {@code host:port}, {@code [ipv6]}, {@code [ipv6]:port} or a bare IPv6 address; the
 * port defaults to 53. Tests and benchmarks use it to reach dnsmasq on a loopback port
 * ({@code -Dpostern.dns.servers=127.0.0.1:14053}). Each user chooses its own query
 * timeout: an SMTP session waits for smtpd's checks, a delivery does not.
 *
 * <h2>SECURITY</h2>
 * Answers are trusted as the configured servers give them (no DNSSEC validation), as
 * Postfix trusts its resolver. The property is read from the JVM, never from a client.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * {@value #PROPERTY} (system property, not a main.cf parameter): the name servers;
 * empty or unset means resolv.conf. Read when a resolver is made from the system
 * settings, so a change needs a restart.
 *
 * <h2>BUGS</h2>
 * resolv.conf options (search, ndots) do not apply: every name is asked as an absolute
 * name, as Postfix does with RES_DEFNAMES and RES_DNSRCH off.
 *
 * <h2>SEE ALSO</h2>
 * DnsJavaLookup (smtpd), DnsJavaResolver (SMTP client), resolv.conf(5).
 */
public final class DnsServers {
    /** the system property that names the DNS servers; unset or empty: resolv.conf */
    public static final String PROPERTY = "postern.dns.servers";

    private DnsServers() {
    }

    /** fromSystem - the servers named by {@value #PROPERTY}; empty for resolv.conf. */
    public static List<String> fromSystem() {
        return parseList(System.getProperty(PROPERTY, ""));
    }

    /** parseList - a comma separated list of servers; empty for a blank one. */
    public static List<String> parseList(String value) {
        String p = value == null ? "" : value.trim();
        return p.isEmpty() ? List.of() : List.of(p.split("\\s*,\\s*"));
    }

    /**
     * resolver - a dnsjava resolver for these servers (the forms of {@value #PROPERTY});
     * empty for resolv.conf. A server that is not an address or host:port is refused
     * with IllegalArgumentException.
     */
    public static Resolver resolver(List<String> servers, Duration timeout) {
        Resolver r;
        try {
            if (servers.isEmpty()) {
                r = new ExtendedResolver();
            } else {
                List<Resolver> rs = new ArrayList<>();
                for (String s : servers) {
                    rs.add(new SimpleResolver(parse(s)));
                }
                r = new ExtendedResolver(rs);
            }
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("PSTN3201: bad DNS server in " + servers + ": " + e.getMessage(), e);
        }
        r.setTimeout(timeout);
        return r;
    }

    /** parse - one server: host, host:port, [v6], [v6]:port or a bare IPv6 address; port 53 by default. */
    static InetSocketAddress parse(String hostPort) throws UnknownHostException {
        String host = hostPort;
        int port = 53;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0) {
                throw new UnknownHostException(hostPort);
            }
            host = hostPort.substring(1, close);
            if (hostPort.startsWith(":", close + 1)) {
                port = Integer.parseInt(hostPort.substring(close + 2));
            }
        } else if (hostPort.indexOf(':') >= 0 && hostPort.indexOf(':') == hostPort.lastIndexOf(':')) {
            // host:port; more than one colon is a bare IPv6 address
            host = hostPort.substring(0, hostPort.indexOf(':'));
            port = Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1));
        }
        return new InetSocketAddress(InetAddress.getByName(host), port);
    }
}
