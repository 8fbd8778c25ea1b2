package org.postern.smtp.api;

import java.util.List;
import java.util.Set;

/**
 * DeliveryOutcome - what happened to each recipient of one {@link OutboundMessage}.
 *
 * @param relay      the peer as Postfix logs it, e.g. {@code mx.example.com[192.0.2.1]:25},
 *                   {@code 127.0.0.1[127.0.0.1]:24}, {@code private/dovecot-lmtp} or
 *                   {@code none} when no connection was made
 * @param recipients one outcome per recipient, in the order given
 * @param delays     Postfix's delays= parts c (connection set-up) and d (transmission), seconds
 * @param tls        when this delivery established a TLS session: Postfix's line, e.g.
 *                   {@code Verified TLS connection established to mx[192.0.2.1]:25: TLSv1.3 with
 *                   cipher TLS_AES_128_GCM_SHA256}; null otherwise (plaintext, or a cached session)
 * @param dsnRelays  the servers of this delivery (as in {@code relay}, or a recipient's own relay)
 *                   whose EHLO/LHLO reply announced DSN: NOTIFY and ORCPT were passed on to them, so a
 *                   NOTIFY=SUCCESS recipient they accepted is theirs to report (RFC 3461 section 4.1);
 *                   a recipient accepted by any other server was "relayed" (or, for LMTP, "delivered")
 * @param siteFailure true when no session could be set up with the destination (lookup, connect,
 *                   greeting, EHLO/HELO/LHLO, STARTTLS or AUTH failed) and every recipient carries
 *                   that one failure: Postfix's site failure, which marks the destination dead for a
 *                   while; false when a server was reached, whatever it answered
 * @param transcript  with notify_classes = protocol, the conversation of a delivery in which a
 *                   server gave a reply that suggests a protocol error (Postfix's smtp_check_code:
 *                   a code outside 4xx/5xx where a failure is reported, 500-509, or 555), for the
 *                   postmaster; null otherwise
 */
public record DeliveryOutcome(String relay, List<RecipientOutcome> recipients,
                              double connectSeconds, double transmitSeconds, String tls,
                              Set<String> dsnRelays, boolean siteFailure, Transcript transcript) {

    public DeliveryOutcome {
        dsnRelays = dsnRelays == null ? Set.of() : Set.copyOf(dsnRelays);
    }

    /** DeliveryOutcome - without a transcript for the postmaster. */
    public DeliveryOutcome(String relay, List<RecipientOutcome> recipients, double connectSeconds,
                           double transmitSeconds, String tls, Set<String> dsnRelays, boolean siteFailure) {
        this(relay, recipients, connectSeconds, transmitSeconds, tls, dsnRelays, siteFailure, null);
    }

    /**
     * Transcript - a client conversation for the postmaster (notify_classes = protocol).
     *
     * @param server the server whose reply was the protocol error, name[address]:port (name[/path] for a
     *               unix-domain socket)
     * @param lines  "Out: command" and "In:  reply" lines, AUTH credentials masked, at most
     *               {@link #LIMIT}
     */
    public record Transcript(String server, List<String> lines) implements java.io.Serializable {
        /** the most lines a transcript keeps */
        public static final int LIMIT = 1000;

        public Transcript {
            lines = List.copyOf(lines);
        }
    }

    /** DeliveryOutcome - without DSN-aware servers and without a site failure. */
    public DeliveryOutcome(String relay, List<RecipientOutcome> recipients, double connectSeconds,
                           double transmitSeconds, String tls) {
        this(relay, recipients, connectSeconds, transmitSeconds, tls, Set.of(), false);
    }

    /** DeliveryOutcome - without a TLS session established for this delivery. */
    public DeliveryOutcome(String relay, List<RecipientOutcome> recipients, double connectSeconds,
                           double transmitSeconds) {
        this(relay, recipients, connectSeconds, transmitSeconds, null);
    }

    /** dsnAware - the server that took a recipient with this relay announced DSN. */
    public boolean dsnAware(String server) {
        return server != null && dsnRelays.contains(server);
    }

    public enum Status {
        /** the peer accepted the recipient (2xx) */
        SENT,
        /** temporary failure: 4xx, connection or protocol failure; try again later */
        DEFERRED,
        /** permanent failure: 5xx */
        BOUNCED
    }

    /**
     * RecipientOutcome - one recipient's result.
     *
     * @param address recipient address
     * @param status  SENT, DEFERRED or BOUNCED
     * @param dsn     enhanced status code, e.g. 2.0.0, 4.4.1, 5.1.1
     * @param reply   the text logged in parentheses after status=, e.g.
     *                {@code 250 2.0.0 Ok: queued as ABC} or
     *                {@code connect to 127.0.0.1[127.0.0.1]:25: Connection refused} or
     *                {@code host x[1.2.3.4] said: 450 4.2.0 busy (in reply to RCPT TO command)}
     * @param relay   the server that gave this outcome when it is not the delivery's relay
     *                (a recipient deferred by one MX and taken by the next); null: the delivery's
     */
    public record RecipientOutcome(String address, Status status, String dsn, String reply, String relay) {

        /** RecipientOutcome - with the relay of the whole delivery. */
        public RecipientOutcome(String address, Status status, String dsn, String reply) {
            this(address, status, dsn, reply, null);
        }

        /** withRelay - the same outcome, from this server. */
        public RecipientOutcome withRelay(String server) {
            return new RecipientOutcome(address, status, dsn, reply, server);
        }
    }
}
