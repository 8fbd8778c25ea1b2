package org.postern.qmgr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** H2EventOutboxTest - the delivery events' outbox contract on H2, the embedded default. */
class H2EventOutboxTest implements EventOutboxContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("events");
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
