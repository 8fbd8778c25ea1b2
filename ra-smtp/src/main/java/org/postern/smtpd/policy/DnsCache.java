package org.postern.smtpd.policy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * DnsCache - the answers of {@link DnsJavaLookup}, positive and negative, kept for their
 * time to live, so that a client that connects again (or a burst of clients from one
 * network) costs no query.
 *
 * <h2>DESCRIPTION</h2>
 * An answer is kept for its TTL: the smallest TTL of the answer records; for NXDOMAIN
 * and "no records of the type", the negative TTL of RFC 2308 section 5 (the SOA of the
 * authority section: the smaller of its TTL and its MINIMUM field) or, for a reply
 * without SOA (as dnsmasq's for a --local zone), smtpd_dns_negative_ttl. Every TTL is
 * capped by smtpd_dns_cache_max_ttl. Temporary failures (SERVFAIL, timeouts) are not
 * kept. At most smtpd_dns_cache_size answers are kept; past that the least recently
 * used goes. The lock is held for a map operation only, never across a query.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_dns_cache_size (0: no cache), smtpd_dns_cache_max_ttl, smtpd_dns_negative_ttl
 * (Postern parameters).
 *
 * <h2>BUGS</h2>
 * One cache per listener configuration: a redeploy starts empty, and services do not share
 * answers.
 */
final class DnsCache {
    private record Entry(DnsLookup.Answer answer, long expiresNanos) {
    }

    private final int maxSize;
    private final long maxTtlSeconds;
    private final long negativeTtlSeconds;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> entries;

    DnsCache(int maxSize, long maxTtlSeconds, long negativeTtlSeconds, LongSupplier nanoTime) {
        this.maxSize = Math.max(0, maxSize);
        this.maxTtlSeconds = Math.max(0, maxTtlSeconds);
        this.negativeTtlSeconds = Math.max(0, negativeTtlSeconds);
        this.nanoTime = nanoTime;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > DnsCache.this.maxSize;
            }
        };
    }

    /** get - the live answer for the key, or null. */
    DnsLookup.Answer get(String key) {
        if (maxSize == 0) {
            return null;
        }
        synchronized (entries) {
            Entry e = entries.get(key);
            if (e == null) {
                return null;
            }
            if (nanoTime.getAsLong() - e.expiresNanos >= 0) {
                entries.remove(key);
                return null;
            }
            return e.answer;
        }
    }

    /**
     * put - keep an answer. ttlSeconds is the records' TTL, or for a negative answer the
     * SOA's negative TTL, or -1 for a negative answer without SOA.
     */
    void put(String key, DnsLookup.Answer answer, long ttlSeconds) {
        if (maxSize == 0 || answer.status() == DnsLookup.Status.TEMP_FAIL) {
            return;
        }
        long ttl = ttlSeconds < 0 ? negativeTtlSeconds : ttlSeconds;
        ttl = Math.min(ttl, maxTtlSeconds);
        if (ttl <= 0) {
            return;
        }
        long expires = nanoTime.getAsLong() + ttl * 1_000_000_000L;
        synchronized (entries) {
            entries.put(key, new Entry(answer, expires));
        }
    }

    /** size - the answers kept (expired ones included until they are asked for). */
    int size() {
        synchronized (entries) {
            return entries.size();
        }
    }
}
