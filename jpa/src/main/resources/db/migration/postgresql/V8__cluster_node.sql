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
