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
        for (Parameter<?> p : Parameters.all().values()) {
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
        for (Parameter<?> p : Parameters.all().values()) {
            // get() succeeds for every registered parameter; the typed value was parsed at construction
            c.get(p);
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
        assertEquals(10240000L, c.get(Parameters.MESSAGE_SIZE_LIMIT));
        assertEquals(2048, c.get(Parameters.LINE_LENGTH_LIMIT));
        assertEquals(Duration.ofSeconds(300), c.get(Parameters.SMTPD_TIMEOUT));
        assertEquals(1000, c.get(Parameters.SMTPD_RECIPIENT_LIMIT));
        assertEquals(20, c.get(Parameters.SMTPD_HARD_ERROR_LIMIT));
        assertEquals(10, c.get(Parameters.SMTPD_SOFT_ERROR_LIMIT));
        assertEquals(Duration.ofSeconds(1), c.get(Parameters.SMTPD_ERROR_SLEEP_TIME));
        assertEquals(Duration.ofDays(5), c.get(Parameters.MAXIMAL_QUEUE_LIFETIME));
        assertEquals(Duration.ofDays(5), c.get(Parameters.BOUNCE_QUEUE_LIFETIME));
        assertEquals(Duration.ofSeconds(4000), c.get(Parameters.MAXIMAL_BACKOFF_TIME));
        assertEquals(Duration.ofSeconds(300), c.get(Parameters.MINIMAL_BACKOFF_TIME));
        assertEquals(Duration.ofSeconds(300), c.get(Parameters.QUEUE_RUN_DELAY));
        assertEquals(Duration.ofSeconds(30), c.get(Parameters.SMTP_CONNECT_TIMEOUT));
        assertEquals(Duration.ZERO, c.get(Parameters.LMTP_CONNECT_TIMEOUT));
        assertEquals(Duration.ofSeconds(300), c.get(Parameters.LMTP_LHLO_TIMEOUT));
        assertEquals(Duration.ofSeconds(600), c.get(Parameters.LMTP_DATA_DONE_TIMEOUT));
        assertEquals(Duration.ofSeconds(20), c.get(Parameters.SMTP_RSET_TIMEOUT));
        assertEquals(998, c.get(Parameters.SMTP_LINE_LENGTH_LIMIT));
        assertEquals(50, c.get(Parameters.DEFAULT_DESTINATION_RECIPIENT_LIMIT));
        assertEquals(50, c.get(Parameters.LMTP_DESTINATION_RECIPIENT_LIMIT));
        assertEquals("24", c.get(Parameters.LMTP_TCP_PORT));
        assertEquals("smtp", c.get(Parameters.DEFAULT_TRANSPORT));
        assertEquals("relay", c.get(Parameters.RELAY_TRANSPORT));
        assertEquals("", c.get(Parameters.RELAYHOST));
        assertEquals(List.of(), c.get(Parameters.RELAY_DOMAINS));
        assertEquals(List.of(), c.get(Parameters.TRANSPORT_MAPS));
        assertEquals(List.of("127.0.0.0/8", "[::1]/128"), c.get(Parameters.MYNETWORKS));
        assertEquals("Postern", c.get(Parameters.MAIL_NAME));
        assertEquals("0.1.0", c.get(Parameters.MAIL_VERSION));
        assertEquals("postern", c.get(Parameters.SYSLOG_NAME));
        assertEquals("normalize", c.get(Parameters.SMTPD_FORBID_BARE_NEWLINE));
        assertEquals(List.of("127.0.0.0/8", "[::1]/128"), c.get(Parameters.SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS));
        assertEquals(550, c.get(Parameters.SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE));
    }

    @Test
    void hostNameDefaultsAreQualified() {
        Config c = Config.defaults();
        String host = c.get(Parameters.MYHOSTNAME);
        assertTrue(host.contains("."), host);
        assertEquals(host.substring(host.indexOf('.') + 1), c.get(Parameters.MYDOMAIN));
        assertEquals(host, c.get(Parameters.MYORIGIN));
        assertEquals(host, c.get(Parameters.SMTP_HELO_NAME));
        assertEquals(host + " ESMTP Postern", c.get(Parameters.SMTPD_BANNER));
        assertEquals(List.of(host, "localhost." + c.get(Parameters.MYDOMAIN), "localhost"), c.get(Parameters.MYDESTINATION));
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
