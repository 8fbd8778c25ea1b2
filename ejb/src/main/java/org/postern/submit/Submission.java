package org.postern.submit;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.postern.mail.AddressSyntaxException;
import org.postern.mail.DsnParameters;
import org.postern.mail.MailAddress;
import org.postern.mail.Xtext;
import org.postern.smtpd.api.Envelope;

/**
 * Submission - a JMS message of the submission queue read as mail: the envelope from its
 * properties, the content from its body, each checked as smtpd checks the same things.
 *
 * <h2>DESCRIPTION</h2>
 * The properties (strings; a property of another type is read as its string form):
 * <dl>
 * <dt>{@value #SENDER}</dt><dd>required: the envelope sender, {@code a@b} or {@code <a@b>};
 * {@code ""} or {@code <>} is the null sender.</dd>
 * <dt>{@value #RECIPIENTS}</dt><dd>required: one or more recipients separated by commas
 * and/or white space, each {@code a@b} or {@code <a@b>}; at most jms_recipient_limit.</dd>
 * <dt>{@value #NOTIFY}</dt><dd>optional: RFC 3461 NOTIFY for every recipient (NEVER, or
 * SUCCESS,FAILURE,DELAY).</dd>
 * <dt>{@value #ORCPT}</dt><dd>optional: one ORCPT per recipient, in the same order,
 * separated by white space: {@code rfc822;xtext} as in RCPT TO, or a plain address that
 * becomes {@code rfc822;address}.</dd>
 * <dt>{@value #RET}</dt><dd>optional: FULL or HDRS.</dd>
 * <dt>{@value #ENVID}</dt><dd>optional: the envelope id, 1 to 100 printable ASCII
 * characters, as is (not xtext).</dd>
 * </dl>
 * The body is the message as RFC 5322 bytes. Lines may end in CRLF or LF (a bare LF
 * becomes CRLF, as sendmail(1) input does in Postfix's queue file); a NUL byte is refused.
 * The header must come first: every line up to the first empty one is a header field
 * ({@code name: value}) or the continuation of one. 8-bit bytes make the message
 * BODY=8BITMIME; in the header they must be UTF-8, and make it SMTPUTF8 (RFC 6532), as
 * does a non-ASCII address. message_size_limit bounds the body as received.
 *
 * <p>The stored content is, as Postfix's pickup(8) and cleanup(8) make it for mail
 * submitted locally: a Received: header naming the queue, then the message, with
 * Message-Id:, Date: and (for a sender that is not null) From: added at the end of the
 * header when the message has none.
 *
 * <h2>DIAGNOSTICS</h2>
 * Every refusal is a {@link Rejection} whose reply is the one smtpd gives for the same
 * fault where smtpd has one (501 5.1.7 Bad sender address syntax, 552 5.3.4 Message size
 * exceeds fixed limit, 452 4.5.3 Error: too many recipients, ...).
 *
 * <h2>SEE ALSO</h2>
 * SubmitEndpoint, README.md "Submitting mail over JMS", RFC 3461, RFC 6532
 */
public final class Submission {
    /** the envelope sender property */
    public static final String SENDER = "postern_sender";
    /** the recipients property */
    public static final String RECIPIENTS = "postern_recipients";
    /** the NOTIFY property */
    public static final String NOTIFY = "postern_notify";
    /** the ORCPT property */
    public static final String ORCPT = "postern_orcpt";
    /** the RET property */
    public static final String RET = "postern_ret";
    /** the ENVID property */
    public static final String ENVID = "postern_envid";

    /** the queue's name, as the Received: header and the log have it */
    public static final String QUEUE = "postern.submit";
    /** the protocol of the queue row and of XFORWARD PROTO */
    public static final String PROTOCOL = "JMS";
    /** the service of the queue row */
    public static final String SERVICE = "jms";

    static final String BAD_SENDER = "501 5.1.7 Bad sender address syntax";
    static final String NO_SENDER = "501 5.1.7 Missing " + SENDER + " property";
    static final String BAD_RECIPIENT = "501 5.1.3 Bad recipient address syntax";
    static final String NO_RECIPIENTS = "554 5.5.1 Error: no valid recipients";
    static final String TOO_MANY_RCPT = "452 4.5.3 Error: too many recipients";
    static final String BAD_NOTIFY = "501 5.5.4 Error: Bad NOTIFY parameter syntax";
    static final String BAD_ORCPT = "501 5.5.4 Error: Bad ORCPT parameter syntax";
    static final String ORCPT_COUNT = "501 5.5.4 Error: " + ORCPT + " needs one value per recipient";
    static final String BAD_RET = "501 5.5.4 Bad RET parameter syntax";
    static final String BAD_ENVID = "501 5.5.4 Bad ENVID parameter syntax";
    static final String SIZE_EXCEEDS = "552 5.3.4 Message size exceeds fixed limit";
    static final String NOT_BYTES = "554 5.6.0 Error: the message body is not a BytesMessage";
    static final String EMPTY = "554 5.6.0 Error: empty message";
    static final String NUL = "554 5.6.0 Error: message content contains a NUL character";
    static final String BAD_HEADER = "554 5.6.0 Error: malformed message header";
    static final String HEADER_NOT_UTF8 = "554 5.6.7 Error: 8-bit message header is not UTF-8";

    private static final DateTimeFormatter MAIL_DATE =
            DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z (z)", Locale.ENGLISH);
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT);

    private final Envelope envelope;
    private final byte[] content;

    private Submission(Envelope envelope, byte[] content) {
        this.envelope = envelope;
        this.content = content;
    }

    /** envelope - the envelope as the queue stores it. */
    public Envelope envelope() {
        return envelope;
    }

    /** content - the content as the queue stores it: Received:, the message, added headers. */
    public byte[] content() {
        return content;
    }

    /** Limits - what bounds a submission: message_size_limit, jms_recipient_limit (0: none), myhostname, mail_name. */
    public record Limits(long sizeLimit, int recipientLimit, String myhostname, String mailName) {
    }

    /**
     * sender - the envelope sender of the properties: "" for the null sender.
     *
     * @throws Rejection when it is missing or not an address
     */
    public static String sender(Function<String, String> property) throws Rejection {
        String s = property.apply(SENDER);
        if (s == null) {
            throw new Rejection(NO_SENDER);
        }
        s = unbracket(s.strip());
        if (s.isEmpty()) {
            return "";
        }
        try {
            return MailAddress.parse(s).toString();
        } catch (AddressSyntaxException e) {
            throw new Rejection(BAD_SENDER);
        }
    }

    /**
     * read - the submission of a message: the properties (by name, null when absent), the
     * body (null when the message is not a BytesMessage), the queue id and arrival time
     * that the caller chose for it.
     *
     * @throws Rejection when the message is malformed or past a limit
     */
    public static Submission read(Function<String, String> property, byte[] body, String queueId, Instant arrival,
                                  Limits limits) throws Rejection {
        String sender = sender(property);
        Map<String, String> params = new LinkedHashMap<>();
        List<Envelope.Recipient> recipients = recipients(property, limits.recipientLimit());
        String ret = property.apply(RET);
        if (ret != null) {
            if (!DsnParameters.validRet(ret.strip())) {
                throw new Rejection(BAD_RET);
            }
            params.put("RET", ret.strip().toUpperCase(Locale.ROOT));
        }
        String envid = property.apply(ENVID);
        if (envid != null) {
            if (!DsnParameters.validEnvid(envid)) {
                throw new Rejection(BAD_ENVID);
            }
            params.put("ENVID", envid);
        }
        if (body == null) {
            throw new Rejection(NOT_BYTES);
        }
        if (limits.sizeLimit() > 0 && body.length > limits.sizeLimit()) {
            throw new Rejection(SIZE_EXCEEDS);
        }
        if (body.length == 0) {
            throw new Rejection(EMPTY);
        }
        byte[] message = crlf(body);
        int headerEnd = checkHeader(message);
        boolean utf8 = !isAscii(message, 0, headerEnd) || !isAscii(sender)
                || recipients.stream().anyMatch(r -> !isAscii(r.address()));
        if (!isAscii(message, headerEnd, message.length)) {
            params.put("BODY", "8BITMIME");
        }
        if (utf8) {
            params.put("SMTPUTF8", "");
        }
        byte[] content = compose(message, headerEnd, sender, queueId, arrival, limits);
        if (limits.sizeLimit() > 0 && content.length > limits.sizeLimit()) {
            throw new Rejection(SIZE_EXCEEDS);
        }
        Envelope env = new Envelope(queueId, sender, params, recipients, null, null, 0, null, PROTOCOL, SERVICE,
                arrival, content.length);
        return new Submission(env, content);
    }

    /* recipients - postern_recipients with postern_notify and postern_orcpt */
    private static List<Envelope.Recipient> recipients(Function<String, String> property, int limit)
            throws Rejection {
        String list = property.apply(RECIPIENTS);
        List<String> addresses = new ArrayList<>();
        if (list != null) {
            for (String word : list.split("[,\\s]+")) {
                if (word.isEmpty()) {
                    continue;
                }
                String a = unbracket(word);
                if (a.isEmpty()) {
                    throw new Rejection(BAD_RECIPIENT);
                }
                try {
                    addresses.add(MailAddress.parse(a).toString());
                } catch (AddressSyntaxException e) {
                    throw new Rejection(BAD_RECIPIENT);
                }
                // bound the recipients per message: qmail-dos-2
                if (limit > 0 && addresses.size() > limit) {
                    throw new Rejection(TOO_MANY_RCPT);
                }
            }
        }
        if (addresses.isEmpty()) {
            throw new Rejection(NO_RECIPIENTS);
        }
        String notify = property.apply(NOTIFY);
        if (notify != null) {
            notify = notify.strip().toUpperCase(Locale.ROOT);
            if (!DsnParameters.validNotify(notify)) {
                throw new Rejection(BAD_NOTIFY);
            }
        }
        String orcptList = property.apply(ORCPT);
        List<String> orcpts = new ArrayList<>();
        if (orcptList != null && !orcptList.isBlank()) {
            for (String word : orcptList.strip().split("\\s+")) {
                String o = word.indexOf(';') > 0 ? word : "rfc822;" + Xtext.encode(unbracket(word));
                if (!DsnParameters.validOrcpt(o)) {
                    throw new Rejection(BAD_ORCPT);
                }
                orcpts.add(o);
            }
            if (orcpts.size() != addresses.size()) {
                throw new Rejection(ORCPT_COUNT);
            }
        }
        List<Envelope.Recipient> out = new ArrayList<>(addresses.size());
        for (int i = 0; i < addresses.size(); i++) {
            out.add(new Envelope.Recipient(addresses.get(i), orcpts.isEmpty() ? null : orcpts.get(i), notify));
        }
        return out;
    }

    /* unbracket - a@b from <a@b> */
    private static String unbracket(String s) {
        return s.length() >= 2 && s.startsWith("<") && s.endsWith(">") ? s.substring(1, s.length() - 1).strip() : s;
    }

    /*
     * crlf - every line ended by CRLF: a bare LF becomes CRLF, a last line without an end
     * gets one; a NUL is refused (Postfix's cleanup would keep it, most receivers do not)
     */
    static byte[] crlf(byte[] in) throws Rejection {
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + in.length / 40 + 2);
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b == 0) {
                throw new Rejection(NUL);
            }
            if (b == '\n' && (i == 0 || in[i - 1] != '\r')) {
                out.write('\r');
            }
            out.write(b);
        }
        byte[] r = out.toByteArray();
        if (r.length < 2 || r[r.length - 2] != '\r' || r[r.length - 1] != '\n') {
            ByteArrayOutputStream o = new ByteArrayOutputStream(r.length + 2);
            o.writeBytes(r);
            o.write('\r');
            o.write('\n');
            r = o.toByteArray();
        }
        return r;
    }

    /*
     * checkHeader - the header is a sequence of fields (name ":" value, continued by lines
     * that start with white space) ending at the first empty line or at the end; returns
     * the offset just past the header's last CRLF. 8-bit text in it must be UTF-8.
     */
    static int checkHeader(byte[] m) throws Rejection {
        int pos = 0;
        boolean first = true;
        while (pos < m.length) {
            int eol = indexOfCrlf(m, pos);
            if (eol == pos) {
                break; // the empty line that ends the header
            }
            if (m[pos] == ' ' || m[pos] == '\t') {
                if (first) {
                    throw new Rejection(BAD_HEADER + ": first line is a continuation");
                }
            } else {
                int i = pos;
                while (i < eol && m[i] >= 33 && m[i] <= 126 && m[i] != ':') {
                    i++;
                }
                int name = i;
                while (i < eol && (m[i] == ' ' || m[i] == '\t')) {
                    i++; // obsolete syntax, RFC 5322 4.5.3: white space before the colon
                }
                if (name == pos || i == eol || m[i] != ':') {
                    throw new Rejection(BAD_HEADER + ": line " + lineNumber(m, pos) + " is not a header field");
                }
            }
            first = false;
            pos = eol + 2;
        }
        if (first) {
            throw new Rejection(BAD_HEADER + ": the message has no header");
        }
        if (!isAscii(m, 0, pos)) {
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(m, 0, pos));
            } catch (CharacterCodingException e) {
                throw new Rejection(HEADER_NOT_UTF8);
            }
        }
        return pos;
    }

    private static int lineNumber(byte[] m, int pos) {
        int n = 1;
        for (int i = 0; i < pos; i++) {
            if (m[i] == '\n') {
                n++;
            }
        }
        return n;
    }

    private static int indexOfCrlf(byte[] m, int from) {
        for (int i = from; i + 1 < m.length; i++) {
            if (m[i] == '\r' && m[i + 1] == '\n') {
                return i;
            }
        }
        return m.length; // crlf() ended the message with CRLF: not reached
    }

    /*
     * compose - Received: by MYHOSTNAME (MAIL_NAME, from JMS queue postern.submit) id QUEUEID;
     * DATE, then the message with Message-Id:, Date: and From: added at the end of the
     * header when it has none (Postfix's cleanup for local submissions)
     */
    private static byte[] compose(byte[] m, int headerEnd, String sender, String queueId, Instant arrival,
                                  Limits limits) {
        ZonedDateTime when = arrival.atZone(ZoneId.systemDefault());
        String received = "Received: by " + limits.myhostname() + " (" + limits.mailName() + ", from JMS queue "
                + QUEUE + ")\r\n\tid " + queueId + "; " + MAIL_DATE.format(when) + "\r\n";
        String header = new String(m, 0, headerEnd, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        StringBuilder added = new StringBuilder();
        if (!hasField(header, "message-id")) {
            added.append("Message-Id: <").append(ID_TIME.format(when)).append('.').append(queueId).append('@')
                    .append(limits.myhostname()).append(">\r\n");
        }
        if (!hasField(header, "date")) {
            added.append("Date: ").append(MAIL_DATE.format(when)).append("\r\n");
        }
        if (!hasField(header, "from") && !sender.isEmpty()) {
            added.append("From: <").append(sender).append(">\r\n");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(m.length + received.length() + added.length());
        out.writeBytes(received.getBytes(StandardCharsets.UTF_8));
        out.write(m, 0, headerEnd);
        out.writeBytes(added.toString().getBytes(StandardCharsets.UTF_8));
        out.write(m, headerEnd, m.length - headerEnd);
        return out.toByteArray();
    }

    private static boolean hasField(String lowerHeader, String name) {
        return lowerHeader.startsWith(name + ":") || lowerHeader.contains("\r\n" + name + ":");
    }

    private static boolean isAscii(byte[] m, int from, int to) {
        for (int i = from; i < to; i++) {
            if (m[i] < 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 128);
    }
}
