package org.postern.admin;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.EJB;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.logging.Logger;
import javax.management.ObjectName;
import org.postern.flush.FlushException;
import org.postern.flush.FlushService;
import org.postern.qmgr.QueueStore;
import org.postern.queue.QueueState;
import org.postern.service.MailLog;
import org.postern.smtpd.api.QueueIds;

/**
 * QueueControl - registers the queue's MXBean, {@code org.postern:type=Queue}
 * ({@link QueueControlMXBean}), in the server's MBean server while Postern is deployed,
 * and carries out its operations with the queue's beans: every change to a message is a
 * transaction of its own, as postsuper changes one queue file at a time, and is written
 * to the mail log as postsuper writes it ({@code postsuper[pid]: ID: removed}, {@code
 * placed on hold}, {@code released from hold}, {@code requeued}), so that log tools such as
 * pflogsumm count them.
 */
@Singleton
@Startup
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class QueueControl implements QueueControlMXBean {
    private static final Logger LOG = Logger.getLogger("org.postern.admin");
    /** the MXBean's name */
    public static final String NAME = "org.postern:type=Queue";
    /** messages listed per page at most, and ids taken per step of an ALL operation */
    static final int PAGE = 500;

    /** the queue names postsuper and postqueue take, and what they are here (maildrop: nothing) */
    static final Map<String, Set<QueueState>> QUEUES = Map.of(
            "hold", EnumSet.of(QueueState.HOLD),
            "incoming", EnumSet.of(QueueState.INCOMING),
            "active", EnumSet.of(QueueState.ACTIVE),
            "deferred", EnumSet.of(QueueState.DEFERRED),
            "corrupt", EnumSet.of(QueueState.CORRUPT),
            "maildrop", EnumSet.noneOf(QueueState.class));

    @EJB
    private QueueAdmin admin;

    @EJB
    private QueueStore store;

    @EJB
    private FlushService flush;

    private ObjectName name;

    @PostConstruct
    void register() {
        name = MBeans.register(NAME, this, QueueControlMXBean.class);
    }

    @PreDestroy
    void unregister() {
        MBeans.unregister(name);
    }

    /** states - the queue states of the queue names, default when none is given. */
    static Set<QueueState> states(String[] queueNames, Set<QueueState> defaults) {
        if (queueNames == null || queueNames.length == 0) {
            return defaults;
        }
        Set<QueueState> out = EnumSet.noneOf(QueueState.class);
        for (String q : queueNames) {
            Set<QueueState> s = QUEUES.get(q.toLowerCase(Locale.ROOT));
            if (s == null) {
                throw new IllegalArgumentException("invalid directory name: " + q);
            }
            out.addAll(s);
        }
        return out;
    }

    /** queueName - Postfix's name of a queue state. */
    static String queueName(QueueState state) {
        return state.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public QueueEntry[] list(String queueName, String after, int max) {
        Set<QueueState> s = states(new String[] {queueName}, Set.of());
        if (s.size() != 1) {
            return new QueueEntry[0];
        }
        QueueState state = s.iterator().next();
        return admin.list(state, queueName(state), after, Math.max(1, Math.min(max, PAGE)))
                .toArray(new QueueEntry[0]);
    }

    @Override
    public long[] counts() {
        Map<QueueState, Long> c = admin.counts();
        return new long[] {c.get(QueueState.HOLD), c.get(QueueState.INCOMING), c.get(QueueState.ACTIVE),
                c.get(QueueState.DEFERRED), c.get(QueueState.CORRUPT)};
    }

    /** the postsuper lines of the operation running on this thread, for {@link #change} */
    private static final ThreadLocal<List<String>> SAID = new ThreadLocal<>();

    /** said - a postsuper line: to the mail log, and to the caller of {@link #change}. */
    private static void said(String line) {
        MailLog.postsuper(line);
        List<String> journal = SAID.get();
        if (journal != null) {
            journal.add(line);
        }
    }

    @Override
    public String[] change(String operation, String[] queueIds, String[] queueNames) {
        List<String> journal = new ArrayList<>();
        SAID.set(journal);
        try {
            switch (operation) {
                case "delete" -> delete(queueIds, queueNames);
                case "hold" -> hold(queueIds, queueNames);
                case "release" -> release(queueIds, queueNames);
                case "requeue" -> requeue(queueIds, queueNames);
                case "expire" -> expire(queueIds, queueNames);
                case "expireRelease" -> expireRelease(queueIds, queueNames);
                default -> throw new IllegalArgumentException("unknown operation: " + operation);
            }
            return journal.toArray(new String[0]);
        } finally {
            SAID.remove();
        }
    }

    @Override
    public int delete(String[] queueIds, String[] queueNames) {
        Set<QueueState> in = states(queueNames, EnumSet.allOf(QueueState.class));
        return each(queueIds, in, id -> {
            if (store.delete(id)) {
                said(id + ": removed");
                return true;
            }
            return false;
        });
    }

    @Override
    public int hold(String[] queueIds, String[] queueNames) {
        Set<QueueState> in = states(queueNames, EnumSet.of(QueueState.INCOMING, QueueState.ACTIVE,
                QueueState.DEFERRED));
        in.remove(QueueState.HOLD);
        in.remove(QueueState.CORRUPT);
        return each(queueIds, in, id -> {
            if (store.hold(id)) {
                said(id + ": placed on hold");
                return true;
            }
            return false;
        });
    }

    @Override
    public int release(String[] queueIds, String[] queueNames) {
        Set<QueueState> in = states(queueNames, EnumSet.of(QueueState.HOLD));
        in.retainAll(EnumSet.of(QueueState.HOLD));
        List<String> due = new ArrayList<>();
        Instant now = Instant.now();
        int n = each(queueIds, in, id -> {
            QueueStore.Released r = store.releaseHold(id, now);
            if (r.released()) {
                said(id + ": released from hold");
                if (r.next() != null && !r.next().isAfter(Instant.now())) {
                    due.add(id);
                }
            }
            return r.released();
        });
        wake(due);
        return n;
    }

    @Override
    public int requeue(String[] queueIds, String[] queueNames) {
        Set<QueueState> in = states(queueNames, EnumSet.of(QueueState.HOLD, QueueState.INCOMING,
                QueueState.ACTIVE, QueueState.DEFERRED));
        in.remove(QueueState.CORRUPT);
        List<String> chosen = new ArrayList<>();
        Instant now = Instant.now();
        each(queueIds, in, id -> {
            if (admin.state(id) == QueueState.HOLD && store.releaseHold(id, now).removed()) {
                return false;
            }
            chosen.add(id);
            return true;
        });
        int n = 0;
        for (int i = 0; i < chosen.size(); i += PAGE) {
            List<String> due;
            try {
                due = flush.flushMessages(chosen.subList(i, Math.min(chosen.size(), i + PAGE)), false);
            } catch (FlushException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            for (String id : due) {
                said(id + ": requeued");
            }
            n += due.size();
        }
        return n;
    }

    @Override
    public int expire(String[] queueIds, String[] queueNames) {
        return expire(queueIds, queueNames, false);
    }

    @Override
    public int expireRelease(String[] queueIds, String[] queueNames) {
        return expire(queueIds, queueNames, true);
    }

    private int expire(String[] queueIds, String[] queueNames, boolean release) {
        Set<QueueState> in = states(queueNames, EnumSet.of(QueueState.HOLD, QueueState.INCOMING,
                QueueState.ACTIVE, QueueState.DEFERRED));
        in.remove(QueueState.CORRUPT);
        Instant now = Instant.now();
        // as in Postfix, the message is returned at its next delivery round, not now: requeue
        // (postsuper -r, postqueue -i) makes that now
        return each(queueIds, in, id -> {
            QueueStore.Expired e = store.expire(id, release, now);
            if (e.expired()) {
                // Postfix's postsuper: "ID: expired" (and "released from hold" for -f)
                said(id + ": expired");
                if (e.released()) {
                    said(id + ": released from hold");
                }
            }
            return e.expired();
        });
    }

    @Override
    public int flush() {
        try {
            return flush.flushAll();
        } catch (FlushException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public boolean flushSite(String site) {
        try {
            return flush.flushDomain(site);
        } catch (FlushException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public boolean deliver(String queueId) {
        if (!QueueIds.isValid(queueId)) {
            return false;
        }
        try {
            return !flush.flushMessages(List.of(queueId), true).isEmpty();
        } catch (FlushException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** wake - released mail that is due now is delivered now, not at the next queue scan. */
    private void wake(List<String> due) {
        for (int i = 0; i < due.size(); i += PAGE) {
            try {
                flush.flushMessages(due.subList(i, Math.min(due.size(), i + PAGE)), false);
            } catch (FlushException e) {
                LOG.warning("PSTN6003: released mail waits for the queue scan: " + e.getMessage());
                return;
            }
        }
    }

    /**
     * each - apply the action to each message named (ALL: every message in the states, a
     * page of ids at a time) that is in one of the states; returns how many it changed.
     * Ids that are not queue ids are skipped (the command warns of them).
     */
    private int each(String[] queueIds, Set<QueueState> in, Predicate<String> action) {
        if (in.isEmpty() || queueIds == null) {
            return 0;
        }
        int n = 0;
        if (Arrays.asList(queueIds).contains("ALL")) {
            String after = "";
            List<String> page;
            do {
                page = admin.ids(in, after, PAGE);
                for (String id : page) {
                    n += apply(id, action);
                }
                after = page.isEmpty() ? after : page.get(page.size() - 1);
            } while (page.size() == PAGE);
            return n;
        }
        for (String id : queueIds) {
            if (QueueIds.isValid(id) && in.contains(admin.state(id))) {
                n += apply(id, action);
            }
        }
        return n;
    }

    /** ATTEMPTS - tries of one change that a delivery round's update of the same message made fail */
    static final int ATTEMPTS = 5;

    private static int apply(String id, Predicate<String> action) {
        for (int attempt = 1; ; attempt++) {
            try {
                return action.test(id) ? 1 : 0;
            } catch (RuntimeException e) {
                // a delivery round updated the message at the same moment (optimistic lock): its
                // transaction is short, so try again; one message that cannot be changed does not
                // stop the rest
                if (attempt == ATTEMPTS) {
                    LOG.warning("PSTN6004: " + id + ": not changed: " + e);
                    return 0;
                }
                try {
                    Thread.sleep(100L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return 0;
                }
            }
        }
    }
}
