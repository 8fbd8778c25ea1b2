package org.postern.admin;

import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.postern.queue.QueueState;

/** QueueAdmin - read-only views of the queue for the console (and later JMX and REST). */
@Stateless
@TransactionAttribute(TransactionAttributeType.SUPPORTS)
public class QueueAdmin {

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    /** counts - the number of messages in each queue state, every state present. */
    public Map<QueueState, Long> counts() {
        Map<QueueState, Long> counts = new EnumMap<>(QueueState.class);
        for (QueueState s : QueueState.values()) {
            counts.put(s, 0L);
        }
        List<Object[]> rows = em.createQuery(
                "SELECT m.state, COUNT(m) FROM QueuedMessage m GROUP BY m.state", Object[].class).getResultList();
        for (Object[] row : rows) {
            counts.put((QueueState) row[0], (Long) row[1]);
        }
        return counts;
    }
}
