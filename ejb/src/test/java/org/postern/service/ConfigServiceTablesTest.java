package org.postern.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.Parameters;

/** The delivery agents' lookup tables are opened when a configuration is loaded or reloaded. */
class ConfigServiceTablesTest {

    @TempDir
    Path dir;

    private String saved;

    private ConfigService service(String mainCf) throws Exception {
        Files.writeString(dir.resolve("main.cf"), mainCf);
        saved = System.getProperty(ConfigLocator.PROPERTY);
        System.setProperty(ConfigLocator.PROPERTY, dir.toString());
        return new ConfigService();
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(ConfigLocator.PROPERTY);
        } else {
            System.setProperty(ConfigLocator.PROPERTY, saved);
        }
    }

    @Test
    void aGenericMapThatCannotBeOpenedFailsTheLoad() throws Exception {
        ConfigService s = service("smtp_generic_maps = texthash:" + dir.resolve("missing") + "\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, s::load);
        assertTrue(e.getMessage().contains("smtp_generic_maps"), e.getMessage());
    }

    @Test
    void aReloadWithABadGenericMapIsRefusedAndTheRunningConfigurationStays() throws Exception {
        Path generic = dir.resolve("generic");
        Files.writeString(generic, "alice@localdomain.local alice.smith@example.com\n");
        ConfigService s = service("lmtp_generic_maps = texthash:" + generic + "\n");
        s.load();
        Files.writeString(dir.resolve("main.cf"), "lmtp_generic_maps = texthash:" + dir.resolve("missing") + "\n");
        ConfigException e = assertThrows(ConfigException.class, s::reload);
        assertTrue(e.getMessage().contains("lmtp_generic_maps"), e.getMessage());
        assertEquals(List.of("texthash:" + generic), s.current().get(Parameters.LMTP_GENERIC_MAPS));
    }
}
