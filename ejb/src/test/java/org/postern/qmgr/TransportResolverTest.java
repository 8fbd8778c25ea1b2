package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.smtp.api.NextHop;

class TransportResolverTest {

    private static TransportResolver resolver(String mainCf) {
        return new TransportResolver(Config.parse(mainCf, "main.cf"));
    }

    @Test
    void withoutMapsTheRecipientDomainIsLookedUpByMx() {
        TransportResolver.Route r = resolver("").resolve("user@Example.COM");
        assertEquals(NextHop.smtp("example.com", 25, true), r.hop());
        assertEquals("smtp", r.transport());
    }

    @Test
    void relayhostReplacesTheDomainButNotTheTransport() {
        assertEquals(NextHop.smtp("smarthost.example", 587, false),
                resolver("relayhost = [smarthost.example]:587").resolve("a@b.example").hop());
        assertEquals(NextHop.smtp("mx.example", 25, true),
                resolver("relayhost = mx.example").resolve("a@b.example").hop());
    }

    @Test
    void transportMapsAreSearchedByAddressThenDomainThenParentThenStar() {
        TransportResolver t = resolver("transport_maps = inline:{ a@x.example=lmtp:unix:/run/lmtp,"
                + " x.example=smtp:[10.0.0.1]:2525, .y.example=lmtp:inet:lmtp.y.example,"
                + " *=smtp:[fallback.example] }");
        assertEquals(NextHop.lmtpUnix("/run/lmtp"), t.resolve("a@x.example").hop());
        assertEquals(NextHop.smtp("10.0.0.1", 2525, false), t.resolve("b@x.example").hop());
        assertEquals(NextHop.lmtpInet("lmtp.y.example", 24), t.resolve("c@sub.y.example").hop());
        // ".y.example" matches subdomains only, not y.example itself
        assertEquals(NextHop.smtp("fallback.example", 25, false), t.resolve("d@y.example").hop());
    }

    @Test
    void lmtpPortDefaultsToLmtpTcpPortAndATransportWithoutNexthopUsesTheDomain() {
        TransportResolver t = resolver("lmtp_tcp_port = 10024\n"
                + "transport_maps = inline:{ l.example=lmtp:inet:127.0.0.1, m.example=smtp: }");
        assertEquals(NextHop.lmtpInet("127.0.0.1", 10024), t.resolve("a@l.example").hop());
        assertEquals(NextHop.smtp("m.example", 25, true), t.resolve("a@m.example").hop());
    }

    @Test
    void unknownTransportsAndBadNextHopsAreReportedNotThrown() {
        TransportResolver t = resolver("transport_maps = inline:{ l.example=local:, b.example=smtp:[x]:99999 }");
        TransportResolver.Route local = t.resolve("a@l.example");
        assertNull(local.hop());
        assertEquals("mail transport unavailable", local.error());
        assertFalse(t.resolve("a@b.example").ok());
    }

    @Test
    void theNextHopOfDefaultTransportWinsOverRelayhost() {
        assertEquals(NextHop.smtp("gw.example", 2525, false),
                resolver("default_transport = smtp:[gw.example]:2525\nrelayhost = [other.example]")
                        .resolve("a@b.example").hop());
        // default_transport without next hop: relayhost, then the domain
        assertEquals(NextHop.smtp("other.example", 25, false),
                resolver("default_transport = smtp\nrelayhost = [other.example]").resolve("a@b.example").hop());
        assertEquals(NextHop.lmtpInet("127.0.0.1", 24),
                resolver("default_transport = lmtp:inet:127.0.0.1").resolve("a@b.example").hop());
        assertEquals("mail transport unavailable", resolver("default_transport = error:nope").resolve("a@b.example").error());
    }

    @Test
    void addressClassesChooseTheTransportAsTrivialRewriteDoes() {
        TransportResolver t = resolver("myhostname = mx.example.com\n"
                + "mydestination = $myhostname, localhost\n"
                + "virtual_mailbox_domains = hosted.example\n"
                + "virtual_transport = lmtp:unix:/run/dovecot/lmtp\n"
                + "relay_domains = relayed.example\n"
                + "relay_transport = relay:[backend.example]:2525\n"
                + "relayhost = [smarthost.example]");
        // local(8) does not exist here: local_transport's default is unavailable, a deferral
        assertEquals("mail transport unavailable", t.resolve("root@mx.example.com").error());
        assertEquals(NextHop.lmtpUnix("/run/dovecot/lmtp"), t.resolve("alice@hosted.example").hop());
        // relay_domains match subdomains too (parent_domain_matches_subdomains)
        assertEquals(NextHop.smtp("backend.example", 2525, false), t.resolve("a@sub.relayed.example").hop());
        assertEquals("relay", t.resolve("a@relayed.example").transport());
        // relayhost is for the relay and default classes, never for final delivery
        assertEquals(NextHop.smtp("smarthost.example", 25, false), t.resolve("a@elsewhere.example").hop());
    }

    @Test
    void mailboxTransportDeliversForLocalDomainsAndRelativeSocketsLiveInTheQueueDirectory() {
        // the classic Postfix + Dovecot main.cf: local(8) would pass mailboxes to Dovecot's LMTP
        TransportResolver t = resolver("myhostname = mx.example.com\n"
                + "mailbox_transport = lmtp:unix:private/dovecot-lmtp\n"
                + "relayhost = [smarthost.example]");
        assertEquals(NextHop.lmtpUnix("/var/spool/postfix/private/dovecot-lmtp"), t.resolve("alice@localhost").hop());
        assertEquals(NextHop.lmtpUnix("/srv/q/private/lmtp"),
                resolver("queue_directory = /srv/q\nlocal_transport = lmtp:unix:private/lmtp")
                        .resolve("bob@localhost").hop());
        // an explicit local_transport other than local wins over mailbox_transport
        assertEquals(NextHop.lmtpInet("127.0.0.1", 24),
                resolver("local_transport = lmtp:inet:127.0.0.1\nmailbox_transport = lmtp:unix:/x")
                        .resolve("c@localhost").hop());
    }

    @Test
    void anUnaliasedRecipientOfAVirtualAliasDomainBouncesAsUserUnknown() {
        TransportResolver t = resolver("virtual_alias_maps = inline:{ alias.example=domain, "
                + "sales@alias.example=bob@example.net }\n"
                + "transport_maps = inline:{ special@alias.example=smtp:[10.0.0.9] }");
        TransportResolver.Route r = t.resolve("nobody@alias.example");
        assertNull(r.hop());
        assertEquals("5.1.1", r.bounceDsn());
        assertEquals("User unknown in virtual alias table", r.error());
        // transport_maps still route what they name; other domains are not affected
        assertEquals(NextHop.smtp("10.0.0.9", 25, false), t.resolve("special@alias.example").hop());
        assertNull(t.resolve("x@other.example").bounceDsn());
        // an unavailable transport is a deferral, never a bounce
        assertNull(resolver("default_transport = error:nope").resolve("a@b.example").bounceDsn());
    }
}
