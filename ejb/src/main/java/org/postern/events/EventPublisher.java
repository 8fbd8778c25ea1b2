package org.postern.events;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.EJB;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.Timeout;
import jakarta.ejb.Timer;
import jakarta.ejb.TimerConfig;
import jakarta.ejb.TimerService;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSProducer;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.Parameters;
import org.postern.queue.DeliveryEventRow;
import org.postern.service.ConfigService;

/**
 * EventPublisher - publishes the delivery events on the JMS topic postern.events
 * (java:/jms/topic/postern/events), at least once.
 *
 * <h2>DESCRIPTION</h2>
 * The queue manager writes an event row (queue_event) for every recipient outcome, in
 * the transaction that records the outcome ({@link EventOutbox}), and after the commit
 * offers the event to an in-memory hand-off ({@link EventHandoff}) without waiting. This
 * publisher's own thread takes the events from the hand-off in batches, sends each batch
 * in one transacted JMS session (persistent messages; one commit, so one broker sync, per
 * batch) and then removes their rows in one transaction. Nothing on the delivery path
 * waits for the broker: a slow or absent broker only makes rows wait in the table.
 *
 * <p>The republisher, a timer of this bean, runs shortly after the start and then every
 * delivery_event_republish_time: it publishes the rows left in the table that were
 * recorded before this start (their events died with the previous run's memory) or are
 * older than delivery_event_republish_time (their send failed, or the hand-off was full),
 * oldest first, and removes them. Rows older than delivery_event_lifetime are discarded
 * with a warning: a topic unreachable that long must not grow the queue database without
 * bound.
 *
 * <h2>THE GUARANTEE</h2>
 * At least once, for every outcome that was committed: the row commits with the outcome
 * and is removed only after the broker committed the event. A crash, a failed send or a
 * full hand-off between the two leaves the row, which is published again; so an event may
 * be published twice (a crash after the broker's commit and before the row's removal, or
 * a republish of an event still in memory on a loaded server). Consumers deduplicate on
 * the CloudEvents id, which is fixed when the row is written. Events are not ordered
 * across messages; those of one recipient are published in the order of their rounds
 * except when a republish catches up with an older one. Events of an outcome are lost only
 * when delivery_event_lifetime passes before the topic can take them, and the log says so.
 *
 * <h2>THE MESSAGE</h2>
 * A JMS TextMessage whose body is the CloudEvents JSON document ({@link DeliveryEvent}:
 * structured content mode), with the properties of the CloudEvents JMS binding for that
 * mode ({@code content_type} = application/cloudevents+json; charset=UTF-8) and, for
 * message selectors, {@code ce_specversion}, {@code ce_id}, {@code ce_type},
 * {@code ce_source}, {@code postern_status} (sent, deferred, bounced, expired) and
 * {@code postern_queue_id}; e.g. a consumer of bounces only selects
 * {@code postern_status = 'bounced'}.
 *
 * <h2>SECURITY</h2>
 * Talks to the application server's broker through java:/ConnectionFactory. The events
 * carry addresses and reply texts of the mail: whoever may subscribe to the topic sees
 * who mailed whom, as a reader of the mail log does.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * delivery_event_notification (yes; no: the queue manager writes no events, and the
 * republisher still publishes those left), delivery_event_republish_time (60s),
 * delivery_event_lifetime (5d), delivery_event_handoff_limit (10000), myhostname (the
 * events' source, postern://$myhostname).
 *
 * <h2>BUGS</h2>
 * With several nodes on one database, each node's republisher publishes any node's rows
 * older than delivery_event_republish_time, so a node that is slow to publish may see its
 * events published twice.
 *
 * <h2>SEE ALSO</h2>
 * {@link DeliveryEvent}, {@link EventOutbox}, {@link EventHandoff}, wildfly-config
 * configure-jms.cli (the topic).
 */
@Singleton
@Startup
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class EventPublisher {
    private static final Logger LOG = Logger.getLogger("org.postern.events");
    /** the JNDI name of the topic */
    public static final String TOPIC = "java:/jms/topic/postern/events";
    /** the content type of an event in the structured content mode */
    public static final String CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8";
    /** events per JMS transaction at most */
    static final int BATCH = 256;
    /** events one republish publishes at most; the next one takes the rest */
    static final int REPUBLISH_MAX = 20_000;
    /** the first republish after the start */
    static final Duration FIRST_REPUBLISH = Duration.ofSeconds(5);
    /** a failure to publish is logged at most this often */
    static final Duration WARN_EVERY = Duration.ofMinutes(1);

    @Resource(lookup = "java:/ConnectionFactory")
    private ConnectionFactory factory;

    @Resource(lookup = TOPIC)
    private Topic topic;

    @Resource
    private ManagedThreadFactory threads;

    @Resource
    private TimerService timers;

    @EJB
    private EventStore store;

    @EJB
    private ConfigService config;

    private final Instant started = Instant.now();
    private volatile boolean running;
    private Thread worker;
    private volatile Instant lastWarning = Instant.EPOCH;
    private long overflowReported;

    @PostConstruct
    void start() {
        running = true;
        worker = threads.newThread(this::work);
        worker.setName("postern-event-publisher");
        worker.start();
        timers.createSingleActionTimer(FIRST_REPUBLISH.toMillis(), new TimerConfig("postern-event-republish", false));
    }

    @PreDestroy
    void stop() {
        running = false;
        worker.interrupt();
        try {
            worker.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Outgoing - an event as it is sent: id, queue id and status for the properties, the document. */
    record Outgoing(String id, String queueId, String status, String json) {
        static Outgoing of(DeliveryEvent e) {
            return new Outgoing(e.id(), e.queueId(), e.status(), e.json());
        }

        static Outgoing of(DeliveryEventRow r) {
            return new Outgoing(r.getEventId(), r.getQueueId(), r.getStatus(), r.getEvent());
        }
    }

    /*
     * work - the publisher thread: batches from the hand-off, one JMS transaction each, then
     * their rows removed. A batch that cannot be sent is dropped from memory: its rows are
     * the republisher's.
     */
    private void work() {
        JMSContext ctx = null;
        while (running) {
            List<DeliveryEvent> batch;
            try {
                batch = EventHandoff.shared().take(BATCH, 1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (batch.isEmpty()) {
                continue;
            }
            List<Outgoing> out = batch.stream().map(Outgoing::of).toList();
            try {
                if (ctx == null) {
                    ctx = factory.createContext(JMSContext.SESSION_TRANSACTED);
                }
                send(ctx, out);
            } catch (RuntimeException e) {
                ctx = close(ctx);
                warn("PSTN7102: cannot publish " + out.size() + " delivery event(s) on " + TOPIC
                        + "; they stay in the queue database and are published again: " + e, e);
                continue;
            }
            removeRows(out);
        }
        close(ctx);
    }

    /** send - the events in one JMS transaction on the context; throws when the broker did not commit them. */
    private void send(JMSContext ctx, List<Outgoing> events) {
        try {
            JMSProducer producer = ctx.createProducer().setDeliveryMode(DeliveryMode.PERSISTENT);
            for (Outgoing e : events) {
                TextMessage m = ctx.createTextMessage(e.json());
                m.setStringProperty("content_type", CONTENT_TYPE);
                m.setStringProperty("ce_specversion", "1.0");
                m.setStringProperty("ce_id", e.id());
                m.setStringProperty("ce_type", DeliveryEvent.type(e.status()));
                m.setStringProperty("ce_source", "postern://" + config.current().get(Parameters.MYHOSTNAME));
                m.setStringProperty("postern_status", e.status());
                m.setStringProperty("postern_queue_id", e.queueId());
                producer.send(topic, m);
            }
            ctx.commit();
        } catch (jakarta.jms.JMSException e) {
            throw new jakarta.jms.JMSRuntimeException(e.getMessage(), e.getErrorCode(), e);
        } catch (RuntimeException e) {
            try {
                ctx.rollback();
            } catch (RuntimeException ignored) {
                // the context is closed by the caller anyway
            }
            throw e;
        }
    }

    /* removeRows - the published events' rows; a failure only means they are published again */
    private void removeRows(List<Outgoing> out) {
        try {
            store.published(out.stream().map(Outgoing::id).toList());
        } catch (RuntimeException e) {
            warn("PSTN7105: " + out.size() + " delivery event(s) published but their rows not removed; they are "
                    + "published again (consumers deduplicate on the event id): " + e, e);
        }
    }

    /**
     * republish - the timer: discard the rows past delivery_event_lifetime, publish the rows
     * left from before the start or older than delivery_event_republish_time, and set the
     * next run.
     */
    @Timeout
    void republish(Timer timer) {
        Config c = config.current();
        Duration every = c.get(Parameters.DELIVERY_EVENT_REPUBLISH_TIME);
        try {
            republish(c, Instant.now());
        } catch (RuntimeException e) {
            warn("PSTN7106: cannot republish the delivery events left in the queue database: " + e, e);
        } finally {
            if (running) {
                timers.createSingleActionTimer(Math.max(1000, every.toMillis()),
                        new TimerConfig("postern-event-republish", false));
            }
        }
    }

    /** republish - one run at the given time; returns the number of events published. */
    int republish(Config c, Instant now) {
        Duration lifetime = c.get(Parameters.DELIVERY_EVENT_LIFETIME);
        int discarded = store.discard(now.minus(lifetime));
        if (discarded > 0) {
            LOG.warning("PSTN7104: " + discarded + " delivery event(s) older than delivery_event_lifetime ("
                    + lifetime + ") discarded unpublished");
        }
        long overflowed = EventHandoff.shared().overflowed();
        if (overflowed > overflowReported) {
            long n = overflowed - overflowReported;
            overflowReported = overflowed;
            LOG.info(() -> "PSTN7107: " + n + " delivery event(s) found the hand-off full (delivery_event_handoff_limit)"
                    + " and were left to the republisher");
        }
        // rows of the previous run (nothing of them is in memory) and rows the publisher gave up
        Instant graced = now.minus(c.get(Parameters.DELIVERY_EVENT_REPUBLISH_TIME));
        Instant before = graced.isAfter(started) ? graced : started;
        int published = 0;
        try (JMSContext ctx = factory.createContext(JMSContext.SESSION_TRANSACTED)) {
            while (published < REPUBLISH_MAX) {
                List<DeliveryEventRow> rows = store.left(before, BATCH);
                if (rows.isEmpty()) {
                    break;
                }
                List<Outgoing> out = new ArrayList<>(rows.size());
                rows.forEach(r -> out.add(Outgoing.of(r)));
                send(ctx, out);
                if (store.published(out.stream().map(Outgoing::id).toList()) < out.size()) {
                    // another node or the publisher thread removed some meanwhile: no loop on them
                    LOG.fine("republish: some rows were removed meanwhile");
                }
                published += out.size();
                if (rows.size() < BATCH) {
                    break;
                }
            }
        }
        if (published > 0) {
            int n = published;
            LOG.info(() -> "PSTN7103: " + n + " delivery event(s) left in the queue database published on " + TOPIC);
        }
        return published;
    }

    /* warn - a warning, at most once per WARN_EVERY (a broker that is away fails every batch) */
    private void warn(String text, RuntimeException e) {
        Instant now = Instant.now();
        if (now.isAfter(lastWarning.plus(WARN_EVERY))) {
            lastWarning = now;
            LOG.log(Level.WARNING, text);
        } else {
            LOG.log(Level.FINE, text, e);
        }
    }

    private static JMSContext close(JMSContext ctx) {
        if (ctx != null) {
            try {
                ctx.close();
            } catch (RuntimeException ignored) {
                // a broken connection: nothing to give back
            }
        }
        return null;
    }
}
