package org.postern.mail;

/**
 * AddressSyntaxException - an SMTP path or its parameters could not be parsed.
 *
 * <p>The {@link Kind} tells the smtpd engine which Postfix reply applies: a missing or
 * mangled command shape is a command syntax error (501 5.5.4), a path that is there but
 * not a valid mailbox is a bad address (501 5.1.7 / 501 5.1.3).
 */
public class AddressSyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Kind - what was wrong. */
    public enum Kind {
        /** no path at all, or not the shape of a command argument */
        COMMAND_SYNTAX,
        /** the path is not a valid mailbox */
        BAD_ADDRESS
    }

    private final Kind kind;

    public AddressSyntaxException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
