package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;
import org.postern.queue.QueueDatabase;

/** PostgresSchemaTest - the Flyway migrations and their validation against the mapping. */
class PostgresSchemaTest {
    /** the persistence unit settings of production: no Hibernate DDL, QueueSchema migrates and validates */
    static final Map<String, String> PRODUCTION_SCHEMA = Map.of(
            "hibernate.hbm2ddl.auto", "none",
            QueueSchema.PROPERTY, QueueSchema.MIGRATE);

    @Test
    void migrationsCreateTheSchemaOnceAndTheMappingValidates() throws Exception {
        try (QueueDatabase db = PostgresCluster.database("postern_schema", PRODUCTION_SCHEMA)) {
            assertEquals(0, db.totalRows());
        }
        // a second start finds nothing to migrate and validates again
        try (QueueDatabase db = PostgresCluster.reopen("postern_schema", PRODUCTION_SCHEMA)) {
            assertEquals(0, db.totalRows());
        }
        try (Connection c = DriverManager.getConnection(PostgresCluster.url("postern_schema"), "postgres", "");
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT version, success FROM flyway_schema_history"
                     + " WHERE version IS NOT NULL ORDER BY installed_rank")) {
            assertTrue(r.next());
            assertEquals("1", r.getString(1));
            assertTrue(r.getBoolean(2));
        }
    }

    @Test
    void aSchemaThatDiffersFromTheMappingFailsTheStart() throws Exception {
        try (QueueDatabase db = PostgresCluster.database("postern_drift", PRODUCTION_SCHEMA)) {
            assertEquals(0, db.totalRows());
        }
        try (Connection c = DriverManager.getConnection(PostgresCluster.url("postern_drift"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("ALTER TABLE queue_recipient DROP COLUMN relay");
        }
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> PostgresCluster.reopen("postern_drift", PRODUCTION_SCHEMA).close());
        assertTrue(String.valueOf(rootMessage(e)).contains("relay"), rootMessage(e));
    }

    private static String rootMessage(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getMessage()).append(" / ");
        }
        return b.toString();
    }
}
