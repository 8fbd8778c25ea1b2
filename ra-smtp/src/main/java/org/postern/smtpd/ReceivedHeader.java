package org.postern.smtpd;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * ReceivedHeader - the Received: header that smtpd prepends, in Postfix's shape.
 *
 * <pre>
 * Received: from HELO (CLIENTNAME [ADDR])
 *         by MYHOSTNAME (MAIL_NAME) with ESMTP id QUEUEID
 *         for &lt;rcpt&gt;; Sat, 21 Nov 2026 09:30:00 +0000 (UTC)
 * </pre>
 * With more than one recipient the "for" clause is left out (it would disclose the
 * other recipients) and the date follows "id QUEUEID;" on its own line. Days have two
 * digits, as in Postfix 3.9 and later (RFC 5322 3.3 recommends one space).
 */
final class ReceivedHeader {
    /** Postfix's mail_date(): RFC 5322 date with the zone abbreviation as comment. */
    private static final DateTimeFormatter MAIL_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.US);
    private static final DateTimeFormatter ZONE_NAME = DateTimeFormatter.ofPattern("zzz", Locale.US);

    private ReceivedHeader() {
    }

    /**
     * format - the header with CRLF line endings.
     *
     * @param helo      HELO/EHLO argument, or null (then the client name is used)
     * @param recipient the only recipient, or null when there are several
     */
    static String format(String helo, String clientName, String clientAddress, String myhostname,
                         String mailName, String protocol, String queueId, String recipient,
                         Instant arrival, ZoneId zone) {
        StringBuilder b = new StringBuilder(256);
        b.append("Received: from ").append(clean(helo != null ? helo : clientName))
                .append(" (").append(clientName).append(" [").append(rfcAddress(clientAddress)).append("])\r\n");
        b.append("\tby ").append(myhostname).append(" (").append(mailName).append(") with ")
                .append(protocol).append(" id ").append(queueId);
        String date = mailDate(arrival, zone);
        if (recipient != null) {
            b.append("\r\n\tfor <").append(recipient).append(">; ").append(date).append("\r\n");
        } else {
            b.append(";\r\n\t").append(date).append("\r\n");
        }
        return b.toString();
    }

    /** mailDate - "Sat, 21 Nov 2026 09:30:00 +0000 (UTC)"; a bare offset zone is named UTC or its offset. */
    static String mailDate(Instant instant, ZoneId zone) {
        java.time.ZonedDateTime t = instant.atZone(zone);
        String name = ZONE_NAME.format(t);
        if (name.equals("Z")) {
            name = "UTC";
        }
        return MAIL_DATE.format(t) + " (" + name + ")";
    }

    /** rfcAddress - address as in an address literal: "IPv6:" prefix for IPv6 (RFC 5321 4.1.3). */
    static String rfcAddress(String address) {
        return address.indexOf(':') >= 0 ? "IPv6:" + address : address;
    }

    /** clean - keep the client's HELO text from breaking the header (no CR, LF, parentheses games). */
    private static String clean(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            b.append(c < 32 || c == 127 || c == '(' || c == ')' ? '?' : c);
        }
        return b.toString();
    }
}
