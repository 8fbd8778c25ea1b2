package org.postern.queue;

import org.junit.jupiter.api.BeforeEach;

/**
 * QueueDatabaseContract - what every contract on the queue tables needs: the database,
 * supplied by the implementing test class (H2, PostgreSQL, ...), empty before each test.
 */
public interface QueueDatabaseContract {

    /** database - the fixture, open for the whole test class. */
    QueueDatabase database();

    @BeforeEach
    default void emptyTheQueue() {
        database().empty();
    }
}
