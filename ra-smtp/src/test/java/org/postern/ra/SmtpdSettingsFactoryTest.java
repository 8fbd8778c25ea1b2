package org.postern.ra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.smtpd.SmtpdSettings;

class SmtpdSettingsFactoryTest {

    @Test
    void postfixDefaultsBecomeEngineSettings() {
        SmtpdSettings s = SmtpdSettingsFactory.from(Config.parse("myhostname = mx.example.com", "main.cf"), "smtpd");
        assertEquals("mx.example.com ESMTP Postern", s.banner());
        assertEquals(10_240_000L, s.messageSizeLimit());
        assertEquals(2048, s.lineLengthLimit());
        assertEquals(Duration.ofSeconds(300), s.timeout());
        assertEquals(1000, s.recipientLimit());
        assertEquals(SmtpdSettings.BareNewline.NORMALIZE, s.bareNewline());
        // the exclusions default to $mynetworks, the loopback networks
        assertTrue(s.bareNewlineExclusions().test("127.0.0.1"));
        assertFalse(s.bareNewlineExclusions().test("192.0.2.1"));
    }

    @Test
    void masterCfOverridesApply() {
        Config main = Config.parse("message_size_limit = 1000\nmynetworks = 192.0.2.0/24", "main.cf");
        Config c = main.withOverrides(Map.of("message_size_limit", "5000", "smtpd_timeout", "10s"), "master.cf");
        SmtpdSettings s = SmtpdSettingsFactory.from(c, "587");
        assertEquals(5000, s.messageSizeLimit());
        assertEquals(Duration.ofSeconds(10), s.timeout());
        assertTrue(s.bareNewlineExclusions().test("192.0.2.9"));
    }

    @Test
    void aBadValueIsAnErrorNotAListener() {
        Config c = Config.parse("mynetworks = some.host.example", "main.cf");
        assertThrows(RuntimeException.class, () -> SmtpdSettingsFactory.from(c, "smtpd"));
    }
}
