package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.dns.MxRecord;

/** Where the client connects, against a fake DNS. */
class SmtpTargetResolverTest {

    /** FakeDns - MX and address answers from maps; names listed in servfail fail temporarily. */
    static class FakeDns implements DnsResolver {
        final Map<String, List<MxRecord>> mx = new HashMap<>();
        final Map<String, List<InetAddress>> addresses = new HashMap<>();
        final Set<String> servfail = new HashSet<>();

        @Override
        public List<MxRecord> lookupMx(String domain) throws DnsLookupException {
            check(domain);
            return mx.getOrDefault(domain, List.of());
        }

        @Override
        public List<InetAddress> lookupAddresses(String host) throws DnsLookupException {
            check(host);
            return addresses.getOrDefault(host, List.of());
        }

        private void check(String name) throws DnsLookupException {
            if (servfail.contains(name)) {
                throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "SERVFAIL");
            }
            if (!mx.containsKey(name) && !addresses.containsKey(name)) {
                throw new DnsLookupException(DnsLookupException.Kind.NOT_FOUND, "NXDOMAIN");
            }
        }

        FakeDns host(String name, String... ips) throws UnknownHostException {
            InetAddress[] a = new InetAddress[ips.length];
            for (int i = 0; i < ips.length; i++) {
                a[i] = InetAddress.getByName(ips[i]);
            }
            addresses.put(name, List.of(a));
            return this;
        }
    }

    private static List<String> relays(SmtpTargetResolver.Result r) {
        return r.targets().stream().map(SmtpTarget::relay).toList();
    }

    @Test
    void sortsMxByPreferenceAndTriesEachHostsAddressesInOrder() throws Exception {
        FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3", "::1").host("mx2.test", "127.0.0.4");
        dns.mx.put("dom.test", List.of(new MxRecord(20, "mx2.test"), new MxRecord(10, "mx1.test")));
        SmtpClientSettings.Routing fixed = new SmtpClientSettings.Routing(false, 0, 2, false, false, false,
                List.of("dns"), true, true, List.of(), List.of(), List.of(), "");
        SmtpTargetResolver.Result r = new SmtpTargetResolver(dns, new Random(1)).resolve(NextHop.smtp("dom.test", 25, true), "me", fixed);
        assertNull(r.failure());
        assertEquals(List.of("mx1.test[127.0.0.3]:25", "mx1.test[0:0:0:0:0:0:0:1]:25", "mx2.test[127.0.0.4]:25"), relays(r));
    }

    @Test
    void shufflesEqualPreferences() throws Exception {
        FakeDns dns = new FakeDns().host("a.test", "127.0.0.3").host("b.test", "127.0.0.4").host("c.test", "127.0.0.5");
        dns.mx.put("dom.test", List.of(new MxRecord(10, "a.test"), new MxRecord(10, "b.test"), new MxRecord(5, "c.test")));
        SmtpTargetResolver resolver = new SmtpTargetResolver(dns, new Random(42));
        Set<List<String>> orders = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            List<String> order = relays(resolver.resolve(NextHop.smtp("dom.test", 25, true), "me"));
            assertEquals("c.test[127.0.0.5]:25", order.get(0));
            orders.add(order);
        }
        assertEquals(2, orders.size(), "both orders of the two preference-10 hosts occur");
    }

    @Test
    void withoutMxUsesTheDomainsOwnAddresses() throws Exception {
        FakeDns dns = new FakeDns().host("nomx.test", "127.0.0.5");
        assertEquals(List.of("nomx.test[127.0.0.5]:25"),
                relays(new SmtpTargetResolver(dns, new Random()).resolve(NextHop.smtp("nomx.test", 25, true), "me")));
    }

    @Test
    void aNullMxBounces() {
        FakeDns dns = new FakeDns();
        dns.mx.put("nullmx.test", List.of(new MxRecord(0, "")));
        SmtpTargetResolver.Failure f = new SmtpTargetResolver(dns, new Random()).resolve(NextHop.smtp("nullmx.test", 25, true), "me").failure();
        assertEquals(new SmtpTargetResolver.Failure(Status.BOUNCED, "5.1.10", "Domain nullmx.test does not accept mail (nullMX)"), f);
    }

    @Test
    void nxdomainBouncesAndServfailDefers() {
        FakeDns dns = new FakeDns();
        dns.servfail.add("broken.test");
        SmtpTargetResolver r = new SmtpTargetResolver(dns, new Random());
        assertEquals(new SmtpTargetResolver.Failure(Status.BOUNCED, "5.4.4",
                "Host or domain name not found. Name service error for name=nothere.test type=MX: Host not found"),
                r.resolve(NextHop.smtp("nothere.test", 25, true), "me").failure());
        assertEquals(new SmtpTargetResolver.Failure(Status.DEFERRED, "4.4.3",
                "Host or domain name not found. Name service error for name=broken.test type=MX: Host not found, try again"),
                r.resolve(NextHop.smtp("broken.test", 25, true), "me").failure());
    }

    @Test
    void anMxHostThatFailsTemporarilyDefersWhenNoOtherHostResolves() {
        FakeDns dns = new FakeDns();
        dns.mx.put("dom.test", List.of(new MxRecord(10, "mx.broken.test")));
        dns.servfail.add("mx.broken.test");
        assertEquals(Status.DEFERRED, new SmtpTargetResolver(dns, new Random())
                .resolve(NextHop.smtp("dom.test", 25, true), "me").failure().status());
    }

    @Test
    void addressLiteralsNeedNoDns() {
        SmtpTargetResolver r = new SmtpTargetResolver(new FakeDns(), new Random());
        assertEquals(List.of("127.0.0.9[127.0.0.9]:2525"), relays(r.resolve(NextHop.smtp("[127.0.0.9]", 2525, false), "me")));
        assertEquals(List.of("0:0:0:0:0:0:0:1[0:0:0:0:0:0:0:1]:24"), relays(r.resolve(NextHop.lmtpInet("ipv6:::1", 24), "me")));
    }

    @Test
    void fallsBackToTheNextMxWhenTheFirstRefuses() throws IOException {
        try (FakeSmtpServer second = new FakeSmtpServer(false, new java.net.InetSocketAddress("127.0.0.4", 0))) {
            int port = second.port();   // nothing listens on 127.0.0.3 at this port: refused
            FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3").host("mx2.test", "127.0.0.4");
            dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.test"), new MxRecord(20, "mx2.test")));
            try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("dom.test", port, true), fast(), dns)) {
                DeliveryOutcome o = s.deliver(message("x\r\n", "a@dom.test"));
                assertEquals("mx2.test[127.0.0.4]:" + port, o.relay());
                assertEquals(Status.SENT, o.recipients().get(0).status());
            }
        }
    }

    @Test
    void aNullMxBouncesEveryRecipientOfADelivery() {
        FakeDns dns = new FakeDns();
        dns.mx.put("nullmx.test", List.of(new MxRecord(0, "")));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("nullmx.test", 25, true), fast(), dns)) {
            DeliveryOutcome o = s.deliver(message("x\r\n", "a@nullmx.test", "b@nullmx.test"));
            assertEquals("none", o.relay());
            o.recipients().forEach(r -> assertEquals(Status.BOUNCED, r.status()));
            assertEquals("5.1.10", o.recipients().get(1).dsn());
        }
    }
}
