-- Postern queue schema, version 4: the node that holds a message's lease, so that a node
-- restarted after a crash takes back at once the messages it was delivering, instead of
-- waiting for their leases to expire. Nullable: existing rows hold no lease.

ALTER TABLE queue_message ADD COLUMN lease_owner VARCHAR(128);
