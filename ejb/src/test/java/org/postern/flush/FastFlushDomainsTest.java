package org.postern.flush;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;

class FastFlushDomainsTest {

    @Test
    void aDomainMatchesItselfAndItsSubdomainsAsPostfixParentDomainMatching() {
        FastFlushDomains f = new FastFlushDomains(List.of("Customer.example", ".sub.example", "!no.other.example",
                "other.example"));

        assertTrue(f.eligible("customer.example"));
        assertTrue(f.eligible("CUSTOMER.EXAMPLE."));
        assertTrue(f.eligible("mx.customer.example"));
        assertFalse(f.eligible("notcustomer.example"));
        assertFalse(f.eligible("sub.example"), "a leading dot matches subdomains only");
        assertTrue(f.eligible("a.sub.example"));
        assertTrue(f.eligible("other.example"));
        assertFalse(f.eligible("no.other.example"), "excluded before it matches");
        assertFalse(f.eligible("x.no.other.example"));
        assertFalse(f.eligible("example"));
    }

    @Test
    void invalidNamesAreNeverEligible() {
        FastFlushDomains f = new FastFlushDomains(List.of("example.com"));

        assertFalse(f.eligible(null));
        assertFalse(f.eligible(""));
        assertFalse(f.eligible("example.com; DROP TABLE queue_flush"));
        assertFalse(f.eligible("../example.com"));
        assertFalse(f.eligible("-bad.example.com"));
        assertFalse(f.eligible("a".repeat(64) + ".example.com"));
        assertNull(FastFlushDomains.normalize("exa mple.com"));
        assertEquals("example.com", FastFlushDomains.domainOf("User@Example.COM"));
        assertNull(FastFlushDomains.domainOf("postmaster"));
    }

    @Test
    void theDefaultIsRelayDomainsAndEmptyTurnsItOff() {
        FastFlushDomains none = FastFlushDomains.of(Config.defaults());
        assertTrue(none.isEmpty(), "relay_domains is empty by default");
        assertFalse(none.eligible("example.com"));

        FastFlushDomains relay = FastFlushDomains.of(Config.parse("relay_domains = customer.example, b.example\n",
                "main.cf"));
        assertTrue(relay.eligible("customer.example"));
        assertTrue(relay.eligible("b.example"));

        FastFlushDomains off = FastFlushDomains.of(Config.parse(
                "relay_domains = customer.example\nfast_flush_domains =\n", "main.cf"));
        assertTrue(off.isEmpty());
        assertFalse(off.eligible("customer.example"));

        FastFlushDomains tables = new FastFlushDomains(List.of("hash:/etc/postfix/flush", "a.example"));
        assertTrue(tables.eligible("a.example"));
    }
}
