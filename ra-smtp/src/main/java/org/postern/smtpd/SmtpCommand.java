package org.postern.smtpd;

import java.util.Locale;

/**
 * SmtpCommand - one SMTP command line split into verb and argument.
 *
 * <p>The verb is the text up to the first space, upper-cased (verbs are
 * case-insensitive, RFC 5321 2.4); the argument is the rest with the separating
 * spaces removed, and trailing spaces removed, or "" when there is none. Leading spaces
 * before the verb are ignored as Postfix does.
 *
 * @param verb     upper-case verb, e.g. "MAIL"; "" for an empty line
 * @param argument the text after the verb, e.g. "FROM:&lt;a@b&gt; SIZE=10"
 */
public record SmtpCommand(String verb, String argument) {

    /** parse - split a command line (without its line ending). */
    public static SmtpCommand parse(String line) {
        int start = 0;
        int end = line.length();
        while (start < end && isBlank(line.charAt(start))) {
            start++;
        }
        while (end > start && isBlank(line.charAt(end - 1))) {
            end--;
        }
        int space = start;
        while (space < end && !isBlank(line.charAt(space))) {
            space++;
        }
        String verb = line.substring(start, space).toUpperCase(Locale.ROOT);
        int arg = space;
        while (arg < end && isBlank(line.charAt(arg))) {
            arg++;
        }
        return new SmtpCommand(verb, line.substring(arg, end));
    }

    /** hasArgument - true when something follows the verb. */
    public boolean hasArgument() {
        return !argument.isEmpty();
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }
}
