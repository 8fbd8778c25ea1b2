package org.postern.queue.schema;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.core.api.resource.LoadableResource;

/**
 * QueueMigrations - the versioned PostgreSQL migrations of the queue schema, applied with
 * Flyway. Kept apart from {@link QueueSchema} so that only PostgreSQL needs Flyway's
 * classes. A new migration is a new file db/migration/postgresql/V&lt;n&gt;__&lt;what&gt;.sql
 * in this jar, added at the end of {@link #POSTGRESQL}; a released one is never edited.
 */
final class QueueMigrations {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** where the PostgreSQL migrations are, in this jar */
    static final String LOCATION = "db/migration/postgresql/";
    /** the PostgreSQL migrations, in order; a new one is added at the end */
    static final List<String> POSTGRESQL = List.of("V1__queue.sql", "V2__flush.sql", "V3__flush_requested.sql",
            "V4__lease_owner.sql", "V5__forced_expire.sql",
            "V6__client_port.sql", "V7__delivery_events.sql", "V8__cluster.sql");

    private QueueMigrations() {
    }

    /** migrate - apply the pending PostgreSQL migrations. */
    static MigrateResult migrate(DataSource dataSource) {
        MigrateResult result = Flyway.configure(QueueMigrations.class.getClassLoader())
                .dataSource(dataSource)
                .resourceProvider(new Migrations())
                .load()
                .migrate();
        if (result.migrationsExecuted > 0) {
            LOG.info("PSTN4704: queue schema migrated to version " + result.targetSchemaVersion + " ("
                    + result.migrationsExecuted + " migration(s))");
        }
        return result;
    }

    /**
     * Migrations - the migrations of {@link #POSTGRESQL}, read from this jar's class path
     * by name, so that no container-specific class path scanning is needed.
     */
    static final class Migrations implements ResourceProvider {
        @Override
        public LoadableResource getResource(String name) {
            return POSTGRESQL.contains(name) ? new Migration(name) : null;
        }

        @Override
        public Collection<LoadableResource> getResources(String prefix, String[] suffixes) {
            List<LoadableResource> found = new ArrayList<>();
            for (String name : POSTGRESQL) {
                if (name.startsWith(prefix)) {
                    for (String suffix : suffixes) {
                        if (name.endsWith(suffix)) {
                            found.add(new Migration(name));
                            break;
                        }
                    }
                }
            }
            return found;
        }
    }

    /** Migration - one SQL migration in this jar. */
    static final class Migration extends LoadableResource {
        private final String name;

        Migration(String name) {
            this.name = name;
        }

        @Override
        public Reader read() {
            InputStream in = QueueMigrations.class.getClassLoader().getResourceAsStream(LOCATION + name);
            if (in == null) {
                throw new IllegalStateException("PSTN4706: migration missing from the jar: " + LOCATION + name);
            }
            return new InputStreamReader(in, StandardCharsets.UTF_8);
        }

        @Override
        public String getAbsolutePath() {
            return LOCATION + name;
        }

        @Override
        public String getAbsolutePathOnDisk() {
            return LOCATION + name;
        }

        @Override
        public String getFilename() {
            return name;
        }

        @Override
        public String getRelativePath() {
            return name;
        }
    }
}
