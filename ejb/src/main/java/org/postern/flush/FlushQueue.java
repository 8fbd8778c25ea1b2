package org.postern.flush;

import jakarta.interceptor.Interceptors;
import org.postern.tx.RolledBackIsAFailure;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.postern.queue.QueueState;
import org.postern.queue.RecipientStatus;

/**
 * FlushQueue - the flush service's transactions: make indexed or all deferred mail due
 * now (Postfix's flush(8) moving deferred queue files to the incoming queue), and mark it
 * so that its next round ignores defer_transports. Each method is one short transaction
 * of its own; the caller wakes the returned messages after it.
 */
@Stateless
@Interceptors(RolledBackIsAFailure.class)
@TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
public class FlushQueue {
    /** messages that a flush makes due: held and corrupt mail stays where it is */
    static final EnumSet<QueueState> FLUSHABLE = EnumSet.of(QueueState.INCOMING, QueueState.ACTIVE,
            QueueState.DEFERRED);
    private static final EnumSet<RecipientStatus> WAITING = EnumSet.of(RecipientStatus.PENDING,
            RecipientStatus.DEFERRED);
    /** queue ids per IN list: well below every database's limit on bind parameters */
    private static final int IN_LIST = 500;

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    /**
     * flushDomain - make every message in the domain's index due now, whatever its
     * backoff; returns their queue ids. Index rows whose message is gone are removed.
     */
    public List<String> flushDomain(String domain, Instant time) {
        Instant now = stored(time);
        List<String> indexed = em.createQuery("SELECT f.queueId FROM FlushEntry f WHERE f.domain = :d"
                + " ORDER BY f.queueId", String.class).setParameter("d", domain).getResultList();
        List<String> flushed = new ArrayList<>();
        for (int i = 0; i < indexed.size(); i += IN_LIST) {
            List<String> ids = indexed.subList(i, Math.min(indexed.size(), i + IN_LIST));
            Set<String> existing = new HashSet<>(em.createQuery("SELECT m.queueId FROM QueuedMessage m"
                    + " WHERE m.queueId IN :ids", String.class).setParameter("ids", ids).getResultList());
            List<String> stale = ids.stream().filter(id -> !existing.contains(id)).toList();
            if (!stale.isEmpty()) {
                em.createQuery("DELETE FROM FlushEntry f WHERE f.domain = :d AND f.queueId IN :ids")
                        .setParameter("d", domain).setParameter("ids", stale).executeUpdate();
            }
            List<String> live = em.createQuery("SELECT m.queueId FROM QueuedMessage m WHERE m.queueId IN :ids"
                    + " AND m.state IN :states ORDER BY m.queueId", String.class)
                    .setParameter("ids", ids).setParameter("states", FLUSHABLE).getResultList();
            if (!live.isEmpty()) {
                makeDue(live, now, true);
                flushed.addAll(live);
            }
        }
        return flushed;
    }

    /**
     * flushAll - make every deferred message due now (sendmail -q); returns the queue ids
     * of at most {@code max} messages due now, oldest first, to be woken; the queue
     * scanner finds the others, since they are due.
     */
    public List<String> flushAll(Instant time, int max) {
        Instant now = stored(time);
        em.createQuery("UPDATE QueuedRecipient r SET r.nextAttempt = :now WHERE r.status IN :waiting"
                        + " AND r.nextAttempt > :now AND r.message.queueId IN"
                        + " (SELECT m.queueId FROM QueuedMessage m WHERE m.state IN :states)")
                .setParameter("now", now).setParameter("waiting", WAITING).setParameter("states", FLUSHABLE)
                .executeUpdate();
        em.createQuery("UPDATE QueuedMessage m SET m.nextAttempt = :now WHERE m.state IN :states"
                        + " AND m.nextAttempt > :now")
                .setParameter("now", now).setParameter("states", FLUSHABLE).executeUpdate();
        // sendmail -q, like ETRN, delivers what defer_transports holds back (ETRN_README)
        em.createQuery("UPDATE QueuedMessage m SET m.flushRequested = TRUE WHERE m.state IN :states")
                .setParameter("states", FLUSHABLE).executeUpdate();
        return em.createQuery("SELECT m.queueId FROM QueuedMessage m WHERE m.state IN :states"
                        + " AND m.nextAttempt <= :now AND (m.leaseUntil IS NULL OR m.leaseUntil < :now)"
                        + " ORDER BY m.nextAttempt", String.class)
                .setParameter("states", FLUSHABLE).setParameter("now", now).setMaxResults(max).getResultList();
    }

    /**
     * flushMessages - make these messages due now, whatever their backoff: with {@code
     * flush} as a flush does (postqueue -i: what defer_transports holds back goes too),
     * else only due (postsuper -r: defer_transports still applies, as when Postfix
     * requeues a message through cleanup). Returns the ids of those made due; held,
     * corrupt and unknown ones are left out.
     */
    public List<String> flushMessages(List<String> queueIds, boolean flush, Instant time) {
        Instant now = stored(time);
        List<String> due = new ArrayList<>();
        for (int i = 0; i < queueIds.size(); i += IN_LIST) {
            List<String> ids = queueIds.subList(i, Math.min(queueIds.size(), i + IN_LIST));
            List<String> live = em.createQuery("SELECT m.queueId FROM QueuedMessage m WHERE m.queueId IN :ids"
                    + " AND m.state IN :states ORDER BY m.queueId", String.class)
                    .setParameter("ids", ids).setParameter("states", FLUSHABLE).getResultList();
            if (!live.isEmpty()) {
                makeDue(live, now, flush);
                due.addAll(live);
            }
        }
        return due;
    }

    /**
     * stored - the time as every database keeps it: a timestamp column rounds to its
     * precision, maybe upwards, and a due time that became later than the "now" compared
     * with it would not be due.
     */
    private static Instant stored(Instant time) {
        return time.truncatedTo(ChronoUnit.MILLIS);
    }

    /** makeDue - the messages and their waiting recipients are due now; flushed: past defer_transports too. */
    private void makeDue(List<String> ids, Instant now, boolean flushed) {
        em.createQuery("UPDATE QueuedRecipient r SET r.nextAttempt = :now WHERE r.status IN :waiting"
                        + " AND r.message.queueId IN :ids")
                .setParameter("now", now).setParameter("waiting", WAITING).setParameter("ids", ids)
                .executeUpdate();
        em.createQuery("UPDATE QueuedMessage m SET m.nextAttempt = :now"
                        + (flushed ? ", m.flushRequested = TRUE" : "") + " WHERE m.queueId IN :ids")
                .setParameter("now", now).setParameter("ids", ids).executeUpdate();
    }
}
