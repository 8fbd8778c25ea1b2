package org.postern.queue;

/** RecipientStatus - where one recipient of a queued message stands. */
public enum RecipientStatus {
    /** not tried yet */
    PENDING,
    /** tried, temporary failure, due again at nextAttempt */
    DEFERRED,
    /** delivered (a 2xx from the next hop) */
    SENT,
    /** permanent failure or expired; the sender is to be notified */
    BOUNCED;

    /** done - true when nothing more is to be done for the recipient. */
    public boolean done() {
        return this == SENT || this == BOUNCED;
    }
}
