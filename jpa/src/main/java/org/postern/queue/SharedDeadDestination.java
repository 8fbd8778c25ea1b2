package org.postern.queue;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * SharedDeadDestination - a destination that one node of a cluster found dead (nothing of it
 * could be talked to), shared with the other nodes so that they too defer its mail without a
 * connection until {@code until} (the queue manager's dead-destination cache, across nodes).
 *
 * <p>The next hop is kept in its parts (protocol, host, port, MX lookup, UNIX socket path);
 * {@code hopKey} joins them into one key. A node that reaches the destination again removes
 * the row.
 */
@Entity
@Table(name = "dead_destination")
public class SharedDeadDestination {
    /** the longest key: protocol, host (255), port, flag and a socket path (1024), with separators */
    public static final int MAX_KEY = 1400;

    @Id
    @Column(name = "hop_key", length = MAX_KEY)
    private String hopKey;

    @Column(name = "protocol", length = 8, nullable = false)
    private String protocol;

    @Column(name = "host", length = 255)
    private String host;

    @Column(name = "port", nullable = false)
    private int port;

    @Column(name = "mx_lookup", nullable = false)
    private boolean mxLookup;

    @Column(name = "unix_path", length = 1024)
    private String unixPath;

    @Column(name = "dsn", length = 16, nullable = false)
    private String dsn;

    @Column(name = "reason", length = 2048, nullable = false)
    private String reason;

    @Column(name = "dead_until", nullable = false)
    private Instant until;

    @Column(name = "node_name", length = ClusterNode.MAX_NAME, nullable = false)
    private String node;

    protected SharedDeadDestination() {
    }

    public SharedDeadDestination(String hopKey, String protocol, String host, int port, boolean mxLookup,
                                 String unixPath, String dsn, String reason, Instant until, String node) {
        this.hopKey = hopKey;
        this.protocol = protocol;
        this.host = host;
        this.port = port;
        this.mxLookup = mxLookup;
        this.unixPath = unixPath;
        this.dsn = dsn;
        this.reason = reason;
        this.until = until;
        this.node = node;
    }

    public String getHopKey() {
        return hopKey;
    }

    public String getProtocol() {
        return protocol;
    }

    public String getHost() {
        return host;
    }

    public int getPort() {
        return port;
    }

    public boolean isMxLookup() {
        return mxLookup;
    }

    public String getUnixPath() {
        return unixPath;
    }

    public String getDsn() {
        return dsn;
    }

    public String getReason() {
        return reason;
    }

    public Instant getUntil() {
        return until;
    }

    public String getNode() {
        return node;
    }
}
