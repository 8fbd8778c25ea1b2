package org.postern.smtpd.api;

/** EnqueueException - the endpoint could not store the message; carries the SMTP reply. */
public class EnqueueException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String reply;

    /** @param reply full reply line, e.g. {@code 451 4.3.0 Error: queue file write error} */
    public EnqueueException(String reply, String message, Throwable cause) {
        super(message, cause);
        this.reply = reply;
    }

    public EnqueueException(String message, Throwable cause) {
        this("451 4.3.0 Error: queue file write error", message, cause);
    }

    public String reply() {
        return reply;
    }
}
