-- Postern queue schema, version 7: the outbox of delivery events (DeliveryEventRow). A row
-- is written with every recipient outcome the queue manager records, in the same
-- transaction, and removed once the event is on the topic postern.events; rows left by a
-- crash or a broker outage are published again (at-least-once).

CREATE TABLE queue_event (
    event_id  VARCHAR(36)    NOT NULL,
    created   TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    queue_id  VARCHAR(32)    NOT NULL,
    status    VARCHAR(16)    NOT NULL,
    event     VARCHAR(65536) NOT NULL,
    CONSTRAINT queue_event_pkey PRIMARY KEY (event_id)
);

-- the republisher's question: the oldest events left
CREATE INDEX queue_event_created ON queue_event (created);
