package org.postern.smtp;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SmtpReply - one (possibly multi-line) reply of an SMTP or LMTP server.
 *
 * @param code  the three-digit reply code; 0 when the reply was malformed
 * @param lines the text of each line after the code and separator
 */
public record SmtpReply(int code, List<String> lines) {

    /* RFC 3463 status-code = class "." subject "." detail, at the start of the text */
    private static final Pattern ENHANCED = Pattern.compile("^([245])\\.(\\d{1,3})\\.(\\d{1,3})(?:\\s|$)");

    public SmtpReply {
        lines = List.copyOf(lines);
    }

    /** replyClass - 2, 3, 4 or 5; 4 for a malformed reply (a protocol error is not permanent). */
    public int replyClass() {
        int c = code / 100;
        return c >= 2 && c <= 5 ? c : 4;
    }

    public boolean positive() {
        return replyClass() == 2;
    }

    /** dsn - the enhanced status code of the reply when present and consistent, else x.0.0. */
    public String dsn() {
        String first = lines.isEmpty() ? "" : lines.get(0);
        Matcher m = ENHANCED.matcher(first);
        if (m.find() && Integer.parseInt(m.group(1)) == replyClass()) {
            return m.group(1) + "." + m.group(2) + "." + m.group(3);
        }
        return replyClass() + ".0.0";
    }

    /** text - the reply as Postfix logs it: the code and the lines, joined by spaces. */
    public String text() {
        return code + " " + String.join(" ", lines);
    }

    @Override
    public String toString() {
        return text();
    }
}
