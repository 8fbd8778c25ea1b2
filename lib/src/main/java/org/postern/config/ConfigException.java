package org.postern.config;

/**
 * ConfigException - a configuration text that Postern cannot use.
 *
 * <p>The message names the file (or other origin), the line when there is one, and the
 * reason, in Postfix's shape: {@code /etc/postern/main.cf, line 3: missing '=' after
 * attribute name: "foo"}. It is unchecked so that a parser can promise that bad text gives
 * this exception and nothing else; callers that load configuration catch it at the one
 * place where a start is decided (there is no reload yet).
 */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String origin;
    private final int line;
    private final String reason;

    /** ConfigException - an error at a line of a file (line 0: the file as a whole). */
    public ConfigException(String origin, int line, String reason) {
        super(format(origin, line, reason));
        this.origin = origin;
        this.line = line;
        this.reason = reason;
    }

    /** ConfigException - an error with a cause, such as an I/O error. */
    public ConfigException(String origin, int line, String reason, Throwable cause) {
        super(format(origin, line, reason), cause);
        this.origin = origin;
        this.line = line;
        this.reason = reason;
    }

    /** origin - the file name or other origin of the bad text. */
    public String origin() {
        return origin;
    }

    /** line - the line number, or 0 when the error is not tied to one line. */
    public int line() {
        return line;
    }

    /** reason - the message without its location. */
    public String reason() {
        return reason;
    }

    static String format(String origin, int line, String reason) {
        return location(origin, line) + ": " + reason;
    }

    static String location(String origin, int line) {
        return line > 0 ? origin + ", line " + line : origin;
    }
}
