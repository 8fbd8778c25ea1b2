package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ParametersTest {

    @Test
    void everyParameterHasADoc() {
        List<String> undocumented = new ArrayList<>();
        for (Parameter p : Parameters.all().values()) {
            if (p.doc().isBlank()) {
                undocumented.add(p.name());
            }
        }
        if (!undocumented.isEmpty()) {
            fail("parameters without documentation: " + undocumented);
        }
    }

    @Test
    void everyDefaultIsValidForItsType() {
        Config c = Config.defaults();
        for (Parameter p : Parameters.all().values()) {
            // get() succeeds for every registered parameter; the typed value was parsed at construction
            c.get(p.name());
        }
    }

    @Test
    void everyRegisteredNameIsAPostfixNameExceptPosternsOwn() {
        // Postern keeps Postfix's names; a registered name that Postfix does not know is a typo
        for (String name : Parameters.all().keySet()) {
            assertTrue(Parameters.isPostfixParameter(name), name);
        }
        assertTrue(Parameters.isPostfixParameter("alias_maps"));
        assertFalse(Parameters.isPostfixParameter("no_such_parameter_anywhere"));
    }

    @Test
    void postfixDefaults() {
        Config c = Config.defaults();
        assertEquals(10240000L, c.getSize("message_size_limit"));
        assertEquals(2048, c.getInt("line_length_limit"));
        assertEquals(Duration.ofSeconds(300), c.getTime("smtpd_timeout"));
        assertEquals(1000, c.getInt("smtpd_recipient_limit"));
        assertEquals(20, c.getInt("smtpd_hard_error_limit"));
        assertEquals(10, c.getInt("smtpd_soft_error_limit"));
        assertEquals(Duration.ofSeconds(1), c.getTime("smtpd_error_sleep_time"));
        assertEquals(Duration.ofDays(5), c.getTime("maximal_queue_lifetime"));
        assertEquals(Duration.ofDays(5), c.getTime("bounce_queue_lifetime"));
        assertEquals(Duration.ofSeconds(4000), c.getTime("maximal_backoff_time"));
        assertEquals(Duration.ofSeconds(300), c.getTime("minimal_backoff_time"));
        assertEquals(Duration.ofSeconds(300), c.getTime("queue_run_delay"));
        assertEquals(Duration.ofSeconds(30), c.getTime("smtp_connect_timeout"));
        assertEquals(Duration.ZERO, c.getTime("lmtp_connect_timeout"));
        assertEquals(Duration.ofSeconds(300), c.getTime("lmtp_lhlo_timeout"));
        assertEquals(Duration.ofSeconds(600), c.getTime("lmtp_data_done_timeout"));
        assertEquals(Duration.ofSeconds(20), c.getTime("smtp_rset_timeout"));
        assertEquals(998, c.getInt("smtp_line_length_limit"));
        assertEquals(50, c.getInt("default_destination_recipient_limit"));
        assertEquals(50, c.getInt("lmtp_destination_recipient_limit"));
        assertEquals("24", c.get("lmtp_tcp_port"));
        assertEquals("smtp", c.get("default_transport"));
        assertEquals("relay", c.get("relay_transport"));
        assertEquals("", c.get("relayhost"));
        assertEquals(List.of(), c.getList("relay_domains"));
        assertEquals(List.of(), c.getList("transport_maps"));
        assertEquals(List.of("127.0.0.0/8", "[::1]/128"), c.getList("mynetworks"));
        assertEquals("Postern", c.get("mail_name"));
        assertEquals("0.1.0", c.get("mail_version"));
        assertEquals("postern", c.get("syslog_name"));
        assertEquals("normalize", c.get("smtpd_forbid_bare_newline"));
        assertEquals(List.of("127.0.0.0/8", "[::1]/128"), c.getList("smtpd_forbid_bare_newline_exclusions"));
        assertEquals(550, c.getInt("smtpd_forbid_bare_newline_reject_code"));
    }

    @Test
    void hostNameDefaultsAreQualified() {
        Config c = Config.defaults();
        String host = c.get("myhostname");
        assertTrue(host.contains("."), host);
        assertEquals(host.substring(host.indexOf('.') + 1), c.get("mydomain"));
        assertEquals(host, c.get("myorigin"));
        assertEquals(host, c.get("smtp_helo_name"));
        assertEquals(host + " ESMTP Postern", c.get("smtpd_banner"));
        assertEquals(List.of(host, "localhost." + c.get("mydomain"), "localhost"), c.getList("mydestination"));
    }

    @Test
    void hostNameHelpers() {
        assertEquals("vm.localdomain", HostNames.qualify("vm"));
        assertEquals("mx.example.com", HostNames.qualify("mx.example.com"));
        assertEquals("example.com", HostNames.domainOf("mx.example.com"));
        assertEquals("localdomain", HostNames.domainOf("vm"));
        assertEquals("localdomain", HostNames.domainOf("vm."));
    }
}
