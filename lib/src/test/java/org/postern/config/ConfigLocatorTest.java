package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ConfigLocatorTest {

    private static Path locate(Map<String, String> properties, Map<String, String> environment) {
        return ConfigLocator.configDir(properties::get, environment::get);
    }

    @Test
    void systemPropertyComesFirst() {
        assertEquals(Path.of("/opt/a"), locate(
                Map.of("postern.config.dir", "/opt/a", "jboss.server.config.dir", "/wf/config"),
                Map.of("POSTERN_CONFIG_DIR", "/opt/b")));
    }

    @Test
    void thenTheEnvironment() {
        assertEquals(Path.of("/opt/b"), locate(Map.of("jboss.server.config.dir", "/wf/config"),
                Map.of("POSTERN_CONFIG_DIR", "/opt/b")));
    }

    @Test
    void thenWildFlysConfigurationDirectory() {
        assertEquals(Path.of("/wf/config/postern"), locate(Map.of("jboss.server.config.dir", "/wf/config"), Map.of()));
    }

    @Test
    void elseTheWorkingDirectory() {
        assertEquals(Path.of("postern"), locate(Map.of(), Map.of()));
    }

    @Test
    void blankSettingsCountAsUnset() {
        assertEquals(Path.of("/opt/b"), locate(Map.of("postern.config.dir", "  "), Map.of("POSTERN_CONFIG_DIR", "/opt/b")));
        assertEquals(Path.of("postern"), locate(Map.of("jboss.server.config.dir", ""), Map.of("POSTERN_CONFIG_DIR", "")));
    }
}
