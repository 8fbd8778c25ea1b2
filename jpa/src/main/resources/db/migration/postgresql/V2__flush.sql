-- Postern queue schema, version 2: the fast flush index (FlushEntry), for ETRN and
-- postqueue -s: which messages have deferred mail for which destination domain.

CREATE TABLE queue_flush (
    domain    VARCHAR(255) NOT NULL,
    queue_id  VARCHAR(32)  NOT NULL,
    CONSTRAINT queue_flush_pkey PRIMARY KEY (domain, queue_id)
);

-- entries are removed by message when it is delivered, bounced or removed
CREATE INDEX queue_flush_queue_id ON queue_flush (queue_id);
