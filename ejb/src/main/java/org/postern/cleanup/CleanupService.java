package org.postern.cleanup;

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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.postern.queue.ContentChunk;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.service.ConfigService;
import org.postern.service.MailLog;
import org.postern.smtpd.Envelope;
import org.postern.smtpd.QueueIds;

/**
 * CleanupService - writes a received message into the queue (Postfix's cleanup(8)).
 *
 * <p>Each envelope recipient is first rewritten with virtual_alias_maps
 * ({@link VirtualAliases}); an aliased recipient keeps the original address as its ORCPT
 * (orig_to= in the log, Original-Recipient in notices). A recipient address that appears
 * twice, given twice or reached through an alias as well, is stored once (compared
 * exactly: a local part may be case-sensitive).
 * Envelope, recipients and content go into the database in one transaction. Content is
 * streamed in {@link ContentChunk#MAX_SIZE} chunks, each flushed and detached at once, so
 * a message of any size needs one chunk of memory; a message that fits one chunk (most
 * mail) is inserted in a single flush, envelope, recipients and content together. Any
 * failure rolls the whole message back.
 */
@Stateless
public class CleanupService {

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    @EJB
    private ConfigService config;

    /** store - persist a message; returns its queue id. Runs in a transaction of its own. */
    @TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
    public String store(Envelope env, InputStream content) {
        if (!QueueIds.isValid(env.queueId())) {
            throw new IllegalArgumentException("bad queue id: " + env.queueId());
        }
        QueuedMessage m = new QueuedMessage(env.queueId(), env.sender(), env.arrival());
        m.setClient(env.clientName(), env.clientAddress());
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
        VirtualAliases aliases = config == null ? null : config.virtualAliases();
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
