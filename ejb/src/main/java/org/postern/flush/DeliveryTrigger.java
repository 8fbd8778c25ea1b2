package org.postern.flush;

import java.util.List;

/**
 * DeliveryTrigger - how the flush service asks the queue manager to deliver mail now.
 *
 * <h2>DESCRIPTION</h2>
 * Postfix's flush(8) does not deliver: it moves the deferred queue files and then
 * triggers qmgr(8), which does. Postern's {@link FlushService} likewise makes the mail due
 * in the database ({@link FlushQueue}) and then pulls this trigger once for the queue ids
 * it made due. The queue manager implements it (org.postern.qmgr.DeliveryRequests: one
 * JMS delivery request per few queue ids on postern.active), so that the flush package
 * does not depend on the queue manager's package, which depends on it (the flush index,
 * defer_transports).
 *
 * <h2>CONTRACT</h2>
 * {@link #deliverNow} is called outside any transaction, after the flush's own
 * transaction has committed. It does not throw: a request that cannot be sent is made
 * again by the queue scanner, because the mail is due in the database.
 *
 * <h2>SEE ALSO</h2>
 * flush(8), qmgr(8), ETRN_README.
 */
public interface DeliveryTrigger {

    /**
     * deliverNow - ask for a delivery attempt of each of these stored messages now;
     * false when a request could not be sent (the queue scanner makes up for it).
     */
    boolean deliverNow(List<String> queueIds);
}
