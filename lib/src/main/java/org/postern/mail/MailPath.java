package org.postern.mail;

import static org.postern.mail.AddressSyntaxException.Kind.BAD_ADDRESS;
import static org.postern.mail.AddressSyntaxException.Kind.COMMAND_SYNTAX;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * MailPath - the argument of MAIL FROM: or RCPT TO: after the colon: a path and its
 * ESMTP parameters.
 *
 * <p>Accepted forms, as Postfix's smtpd accepts them with its default (non-strict)
 * settings: {@code <a@b>}, {@code <>} (null path; the caller decides whether it is
 * allowed), a bare {@code a@b} without angle brackets, spaces between the colon and the
 * path, quoted local parts, address literals, and RFC 5321 source routes
 * {@code <@a,@b:user@c>} whose route is checked and then dropped (RFC 5321 section 3.3:
 * "SHOULD accept and ignore"). Parameters are {@code KEYWORD[=VALUE]} separated by
 * spaces; keywords are upper-cased, values kept as given (xtext is decoded by the
 * caller that knows which parameter carries xtext, see {@link Xtext}).
 *
 * @param address the mailbox, or null for the null path {@code <>}
 * @param params  ESMTP parameters in the order given; upper-case keys; null value for a
 *                keyword without "="
 */
public record MailPath(MailAddress address, Map<String, String> params) {

    public MailPath {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** isNull - true for the null reverse path {@code <>}. */
    public boolean isNull() {
        return address == null;
    }

    /**
     * parse - parse the text after "FROM:" or "TO:".
     *
     * @throws AddressSyntaxException COMMAND_SYNTAX when there is no path or a parameter is
     *                                malformed, BAD_ADDRESS when the path is not a mailbox
     */
    public static MailPath parse(String text) throws AddressSyntaxException {
        if (text == null) {
            throw new AddressSyntaxException(COMMAND_SYNTAX, "no path");
        }
        String s = stripLeading(text);
        if (s.isEmpty()) {
            throw new AddressSyntaxException(COMMAND_SYNTAX, "no path");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0 || c == '\r' || c == '\n') {
                throw new AddressSyntaxException(BAD_ADDRESS, "control character in path");
            }
        }
        String inner;
        String rest;
        if (s.charAt(0) == '<') {
            int close = closingBracket(s);
            inner = s.substring(1, close);
            rest = s.substring(close + 1);
            if (!rest.isEmpty() && rest.charAt(0) != ' ' && rest.charAt(0) != '\t') {
                throw new AddressSyntaxException(BAD_ADDRESS, "text after path");
            }
            if (MailAddress.utf8Length(inner) + 2 > MailAddress.MAX_PATH) {
                throw new AddressSyntaxException(BAD_ADDRESS, "path too long");
            }
        } else {
            int end = tokenEnd(s);
            inner = s.substring(0, end);
            rest = s.substring(end);
            if (inner.indexOf('<') >= 0 || inner.indexOf('>') >= 0) {
                throw new AddressSyntaxException(BAD_ADDRESS, "unbalanced angle brackets");
            }
            if (MailAddress.utf8Length(inner) + 2 > MailAddress.MAX_PATH) {
                throw new AddressSyntaxException(BAD_ADDRESS, "path too long");
            }
        }
        MailAddress address = inner.isEmpty() ? null : MailAddress.parse(stripSourceRoute(inner));
        return new MailPath(address, parseParams(rest));
    }

    /** closingBracket - index of the '>' that closes the path, skipping quoted text. */
    private static int closingBracket(String s) throws AddressSyntaxException {
        int i = unquoted(s, 1, "<>");
        if (i < 0) {
            throw new AddressSyntaxException(BAD_ADDRESS, "missing '>'");
        }
        if (s.charAt(i) == '<') {
            throw new AddressSyntaxException(BAD_ADDRESS, "nested angle bracket");
        }
        return i;
    }

    /** tokenEnd - end of a bare address: the first unquoted space. */
    private static int tokenEnd(String s) throws AddressSyntaxException {
        int i = unquoted(s, 0, " \t");
        if (i == UNTERMINATED) {
            throw new AddressSyntaxException(BAD_ADDRESS, "unterminated quoted string");
        }
        return i < 0 ? s.length() : i;
    }

    /** what {@link #unquoted} answers when the text ends inside a quoted string */
    private static final int UNTERMINATED = -2;

    /**
     * unquoted - the index of the first character at or after {@code from}, outside a quoted
     * string (backslash escapes inside quotes), that is one of {@code stops}; -1 when there
     * is none, {@link #UNTERMINATED} when the text ends inside quotes.
     */
    private static int unquoted(String s, int from, String stops) {
        boolean quoted = false;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (stops.indexOf(c) >= 0) {
                return i;
            }
        }
        return quoted ? UNTERMINATED : -1;
    }

    /** stripSourceRoute - drop "@a,@b:" (RFC 5321 3.3, A-d-l) after checking its domains. */
    static String stripSourceRoute(String inner) throws AddressSyntaxException {
        if (inner.charAt(0) != '@') {
            return inner;
        }
        int colon = inner.indexOf(':');
        if (colon < 0) {
            throw new AddressSyntaxException(BAD_ADDRESS, "source route without ':'");
        }
        for (String hop : inner.substring(0, colon).split(",", -1)) {
            if (hop.length() < 2 || hop.charAt(0) != '@') {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad source route");
            }
            MailAddress.checkDomain(hop.substring(1));
        }
        String mailbox = inner.substring(colon + 1);
        if (mailbox.isEmpty()) {
            throw new AddressSyntaxException(BAD_ADDRESS, "source route without mailbox");
        }
        return mailbox;
    }

    /** parseParams - "KEY=VALUE KEY ..." (RFC 5321 4.1.2 esmtp-param). */
    static Map<String, String> parseParams(String rest) throws AddressSyntaxException {
        Map<String, String> params = new LinkedHashMap<>();
        for (String word : rest.trim().split("[ \t]+")) {
            if (word.isEmpty()) {
                continue;
            }
            int eq = word.indexOf('=');
            String key = (eq < 0 ? word : word.substring(0, eq)).toUpperCase(Locale.ROOT);
            String value = eq < 0 ? null : word.substring(eq + 1);
            if (!key.matches("[A-Z0-9][A-Z0-9-]*")) {
                throw new AddressSyntaxException(COMMAND_SYNTAX, "bad parameter keyword: " + word);
            }
            if (value != null && (value.isEmpty() || !value.chars().allMatch(c -> c > 32 && c != 127 && c != '='))) {
                // esmtp-value = 1*(%d33-60 / %d62-126); UTF-8 allowed (RFC 6531).
                throw new AddressSyntaxException(COMMAND_SYNTAX, "bad parameter value: " + word);
            }
            if (params.containsKey(key)) {
                throw new AddressSyntaxException(COMMAND_SYNTAX, "duplicate parameter: " + key);
            }
            params.put(key, value);
        }
        return params;
    }

    private static String stripLeading(String s) {
        int i = 0;
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return s.substring(i);
    }
}
