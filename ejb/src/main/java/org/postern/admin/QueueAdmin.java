package org.postern.admin;

import jakarta.interceptor.Interceptors;
import org.postern.tx.RolledBackIsAFailure;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;

/**
 * QueueAdmin - read-only views of the queue for the console, JMX ({@link QueueControl})
 * and the commands: counts per queue, and pages of messages in queue id order, so that a
 * queue of any size is listed without loading it at once.
 */
@Stateless
@Interceptors(RolledBackIsAFailure.class)
@TransactionAttribute(TransactionAttributeType.SUPPORTS)
public class QueueAdmin {

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    /** counts - the number of messages in each queue state, every state present. */
    public Map<QueueState, Long> counts() {
        Map<QueueState, Long> counts = new EnumMap<>(QueueState.class);
        for (QueueState s : QueueState.values()) {
            counts.put(s, 0L);
        }
        List<Object[]> rows = em.createQuery(
                "SELECT m.state, COUNT(m) FROM QueuedMessage m GROUP BY m.state", Object[].class).getResultList();
        for (Object[] row : rows) {
            counts.put((QueueState) row[0], (Long) row[1]);
        }
        return counts;
    }

    /**
     * ids - up to max queue ids of messages in the given states after {@code after}
     * (null or empty: from the start), in queue id order.
     */
    public List<String> ids(Collection<QueueState> states, String after, int max) {
        return em.createQuery("SELECT m.queueId FROM QueuedMessage m WHERE m.state IN :states"
                        + " AND m.queueId > :after ORDER BY m.queueId", String.class)
                .setParameter("states", EnumSet.copyOf(states))
                .setParameter("after", after == null ? "" : after)
                .setMaxResults(max)
                .getResultList();
    }

    /**
     * list - up to max messages in the state after {@code after} (null or empty: from
     * the start), in queue id order, with their recipients still to be delivered in
     * envelope order; a deferred recipient's reason is its last reply.
     */
    public List<QueueEntry> list(QueueState state, String queueName, String after, int max) {
        List<QueuedMessage> messages = em.createQuery("SELECT m FROM QueuedMessage m WHERE m.state = :state"
                        + " AND m.queueId > :after ORDER BY m.queueId", QueuedMessage.class)
                .setParameter("state", state)
                .setParameter("after", after == null ? "" : after)
                .setMaxResults(max)
                .getResultList();
        return entries(messages, queueName);
    }

    /** state - the message's queue state, null when there is no such message. */
    public QueueState state(String queueId) {
        List<QueueState> s = em.createQuery("SELECT m.state FROM QueuedMessage m WHERE m.queueId = :id",
                QueueState.class).setParameter("id", queueId).getResultList();
        return s.isEmpty() ? null : s.get(0);
    }

    /** entries - the messages with their recipients still to be delivered (a deferred one's reason is its last reply). */
    private List<QueueEntry> entries(List<QueuedMessage> messages, String queueName) {
        if (messages.isEmpty()) {
            return List.of();
        }
        Map<String, List<RecipientEntry>> recipients = new LinkedHashMap<>();
        for (QueuedMessage m : messages) {
            recipients.put(m.getQueueId(), new ArrayList<>());
        }
        List<QueuedRecipient> rows = em.createQuery("SELECT r FROM QueuedRecipient r"
                        + " WHERE r.message.queueId IN :ids AND r.status IN :waiting"
                        + " ORDER BY r.message.queueId, r.position", QueuedRecipient.class)
                .setParameter("ids", recipients.keySet())
                .setParameter("waiting", EnumSet.of(RecipientStatus.PENDING, RecipientStatus.DEFERRED))
                .getResultList();
        for (QueuedRecipient r : rows) {
            String why = r.getStatus() == RecipientStatus.DEFERRED && r.getReply() != null ? r.getReply() : "";
            recipients.get(r.getMessage().getQueueId()).add(new RecipientEntry(r.getAddress(), why));
        }
        List<QueueEntry> out = new ArrayList<>(messages.size());
        for (QueuedMessage m : messages) {
            out.add(new QueueEntry(queueName, m.getQueueId(), m.getArrival().getEpochSecond(), m.getSize(), m.isForcedExpire(),
                    m.getSender(), recipients.get(m.getQueueId()).toArray(new RecipientEntry[0])));
        }
        return out;
    }

    /**
     * Filter - what the console's queue browser narrows a queue to; null or blank parts
     * match everything. Text matches ignore case and may be any part (sender, recipient,
     * last reply); domain matches the end of a recipient address; minAgeMinutes keeps
     * messages that arrived at least that long ago.
     */
    public record Filter(String sender, String recipient, String domain, String reply, Integer minAgeMinutes)
            implements java.io.Serializable {
        public static final Filter NONE = new Filter(null, null, null, null, null);
    }

    /** count - the messages of the state that the filter keeps. */
    public long count(QueueState state, Filter filter) {
        StringBuilder q = new StringBuilder("SELECT COUNT(m) FROM QueuedMessage m WHERE m.state = :state");
        Map<String, Object> params = where(q, filter);
        jakarta.persistence.TypedQuery<Long> query = em.createQuery(q.toString(), Long.class)
                .setParameter("state", state);
        params.forEach(query::setParameter);
        return query.getSingleResult();
    }

    /** page - max messages of the state that the filter keeps, from offset on, in queue id order. */
    public List<QueueEntry> page(QueueState state, String queueName, Filter filter, int offset, int max) {
        StringBuilder q = new StringBuilder("SELECT m FROM QueuedMessage m WHERE m.state = :state");
        Map<String, Object> params = where(q, filter);
        q.append(" ORDER BY m.queueId");
        jakarta.persistence.TypedQuery<QueuedMessage> query = em.createQuery(q.toString(), QueuedMessage.class)
                .setParameter("state", state);
        params.forEach(query::setParameter);
        return entries(query.setFirstResult(Math.max(0, offset)).setMaxResults(max).getResultList(), queueName);
    }

    /** pageIds - the same as ids only, for an action on every message the filter keeps. */
    public List<String> pageIds(QueueState state, Filter filter, String after, int max) {
        StringBuilder q = new StringBuilder("SELECT m.queueId FROM QueuedMessage m WHERE m.state = :state"
                + " AND m.queueId > :after");
        Map<String, Object> params = where(q, filter);
        q.append(" ORDER BY m.queueId");
        jakarta.persistence.TypedQuery<String> query = em.createQuery(q.toString(), String.class)
                .setParameter("state", state).setParameter("after", after == null ? "" : after);
        params.forEach(query::setParameter);
        return query.setMaxResults(max).getResultList();
    }

    /** where - the filter's conditions appended to a query on QueuedMessage m; their parameters. */
    private static Map<String, Object> where(StringBuilder q, Filter f) {
        Map<String, Object> params = new LinkedHashMap<>();
        if (f == null) {
            return params;
        }
        if (present(f.sender())) {
            q.append(" AND LOWER(m.sender) LIKE :sender ESCAPE '!'");
            params.put("sender", "%" + like(f.sender()) + "%");
        }
        if (present(f.recipient())) {
            q.append(" AND EXISTS (SELECT r FROM QueuedRecipient r WHERE r.message = m AND LOWER(r.address) LIKE :rcpt"
                    + " ESCAPE '!')");
            params.put("rcpt", "%" + like(f.recipient()) + "%");
        }
        if (present(f.domain())) {
            q.append(" AND EXISTS (SELECT r FROM QueuedRecipient r WHERE r.message = m AND LOWER(r.address) LIKE :domain"
                    + " ESCAPE '!')");
            String d = f.domain().strip();
            params.put("domain", "%" + (d.startsWith("@") || d.startsWith(".") ? "" : "@") + like(d));
        }
        if (present(f.reply())) {
            q.append(" AND EXISTS (SELECT r FROM QueuedRecipient r WHERE r.message = m AND LOWER(r.reply) LIKE :reply"
                    + " ESCAPE '!')");
            params.put("reply", "%" + like(f.reply()) + "%");
        }
        if (f.minAgeMinutes() != null && f.minAgeMinutes() > 0) {
            q.append(" AND m.arrival <= :before");
            params.put("before", java.time.Instant.now().minusSeconds(60L * f.minAgeMinutes()));
        }
        return params;
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    /** like - the text, lower case, with LIKE's wildcards taken literally (escape character '!'). */
    static String like(String s) {
        return s.strip().toLowerCase(java.util.Locale.ROOT).replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }

    /** HEADER_LIMIT - the most of a header the message page shows */
    static final int HEADER_LIMIT = 64 * 1024;

    /** detail - the message's envelope, header and recipients; null when there is no such message. */
    public MessageDetail detail(String queueId) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        if (m == null) {
            return null;
        }
        List<MessageDetail.Recipient> rcpts = new ArrayList<>();
        // a query, not m.getRecipients(): without a transaction (SUPPORTS) the entity is detached
        for (QueuedRecipient r : em.createQuery("SELECT r FROM QueuedRecipient r WHERE r.message.queueId = :id"
                + " ORDER BY r.position", QueuedRecipient.class).setParameter("id", queueId).getResultList()) {
            rcpts.add(new MessageDetail.Recipient(r.getAddress(), r.getOrcpt(),
                    r.getStatus().name().toLowerCase(java.util.Locale.ROOT), r.getDsn(), r.getRelay(), r.getReply(),
                    r.getAttempts(), r.getLastAttempt(), r.getNextAttempt()));
        }
        String client = (m.getClientName() == null ? "unknown" : m.getClientName())
                + "[" + (m.getClientAddress() == null ? "" : m.getClientAddress()) + "]";
        return new MessageDetail(m.getQueueId(), m.getState().name().toLowerCase(java.util.Locale.ROOT), m.getSender(),
                m.getArrival(), m.getSize(), client, m.getHelo(), m.getProtocol(), m.getEnvid(), m.getRet(),
                m.getNextAttempt(), header(m), rcpts);
    }

    /** header - the stored content up to the empty line that ends the header (at most HEADER_LIMIT bytes). */
    private String header(QueuedMessage m) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int seq = 0; seq < m.getContentChunks() && out.size() < HEADER_LIMIT; seq++) {
            byte[] data = chunk(m.getQueueId(), seq);
            if (data == null) {
                break;
            }
            out.writeBytes(data);
            String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
                return text.substring(0, end);
            }
        }
        String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        return text.length() > HEADER_LIMIT ? text.substring(0, HEADER_LIMIT) : text;
    }

    /** chunks - how many content chunks the message has, or -1 when there is no such message. */
    public int chunks(String queueId) {
        QueuedMessage m = em.find(QueuedMessage.class, queueId);
        return m == null ? -1 : m.getContentChunks();
    }

    /** chunk - one chunk of the stored content (the raw message is their concatenation), null when missing. */
    public byte[] chunk(String queueId, int seq) {
        org.postern.queue.ContentChunk c = em.find(org.postern.queue.ContentChunk.class,
                new org.postern.queue.ContentChunk.Key(queueId, seq));
        if (c == null) {
            return null;
        }
        byte[] data = c.getData();
        em.detach(c);
        return data;
    }

    /**
     * shape - qshape's histogram of the recipients still to be delivered in the state, by
     * recipient domain and age (10 buckets from 5 minutes, as qshape by default).
     */
    public List<org.postern.mail.QueueShape.Row> shape(QueueState state) {
        org.postern.mail.QueueShape shape = org.postern.mail.QueueShape.defaults();
        long now = java.time.Instant.now().getEpochSecond();
        List<Object[]> rows = em.createQuery("SELECT r.address, m.arrival FROM QueuedRecipient r JOIN r.message m"
                        + " WHERE m.state = :state AND r.status IN :waiting", Object[].class)
                .setParameter("state", state)
                .setParameter("waiting", EnumSet.of(RecipientStatus.PENDING, RecipientStatus.DEFERRED))
                .getResultList();
        for (Object[] row : rows) {
            shape.add((String) row[0], ((java.time.Instant) row[1]).getEpochSecond(), now);
        }
        return shape.rows();
    }

    /** shapeHeadings - the bucket headings of {@link #shape}. */
    public List<String> shapeHeadings() {
        return org.postern.mail.QueueShape.defaults().headings();
    }
}
