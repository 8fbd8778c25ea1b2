package org.postern.smtpd.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.postern.dns.DnsServers;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;

/**
 * DnsJavaLookup - {@link DnsLookup} on dnsjava's asynchronous resolver: queries go out
 * without a thread waiting for them, any number at a time.
 *
 * <h2>DESCRIPTION</h2>
 * The name servers and the dnsjava resolver that asks them come from
 * {@link DnsServers}, shared with the SMTP client: those of resolv.conf unless the system
 * property {@code postern.dns.servers} names others. Each query times out after 5 seconds.
 * Answers are kept in a {@link DnsCache} for their TTL, NXDOMAIN and "no such record"
 * included (RFC 2308); while a query for a name and type is out, other sessions asking
 * the same wait for that one instead of sending their own.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_dns_cache_size, smtpd_dns_cache_max_ttl, smtpd_dns_negative_ttl (Postern), see
 * {@link DnsCache}.
 */
public final class DnsJavaLookup implements DnsLookup {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    /** The parameters' defaults: smtpd_dns_cache_size, smtpd_dns_cache_max_ttl, smtpd_dns_negative_ttl. */
    public static final int DEFAULT_CACHE_SIZE = 10_000;
    public static final Duration DEFAULT_CACHE_MAX_TTL = Duration.ofHours(1);
    public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofSeconds(60);

    private final Resolver resolver;
    private final DnsCache cache;
    /** the queries out now, by cache key: one per name and type however many sessions ask */
    private final java.util.concurrent.ConcurrentHashMap<String, CompletableFuture<Answer>> inFlight =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** DnsJavaLookup - query these servers ({@code host:port}); empty for resolv.conf; the default cache. */
    public DnsJavaLookup(List<String> servers, Duration timeout) {
        this(servers, timeout, DEFAULT_CACHE_SIZE, DEFAULT_CACHE_MAX_TTL, DEFAULT_NEGATIVE_TTL);
    }

    /** DnsJavaLookup - with a cache of cacheSize answers (0: none), TTLs capped at maxTtl. */
    public DnsJavaLookup(List<String> servers, Duration timeout, int cacheSize, Duration maxTtl,
                         Duration negativeTtl) {
        resolver = DnsServers.resolver(servers, timeout);
        cache = new DnsCache(cacheSize, maxTtl.toSeconds(), negativeTtl.toSeconds(), System::nanoTime);
    }

    /** fromSystem - the servers of postern.dns.servers ({@link DnsServers}), or resolv.conf; the default cache. */
    public static DnsJavaLookup fromSystem() {
        return fromSystem(DEFAULT_CACHE_SIZE, DEFAULT_CACHE_MAX_TTL, DEFAULT_NEGATIVE_TTL);
    }

    /** fromSystem - the same with these cache parameters. */
    public static DnsJavaLookup fromSystem(int cacheSize, Duration maxTtl, Duration negativeTtl) {
        return new DnsJavaLookup(DnsServers.fromSystem(), Duration.ofSeconds(5), cacheSize, maxTtl, negativeTtl);
    }

    /** cached - the number of answers kept now (monitoring, tests). */
    public int cached() {
        return cache.size();
    }

    @Override
    public CompletableFuture<Answer> lookup(String name, Type type) {
        String key = DnsAnswers.key(type, name);
        Answer known = cache.get(key);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        CompletableFuture<Answer> mine = new CompletableFuture<>();
        CompletableFuture<Answer> out = inFlight.putIfAbsent(key, mine);
        if (out != null) {
            return out; // the same query is on its way for another session
        }
        query(name, type).whenComplete((timed, error) -> {
            Answer a = error != null ? Answer.TEMP_FAIL : timed.answer();
            if (error == null) {
                cache.put(key, a, timed.ttl());
            }
            inFlight.remove(key, mine); // after the cache has it: no gap for a new asker
            mine.complete(a);
        });
        return mine;
    }

    /** Timed - an answer and its TTL in seconds (-1: negative without SOA). */
    private record Timed(Answer answer, long ttl) {
    }

    /** query - one query to the name servers; never completes exceptionally. */
    private CompletableFuture<Timed> query(String name, Type type) {
        Name qname;
        int qtype;
        try {
            if (type == Type.PTR) {
                qname = ReverseMap.fromAddress(InetAddress.getByName(literal(name)));
            } else {
                qname = Name.fromString(name.endsWith(".") ? name : name + ".");
            }
            qtype = org.xbill.DNS.Type.value(type.name());
        } catch (TextParseException | UnknownHostException e) {
            // not a name: nothing to ask, nothing worth keeping
            return CompletableFuture.completedFuture(new Timed(new Answer(Status.NOT_FOUND, List.of()), 0));
        }
        Message query = Message.newQuery(org.xbill.DNS.Record.newRecord(qname, qtype, DClass.IN));
        CompletableFuture<Timed> result = new CompletableFuture<>();
        try {
            resolver.sendAsync(query).whenComplete((response, error) -> {
                if (error != null) {
                    LOG.log(Level.FINE, "PSTN1111: DNS " + type + " " + name + ": " + error);
                    result.complete(new Timed(Answer.TEMP_FAIL, 0));
                } else {
                    Answer a = answer(response, type);
                    result.complete(new Timed(a, ttl(response, a)));
                }
            });
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "PSTN1111: DNS " + type + " " + name + ": " + e);
            result.complete(new Timed(Answer.TEMP_FAIL, 0));
        }
        return result;
    }

    /** literal - an address literal, never a name to resolve (PTR queries take addresses only). */
    private static String literal(String address) throws UnknownHostException {
        if (!Hostnames.validHostaddr(address)) {
            throw new UnknownHostException("not an address: " + address);
        }
        return address;
    }

    private static Answer answer(Message response, Type type) {
        int rcode = response.getRcode();
        if (rcode == Rcode.NXDOMAIN) {
            return new Answer(Status.NOT_FOUND, List.of());
        }
        if (rcode != Rcode.NOERROR) {
            return Answer.TEMP_FAIL;
        }
        List<String> values = new ArrayList<>();
        for (org.xbill.DNS.Record r : response.getSection(Section.ANSWER)) {
            if (r instanceof ARecord a && type == Type.A) {
                values.add(a.getAddress().getHostAddress());
            } else if (r instanceof AAAARecord a && type == Type.AAAA) {
                values.add(a.getAddress().getHostAddress());
            } else if (r instanceof MXRecord mx && type == Type.MX) {
                values.add(stripDot(mx.getTarget().toString()));
            } else if (r instanceof PTRRecord ptr && type == Type.PTR) {
                values.add(stripDot(ptr.getTarget().toString()));
            } else if (r instanceof TXTRecord txt && type == Type.TXT) {
                values.add(String.join("", txt.getStrings()));
            }
        }
        return new Answer(values.isEmpty() ? Status.NOT_FOUND : Status.FOUND, values);
    }

    /**
     * ttl - how long the answer may be kept: the smallest TTL of the answer section; for a
     * negative answer the smaller of the authority SOA's TTL and MINIMUM (RFC 2308
     * section 5), or -1 without SOA.
     */
    private static long ttl(Message response, Answer a) {
        if (a.status() == Status.FOUND) {
            long min = Long.MAX_VALUE;
            for (org.xbill.DNS.Record r : response.getSection(Section.ANSWER)) {
                min = Math.min(min, r.getTTL());
            }
            return min == Long.MAX_VALUE ? 0 : min;
        }
        for (org.xbill.DNS.Record r : response.getSection(Section.AUTHORITY)) {
            if (r instanceof org.xbill.DNS.SOARecord soa) {
                return Math.min(soa.getTTL(), soa.getMinimum());
            }
        }
        return -1;
    }

    private static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
