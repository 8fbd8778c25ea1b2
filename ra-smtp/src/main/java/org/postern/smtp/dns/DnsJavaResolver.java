package org.postern.smtp.dns;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * DnsJavaResolver - {@link DnsResolver} on dnsjava, with its own positive and negative
 * cache (TTL-bound), so that mail to one domain does not cost a lookup per message.
 *
 * <p>The name servers are those of resolv.conf unless the system property
 * {@code postern.dns.servers} (comma separated {@code host:port}) names others, as tests
 * do to reach dnsmasq on a loopback port.
 */
public final class DnsJavaResolver implements DnsResolver {

    public static final String SERVERS_PROPERTY = "postern.dns.servers";

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");

    private static volatile DnsJavaResolver system;

    private final Resolver resolver;
    private final Cache cache = new Cache(DClass.IN);

    /** DnsJavaResolver - query these servers ({@code host:port}); empty for resolv.conf. */
    public DnsJavaResolver(List<String> servers, Duration timeout) {
        resolver = resolver(servers, timeout);
    }

    /**
     * resolver - a dnsjava resolver for these servers ({@code host}, {@code host:port},
     * {@code [v6]:port}, a bare IPv6 address); empty for resolv.conf. Shared with smtpd's
     * DNS checks, so that both sides read postern.dns.servers alike.
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

    /** system - the shared resolver, configured from {@value #SERVERS_PROPERTY} or resolv.conf. */
    public static DnsJavaResolver system() {
        DnsJavaResolver r = system;
        if (r == null) {
            synchronized (DnsJavaResolver.class) {
                r = system;
                if (r == null) {
                    String p = System.getProperty(SERVERS_PROPERTY, "").trim();
                    List<String> servers = p.isEmpty() ? List.of() : List.of(p.split("\\s*,\\s*"));
                    r = new DnsJavaResolver(servers, Duration.ofSeconds(10));
                    if (!servers.isEmpty()) {
                        LOG.info("PSTN3200: DNS servers from " + SERVERS_PROPERTY + ": " + servers);
                    }
                    system = r;
                }
            }
        }
        return r;
    }

    private static InetSocketAddress parse(String hostPort) throws UnknownHostException {
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

    @Override
    public List<MxRecord> lookupMx(String domain) throws DnsLookupException {
        List<MxRecord> out = new ArrayList<>();
        for (Record r : run(domain, Type.MX)) {
            if (r instanceof MXRecord mx) {
                String target = mx.getTarget().toString(true);
                out.add(new MxRecord(mx.getPriority(), target.equals(".") ? "" : target));
            }
        }
        return out;
    }

    @Override
    public List<InetAddress> lookupAddresses(String host) throws DnsLookupException {
        List<InetAddress> out = new ArrayList<>();
        DnsLookupException first = null;
        for (int type : new int[] {Type.A, Type.AAAA}) {
            try {
                for (Record r : run(host, type)) {
                    if (r instanceof ARecord a) {
                        out.add(a.getAddress());
                    } else if (r instanceof AAAARecord a) {
                        out.add(a.getAddress());
                    }
                }
            } catch (DnsLookupException e) {
                if (e.kind() == DnsLookupException.Kind.NOT_FOUND) {
                    throw e;
                }
                first = first == null ? e : first;
            }
        }
        if (out.isEmpty() && first != null) {
            throw first;
        }
        return out;
    }

    /* run - one query; the name is absolute, so no search list applies (as Postfix with RES_DEFNAMES off) */
    private List<Record> run(String name, int type) throws DnsLookupException {
        Lookup lookup;
        try {
            lookup = new Lookup(Name.fromString(name, Name.root), type, DClass.IN);
        } catch (TextParseException e) {
            throw new DnsLookupException(DnsLookupException.Kind.NOT_FOUND,
                    "Name service error for " + name + ": invalid host or domain name");
        }
        lookup.setResolver(resolver);
        lookup.setCache(cache);
        Record[] records = lookup.run();
        switch (lookup.getResult()) {
            case Lookup.SUCCESSFUL:
                return records == null ? List.of() : List.of(records);
            case Lookup.TYPE_NOT_FOUND:
                return List.of();
            case Lookup.HOST_NOT_FOUND:
                throw new DnsLookupException(DnsLookupException.Kind.NOT_FOUND, "Host not found");
            default:
                // TRY_AGAIN and UNRECOVERABLE (SERVFAIL, REFUSED, timeouts): never a bounce
                throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "Host not found, try again");
        }
    }
}
