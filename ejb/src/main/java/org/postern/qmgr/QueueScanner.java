package org.postern.qmgr;

import org.postern.config.Parameters;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.ejb.EJB;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.Timeout;
import jakarta.ejb.Timer;
import jakarta.ejb.TimerConfig;
import jakarta.ejb.TimerService;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.logging.Logger;
import org.postern.service.ConfigService;

/**
 * QueueScanner - makes delivery requests from the database (the queue manager's scan of
 * the incoming and deferred queues).
 *
 * <h2>DESCRIPTION</h2>
 * The database is the source of truth and a JMS request only points at work. Every
 * queue_run_delay, and once shortly after start, the scanner asks for a delivery of
 * every message that is due and not being delivered: those whose JMS request was lost
 * with a crashed broker or a failed send, and those whose lease expired because the
 * server died while delivering them. At start it first gives back the leases this node
 * held before it stopped, so that the deliveries a crash interrupted resume at once.
 * Requests for work already done are dropped by the queue manager, so scanning too often
 * costs little. A scan requests no more messages than the active queue has room for
 * ({@link ActiveMessages}); the rest stay due and are woken when a delivery round leaves
 * the active queue. Notices queued outside a delivery round (the postmaster's notice of a
 * message moved to the corrupt queue) are found by the next scan. Each scan first offers
 * the database the delivery rounds it would not take while it was away
 * ({@link DeliveryAgent#recordKept}, {@link UnrecordedRounds}).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * queue_run_delay (300s): the time between scans; qmgr_message_active_limit (20000).
 */
@Singleton
@Startup
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class QueueScanner {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** requests made per scan at most; the next scan takes the rest */
    static final int BATCH = 10_000;
    /**
     * a claim kept in memory (AcceptedMessages) whose delivery request has not come for
     * this long gives its lease back: its request was lost, or the queue managers are that
     * far behind; either way the database path delivers it
     */
    static final Duration ACCEPTED_STALE = Duration.ofMinutes(5);
    /** a message whose request is this recent is left to that request */
    static final Duration GRACE = Duration.ofSeconds(30);

    @Resource
    private TimerService timers;

    @EJB
    private QueueStore store;

    @EJB
    private DeliveryRequests requests;

    @EJB
    private ConfigService config;

    /*
     * sweepAccepted - messages born leased whose delivery from memory never started: their
     * leases are given back (they are due now) and their memory and active-queue places freed
     */
    private void sweepAccepted() {
        List<AcceptedMessages.Accepted> stale = AcceptedMessages.shared().stale(Instant.now(), ACCEPTED_STALE);
        if (stale.isEmpty()) {
            return;
        }
        java.util.Map<String, Long> leases = new java.util.LinkedHashMap<>();
        for (AcceptedMessages.Accepted a : stale) {
            leases.put(a.claim().queueId(), a.claim().lease());
            AcceptedMessages.abandon(a.bytes());
        }
        try {
            int n = store.releaseBorn(leases);
            LOG.warning("PSTN4503: " + stale.size() + " accepted message(s) waited more than " + ACCEPTED_STALE
                    + " for their first delivery, or their delivery request could not be sent; " + n
                    + " lease(s) given back for the ordinary path");
        } catch (RuntimeException e) {
            LOG.warning("PSTN4504: cannot give back the leases of " + stale.size() + " accepted message(s); they are "
                    + "delivered when the leases run out: " + e);
        }
    }

    @PostConstruct
    void start() {
        int released = store.releaseLeasesOf(QueueStore.NODE);
        if (released > 0) {
            LOG.info(() -> "PSTN4502: " + released + " message(s) that were being delivered when node "
                    + QueueStore.NODE + " stopped are due again");
        }
        long delay = Math.max(1000, config.current().get(Parameters.QUEUE_RUN_DELAY).toMillis());
        timers.createIntervalTimer(5000, delay, new TimerConfig("postern-queue-scan", false));
    }

    @EJB
    private DeliveryAgent agent;

    @Timeout
    void scan(Timer timer) {
        // rounds whose outcomes the database would not take first: their messages are leased meanwhile
        agent.recordKept();
        sweepAccepted();
        // qmgr_message_active_limit: request no more than the active queue has room for
        int room = Math.min(BATCH, ActiveMessages.shared()
                .room(config.current().get(Parameters.QMGR_MESSAGE_ACTIVE_LIMIT)));
        if (room <= 0) {
            ActiveMessages.shared().markWaiting();
            LOG.fine("queue scan: the active queue is full; due messages wait for room");
            return;
        }
        List<String> due = store.due(Instant.now().minus(GRACE), room);
        requests.wakeUpAll(due, DeliveryRequests.IDS_PER_STORED_REQUEST);
        if (!due.isEmpty()) {
            LOG.info(() -> "PSTN4501: queue scan: " + due.size() + " delivery request(s) made");
        }
    }
}
