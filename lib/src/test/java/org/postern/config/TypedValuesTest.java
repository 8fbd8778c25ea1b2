package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class TypedValuesTest {
    private static final String F = "/etc/postern/main.cf";

    private static Config c(String line) {
        return Config.parse(line + "\n", F);
    }

    private static String error(String line) {
        return assertThrows(ConfigException.class, () -> c(line)).getMessage();
    }

    @Test
    void timeUnits() {
        assertEquals(Duration.ofSeconds(45), c("smtpd_timeout = 45s").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ofMinutes(2), c("smtpd_timeout = 2m").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ofHours(1), c("smtpd_timeout = 1h").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ofDays(3), c("smtpd_timeout = 3d").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ofDays(14), c("smtpd_timeout = 2w").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ofHours(1), c("smtpd_timeout = 1H").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ZERO, c("smtp_connect_timeout = 0").get(Parameters.SMTP_CONNECT_TIMEOUT));
    }

    @Test
    void bareNumberUsesTheDefaultUnit() {
        assertEquals(Duration.ofSeconds(300), c("smtpd_timeout = 300").get(Parameters.SMTPD_TIMEOUT));
        assertEquals(Duration.ofDays(5), c("maximal_queue_lifetime = 5").get(Parameters.MAXIMAL_QUEUE_LIFETIME));
        assertEquals(Duration.ofDays(2), c("bounce_queue_lifetime = 2").get(Parameters.BOUNCE_QUEUE_LIFETIME));
    }

    @Test
    void badTimes() {
        assertEquals(F + ", line 1: bad time value or unit: smtpd_timeout = 5x", error("smtpd_timeout = 5x"));
        assertEquals(F + ", line 1: bad time value or unit: smtpd_timeout = ", error("smtpd_timeout ="));
        assertEquals(F + ", line 1: bad time value or unit: smtpd_timeout = s", error("smtpd_timeout = s"));
        assertEquals(F + ", line 1: bad time value or unit: smtpd_timeout = 5ss", error("smtpd_timeout = 5ss"));
        assertEquals(F + ", line 1: bad time value or unit: smtpd_timeout = -5s", error("smtpd_timeout = -5s"));
        assertEquals(F + ", line 1: bad time value or unit: smtpd_timeout = 1h30m", error("smtpd_timeout = 1h30m"));
        assertTrue(error("smtpd_timeout = 99999999999w").contains("too large"));
        assertTrue(error("smtpd_timeout = 9999999999999999999999").contains("bad time value"));
    }

    @Test
    void sizesAndInts() {
        assertEquals(0L, c("message_size_limit = 0").get(Parameters.MESSAGE_SIZE_LIMIT));
        assertEquals(52428800000L, c("message_size_limit = 52428800000").get(Parameters.MESSAGE_SIZE_LIMIT));
        assertEquals(5, c("smtpd_recipient_limit = 5").get(Parameters.SMTPD_RECIPIENT_LIMIT));
    }

    @Test
    void badNumbers() {
        assertEquals(F + ", line 1: bad numerical configuration: message_size_limit = abc",
                error("message_size_limit = abc"));
        assertEquals(F + ", line 1: bad numerical configuration: message_size_limit = 10k",
                error("message_size_limit = 10k"));
        assertEquals(F + ", line 1: bad numerical configuration: smtpd_recipient_limit = ",
                error("smtpd_recipient_limit ="));
        assertEquals(F + ", line 1: invalid smtpd_recipient_limit parameter value -1 < 0",
                error("smtpd_recipient_limit = -1"));
        assertEquals(F + ", line 1: invalid smtpd_recipient_limit parameter value 2147483648 > 2147483647",
                error("smtpd_recipient_limit = 2147483648"));
        assertTrue(error("message_size_limit = 99999999999999999999").contains("bad numerical configuration"));
        assertTrue(error("smtpd_recipient_limit = \u0663").contains("bad numerical configuration"));
    }

    @Test
    void booleansAndChoices() {
        // no BOOLEAN parameter is registered yet: test the parser directly
        assertTrue(TypedValues.bool("x", "yes"));
        assertTrue(TypedValues.bool("x", "YES"));
        assertFalse(TypedValues.bool("x", "no"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TypedValues.bool("x", "true"));
        assertEquals("bad boolean configuration: x = true", e.getMessage());

        assertEquals("reject", c("smtpd_forbid_bare_newline = REJECT").get(Parameters.SMTPD_FORBID_BARE_NEWLINE));
        assertEquals("yes", c("smtpd_forbid_bare_newline = yes").get(Parameters.SMTPD_FORBID_BARE_NEWLINE));
        assertEquals(F + ", line 1: invalid smtpd_forbid_bare_newline value: \"strict\""
                        + " (specify one of: normalize, yes, reject, no)",
                error("smtpd_forbid_bare_newline = strict"));
    }

    @Test
    void lists() {
        Config c = c("mydestination = a, b  c,,\td ,");
        assertEquals(List.of("a", "b", "c", "d"), c.get(Parameters.MYDESTINATION));
        assertEquals(List.of(), c("mydestination =").get(Parameters.MYDESTINATION));
        assertEquals(List.of("inline:{ a=b, c=d }", "texthash:/etc/postern/transport"),
                c("transport_maps = inline:{ a=b, c=d }, texthash:/etc/postern/transport").get(Parameters.TRANSPORT_MAPS));
        assertEquals(F + ", line 1: bad list syntax: transport_maps = inline:{ a=b: missing '}' in: inline:{ a=b",
                error("transport_maps = inline:{ a=b"));
    }

    @Test
    void listsHelper() {
        assertEquals(List.of("x y", "z"), Lists.split("{ x y }, z"));
        assertEquals(List.of("a{b c}d"), Lists.split("a{b c}d"));
        assertThrows(IllegalArgumentException.class, () -> Lists.split("a}"));
        assertThrows(IllegalArgumentException.class, () -> Lists.split("{a"));
    }
}
