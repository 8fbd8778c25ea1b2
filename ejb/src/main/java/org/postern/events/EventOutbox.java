package org.postern.events;

import jakarta.persistence.EntityManager;
import java.sql.PreparedStatement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;

/**
 * EventOutbox - writes delivery events to the queue database (table queue_event,
 * {@link org.postern.queue.DeliveryEventRow}) in the caller's transaction.
 *
 * <h2>DESCRIPTION</h2>
 * The queue manager calls {@link #write} in the transaction that records the outcomes
 * the events describe (QueueStore.finishRound, QueueStore.removeDelivered), so that an
 * outcome and its event commit together: an outcome is never recorded without its event,
 * and a rolled-back round leaves no event of an outcome that did not happen. The rows of
 * one transaction go in one JDBC batch on the transaction's own connection: one more
 * statement per round (or per batch of removed messages), not a round trip per recipient.
 */
public final class EventOutbox {
    /** the statement of one event row */
    public static final String INSERT = "INSERT INTO queue_event (event_id, created, queue_id, status, event) VALUES (?, ?, ?, ?, ?)";

    private EventOutbox() {
    }

    /** write - the events, in one batch, in the entity manager's transaction; nothing when there are none. */
    public static void write(EntityManager em, Collection<DeliveryEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        em.unwrap(org.hibernate.Session.class).doWork(c -> {
            try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                bind(ps, events);
                ps.executeBatch();
            }
        });
    }

    /** bind - the events as a batch of {@link #INSERT}, for a caller that works on the connection itself. */
    public static void bind(PreparedStatement ps, Collection<DeliveryEvent> events) throws java.sql.SQLException {
        for (DeliveryEvent e : events) {
            ps.setString(1, e.id());
            ps.setObject(2, OffsetDateTime.ofInstant(e.time(), ZoneOffset.UTC));
            ps.setString(3, e.queueId());
            ps.setString(4, e.status());
            ps.setString(5, e.json());
            ps.addBatch();
        }
    }

    /** all - the events of several messages as one list. */
    public static List<DeliveryEvent> all(Collection<List<DeliveryEvent>> lists) {
        return lists.stream().flatMap(List::stream).toList();
    }
}
