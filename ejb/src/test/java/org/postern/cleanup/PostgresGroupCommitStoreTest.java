package org.postern.cleanup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.PostgresCluster;
import org.postern.queue.QueueDatabase;

/** PostgresGroupCommitStoreTest - the group commit store contract on PostgreSQL with the migrated schema. */
class PostgresGroupCommitStoreTest implements GroupCommitStoreContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = PostgresCluster.migrated("postern_groupcommit");
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
