package org.postern.queue;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Index;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * DeliveryEventRow - one delivery event not yet published: the outbox of the delivery
 * events topic (postern.events).
 *
 * <p>The queue manager writes a row for every recipient outcome it records (sent, deferred,
 * bounced, expired), in the transaction that records the outcome, so that an outcome and
 * its event commit together or not at all. The event publisher removes the row once the
 * broker has taken the event; whatever is left after a crash or a broker outage is
 * published again from here (at-least-once). The row holds the event as it is sent, a
 * CloudEvents JSON document, plus the few attributes that the JMS message carries as
 * properties for selectors, so that a republish needs no parsing.
 */
@Entity
@Table(name = "queue_event", indexes = {@Index(name = "queue_event_created", columnList = "created")})
public class DeliveryEventRow {

    /** the longest event document, in characters: every field of the event is bounded below this */
    public static final int MAX_EVENT = 65536;

    /** the CloudEvents id (a UUID), unique per event: consumers deduplicate on it */
    @Id
    @Column(name = "event_id", length = 36)
    private String eventId;

    /** when the outcome was recorded: the event's time */
    @Column(name = "created", nullable = false)
    private Instant created;

    @Column(name = "queue_id", length = 32, nullable = false)
    private String queueId;

    /** the mail log's status: sent, deferred, bounced or expired */
    @Column(name = "status", length = 16, nullable = false)
    private String status;

    /** the CloudEvents document (structured content mode, JSON) */
    @Column(name = "event", length = MAX_EVENT, nullable = false)
    private String event;

    protected DeliveryEventRow() {
    }

    public DeliveryEventRow(String eventId, Instant created, String queueId, String status, String event) {
        this.eventId = eventId;
        this.created = created;
        this.queueId = queueId;
        this.status = status;
        this.event = event;
    }

    public String getEventId() { return eventId; }
    public Instant getCreated() { return created; }
    public String getQueueId() { return queueId; }
    public String getStatus() { return status; }
    public String getEvent() { return event; }
}
