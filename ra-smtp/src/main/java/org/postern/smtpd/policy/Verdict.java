package org.postern.smtpd.policy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Verdict - the outcome of one restriction or one restriction list: OK (the list ends,
 * the request is permitted by this list), DUNNO (go on), or REJECT with the reply line.
 *
 * <h2>DESCRIPTION</h2>
 * The reply helpers build Postfix's reply lines: "CODE D.S.N TEXT", the DSN class
 * following the reply code (a 4XX reply gets a 4.X.X status), and an access map's
 * "REJECT 5.7.9 text" keeping the status that its text starts with.
 *
 * @param kind  OK, DUNNO or REJECT
 * @param reply the reply line of a REJECT, otherwise null
 */
record Verdict(Kind kind, String reply) {

    /** Kind - what the evaluation does next. */
    enum Kind { OK, DUNNO, REJECT }

    static final Verdict OK = new Verdict(Kind.OK, null);
    static final Verdict DUNNO = new Verdict(Kind.DUNNO, null);

    /** The reply to a restriction whose configuration cannot be used (a bad access map result). */
    static final String CONFIG_ERROR = "451 4.3.5 Server configuration error";

    private static final Pattern DSN = Pattern.compile("^([245])\\.(\\d{1,3})\\.(\\d{1,3})(?:\\s+|$)");

    /** rejected - true for a REJECT (a deferral included). */
    boolean rejected() {
        return kind == Kind.REJECT;
    }

    /** reject - a reply line; the DSN class follows the reply code (4XX: 4.x.x). */
    static Verdict reject(int code, String dsn, String text) {
        String d = (code / 100) + dsn.substring(1);
        return new Verdict(Kind.REJECT, code + " " + d + " " + text);
    }

    /** rejectWithText - "CODE DSN prefixTEXT"; TEXT may start with its own DSN; empty: Access denied. */
    static Verdict rejectWithText(int code, String defaultDsn, String prefix, String text) {
        String dsn = defaultDsn;
        String t = text;
        Matcher m = DSN.matcher(t);
        if (m.find()) {
            dsn = m.group(1) + "." + m.group(2) + "." + m.group(3);
            t = t.substring(m.end());
        }
        return reject(code, dsn, prefix + (t.isEmpty() ? "Access denied" : t));
    }

    /** printable - client or DNS text in a reply: no control characters, at most 200 characters. */
    static String printable(String text) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length() && i < 200; i++) {
            char c = text.charAt(i);
            b.append(c < 32 || c == 127 ? ' ' : c);
        }
        return b.toString();
    }
}
