package org.postern.cleanup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.postern.queue.ContentChunk;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * QueueRows - the rows of a received message (Postfix's cleanup(8) writing a queue file),
 * and the group commit's insert of many messages with plain JDBC batches.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #prepare} turns an envelope and its content into the rows of the queue tables,
 * in memory: the message row, one row per recipient after virtual_alias_maps (the
 * original address kept as ORCPT; an address given twice, or also reached through an
 * alias, stored once) and the content in chunks of {@link ContentChunk#MAX_SIZE}.
 * {@link #insert} writes the rows of a whole batch with three batched INSERTs, on the
 * connection of the caller's transaction. The JPA entities stay the schema that the rest
 * of Postern reads and writes; this class writes exactly their columns (a contract test
 * reads them back through JPA on H2 and PostgreSQL).
 *
 * <p>Recipient ids come from the sequence that the entity's generator uses,
 * queue_recipient_seq, fifty at a time as Hibernate's pooled optimizer takes them: a value
 * v of the sequence owns the ids v-49 to v, whoever fetched it, so that the ids given here
 * and those Hibernate gives never meet.
 *
 * <h2>SEE ALSO</h2>
 * CleanupService (the streaming store of large mail), GroupCommit, QueuedMessage
 */
public final class QueueRows {
    /** the allocation size of queue_recipient_seq (QueuedRecipient's allocationSize, the migration's INCREMENT BY) */
    static final int ID_BLOCK = 50;

    /*
     * the blocks of recipient ids being handed out, {next, last}, one per database (its
     * JDBC URL): a block fetched from one database's sequence must never be used in another
     */
    private static final java.util.Map<String, long[]> BLOCKS = new java.util.HashMap<>();

    private QueueRows() {
    }

    /**
     * prepare - the queue rows of a message whose content is in memory, not yet stored.
     * With {@code leased} the message is born in the active queue, leased to {@code node}
     * until {@code leaseUntil}, for a first delivery from memory; a HOLD message stays held.
     */
    public static Prepared prepare(Envelope env, byte[] content, int length, VirtualAliases aliases,
                                   boolean leased, Instant now, Instant leaseUntil, String node) {
        QueuedMessage m = newMessage(env, aliases);
        m.setSize(length);
        int chunks = (length + ContentChunk.MAX_SIZE - 1) / ContentChunk.MAX_SIZE;
        m.setContentChunks(chunks);
        if (leased && m.getState() == QueueState.INCOMING) {
            // born active: the first claim is folded into the store (no second write of the row)
            m.setState(QueueState.ACTIVE);
            m.setActiveSince(now);
            m.setLeaseUntil(leaseUntil);
            m.setLeaseOwner(node);
        }
        List<ContentChunk> rows = new ArrayList<>(chunks);
        for (int seq = 0; seq < chunks; seq++) {
            int from = seq * ContentChunk.MAX_SIZE;
            int to = Math.min(length, from + ContentChunk.MAX_SIZE);
            rows.add(new ContentChunk(env.queueId(), seq, from == 0 && to == content.length ? content
                    : Arrays.copyOfRange(content, from, to)));
        }
        String messageId = length > 0 ? Headers.messageId(content, Math.min(length, ContentChunk.MAX_SIZE)) : null;
        return new Prepared(m, rows, content, length, messageId, m.getState() == QueueState.ACTIVE,
                new long[m.getRecipients().size()]);
    }

    /**
     * Prepared - a message ready for {@link #insert}: its rows, its content (for a first
     * delivery from memory), the Message-ID for the log, whether it is born leased, and the
     * recipient ids that the insert gives (in RCPT order).
     */
    public record Prepared(QueuedMessage message, List<ContentChunk> chunks, byte[] content, int length,
                           String messageId, boolean leased, long[] recipientIds) {
    }

    /** newMessage - the envelope row with its recipients: virtual_alias_maps, duplicates removed. */
    static QueuedMessage newMessage(Envelope env, VirtualAliases aliases) {
        if (!QueueIds.isValid(env.queueId())) {
            throw new IllegalArgumentException("bad queue id: " + env.queueId());
        }
        QueuedMessage m = new QueuedMessage(env.queueId(), env.sender(), env.arrival());
        m.setClient(env.clientName(), env.clientAddress());
        m.setClientPort(env.clientPort() > 0 ? env.clientPort() : null);
        m.setHelo(env.helo());
        m.setProtocol(env.protocol());
        m.setService(env.service());
        m.setEnvid(env.mailParams().get("ENVID"));
        m.setRet(env.mailParams().get("RET"));
        m.setBodyType(env.mailParams().get("BODY"));
        if (env.mailParams().containsKey(Envelope.HOLD)) {
            // an access map HOLD action: kept in the hold queue until released (postsuper -H)
            m.setState(QueueState.HOLD);
            m.setNextAttempt(null);
        }
        Set<String> added = new HashSet<>();
        for (Envelope.Recipient r : env.recipients()) {
            List<String> targets = aliases == null ? List.of(r.address()) : aliases.expand(r.address());
            if (targets.size() == 1 && targets.get(0).equals(r.address())) {
                // a recipient given twice, or also reached through an alias, is stored once
                // (Postfix's cleanup duplicate filter)
                if (added.add(r.address())) {
                    m.addRecipient(r.address(), r.orcpt(), r.notifyParam());
                }
                continue;
            }
            // the original recipient stays with each alias, for orig_to= and DSN Original-Recipient
            String orcpt = r.orcpt() != null ? r.orcpt() : "rfc822;" + r.address();
            for (String t : targets) {
                if (added.add(t)) {
                    m.addRecipient(t, orcpt, r.notifyParam());
                }
            }
        }
        return m;
    }

    private static final String INSERT_MESSAGE = "INSERT INTO queue_message (queue_id, sender, state, arrival,"
            + " size_bytes, client_name, client_address, helo, protocol, service, envid, ret, body_type,"
            + " content_chunks, next_attempt, lease_until, lease_owner, active_since, flush_requested, client_port,"
            + " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)";
    private static final String INSERT_RECIPIENT = "INSERT INTO queue_recipient (id, queue_id, position, address,"
            + " orcpt, notify, status, dsn, relay, reply, attempts, next_attempt, last_attempt)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0, ?, NULL)";
    private static final String INSERT_CONTENT = "INSERT INTO queue_content (queue_id, seq, data) VALUES (?, ?, ?)";

    /**
     * insert - the rows of every prepared message, on the caller's connection and in its
     * transaction: one batched INSERT per table. Fills in {@link Prepared#recipientIds}.
     */
    public static void insert(Connection c, List<Prepared> batch) throws SQLException {
        String database = c.getMetaData().getURL();
        try (PreparedStatement msg = c.prepareStatement(INSERT_MESSAGE);
             PreparedStatement rcpt = c.prepareStatement(INSERT_RECIPIENT);
             PreparedStatement data = c.prepareStatement(INSERT_CONTENT)) {
            boolean chunks = false;
            for (Prepared p : batch) {
                QueuedMessage m = p.message();
                msg.setString(1, m.getQueueId());
                msg.setString(2, m.getSender());
                msg.setString(3, m.getState().name());
                setInstant(msg, 4, m.getArrival());
                msg.setLong(5, m.getSize());
                msg.setString(6, m.getClientName());
                msg.setString(7, m.getClientAddress());
                msg.setString(8, m.getHelo());
                msg.setString(9, m.getProtocol());
                msg.setString(10, m.getService());
                msg.setString(11, m.getEnvid());
                msg.setString(12, m.getRet());
                msg.setString(13, m.getBodyType());
                msg.setInt(14, m.getContentChunks());
                setInstant(msg, 15, m.getNextAttempt());
                setInstant(msg, 16, m.getLeaseUntil());
                msg.setString(17, m.getLeaseOwner());
                setInstant(msg, 18, m.getActiveSince());
                msg.setNull(19, Types.BOOLEAN);
                if (m.getClientPort() != null) {
                    msg.setInt(20, m.getClientPort());
                } else {
                    msg.setNull(20, Types.INTEGER);
                }
                msg.addBatch();
                List<QueuedRecipient> rs = m.getRecipients();
                for (int i = 0; i < rs.size(); i++) {
                    QueuedRecipient r = rs.get(i);
                    long id = nextRecipientId(c, database);
                    p.recipientIds()[i] = id;
                    rcpt.setLong(1, id);
                    rcpt.setString(2, m.getQueueId());
                    rcpt.setInt(3, r.getPosition());
                    rcpt.setString(4, r.getAddress());
                    rcpt.setString(5, r.getOrcpt());
                    rcpt.setString(6, r.getNotify());
                    rcpt.setString(7, RecipientStatus.PENDING.name());
                    setInstant(rcpt, 8, r.getNextAttempt());
                    rcpt.addBatch();
                }
                for (ContentChunk chunk : p.chunks()) {
                    data.setString(1, chunk.getQueueId());
                    data.setInt(2, chunk.getSeq());
                    data.setBytes(3, chunk.getData());
                    data.addBatch();
                    chunks = true;
                }
            }
            // parents first: a recipient row refers to its message row
            msg.executeBatch();
            rcpt.executeBatch();
            if (chunks) {
                data.executeBatch();
            }
        }
    }

    /* setInstant - a TIMESTAMP WITH TIME ZONE column, as the entities map Instant */
    private static void setInstant(PreparedStatement ps, int i, Instant t) throws SQLException {
        if (t == null) {
            ps.setNull(i, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(i, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
        }
    }

    /*
     * nextRecipientId - the next id of this node's block; a new block of ID_BLOCK from the
     * sequence when it is used up (the sequence value v owns v-49..v, as for Hibernate)
     */
    private static synchronized long nextRecipientId(Connection c, String database) throws SQLException {
        long[] block = BLOCKS.computeIfAbsent(database, k -> new long[] {1, 0});
        if (block[0] > block[1]) {
            long v = nextSequenceValue(c);
            block[1] = v;
            // the sequence's first value owns only itself: no id below 1
            block[0] = Math.max(1, v - ID_BLOCK + 1);
        }
        return block[0]++;
    }

    private static long nextSequenceValue(Connection c) throws SQLException {
        boolean postgres = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
        String sql = postgres ? "SELECT nextval('queue_recipient_seq')" : "SELECT NEXT VALUE FOR queue_recipient_seq";
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }
}
