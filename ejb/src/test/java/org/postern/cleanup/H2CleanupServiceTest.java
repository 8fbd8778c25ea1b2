package org.postern.cleanup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.postern.queue.QueueDatabase;

/** H2CleanupServiceTest - the CleanupService contract on H2, the embedded default. */
class H2CleanupServiceTest implements CleanupServiceContract {
    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("cleanup");
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
