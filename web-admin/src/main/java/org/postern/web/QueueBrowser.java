package org.postern.web;

import jakarta.ejb.EJB;
import jakarta.ejb.EJBException;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.context.ExternalContext;
import jakarta.faces.context.FacesContext;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Named;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.postern.admin.QueueAdmin;
import org.postern.admin.QueueControlMXBean;
import org.postern.admin.QueueEntry;
import org.postern.queue.QueueState;
import org.primefaces.model.FilterMeta;
import org.primefaces.model.LazyDataModel;
import org.primefaces.model.SortMeta;

/**
 * QueueBrowser - the console's queue page: one queue at a time, narrowed by sender,
 * recipient, recipient domain, last reply and age, paged from the database (a queue of
 * any size is never loaded at once); per message and for every message the filter keeps:
 * hold, release, requeue (deliver now), return to sender (postsuper -f, -r), delete - for
 * operators and administrators, each written to the audit log with the user's name; an
 * action on every message the filter keeps runs in the background and shows its progress. Flush one destination (ETRN) or
 * everything.
 */
@Named
@ViewScoped
public class QueueBrowser implements Serializable {
    private static final long serialVersionUID = 1L;
    /** ids per call of an action on every message the filter keeps */
    private static final int STEP = 500;

    @EJB
    private QueueAdmin admin;

    @EJB
    private QueueControlMXBean queue;

    private String queueName = "deferred";
    private String sender;
    private String recipient;
    private String domain;
    private String reply;
    private Integer minAge;
    private String flushDomain;
    private final Progress progress = new Progress();

    @jakarta.annotation.Resource
    private transient jakarta.enterprise.concurrent.ManagedExecutorService executor;

    private final LazyDataModel<QueueEntry> model = new LazyDataModel<>() {
        private static final long serialVersionUID = 1L;

        @Override
        public int count(Map<String, FilterMeta> filterBy) {
            return (int) Math.min(Integer.MAX_VALUE, admin.count(state(), filter()));
        }

        @Override
        public List<QueueEntry> load(int first, int pageSize, Map<String, SortMeta> sortBy,
                                     Map<String, FilterMeta> filterBy) {
            return admin.page(state(), queueName, filter(), first, pageSize);
        }

        @Override
        public String getRowKey(QueueEntry e) {
            return e.getQueueId();
        }
    };

    public LazyDataModel<QueueEntry> getModel() {
        return model;
    }

    private QueueState state() {
        return QueueState.valueOf(queueName.toUpperCase(Locale.ROOT));
    }

    private QueueAdmin.Filter filter() {
        return new QueueAdmin.Filter(sender, recipient, domain, reply, minAge);
    }

    public List<String> getQueues() {
        return List.of("hold", "incoming", "active", "deferred", "corrupt");
    }

    /** canAct - the user may change mail (operator or admin). */
    public boolean isCanAct() {
        ExternalContext ec = FacesContext.getCurrentInstance().getExternalContext();
        return ec.isUserInRole("operator") || ec.isUserInRole("admin");
    }

    public String arrival(QueueEntry e) {
        return MessageView.format(Instant.ofEpochSecond(e.getArrivalTime()));
    }

    /** act - one action on one message. */
    public void act(String action, String queueId) {
        run(action, new String[] {queueId}, "queue_id=" + queueId);
    }

    /**
     * actOnAll - one action on every message the filter keeps: the ids are collected, then
     * the action runs in the background a step of STEP messages at a time, and the page
     * shows its progress ({@link #getProgress}) until it ends. One bulk action at a time
     * per page.
     */
    public void actOnAll(String action) {
        if (!isCanAct()) {
            ConsoleAudit.refused(action, "filter=" + filter() + " queue=" + queueName);
            error("Only an operator or an administrator may change mail.");
            return;
        }
        if (progress.running) {
            error("A bulk action is running; wait for its end.");
            return;
        }
        List<String> ids = new ArrayList<>();
        String after = "";
        List<String> step;
        do {
            step = admin.pageIds(state(), filter(), after, STEP);
            ids.addAll(step);
            after = step.isEmpty() ? after : step.get(step.size() - 1);
        } while (step.size() == STEP);
        if (ids.isEmpty()) {
            info("No message matches.");
            return;
        }
        String who = FacesContext.getCurrentInstance().getExternalContext().getUserPrincipal().getName();
        String what = "filter=" + filter() + " queue=" + queueName;
        String[] queues = {queueName};
        QueueControlMXBean q = queue;
        Progress p = progress;
        p.start(word(action), ids.size());
        executor().submit(() -> {
            int done = 0;
            try {
                for (int i = 0; i < ids.size(); i += STEP) {
                    List<String> chunk = ids.subList(i, Math.min(ids.size(), i + STEP));
                    done += perform(q, action, chunk.toArray(new String[0]), queues);
                    p.step(Math.min(ids.size(), i + STEP), done);
                }
                p.end(null);
            } catch (RuntimeException e) {
                p.end(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            } finally {
                ConsoleAudit.log(who, action, what + " count=" + done);
            }
        });
    }

    /**
     * Progress - a bulk action of this page: how many of its messages were handled and
     * changed so far; read by the page every second while it runs.
     */
    public static final class Progress implements Serializable {
        private static final long serialVersionUID = 1L;
        private volatile String word;
        private volatile int total;
        private volatile int handled;
        private volatile int changed;
        private volatile boolean running;
        private volatile String failure;

        synchronized void start(String word, int total) {
            this.word = word;
            this.total = total;
            this.handled = 0;
            this.changed = 0;
            this.failure = null;
            this.running = true;
        }

        void step(int handled, int changed) {
            this.handled = handled;
            this.changed = changed;
        }

        void end(String failure) {
            this.failure = failure;
            this.running = false;
        }

        public boolean isRunning() { return running; }
        public int getTotal() { return total; }
        public int getHandled() { return handled; }

        /** text - "Placed on hold: 1200 of 5000 messages (24%)", and the end or the failure. */
        public String getText() {
            if (total == 0) {
                return "";
            }
            int pct = (int) (100L * handled / total);
            String s = word + ": " + changed + " of " + total + " message" + (total == 1 ? "" : "s");
            if (running) {
                return s + " so far (" + pct + "% handled)";
            }
            return failure != null ? s + "; stopped: " + failure : s + " - done";
        }
    }

    /** executor - the server's managed executor (looked up again after the view was restored from elsewhere). */
    private jakarta.enterprise.concurrent.ManagedExecutorService executor() {
        if (executor == null) {
            try {
                executor = (jakarta.enterprise.concurrent.ManagedExecutorService) new javax.naming.InitialContext()
                        .lookup("java:comp/DefaultManagedExecutorService");
            } catch (javax.naming.NamingException e) {
                throw new IllegalStateException("no managed executor: " + e.getMessage(), e);
            }
        }
        return executor;
    }

    public Progress getProgress() {
        return progress;
    }

    private int run(String action, String[] ids, String what) {
        if (!isCanAct()) {
            ConsoleAudit.refused(action, what);
            error("Only an operator or an administrator may change mail.");
            return 0;
        }
        int n;
        try {
            n = perform(queue, action, ids, new String[] {queueName});
        } catch (EJBException | IllegalArgumentException e) {
            error(action + " failed: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
            return 0;
        }
        if (what != null) {
            audit(action, what + " count=" + n);
            info(word(action) + ": " + n + " message" + (n == 1 ? "" : "s"));
        }
        return n;
    }

    /** perform - the action on the messages with those ids in those queues; how many it changed. */
    private static int perform(QueueControlMXBean queue, String action, String[] ids, String[] queues) {
        switch (action) {
            case "hold": return queue.hold(ids, queues);
            case "release": return queue.release(ids, queues);
            case "requeue": return queue.requeue(ids, queues);
            case "delete": return queue.delete(ids, queues);
            case "expire":
                // postsuper -f, then -r: returned to the sender now, held mail too
                int n = queue.expireRelease(ids, queues);
                queue.requeue(ids, new String[] {"hold", "incoming", "active", "deferred"});
                return n;
            default: throw new IllegalArgumentException("unknown action " + action);
        }
    }

    private static String word(String action) {
        switch (action) {
            case "hold": return "Placed on hold";
            case "release": return "Released from hold";
            case "requeue": return "Requeued";
            case "expire": return "Returned to sender";
            default: return "Deleted";
        }
    }

    /** flushSite - deliver a destination's deferred mail now (ETRN). */
    public void flushSite() {
        if (!isCanAct()) {
            ConsoleAudit.refused("flush", "site=" + flushDomain);
            error("Only an operator or an administrator may flush.");
            return;
        }
        String site = flushDomain == null ? "" : flushDomain.strip();
        try {
            boolean ok = queue.flushSite(site);
            audit("flush", "site=" + site + " eligible=" + ok);
            if (ok) {
                info("Queuing started for " + site + ".");
            } else {
                error("Flush service is not configured for destination \"" + site + "\" (fast_flush_domains).");
            }
        } catch (EJBException e) {
            error("flush failed: " + e.getMessage());
        }
    }

    /** flushAll - deliver all deferred mail now (postqueue -f). */
    public void flushAll() {
        if (!isCanAct()) {
            ConsoleAudit.refused("flush", "all");
            error("Only an operator or an administrator may flush.");
            return;
        }
        try {
            int n = queue.flush();
            audit("flush", "woken=" + n);
            info("Queuing started: " + n + " message" + (n == 1 ? "" : "s") + " now.");
        } catch (EJBException e) {
            error("flush failed: " + e.getMessage());
        }
    }

    private static void audit(String action, String what) {
        ConsoleAudit.log(action, what);
    }

    private static void info(String text) {
        FacesContext.getCurrentInstance().addMessage(null, new FacesMessage(FacesMessage.SEVERITY_INFO, text, null));
    }

    private static void error(String text) {
        FacesContext.getCurrentInstance().addMessage(null, new FacesMessage(FacesMessage.SEVERITY_ERROR, text, null));
    }

    public String getQueueName() { return queueName; }
    public void setQueueName(String q) { this.queueName = getQueues().contains(q) ? q : "deferred"; }
    public String getSender() { return sender; }
    public void setSender(String s) { this.sender = s; }
    public String getRecipient() { return recipient; }
    public void setRecipient(String r) { this.recipient = r; }
    public String getDomain() { return domain; }
    public void setDomain(String d) { this.domain = d; }
    public String getReply() { return reply; }
    public void setReply(String r) { this.reply = r; }
    public Integer getMinAge() { return minAge; }
    public void setMinAge(Integer m) { this.minAge = m; }
    public String getFlushDomain() { return flushDomain; }
    public void setFlushDomain(String d) { this.flushDomain = d; }
}
