package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.PostgresCluster;
import org.postern.queue.QueueDatabase;

/**
 * PostgresEventOutboxTest - the delivery events' outbox contract on PostgreSQL with the
 * production schema (migration V7 applied and the mapping validated, as at deployment).
 */
class PostgresEventOutboxTest implements EventOutboxContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = PostgresCluster.migrated("postern_events");
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
