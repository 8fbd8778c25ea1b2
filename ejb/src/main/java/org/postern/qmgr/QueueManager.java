package org.postern.qmgr;

import jakarta.ejb.ActivationConfigProperty;
import jakarta.ejb.EJB;
import jakarta.ejb.MessageDriven;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageListener;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postern.smtpd.api.QueueIds;

/**
 * QueueManager - takes delivery requests from the JMS queue postern.active (qmgr(8)).
 *
 * <h2>DESCRIPTION</h2>
 * Each request names a queue id, or a few (a group commit wakes its messages a few per
 * request, delivered here one after the other). The bean validates each and lets {@link DeliveryAgent} do
 * the work: claim the message, deliver the recipients that are due, record the outcomes,
 * schedule the next attempt or remove the message. Many instances run at once, one per
 * request; the database lease keeps two of them off the same message.
 *
 * <h2>SECURITY</h2>
 * A request is only a pointer; a malformed one is logged and dropped.
 */
@MessageDriven(name = "QueueManager", activationConfig = {
        @ActivationConfigProperty(propertyName = "destinationType", propertyValue = "jakarta.jms.Queue"),
        @ActivationConfigProperty(propertyName = "destinationLookup", propertyValue = "java:/jms/queue/postern/active"),
        @ActivationConfigProperty(propertyName = "maxSession", propertyValue = "20")})
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class QueueManager implements MessageListener {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");

    @EJB
    private DeliveryAgent agent;

    @Override
    public void onMessage(Message message) {
        String ids;
        try {
            ids = message.getStringProperty(DeliveryRequests.QUEUE_ID);
            if (ids == null) {
                ids = message.getStringProperty(DeliveryRequests.QUEUE_IDS);
            }
        } catch (JMSException e) {
            LOG.warning("PSTN4301: unreadable delivery request dropped: " + e);
            return;
        }
        if (ids == null) {
            LOG.warning("PSTN4302: delivery request without a queue id dropped");
            return;
        }
        java.util.List<String> valid = new java.util.ArrayList<>();
        for (String queueId : ids.split(" ")) {
            if (!QueueIds.isValid(queueId)) {
                LOG.warning("PSTN4302: delivery request with a bad queue id dropped: " + queueId);
            } else if (!valid.contains(queueId)) {
                valid.add(queueId);
            }
        }
        try {
            if (valid.size() == 1) {
                agent.deliver(valid.get(0));
            } else if (!valid.isEmpty()) {
                agent.deliverAll(valid);
            }
        } catch (RuntimeException e) {
            // the scanner requests the message again (its lease given back, kept to be given
            // back, or run out); do not let JMS redeliver in a tight loop
            LOG.severe("PSTN4303: " + valid + ": delivery failed, tried again at a later queue scan: "
                    + DeliveryAgent.rootCause(e));
            LOG.log(Level.FINE, "PSTN4303: " + valid, e);
        }
    }
}
