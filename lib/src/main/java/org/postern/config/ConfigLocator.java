package org.postern.config;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * ConfigLocator - where main.cf and master.cf live.
 *
 * <p>In this order: the system property {@value #PROPERTY}; the environment variable
 * {@value #ENV}; {@code ${jboss.server.config.dir}/postern} when WildFly set that
 * property; {@code ./postern}. An empty or blank setting counts as unset.
 */
public final class ConfigLocator {
    /** The system property that names the configuration directory. */
    public static final String PROPERTY = "postern.config.dir";
    /** The environment variable that names the configuration directory. */
    public static final String ENV = "POSTERN_CONFIG_DIR";
    /** WildFly's configuration directory property. */
    public static final String JBOSS_CONFIG_DIR = "jboss.server.config.dir";

    private ConfigLocator() {
    }

    /** configDir - the configuration directory of this process. */
    public static Path configDir() {
        return configDir(System::getProperty, System::getenv);
    }

    /** configDir - the same, with the property and environment lookups given (for tests). */
    static Path configDir(Function<String, String> properties, Function<String, String> environment) {
        String dir = nonBlank(properties.apply(PROPERTY));
        if (dir != null) {
            return Path.of(dir);
        }
        dir = nonBlank(environment.apply(ENV));
        if (dir != null) {
            return Path.of(dir);
        }
        dir = nonBlank(properties.apply(JBOSS_CONFIG_DIR));
        if (dir != null) {
            return Path.of(dir, "postern");
        }
        return Path.of("postern");
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
