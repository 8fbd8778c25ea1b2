package org.postern.admin;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.EJB;
import jakarta.ejb.Schedule;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.postern.qmgr.DeadDestinations;
import org.postern.queue.QueueState;
import org.postern.service.Activity;

/**
 * Metrics - Postern's meters in WildFly's micrometer registry, which configure-metrics.cli
 * serves in Prometheus format at the management interface's /metrics:
 *
 * <ul>
 * <li>{@code postern_queue_messages{queue}} - messages per queue (hold, incoming, active,
 * deferred, corrupt), counted at most every 5 seconds;</li>
 * <li>{@code postern_messages_accepted_total} - messages acknowledged with a 250;</li>
 * <li>{@code postern_recipients_total{status}} - recipients sent, deferred, bounced
 * (expired ones included);</li>
 * <li>{@code postern_delivery_delay_seconds_count/_sum} - arrival to final status, as
 * delay= in the mail log;</li>
 * <li>{@code postern_smtpd_sessions} - SMTP sessions open now;
 * {@code postern_smtpd_rejects_total{restriction}} - rejects per restriction;</li>
 * <li>{@code postern_delivery_busy} - deliveries running under a destination concurrency
 * limit; {@code postern_delivery_dead_destinations} - destinations held for dead.</li>
 * </ul>
 *
 * <p>The rates are Prometheus' business ({@code rate(postern_messages_accepted_total[5m])}).
 * Without the micrometer subsystem there is no registry and Postern runs without meters.
 */
@Singleton
@Startup
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class Metrics {
    private static final Logger LOG = Logger.getLogger("org.postern.admin");
    private static final long COUNTS_MILLIS = 5_000;

    @Inject
    Instance<MeterRegistry> registries;

    @EJB
    private QueueAdmin admin;

    @EJB
    private ServerControl control;

    private MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Set<String> restrictions = ConcurrentHashMap.newKeySet();
    private volatile Map<QueueState, Long> counts = Map.of();
    private volatile long countedAt;

    @PostConstruct
    void register() {
        if (registries == null || !registries.isResolvable()) {
            LOG.info("PSTN6011: no micrometer registry (configure-metrics.cli not applied): no metrics");
            return;
        }
        registry = registries.get();
        for (QueueState s : QueueState.values()) {
            gauge("postern.queue.messages", Tags.of("queue", s.name().toLowerCase(Locale.ROOT)), this, m -> m.count(s));
        }
        Activity a = Activity.shared();
        counter("postern.messages.accepted", Tags.empty(), a, x -> x.total(Activity.Kind.ACCEPTED));
        for (Activity.Kind k : List.of(Activity.Kind.SENT, Activity.Kind.DEFERRED, Activity.Kind.BOUNCED)) {
            counter("postern.recipients", Tags.of("status", k.name().toLowerCase(Locale.ROOT)), a, x -> x.total(k));
        }
        registry.more().timer("postern.delivery.delay", Tags.empty(), a, Activity::finalDeliveries,
                Activity::delaySeconds, TimeUnit.SECONDS);
        remember("postern.delivery.delay", Tags.empty());
        gauge("postern.smtpd.sessions", Tags.empty(), this, m -> m.control.getSessions());
        gauge("postern.delivery.busy", Tags.empty(), this,
                m -> m.control.getBusy().entrySet().stream().filter(e -> !e.getKey().endsWith(" waiting"))
                        .mapToInt(Map.Entry::getValue).sum());
        gauge("postern.delivery.dead.destinations", Tags.empty(), DeadDestinations.shared(),
                d -> d.snapshot(Instant.now()).size());
        restrictions();
        LOG.info("PSTN6012: metrics registered");
    }

    /*
     * The registry WildFly gives a deployment tags and passes on what its own methods
     * (gauge, more().counter, more().timer) register; a meter's builder would register it
     * in that registry alone, where no endpoint shows it. Hence these methods, not builders.
     */

    private <T> void gauge(String name, Tags tags, T obj, java.util.function.ToDoubleFunction<T> f) {
        registry.gauge(name, tags, obj, f);
        remember(name, tags);
    }

    private <T> void counter(String name, Tags tags, T obj, java.util.function.ToDoubleFunction<T> f) {
        registry.more().counter(name, tags, obj, f);
        remember(name, tags);
    }

    private void remember(String name, Tags tags) {
        Meter m = registry.find(name).tags(tags).meter();
        if (m != null) {
            meters.add(m);
        }
    }

    /** restrictions - a counter for each restriction that has rejected something, as they appear. */
    @Schedule(hour = "*", minute = "*", second = "*/5", persistent = false)
    void restrictions() {
        if (registry == null) {
            return;
        }
        for (String r : control.getRejects().keySet()) {
            if (restrictions.add(r)) {
                counter("postern.smtpd.rejects", Tags.of("restriction", r), this,
                        m -> m.control.getRejects().getOrDefault(r, 0L));
            }
        }
    }

    @PreDestroy
    void unregister() {
        if (registry != null) {
            meters.forEach(registry::remove);
        }
    }

    /** count - the messages of a queue, from a count at most COUNTS_MILLIS old. */
    private double count(QueueState s) {
        long now = System.currentTimeMillis();
        if (now - countedAt > COUNTS_MILLIS) {
            Map<QueueState, Long> c = new EnumMap<>(QueueState.class);
            c.putAll(admin.counts());
            counts = c;
            countedAt = now;
        }
        return counts.getOrDefault(s, 0L);
    }
}
