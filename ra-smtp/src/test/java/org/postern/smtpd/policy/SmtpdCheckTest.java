package org.postern.smtpd.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.config.maps.DomainList;
import org.postern.mail.MailAddress;

/** The policy engine's parts: address resolution, domain lists, host name syntax, ETRN. */
class SmtpdCheckTest {

    private static PolicySettings policy(String mainCf) {
        return PolicySettings.from(Config.parse("myhostname = mx.example.org\n" + mainCf, "main.cf"));
    }

    /** A session view with a fixed client, HELO and sender; the log is kept. */
    private static final class View implements CheckContext {
        final List<String> log = new ArrayList<>();
        final DnsAnswers answers = new DnsAnswers();
        final String address;

        View(String address) {
            this.address = address;
        }

        @Override
        public String clientName() {
            return "unknown";
        }

        @Override
        public String clientAddress() {
            return address;
        }

        @Override
        public String helo() {
            return "client.example";
        }

        @Override
        public String sender() {
            return "a@example.com";
        }

        @Override
        public void log(String whatsup, String text) {
            log.add(whatsup + ": " + text);
        }

        @Override
        public DnsAnswers dnsAnswers() {
            return answers;
        }

        @Override
        public void hold(String reason) {
        }

        @Override
        public void discard(String reason) {
        }
    }

    @Test
    void resolverFollowsRoutingOnlyThroughLocalDomains() {
        AddressResolver r = policy("relay_domains = relay.example").resolver();
        assertEquals(new AddressResolver.Resolved("user", "relay.example", AddressResolver.AddressClass.RELAY, false),
                r.resolve("user", "Relay.Example"));
        // routed through a relay domain: flagged, not rewritten
        AddressResolver.Resolved percent = r.resolve("user%other.example", "relay.example");
        assertTrue(percent.routed());
        assertEquals(AddressResolver.AddressClass.RELAY, percent.addressClass());
        assertTrue(r.resolve("\"user@other.example\"", "relay.example").routed());
        assertTrue(r.resolve("other.example!user", "relay.example").routed());
        // through a local domain: rewritten to the real destination
        assertEquals(new AddressResolver.Resolved("user", "other.example", AddressResolver.AddressClass.REMOTE, false),
                r.resolve("user%other.example", "mx.example.org"));
        assertEquals(new AddressResolver.Resolved("user", "other.example", AddressResolver.AddressClass.REMOTE, false),
                r.resolve("other.example!user", "localhost"));
        assertEquals(new AddressResolver.Resolved("user", "other.example", AddressResolver.AddressClass.REMOTE, false),
                r.resolve("\"user@other.example\"", "mx.example.org"));
        // unqualified: $myorigin
        assertEquals(AddressResolver.AddressClass.LOCAL, r.resolve("postmaster", null).addressClass());
        assertEquals(AddressResolver.AddressClass.REMOTE, r.resolve("user", "[192.0.2.1]").addressClass());
        // a loop of local domains ends
        assertEquals(AddressResolver.AddressClass.LOCAL,
                r.resolve("a%localhost%localhost%localhost", "localhost").addressClass());
    }

    @Test
    void resolverWithoutPercentHackOrBangpath() {
        AddressResolver r = policy("swap_bangpath = no\nallow_percent_hack = no").resolver();
        AddressResolver.Resolved kept = r.resolve("user%other.example", "mx.example.org");
        assertEquals(AddressResolver.AddressClass.LOCAL, kept.addressClass());
        assertTrue(kept.routed(), "still flagged: the next hop may honour it");
        assertTrue(r.resolve("other!user", "mx.example.org").routed());
    }

    @Test
    void domainLists() {
        DomainList relay = DomainList.parse(List.of("example.com", "!bad.example.net", ".example.net",
                "inline:{tabled.example=x}"), true, "relay_domains");
        assertTrue(relay.matches("example.com"));
        assertTrue(relay.matches("A.Example.COM"));
        assertFalse(relay.matches("badexample.com"));
        assertFalse(relay.matches("example.net"));
        assertTrue(relay.matches("www.example.net"));
        assertFalse(relay.matches("bad.example.net"));
        assertTrue(relay.matches("tabled.example"));
        assertTrue(relay.matches("sub.tabled.example"));
        DomainList exact = DomainList.parse(List.of("example.com"), false, "mydestination");
        assertTrue(exact.matches("example.com"));
        assertFalse(exact.matches("sub.example.com"));
    }

    @Test
    void hostnameSyntax() {
        assertTrue(Hostnames.validHostname("mail.example.com"));
        assertTrue(Hostnames.validHostname("under_score.example"));
        assertFalse(Hostnames.validHostname("-bad.example"));
        assertFalse(Hostnames.validHostname("bad..example"));
        assertFalse(Hostnames.validHostname("1.2.3.4"));
        assertFalse(Hostnames.validHostname("bad host"));
        assertTrue(Hostnames.validHostaddr("192.0.2.1"));
        assertTrue(Hostnames.validHostaddr("IPv6:2001:db8::1"));
        assertTrue(Hostnames.validHostaddr("::ffff:192.0.2.1"));
        assertFalse(Hostnames.validHostaddr("256.1.1.1"));
        assertFalse(Hostnames.validHostaddr("2001:db8::1::2"));
    }

    @Test
    void clientAddressKeys() {
        assertEquals(List.of("192.0.2.1", "192.0.2", "192.0", "192"), AccessMaps.addressKeys("192.0.2.1"));
        assertEquals(List.of("2001:db8:0:0:0:0:0:1", "2001:db8:0:0:0:0:0", "2001:db8:0:0:0:0", "2001:db8:0:0:0",
                "2001:db8:0:0", "2001:db8:0", "2001:db8", "2001"), AccessMaps.addressKeys("2001:db8:0:0:0:0:0:1"));
    }

    @Test
    void etrnRestrictions() {
        SmtpdCheck check = new SmtpdCheck(policy("smtpd_etrn_restrictions = permit_mynetworks, "
                + "check_client_access inline:{192.0.2.7=OK}, reject"));
        View outside = new View("192.0.2.1");
        assertEquals("554 5.7.1 <example.com>: Etrn command rejected: Access denied",
                check.checkEtrn(outside, "example.com"));
        assertEquals(List.of("reject: 554 5.7.1 <example.com>: Etrn command rejected: Access denied"), outside.log);
        assertNull(check.checkEtrn(new View("127.0.0.1"), "example.com"));
        assertNull(check.checkEtrn(new View("192.0.2.7"), "example.com"));
    }

    @Test
    void recipientCheckOrderClientFirstThenRelay() {
        SmtpdCheck check = new SmtpdCheck(policy("smtpd_client_restrictions = check_client_access "
                + "inline:{192.0.2.1=REJECT}"));
        View v = new View("192.0.2.1");
        assertEquals("554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied",
                check.checkRecipient(v, new MailAddress("x", "other.example")));
        assertEquals(1, v.log.size(), "one reject, one log line");
    }

    @Test
    void rblQueryNames() {
        assertEquals("1.2.0.192.zen.example", DnsListRestrictions.rblQuery("192.0.2.1", "zen.example"));
        assertEquals("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example",
                DnsListRestrictions.rblQuery("2001:db8::1", "zen.example"));
        assertNull(DnsListRestrictions.rblQuery("unknown", "zen.example"));
    }
}
