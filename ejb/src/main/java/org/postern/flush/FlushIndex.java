package org.postern.flush;

import jakarta.persistence.EntityManager;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.postern.queue.FlushEntry;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;

/**
 * FlushIndex - keeps the fast flush index of one message right, in the caller's
 * transaction (Postfix's flush_add(), called by the delivery agents when they defer).
 *
 * <p>After a delivery round the message is indexed under exactly the eligible domains of
 * its deferred recipients: a domain is added when a recipient there is deferred, and
 * dropped when none of its recipients there waits any more (delivered or bounced); a
 * removed message leaves the index altogether.
 */
public final class FlushIndex {
    private final EntityManager em;
    private final FastFlushDomains domains;

    public FlushIndex(EntityManager em, FastFlushDomains domains) {
        this.em = em;
        this.domains = domains;
    }

    /**
     * update - index the message after a round; {@code removed}: it is being deleted;
     * {@code indexed}: it may have rows now, because a recipient was deferred before this
     * round. Without such a recipient it has none, and the common case (delivered at the
     * first attempt) costs no statement at all.
     */
    public void update(QueuedMessage m, boolean removed, boolean indexed) {
        if (domains.isEmpty()) {
            // fast flush is off: nothing is indexed (a stale row is purged by the next flush)
            return;
        }
        if (removed) {
            if (!indexed) {
                return;
            }
            em.createQuery("DELETE FROM FlushEntry f WHERE f.queueId = :id").setParameter("id", m.getQueueId())
                    .executeUpdate();
            return;
        }
        Set<String> wanted = new HashSet<>();
        for (QueuedRecipient r : m.getRecipients()) {
            if (r.getStatus() == RecipientStatus.DEFERRED) {
                String d = FastFlushDomains.domainOf(r.getAddress());
                if (d != null && domains.eligible(d)) {
                    wanted.add(d);
                }
            }
        }
        if (wanted.isEmpty() && !indexed) {
            return;
        }
        List<FlushEntry> have = !indexed ? List.of() : em.createQuery(
                        "SELECT f FROM FlushEntry f WHERE f.queueId = :id", FlushEntry.class)
                .setParameter("id", m.getQueueId()).getResultList();
        for (FlushEntry e : have) {
            if (!wanted.remove(e.getDomain())) {
                em.remove(e);
            }
        }
        for (String d : wanted) {
            em.persist(new FlushEntry(d, m.getQueueId()));
        }
    }
}
