package org.postern.queue;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.Objects;

/**
 * ContentChunk - a piece of a message's content, at most {@link #MAX_SIZE} bytes.
 *
 * <p>Content is stored in numbered chunks rather than one LOB so that it streams in both
 * directions with bounded memory, and maps to plain VARBINARY on H2 and bytea on
 * PostgreSQL (no large-object API, which differs between the two and which Hibernate
 * maps to PostgreSQL's pg_largeobject, outside the row's transaction semantics).
 */
@Entity
@Table(name = "queue_content")
@IdClass(ContentChunk.Key.class)
public class ContentChunk {

    /** bytes per chunk */
    public static final int MAX_SIZE = 65536;

    @Id
    @Column(name = "queue_id", length = 32)
    private String queueId;

    @Id
    @Column(name = "seq")
    private int seq;

    @Column(name = "data", length = MAX_SIZE, nullable = false)
    private byte[] data;

    protected ContentChunk() {
    }

    public ContentChunk(String queueId, int seq, byte[] data) {
        this.queueId = queueId;
        this.seq = seq;
        this.data = data;
    }

    public String getQueueId() { return queueId; }
    public int getSeq() { return seq; }
    public byte[] getData() { return data; }

    /** Key - the composite primary key (queue id, sequence number). */
    public static class Key implements Serializable {
        private static final long serialVersionUID = 1L;
        private String queueId;
        private int seq;

        public Key() {
        }

        public Key(String queueId, int seq) {
            this.queueId = queueId;
            this.seq = seq;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.seq == seq && Objects.equals(k.queueId, queueId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(queueId, seq);
        }
    }
}
