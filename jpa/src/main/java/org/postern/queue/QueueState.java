package org.postern.queue;

/**
 * QueueState - the queues of Postfix, as the state of one message.
 *
 * <ul>
 * <li>INCOMING: stored and acknowledged with 250, not yet picked up by the queue manager;</li>
 * <li>ACTIVE: the queue manager is delivering it;</li>
 * <li>DEFERRED: some recipients wait for a later attempt;</li>
 * <li>HOLD: kept until an administrator releases it;</li>
 * <li>CORRUPT: cannot be read; never retried.</li>
 * </ul>
 */
public enum QueueState {
    INCOMING, ACTIVE, DEFERRED, HOLD, CORRUPT
}
