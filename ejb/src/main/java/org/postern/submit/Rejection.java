package org.postern.submit;

/**
 * Rejection - a JMS submission that Postern refuses for good: malformed, too large, or
 * refused by jms_sender_restrictions. It goes to the dead-letter queue with
 * {@link #reply} as postern_error and {@link #status} as postern_status.
 */
public final class Rejection extends Exception {
    private static final long serialVersionUID = 1L;

    private final String reply;

    /** Rejection - reply is an SMTP reply as smtpd would give it: "552 5.3.4 Message size exceeds fixed limit". */
    public Rejection(String reply) {
        super(reply);
        this.reply = reply;
    }

    /** reply - the whole reply: code, enhanced status code, text. */
    public String reply() {
        return reply;
    }

    /** status - the RFC 3463 enhanced status code of the reply, such as 5.3.4 (5.0.0 when it has none). */
    public String status() {
        String[] words = reply.split(" ", 3);
        if (words.length > 1 && words[1].matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
            return words[1];
        }
        return reply.startsWith("4") ? "4.0.0" : "5.0.0";
    }
}
