-- Postern queue schema, version 1: messages, recipients, content (PostgreSQL).
-- Must match the JPA mapping in module jpa (org.postern.queue) exactly: the application
-- validates it at deployment (hibernate.hbm2ddl.auto=validate semantics). Never edit a
-- migration that has been released; add V<n+1>__<what>.sql and list it in QueueMigrations.

CREATE TABLE queue_message (
    queue_id        VARCHAR(32)   NOT NULL,
    sender          VARCHAR(1024) NOT NULL,
    state           VARCHAR(16)   NOT NULL,
    arrival         TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    size_bytes      BIGINT        NOT NULL,
    client_name     VARCHAR(255),
    client_address  VARCHAR(64),
    helo            VARCHAR(255),
    protocol        VARCHAR(16),
    service         VARCHAR(128),
    envid           VARCHAR(255),
    ret             VARCHAR(8),
    body_type       VARCHAR(16),
    content_chunks  INTEGER       NOT NULL,
    next_attempt    TIMESTAMP(6) WITH TIME ZONE,
    lease_until     TIMESTAMP(6) WITH TIME ZONE,
    active_since    TIMESTAMP(6) WITH TIME ZONE,
    version         BIGINT        NOT NULL,
    CONSTRAINT queue_message_pkey PRIMARY KEY (queue_id),
    CONSTRAINT queue_message_state_check
        CHECK (state IN ('INCOMING', 'ACTIVE', 'DEFERRED', 'HOLD', 'CORRUPT'))
);

-- the scanner's and the queue manager's question: what is due, by state
CREATE INDEX queue_message_due ON queue_message (state, next_attempt);

-- recipient ids are allocated 50 at a time (allocationSize = 50 in QueuedRecipient)
CREATE SEQUENCE queue_recipient_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE queue_recipient (
    id            BIGINT        NOT NULL,
    queue_id      VARCHAR(32)   NOT NULL,
    position      INTEGER       NOT NULL,
    address       VARCHAR(1024) NOT NULL,
    orcpt         VARCHAR(1024),
    notify        VARCHAR(64),
    status        VARCHAR(16)   NOT NULL,
    dsn           VARCHAR(16),
    relay         VARCHAR(512),
    reply         VARCHAR(2048),
    attempts      INTEGER       NOT NULL,
    next_attempt  TIMESTAMP(6) WITH TIME ZONE,
    last_attempt  TIMESTAMP(6) WITH TIME ZONE,
    CONSTRAINT queue_recipient_pkey PRIMARY KEY (id),
    CONSTRAINT queue_recipient_message FOREIGN KEY (queue_id) REFERENCES queue_message (queue_id),
    CONSTRAINT queue_recipient_status_check
        CHECK (status IN ('PENDING', 'DEFERRED', 'SENT', 'BOUNCED'))
);

-- a message's recipients are loaded and deleted by queue id
CREATE INDEX queue_recipient_queue_id ON queue_recipient (queue_id);

-- content in chunks of at most 65536 bytes (ContentChunk.MAX_SIZE); bytea, not large objects
CREATE TABLE queue_content (
    queue_id  VARCHAR(32) NOT NULL,
    seq       INTEGER     NOT NULL,
    data      BYTEA       NOT NULL,
    CONSTRAINT queue_content_pkey PRIMARY KEY (queue_id, seq)
);
