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
 * hold, release, requeue (deliver now), delete - for operators and administrators, each
 * written to the audit log with the user's name. Flush one destination (ETRN) or
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

    /** actOnAll - one action on every message the filter keeps, a step at a time. */
    public void actOnAll(String action) {
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
        int done = 0;
        for (int i = 0; i < ids.size(); i += STEP) {
            done += run(action, ids.subList(i, Math.min(ids.size(), i + STEP)).toArray(new String[0]), null);
        }
        audit(action, "filter=" + filter() + " queue=" + queueName + " count=" + done);
        info(word(action) + ": " + done + " of " + ids.size() + " message" + (ids.size() == 1 ? "" : "s"));
    }

    private int run(String action, String[] ids, String what) {
        if (!isCanAct()) {
            error("Only an operator or an administrator may change mail.");
            return 0;
        }
        String[] queues = {queueName};
        int n;
        try {
            switch (action) {
                case "hold": n = queue.hold(ids, queues); break;
                case "release": n = queue.release(ids, queues); break;
                case "requeue": n = queue.requeue(ids, queues); break;
                case "delete": n = queue.delete(ids, queues); break;
                default: throw new IllegalArgumentException("unknown action " + action);
            }
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

    private static String word(String action) {
        switch (action) {
            case "hold": return "Placed on hold";
            case "release": return "Released from hold";
            case "requeue": return "Requeued";
            default: return "Deleted";
        }
    }

    /** flushSite - deliver a destination's deferred mail now (ETRN). */
    public void flushSite() {
        if (!isCanAct()) {
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
