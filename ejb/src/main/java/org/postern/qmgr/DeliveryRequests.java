package org.postern.qmgr;

import jakarta.annotation.Resource;
import jakarta.ejb.Local;
import jakarta.ejb.LocalBean;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSProducer;
import jakarta.jms.Queue;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postern.flush.DeliveryTrigger;

/**
 * DeliveryRequests - puts delivery requests on the JMS queue postern.active.
 *
 * <p>A request carries only the queue id: the database says what is due. Requests are sent
 * outside any transaction, after the queue row they point at has been committed, so one
 * message costs one durable database write on the receiving path. A request that is
 * lost (a failed send, a crashed broker) is made again by {@link QueueScanner}: a failed
 * send also marks every message still waiting for its first request in memory
 * ({@link AcceptedMessages#requestsLost}), as the broker may have lost those requests, so
 * that the next scan requests them from the database; a
 * request that finds nothing due is dropped, so duplicates are harmless.
 *
 * <p>It is also the flush service's {@link DeliveryTrigger} (a local view of its own, beside
 * the no-interface view that the queue manager and the smtpd endpoint use).
 */
@Stateless
@LocalBean
@Local(DeliveryTrigger.class)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class DeliveryRequests implements DeliveryTrigger {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** the JMS property that carries the queue id */
    public static final String QUEUE_ID = "postern_queue_id";
    /** the JMS property that carries several queue ids, separated by spaces */
    public static final String QUEUE_IDS = "postern_queue_ids";
    /**
     * queue ids per request at most when a group commit wakes many messages at once: one
     * send per few messages, and still enough requests for the queue managers to deliver
     * a batch in parallel
     */
    static final int IDS_PER_REQUEST = 4;
    /** queue ids per request for a flush or a scan of stored messages, claimed together */
    public static final int IDS_PER_STORED_REQUEST = 16;

    @Resource(lookup = "java:/JmsXA")
    private ConnectionFactory factory;

    @Resource(lookup = "java:/jms/queue/postern/active")
    private Queue active;

    /** wakeUp - ask for a delivery attempt of the message now. */
    public void wakeUp(String queueId) {
        schedule(queueId, Duration.ZERO);
    }

    /**
     * wakeUpAll - ask for a delivery attempt of each message now, a few queue ids per JMS
     * message (a group commit's messages: one send for several of them). False when a
     * send failed; the scanner makes up for it.
     */
    public boolean wakeUpAll(List<String> queueIds) {
        return wakeUpAll(queueIds, IDS_PER_REQUEST);
    }

    /**
     * wakeUpAll - the same with up to {@code perRequest} queue ids in each JMS message: more
     * for a flush or a scan of many stored messages, whose claims then share a transaction
     * (QueueStore.claimAll).
     */
    public boolean wakeUpAll(List<String> queueIds, int perRequest) {
        if (queueIds.isEmpty()) {
            return true;
        }
        try (JMSContext ctx = factory.createContext()) {
            JMSProducer producer = ctx.createProducer().setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            for (int i = 0; i < queueIds.size(); i += perRequest) {
                List<String> part = queueIds.subList(i, Math.min(queueIds.size(), i + perRequest));
                producer.setProperty(QUEUE_IDS, String.join(" ", part)).send(active, part.get(0));
            }
            return true;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "PSTN4201: " + queueIds + ": cannot send delivery requests, the queue scanner will: "
                    + e);
            AcceptedMessages.requestsLost();
            return false;
        }
    }

    /**
     * deliverNow - a flush's messages: {@link #IDS_PER_STORED_REQUEST} queue ids per
     * request, claimed together.
     */
    @Override
    public boolean deliverNow(List<String> queueIds) {
        return wakeUpAll(queueIds, IDS_PER_STORED_REQUEST);
    }

    /** schedule - ask for a delivery attempt after the delay (JMS 2.0 delivery delay). */
    public boolean schedule(String queueId, Duration delay) {
        try (JMSContext ctx = factory.createContext()) {
            // not persistent: the committed queue row is the durable request, and a request
            // lost with the broker is made again by the scanner; a persistent one would add
            // a journal sync to every message
            JMSProducer producer = ctx.createProducer().setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            if (!delay.isZero() && !delay.isNegative()) {
                producer.setDeliveryDelay(delay.toMillis());
            }
            producer.setProperty(QUEUE_ID, queueId).send(active, queueId);
            return true;
        } catch (RuntimeException e) {
            // the row is committed; the scanner will request it again
            LOG.log(Level.WARNING, "PSTN4201: " + queueId + ": cannot send delivery request, the queue scanner will: " + e);
            AcceptedMessages.requestsLost();
            return false;
        }
    }
}
