package org.postern.flush;

/**
 * FlushException - a flush could not be started (the queue database is unreachable, the
 * transaction failed). The ETRN caller answers 458 (Postfix: "458 Unable to queue messages").
 */
public class FlushException extends Exception {
    private static final long serialVersionUID = 1L;

    public FlushException(String message, Throwable cause) {
        super(message, cause);
    }
}
