package org.postern.smtp.dns;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

import org.postern.dns.DnsServers;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * DnsJavaResolver - {@link DnsResolver} on dnsjava, with its own positive and negative
 * cache (TTL-bound), so that mail to one domain does not cost a lookup per message.
 *
 * <p>The name servers and the dnsjava resolver that asks them come from
 * {@link DnsServers}: those of resolv.conf unless the system property
 * {@code postern.dns.servers} names others, the same for smtpd's DNS checks. Queries of
 * {@link #system()} time out after 10 seconds.
 */
public final class DnsJavaResolver implements DnsResolver {

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");

    private static volatile DnsJavaResolver system;

    private final Resolver resolver;
    private final Cache cache = new Cache(DClass.IN);

    /** DnsJavaResolver - query these servers ({@code host:port}); empty for resolv.conf. */
    public DnsJavaResolver(List<String> servers, Duration timeout) {
        resolver = DnsServers.resolver(servers, timeout);
    }

    /** system - the shared resolver, configured from {@link DnsServers#PROPERTY} or resolv.conf. */
    public static DnsJavaResolver system() {
        DnsJavaResolver r = system;
        if (r == null) {
            synchronized (DnsJavaResolver.class) {
                r = system;
                if (r == null) {
                    List<String> servers = DnsServers.fromSystem();
                    r = new DnsJavaResolver(servers, Duration.ofSeconds(10));
                    if (!servers.isEmpty()) {
                        LOG.info("PSTN3200: DNS servers from " + DnsServers.PROPERTY + ": " + servers);
                    }
                    system = r;
                }
            }
        }
        return r;
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

    /**
     * lookupSecure - a query with the DO and AD bits, sent past the cache (the AD bit of each
     * reply counts); a truncated reply is asked again over TCP by dnsjava.
     */
    @Override
    public SecureAnswer lookupSecure(String name, int type) throws DnsLookupException {
        Name qname;
        try {
            qname = Name.fromString(name, Name.root);
        } catch (TextParseException e) {
            throw new DnsLookupException(DnsLookupException.Kind.NOT_FOUND,
                    "Name service error for " + name + ": invalid host or domain name");
        }
        Message query = Message.newQuery(Record.newRecord(qname, type, DClass.IN));
        query.getHeader().setFlag(Flags.AD);
        query.addRecord(new OPTRecord(1232, 0, 0, ExtendedFlags.DO), Section.ADDITIONAL);
        Message reply;
        try {
            reply = resolver.send(query);
        } catch (java.io.IOException e) {
            throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "Host not found, try again");
        }
        int rcode = reply.getRcode();
        boolean ad = reply.getHeader().getFlag(Flags.AD);
        if (rcode == Rcode.NXDOMAIN) {
            return new SecureAnswer(List.of(), true, ad);
        }
        if (rcode != Rcode.NOERROR) {
            // SERVFAIL: with a validating resolver also a bogus answer
            throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "Host not found, try again");
        }
        List<Record> out = new ArrayList<>();
        for (Record r : reply.getSection(Section.ANSWER)) {
            if (r.getType() == type) {
                out.add(r);
            }
        }
        return new SecureAnswer(out, false, ad);
    }

    @Override
    public List<String> lookupTxt(String name) throws DnsLookupException {
        List<String> out = new ArrayList<>();
        for (Record r : run(name, Type.TXT)) {
            if (r instanceof TXTRecord txt) {
                out.add(String.join("", txt.getStrings()));   // RFC 8461 section 3.1: strings are concatenated
            }
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
