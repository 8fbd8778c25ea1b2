package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.postern.queue.TestMessages.T0;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import java.io.ByteArrayInputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.queue.QueueDatabase;
import org.postern.queue.schema.QueueSchema;
import org.postern.smtpd.api.QueueIds;

/** H2SchemaTest - with the application's settings, QueueSchema creates and updates the H2 schema itself. */
class H2SchemaTest {

    @Test
    void theEmbeddedDefaultGetsItsSchemaFromTheMappingAndKeepsItsRowsOnRestart() {
        Map<String, String> settings = Map.of(
                "jakarta.persistence.jdbc.driver", "org.h2.Driver",
                "jakarta.persistence.jdbc.url", "jdbc:h2:mem:schema;DB_CLOSE_DELAY=-1",
                "jakarta.persistence.jdbc.user", "sa",
                "jakarta.persistence.jdbc.password", "",
                "hibernate.hbm2ddl.auto", "none",
                QueueSchema.PROPERTY, QueueSchema.MIGRATE);
        String id = QueueIds.next();
        try (QueueDatabase db = new QueueDatabase(settings)) {
            db.inTransaction(new CleanupService(), c -> c.store(envelope(id, T0, rcpt("a@example.com")),
                    new ByteArrayInputStream(content(100, 1))));
        }
        try (QueueDatabase db = new QueueDatabase(settings)) {
            assertNotNull(db.message(id), "an update keeps what is there");
            assertEquals(1, db.rows("queue_recipient", id));
            db.empty();
        }
    }
}
