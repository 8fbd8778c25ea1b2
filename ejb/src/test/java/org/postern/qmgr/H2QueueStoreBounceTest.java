package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** H2QueueStoreBounceTest - the non-delivery report contract on H2. */
class H2QueueStoreBounceTest implements QueueStoreBounceContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("bounce");
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
