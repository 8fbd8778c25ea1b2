package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigParseTest {
    private static final String F = "/etc/postern/main.cf";

    private static ConfigException error(String text) {
        return assertThrows(ConfigException.class, () -> Config.parse(text, F));
    }

    @Test
    void nameValueWithAndWithoutSpaces() {
        Config c = Config.parse("mail_name=Alpha\nrelayhost   =   [mx.example.com]:587   \nsyslog_name =\n", F);
        assertEquals("Alpha", c.get(Parameters.MAIL_NAME));
        assertEquals("[mx.example.com]:587", c.get(Parameters.RELAYHOST));
        assertEquals("", c.get(Parameters.SYSLOG_NAME));
        assertTrue(c.isExplicit(Parameters.RELAYHOST));
        assertFalse(c.isExplicit(Parameters.MYORIGIN));
    }

    @Test
    void commentsAndBlankLinesAreIgnored() {
        Config c = Config.parse("# a comment\n\n   # indented comment\n \t \nmail_name = X # not a comment\n", F);
        assertEquals("X # not a comment", c.get(Parameters.MAIL_NAME));
        assertEquals(List.of(), c.warnings());
    }

    @Test
    void continuationLinesJoinWithOneSpace() {
        Config c = Config.parse("mydestination = a.example,\n    b.example,\n\t\tc.example\nmail_name = M\n", F);
        assertEquals("a.example, b.example, c.example", c.text(Parameters.MYDESTINATION));
        assertEquals(List.of("a.example", "b.example", "c.example"), c.get(Parameters.MYDESTINATION));
        assertEquals("M", c.get(Parameters.MAIL_NAME));
    }

    @Test
    void commentInsideAContinuationDoesNotEndIt() {
        Config c = Config.parse("mynetworks = 10.0.0.0/8\n# the lab\n  192.0.2.0/24\n", F);
        assertEquals(List.of("10.0.0.0/8", "192.0.2.0/24"), c.get(Parameters.MYNETWORKS));
    }

    @Test
    void crlfLineEndingsAreAccepted() {
        Config c = Config.parse("mail_name = CR\r\nmydestination = a,\r\n  b\r\n", F);
        assertEquals("CR", c.get(Parameters.MAIL_NAME));
        assertEquals("a, b", c.text(Parameters.MYDESTINATION));
    }

    @Test
    void laterDefinitionOverridesEarlier() {
        Config c = Config.parse("message_size_limit = 1\nmessage_size_limit = 2\n", F);
        assertEquals(2L, c.get(Parameters.MESSAGE_SIZE_LIMIT));
    }

    @Test
    void missingEqualsIsASyntaxErrorWithFileAndLine() {
        ConfigException e = error("# comment\nmail_name = x\nfoo\n");
        assertEquals("/etc/postern/main.cf, line 3: missing '=' after attribute name: \"foo\"", e.getMessage());
        assertEquals(3, e.line());
        assertEquals(F, e.origin());
        e = error("foo bar = baz\n");
        assertEquals("/etc/postern/main.cf, line 1: missing '=' after attribute name: \"foo\"", e.getMessage());
    }

    @Test
    void missingNameIsAnError() {
        assertEquals("/etc/postern/main.cf, line 2: missing attribute name", error("\n= value\n").getMessage());
    }

    @Test
    void continuationBeforeAnyParameterIsAnError() {
        ConfigException e = error("# header\n   mail_name = x\n");
        assertEquals(2, e.line());
        assertTrue(e.getMessage().startsWith("/etc/postern/main.cf, line 2: logical line must not start with whitespace"),
                e.getMessage());
    }

    @Test
    void errorOnAContinuedLineNamesItsFirstLine() {
        ConfigException e = error("mail_name = x\nsmtpd_timeout\n  = 5x\n");
        assertEquals("/etc/postern/main.cf, line 2: bad time value or unit: smtpd_timeout = 5x", e.getMessage());
    }

    @Test
    void unknownNameInGetIsIllegalArgument() {
        Config c = Config.parse("foo = bar\n", F);
        assertThrows(IllegalArgumentException.class, () -> c.text("foo"));
        assertThrows(IllegalArgumentException.class, () -> c.text("alias_maps"));
    }

    @Test
    void typedGetReturnsTheParsedValueAndTextTheExpandedOne() {
        // a getter of the wrong type no longer compiles: Parameter<T> carries the type
        Config c = Config.parse("smtpd_timeout = 5m\nmessage_size_limit = 2048\n", F);
        assertEquals(java.time.Duration.ofMinutes(5), c.get(Parameters.SMTPD_TIMEOUT));
        assertEquals("5m", c.text(Parameters.SMTPD_TIMEOUT));
        assertEquals(2048L, c.get(Parameters.MESSAGE_SIZE_LIMIT));
        assertEquals("2048", c.text("message_size_limit"));
    }

    @Test
    void overridesReplaceAndAreValidated() {
        Config base = Config.parse("smtpd_timeout = 60s\nmail_name = Base\n", F);
        Map<String, String> o = new LinkedHashMap<>();
        o.put("smtpd_timeout", "10s");
        o.put("smtpd_banner", "$myhostname ready");
        Config c = base.withOverrides(o, "master.cf, line 7");
        assertEquals(java.time.Duration.ofSeconds(10), c.get(Parameters.SMTPD_TIMEOUT));
        assertEquals(c.get(Parameters.MYHOSTNAME) + " ready", c.get(Parameters.SMTPD_BANNER));
        assertEquals("Base", c.get(Parameters.MAIL_NAME));
        // the base is unchanged
        assertEquals(java.time.Duration.ofSeconds(60), base.get(Parameters.SMTPD_TIMEOUT));

        ConfigException e = assertThrows(ConfigException.class,
                () -> base.withOverrides(Map.of("message_size_limit", "big"), "master.cf, line 7"));
        assertEquals("master.cf, line 7: bad numerical configuration: message_size_limit = big", e.getMessage());
    }

    @Test
    void overrideCanChangeWhatMainCfValuesExpandTo() {
        Config base = Config.parse("myhostname = a.example.com\n", F);
        Config c = base.withOverrides(Map.of("myhostname", "b.example.com"), "master.cf, line 2");
        assertEquals("b.example.com ESMTP Postern", c.get(Parameters.SMTPD_BANNER));
        assertEquals("example.com", c.get(Parameters.MYDOMAIN));
    }

    @Test
    void loadReadsMainCfFromTheDirectory(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("main.cf"), "mail_name = Loaded\nsmtpd_timeout = 5x\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(dir));
        assertEquals(dir.resolve("main.cf") + ", line 2: bad time value or unit: smtpd_timeout = 5x", e.getMessage());

        Files.writeString(dir.resolve("main.cf"), "mail_name = Loaded\n");
        Config c = Config.load(dir);
        assertEquals("Loaded", c.get(Parameters.MAIL_NAME));
        assertEquals(Optional.of(dir), c.configDir());
        assertEquals(dir.resolve("main.cf").toString(), c.fileName());
    }

    @Test
    void missingMainCfMeansDefaults(@TempDir Path dir) {
        Config c = Config.load(dir);
        assertEquals("Postern", c.get(Parameters.MAIL_NAME));
        assertEquals(Optional.of(dir), c.configDir());
        assertEquals(List.of(), c.warnings());
        assertEquals(Optional.empty(), Config.defaults().configDir());
    }

    @Test
    void unreadableMainCfIsAConfigException(@TempDir Path dir) throws IOException {
        Files.createDirectory(dir.resolve("main.cf"));
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(dir));
        assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
    }

    @Test
    void mydomainFollowsAConfiguredMyhostname() {
        Config c = Config.parse("myhostname = mx1.mail.example.org\n", F);
        assertEquals("mail.example.org", c.get(Parameters.MYDOMAIN));
        assertEquals(List.of("mx1.mail.example.org", "localhost.mail.example.org", "localhost"),
                c.get(Parameters.MYDESTINATION));
        Config bare = Config.parse("myhostname = gateway\n", F);
        assertEquals("localdomain", bare.get(Parameters.MYDOMAIN));
        Config both = Config.parse("myhostname = mx.a.example\nmydomain = b.example\n", F);
        assertEquals("b.example", both.get(Parameters.MYDOMAIN));
    }

    @Test
    void garbageNeverThrowsAnythingButConfigException() {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("org.postern.config");
        java.util.logging.Level level = log.getLevel();
        log.setLevel(java.util.logging.Level.OFF);
        try {
            garbage();
        } finally {
            log.setLevel(level);
        }
    }

    private static void garbage() {
        java.util.Random random = new java.util.Random(42);
        String alphabet = "ab_=$${}():?# \t\n\r,x1{}";
        for (int round = 0; round < 3000; round++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(80);
            for (int i = 0; i < len; i++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String text = random.nextBoolean() ? "mail_name = " + sb : sb.toString();
            try {
                Config.parse(text, F);
            } catch (ConfigException expected) {
                assertTrue(expected.getMessage().startsWith(F), expected.getMessage());
            }
        }
    }

    @Test
    void debiansMyoriginFileGivesItsFirstLine(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path mailname = dir.resolve("mailname");
        Files.writeString(mailname, "example.org\nsecond line ignored\n");
        Config c = Config.parse("myhostname = mx.example.org\nmyorigin = " + mailname, "main.cf");
        assertEquals("example.org", c.get(Parameters.MYORIGIN));
        ConfigException missing = assertThrows(ConfigException.class,
                () -> Config.parse("myorigin = " + dir.resolve("absent"), "main.cf"));
        assertTrue(missing.getMessage().contains("cannot read the file"), missing.getMessage());
    }
}
