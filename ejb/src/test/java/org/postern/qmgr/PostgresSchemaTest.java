package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;
import org.postern.queue.QueueDatabase;
import org.postern.queue.schema.QueueSchema;

/** PostgresSchemaTest - the Flyway migrations and their validation against the mapping. */
class PostgresSchemaTest {
    private static final Map<String, String> PRODUCTION_SCHEMA = PostgresCluster.PRODUCTION_SCHEMA;

    @Test
    void theTestsUseTheSettingsOfTheApplicationsPersistenceUnit() throws Exception {
        org.w3c.dom.Document xml = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(java.nio.file.Path.of("src/main/resources/META-INF/persistence.xml").toFile());
        org.w3c.dom.NodeList properties = xml.getElementsByTagName("property");
        Map<String, String> unit = new java.util.HashMap<>();
        for (int i = 0; i < properties.getLength(); i++) {
            org.w3c.dom.Element p = (org.w3c.dom.Element) properties.item(i);
            unit.put(p.getAttribute("name"), p.getAttribute("value"));
        }
        for (Map.Entry<String, String> e : PRODUCTION_SCHEMA.entrySet()) {
            assertEquals(e.getValue(), unit.get(e.getKey()), e.getKey());
        }
        assertEquals(QueueSchema.MIGRATE, unit.get(QueueSchema.PROPERTY));
    }

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
            for (String version : List.of("1", "2", "3")) {
                assertTrue(r.next());
                assertEquals(version, r.getString(1));
                assertTrue(r.getBoolean(2));
            }
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
