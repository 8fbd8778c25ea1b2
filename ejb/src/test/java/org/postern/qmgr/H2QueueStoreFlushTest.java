package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** H2QueueStoreFlushTest - the fast flush contract on H2. */
class H2QueueStoreFlushTest implements QueueStoreFlushContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("flush");
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
