package org.postern.admin;

/**
 * QueueControlMXBean - the mail queue over JMX, {@code org.postern:type=Queue}: what
 * Postfix's postqueue(1) and postsuper(1) do, for the commands of the same names in the
 * server's bin/ directory, for jconsole, and for any JMX client. Reached over WildFly's
 * management port ({@code service:jmx:remote+http://127.0.0.1:9990}), so it has the
 * management interface's authentication: a local administrator needs no password, a
 * remote one a management user.
 *
 * <p>Queue names are Postfix's: {@code hold}, {@code incoming}, {@code active},
 * {@code deferred}, and Postern's {@code corrupt} (messages that cannot be read, never
 * retried). A queue id argument {@code ALL} means every message of the queues named.
 */
public interface QueueControlMXBean {

    /** QUEUES - the queue names in the order postqueue -p lists them (showq's order). */
    String[] LISTED = {"hold", "incoming", "active", "deferred"};

    /**
     * list - up to max messages of one queue with a queue id after {@code after} (empty:
     * from the start), in queue id order, each with its recipients still to be delivered
     * and their deferral reasons. Page through a large queue with the last id of a page.
     */
    QueueEntry[] list(String queueName, String after, int max);

    /** counts - the number of messages in each queue, in the order hold, incoming, active, deferred, corrupt. */
    long[] counts();

    /** delete - postsuper -d: removes the messages (no notice to anyone); returns how many. */
    int delete(String[] queueIds, String[] queueNames);

    /** hold - postsuper -h: the messages are kept, not delivered, until released; returns how many. */
    int hold(String[] queueIds, String[] queueNames);

    /** release - postsuper -H: held messages go back to the deferred queue with their own schedule; returns how many. */
    int release(String[] queueIds, String[] queueNames);

    /**
     * requeue - postsuper -r: the messages (held ones too, which are released) are due
     * at once, whatever their backoff; returns how many.
     */
    int requeue(String[] queueIds, String[] queueNames);

    /**
     * expire - postsuper -e: the messages are returned to their senders at their next
     * delivery round instead of being delivered (held ones stay held until released);
     * returns how many were marked.
     */
    int expire(String[] queueIds, String[] queueNames);

    /** expireRelease - postsuper -f: as expire, and held messages are released; returns how many were marked. */
    int expireRelease(String[] queueIds, String[] queueNames);

    /**
     * change - one of delete, hold, release, requeue, expire, expireRelease on the
     * messages, as the method of that name does; returns what postsuper prints (and the
     * mail log gets) for each message changed, in order: "ID: removed", "ID: placed on
     * hold", "ID: released from hold", "ID: requeued", "ID: expired".
     */
    String[] change(String operation, String[] queueIds, String[] queueNames);

    /** flush - postqueue -f, sendmail -q: all deferred mail is due at once; returns the messages woken at once. */
    int flush();

    /**
     * flushSite - postqueue -s site, sendmail -qRsite, ETRN: the deferred mail of a
     * fast_flush_domains destination is due at once; false when the site is not eligible.
     */
    boolean flushSite(String site);

    /** deliver - postqueue -i queue_id: that message is due at once; false when it is not queued (or held or corrupt). */
    boolean deliver(String queueId);
}
