package org.postern.events;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;
import org.postern.queue.DeliveryEventRow;
import org.postern.queue.RecipientStatus;

/**
 * DeliveryEvent - one recipient's outcome as a CloudEvents 1.0 event, in the structured
 * content mode (the whole event is one JSON document).
 *
 * <h2>DESCRIPTION</h2>
 * The attributes: specversion "1.0"; id, a random UUID, unique per event (a consumer that
 * receives an event twice recognises it by its id); source {@code postern://<myhostname>};
 * type {@code org.postern.delivery.delivered}, {@code .deferred}, {@code .bounced} or
 * {@code .expired}; subject, the recipient; time, when the outcome was recorded (RFC 3339,
 * UTC); datacontenttype {@code application/json}. The data: queue_id, message_id (the
 * Message-ID header, null when the message has none), recipient, original_recipient (the
 * DSN ORCPT address, null when none was given), status (the mail log's: sent, deferred,
 * bounced, expired), dsn (the enhanced status code), reply (the server's reply or
 * Postern's reason, as in the mail log), relay (as in the mail log) and delay (seconds
 * since the message arrived).
 *
 * <p>The document is plain ASCII: every character outside printable ASCII, and the
 * quotes and backslash, is written as a JSON escape, so that a hostile reply text or
 * address can never end the string, add a member or carry a byte that a database or a
 * consumer refuses (NUL, a lone surrogate). Long values are cut (see the limits below)
 * so that an event always fits its row ({@link DeliveryEventRow#MAX_EVENT}).
 *
 * <h2>SEE ALSO</h2>
 * CloudEvents specification 1.0.2 and its JSON event format; RFC 8259 (JSON); RFC 3464
 * (status codes, ORCPT); {@link EventPublisher}.
 */
public record DeliveryEvent(String id, Instant time, String source, String queueId, String messageId,
                            String recipient, String originalRecipient, String status, String dsn, String reply,
                            String relay, double delay) {

    /** the prefix of every event type */
    public static final String TYPE_PREFIX = "org.postern.delivery.";
    /** the longest reply text kept, in characters; a multi-line reply is rarely a tenth of it */
    static final int MAX_REPLY = 4096;
    /** the longest address or relay kept (the queue's own column bound) */
    static final int MAX_ADDRESS = 1024;
    /** the longest Message-ID kept (RFC 5322 line length) */
    static final int MAX_MESSAGE_ID = 998;

    /**
     * of - the event of a recipient outcome recorded now: a new id, source from
     * myhostname, status as the mail log writes it.
     */
    public static DeliveryEvent of(String myhostname, Instant now, Instant arrival, String queueId, String messageId,
                                   String recipient, String orcpt, RecipientStatus status, String dsn, String reply,
                                   String relay) {
        double delay = arrival == null ? 0 : Math.max(0, Duration.between(arrival, now).toNanos() / 1e9);
        return new DeliveryEvent(newId(), now, "postern://" + myhostname, queueId,
                cut(messageId, MAX_MESSAGE_ID), cut(recipient, MAX_ADDRESS), cut(originalAddress(orcpt), MAX_ADDRESS),
                status(status, reply), dsn, cut(reply, MAX_REPLY), cut(relay, MAX_ADDRESS), delay);
    }

    /**
     * newId - a random (version 4) UUID. Uniqueness is all an event id needs, not secrecy:
     * ThreadLocalRandom costs no lock on the delivery threads, where UUID.randomUUID's
     * SecureRandom would serialize them.
     */
    static String newId() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        long hi = (r.nextLong() & ~0xf000L) | 0x4000L;
        long lo = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(hi, lo).toString();
    }

    /**
     * status - the mail log's word for an outcome: sent, deferred, bounced, or expired (a
     * bounce whose reason is the queue lifetime, "message expired: ...").
     */
    public static String status(RecipientStatus s, String reply) {
        return switch (s) {
            case SENT -> "sent";
            case BOUNCED -> reply != null && reply.startsWith("message expired") ? "expired" : "bounced";
            default -> "deferred";
        };
    }

    /** type - the CloudEvents type of a mail log status. */
    public static String type(String status) {
        return TYPE_PREFIX + ("sent".equals(status) ? "delivered" : status);
    }

    /** type - this event's CloudEvents type. */
    public String type() {
        return type(status);
    }

    /** json - the event as a CloudEvents JSON document (structured mode), one line of ASCII. */
    public String json() {
        StringBuilder b = new StringBuilder(512 + (reply == null ? 0 : reply.length()));
        b.append('{');
        member(b, "specversion", "1.0").append(',');
        member(b, "id", id).append(',');
        member(b, "source", source).append(',');
        member(b, "type", type()).append(',');
        member(b, "subject", recipient).append(',');
        member(b, "time", time.toString()).append(',');
        member(b, "datacontenttype", "application/json").append(',');
        b.append("\"data\":{");
        member(b, "queue_id", queueId).append(',');
        member(b, "message_id", messageId).append(',');
        member(b, "recipient", recipient).append(',');
        member(b, "original_recipient", originalRecipient).append(',');
        member(b, "status", status).append(',');
        member(b, "dsn", dsn).append(',');
        member(b, "reply", reply).append(',');
        member(b, "relay", relay).append(',');
        b.append("\"delay\":").append(String.format(Locale.ROOT, "%.3f", delay));
        return b.append("}}").toString();
    }

    /** row - the outbox row of this event. */
    public DeliveryEventRow row() {
        return new DeliveryEventRow(id, time, queueId, status, json());
    }

    /* member - "name":"value" (or null) */
    private static StringBuilder member(StringBuilder b, String name, String value) {
        b.append('"').append(name).append("\":");
        if (value == null) {
            return b.append("null");
        }
        return quote(b, value);
    }

    /**
     * quote - a JSON string of the value (RFC 8259 section 7): printable ASCII as it is,
     * the quote and backslash escaped, every other character as a \\u escape (control
     * characters, NUL, non-ASCII, lone surrogates), so the document is ASCII whatever the
     * value holds.
     */
    static StringBuilder quote(StringBuilder b, String value) {
        b.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            } else {
                b.append("\\u").append(Character.forDigit(c >> 12 & 0xf, 16)).append(Character.forDigit(c >> 8 & 0xf, 16))
                        .append(Character.forDigit(c >> 4 & 0xf, 16)).append(Character.forDigit(c & 0xf, 16));
            }
        }
        return b.append('"');
    }

    /** originalAddress - the address of an ORCPT parameter (rfc822;addr), or null. */
    static String originalAddress(String orcpt) {
        if (orcpt == null || orcpt.isEmpty()) {
            return null;
        }
        int semi = orcpt.indexOf(';');
        return semi < 0 ? orcpt : orcpt.substring(semi + 1);
    }

    /** cut - the value, at most max characters, never ending in half a surrogate pair. */
    static String cut(String value, int max) {
        if (value == null || value.length() <= max) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(max - 1)) ? max - 1 : max;
        return value.substring(0, end);
    }
}
