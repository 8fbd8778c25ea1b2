package org.postern.events;

/** EventStoreAccess - an EventStore for the tests of other packages, its entity manager injected by QueueDatabase. */
public final class EventStoreAccess {
    private EventStoreAccess() {
    }

    public static EventStore create() {
        return new EventStore();
    }
}
