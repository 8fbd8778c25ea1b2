package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * MasterCfFuzzTest - master.cf: services, their eight fields, inet host:port addresses,
 * -o name=value overrides, {...} groups, and the main.cf each service runs with.
 *
 * <p>Invariants: {@link MasterCf#parse} returns services or throws ConfigException with
 * a file and a line, nothing else; each service has a known type, y/n/- flags, a port in
 * 1..65535 when it is inet (-1 otherwise), a name and type unique in the file, override
 * names without whitespace; applying a service's overrides to the default main.cf gives a
 * configuration or a ConfigException. Seeds: MasterCfFuzzTestInputs/parse/.
 */
class MasterCfFuzzTest {

    @FuzzTest
    @DictionaryEntries({" ", "inet", "unix", "unix-dgram", "fifo", "pass", " n ", " - ", " y ",
            "smtpd", "smtp", "-o ", "-o{", "{", "}", "=", "[::1]:", "127.0.0.1:", "*:", "submission", "smtps",
            "syslog_name=", "smtpd_tls_security_level=encrypt", "smtpd_upstream_proxy_protocol=haproxy"})
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        List<MasterService> services;
        try {
            services = MasterCf.parse(text, "master.cf");
        } catch (ConfigException e) {
            assertNotNull(e.origin(), "a ConfigException without its file");
            assertTrue(e.line() >= 0, e::getMessage);
            return;
        }
        Set<String> seen = new HashSet<>();
        Config defaults = Config.defaults();
        for (MasterService s : services) {
            assertTrue(seen.add(s.name() + "/" + s.type()), s::toString);
            assertTrue(Set.of("inet", "unix", "unix-dgram", "fifo", "pass").contains(s.type()), s::toString);
            for (String flag : List.of(s.privateFlag(), s.unprivFlag(), s.chrootFlag())) {
                assertTrue(flag.equals("y") || flag.equals("n") || flag.equals("-"), s::toString);
            }
            if (s.isInet()) {
                assertTrue(s.port() >= 1 && s.port() <= 65535, s::toString);
            } else {
                assertEquals(-1, s.port(), s::toString);
            }
            assertFalse(s.command().isEmpty(), s::toString);
            for (String name : s.overrides().keySet()) {
                assertTrue(!name.isEmpty() && name.chars().noneMatch(Character::isWhitespace), name);
            }
            try {
                assertNotNull(s.settings(defaults));
            } catch (ConfigException e) {
                assertNotNull(e.origin(), e::getMessage);
            }
        }
    }
}
