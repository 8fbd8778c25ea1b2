package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.PostgresCluster;
import org.postern.queue.QueueDatabase;

/**
 * PostgresQueueStoreBounceTest - the non-delivery report contract on PostgreSQL
 * with the production schema: Flyway migrations applied and the mapping validated by
 * {@link org.postern.queue.schema.QueueSchema}, as at deployment.
 */
class PostgresQueueStoreBounceTest implements QueueStoreBounceContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = PostgresCluster.migrated("postern_bounce");
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
