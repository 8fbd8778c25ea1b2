package org.postern.flush;

import jakarta.ejb.EJB;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.time.Instant;
import java.util.List;
import java.util.logging.Logger;
import org.postern.service.ConfigService;

/**
 * FlushService - the fast ETRN service: delivers a destination's deferred mail now
 * (Postfix's flush(8); {@code postqueue -s domain}, {@code sendmail -qRdomain},
 * {@code sendmail -q}).
 *
 * <h2>DESCRIPTION</h2>
 * The queue manager keeps a flush index (table queue_flush): for every domain of
 * fast_flush_domains, the messages with recipients deferred there. {@link #flushDomain}
 * makes every message of one domain's index due now, ignoring its backoff, and sends a
 * delivery request for each; {@link #flushAll} does the same for every deferred message.
 * The mail is then delivered by the queue manager over a new connection to the
 * destination, never over the session that asked (ETRN_README). The index lives in the
 * shared database, so a flush on any node of a cluster moves the whole cluster's mail.
 *
 * <h2>CONTRACT (for the smtpd ETRN command, the console, JMX and REST)</h2>
 * The caller has checked the syntax of the argument (smtpd: 501 for ETRN without an
 * argument or with an invalid one) and smtpd_etrn_restrictions. Then:
 * <ul>
 * <li>{@code flushDomain(d)} returns true: the flush is started (maybe with nothing to
 * move) - answer {@code 250 Queuing started};</li>
 * <li>returns false: d is not eligible (not in fast_flush_domains, or not a valid domain
 * name) - answer {@code 459 <d>: service unavailable} (Postfix adds the enhanced code
 * 4.7.1);</li>
 * <li>throws {@link FlushException}: the flush cannot be started (queue database
 * unavailable) - answer {@code 458 Unable to queue messages}.</li>
 * </ul>
 * Each call is a transaction of its own and returns when the requests are sent; delivery
 * happens afterwards. Calling it again is harmless.
 *
 * <h2>SECURITY</h2>
 * The domain comes from an SMTP client: it is lower-cased and must be a valid domain name
 * before it reaches a query; only messages already in the index are touched, held and
 * corrupt mail never.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * fast_flush_domains ($relay_domains): the destinations with an index; empty turns fast
 * ETRN off.
 *
 * <h2>BUGS</h2>
 * A flushed message's next round ignores defer_transports and the dead-destination cache
 * (org.postern.qmgr.DeadDestinations), as ETRN_README says; the cache itself is not
 * emptied. fast_flush_refresh_time and fast_flush_purge_time are not implemented:
 * the index is kept exact by the queue manager instead, and rows of vanished messages
 * are removed when their domain is flushed.
 *
 * <h2>SEE ALSO</h2>
 * ETRN_README (Postfix fast ETRN), RFC 1985 (ETRN).
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class FlushService {
    private static final Logger LOG = Logger.getLogger("org.postern.flush");
    /** requests sent by one flushAll at most; the queue scanner finds the rest, which are due */
    static final int FLUSH_ALL_REQUESTS = 10_000;

    @EJB
    ConfigService configService;

    @EJB
    FlushQueue queue;

    /** the queue manager (org.postern.qmgr.DeliveryRequests), which delivers what a flush made due */
    @EJB
    DeliveryTrigger requests;

    /**
     * flushDomain - deliver the domain's deferred mail now (ETRN domain, postqueue -s
     * domain). Returns false when the domain is not eligible; see the class contract.
     */
    public boolean flushDomain(String domain) throws FlushException {
        String d = FastFlushDomains.normalize(domain);
        if (d == null || !FastFlushDomains.of(configService.current()).eligible(d)) {
            return false;
        }
        List<String> ids;
        try {
            ids = retrying(() -> queue.flushDomain(d, Instant.now()));
        } catch (RuntimeException e) {
            LOG.warning("PSTN5202: flush of " + d + " failed: " + e);
            throw new FlushException("flush of " + d + " failed: " + e.getMessage(), e);
        }
        requests.deliverNow(ids);
        LOG.info(() -> "PSTN5203: flush " + d + ": " + ids.size() + " message(s) queued for delivery");
        return true;
    }

    /** flushAll - deliver all deferred mail now (sendmail -q, postqueue -f); returns the requests sent. */
    public int flushAll() throws FlushException {
        List<String> ids;
        try {
            ids = retrying(() -> queue.flushAll(Instant.now(), FLUSH_ALL_REQUESTS));
        } catch (RuntimeException e) {
            LOG.warning("PSTN5204: flush of the whole queue failed: " + e);
            throw new FlushException("flush of the whole queue failed: " + e.getMessage(), e);
        }
        requests.deliverNow(ids);
        LOG.info(() -> "PSTN5205: flush: " + ids.size() + " message(s) queued for delivery");
        return ids.size();
    }

    /**
     * flushMessages - deliver these messages now (postqueue -i; with {@code flush} false,
     * postsuper -r, defer_transports still holds mail back); returns the ids made due
     * (held and corrupt mail stays where it is).
     */
    public List<String> flushMessages(List<String> queueIds, boolean flush) throws FlushException {
        List<String> ids;
        try {
            ids = retrying(() -> queue.flushMessages(queueIds, flush, Instant.now()));
        } catch (RuntimeException e) {
            LOG.warning("PSTN5206: flush of " + queueIds.size() + " message(s) failed: " + e);
            throw new FlushException("flush of messages failed: " + e.getMessage(), e);
        }
        requests.deliverNow(ids);
        return ids;
    }

    /** the tries of one flush transaction that a lock conflict rolled back */
    static final int FLUSH_TRIES = 3;

    /*
     * retrying - one flush transaction (FlushQueue: a transaction per call), tried again when
     * a lock conflict with a delivery round rolled it back (an optimistic lock failure, or a
     * deadlock the database broke by rolling this one back): making mail due is idempotent,
     * and an administrator's flush should not fail because a delivery touched the same rows
     */
    private static List<String> retrying(java.util.function.Supplier<List<String>> flush) {
        for (int attempt = 1; ; attempt++) {
            try {
                return flush.get();
            } catch (RuntimeException e) {
                if (attempt >= FLUSH_TRIES || !lockConflict(e)) {
                    throw e;
                }
                LOG.fine(() -> "PSTN5207: flush rolled back by a lock conflict, trying again: " + e);
                try {
                    Thread.sleep(50L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /* lockConflict - the failure is a lock conflict somewhere in its causes */
    static boolean lockConflict(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof jakarta.persistence.OptimisticLockException
                    || t instanceof jakarta.persistence.PessimisticLockException
                    || t instanceof jakarta.persistence.LockTimeoutException
                    || t instanceof jakarta.ejb.EJBTransactionRolledbackException
                    || t instanceof java.sql.SQLTransactionRollbackException
                    || String.valueOf(t.getMessage()).contains("Deadlock detected")) {
                return true;
            }
        }
        return false;
    }
}
