package org.postern.smtpd;

import org.postern.mail.TranscriptLines;
import org.postern.smtpd.api.Envelope;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * SmtpdNotice - the postmaster notice with the transcript of an SMTP session that had
 * errors of a class in notify_classes (Postfix smtpd_chat_notify()).
 *
 * <p>Sender double_bounce_sender, recipient error_notice_recipient (both qualified with
 * myhostname when they have no domain), From: "Mail Delivery System
 * &lt;MAILER-DAEMON@myhostname&gt;", Subject: "MAIL_NAME SMTP server: errors from
 * name[addr]", and a body as Postfix writes it: "Transcript of session follows.", the
 * In:/Out: lines wrapped at 78 columns (continuations indented 4), each behind one
 * space, the reason a session was aborted, and a pointer to the mail log. Every line is
 * printable ASCII: what came from the client cannot make headers or MIME structure.
 */
final class SmtpdNotice {
    private static final DateTimeFormatter ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private SmtpdNotice() {
    }

    /** qualify - an address without domain gets @myhostname (Postfix: @myorigin). */
    static String qualify(String address, String myhostname) {
        return address.indexOf('@') >= 0 ? address : address + "@" + myhostname;
    }

    /** envelope - the notice's envelope: local, from double_bounce_sender to error_notice_recipient. */
    static Envelope envelope(SmtpdSettings settings, String queueId, Instant now, long size) {
        return new Envelope(queueId, qualify(settings.notices().doubleBounceSender(), settings.identity().myhostname()), Map.of(),
                List.of(new Envelope.Recipient(qualify(settings.notices().errorNoticeRecipient(), settings.identity().myhostname()),
                        null, null)),
                "localhost", "127.0.0.1", 0, null, "local", settings.identity().serviceName(), now, size);
    }

    /** content - the message, CRLF line endings. */
    static byte[] content(SmtpdSettings settings, String queueId, String namaddr, List<String> history,
                          String reason, Instant now, ZoneId zone) {
        StringBuilder b = new StringBuilder(4096);
        String host = settings.identity().myhostname();
        line(b, "Message-Id: <" + ID_TIME.format(now) + "." + queueId + "@" + host + ">");
        line(b, "Date: " + ReceivedHeader.mailDate(now, zone));
        line(b, "From: Mail Delivery System <MAILER-DAEMON@" + host + ">");
        line(b, "To: Postmaster <" + qualify(settings.notices().errorNoticeRecipient(), host) + ">");
        line(b, "Subject: " + settings.identity().mailName() + " SMTP server: errors from " + ascii(namaddr));
        line(b, "");
        line(b, "Transcript of session follows.");
        line(b, "");
        for (String h : history) {
            wrap(b, h);
        }
        line(b, "");
        if (reason != null) {
            line(b, "Session aborted, reason: " + reason);
        }
        line(b, "");
        line(b, "For other details, see the local mail logfile");
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void line(StringBuilder b, String text) {
        b.append(text).append("\r\n");
    }

    /** wrap - one transcript line, wrapped as Postfix's line_wrap() ({@link TranscriptLines}). */
    static void wrap(StringBuilder b, String text) {
        TranscriptLines.wrap(b, text);
    }

    /** ascii - printable ASCII only, others as '?' (Postfix printable()). */
    static String ascii(String s) {
        return TranscriptLines.ascii(s);
    }
}
