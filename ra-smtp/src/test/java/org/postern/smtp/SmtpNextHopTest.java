package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.SmtpTargetResolverTest.FakeDns;
import org.postern.smtp.dns.MxRecord;

/** Next-hop resolution: limits, fallback relays, lookup mechanisms, protocols and mail loops (fake DNS). */
class SmtpNextHopTest {

    /** routing - Postfix's defaults without shuffling, with these changes. */
    private static SmtpClientSettings.Routing routing(Map<String, Object> changes) {
        return new SmtpClientSettings.Routing(
                (boolean) changes.getOrDefault("randomize", false),
                (int) changes.getOrDefault("addressLimit", 5),
                (int) changes.getOrDefault("sessionLimit", 2),
                (boolean) changes.getOrDefault("ignoreMxError", false),
                (boolean) changes.getOrDefault("deferNoMx", false),
                (boolean) changes.getOrDefault("disableDns", false),
                castList(changes.getOrDefault("hostLookup", List.of("dns"))),
                (boolean) changes.getOrDefault("ipv4", true),
                (boolean) changes.getOrDefault("ipv6", true),
                castList(changes.getOrDefault("fallback", List.of())),
                castList(changes.getOrDefault("ownAddresses", List.of())),
                castList(changes.getOrDefault("ownNames", List.of())),
                (String) changes.getOrDefault("bestMx", ""));
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) {
        return (List<String>) o;
    }

    private static List<String> relays(SmtpTargetResolver.Result r) {
        return r.targets().stream().map(SmtpTarget::relay).toList();
    }

    private static SmtpTargetResolver.Result resolve(FakeDns dns, NextHop hop, Map<String, Object> changes) {
        return new SmtpTargetResolver(dns, new Random(7), host -> {
            if (host.equals("native.test")) {
                return List.of(InetAddress.getByName("127.0.0.8"));
            }
            throw new UnknownHostException(host);
        }).resolve(hop, "me", routing(changes));
    }

    private static FakeDns twoMx() throws UnknownHostException {
        FakeDns dns = new FakeDns().host("mx1.dom.test", "127.0.0.3", "127.0.0.13").host("mx2.dom.test", "127.0.0.4");
        dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.dom.test"), new MxRecord(20, "mx2.dom.test")));
        return dns;
    }

    @Test
    void smtpMxAddressLimitBoundsTheAddressesTried() throws Exception {
        assertEquals(List.of("mx1.dom.test[127.0.0.3]:25", "mx1.dom.test[127.0.0.13]:25"),
                relays(resolve(twoMx(), NextHop.smtp("dom.test", 25, true), Map.of("addressLimit", 2))));
        assertEquals(3, resolve(twoMx(), NextHop.smtp("dom.test", 25, true), Map.of("addressLimit", 0)).targets().size());
    }

    @Test
    void randomizeShufflesTheAddressesOfOneHostButNotThePreferences() throws Exception {
        FakeDns dns = new FakeDns().host("mx1.dom.test", "127.0.0.3", "127.0.0.13", "127.0.0.23").host("mx2.dom.test", "127.0.0.4");
        dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.dom.test"), new MxRecord(20, "mx2.dom.test")));
        java.util.Set<List<String>> orders = new java.util.HashSet<>();
        SmtpTargetResolver r = new SmtpTargetResolver(dns, new Random(3));
        for (int i = 0; i < 40; i++) {
            List<String> order = relays(r.resolve(NextHop.smtp("dom.test", 25, true), "me",
                    routing(Map.of("randomize", true, "addressLimit", 0))));
            assertEquals("mx2.dom.test[127.0.0.4]:25", order.get(3));
            orders.add(order);
        }
        assertTrue(orders.size() > 1, "the three addresses of mx1 come in more than one order");
        assertEquals(1, java.util.Set.copyOf(List.of(relays(resolve(dns, NextHop.smtp("dom.test", 25, true), Map.of())),
                relays(resolve(dns, NextHop.smtp("dom.test", 25, true), Map.of())))).size(), "no shuffling when off");
    }

    @Test
    void fallbackRelaysComeAfterThePrimaryAndSaveANonexistentDomain() throws Exception {
        FakeDns dns = twoMx().host("relay.test", "127.0.0.9");
        Map<String, Object> fb = Map.of("fallback", List.of("[relay.test]:2525", "[127.0.0.10]"));
        assertEquals(List.of("mx1.dom.test[127.0.0.3]:25", "mx1.dom.test[127.0.0.13]:25", "mx2.dom.test[127.0.0.4]:25",
                "relay.test[127.0.0.9]:2525", "127.0.0.10[127.0.0.10]:25"),
                relays(resolve(dns, NextHop.smtp("dom.test", 25, true), fb)));
        assertEquals(List.of("relay.test[127.0.0.9]:2525", "127.0.0.10[127.0.0.10]:25"),
                relays(resolve(dns, NextHop.smtp("nothere.test", 25, true), fb)));
        // LMTP has no fallback relays
        assertEquals(Status.BOUNCED, resolve(dns, NextHop.lmtpInet("nothere.test", 24), fb).failure().status());
    }

    @Test
    void ignoreMxLookupErrorFallsBackToTheAddressRecords() throws Exception {
        FakeDns dns = new FakeDns().host("flaky.test", "127.0.0.6");
        dns.mx.put("flaky.test", List.of());
        FakeDns failing = new FakeDns() {
            @Override
            public List<MxRecord> lookupMx(String domain) throws org.postern.smtp.dns.DnsLookupException {
                throw new org.postern.smtp.dns.DnsLookupException(org.postern.smtp.dns.DnsLookupException.Kind.TEMPORARY, "timeout");
            }
        }.host("flaky.test", "127.0.0.6");
        NextHop hop = NextHop.smtp("flaky.test", 25, true);
        assertEquals(new SmtpTargetResolver.Failure(Status.DEFERRED, "4.4.3",
                "Host or domain name not found. Name service error for name=flaky.test type=MX: Host not found, try again"),
                resolve(failing, hop, Map.of()).failure());
        assertEquals(List.of("flaky.test[127.0.0.6]:25"), relays(resolve(failing, hop, Map.of("ignoreMxError", true))));
    }

    @Test
    void noMxAddressBouncesOrDefersWithSmtpDeferIfNoMxAddressFound() throws Exception {
        FakeDns dns = new FakeDns().host("mx.v6only.test", "::1");
        dns.mx.put("dom.test", List.of(new MxRecord(10, "mx.v6only.test")));
        NextHop hop = NextHop.smtp("dom.test", 25, true);
        // inet_protocols = ipv4: the IPv6-only MX has no usable address
        assertEquals(new SmtpTargetResolver.Failure(Status.BOUNCED, "5.4.4", "no MX host for dom.test has a valid address record"),
                resolve(dns, hop, Map.of("ipv6", false)).failure());
        assertEquals(new SmtpTargetResolver.Failure(Status.DEFERRED, "4.4.4", "no MX host for dom.test has a valid address record"),
                resolve(dns, hop, Map.of("ipv6", false, "deferNoMx", true)).failure());
        assertEquals(List.of("mx.v6only.test[0:0:0:0:0:0:0:1]:25"), relays(resolve(dns, hop, Map.of())));
    }

    @Test
    void inetProtocolsFiltersHostAddresses() throws Exception {
        FakeDns dns = new FakeDns().host("both.test", "127.0.0.7", "::1");
        NextHop hop = NextHop.smtp("both.test", 2525, false);
        assertEquals(List.of("both.test[127.0.0.7]:2525"), relays(resolve(dns, hop, Map.of("ipv6", false))));
        assertEquals(List.of("both.test[0:0:0:0:0:0:0:1]:2525"), relays(resolve(dns, hop, Map.of("ipv4", false))));
        FakeDns v4 = new FakeDns().host("v4.test", "127.0.0.7");
        assertEquals(new SmtpTargetResolver.Failure(Status.BOUNCED, "5.4.4", "Host or domain name not found. Name service "
                + "error for name=v4.test type=AAAA: Host found but no data record of requested type"),
                resolve(v4, NextHop.smtp("v4.test", 2525, false), Map.of("ipv4", false)).failure());
    }

    @Test
    void disableDnsLookupsAndSmtpHostLookupNativeUseTheSystemResolver() throws Exception {
        FakeDns dns = new FakeDns().host("native.test", "127.0.0.99");
        dns.mx.put("native.test", List.of(new MxRecord(10, "mx.elsewhere.test")));
        // disable_dns_lookups: no MX lookup, the system resolver's address
        assertEquals(List.of("native.test[127.0.0.8]:25"),
                relays(resolve(dns, NextHop.smtp("native.test", 25, true), Map.of("disableDns", true))));
        assertEquals(List.of("native.test[127.0.0.8]:2525"),
                relays(resolve(dns, NextHop.smtp("native.test", 2525, false), Map.of("hostLookup", List.of("native")))));
        assertEquals(List.of("native.test[127.0.0.99]:2525"),
                relays(resolve(dns, NextHop.smtp("native.test", 2525, false), Map.of("hostLookup", List.of("dns", "native")))));
        // dns first, native when DNS has nothing
        FakeDns empty = new FakeDns();
        assertEquals(List.of("native.test[127.0.0.8]:2525"),
                relays(resolve(empty, NextHop.smtp("native.test", 2525, false), Map.of("hostLookup", List.of("dns", "native")))));
        // a native failure never bounces: getaddrinfo cannot tell "no such host" from "try again" reliably
        assertEquals(Status.DEFERRED, resolve(empty, NextHop.smtp("unknown.test", 2525, false),
                Map.of("hostLookup", List.of("native"))).failure().status());
    }

    @Test
    void anMxThatIsOurselvesLoopsBackWhenItIsTheBest() throws Exception {
        FakeDns dns = new FakeDns().host("mx.self.test", "127.0.0.1");
        dns.mx.put("self.test", List.of(new MxRecord(10, "mx.self.test")));
        Map<String, Object> own = Map.of("ownAddresses", List.of("127.0.0.1"));
        assertEquals(new SmtpTargetResolver.Failure(Status.BOUNCED, "5.4.6", "mail for self.test loops back to myself"),
                resolve(dns, NextHop.smtp("self.test", 25, true), own).failure());
        // by host name ($myhostname) as well
        FakeDns byName = new FakeDns().host("me.test", "127.0.0.50");
        byName.mx.put("self.test", List.of(new MxRecord(10, "me.test")));
        assertEquals("5.4.6", resolve(byName, NextHop.smtp("self.test", 25, true),
                Map.of("ownNames", List.of("me.test"))).failure().dsn());
        // Postfix checks loops for port 25 only: a content filter on another port is no loop
        assertEquals(List.of("mx.self.test[127.0.0.1]:10025"), relays(resolve(dns, NextHop.smtp("self.test", 10025, true), own)));
        // a bracketed next hop that is ourselves loops too
        assertEquals(new SmtpTargetResolver.Failure(Status.BOUNCED, "5.4.6", "mail for 127.0.0.1 loops back to myself"),
                resolve(dns, NextHop.smtp("[127.0.0.1]", 25, false), own).failure());
        // with best_mx_transport set: deferred 4.4.6, for the queue manager to hand over (never bounced)
        assertEquals(new SmtpTargetResolver.Failure(Status.DEFERRED, "4.4.6", "mail for self.test loops back to myself"),
                resolve(dns, NextHop.smtp("self.test", 25, true),
                        Map.of("ownAddresses", List.of("127.0.0.1"), "bestMx", "lmtp:unix:/run/lmtp")).failure());
        // fallback relays are not tried for a loop
        assertEquals("5.4.6", resolve(dns, NextHop.smtp("self.test", 25, true),
                Map.of("ownAddresses", List.of("127.0.0.1"), "fallback", List.of("[127.0.0.9]"))).failure().dsn());
    }

    @Test
    void asABackupMxWeDeliverOnlyToBetterMxHosts() throws Exception {
        FakeDns dns = new FakeDns().host("primary.test", "127.0.0.3").host("backup.test", "127.0.0.1")
                .host("third.test", "127.0.0.5");
        dns.mx.put("dom.test", List.of(new MxRecord(30, "third.test"), new MxRecord(20, "backup.test"),
                new MxRecord(10, "primary.test")));
        assertEquals(List.of("primary.test[127.0.0.3]:25"), relays(resolve(dns, NextHop.smtp("dom.test", 25, true),
                Map.of("ownAddresses", List.of("127.0.0.1")))));
        // the better MX has no address: Postfix's "unable to find primary relay", deferred
        FakeDns broken = new FakeDns().host("backup.test", "127.0.0.1");
        broken.addresses.put("primary.test", List.of());
        broken.mx.put("dom.test", List.of(new MxRecord(10, "primary.test"), new MxRecord(20, "backup.test")));
        assertEquals(new SmtpTargetResolver.Failure(Status.DEFERRED, "4.4.4", "unable to find primary relay for dom.test"),
                resolve(broken, NextHop.smtp("dom.test", 25, true), Map.of("ownAddresses", List.of("127.0.0.1"))).failure());
    }

    @Test
    void destinationsParseAsInRelayhost() {
        assertEquals(NextHop.smtp("relay.test", 25, false), SmtpTargetResolver.parseSmtpDestination("[relay.test]"));
        assertEquals(NextHop.smtp("relay.test", 587, false), SmtpTargetResolver.parseSmtpDestination("[relay.test]:submission"));
        assertEquals(NextHop.smtp("dom.test", 2525, true), SmtpTargetResolver.parseSmtpDestination("dom.test:2525"));
        assertThrows(IllegalArgumentException.class, () -> SmtpTargetResolver.parseSmtpDestination("[x"));
        assertThrows(IllegalArgumentException.class, () -> SmtpTargetResolver.parseSmtpDestination("x:99999"));
    }

    // ---------------------------------------------------------------- with servers

    /* pair - two fake servers on 127.0.0.3 and 127.0.0.4 with the same port in 21000-21999 */
    private static FakeSmtpServer[] pair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port = 21000 + new Random().nextInt(1000);
            FakeSmtpServer a = null;
            try {
                a = new FakeSmtpServer(false, new InetSocketAddress("127.0.0.3", port));
                return new FakeSmtpServer[] {a, new FakeSmtpServer(false, new InetSocketAddress("127.0.0.4", port))};
            } catch (IOException e) {
                if (a != null) {
                    a.close();
                }
            }
        }
        throw new IOException("no free port pair in 21000-21999");
    }

    private static SmtpClientSettings withRouting(Map<String, Object> changes) {
        return fast().withRouting(routing(changes));
    }

    @Test
    void recipientsDeferredByTheFirstMxGoToTheNextWithinTheSessionLimit() throws Exception {
        FakeSmtpServer[] s = pair();
        try (FakeSmtpServer first = s[0]; FakeSmtpServer second = s[1]) {
            first.on("RCPT TO:<b@", "451 4.3.0 try later");
            FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3").host("mx2.test", "127.0.0.4");
            dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.test"), new MxRecord(20, "mx2.test")));
            NextHop hop = NextHop.smtp("dom.test", first.port(), true);
            try (SmtpClientSession session = new SmtpClientSession(hop, withRouting(Map.of()), dns)) {
                DeliveryOutcome o = session.deliver(message("x\r\n", "a@dom.test", "b@dom.test"));
                assertEquals(Status.SENT, o.recipients().get(0).status());
                assertEquals(Status.SENT, o.recipients().get(1).status(), o.toString());
                assertEquals(List.of("RCPT TO:<a@dom.test>", "RCPT TO:<b@dom.test>"), first.commands("RCPT"));
                assertEquals(List.of("RCPT TO:<b@dom.test>"), second.commands("RCPT"), "only the deferred one");
                // each recipient is logged with the server that took it
                assertEquals("mx2.test[127.0.0.4]:" + first.port(), o.relay());
                assertEquals("mx1.test[127.0.0.3]:" + first.port(), o.recipients().get(0).relay());
                assertNull(o.recipients().get(1).relay(), "the delivery's relay");
                assertEquals(1, first.messages.size());
                assertEquals(1, second.messages.size());
            }
            // smtp_mx_session_limit = 1: no second session, the first server's answer stands
            int secondConnections = second.connections.get();
            try (SmtpClientSession session = new SmtpClientSession(hop, withRouting(Map.of("sessionLimit", 1)), dns)) {
                DeliveryOutcome o = session.deliver(message("x\r\n", "b@dom.test"));
                assertEquals(Status.DEFERRED, o.recipients().get(0).status());
                assertEquals("host mx1.test[127.0.0.3] said: 451 4.3.0 try later (in reply to RCPT TO command)",
                        o.recipients().get(0).reply());
                assertEquals(secondConnections, second.connections.get(), "no session with the second MX");
            }
        }
    }

    @Test
    void aHardRejectIsNotTriedElsewhere() throws Exception {
        FakeSmtpServer[] s = pair();
        try (FakeSmtpServer first = s[0]; FakeSmtpServer second = s[1]) {
            first.on("RCPT", "550 5.1.1 no such user");
            FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3").host("mx2.test", "127.0.0.4");
            dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.test"), new MxRecord(20, "mx2.test")));
            try (SmtpClientSession session = new SmtpClientSession(NextHop.smtp("dom.test", first.port(), true),
                    withRouting(Map.of()), dns)) {
                assertEquals(Status.BOUNCED, session.deliver(message("x\r\n", "a@dom.test")).recipients().get(0).status());
                assertEquals(0, second.connections.get());
            }
        }
    }

    @Test
    void theFallbackRelayTakesMailWhenThePrimaryIsUnreachable() throws Exception {
        try (FakeSmtpServer relay = new FakeSmtpServer(false, new InetSocketAddress("127.0.0.9", 0))) {
            FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3");
            dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.test")));
            // nothing listens on 127.0.0.3 at the relay's port: refused
            NextHop hop = NextHop.smtp("dom.test", relay.port(), true);
            SmtpClientSettings settings = withRouting(Map.of("fallback", List.of("[127.0.0.9]:" + relay.port())));
            try (SmtpClientSession session = new SmtpClientSession(hop, settings, dns)) {
                DeliveryOutcome o = session.deliver(message("x\r\n", "a@dom.test"));
                assertEquals("127.0.0.9[127.0.0.9]:" + relay.port(), o.relay());
                assertEquals(Status.SENT, o.recipients().get(0).status());
            }
        }
    }

    @Test
    void aDnsFailureDefersEveryRecipientAndNeverBounces() {
        FakeDns dns = new FakeDns();
        dns.servfail.add("dom.test");
        try (SmtpClientSession session = new SmtpClientSession(NextHop.smtp("dom.test", 25, true), fast(), dns)) {
            DeliveryOutcome o = session.deliver(message("x\r\n", "a@dom.test", "b@dom.test"));
            List<Status> st = new ArrayList<>();
            o.recipients().forEach(r -> st.add(r.status()));
            assertEquals(List.of(Status.DEFERRED, Status.DEFERRED), st);
            assertEquals("none", o.relay());
        }
    }

    @Test
    void aCachedSessionsServerIsNotTriedTwiceWhenItDefers() throws Exception {
        FakeSmtpServer[] s = pair();
        try (FakeSmtpServer first = s[0]; FakeSmtpServer second = s[1]) {
            FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3").host("mx2.test", "127.0.0.4");
            // the second delivery reuses the session with mx1, which then defers: only mx2 is left to try
            dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.test"), new MxRecord(20, "mx2.test")));
            NextHop hop = NextHop.smtp("dom.test", first.port(), true);
            try (SmtpClientSession session = new SmtpClientSession(hop, withRouting(Map.of("sessionLimit", 3)), dns)) {
                assertEquals(Status.SENT, session.deliver(message("x\r\n", "a@dom.test")).recipients().get(0).status());
                first.on("RCPT", "451 4.3.0 busy");
                DeliveryOutcome o = session.deliver(message("x\r\n", "b@dom.test"));
                assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
                assertEquals("mx2.test[127.0.0.4]:" + first.port(), o.relay());
                assertEquals(1, first.connections.get(), "the deferring server is not tried again");
                assertEquals(1, second.connections.get());
            }
        }
    }

    @Test
    void pastTheSessionLimitTheFallbackRelayStillGetsTheDeferredRecipients() throws Exception {
        FakeSmtpServer[] s = pair();
        try (FakeSmtpServer first = s[0]; FakeSmtpServer relay = s[1]) {
            first.on("RCPT", "451 4.3.0 busy");
            FakeDns dns = new FakeDns().host("mx1.test", "127.0.0.3");
            dns.mx.put("dom.test", List.of(new MxRecord(10, "mx1.test")));
            SmtpClientSettings settings = withRouting(Map.of("sessionLimit", 1,
                    "fallback", List.of("[127.0.0.4]:" + relay.port())));
            try (SmtpClientSession session = new SmtpClientSession(NextHop.smtp("dom.test", first.port(), true), settings, dns)) {
                DeliveryOutcome o = session.deliver(message("x\r\n", "a@dom.test"));
                assertEquals(Status.SENT, o.recipients().get(0).status(), o.toString());
                assertEquals("127.0.0.4[127.0.0.4]:" + relay.port(), o.relay());
                assertEquals(1, relay.messages.size());
            }
        }
    }
}
