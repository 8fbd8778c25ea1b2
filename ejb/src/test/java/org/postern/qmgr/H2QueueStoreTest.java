package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** H2QueueStoreTest - the QueueStore contract on H2, the embedded default. */
class H2QueueStoreTest implements QueueStoreContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("qmgr");
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
