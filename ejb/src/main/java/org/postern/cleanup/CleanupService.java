package org.postern.cleanup;

import jakarta.interceptor.Interceptors;
import org.postern.tx.RolledBackIsAFailure;
import jakarta.ejb.EJB;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.postern.queue.ContentChunk;
import org.postern.queue.QueuedMessage;
import org.postern.service.ConfigService;
import org.postern.service.MailLog;
import org.postern.smtpd.api.Envelope;

/**
 * CleanupService - writes a received message into the queue (Postfix's cleanup(8)).
 *
 * <p>Each envelope recipient is first rewritten with virtual_alias_maps
 * ({@link VirtualAliases}); an aliased recipient keeps the original address as its ORCPT
 * (orig_to= in the log, Original-Recipient in notices). A recipient address that appears
 * twice, given twice or reached through an alias as well, is stored once (compared
 * exactly: a local part may be case-sensitive).
 * (The rows themselves are made by {@link QueueRows}.)
 *
 * <p>Two ways in, each one transaction in which any failure rolls the whole message back:
 * {@link #storeAll} writes the messages of a group commit (mail up to
 * queue_memory_message_limit, already in memory) with plain JDBC batches;
 * {@link #store} streams a larger message in {@link ContentChunk#MAX_SIZE} chunks, each
 * flushed and detached at once, so that a message of any size needs one chunk of memory.
 * Neither syncs: the caller does, once per group commit ({@link GroupCommit},
 * {@link QueueSync}), before any 250.
 */
@Stateless
@Interceptors(RolledBackIsAFailure.class)
public class CleanupService {

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    @EJB
    private ConfigService config;

    /** store - persist a message; returns its queue id. Runs in a transaction of its own. */
    @TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
    public String store(Envelope env, InputStream content) {
        QueuedMessage m = QueueRows.newMessage(env, config == null ? null : VirtualAliases.inForce(config));
        byte[] buf = new byte[ContentChunk.MAX_SIZE];
        int first;
        try {
            first = content.readNBytes(buf, 0, buf.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // readNBytes stops short only at the end of the content
        boolean more = first == buf.length;
        String messageId = first > 0 ? Headers.messageId(buf, first) : null;
        if (!more) {
            // the common case, a message that fits one chunk: envelope, recipients and
            // content are inserted in one flush, with the size already known
            m.setSize(Math.max(first, 0));
            m.setContentChunks(first > 0 ? 1 : 0);
            em.persist(m);
            if (first > 0) {
                em.persist(new ContentChunk(env.queueId(), 0, Arrays.copyOf(buf, first)));
            }
            em.flush();
        } else {
            storeStreaming(env, m, content, buf, first);
        }
        if (messageId != null) {
            MailLog.cleanup(env.queueId() + ": message-id=" + messageId);
        }
        return env.queueId();
    }

    /**
     * storeAll - store prepared messages in one transaction (a group commit) with plain JDBC
     * batches ({@link QueueRows#insert}): three batched INSERTs for the whole batch. The
     * caller syncs after the commit ({@link QueueSync}) before anyone is told 250.
     */
    @TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
    public void storeAll(List<QueueRows.Prepared> batch) {
        em.unwrap(org.hibernate.Session.class).doWork(c -> QueueRows.insert(c, batch));
    }

    /**
     * storeStreaming - a message larger than one chunk: each chunk is flushed and detached
     * as it is read, so a message of any size needs one chunk of memory.
     */
    private void storeStreaming(Envelope env, QueuedMessage m, InputStream content, byte[] buf, int first) {
        em.persist(m);
        em.flush();
        long size = 0;
        int seq = 0;
        try {
            int n = first;
            while (n > 0) {
                ContentChunk c = new ContentChunk(env.queueId(), seq++, Arrays.copyOf(buf, n));
                em.persist(c);
                em.flush();
                em.detach(c);
                size += n;
                n = content.readNBytes(buf, 0, buf.length);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        m.setSize(size);
        m.setContentChunks(seq);
        em.flush();
    }
}
