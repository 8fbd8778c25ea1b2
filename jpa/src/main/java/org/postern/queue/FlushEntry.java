package org.postern.queue;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Index;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.Objects;

/**
 * FlushEntry - one line of the fast flush index: a message that has deferred mail for a
 * destination domain (Postfix's $queue_directory/flush/&lt;domain&gt; files, as rows).
 *
 * <p>The queue manager adds a row when a recipient in a domain of fast_flush_domains is
 * deferred, and removes it when no recipient of that domain waits any more (delivered,
 * bounced, or the message removed). ETRN and {@code postqueue -s domain} read the rows of
 * one domain; the index is never the source of truth for the message itself.
 */
@Entity
@Table(name = "queue_flush", indexes = {@Index(name = "queue_flush_queue_id", columnList = "queue_id")})
@IdClass(FlushEntry.Key.class)
public class FlushEntry {

    /** the longest domain name (RFC 1035 section 2.3.4: 255 octets) */
    public static final int MAX_DOMAIN = 255;

    @Id
    @Column(name = "domain", length = MAX_DOMAIN)
    private String domain;

    @Id
    @Column(name = "queue_id", length = 32)
    private String queueId;

    protected FlushEntry() {
    }

    /** FlushEntry - the message has deferred mail for the domain (lower case). */
    public FlushEntry(String domain, String queueId) {
        this.domain = domain;
        this.queueId = queueId;
    }

    public String getDomain() { return domain; }
    public String getQueueId() { return queueId; }

    /** Key - the composite primary key (domain, queue id). */
    public static class Key implements Serializable {
        private static final long serialVersionUID = 1L;
        private String domain;
        private String queueId;

        public Key() {
        }

        public Key(String domain, String queueId) {
            this.domain = domain;
            this.queueId = queueId;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(k.domain, domain) && Objects.equals(k.queueId, queueId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(domain, queueId);
        }
    }
}
