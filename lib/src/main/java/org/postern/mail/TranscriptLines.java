package org.postern.mail;

/**
 * TranscriptLines - the lines of a session transcript in a postmaster notice, as Postfix
 * writes them (its line_wrap()): each behind one space, at most {@link #LENGTH} columns,
 * broken between words, continuations indented by {@link #INDENT}; a word longer than a
 * line is not broken. Every character outside printable ASCII becomes '?', so that what a
 * peer said cannot make headers or MIME structure. Used by smtpd's notices and the
 * client's (notify_classes policy, protocol).
 */
public final class TranscriptLines {
    /** the longest line, the leading space not counted */
    public static final int LENGTH = 78;
    /** the indentation of a continuation */
    public static final int INDENT = 4;

    private TranscriptLines() {
    }

    /** wrap - append {@code text} to {@code b}, wrapped, each line ended with CRLF. */
    public static void wrap(StringBuilder b, String text) {
        text = ascii(text);
        int lineLen = LENGTH;
        int indent = 0;
        int start = 0;
        int currLen = 0;
        int word = 0;
        while (word >= 0) {
            int nextSpace = word;
            while (nextSpace < text.length() && text.charAt(nextSpace) != ' ' && text.charAt(nextSpace) != '\t') {
                nextSpace++;
            }
            if (word > start && nextSpace - start > lineLen) {
                b.append(' ').append(" ".repeat(indent)).append(text, start, start + currLen).append("\r\n");
                while (word < text.length() && (text.charAt(word) == ' ' || text.charAt(word) == '\t')) {
                    word++;
                }
                start = word;
                indent = INDENT;
                lineLen = LENGTH - INDENT;
            }
            currLen = nextSpace - start;
            word = nextSpace < text.length() ? nextSpace + 1 : -1;
        }
        b.append(' ').append(" ".repeat(indent)).append(text, start, start + currLen).append("\r\n");
    }

    /** ascii - printable ASCII only, others as '?' (Postfix printable()). */
    public static String ascii(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 32 || c > 126 ? '?' : c);
        }
        return b.toString();
    }
}
