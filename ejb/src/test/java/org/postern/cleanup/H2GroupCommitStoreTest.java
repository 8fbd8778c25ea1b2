package org.postern.cleanup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** H2GroupCommitStoreTest - the group commit store contract on H2, the embedded default. */
class H2GroupCommitStoreTest implements GroupCommitStoreContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("groupcommit");
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @Override
    public QueueDatabase database() {
        return db;
    }
}
