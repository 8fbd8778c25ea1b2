package org.postern.events;

import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import org.postern.queue.DeliveryEventRow;

/**
 * EventStore - the event publisher's transactions on the outbox (table queue_event): the
 * events left to publish, the removal of published ones, the discard of expired ones.
 * Each method is one short transaction of its own, never one of the delivery path.
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
public class EventStore {

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    public EventStore() {
    }

    /** EventStore - outside the container (tests), on this entity manager. */
    EventStore(EntityManager em) {
        this.em = em;
    }

    /** published - remove the rows of events the broker has taken; returns how many were removed. */
    public int published(Collection<String> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return em.createQuery("DELETE FROM DeliveryEventRow e WHERE e.eventId IN :ids").setParameter("ids", ids)
                .executeUpdate();
    }

    /** left - at most max events recorded before the instant and not yet published, oldest first. */
    public List<DeliveryEventRow> left(Instant before, int max) {
        List<DeliveryEventRow> rows = em.createQuery(
                        "SELECT e FROM DeliveryEventRow e WHERE e.created < :t ORDER BY e.created", DeliveryEventRow.class)
                .setParameter("t", before).setMaxResults(max).getResultList();
        rows.forEach(em::detach);
        return rows;
    }

    /** discard - remove the events recorded before the instant (past delivery_event_lifetime); returns how many. */
    public int discard(Instant before) {
        return em.createQuery("DELETE FROM DeliveryEventRow e WHERE e.created < :t").setParameter("t", before)
                .executeUpdate();
    }

    /** count - the events not yet published. */
    @TransactionAttribute(TransactionAttributeType.SUPPORTS)
    public long count() {
        return em.createQuery("SELECT COUNT(e) FROM DeliveryEventRow e", Long.class).getSingleResult();
    }
}
