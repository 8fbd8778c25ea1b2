package org.postern.smtp;

import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.postern.config.Config;

/** SmtpClientParameters: main.cf to client settings, smtp_* names or lmtp_* names (LMTP mode). */
class SmtpClientParametersTest {

    private static Config cf(String text) {
        return Config.parse(text, "main.cf");
    }

    @Test
    void postfixDefaultsForSmtp() {
        SmtpClientSettings s = settings(cf("myhostname = mx.example.org\ninet_interfaces = 127.0.0.1"), false);
        assertEquals("mx.example.org", s.heloName());
        assertEquals(Duration.ofSeconds(600), s.dataDoneTimeout());
        assertEquals(new SmtpClientSettings.Session(true, true, false, true, true, List.of(), "", "", true), s.session());
        SmtpClientSettings.Routing r = s.routing();
        assertTrue(r.randomizeAddresses());
        assertEquals(5, r.mxAddressLimit());
        assertEquals(2, r.mxSessionLimit());
        assertEquals(List.of("dns"), r.hostLookup());
        assertTrue(r.ipv4() && r.ipv6());
        assertEquals(List.of("127.0.0.1"), r.ownAddresses());
        assertEquals(List.of("mx.example.org"), r.ownNames());
        // Postfix 3.4+: reuse bounded by time (smtp_connection_reuse_time_limit, 300s), not by a count (0 = none)
        // smtp_connection_cache_on_demand = yes: cached only while the destination has a backlog
        assertEquals(new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(2), Duration.ofSeconds(300), true),
                s.cache());
        assertEquals(SmtpClientSettings.Cache.defaults(), s.cache(), "Cache.defaults() is main.cf's defaults");
    }

    @Test
    void mtaStsAppliesOnlyWhenEnabledToMxDomainsWithoutAnExplicitPolicy() {
        String on = "inet_interfaces = 127.0.0.1\nsmtp_mta_sts_enable = yes\n";
        NextHop domain = NextHop.smtp("sts.example", 25, true);
        // off by default
        assertFalse(SmtpClientParameters.SMTP.settings(cf("inet_interfaces = 127.0.0.1"), domain).mtaSts().enabled());
        SmtpClientSettings.MtaSts m = SmtpClientParameters.SMTP.settings(cf(on + "smtp_mta_sts_cache_size = 7\n"
                + "smtp_mta_sts_fetch_timeout = 300s\nsmtp_mta_sts_CAfile = /etc/sts-ca.pem\n"
                + "smtp_mta_sts_max_age_limit = 1d"), domain).mtaSts();
        assertEquals(new SmtpClientSettings.MtaSts(true, 7, Duration.ofDays(1), Duration.ofSeconds(60), "/etc/sts-ca.pem"), m);
        // not for [host], LMTP, an explicit policy table entry or the relayhost (a DANE level: on the dane branch)
        assertFalse(SmtpClientParameters.SMTP.settings(cf(on), NextHop.smtp("sts.example", 25, false)).mtaSts().enabled());
        assertFalse(SmtpClientParameters.LMTP.settings(cf(on), domain).mtaSts().enabled());
        assertFalse(SmtpClientParameters.SMTP.settings(cf(on + "smtp_tls_policy_maps = inline:{sts.example=may}"),
                domain).mtaSts().enabled());
        assertTrue(SmtpClientParameters.SMTP.settings(cf(on + "smtp_tls_policy_maps = inline:{other.example=may}"),
                domain).mtaSts().enabled());
        assertFalse(SmtpClientParameters.SMTP.settings(cf(on + "relayhost = sts.example"), domain).mtaSts().enabled());
    }

    @Test
    void everySmtpParameterReachesTheSettings() {
        SmtpClientSettings s = settings(cf(String.join("\n",
                "smtp_helo_name = helo.example", "smtp_skip_5xx_greeting = no", "smtp_always_send_ehlo = no",
                "smtp_never_send_ehlo = yes", "smtp_skip_quit_response = no", "smtp_quote_rfc821_envelope = no",
                "smtp_discard_ehlo_keywords = PIPELINING, dsn", "smtp_bind_address = 127.0.0.2",
                "disable_mime_output_conversion = yes", "smtp_randomize_addresses = no", "smtp_mx_address_limit = 0",
                "smtp_mx_session_limit = 3", "ignore_mx_lookup_error = yes", "smtp_defer_if_no_mx_address_found = yes",
                "disable_dns_lookups = yes", "smtp_host_lookup = native, dns", "inet_protocols = ipv6",
                "fallback_relay = [relay1.example], relay2.example:2525", "inet_interfaces = 127.0.0.1",
                "proxy_interfaces = 192.0.2.1", "best_mx_transport = local",
                "smtp_connection_cache_on_demand = no", "smtp_connection_cache_reuse_limit = 3",
                "smtp_connection_cache_time_limit = 5s")), false);
        assertEquals("helo.example", s.heloName());
        assertEquals(new SmtpClientSettings.Session(false, false, true, false, false, List.of("pipelining", "dsn"),
                "127.0.0.2", "", false), s.session());
        assertEquals(new SmtpClientSettings.Routing(false, 0, 3, true, true, true, List.of("native", "dns"), false, true,
                List.of("[relay1.example]", "relay2.example:2525"), List.of("127.0.0.1", "192.0.2.1"),
                s.routing().ownNames(), "local"), s.routing());
        assertEquals(new SmtpClientSettings.Cache(false, 3, Duration.ofSeconds(5)), s.cache());
    }

    @Test
    void lmtpModeUsesTheLmtpNames() {
        SmtpClientSettings s = settings(cf(String.join("\n",
                "lmtp_lhlo_name = lhlo.example", "lmtp_lhlo_timeout = 7s", "lmtp_skip_quit_response = no",
                "lmtp_discard_lhlo_keywords = 8bitmime", "lmtp_cache_connection = no",
                "lmtp_connection_cache_time_limit = 9s", "fallback_relay = [relay.example]",
                "inet_interfaces = 127.0.0.1")), true);
        assertEquals("lhlo.example", s.heloName());
        assertEquals(Duration.ofSeconds(7), s.heloTimeout());
        assertFalse(s.session().skipQuitResponse());
        assertEquals(List.of("8bitmime"), s.session().discardEhloKeywords());
        assertEquals(List.of(), s.routing().fallbackRelays(), "no fallback relays for LMTP");
        assertEquals(new SmtpClientSettings.Cache(false, 0, Duration.ofSeconds(9)), s.cache());
    }

    @Test
    void xforwardCommandAndTimeoutPerFlavour() {
        SmtpClientSettings.Session defaults = settings(cf("inet_interfaces = 127.0.0.1"), false).session();
        assertFalse(defaults.sendXforward());
        assertEquals(Duration.ofSeconds(300), defaults.xforwardTimeout(), "smtp_xforward_timeout's default");
        Config c = cf(String.join("\n", "smtp_send_xforward_command = yes", "smtp_xforward_timeout = 7s",
                "lmtp_xforward_timeout = 2m", "inet_interfaces = 127.0.0.1"));
        SmtpClientSettings.Session smtp = settings(c, false).session();
        assertTrue(smtp.sendXforward());
        assertEquals(Duration.ofSeconds(7), smtp.xforwardTimeout());
        SmtpClientSettings.Session lmtp = settings(c, true).session();
        assertFalse(lmtp.sendXforward(), "lmtp_send_xforward_command, not smtp_send_xforward_command");
        assertEquals(Duration.ofMinutes(2), lmtp.xforwardTimeout());
    }

    @Test
    void connectionCacheDestinationsEnableCachingPerNextHop() {
        Config c = cf("smtp_connection_cache_on_demand = no\n"
                + "smtp_connection_cache_destinations = example.com, [relay.example]:2525\ninet_interfaces = 127.0.0.1");
        assertTrue(SmtpClientParameters.of(false).settings(c, NextHop.smtp("example.com", 25, true)).cache().enabled());
        assertTrue(SmtpClientParameters.of(false).settings(c, NextHop.smtp("relay.example", 2525, false)).cache().enabled());
        assertFalse(SmtpClientParameters.of(false).settings(c, NextHop.smtp("relay.example", 25, false)).cache().enabled());
        assertFalse(SmtpClientParameters.of(false).settings(c, NextHop.smtp("other.example", 25, true)).cache().enabled());
    }

    /* cache - the SMTP cache settings of a next hop under this main.cf */
    private static SmtpClientSettings.Cache cache(String mainCf, NextHop hop) {
        return SmtpClientParameters.of(false).settings(cf(mainCf + "\ninet_interfaces = 127.0.0.1"), hop).cache();
    }

    @Test
    void onDemandCachingKeepsASessionOnlyWhileTheDestinationHasABacklog() {
        NextHop listed = NextHop.smtp("relay.example", 2525, false);
        NextHop other = NextHop.smtp("other.example", 25, true);
        String list = "smtp_connection_cache_destinations = [relay.example]:2525";
        // on_demand = yes (the default), not listed: kept after a request with a backlog only
        SmtpClientSettings.Cache demand = cache(list, other);
        assertTrue(demand.enabled() && demand.onDemand());
        assertTrue(demand.keeps(true));
        assertFalse(demand.keeps(false), "a one-off message does not leave a connection open");
        // listed: always kept, with or without a backlog, whatever on_demand says
        for (String onDemand : List.of("yes", "no")) {
            SmtpClientSettings.Cache always = cache(list + "\nsmtp_connection_cache_on_demand = " + onDemand, listed);
            assertTrue(always.enabled());
            assertFalse(always.onDemand());
            assertTrue(always.keeps(true) && always.keeps(false), "on_demand = " + onDemand);
        }
        // on_demand = no, not listed: never kept
        SmtpClientSettings.Cache off = cache(list + "\nsmtp_connection_cache_on_demand = no", other);
        assertFalse(off.enabled());
        assertFalse(off.keeps(true) || off.keeps(false));
    }

    @Test
    void lmtpCacheConnectionKeepsTheSessionWithoutABacklog() {
        Config on = cf("inet_interfaces = 127.0.0.1");
        SmtpClientSettings.Cache lmtp = SmtpClientParameters.of(true).settings(on, NextHop.lmtpInet("127.0.0.1", 24))
                .cache();
        assertFalse(lmtp.onDemand(), "lmtp_cache_connection = yes caches always, as lmtp(8) does");
        assertTrue(lmtp.keeps(false));
        Config off = cf("lmtp_cache_connection = no\ninet_interfaces = 127.0.0.1");
        assertFalse(SmtpClientParameters.of(true).settings(off, NextHop.lmtpInet("127.0.0.1", 24)).cache()
                .keeps(true));
    }

    @Test
    void theOldCacheConstructorsMeanPermanentCachingAndOldMessagesHaveABacklog() {
        assertTrue(new SmtpClientSettings.Cache(true, 0, Duration.ofSeconds(2)).keeps(false));
        assertFalse(new SmtpClientSettings.Cache(false, 0, Duration.ofSeconds(2), null, true).onDemand(),
                "caching off is not on demand");
        org.postern.smtp.api.OutboundMessage m = SmtpTestSupport.message("x\r\n", "a@x.test");
        assertTrue(m.backlog(), "a caller that does not know caches as before");
        assertFalse(m.withBacklog(false).backlog());
        assertEquals(m.recipients(), m.withBacklog(false).recipients());
        assertTrue(m.withBacklog(true) == m);
    }

    @Test
    void recipientLimitsPerTransport() {
        Config c = cf("default_destination_recipient_limit = 7\nlmtp_destination_recipient_limit = 1");
        assertEquals(7, recipientLimit(c, NextHop.smtp("x.example", 25, true)));
        assertEquals(1, recipientLimit(c, NextHop.lmtpInet("127.0.0.1", 24)));
        assertEquals(0, recipientLimit(cf("smtp_destination_recipient_limit = 0"),
                NextHop.smtp("x.example", 25, true)), "0 = unlimited");
    }

    @Test
    void concurrencyLimitsPerTransport() {
        Config c = cf("default_destination_concurrency_limit = 4\nlmtp_destination_concurrency_limit = 2");
        assertEquals(4, concurrencyLimit(c, NextHop.smtp("x.example", 25, true)));
        assertEquals(2, concurrencyLimit(c, NextHop.lmtpUnix("/run/lmtp")));
        assertEquals(20, concurrencyLimit(cf(""), NextHop.smtp("x.example", 25, true)));
    }

    @Test
    void tlsLevelFromMainCfAndFromThePolicyMapOfTheNextHop(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path policy = dir.resolve("tls_policy");
        java.nio.file.Files.writeString(policy, String.join("\n", "secure.example secure", ".sub.example verify",
                "[relay.example]:587 encrypt", "strict.example secure match=mx.strict.example:.strict.example", ""));
        Config c = cf(String.join("\n", "smtp_tls_security_level = may", "smtp_tls_CAfile = /etc/ssl/ca.pem",
                "smtp_tls_policy_maps = texthash:" + policy, "inet_interfaces = 127.0.0.1"));
        SmtpClientSettings.Tls plain = SmtpClientParameters.of(false).settings(c, NextHop.smtp("other.example", 25, true)).tls();
        assertEquals(new SmtpClientSettings.Tls("may", "/etc/ssl/ca.pem", "", List.of("hostname"), Duration.ofSeconds(300)), plain);
        assertEquals(List.of("nexthop", "dot-nexthop"),
                SmtpClientParameters.of(false).settings(c, NextHop.smtp("secure.example", 25, true)).tls().match());
        assertEquals("secure", SmtpClientParameters.of(false).settings(c, NextHop.smtp("secure.example", 25, true)).tls().level());
        assertEquals("verify", SmtpClientParameters.of(false).settings(c, NextHop.smtp("a.sub.example", 25, true)).tls().level());
        assertEquals("encrypt", SmtpClientParameters.of(false).settings(c, NextHop.smtp("relay.example", 587, false)).tls().level());
        assertEquals("may", SmtpClientParameters.of(false).settings(c, NextHop.smtp("relay.example", 25, false)).tls().level());
        assertEquals(List.of("mx.strict.example", ".strict.example"),
                SmtpClientParameters.of(false).settings(c, NextHop.smtp("strict.example", 25, true)).tls().match());
        assertEquals("none", SmtpClientParameters.of(false).settings(cf("inet_interfaces = 127.0.0.1"), null).tls().level());
    }

    @Test
    void saslParametersReachTheSettingsWithoutAnyPassword() {
        SmtpClientSettings.Sasl sasl = settings(cf(String.join("\n", "smtp_sasl_auth_enable = yes",
                "smtp_sasl_password_maps = texthash:/etc/postern/sasl_passwd", "smtp_sasl_tls_security_options = noanonymous",
                "smtp_sasl_mechanism_filter = plain, login", "inet_interfaces = 127.0.0.1")), false).sasl();
        assertEquals(new SmtpClientSettings.Sasl(true, List.of("texthash:/etc/postern/sasl_passwd"),
                List.of("noplaintext", "noanonymous"), List.of("noanonymous"), List.of("PLAIN", "LOGIN")), sasl);
        assertFalse(settings(cf("inet_interfaces = 127.0.0.1"), true).sasl().enabled());
    }

    private static SmtpClientSettings settings(Config c, boolean lmtp) {
        return SmtpClientParameters.of(lmtp).settings(c);
    }

    private static int recipientLimit(Config c, NextHop hop) {
        return SmtpClientParameters.of(hop).recipientLimit(c);
    }

    private static int concurrencyLimit(Config c, NextHop hop) {
        return SmtpClientParameters.of(hop).concurrencyLimit(c);
    }

    private static SmtpClientSettings.Tls tls(String mainCf, String nexthop) {
        Config c = Config.parse(mainCf, "main.cf");
        return SmtpClientParameters.SMTP.settings(c, NextHop.parseSmtp(nexthop)).tls();
    }

    @Test
    void thePostfix22TlsNamesMapOntoSecurityLevelsWhenTheLevelIsEmpty() {
        assertEquals("none", tls("", "example.com").level());
        assertEquals("may", tls("smtp_use_tls = yes", "example.com").level());
        assertEquals("verify", tls("smtp_enforce_tls = yes", "example.com").level());
        assertEquals("verify", tls("smtp_use_tls = yes\nsmtp_enforce_tls = yes", "example.com").level());
        assertEquals("encrypt", tls("smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no", "example.com").level());
        // an explicit level wins
        assertEquals("may", tls("smtp_enforce_tls = yes\nsmtp_tls_security_level = may", "example.com").level());
        assertEquals("none", tls("smtp_use_tls = yes\nsmtp_tls_security_level = none", "example.com").level());
        // the LMTP client reads the lmtp_ names, not the smtp_ ones
        Config c = Config.parse("lmtp_enforce_tls = yes\nlmtp_tls_enforce_peername = no\nsmtp_use_tls = yes", "main.cf");
        assertEquals("encrypt", SmtpClientParameters.LMTP.settings(c, null).tls().level());
        assertEquals("none", SmtpClientParameters.LMTP.settings(Config.parse("smtp_enforce_tls = yes", "main.cf"), null)
                .tls().level());
    }

    @Test
    void perSiteActionsCombineAsTlsReadmeSays() {
        String table = "smtp_tls_per_site = inline:{example.com=MAY, mx1.example.com=MUST, mx2.example.com=NONE, "
                + "plain.example=NONE, strict.example=MUST_NOPEERMATCH, odd.example=PERHAPS}\n";
        // next hop only
        assertEquals("may", tls(table, "example.com").level());
        assertEquals("encrypt", tls(table, "strict.example").level());
        assertEquals("invalid", tls(table, "odd.example").level());
        assertTrue(tls(table, "odd.example").required(), "an invalid policy never sends in the clear");
        // a MAY wild card gives way to a stronger global level; NONE of the site does not
        assertEquals("encrypt", tls(table + "smtp_tls_security_level = encrypt", "example.com").level());
        assertEquals("none", tls(table + "smtp_tls_security_level = encrypt", "plain.example").level());
        // not in the table: the global level
        assertEquals("may", tls(table + "smtp_use_tls = yes", "other.example").level());
        // the server's host name: MUST raises the next hop's MAY to verify, NONE lowers it to none
        SmtpClientSettings.Tls t = tls(table, "example.com");
        assertEquals("verify", t.forHost("mx1.example.com").level());
        assertEquals("none", t.forHost("mx2.example.com").level());
        assertEquals("may", t.forHost("mx3.example.com").level());
        // NONE for the host does not lower a next hop's MUST_NOPEERMATCH
        String both = "smtp_tls_per_site = inline:{strict.example=MUST_NOPEERMATCH, mx.strict.example=NONE}";
        assertEquals("encrypt", tls(both, "strict.example").forHost("mx.strict.example").level());
        // smtp_tls_policy_maps set: smtp_tls_per_site is ignored
        assertEquals("none", tls(table + "smtp_tls_policy_maps = inline:{other=may}", "strict.example").level());
    }

    @Test
    void aPolicyTableLevelPosternDoesNotImplementIsInvalidNotOpportunistic() {
        SmtpClientSettings.Tls t = tls("smtp_tls_policy_maps = inline:{example.com=fingerprint}", "example.com");
        assertTrue(t.invalid());
        assertTrue(t.required());
        assertFalse(tls("smtp_tls_policy_maps = inline:{example.com=may}", "example.com").invalid());
        assertFalse(tls("smtp_tls_policy_maps = inline:{example.com=dane-only}", "example.com").invalid());
    }

    @Test
    void daneNeedsDnssecLookupsAndTakesTheInsecureMxPolicyDefaultFromTheGlobalLevel() {
        SmtpClientSettings.Tls off = tls("smtp_tls_security_level = dane", "example.com");
        assertEquals("dane", off.level());
        assertEquals("dnssec lookups disabled", off.dane().unavailable());
        SmtpClientSettings.Tls on = tls("smtp_tls_security_level = dane\nsmtp_dns_support_level = dnssec", "example.com");
        assertTrue(on.dane().available());
        assertTrue(on.daneBased());
        assertEquals("dane", on.dane().insecureMxPolicy(), "Postfix 3.6: dane when the global level is dane");
        String viaTable = "smtp_dns_support_level = dnssec\nsmtp_tls_security_level = may\n"
                + "smtp_tls_policy_maps = inline:{example.com=dane}";
        assertEquals("may", tls(viaTable, "example.com").dane().insecureMxPolicy(), "else may");
        assertEquals("encrypt", tls(viaTable + "\nsmtp_tls_dane_insecure_mx_policy = encrypt", "example.com")
                .dane().insecureMxPolicy());
        assertEquals("MX lookup errors ignored", tls("smtp_tls_security_level = dane\nsmtp_dns_support_level = dnssec\n"
                + "ignore_mx_lookup_error = yes", "example.com").dane().unavailable());
        assertEquals("dnssec lookups disabled", tls("smtp_tls_security_level = dane\nsmtp_dns_support_level = dnssec\n"
                + "smtp_host_lookup = native", "example.com").dane().unavailable());
        // smtp_dns_support_level = disabled is disable_dns_lookups; when set it overrides that
        assertTrue(SmtpClientParameters.SMTP.settings(cf("smtp_dns_support_level = disabled"),
                NextHop.parseSmtp("example.com")).routing().disableDnsLookups());
        assertFalse(SmtpClientParameters.SMTP.settings(cf("smtp_dns_support_level = enabled\ndisable_dns_lookups = yes"),
                NextHop.parseSmtp("example.com")).routing().disableDnsLookups());
    }

    @Test
    void protocolListsAndCipherExclusionsInPostfixSyntax() {
        String[] supported = {"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"};
        assertEquals(List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
                List.of(SmtpTls.protocols(List.of("!SSLv2", "!SSLv3"), supported)));
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), List.of(SmtpTls.protocols(List.of(">=TLSv1.2"), supported)));
        assertEquals(List.of("TLSv1.2"), List.of(SmtpTls.protocols(List.of(">=TLSv1.2", "<=TLSv1.2"), supported)));
        assertEquals(List.of("TLSv1.3"), List.of(SmtpTls.protocols(List.of("TLSv1.3"), supported)));
        assertEquals(List.of("TLSv1.1", "TLSv1.3"),
                List.of(SmtpTls.protocols(List.of("!TLSv1, !TLSv1.2"), supported)));
        assertEquals(List.of(), List.of(SmtpTls.protocols(List.of("SSLv3"), supported)), "SSLv3 is never used");
        assertEquals("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SmtpTls.openSslName("ECDHE-RSA-AES128-GCM-SHA256"));
        assertEquals("TLS_RSA_WITH_AES_256_CBC_SHA", SmtpTls.openSslName("AES256-SHA"));
        assertEquals("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                SmtpTls.openSslName("ECDHE-ECDSA-CHACHA20-POLY1305"));
        String[] suites = {"TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"};
        assertEquals(List.of("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
                List.of(SmtpTls.ciphers(suites, List.of("SHA1"))));
        assertEquals(List.of("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
                "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
                List.of(SmtpTls.ciphers(suites, List.of("ECDHE-RSA-AES128-GCM-SHA256"))));
        assertEquals(List.of("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
                List.of(SmtpTls.ciphers(suites, List.of("kRSA"))));
    }

    @Test
    void theObsoleteCipherlistsExclusionsAreKept() {
        Config c = Config.parse("smtp_tls_cipherlist = ALL:!aNULL:!MD5:-RC4\nsmtp_tls_exclude_ciphers = DES", "main.cf");
        assertEquals(List.of("DES", "aNULL", "MD5", "RC4"),
                SmtpClientParameters.SMTP.settings(c, null).tls().options().excludeCiphers());
    }

    @Test
    void aClientKeyFileThatCannotBeReadRefusesTheConfigurationWithItsLine() {
        Config c = Config.parse("myhostname = a.example\nsmtp_tls_cert_file = /nonexistent/client.pem\n", "main.cf");
        org.postern.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.postern.config.ConfigException.class, () -> SmtpClientParameters.validate(c));
        assertEquals(2, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("smtp_tls_cert_file: cannot read /nonexistent/client.pem"), e.getMessage());
        SmtpClientParameters.validate(Config.parse("smtp_use_tls = yes", "main.cf"));
    }
}
