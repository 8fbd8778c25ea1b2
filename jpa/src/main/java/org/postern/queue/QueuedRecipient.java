package org.postern.queue;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.FetchType;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * QueuedRecipient - one recipient of a queued message, with its last outcome.
 *
 * <p>Every delivery attempt records the status, the enhanced status code, the relay and
 * the reply text here, so that the queue shows why a recipient waits (like the reason
 * that postqueue -p prints) and a bounce can quote the remote server.
 */
@Entity
@Table(name = "queue_recipient")
public class QueuedRecipient {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "queue_recipient_seq")
    @SequenceGenerator(name = "queue_recipient_seq", sequenceName = "queue_recipient_seq", allocationSize = 50)
    private Long id;

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "queue_id", nullable = false)
    private QueuedMessage message;

    @Column(name = "position", nullable = false)
    private int position;

    @Column(name = "address", length = 1024, nullable = false)
    private String address;

    /** RFC 3461 ORCPT as given by the client, or null */
    @Column(name = "orcpt", length = 1024)
    private String orcpt;

    /** RFC 3461 NOTIFY as given by the client, or null */
    @Column(name = "notify", length = 64)
    private String notify;

    // VARCHAR on every database, as the PostgreSQL migration has it: Hibernate would make
    // it H2's native ENUM type, and after a restart on an existing H2 file queries that
    // compare it with a list of values failed with a data conversion error
    @Enumerated(EnumType.STRING)
    @Column(name = "status", length = 16, nullable = false, columnDefinition = "VARCHAR(16)")
    private RecipientStatus status = RecipientStatus.PENDING;

    @Column(name = "dsn", length = 16)
    private String dsn;

    @Column(name = "relay", length = 512)
    private String relay;

    @Column(name = "reply", length = 2048)
    private String reply;

    @Column(name = "attempts", nullable = false)
    private int attempts;

    @Column(name = "next_attempt")
    private Instant nextAttempt;

    @Column(name = "last_attempt")
    private Instant lastAttempt;

    protected QueuedRecipient() {
    }

    QueuedRecipient(QueuedMessage message, int position, String address, String orcpt, String notify) {
        this.message = message;
        this.position = position;
        this.address = address;
        this.orcpt = orcpt;
        this.notify = notify;
        this.nextAttempt = message.getArrival();
    }

    /** record - the outcome of one attempt. */
    public void record(RecipientStatus status, String dsn, String relay, String reply, Instant when,
                       Instant nextAttempt) {
        this.status = status;
        this.dsn = dsn;
        this.relay = relay;
        this.reply = reply == null || reply.length() <= 2048 ? reply : reply.substring(0, 2048);
        this.attempts++;
        this.lastAttempt = when;
        this.nextAttempt = status.done() ? null : nextAttempt;
    }

    public Long getId() { return id; }
    public QueuedMessage getMessage() { return message; }
    public int getPosition() { return position; }
    public String getAddress() { return address; }
    public String getOrcpt() { return orcpt; }
    public String getNotify() { return notify; }
    public RecipientStatus getStatus() { return status; }
    public String getDsn() { return dsn; }
    public String getRelay() { return relay; }
    public String getReply() { return reply; }
    public int getAttempts() { return attempts; }
    public Instant getNextAttempt() { return nextAttempt; }
    public Instant getLastAttempt() { return lastAttempt; }
}
