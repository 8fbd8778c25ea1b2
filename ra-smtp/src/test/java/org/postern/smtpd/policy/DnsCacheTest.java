package org.postern.smtpd.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** DnsCache: TTLs (negative ones included), the cap, the size bound, no temporary failures. */
class DnsCacheTest {
    private final AtomicLong now = new AtomicLong();
    private static final DnsLookup.Answer FOUND = new DnsLookup.Answer(DnsLookup.Status.FOUND, List.of("a.example"));
    private static final DnsLookup.Answer NX = new DnsLookup.Answer(DnsLookup.Status.NOT_FOUND, List.of());

    private void advance(long seconds) {
        now.addAndGet(seconds * 1_000_000_000L);
    }

    @Test
    void answersLiveForTheirTtlCappedByTheMaximum() {
        DnsCache c = new DnsCache(10, 3600, 60, now::get);
        c.put("PTR 192.0.2.1", FOUND, 300);
        c.put("PTR 192.0.2.2", NX, 900);      // the SOA's negative TTL
        c.put("PTR 192.0.2.3", NX, -1);       // no SOA: smtpd_dns_negative_ttl
        c.put("A long.example", FOUND, 86400); // capped at an hour
        advance(59);
        assertEquals(FOUND, c.get("PTR 192.0.2.1"));
        assertEquals(NX, c.get("PTR 192.0.2.2"));
        assertEquals(NX, c.get("PTR 192.0.2.3"));
        advance(1);
        assertNull(c.get("PTR 192.0.2.3"));
        advance(240);
        assertNull(c.get("PTR 192.0.2.1"));
        assertEquals(NX, c.get("PTR 192.0.2.2"));
        advance(3300);
        assertNull(c.get("A long.example"));
    }

    @Test
    void temporaryFailuresAndZeroTtlsAreNotKept() {
        DnsCache c = new DnsCache(10, 3600, 0, now::get);
        c.put("PTR 192.0.2.1", new DnsLookup.Answer(DnsLookup.Status.TEMP_FAIL, List.of()), 300);
        c.put("PTR 192.0.2.2", FOUND, 0);
        c.put("PTR 192.0.2.3", NX, -1);
        assertEquals(0, c.size());
    }

    @Test
    void theLeastRecentlyUsedGoesPastTheSize() {
        DnsCache c = new DnsCache(2, 3600, 60, now::get);
        c.put("a", FOUND, 60);
        c.put("b", FOUND, 60);
        c.get("a");
        c.put("c", FOUND, 60);
        assertEquals(FOUND, c.get("a"));
        assertNull(c.get("b"));
        assertEquals(FOUND, c.get("c"));
        DnsCache none = new DnsCache(0, 3600, 60, now::get);
        none.put("a", FOUND, 60);
        assertNull(none.get("a"));
    }
}
