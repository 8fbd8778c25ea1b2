package org.postern.cleanup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.PostgresCluster;
import org.postern.queue.QueueDatabase;

/** PostgresCleanupServiceTest - the CleanupService contract on PostgreSQL with the migrated schema. */
class PostgresCleanupServiceTest implements CleanupServiceContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = PostgresCluster.migrated("postern_cleanup");
    }

    @AfterAll
    static void close() {
        if (db != null) {
            db.close();
        }
    }

    @Override
    public QueueDatabase database() {
        return db;
    }
}
