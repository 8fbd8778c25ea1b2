package org.postern.bounce;

import org.postern.config.Parameters;
import jakarta.persistence.EntityManager;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.queue.ContentChunk;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.service.MailLog;
import org.postern.smtpd.api.QueueIds;

/**
 * BounceNotifier - queues the notices that one delivery round owes: non-delivery reports,
 * delay warnings, success notices and the postmaster's notices (Postfix's bounce(8): the
 * "bounce", "defer" and "trace" services).
 *
 * <h2>DESCRIPTION</h2>
 * Called by the queue manager inside the transaction that records the outcomes, so that a
 * notice is queued if and only if what it reports is recorded: a crash cannot lose a
 * report nor send one for a recipient that is still in the queue. A notice is an ordinary
 * queued message (state INCOMING, due now) that the caller wakes after the commit.
 * <ul>
 * <li>A message with a sender: a report from the null sender to the sender, for the
 * recipients whose NOTIFY asks for failures (absent NOTIFY means FAILURE,DELAY;
 * NOTIFY=NEVER means no report), carrying ENVID and ORCPT, returning the header
 * (RET=HDRS) or the whole message (RET=FULL or none; Postfix's default). With
 * notify_classes = bounce, the postmaster (bounce_notice_recipient) gets a copy with the
 * header only ("Postmaster Copy: Undelivered Mail").</li>
 * <li>A bounce (null sender) that bounced: with notify_classes 2bounce (or bounce), a
 * postmaster notice ("double bounce") to 2bounce_notice_recipient, from
 * double_bounce_sender, with the bounce's header; without, it is discarded, as Postfix
 * discards it (PSTN5103 in the server log, nothing in the mail log).</li>
 * <li>A postmaster notice (sender double_bounce_sender) that bounced: logged and
 * discarded, so that notices never loop.</li>
 * </ul>
 * The mail log gets Postfix's lines: "&lt;id&gt;: sender non-delivery notification: &lt;new id&gt;",
 * "postmaster non-delivery notification", "warning: &lt;id&gt;: undeliverable postmaster
 * notification discarded",
 * "sender delay notification", "sender delivery status notification".
 *
 * <p>Delay warnings ({@link #delayWarning}): once per message, in the round that is the
 * first after delay_warning_time, to the sender, about the recipients deferred in that
 * round whose NOTIFY asks for delays; headers only, Action: delayed, Will-Retry-Until.
 * With notify_classes = delay the postmaster (delay_notice_recipient) gets a copy
 * ("Postmaster Warning: Delayed Mail").
 *
 * <p>Success notices ({@link #success}): for recipients sent in the round whose NOTIFY has
 * SUCCESS and whose next hop did not take NOTIFY over (it announced no DSN): "Successful
 * Mail Delivery Report" to the sender, from the null sender, Action delivered or relayed,
 * the header returned (the whole message for RET=FULL). Never to the null sender.
 *
 * <p>Error notices ({@link #errorNotice}): a message moved to the corrupt queue is told to
 * error_notice_recipient when notify_classes has its class: resource (content lost from
 * storage) or software (an envelope that cannot be).
 *
 * <h2>SECURITY</h2>
 * Reads only the queue; the report's text fields are cleaned by {@link DsnComposer}.
 * A report is never larger than bounce_size_limit plus the report itself. Notices from
 * double_bounce_sender are never reported about, so that no notice loops.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * myhostname, myorigin, mail_name, bounce_size_limit (50000), notify_classes (resource,
 * software; the queue honours bounce, 2bounce, delay, resource and software),
 * bounce_notice_recipient, 2bounce_notice_recipient, delay_notice_recipient,
 * error_notice_recipient (all postmaster), double_bounce_sender (double-bounce),
 * delay_warning_time (0h: off), maximal_queue_lifetime (5d, for Will-Retry-Until).
 *
 * <h2>BUGS</h2>
 * The corrupt-queue notice is Postern's own (Postfix's qmgr only logs the move); its text
 * is plain, not a DSN. notify_classes policy and data are smtpd's, not the queue's;
 * protocol is smtpd's and, for the transcripts of the SMTP/LMTP client, queued here
 * ({@link #protocolNotice}). The client's transcript covers one delivery request, all the
 * servers it tried, where Postfix sends one per server session.
 */
public final class BounceNotifier {
    private static final Logger LOG = Logger.getLogger("org.postern.bounce");

    private final EntityManager em;
    private final Config config;

    /** BounceNotifier - working in the caller's transaction, with this configuration. */
    public BounceNotifier(EntityManager em, Config config) {
        this.em = em;
        this.config = config;
    }

    /**
     * notify - queue the report for {@code bounced}, recipients of {@code m} that this round
     * bounced, and the postmaster's copy when notify_classes asks for it; returns the queue
     * ids of what was queued (none when no report is due).
     */
    public List<String> notify(QueuedMessage m, List<QueuedRecipient> bounced, Instant now) {
        if (bounced.isEmpty()) {
            return List.of();
        }
        String sender = m.getSender();
        String doubleBounceSender = qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER));
        if (sender.equalsIgnoreCase(doubleBounceSender)
                || sender.equalsIgnoreCase(config.get(Parameters.DOUBLE_BOUNCE_SENDER))) {
            // Postfix's bounce daemon says this with msg_warn, hence "warning: "
            MailLog.bounceWarning("warning: " + m.getQueueId() + ": undeliverable postmaster notification discarded");
            LOG.warning("PSTN5101: " + m.getQueueId() + ": postmaster notification to "
                    + bounced.get(0).getAddress() + " could not be delivered; discarded");
            return List.of();
        }
        DsnComposer.Kind kind;
        String to;
        String envelopeSender;
        boolean headersOnly;
        List<QueuedRecipient> reported;
        if (sender.isEmpty()) {
            if (!notifies("2bounce")) {
                // notify_classes without 2bounce (nor bounce): Postfix drops an undeliverable bounce
                // without a mail log line; the server log keeps a trace
                LOG.info("PSTN5103: " + m.getQueueId() + ": bounce to " + bounced.get(0).getAddress()
                        + " could not be delivered; discarded (notify_classes has no 2bounce)");
                return List.of();
            }
            kind = DsnComposer.Kind.POSTMASTER;
            to = qualify(config.get(Parameters.DOUBLE_BOUNCE_NOTICE_RECIPIENT));
            envelopeSender = doubleBounceSender;
            headersOnly = true;
            reported = bounced;
        } else {
            kind = DsnComposer.Kind.SENDER;
            to = sender;
            envelopeSender = "";
            headersOnly = "HDRS".equalsIgnoreCase(m.getRet());
            reported = new ArrayList<>();
            for (QueuedRecipient r : bounced) {
                if (wantsFailureNotice(r.getNotify())) {
                    reported.add(r);
                }
            }
            if (reported.isEmpty()) {
                return List.of();
            }
        }
        List<String> queued = new ArrayList<>(2);
        queued.add(report(kind, m, reported, to, envelopeSender, headersOnly, null, now));
        if (kind == DsnComposer.Kind.SENDER && notifies("bounce")) {
            // notify_classes = bounce: the postmaster gets the headers of every bounced message
            queued.add(report(DsnComposer.Kind.BOUNCE_COPY, m, reported, qualify(config.get(Parameters.BOUNCE_NOTICE_RECIPIENT)),
                    doubleBounceSender, true, null, now));
        }
        return queued;
    }

    /** Delivered - a recipient delivered in this round whose NOTIFY asks for success, and the DSN action. */
    public record Delivered(QueuedRecipient recipient, String action) {
    }

    /**
     * success - queue the success notice (RFC 3461 NOTIFY=SUCCESS, Postfix's "sender delivery
     * status notification") for those recipients delivered in this round whose NOTIFY has
     * SUCCESS: Action delivered (final
     * delivery) or relayed (the next hop did not announce DSN, so it cannot report). Never to
     * the null sender nor to double_bounce_sender. The returned message is the header unless
     * the sender asked RET=FULL (RFC 3461 section 4.3: RET is about failed DSNs; Postfix
     * returns the header with success notices). Returns the notice's queue id, or null.
     */
    public String success(QueuedMessage m, List<Delivered> delivered, Instant now) {
        if (delivered.isEmpty() || m.getSender().isEmpty()
                || m.getSender().equalsIgnoreCase(qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER)))) {
            return null;
        }
        List<QueuedRecipient> reported = new ArrayList<>();
        List<String> actions = new ArrayList<>();
        for (Delivered d : delivered) {
            if (wants(d.recipient().getNotify(), "SUCCESS")) {
                reported.add(d.recipient());
                actions.add(d.action());
            }
        }
        if (reported.isEmpty()) {
            return null;
        }
        return report(DsnComposer.Kind.SUCCESS, m, reported, actions, m.getSender(), "",
                !"FULL".equalsIgnoreCase(m.getRet()), null, now);
    }

    /**
     * errorNotice - tell error_notice_recipient (from double_bounce_sender) that the message
     * was moved to the corrupt queue, when notify_classes has {@code klass} ("resource" or
     * "software"). A postmaster notice is never reported about, so that notices cannot loop.
     * Returns the notice's queue id, or null.
     */
    public String errorNotice(QueuedMessage m, String klass, String reason, Instant now) {
        if (!notifies(klass)
                || m.getSender().equalsIgnoreCase(qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER)))) {
            return null;
        }
        String id = QueueIds.next();
        String to = qualify(config.get(Parameters.ERROR_NOTICE_RECIPIENT));
        byte[] header = headerOf(m);
        DsnComposer composer = new DsnComposer(config.get(Parameters.MYHOSTNAME), config.get(Parameters.MAIL_NAME),
                Math.max(0, config.get(Parameters.BOUNCE_SIZE_LIMIT)));
        DsnComposer.Report notice = composer.errorNotice(id, to, m.getQueueId(), m.getSender(), klass, reason,
                header, now);
        store(id, qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER)), to, notice, now);
        MailLog.bounce(m.getQueueId() + ": postmaster " + klass + " notification: " + id);
        return id;
    }

    /**
     * protocolNotice - notify_classes = protocol: the client's transcript of a delivery of
     * {@code queueId} in which {@code server} gave a reply that suggests a protocol error goes
     * to error_notice_recipient from double_bounce_sender. Never about a postmaster notice or
     * a bounce to the double-bounce address, so that notices cannot loop. Returns the
     * notice's queue id, or null.
     */
    public String protocolNotice(String queueId, String sender, boolean lmtp, String server, List<String> lines,
                                 Instant now) {
        String doubleBounce = qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER));
        if (!notifies("protocol") || sender.equalsIgnoreCase(doubleBounce)) {
            return null;
        }
        String id = QueueIds.next();
        String to = qualify(config.get(Parameters.ERROR_NOTICE_RECIPIENT));
        DsnComposer composer = new DsnComposer(config.get(Parameters.MYHOSTNAME), config.get(Parameters.MAIL_NAME),
                Math.max(0, config.get(Parameters.BOUNCE_SIZE_LIMIT)));
        store(id, doubleBounce, to, composer.transcriptNotice(id, to, lmtp, server, lines, now), now);
        MailLog.bounce(queueId + ": postmaster protocol notification: " + id);
        return id;
    }

    /** notifies - notify_classes has the class ("bounce" implies "2bounce"). */
    boolean notifies(String klass) {
        for (String c : config.get(Parameters.NOTIFY_CLASSES)) {
            String k = c.trim().toLowerCase(Locale.ROOT);
            if (k.equals(klass) || (klass.equals("2bounce") && k.equals("bounce"))) {
                return true;
            }
        }
        return false;
    }

    /** headerOf - the message's header as far as it can be read (the first chunks), for a notice. */
    private byte[] headerOf(QueuedMessage m) {
        if (m.getContentChunks() <= 0) {
            return new byte[0];
        }
        ContentChunk c = em.find(ContentChunk.class, new ContentChunk.Key(m.getQueueId(), 0));
        if (c == null) {
            return new byte[0];
        }
        byte[] data = c.getData();
        em.detach(c);
        return data;
    }

    /**
     * delayWarning - queue a delay warning (Postfix's "sender delay notification") when
     * delay_warning_time (0: off) passed between the previous round and this one, for
     * the recipients deferred now whose NOTIFY asks for delays (absent NOTIFY does).
     * Mail from the null sender or from double_bounce_sender is never warned about.
     * Returns the warning's queue id, or null.
     */
    public List<String> delayWarning(QueuedMessage m, List<QueuedRecipient> deferred, Instant previousRound,
                                     Instant now) {
        Duration warnAfter = config.get(Parameters.DELAY_WARNING_TIME);
        if (deferred.isEmpty() || warnAfter.isZero() || warnAfter.isNegative() || m.getSender().isEmpty()
                || m.getSender().equalsIgnoreCase(qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER)))) {
            return List.of();
        }
        // once per message: only the round that crosses the warning time warns
        Instant warnAt = m.getArrival().plus(warnAfter);
        if (warnAt.isAfter(now) || !warnAt.isAfter(previousRound)) {
            return List.of();
        }
        List<QueuedRecipient> reported = new ArrayList<>();
        for (QueuedRecipient r : deferred) {
            if (wants(r.getNotify(), "DELAY")) {
                reported.add(r);
            }
        }
        if (reported.isEmpty()) {
            return List.of();
        }
        Instant retryUntil = m.getArrival().plus(config.get(Parameters.MAXIMAL_QUEUE_LIFETIME));
        List<String> queued = new ArrayList<>(2);
        queued.add(report(DsnComposer.Kind.DELAY, m, reported, m.getSender(), "", true, retryUntil, now));
        if (notifies("delay")) {
            // notify_classes = delay: the postmaster gets a copy of the warning's headers
            queued.add(report(DsnComposer.Kind.DELAY_COPY, m, reported, qualify(config.get(Parameters.DELAY_NOTICE_RECIPIENT)),
                    qualify(config.get(Parameters.DOUBLE_BOUNCE_SENDER)), true, retryUntil, now));
        }
        return queued;
    }

    /** report - compose and queue one notice about the recipients; its queue id. */
    private String report(DsnComposer.Kind kind, QueuedMessage m, List<QueuedRecipient> reported, String to,
                          String envelopeSender, boolean headersOnly, Instant retryUntil, Instant now) {
        return report(kind, m, reported, null, to, envelopeSender, headersOnly, retryUntil, now);
    }

    /** report - the same, with each recipient's DSN action (success notices) or null. */
    private String report(DsnComposer.Kind kind, QueuedMessage m, List<QueuedRecipient> reported, List<String> actions,
                          String to, String envelopeSender, boolean headersOnly, Instant retryUntil, Instant now) {
        List<DsnComposer.Failure> failures = new ArrayList<>();
        for (int i = 0; i < reported.size(); i++) {
            QueuedRecipient r = reported.get(i);
            failures.add(new DsnComposer.Failure(r.getAddress(), r.getOrcpt(), r.getDsn(), r.getRelay(),
                    r.getReply(), actions == null ? null : actions.get(i)));
        }
        int limit = Math.max(0, config.get(Parameters.BOUNCE_SIZE_LIMIT));
        byte[] content = originalContent(m, limit + 1);
        DsnComposer.Original original = new DsnComposer.Original(m.getQueueId(), m.getSender(), m.getArrival(),
                m.getEnvid(), content, content.length >= m.getSize(), retryUntil);
        String id = QueueIds.next();
        DsnComposer composer = new DsnComposer(config.get(Parameters.MYHOSTNAME), config.get(Parameters.MAIL_NAME), limit);
        DsnComposer.Report report = composer.compose(kind, id, to, original, failures, headersOnly, now);
        store(id, envelopeSender, to, report, now);
        MailLog.bounce(m.getQueueId() + ": " + switch (kind) {
            case SENDER -> "sender non-delivery notification: ";
            case POSTMASTER, BOUNCE_COPY -> "postmaster non-delivery notification: ";
            case DELAY -> "sender delay notification: ";
            case DELAY_COPY -> "postmaster delay notification: ";
            case SUCCESS -> "sender delivery status notification: ";
        } + id);
        return id;
    }

    /**
     * wantsFailureNotice - RFC 3461 section 4.1: no NOTIFY means the MTA's default
     * (FAILURE and DELAY, as Postfix); NEVER, or a list without FAILURE, means none.
     */
    static boolean wantsFailureNotice(String notify) {
        return wants(notify, "FAILURE");
    }

    /** wants - true when the NOTIFY parameter asks for this kind of notice (absent: FAILURE,DELAY). */
    static boolean wants(String notify, String keyword) {
        if (notify == null || notify.isBlank()) {
            return !keyword.equals("SUCCESS");
        }
        for (String k : notify.split(",")) {
            if (k.trim().toUpperCase(Locale.ROOT).equals(keyword)) {
                return true;
            }
        }
        return false;
    }

    /** qualify - an address without a domain gets @$myorigin, as Postfix's trivial-rewrite does. */
    private String qualify(String address) {
        return address.indexOf('@') >= 0 ? address : address + "@" + config.get(Parameters.MYORIGIN);
    }

    /** originalContent - at most max bytes from the start of the message's content. */
    private byte[] originalContent(QueuedMessage m, int max) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 65536));
        for (int seq = 0; seq < m.getContentChunks() && out.size() < max; seq++) {
            ContentChunk c = em.find(ContentChunk.class, new ContentChunk.Key(m.getQueueId(), seq));
            if (c == null) {
                // report what there is; the recipients are bounced either way
                LOG.warning("PSTN5102: " + m.getQueueId() + ": content chunk " + seq
                        + " is missing; the report returns less of the message");
                break;
            }
            out.write(c.getData(), 0, Math.min(c.getData().length, max - out.size()));
            em.detach(c);
        }
        return out.toByteArray();
    }

    /** store - queue the report as cleanup stores a message: envelope, recipient, content. */
    private void store(String id, String envelopeSender, String to, DsnComposer.Report report, Instant now) {
        QueuedMessage n = new QueuedMessage(id, envelopeSender, now);
        n.setProtocol("local");
        n.setService("bounce");
        n.setBodyType(report.eightBit() ? "8BITMIME" : "7BIT");
        n.addRecipient(to, null, null);
        byte[] data = report.content();
        n.setSize(data.length);
        n.setContentChunks((data.length + ContentChunk.MAX_SIZE - 1) / ContentChunk.MAX_SIZE);
        em.persist(n);
        int seq = 0;
        for (int off = 0; off < data.length; off += ContentChunk.MAX_SIZE) {
            em.persist(new ContentChunk(id, seq++,
                    Arrays.copyOfRange(data, off, Math.min(data.length, off + ContentChunk.MAX_SIZE))));
        }
        MailLog.cleanup(id + ": message-id=" + report.messageId());
    }
}
