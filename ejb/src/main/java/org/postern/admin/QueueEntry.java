package org.postern.admin;

import java.beans.ConstructorProperties;

/**
 * QueueEntry - one message as postqueue lists it: the fields of Postfix's
 * {@code postqueue -j} (queue_name, queue_id, arrival_time, message_size, forced_expire,
 * sender, recipients), as a JMX composite value.
 */
public final class QueueEntry implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String queueName;
    private final String queueId;
    private final long arrivalTime;
    private final long messageSize;
    private final boolean forcedExpire;
    private final String sender;
    private final RecipientEntry[] recipients;

    @ConstructorProperties({"queueName", "queueId", "arrivalTime", "messageSize", "forcedExpire", "sender",
            "recipients"})
    public QueueEntry(String queueName, String queueId, long arrivalTime, long messageSize, boolean forcedExpire,
                      String sender, RecipientEntry[] recipients) {
        this.queueName = queueName;
        this.queueId = queueId;
        this.arrivalTime = arrivalTime;
        this.messageSize = messageSize;
        this.forcedExpire = forcedExpire;
        this.sender = sender;
        this.recipients = recipients.clone();
    }

    /** the queue: hold, incoming, active, deferred */
    public String getQueueName() { return queueName; }
    public String getQueueId() { return queueId; }
    /** arrival, seconds since the epoch */
    public long getArrivalTime() { return arrivalTime; }
    /** message size in bytes */
    public long getMessageSize() { return messageSize; }
    /** always false: Postern has no postsuper -e yet */
    public boolean isForcedExpire() { return forcedExpire; }
    /** the envelope sender, empty for the null sender */
    public String getSender() { return sender; }
    /** the recipients still to be delivered */
    public RecipientEntry[] getRecipients() { return recipients.clone(); }
}
