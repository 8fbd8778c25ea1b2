package org.postern.cleanup;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Headers - what cleanup reads from the message header (only what it logs, for now). */
final class Headers {
    private static final int MAX_ID = 998;

    private Headers() {
    }

    /**
     * messageId - the value of the first Message-ID: header within the first len bytes,
     * unfolded, trimmed and made printable, or null when the header part there has none.
     */
    static String messageId(byte[] buf, int len) {
        String text = new String(buf, 0, len, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        String header = end < 0 ? text : text.substring(0, end + 2);
        String lower = header.toLowerCase(Locale.ROOT);
        int at = lower.startsWith("message-id:") ? 0 : lower.indexOf("\r\nmessage-id:");
        if (at < 0) {
            return null;
        }
        int start = lower.indexOf(':', at) + 1;
        StringBuilder value = new StringBuilder();
        int i = start;
        while (i < header.length()) {
            int eol = header.indexOf("\r\n", i);
            if (eol < 0) {
                eol = header.length();
            }
            value.append(header, i, eol);
            i = eol + 2;
            if (i >= header.length() || (header.charAt(i) != ' ' && header.charAt(i) != '\t')) {
                break;
            }
        }
        String id = printable(value.toString().trim());
        return id.isEmpty() || id.length() > MAX_ID ? null : id;
    }

    /**
     * printable - the value as it may go into a log line (Postfix's printable()): a TAB of
     * the unfolding becomes a space, any other control character a '?'. Content is the
     * client's: a bare CR, which smtpd stores as data within a line, must not end or hide a
     * line of the mail log.
     */
    private static String printable(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (b == null) {
                    b = new StringBuilder(s);
                }
                b.setCharAt(i, c == '\t' ? ' ' : '?');
            }
        }
        return b == null ? s : b.toString();
    }
}
