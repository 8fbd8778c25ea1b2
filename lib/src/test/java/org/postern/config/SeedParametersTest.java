package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * Every parameter that the seed manual pages smtp(8) and lmtp(8) name is one Postern knows:
 * registered, so that postconf shows it with its default and what it does in Postern, and a
 * main.cf that sets it gets no "not supported" warning. A parameter that has no meaning in
 * Postern says so in its description, beginning "Not applicable in Postern", and is listed
 * here, so that a parameter cannot quietly become a no-op.
 */
class SeedParametersTest {

    /** the seed parameters that Postern accepts and documents but cannot honour, and why (in their docs) */
    private static final Set<String> NOT_APPLICABLE = Set.of("ipc_timeout", "max_use",
            "syslog_facility", "tls_daemon_random_bytes", "smtp_skip_4xx_greeting");

    private static List<String> seedParameters() throws IOException {
        List<String> out = new ArrayList<>();
        try (InputStream in = SeedParametersTest.class.getResourceAsStream("seed-parameters.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line.trim().split("\\s+")[0]);
                }
            }
        }
        return out;
    }

    @Test
    void everySeedParameterIsRegisteredAndDocumented() throws IOException {
        List<String> seeds = seedParameters();
        assertTrue(seeds.size() >= 100, "the seed list: " + seeds.size());
        Set<String> missing = new TreeSet<>();
        Set<String> undocumented = new TreeSet<>();
        for (String name : seeds) {
            Parameter<?> p = Parameters.all().get(name);
            if (p == null) {
                missing.add(name);
            } else if (p.doc() == null || p.doc().isBlank()) {
                undocumented.add(name);
            }
        }
        assertEquals(Set.of(), missing, "seed parameters Postern does not know");
        assertEquals(Set.of(), undocumented, "seed parameters without a description");
    }

    @Test
    void theParametersWithoutMeaningInPosternAreExactlyThoseListedAndSaySo() throws IOException {
        Set<String> notApplicable = new TreeSet<>();
        for (String name : seedParameters()) {
            Parameter<?> p = Parameters.all().get(name);
            if (p != null && p.doc().startsWith("Not applicable in Postern")) {
                notApplicable.add(name);
            }
        }
        assertEquals(new TreeSet<>(NOT_APPLICABLE), notApplicable);
    }

    @Test
    void aMainCfWithEverySeedParameterLoadsWithoutAnUnsupportedWarning() throws IOException {
        StringBuilder mainCf = new StringBuilder();
        for (String name : seedParameters()) {
            Parameter<?> p = Parameters.all().get(name);
            if (p != null && !Set.of("process_id", "process_name").contains(name)) {
                mainCf.append(name).append(" = ").append(p.defaultValue()).append('\n');
            }
        }
        Config c = Config.parse(mainCf.toString(), "main.cf");
        assertFalse(c.warnings().stream().anyMatch(w -> w.contains("not supported")), String.join("\n", c.warnings()));
    }
}
