package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WarningsTest {
    private static final String F = "/etc/postern/main.cf";
    private final Logger log = Logger.getLogger("org.postern.config");
    private final List<String> logged = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel() == Level.WARNING) {
                logged.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void capture() {
        log.addHandler(capture);
    }

    @AfterEach
    void release() {
        log.removeHandler(capture);
    }

    @Test
    void unknownNameIsUnusedParameter() {
        Config c = Config.parse("mail_name = x\nfoo = bar baz\n", F);
        List<String> expected = List.of("PSTN0101: /etc/postern/main.cf, line 2: unused parameter: foo=bar baz");
        assertEquals(expected, c.warnings());
        assertEquals(expected, logged);
    }

    @Test
    void postfixNameIsNotSupported() {
        Config c = Config.parse("alias_maps = hash:/etc/aliases\n", F);
        assertEquals(List.of("PSTN0102: /etc/postern/main.cf, line 1: parameter not supported by Postern, ignored: alias_maps"),
                c.warnings());
    }

    @Test
    void eachNameWarnsOnceWithItsLastDefinition() {
        Config c = Config.parse("foo = 1\nfoo = 2\nalias_maps = a\nalias_maps = b\n", F);
        assertEquals(List.of(
                "PSTN0101: /etc/postern/main.cf, line 2: unused parameter: foo=2",
                "PSTN0102: /etc/postern/main.cf, line 4: parameter not supported by Postern, ignored: alias_maps"),
                c.warnings());
        assertEquals(2, logged.size());
    }

    @Test
    void aReferencedNameIsUsed() {
        Config c = Config.parse("my_relays = mx.example.com\nrelayhost = [$my_relays]\n", F);
        assertEquals(List.of(), c.warnings());
        assertEquals("[mx.example.com]", c.get(Parameters.RELAYHOST));
        // a reference escaped with $$ is no reference
        Config d = Config.parse("x = 1\nmail_name = $$x\n", F);
        assertEquals(1, d.warnings().size());
    }

    @Test
    void registeredNamesDoNotWarn() {
        assertEquals(List.of(), Config.parse("mail_name = x\nsmtpd_timeout = 1s\n", F).warnings());
        assertEquals(List.of(), logged);
    }

    @Test
    void overridesWarnOnlyForTheirOwnNames() {
        Config base = Config.parse("foo = 1\n", F);
        logged.clear();
        Config c = base.withOverrides(Map.of("smtpd_proxy_filter", "127.0.0.1:10025"), "master.cf, line 3");
        assertEquals(List.of(
                "PSTN0101: /etc/postern/main.cf, line 1: unused parameter: foo=1",
                "PSTN0102: master.cf, line 3: parameter not supported by Postern, ignored: smtpd_proxy_filter"),
                c.warnings());
        assertEquals(List.of(
                "PSTN0102: master.cf, line 3: parameter not supported by Postern, ignored: smtpd_proxy_filter"),
                logged);
    }

    @Test
    void unsupportedParametersAreNotExpanded() {
        Config c = Config.parse("mynetworks_style = ${{$compatibility_level} <level {2} ? {subnet} : {host}}\n"
                + "broken = ${\n", F);
        assertEquals(List.of(
                "PSTN0102: /etc/postern/main.cf, line 1: parameter not supported by Postern, ignored: mynetworks_style",
                "PSTN0101: /etc/postern/main.cf, line 2: unused parameter: broken=${"), c.warnings());
        // referenced by a used parameter, the same text is an error at the user's line
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> Config.parse("broken = ${\nmail_name = $broken\n", F));
        assertEquals(2, e.line());
    }
}
