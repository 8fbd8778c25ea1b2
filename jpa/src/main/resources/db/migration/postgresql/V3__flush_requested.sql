-- Postern queue schema, version 3: a flush (ETRN, sendmail -q) marks the messages it moves,
-- so that their next delivery round ignores defer_transports. Nullable: null means false,
-- and existing rows need no rewrite.

ALTER TABLE queue_message ADD COLUMN flush_requested BOOLEAN;
