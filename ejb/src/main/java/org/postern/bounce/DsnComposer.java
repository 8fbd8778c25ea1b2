package org.postern.bounce;

import org.postern.mail.TranscriptLines;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.postern.mail.Xtext;

/**
 * DsnComposer - writes a delivery status notification (RFC 3464) for failed recipients,
 * a delay warning for recipients that are still being retried, a success notice for
 * recipients delivered or relayed, and the postmaster's copies of bounces and delay warnings.
 *
 * <h2>DESCRIPTION</h2>
 * The report is a multipart/report; report-type=delivery-status message of three parts:
 * a human-readable explanation (text/plain), the machine-readable message/delivery-status
 * (per-message fields, then one group per recipient: Original-Recipient from ORCPT,
 * Final-Recipient, Action: failed, delayed, delivered or relayed, Status, Remote-MTA,
 * Diagnostic-Code, and Will-Retry-Until for a delay), and the returned
 * message: its header only as text/rfc822-headers when the sender asked RET=HDRS (and for
 * postmaster notices), otherwise the whole message as message/rfc822, both cut to
 * bounce_size_limit bytes at a line end, as Postfix does.
 *
 * <h2>SECURITY</h2>
 * Every value taken from the original envelope or from a remote server's reply is
 * reduced to printable US-ASCII on one logical line before it becomes a header field
 * value, so that a hostile ENVID, ORCPT or reply text cannot add fields or parts.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * myhostname (Reporting-MTA, From:, Message-Id:), mail_name (the signature),
 * bounce_size_limit (50000): the caller passes them in.
 *
 * <h2>SEE ALSO</h2>
 * RFC 3464 (message/delivery-status), RFC 3461 (ENVID, ORCPT, RET), RFC 6522
 * (multipart/report), Postfix bounce(8).
 */
public final class DsnComposer {
    private static final DateTimeFormatter DATE = DateTimeFormatter
            .ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);
    /** an SMTP reply: three digits, then a space, a hyphen or the end */
    private static final Pattern SMTP_REPLY = Pattern.compile("^[2-5][0-9][0-9]([ -].*)?$", Pattern.DOTALL);
    private static final Pattern DSN_STATUS = Pattern.compile("^[245]\\.[0-9]{1,3}\\.[0-9]{1,3}$");
    private static final String EXPIRED = "message expired: ";
    private static final java.util.Set<String> SUCCESS_ACTIONS = java.util.Set.of("delivered", "relayed", "expanded");
    private static final int FOLD_AT = 78;
    /**
     * The longest piece of a word without spaces on one line: RFC 5322 2.1.1 allows 998
     * octets; room is left for the indentation of a continuation or a notice line.
     */
    private static final int WORD_AT = 980;

    private final String myhostname;
    private final String mailName;
    private final int sizeLimit;

    /** DsnComposer - for this host, signature and bounce_size_limit. */
    public DsnComposer(String myhostname, String mailName, int sizeLimit) {
        this.myhostname = myhostname;
        this.mailName = mailName;
        this.sizeLimit = Math.max(0, sizeLimit);
    }

    /** Kind - whom the report is for. */
    public enum Kind {
        /** the original sender: "Undelivered Mail Returned to Sender" */
        SENDER,
        /** the postmaster, for a bounce that could not be delivered (double bounce) */
        POSTMASTER,
        /** the original sender, warned that delivery is delayed (delay_warning_time) */
        DELAY,
        /** the original sender, told of delivery (NOTIFY=SUCCESS): "Successful Mail Delivery Report" */
        SUCCESS,
        /** the postmaster's copy of a non-delivery report (notify_classes = bounce) */
        BOUNCE_COPY,
        /** the postmaster's copy of a delay warning (notify_classes = delay) */
        DELAY_COPY;

        /** delayed - a warning about mail still being retried (4.x.x, Action: delayed). */
        boolean delayed() {
            return this == DELAY || this == DELAY_COPY;
        }
    }

    /**
     * Original - what the report says about the returned message.
     *
     * @param queueId  its queue id
     * @param sender   its envelope sender, "" for the null sender
     * @param arrival  when it arrived
     * @param envid    RFC 3461 ENVID (decoded), or null
     * @param content  the first bytes of its content, at most bounce_size_limit of them
     *                 (more are ignored), CRLF line ends
     * @param complete true when content is the whole message
     * @param retryUntil for a delay warning: when the message will be returned (Will-Retry-Until), or null
     */
    public record Original(String queueId, String sender, Instant arrival, String envid, byte[] content,
                           boolean complete, Instant retryUntil) {
        /** Original - without a retry time (non-delivery reports). */
        public Original(String queueId, String sender, Instant arrival, String envid, byte[] content,
                        boolean complete) {
            this(queueId, sender, arrival, envid, content, complete, null);
        }
    }

    /**
     * Failure - one recipient that could not be delivered.
     *
     * @param address the envelope recipient
     * @param orcpt   the RFC 3461 ORCPT parameter as received (address-type;xtext), or null
     * @param status  the enhanced status code (5.1.1), or null
     * @param relay   the next hop as logged (host[addr]:port), "none", or null
     * @param reply   the remote reply or the reason, as recorded
     * @param action  for a success notice: "delivered" or "relayed" (RFC 3464 section 2.3.3);
     *                null for the other kinds, whose action follows from the kind
     */
    public record Failure(String address, String orcpt, String status, String relay, String reply, String action) {
        /** Failure - a recipient of a non-delivery report or delay warning. */
        public Failure(String address, String orcpt, String status, String relay, String reply) {
            this(address, orcpt, status, relay, reply, null);
        }
    }

    /** Report - the composed message and whether it needs 8BITMIME. */
    public record Report(byte[] content, boolean eightBit, String messageId) {
    }

    /**
     * compose - the report with queue id {@code queueId}, to {@code to}, about {@code failures}
     * of {@code original}; {@code headersOnly} returns only the original's header.
     */
    public Report compose(Kind kind, String queueId, String to, Original original, List<Failure> failures,
                          boolean headersOnly, Instant now) {
        byte[] returned = returned(original, headersOnly);
        boolean eightBit = hasEightBit(returned);
        String cte = eightBit ? "8bit" : "7bit";
        String boundary = boundary(queueId + "." + now.getEpochSecond() + "/" + myhostname, returned);
        String messageId = "<" + queueId + "@" + myhostname + ">";

        StringBuilder head = new StringBuilder();
        field(head, "Date", DATE.format(now));
        field(head, "From", "MAILER-DAEMON@" + myhostname + " (Mail Delivery System)");
        field(head, "Subject", switch (kind) {
            case SENDER -> "Undelivered Mail Returned to Sender";
            case POSTMASTER, BOUNCE_COPY -> "Postmaster Copy: Undelivered Mail";
            case DELAY -> "Delayed Mail (still being retried)";
            case DELAY_COPY -> "Postmaster Warning: Delayed Mail";
            case SUCCESS -> "Successful Mail Delivery Report";
        });
        field(head, "To", clean(to));
        // RFC 3834: an automatic response; mail filters and vacation programs do not answer it
        field(head, "Auto-Submitted", "auto-replied");
        field(head, "MIME-Version", "1.0");
        head.append("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"")
                .append(boundary).append("\"\r\n");
        field(head, "Content-Transfer-Encoding", cte);
        field(head, "Message-Id", messageId);
        head.append("\r\n");
        head.append("This is a MIME-encapsulated message.\r\n\r\n");

        head.append("--").append(boundary).append("\r\n");
        field(head, "Content-Description", "Notification");
        field(head, "Content-Type", "text/plain; charset=us-ascii");
        head.append("\r\n");
        explanation(head, kind, original, failures);
        head.append("\r\n");

        head.append("--").append(boundary).append("\r\n");
        field(head, "Content-Description", "Delivery report");
        field(head, "Content-Type", "message/delivery-status");
        head.append("\r\n");
        deliveryStatus(head, kind, original, failures, now);

        head.append("--").append(boundary).append("\r\n");
        if (headersOnly) {
            field(head, "Content-Description", switch (kind) {
                case DELAY, DELAY_COPY -> "Delayed Message Headers";
                case SUCCESS -> "Message Headers";
                default -> "Undelivered Message Headers";
            });
            field(head, "Content-Type", "text/rfc822-headers");
        } else {
            field(head, "Content-Description", kind == Kind.SUCCESS ? "Message" : "Undelivered Message");
            field(head, "Content-Type", "message/rfc822");
        }
        field(head, "Content-Transfer-Encoding", cte);
        head.append("\r\n");

        ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + returned.length + 128);
        out.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(returned);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return new Report(out.toByteArray(), eightBit, messageId);
    }

    /**
     * errorNotice - a plain-text notice for the postmaster that a message was moved to the
     * corrupt queue (notify_classes resource or software): queue id, sender, reason, and the
     * message's header as far as it could be read, every line cleaned to printable US-ASCII
     * and the whole cut to bounce_size_limit.
     */
    public Report errorNotice(String queueId, String to, String aboutId, String sender, String klass, String reason,
                              byte[] header, Instant now) {
        String messageId = "<" + queueId + "@" + myhostname + ">";
        StringBuilder b = new StringBuilder();
        noticeHeader(b, "Postmaster Warning: Message Moved to the Corrupt Queue", clean(to), messageId, now);
        b.append("This is the mail system at host ").append(myhostname).append(".\r\n\r\n")
                .append("A message in the queue could not be read and was moved to the corrupt\r\n")
                .append("queue (a ").append(clean(klass)).append(" problem). It will not be delivered or\r\n")
                .append("retried; it is kept for inspection until it is deleted.\r\n\r\n")
                .append(wrap("Queue ID: " + clean(aboutId))).append("\r\n")
                .append(wrap("Sender: <" + clean(sender) + ">")).append("\r\n")
                .append(wrap("Reason: " + clean(reason))).append("\r\n\r\n");
        String text = new String(header, 0, Math.min(header.length, sizeLimit), StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end >= 0) {
            text = text.substring(0, end);
        }
        if (text.isEmpty()) {
            b.append("The message content could not be read.\r\n");
        } else {
            b.append("The header of the message, as far as it could be read:\r\n\r\n");
            for (String line : text.split("\r?\n")) {
                b.append("    ").append(wrap(clean(line)).replace("\r\n", "\r\n    ")).append("\r\n");
            }
        }
        b.append("\r\n                   The ").append(clean(mailName)).append(" program\r\n");
        return new Report(b.toString().getBytes(StandardCharsets.US_ASCII), false, messageId);
    }

    /**
     * transcriptNotice - notify_classes = protocol: the transcript of a client conversation in
     * which {@code server} gave a reply that suggests a protocol error, to the postmaster, as
     * Postfix's smtp_chat_notify() writes it (Subject "mail_name SMTP client: errors from
     * server"; "LMTP client" for LMTP), the lines wrapped as in smtpd's notices.
     */
    public Report transcriptNotice(String queueId, String to, boolean lmtp, String server, List<String> lines,
                                   Instant now) {
        String messageId = "<" + queueId + "@" + myhostname + ">";
        StringBuilder b = new StringBuilder();
        noticeHeader(b, clean(mailName) + (lmtp ? " LMTP" : " SMTP") + " client: errors from "
                + TranscriptLines.ascii(server), clean(to) + " (Postmaster)", messageId, now);
        b.append("Unexpected response from ").append(TranscriptLines.ascii(server)).append(".\r\n\r\n");
        b.append("Transcript of session follows.\r\n\r\n");
        for (String line : lines) {
            TranscriptLines.wrap(b, line);
        }
        b.append("\r\nFor other details, see the local mail logfile\r\n");
        return new Report(b.toString().getBytes(StandardCharsets.US_ASCII), false, messageId);
    }

    /* noticeHeader - the header of a plain-text postmaster notice, and the empty line after it */
    private void noticeHeader(StringBuilder b, String subject, String to, String messageId, Instant now) {
        field(b, "Date", DATE.format(now));
        field(b, "From", "MAILER-DAEMON@" + myhostname + " (Mail Delivery System)");
        field(b, "Subject", subject);
        field(b, "To", to);
        field(b, "Auto-Submitted", "auto-generated");
        field(b, "MIME-Version", "1.0");
        field(b, "Content-Type", "text/plain; charset=us-ascii");
        field(b, "Content-Transfer-Encoding", "7bit");
        field(b, "Message-Id", messageId);
        b.append("\r\n");
    }

    /** explanation - the human-readable part. */
    private void explanation(StringBuilder b, Kind kind, Original original, List<Failure> failures) {
        b.append("This is the mail system at host ").append(myhostname).append(".\r\n\r\n");
        if (kind == Kind.SUCCESS) {
            b.append("Your message was successfully delivered to the destination(s)\r\n")
                    .append("listed below. If the message was delivered to mailbox you will\r\n")
                    .append("receive no further notifications. Otherwise you may still receive\r\n")
                    .append("notifications of mail delivery errors from other systems.\r\n\r\n");
        } else if (kind == Kind.BOUNCE_COPY || kind == Kind.DELAY_COPY) {
            b.append("This is a copy for the postmaster (notify_classes = ")
                    .append(kind == Kind.BOUNCE_COPY ? "bounce" : "delay").append(") of a notice sent to\r\n")
                    .append("<").append(clean(original.sender())).append(">: the message could not ")
                    .append(kind == Kind.BOUNCE_COPY ? "be delivered" : "be delivered yet").append(" to the\r\n")
                    .append("recipients below. Its header is attached.\r\n\r\n")
                    .append("Queue ID: ").append(original.queueId()).append("\r\n\r\n");
        } else if (kind == Kind.DELAY) {
            b.append("####### THIS IS A WARNING ONLY: YOU NEED NOT SEND YOUR MESSAGE AGAIN #######\r\n\r\n")
                    .append("Your message has not yet been delivered to one or more of its recipients,\r\n")
                    .append("for the reasons given below. Delivery will be tried again until\r\n")
                    .append(DATE.format(original.retryUntil())).append("; if it has not succeeded by\r\n")
                    .append("then, the message will be returned to you.\r\n\r\n");
        } else if (kind == Kind.SENDER) {
            b.append("Your message could not be delivered to one or more of its recipients.\r\n")
                    .append("The reasons are given below, one per recipient; the message itself\r\n")
                    .append("is returned with this report.\r\n\r\n")
                    .append("If you need help, write to the postmaster of this system and include\r\n")
                    .append("this report.\r\n\r\n");
        } else {
            b.append("A delivery status notification sent by this system could not be\r\n")
                    .append("delivered, and it cannot be returned because it has no sender.\r\n")
                    .append("The header of the undeliverable notification is attached.\r\n\r\n")
                    .append("Queue ID: ").append(original.queueId()).append("\r\n\r\n");
        }
        b.append("                   The ").append(clean(mailName)).append(" program\r\n\r\n");
        for (Failure f : failures) {
            String line = "<" + clean(f.address()) + ">: " + (kind == Kind.SUCCESS ? success(f) : reason(f));
            b.append(wrap(line)).append("\r\n");
        }
    }

    /** success - a delivery in words, as Postfix: "delivery via mx[192.0.2.1]:25: 250 2.0.0 Ok". */
    private static String success(Failure f) {
        String reply = clean(f.reply() == null ? "delivered" : f.reply());
        return f.relay() == null || f.relay().isEmpty() || f.relay().equals("none") ? reply
                : "delivery via " + clean(f.relay()) + ": " + reply;
    }

    /** reason - the failure in words, e.g. "host mx[192.0.2.1] said: 550 ...". */
    private static String reason(Failure f) {
        String reply = clean(f.reply() == null ? "delivery failed" : f.reply());
        String diagnostic = reply.startsWith(EXPIRED) ? reply.substring(EXPIRED.length()) : reply;
        String host = remoteHost(f.relay());
        if (host != null && SMTP_REPLY.matcher(diagnostic).matches()) {
            String said = "host " + clean(hostAndAddress(f.relay())) + " said: " + diagnostic;
            return reply.startsWith(EXPIRED) ? EXPIRED + said : said;
        }
        return reply;
    }

    /** deliveryStatus - the message/delivery-status part (RFC 3464 section 2). */
    private void deliveryStatus(StringBuilder b, Kind kind, Original original, List<Failure> failures,
                                Instant now) {
        boolean delayed = kind.delayed();
        boolean success = kind == Kind.SUCCESS;
        // per-message fields, in the order of RFC 3464 section 2.2
        if (original.envid() != null && !original.envid().isEmpty()) {
            field(b, "Original-Envelope-Id", clean(original.envid()));
        }
        field(b, "Reporting-MTA", "dns; " + myhostname);
        field(b, "Arrival-Date", DATE.format(original.arrival()));
        field(b, "X-Postern-Queue-ID", original.queueId());
        field(b, "X-Postern-Sender", "rfc822; " + clean(original.sender()));
        for (Failure f : failures) {
            b.append("\r\n");
            // per-recipient fields, in the order of RFC 3464 section 2.3
            String orcpt = originalRecipient(f.orcpt());
            if (orcpt != null) {
                field(b, "Original-Recipient", orcpt);
            }
            field(b, "Final-Recipient", "rfc822; " + clean(f.address()));
            field(b, "Action", success ? successAction(f.action()) : delayed ? "delayed" : "failed");
            // RFC 3464 section 2.3.4: a success has a 2.x.x status, a delay 4.x.x, a failure 5.x.x
            String klass = success ? "2" : delayed ? "4" : "5";
            field(b, "Status", f.status() != null && DSN_STATUS.matcher(f.status()).matches()
                    ? f.status().replaceFirst("^[245]", klass) : klass + ".0.0");
            String host = remoteHost(f.relay());
            if (host != null) {
                field(b, "Remote-MTA", "dns; " + clean(host));
            }
            String reply = f.reply() == null ? "" : clean(f.reply());
            String diagnostic = reply.startsWith(EXPIRED) ? reply.substring(EXPIRED.length()) : reply;
            if (SMTP_REPLY.matcher(diagnostic).matches()) {
                field(b, "Diagnostic-Code", "smtp; " + diagnostic);
            }
            field(b, "Last-Attempt-Date", DATE.format(now));
            if (delayed && original.retryUntil() != null) {
                field(b, "Will-Retry-Until", DATE.format(original.retryUntil()));
            }
        }
        b.append("\r\n");
    }

    /**
     * successAction - the Action of a success notice: the caller's value when it is one of
     * RFC 3464 section 2.3.3's for a success (delivered, relayed, expanded), else delivered;
     * never text that could end the field or the group.
     */
    static String successAction(String action) {
        return action != null && SUCCESS_ACTIONS.contains(action) ? action : "delivered";
    }

    /**
     * originalRecipient - the Original-Recipient value of an ORCPT parameter: the address
     * type and the address decoded from xtext (RFC 3461 section 4.2), or null.
     */
    static String originalRecipient(String orcpt) {
        if (orcpt == null) {
            return null;
        }
        int semi = orcpt.indexOf(';');
        if (semi <= 0) {
            return null;
        }
        String decoded = Xtext.decode(orcpt.substring(semi + 1));
        String address = decoded != null ? decoded : orcpt.substring(semi + 1);
        return clean(orcpt.substring(0, semi).trim()) + ";" + clean(address);
    }

    /** remoteHost - the host name of a relay as logged ("mx.example.com[192.0.2.1]:25"), or null. */
    static String remoteHost(String relay) {
        if (relay == null || relay.isEmpty() || relay.equals("none")) {
            return null;
        }
        int bracket = relay.indexOf('[');
        String host = bracket < 0 ? relay : relay.substring(0, bracket);
        return host.isEmpty() || host.equals("none") ? null : host;
    }

    /** hostAndAddress - a relay without its port: "mx.example.com[192.0.2.1]". */
    private static String hostAndAddress(String relay) {
        int close = relay.lastIndexOf(']');
        return close < 0 ? relay : relay.substring(0, close + 1);
    }

    /** returned - what goes into the third part: the original cut to the limit, or its header. */
    private byte[] returned(Original original, boolean headersOnly) {
        byte[] c = original.content();
        int len = Math.min(c.length, sizeLimit);
        boolean cut = len < c.length || !original.complete();
        if (headersOnly) {
            if (len >= 2 && c[0] == '\r' && c[1] == '\n') {
                return new byte[0]; // an empty header section: the first line is the body's
            }
            int end = indexOf(c, len, new byte[] {'\r', '\n', '\r', '\n'});
            if (end >= 0) {
                return java.util.Arrays.copyOf(c, end + 2);
            }
            cut = true;
        }
        if (cut) {
            // end on a complete line: a part never ends in the middle of a line
            int lastLf = -1;
            for (int i = len - 1; i >= 0; i--) {
                if (c[i] == '\n') {
                    lastLf = i;
                    break;
                }
            }
            len = lastLf + 1;
        }
        byte[] r = java.util.Arrays.copyOf(c, len);
        return r;
    }

    /**
     * boundary - Postfix's boundary (queue id, time, host name), unless the returned content
     * holds it after "--": the content is the sender's, and a line of it that starts with the
     * delimiter would end the report's last part early for every MIME parser (the queue id
     * and the time can be guessed). Then ".1", ".2", ... is appended until it does not.
     */
    static String boundary(String base, byte[] returned) {
        String b = base;
        for (int n = 1; indexOf(returned, returned.length, ("--" + b).getBytes(StandardCharsets.US_ASCII)) >= 0; n++) {
            b = base + "." + n;
        }
        return b;
    }

    private static int indexOf(byte[] data, int len, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= len; i++) {
            for (int j = 0; j < what.length; j++) {
                if (data[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static boolean hasEightBit(byte[] data) {
        for (byte b : data) {
            if (b < 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * clean - printable US-ASCII on one line: line breaks become spaces (a multi-line
     * reply reads as one), other control and non-ASCII characters become '?'.
     */
    static String clean(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        boolean lastSpace = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r' || c == '\n' || c == '\t') {
                if (!lastSpace) {
                    b.append(' ');
                    lastSpace = true;
                }
                continue;
            }
            b.append(c >= 0x20 && c < 0x7F ? c : '?');
            lastSpace = c == ' ';
        }
        return b.toString().trim();
    }

    /** field - "Name: value" folded at spaces so that lines stay short (RFC 5322 section 2.2.3). */
    private static void field(StringBuilder b, String name, String value) {
        b.append(fold(name + ": " + value)).append("\r\n");
    }

    private static String fold(String line) {
        if (line.length() <= FOLD_AT) {
            return line;
        }
        StringBuilder out = new StringBuilder(line.length() + 16);
        int start = 0;
        while (line.length() - start > FOLD_AT) {
            int cut = line.lastIndexOf(' ', start + FOLD_AT);
            if (cut <= start) {
                cut = line.indexOf(' ', start + FOLD_AT);
                if (cut < 0 || cut - start > WORD_AT) {
                    if (line.length() - start <= WORD_AT) {
                        break;
                    }
                    // a word longer than a line may be (a hostile reply or address): broken
                    // inside, within RFC 5322's 998 octets, rather than sent as a longer line
                    out.append(line, start, start + WORD_AT).append("\r\n\t");
                    start += WORD_AT;
                    continue;
                }
            }
            out.append(line, start, cut).append("\r\n\t");
            start = cut + 1;
        }
        return out.append(line, start, line.length()).toString();
    }

    /** wrap - body text broken at spaces into lines of readable length. */
    private static String wrap(String text) {
        return fold(text).replace("\r\n\t", "\r\n    ");
    }
}
