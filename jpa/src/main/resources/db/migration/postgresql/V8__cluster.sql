-- Postern queue schema, version 8: the nodes that work on the queue and their heartbeats
-- (ClusterMembership). A node whose heartbeat is older than cluster_node_timeout is presumed
-- dead, and another node gives back the leases it held. A reload on one node asks the
-- others to reload (reload_requested_by), which each does at its next heartbeat.

CREATE TABLE cluster_node (
    node_name VARCHAR(128) NOT NULL PRIMARY KEY,
    incarnation VARCHAR(64) NOT NULL,
    started TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    heartbeat TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    reload_requested_by VARCHAR(128)
);

-- The dead-destination cache shared by the nodes (ClusterDeadDestinations): a destination one
-- node found dead is deferred without a connection by every node until dead_until.
CREATE TABLE dead_destination (
    hop_key VARCHAR(1400) NOT NULL PRIMARY KEY,
    protocol VARCHAR(8) NOT NULL,
    host VARCHAR(255),
    port INTEGER NOT NULL,
    mx_lookup BOOLEAN NOT NULL,
    unix_path VARCHAR(1024),
    dsn VARCHAR(16) NOT NULL,
    reason VARCHAR(2048) NOT NULL,
    dead_until TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    node_name VARCHAR(128) NOT NULL
);
