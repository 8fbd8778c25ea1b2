package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** PostgresQueueStoreFlushTest - the fast flush contract on Postgres. */
class PostgresQueueStoreFlushTest implements QueueStoreFlushContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = org.postern.queue.PostgresCluster.migrated("postern_flush");
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
