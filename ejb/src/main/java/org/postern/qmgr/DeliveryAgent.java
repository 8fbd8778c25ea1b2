package org.postern.qmgr;

import org.postern.config.Parameters;
import jakarta.annotation.Resource;
import jakarta.ejb.EJB;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.resource.ResourceException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.events.DeliveryEvent;
import org.postern.events.EventHandoff;
import org.postern.events.MessageIds;
import org.postern.flush.DeferTransports;
import org.postern.queue.RecipientStatus;
import org.postern.service.Activity;
import org.postern.service.ConfigService;
import org.postern.service.DeliveryServices;
import org.postern.service.MailLog;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientParameters;

/**
 * DeliveryAgent - one delivery round of one message (qmgr(8) with smtp(8)/lmtp(8)).
 *
 * <h2>DESCRIPTION</h2>
 * Claims the message, resolves each due recipient's next hop, groups the recipients by
 * next hop in batches of at most the destination recipient limit, hands each batch to
 * a pooled SMTP or LMTP connection of the resource adapter, logs every recipient's
 * outcome in Postfix's form and records it. A recipient that got a 4xx, or whose next
 * hop could not be reached, is deferred with Postfix's backoff, and one still deferred
 * past the queue lifetime is returned as expired ({@link RetrySchedule}). When no
 * recipient is left the message is removed.
 *
 * <p>A round first takes a place in the active queue ({@link ActiveMessages},
 * qmgr_message_active_limit); when there is none, the message is left due in the database
 * and woken when a round leaves. A destination whose delivery failed at the site level
 * (no server of it could be talked to) is dead for minimal_backoff_time
 * ({@link DeadDestinations}): other recipients for it are deferred at once without a
 * connection, "delivery temporarily suspended: &lt;reason&gt;", except in a flushed round
 * (ETRN, sendmail -q), which ignores the cache.
 *
 * <p>Where the claim comes from: a message just accepted and born leased to this node is
 * delivered from memory ({@link AcceptedMessages}: no claim transaction, no content read);
 * the messages of a request that names several are claimed together
 * ({@link QueueStore#claimAll}: one transaction, small content read with the claim); a
 * lone request claims its message with {@link QueueStore#claim}. A round that sent every
 * recipient of its message and owes no notice ends in a batched removal
 * ({@link Removals}); any other round is recorded by {@link QueueStore#finishRound}, tried
 * again a few times when the database fails ({@link #FINISH_ATTEMPTS}). The client
 * settings of a next hop are built once per configuration ({@link SmtpClientParameters#cachedSettings}).
 *
 * <p>A recipient that a server accepted gets the action of its success notice
 * (NOTIFY=SUCCESS): none when that server announced DSN (NOTIFY went on to it), else
 * "relayed", or "delivered" from an LMTP server with lmtp_assume_final = yes. The notice
 * itself is queued with the outcomes ({@link QueueStore#finishRound}).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * Those of {@link RetrySchedule}; qmgr_message_active_limit (20000, per JVM), lmtp_assume_final
 * (no), smtp_destination_concurrency_limit and
 * lmtp_destination_concurrency_limit ($default_destination_concurrency_limit, 20; 0 = no
 * limit: parallel deliveries per destination across every delivery bean of the JVM, see
 * {@link SmtpClientConnectionFactory#reserve}; a batch that finds no slot within {@link #CONCURRENCY_WAIT}
 * is deferred with 4.4.5 and tried again after {@link RetrySchedule#CONCURRENCY_RETRY}),
 * smtp_destination_recipient_limit and
 * lmtp_destination_recipient_limit ($default_destination_recipient_limit, 50; 0 = no limit),
 * and for a master.cf delivery service such as {@code slow unix - - n - 2 smtp} the same
 * limits under its own name ({@code slow_destination_concurrency_limit},
 * {@code slow_destination_recipient_limit}, from main.cf) and its maxproc column (2: at most
 * two deliveries of slow at once, {@link ProcessLimits}; a batch that finds no place is
 * deferred as above); see {@link DeliveryServices}. The client parameters below are read from
 * the transport's configuration, main.cf with the {@code -o} overrides of its master.cf line,
 * so that {@code -o smtp_helo_name=...} changes the HELO of that transport only;
 * and every client parameter of {@link SmtpClientParameters}: smtp_* and lmtp_* timeouts, smtp_helo_name,
 * lmtp_lhlo_name, smtp_fallback_relay, smtp_mx_address_limit, smtp_mx_session_limit,
 * smtp_randomize_addresses, smtp_host_lookup, ignore_mx_lookup_error,
 * smtp_defer_if_no_mx_address_found, disable_dns_lookups, inet_protocols, inet_interfaces and
 * proxy_interfaces (loop detection), best_mx_transport (mail that loops back to us goes
 * to that transport, once), smtp_tls_* and smtp_sasl_* (TLS and SASL policy),
 * smtp_send_xforward_command and smtp_xforward_timeout (the attributes sent: {@link #xforward}),
 * the session options and the
 * connection cache parameters. For smtp_connection_cache_on_demand (yes) each batch tells the
 * client whether its destination has a backlog ({@link OutboundMessage#backlog}, decided by
 * {@link DestinationBacklog}: deliveries following back to back, more waiting for a slot than the
 * concurrency limit lets run, or more batches of the same message), and the client keeps the
 * session only then; a destination in smtp_connection_cache_destinations, and LMTP with
 * lmtp_cache_connection, is cached whatever the backlog.
 *
 * <p>Bounce, delay and success notices are queued by {@link QueueStore#finishRound} in the
 * transaction that records the outcomes, and woken here after it commits. So are the delivery
 * events (delivery_event_notification): written with the outcomes (finishRound, or the
 * batched removal), and after the commit offered to the publisher's in-memory hand-off
 * ({@link EventHandoff}), which never blocks; see org.postern.events.EventPublisher.
 *
 * <h2>BUGS</h2>
 * Concurrency limits, the active queue limit and the dead-destination cache hold per JVM,
 * not across a cluster.
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class DeliveryAgent {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** how long a claim keeps other queue managers off a message */
    public static final Duration LEASE = Duration.ofMinutes(30);
    /**
     * how long a delivery waits for a slot of its destination's concurrency limit: a slot
     * normally frees within one delivery; a destination that keeps every slot this long is
     * slow, and waiting longer would tie up delivery threads that other destinations need
     */
    static final Duration CONCURRENCY_WAIT = Duration.ofSeconds(10);
    /** how often the outcomes of a round are offered to the database before the round gives up */
    static final int FINISH_ATTEMPTS = 4;
    /** the pause after the first failed attempt; it doubles after each */
    static final Duration FINISH_PAUSE = Duration.ofMillis(250);

    @EJB
    private QueueStore store;

    @EJB
    private ConfigService configService;

    @EJB
    private DeliveryRequests requests;

    @EJB
    private org.postern.qmgr.ClusterSlots slots;

    @EJB
    private org.postern.qmgr.ClusterDeadDestinations clusterDead;

    @Resource(lookup = "java:/postern/SmtpClient")
    private SmtpClientConnectionFactory connections;

    /**
     * deliver - one round for the message; does nothing when nothing of it is due, or when
     * the active queue is full (qmgr_message_active_limit): then the message stays due in the
     * database and is woken when a round leaves the active queue.
     */
    public void deliver(String queueId) {
        AcceptedMessages.Accepted accepted = AcceptedMessages.shared().take(queueId);
        if (accepted != null) {
            deliverAccepted(accepted);
            return;
        }
        int limit = configService.current().get(Parameters.QMGR_MESSAGE_ACTIVE_LIMIT);
        ActiveMessages active = ActiveMessages.shared();
        if (!active.enter(limit)) {
            LOG.fine(() -> queueId + ": active queue full (qmgr_message_active_limit = " + limit + "); left due");
            return;
        }
        try {
            deliverClaimed(queueId);
        } finally {
            leaveActive();
        }
    }

    /**
     * deliverAll - one round for each of several messages (a request that names a few, after
     * a group commit, a flush or a scan): those kept in memory as {@link #deliver} does, the
     * others claimed together in one transaction ({@link QueueStore#claimAll}) and delivered
     * one after the other. A failure of one message is logged and does not stop the others.
     */
    public void deliverAll(List<String> queueIds) {
        List<String> stored = new ArrayList<>(queueIds.size());
        for (String id : queueIds) {
            AcceptedMessages.Accepted a = AcceptedMessages.shared().take(id);
            if (a == null) {
                stored.add(id);
                continue;
            }
            try {
                deliverAccepted(a);
            } catch (RuntimeException e) {
                failed(id, e);
            }
        }
        if (stored.isEmpty()) {
            return;
        }
        int limit = configService.current().get(Parameters.QMGR_MESSAGE_ACTIVE_LIMIT);
        List<String> entered = new ArrayList<>(stored.size());
        for (String id : stored) {
            if (!ActiveMessages.shared().enter(limit)) {
                LOG.fine(() -> id + ": active queue full (qmgr_message_active_limit = " + limit + "); left due");
                break;
            }
            entered.add(id);
        }
        Instant start = Instant.now();
        QueueStore.ClaimBatch batch;
        try {
            batch = store.claimAll(entered, start, LEASE);
        } catch (RuntimeException e) {
            LOG.warning("PSTN4409: cannot claim " + entered + " together; one by one: " + e);
            batch = new QueueStore.ClaimBatch(List.of(), entered);
        }
        int done = 0;
        try {
            for (QueueStore.Claim claim : batch.claimed()) {
                try {
                    deliverRound(claim, start, false);
                } catch (RuntimeException e) {
                    failed(claim.queueId(), e);
                } finally {
                    done++;
                    leaveActive();
                }
            }
            for (String id : batch.odd()) {
                try {
                    deliverClaimed(id);
                } catch (RuntimeException e) {
                    failed(id, e);
                } finally {
                    done++;
                    leaveActive();
                }
            }
        } finally {
            // the places of the messages that were not claimed (leased elsewhere, not due, gone)
            for (int i = done; i < entered.size(); i++) {
                leaveActive();
            }
        }
    }

    /* deliverAccepted - the first round of a message born leased, from memory; its place in the active queue was taken when it was accepted */
    private void deliverAccepted(AcceptedMessages.Accepted accepted) {
        try {
            deliverRound(accepted.claim(), Instant.now(), true);
        } finally {
            AcceptedMessages.shared().unreserve(accepted.bytes());
            leaveActive();
        }
    }

    /*
     * failed - a round that ended in an exception: the message is due again (its lease given
     * back, or kept to be given back, or never taken) and a later queue scan requests it. One
     * line with the root cause; the stack at FINE (when the database is away, every round
     * fails alike and WildFly logs each exception already)
     */
    private static void failed(String queueId, RuntimeException e) {
        LOG.severe("PSTN4303: " + queueId + ": delivery failed, tried again at a later queue scan: " + rootCause(e));
        LOG.log(java.util.logging.Level.FINE, "PSTN4303: " + queueId, e);
    }

    /* leaveActive - give the place in the active queue back; wake what waited for one */
    private void leaveActive() {
        if (ActiveMessages.shared().leave()) {
            wakeWaiting(configService.current().get(Parameters.QMGR_MESSAGE_ACTIVE_LIMIT));
        }
    }

    /* wakeWaiting - room in the active queue again: request the due messages that were turned away */
    private void wakeWaiting(int limit) {
        int room = Math.min(QueueScanner.BATCH, ActiveMessages.shared().room(limit));
        if (room <= 0) {
            ActiveMessages.shared().markWaiting();
            return;
        }
        try {
            requests.wakeUpAll(store.due(Instant.now(), room));
        } catch (RuntimeException e) {
            // the scanner finds them at its next run
            LOG.warning("PSTN4405: cannot list the due messages that wait for the active queue: " + e);
        }
    }

    private void deliverClaimed(String queueId) {
        Instant start = Instant.now();
        QueueStore.Claim claim = store.claim(queueId, start, LEASE);
        if (claim == null) {
            return;
        }
        deliverRound(claim, start, false);
    }

    /*
     * deliverRound - deliver what the claim has due and record the outcomes. A round that
     * sent every recipient of the message and owes no notice is removed in a batch with
     * others (Removals); every other round is recorded by finishRound.
     */
    private void deliverRound(QueueStore.Claim claim, Instant start, boolean fromMemory) {
        String queueId = claim.queueId();
        if (claim.firstTime()) {
            MailLog.qmgr(queueId + ": from=<" + claim.sender() + ">, size=" + claim.size()
                    + ", nrcpt=" + claim.nrcpt() + " (queue active)");
        }
        Map<Long, QueueStore.Outcome> outcomes;
        try {
            outcomes = deliverDue(claim, start);
        } catch (RuntimeException e) {
            try {
                store.release(queueId, claim.lease());
            } catch (RuntimeException releaseFailed) {
                // the database is gone too: the lease is given back when it answers again
                keep(claim, null, releaseFailed);
            }
            throw e;
        }
        if (Removals.removable(claim, outcomes)) {
            Removals.shared().remove(new Removals.Removal(claim, outcomes, fromMemory), this::removeBatch);
            return;
        }
        finish(claim, outcomes);
    }

    /*
     * finish - record a round's outcomes (finishRound), then wake its notices and schedule
     * the next attempt. A transaction that fails is tried again a few times; when the
     * database still does not answer, the round waits in memory (UnrecordedRounds) and each
     * queue scan offers it again (recordKept). Only when that memory is full does the round
     * fail, and its message is delivered again when its lease runs out.
     */
    private void finish(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes) {
        try {
            finish(claim, outcomes, FINISH_ATTEMPTS);
        } catch (RuntimeException e) {
            if (!keep(claim, outcomes, e)) {
                throw e;
            }
        }
    }

    /* keep - a round the database would not take waits for the next queue scan; false when too many wait */
    private static boolean keep(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes, RuntimeException e) {
        if (!UnrecordedRounds.shared().keep(claim, outcomes, Instant.now())) {
            return false;
        }
        LOG.warning("PSTN4411: " + claim.queueId() + ": the queue database does not answer; "
                + (outcomes == null ? "the lease is" : "the outcomes of the round are")
                + " kept in memory and recorded when it answers again: " + rootCause(e));
        return true;
    }

    /** rootCause - the exception, and the innermost cause when it is wrapped (EJBException around JDBC). */
    public static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e) : e.getClass().getSimpleName() + " (" + t + ")";
    }

    /**
     * recordKept - offer the rounds that wait in memory (UnrecordedRounds) to the database
     * again, oldest first, one attempt each; stops at the first that fails (the database is
     * still away) and keeps it and the rest. Called by every queue scan before it looks for
     * due mail. Returns the number recorded.
     */
    public int recordKept() {
        List<UnrecordedRounds.Unrecorded> waiting = UnrecordedRounds.shared().take();
        int recorded = 0;
        for (int i = 0; i < waiting.size(); i++) {
            UnrecordedRounds.Unrecorded u = waiting.get(i);
            try {
                if (u.outcomes() == null) {
                    store.release(u.claim().queueId(), u.claim().lease());
                } else {
                    finish(u.claim(), u.outcomes(), 1);
                }
                recorded++;
            } catch (RuntimeException e) {
                for (UnrecordedRounds.Unrecorded rest : waiting.subList(i, waiting.size())) {
                    UnrecordedRounds.shared().keep(rest.claim(), rest.outcomes(), rest.since());
                }
                LOG.warning("PSTN4412: the queue database still does not answer; " + (waiting.size() - i)
                        + " round(s) wait in memory: " + rootCause(e));
                break;
            }
        }
        if (recorded > 0) {
            int n = recorded;
            LOG.info(() -> "PSTN4413: the queue database answers again; " + n + " round(s) kept in memory recorded");
        }
        return recorded;
    }

    /* finish - record a round's outcomes in up to {@code attempts} transactions, pausing between them; throws the last failure */
    private void finish(QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes, int attempts) {
        String queueId = claim.queueId();
        QueueStore.Finished finished = null;
        RuntimeException failure = null;
        Config config = configService.current();
        String messageId = config.get(Parameters.DELIVERY_EVENT_NOTIFICATION) ? messageId(claim) : null;
        for (int attempt = 0; attempt < attempts && finished == null; attempt++) {
            try {
                finished = store.finishRound(queueId, claim.lease(), outcomes, Instant.now(), messageId);
            } catch (RuntimeException e) {
                failure = e;
                if (attempts == 1) {
                    break;
                }
                LOG.warning("PSTN4406: " + queueId + ": cannot record the outcomes of a round (attempt "
                        + (attempt + 1) + " of " + attempts + "): " + rootCause(e));
                if (attempt + 1 == attempts) {
                    break;
                }
                try {
                    Thread.sleep(FINISH_PAUSE.toMillis() << attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (finished == null) {
            throw failure != null ? failure : new IllegalStateException(queueId + ": outcomes not recorded");
        }
        finished.notices().forEach(requests::wakeUp);
        // committed: the publisher's thread takes them from here; never a wait on this thread
        EventHandoff.shared().offer(finished.events(), config.get(Parameters.DELIVERY_EVENT_HANDOFF_LIMIT));
        Instant next = finished.next();
        if (next == null) {
            MailLog.qmgr(queueId + ": removed");
        } else {
            requests.schedule(queueId, Duration.between(Instant.now(), next));
        }
    }

    /*
     * removeBatch - Removals' writer: the delivered messages of a batch removed in one
     * transaction; a message whose lease was lost meanwhile, or a batch whose transaction
     * failed, is recorded one message at a time the ordinary way.
     */
    private void removeBatch(List<Removals.Removal> batch) {
        Map<String, Long> leases = new LinkedHashMap<>();
        Set<String> indexed = new java.util.HashSet<>();
        Config config = configService.current();
        Map<String, List<DeliveryEvent>> events = config.get(Parameters.DELIVERY_EVENT_NOTIFICATION)
                ? new HashMap<>() : Map.of();
        Instant now = Instant.now();
        for (Removals.Removal r : batch) {
            leases.put(r.claim().queueId(), r.claim().lease());
            if (!r.fromMemory()) {
                indexed.add(r.claim().queueId());
            }
            if (config.get(Parameters.DELIVERY_EVENT_NOTIFICATION)) {
                events.put(r.claim().queueId(), events(config, r.claim(), r.outcomes(), now));
            }
        }
        List<String> lost;
        try {
            lost = store.removeDelivered(leases, indexed, events);
        } catch (RuntimeException e) {
            LOG.warning("PSTN4407: cannot remove " + batch.size() + " delivered message(s) in one transaction; "
                    + "recording them one by one: " + e);
            lost = new ArrayList<>(leases.keySet());
        }
        for (Removals.Removal r : batch) {
            if (lost.contains(r.claim().queueId())) {
                try {
                    finish(r.claim(), r.outcomes());
                } catch (RuntimeException e) {
                    LOG.severe("PSTN4303: " + r.claim().queueId() + ": outcomes not recorded, the message is"
                            + " delivered again when its lease runs out: " + rootCause(e));
                }
            } else {
                EventHandoff.shared().offer(events.getOrDefault(r.claim().queueId(), List.of()),
                        config.get(Parameters.DELIVERY_EVENT_HANDOFF_LIMIT));
                MailLog.qmgr(r.claim().queueId() + ": removed");
            }
        }
    }

    /* events - the delivery events of a round whose recipients were all sent (a batched removal) */
    private List<DeliveryEvent> events(Config config, QueueStore.Claim claim, Map<Long, QueueStore.Outcome> outcomes,
                                       Instant now) {
        String messageId = messageId(claim);
        String host = config.get(Parameters.MYHOSTNAME);
        List<DeliveryEvent> list = new ArrayList<>(claim.due().size());
        for (QueueStore.Claim.Rcpt r : claim.due()) {
            QueueStore.Outcome o = outcomes.get(r.id());
            if (o != null) {
                list.add(DeliveryEvent.of(host, now, claim.arrival(), claim.queueId(), messageId, r.address(),
                        r.orcpt(), o.status(), o.dsn(), o.reply(), o.relay()));
            }
        }
        return list;
    }

    /**
     * messageId - the Message-ID of the claimed message, for its delivery events: from the
     * content the claim holds (a small message, or one delivered from memory), else from
     * its first content chunk (one read); null when it has none or the chunk cannot be read.
     */
    private String messageId(QueueStore.Claim claim) {
        if (claim.content() != null) {
            return MessageIds.find(claim.content());
        }
        try {
            return MessageIds.find(store.chunk(claim.queueId(), 0));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Round - one delivery round of one message: its claim, the configuration in force (main.cf,
     * and the delivery services of master.cf with their own configurations), when the round started, its retry schedule, and the outcome of each recipient so far (by
     * recipient row id).
     */
    private record Round(QueueStore.Claim claim, Config config, DeliveryServices services, Instant start,
                         RetrySchedule schedule, Map<Long, QueueStore.Outcome> outcomes) {
        /** expire - a deferred recipient past the message's lifetime, or of a forced-expired message, bounces. */
        QueueStore.Outcome expire(QueueStore.Outcome o) {
            return schedule.expire(o, claim.forcedExpire());
        }
    }

    /** Lane - the delivery service and next hop of a batch (a queue of Postfix's qmgr). */
    private record Lane(DeliveryServices.Service service, NextHop hop) {
    }

    /** why a recipient of a message that postsuper -e or -f expired is deferred, then bounced as expired */
    static final String ADMIN_EXPIRED = "message is administratively expired";

    private Map<Long, QueueStore.Outcome> deliverDue(QueueStore.Claim claim, Instant start) {
        Config config = configService.current();
        TransportResolver resolver;
        try {
            resolver = TransportResolver.inForce(configService);
        } catch (ConfigException e) {
            throw new IllegalStateException("PSTN4401: transport_maps: " + e.getMessage(), e);
        }
        RetrySchedule schedule = RetrySchedule.of(config, claim.sender(), claim.arrival(), Instant.now());
        Instant retry = schedule.retry();

        Map<Long, QueueStore.Outcome> outcomes = new HashMap<>();
        Round round = new Round(claim, config, configService.deliveryServices(), start, schedule, outcomes);
        // qmgr(8)'s queues are per transport and destination: smtp and slow to one host are two
        Map<Lane, List<QueueStore.Claim.Rcpt>> byHop = new LinkedHashMap<>();
        DeferTransports deferTransports = DeferTransports.of(config);
        if (claim.forcedExpire()) {
            // postsuper -e / -f: returned to the sender, not delivered (Postfix qmgr defers
            // with "4.7.0 message is administratively expired"; the expiry makes it a bounce)
            for (QueueStore.Claim.Rcpt r : claim.due()) {
                QueueStore.Outcome o = round.expire(new QueueStore.Outcome(RecipientStatus.DEFERRED, "4.7.0", "none",
                        ADMIN_EXPIRED, retry));
                outcomes.put(r.id(), o);
                log(round, round.config(), r, false, "none", 0, 0, o);
            }
            return outcomes;
        }
        for (QueueStore.Claim.Rcpt r : claim.due()) {
            TransportResolver.Route route = resolver.resolve(r.address());
            if (!route.ok()) {
                // an address that exists nowhere bounces; an unavailable transport waits for a fix
                QueueStore.Outcome o = route.bounceDsn() != null
                        ? new QueueStore.Outcome(RecipientStatus.BOUNCED, route.bounceDsn(), "none", route.error(),
                                null)
                        : new QueueStore.Outcome(RecipientStatus.DEFERRED, "4.3.0", "none", route.error(), retry);
                outcomes.put(r.id(), round.expire(o));
                log(round, round.config(), r, false, o.relay(), 0, 0, outcomes.get(r.id()));
                continue;
            }
            // defer_transports: mail for these transports waits for a flush (ETRN, sendmail -q)
            if (deferTransports.defers(route.transport(), claim.ignoreDeferTransports())) {
                QueueStore.Outcome o = round.expire(new QueueStore.Outcome(RecipientStatus.DEFERRED,
                        DeferTransports.DSN, "none", DeferTransports.REASON, retry));
                outcomes.put(r.id(), o);
                log(round, round.config(), r, false, "none", 0, 0, o);
                continue;
            }
            byHop.computeIfAbsent(new Lane(round.services().service(route.transport(), route.hop()), route.hop()),
                    h -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<Lane, List<QueueStore.Claim.Rcpt>> e : byHop.entrySet()) {
            List<QueueStore.Claim.Rcpt> all = e.getValue();
            // transport_destination_recipient_limit of the transport, else default_destination_recipient_limit
            int limit = e.getKey().service().recipientLimit();
            int step = limit == 0 ? all.size() : limit;
            for (int i = 0; i < all.size(); i += step) {
                List<QueueStore.Claim.Rcpt> batch = all.subList(i, Math.min(all.size(), i + step));
                deliverBatch(round, e.getKey().service(), e.getKey().hop(), batch, i + step < all.size());
            }
        }
        return outcomes;
    }

    /**
     * xforward - the XFORWARD attributes of a message, for smtp_send_xforward_command and
     * lmtp_send_xforward_command: the original client's NAME, ADDR, PORT, PROTO and HELO as
     * the queue stored them, IDENT (the queue id, Postfix's log ident) and SOURCE: LOCAL for
     * mail that Postern composed itself (bounces and other notices, protocol "local"; Postfix
     * says LOCAL for pickup and its own mail), with no client attributes then, as Postfix has
     * none for them; REMOTE for mail that a client handed over by SMTP. What is not known is
     * left out: the client sends it as [UNAVAILABLE] if the server asks for it.
     */
    static Map<String, String> xforward(QueueStore.Claim claim) {
        Map<String, String> x = new HashMap<>();
        x.put("IDENT", claim.queueId());
        QueueStore.Claim.Client c = claim.client();
        if (c.local()) {
            x.put("SOURCE", "LOCAL");
            return x;
        }
        putKnown(x, "NAME", c.name());
        putKnown(x, "ADDR", c.address());
        putKnown(x, "PORT", c.port() == null ? null : String.valueOf(c.port()));
        putKnown(x, "PROTO", c.protocol());
        putKnown(x, "HELO", c.helo());
        if (c.address() != null) {
            x.put("SOURCE", "REMOTE");
        }
        return x;
    }

    private static void putKnown(Map<String, String> x, String name, String value) {
        if (value != null && !value.isBlank()) {
            x.put(name, value);
        }
    }

    /*
     * deliverBatch - one batch to one destination; {@code moreBatches}: the message has more
     * recipients for the same destination after this batch (a backlog, see DestinationBacklog)
     */
    private void deliverBatch(Round round, DeliveryServices.Service service, NextHop hop,
                              List<QueueStore.Claim.Rcpt> batch, boolean moreBatches) {
        QueueStore.Claim claim = round.claim();
        // the transport's own configuration: main.cf with the -o overrides of its master.cf line
        Config config = service.config();
        Instant retry = round.schedule().retry();
        boolean lmtp = hop.protocol() == NextHop.Protocol.LMTP;
        List<OutboundMessage.OutboundRecipient> rcpts = new ArrayList<>();
        for (QueueStore.Claim.Rcpt r : batch) {
            rcpts.add(new OutboundMessage.OutboundRecipient(r.address(), r.orcpt(), r.notifyParam()));
        }
        OutboundMessage msg = new OutboundMessage(claim.queueId(), claim.sender(), rcpts, claim.size(),
                claim.content() != null
                        ? () -> new java.io.ByteArrayInputStream(claim.content(), 0, (int) claim.size())
                        : () -> new ContentStream(store, claim.queueId(), claim.chunks()), claim.envid(), claim.ret(),
                "8BITMIME".equalsIgnoreCase(claim.bodyType()), xforward(claim), claim.arrival());
        Instant handed = Instant.now();
        DeliveryOutcome outcome;
        // a flush (ETRN, sendmail -q) ignores the dead-destination cache (ETRN_README)
        DeadDestinations.Dead dead = claim.ignoreDeferTransports() ? null
                : DeadDestinations.shared().dead(hop, handed);
        if (dead != null) {
            List<DeliveryOutcome.RecipientOutcome> suspended = new ArrayList<>();
            for (QueueStore.Claim.Rcpt r : batch) {
                suspended.add(new DeliveryOutcome.RecipientOutcome(r.address(), DeliveryOutcome.Status.DEFERRED,
                        dead.dsn(), dead.suspended()));
            }
            recordBatch(round, service, hop, batch, new DeliveryOutcome("none", suspended, 0, 0), handed, retry);
            return;
        }
        // the transport's process limit (maxproc) first, then its destination concurrency limit
        SmtpClientConnectionFactory.Permit process;
        SmtpClientConnectionFactory.Permit permit = null;
        String full = null;
        // counted from here (waiting for a slot too) until the delivery is done: smtp_connection_cache_on_demand
        DestinationBacklog.Ticket ticket = DestinationBacklog.shared().enter(service.name(), hop);
        try {
            process = ProcessLimits.shared().acquire(service.name(), service.processLimit(), CONCURRENCY_WAIT);
            if (process == null) {
                full = "process limit " + service.processLimit() + " of transport " + service.name() + " reached";
            } else {
                permit = connections.reserve(service.name(), hop, service.concurrencyLimit(), CONCURRENCY_WAIT);
                if (permit == null) {
                    full = "concurrency limit " + service.concurrencyLimit() + " for " + hop.destination() + " reached";
                } else {
                    // and the same limit across the nodes that share the queue (ClusterSlots)
                    SmtpClientConnectionFactory.Permit local = permit;
                    SmtpClientConnectionFactory.Permit cluster;
                    try {
                        cluster = slots.acquire(service.name(), hop.destination(), service.concurrencyLimit(),
                                CONCURRENCY_WAIT);
                    } catch (InterruptedException | RuntimeException e) {
                        local.close();
                        process.close();
                        throw e;
                    }
                    if (cluster == null) {
                        local.close();
                        permit = null;
                        full = "concurrency limit " + service.concurrencyLimit() + " for " + hop.destination()
                                + " reached in the cluster";
                    } else {
                        permit = () -> {
                            try {
                                cluster.close();
                            } finally {
                                local.close();
                            }
                        };
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process = null;
            full = "interrupted";
        } catch (RuntimeException e) {
            ticket.close();
            throw e;
        }
        if (permit == null) {
            // every slot stayed busy: try again soon, but give this thread back
            ticket.close();
            if (process != null) {
                process.close();
            }
            List<DeliveryOutcome.RecipientOutcome> busy = new ArrayList<>();
            for (QueueStore.Claim.Rcpt r : batch) {
                busy.add(new DeliveryOutcome.RecipientOutcome(r.address(), DeliveryOutcome.Status.DEFERRED, "4.4.5",
                        "delivery temporarily suspended: " + full));
            }
            outcome = new DeliveryOutcome("none", busy, 0, 0);
            retry = Instant.now().plus(RetrySchedule.CONCURRENCY_RETRY);
        } else {
            try (DestinationBacklog.Ticket done = ticket;
                 SmtpClientConnectionFactory.Permit heldProcess = process;
                 SmtpClientConnectionFactory.Permit held = permit) {
                // the client keeps its session only while the destination has a backlog (on demand)
                boolean backlog = ticket.backlog(service.concurrencyLimit(), moreBatches);
                outcome = connect(round, service, hop, msg.withBacklog(backlog), batch);
            }
            if (!lmtp && loopsToBestMx(outcome) && !config.get(Parameters.BEST_MX_TRANSPORT).isBlank()) {
                // another destination, whose backlog is not tracked: msg says backlog, cached as before
                outcome = bestMx(round, service, hop, msg, batch, outcome);
            }
            if (outcome.transcript() != null) {
                protocolNotice(claim, lmtp, outcome.transcript());
            }
            if (outcome.tls() != null
                    && SmtpClientParameters.of(hop).cachedSettings(config, hop).tls().options().logLevel() >= 1) {
                // Postfix's line at smtp_tls_loglevel 1, once per TLS session: "Verified TLS connection established to ..."
                MailLog.delivery(config, lmtp, outcome.tls());
            }
        }
        recordBatch(round, service, hop, batch, outcome, handed, retry);
    }

    /*
     * protocolNotice - notify_classes = protocol: the client's transcript goes to the
     * postmaster (Postfix's smtp_chat_notify()); like Postfix's, a notice that cannot be
     * queued is logged and dropped, never a reason to hold up the delivery
     */
    private void protocolNotice(QueueStore.Claim claim, boolean lmtp, DeliveryOutcome.Transcript t) {
        try {
            String id = store.protocolNotice(claim.queueId(), claim.sender(), lmtp, t.server(), t.lines(),
                    Instant.now());
            if (id != null) {
                requests.wakeUp(id);
            }
        } catch (RuntimeException e) {
            LOG.warning("PSTN4410: " + claim.queueId() + ": cannot queue the postmaster's protocol notice: " + e);
        }
    }

    /* loopsToBestMx - the client found itself the best MX, and best_mx_transport is set (4.4.6) */
    private static boolean loopsToBestMx(DeliveryOutcome o) {
        return !o.recipients().isEmpty() && o.recipients().stream().allMatch(r ->
                r.status() == DeliveryOutcome.Status.DEFERRED && "4.4.6".equals(r.dsn()));
    }

    /*
     * bestMx - best_mx_transport: deliver what loops back to us by that transport instead
     * (transport, or transport:nexthop; without a next hop, the destination domain). Once only:
     * a best_mx_transport that loops again stays deferred.
     */
    private DeliveryOutcome bestMx(Round round, DeliveryServices.Service service, NextHop hop, OutboundMessage msg,
                                   List<QueueStore.Claim.Rcpt> batch, DeliveryOutcome looped) {
        String best = service.config().get(Parameters.BEST_MX_TRANSPORT).trim();
        int colon = best.indexOf(':');
        TransportResolver.Route route;
        try {
            route = TransportResolver.inForce(configService).route(colon < 0 ? best : best.substring(0, colon),
                    colon < 0 ? hop.host() : best.substring(colon + 1));
        } catch (ConfigException e) {
            return looped;
        }
        if (!route.ok() || route.hop().equals(hop)) {
            LOG.warning("PSTN4404: " + round.claim().queueId() + ": best_mx_transport = " + best + ": "
                    + (route.ok() ? "loops again" : route.error()));
            return looped;
        }
        return connect(round, round.services().service(route.transport(), route.hop()), route.hop(), msg, batch);
    }

    /* connect - one delivery through a pooled connection; a pool failure defers the batch */
    private DeliveryOutcome connect(Round round, DeliveryServices.Service service, NextHop hop, OutboundMessage msg,
                                    List<QueueStore.Claim.Rcpt> batch) {
        DeliveryOutcome outcome;
        try (SmtpClientConnection c = connections.getConnection(hop,
                SmtpClientParameters.of(hop).cachedSettings(service.config(), hop))) {
            outcome = c.deliver(msg);
        } catch (ResourceException | RuntimeException e) {
            LOG.warning("PSTN4402: " + round.claim().queueId() + ": no connection to " + hop.destination() + ": " + e);
            List<DeliveryOutcome.RecipientOutcome> failed = new ArrayList<>();
            for (QueueStore.Claim.Rcpt r : batch) {
                failed.add(new DeliveryOutcome.RecipientOutcome(r.address(), DeliveryOutcome.Status.DEFERRED,
                        "4.4.1", "connect to " + hop.destination() + ": " + e.getMessage()));
            }
            outcome = new DeliveryOutcome("none", failed, 0, 0, null, java.util.Set.of(), true);
        }
        updateDeadDestinations(hop, outcome, round.config());
        return outcome;
    }

    /*
     * updateDeadDestinations - a temporary site failure (nothing of the destination could be
     * talked to) marks it dead for minimal_backoff_time; any delivery that reached it clears it.
     * A loop to ourselves (4.4.6, best_mx_transport) is a finding about the route, not about the site.
     */
    private void updateDeadDestinations(NextHop hop, DeliveryOutcome outcome, Config config) {
        if (!outcome.siteFailure()) {
            if (DeadDestinations.shared().alive(hop)) {
                clusterDead.alive(hop);
            }
            return;
        }
        if (outcome.recipients().isEmpty() || loopsToBestMx(outcome) || !outcome.recipients().stream()
                .allMatch(r -> r.status() == DeliveryOutcome.Status.DEFERRED)) {
            return;
        }
        DeliveryOutcome.RecipientOutcome first = outcome.recipients().get(0);
        Instant until = Instant.now().plus(config.get(Parameters.MINIMAL_BACKOFF_TIME));
        DeadDestinations.shared().markDead(hop, first.dsn(), first.reply(), until);
        clusterDead.dead(hop, first.dsn(), first.reply(), until);
    }

    private void recordBatch(Round round, DeliveryServices.Service service, NextHop hop,
                             List<QueueStore.Claim.Rcpt> batch, DeliveryOutcome outcome, Instant handed, Instant retry) {
        boolean lmtp = hop.protocol() == NextHop.Protocol.LMTP;
        double queueSeconds = seconds(round.start(), handed);
        for (int i = 0; i < batch.size(); i++) {
            QueueStore.Claim.Rcpt r = batch.get(i);
            DeliveryOutcome.RecipientOutcome ro = i < outcome.recipients().size() ? outcome.recipients().get(i)
                    : new DeliveryOutcome.RecipientOutcome(r.address(), DeliveryOutcome.Status.DEFERRED, "4.3.0",
                    "no outcome reported for the recipient");
            ro = soften(ro, hop);
            RecipientStatus status = switch (ro.status()) {
                case SENT -> RecipientStatus.SENT;
                case BOUNCED -> RecipientStatus.BOUNCED;
                case DEFERRED -> RecipientStatus.DEFERRED;
            };
            String relay = ro.relay() != null ? ro.relay() : outcome.relay();
            String action = status == RecipientStatus.SENT ? successAction(outcome, relay, lmtp, service.config()) : null;
            QueueStore.Outcome o = round.expire(new QueueStore.Outcome(status, ro.dsn(), relay, ro.reply(),
                    retry, action));
            round.outcomes().put(r.id(), o);
            log(round, service.config(), r, lmtp, relay, outcome.connectSeconds(), outcome.transmitSeconds(), o);
        }
        LOG.fine(() -> round.claim().queueId() + ": queue manager time " + queueSeconds);
    }

    /**
     * successAction - the RFC 3464 action of a success notice for a recipient that this server
     * accepted, as Postfix's smtp_rcpt_done decides it: none (null) when the server announced
     * DSN, since NOTIFY went on to it; else "relayed", or "delivered" for an LMTP server when
     * lmtp_assume_final = yes.
     */
    static String successAction(DeliveryOutcome outcome, String server, boolean lmtp, Config config) {
        if (outcome.dsnAware(server)) {
            return null;
        }
        return lmtp && config.get(Parameters.LMTP_ASSUME_FINAL) ? "delivered" : "relayed";
    }

    /**
     * soften - "Don't bounce mail after a host lookup problem with a relayhost or with a
     * fallback relay" (Postfix smtp_connect.c): a 5.4.4 for a next hop that is not the
     * recipient's own domain is a configuration or DNS problem, not the recipient's.
     */
    static DeliveryOutcome.RecipientOutcome soften(DeliveryOutcome.RecipientOutcome ro, NextHop hop) {
        if (ro.status() != DeliveryOutcome.Status.BOUNCED || !"5.4.4".equals(ro.dsn()) || hop.host() == null) {
            return ro;
        }
        String address = ro.address().toLowerCase(Locale.ROOT);
        String domain = address.substring(address.lastIndexOf('@') + 1);
        if (hop.mxLookup() && hop.host().equalsIgnoreCase(domain)) {
            return ro;
        }
        return new DeliveryOutcome.RecipientOutcome(ro.address(), DeliveryOutcome.Status.DEFERRED, "4.4.4", ro.reply());
    }

    /* log - a recipient's line, under the syslog_name of serviceConfig: its delivery service's, or main.cf's */
    private void log(Round round, Config serviceConfig, QueueStore.Claim.Rcpt r, boolean lmtp,
                     String relay, double connect, double transmit, QueueStore.Outcome o) {
        QueueStore.Claim claim = round.claim();
        Instant start = round.start();
        Instant now = Instant.now();
        double delay = seconds(claim.arrival(), now);
        double before = seconds(claim.arrival(), start);
        double inQmgr = Math.max(0, delay - before - connect - transmit);
        // the same word as the delivery event's status
        String status = DeliveryEvent.status(o.status(), o.reply());
        StringBuilder line = new StringBuilder(claim.queueId()).append(": to=<").append(r.address()).append('>');
        String orig = origTo(r.orcpt());
        if (orig != null && !orig.equalsIgnoreCase(r.address())) {
            line.append(", orig_to=<").append(orig).append('>');
        }
        line.append(", relay=").append(relay)
                .append(", delay=").append(MailLog.seconds(delay))
                .append(", delays=").append(MailLog.seconds(before)).append('/').append(MailLog.seconds(inQmgr))
                .append('/').append(MailLog.seconds(connect)).append('/').append(MailLog.seconds(transmit))
                .append(", dsn=").append(o.dsn())
                .append(", status=").append(status)
                .append(" (").append(o.reply()).append(')');
        MailLog.delivery(serviceConfig, lmtp, line.toString());
        Activity.shared().delivered(status, delay);
    }

    /** origTo - the address of an ORCPT parameter (rfc822;addr), or null. */
    private static String origTo(String orcpt) {
        if (orcpt == null) {
            return null;
        }
        int semi = orcpt.indexOf(';');
        return semi < 0 ? orcpt : orcpt.substring(semi + 1);
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toNanos() / 1e9;
    }

}
