package org.postern.smtp.dns;

/**
 * DnsLookupException - a lookup that produced no answer.
 */
public class DnsLookupException extends Exception {

    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** NXDOMAIN: the name does not exist (permanent) */
        NOT_FOUND,
        /** SERVFAIL, timeout, refused, unreachable server: try again later */
        TEMPORARY
    }

    private final Kind kind;

    public DnsLookupException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
