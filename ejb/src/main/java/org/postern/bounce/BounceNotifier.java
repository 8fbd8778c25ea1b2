package org.postern.bounce;

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
import org.postern.smtpd.QueueIds;

/**
 * BounceNotifier - queues the non-delivery report for the recipients that one delivery
 * round bounced (Postfix's bounce(8), the "bounce" service).
 *
 * <h2>DESCRIPTION</h2>
 * Called by the queue manager inside the transaction that records the bounced
 * recipients, so that the report is queued if and only if the bounces are recorded: a
 * crash cannot lose a report nor send one for a recipient that is still in the queue.
 * The report is an ordinary queued message (state INCOMING, due now) that the caller
 * wakes after the commit.
 * <ul>
 * <li>A message with a sender: a report from the null sender to the sender, for the
 * recipients whose NOTIFY asks for failures (absent NOTIFY means FAILURE,DELAY;
 * NOTIFY=NEVER means no report), carrying ENVID and ORCPT, returning the header
 * (RET=HDRS) or the whole message (RET=FULL or none; Postfix's default).</li>
 * <li>A bounce (null sender) that bounced: a postmaster notice ("double bounce") to
 * 2bounce_notice_recipient, from double_bounce_sender, with the bounce's header.</li>
 * <li>A postmaster notice (sender double_bounce_sender) that bounced: logged and
 * discarded, so that notices never loop.</li>
 * </ul>
 * The mail log gets Postfix's lines: "&lt;id&gt;: sender non-delivery notification: &lt;new id&gt;",
 * "postmaster non-delivery notification", "undeliverable postmaster notification discarded".
 *
 * <h2>SECURITY</h2>
 * Reads only the queue; the report's text fields are cleaned by {@link DsnComposer}.
 * A report is never larger than bounce_size_limit plus the report itself.
 *
 * <p>Delay warnings ({@link #delayWarning}): once per message, in the round that is the
 * first after delay_warning_time, to the sender, about the recipients deferred in that
 * round whose NOTIFY asks for delays; headers only, Action: delayed, Will-Retry-Until.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * myhostname, myorigin, mail_name, bounce_size_limit (50000), 2bounce_notice_recipient
 * (postmaster), double_bounce_sender (double-bounce), delay_warning_time (0h: off),
 * maximal_queue_lifetime (5d, for Will-Retry-Until).
 *
 * <h2>BUGS</h2>
 * notify_classes is not implemented: the postmaster gets double bounces only. Success
 * notices (NOTIFY=SUCCESS) are not written: the delivery outcome does not say yet
 * whether the next hop supports DSN, which decides between passing NOTIFY on and a
 * "relayed" notice.
 */
public final class BounceNotifier {
    private static final Logger LOG = Logger.getLogger("org.postern.bounce");
    /** the mail log of the bounce service (postern/bounce in mail.log) */
    private static final Logger MAILLOG = Logger.getLogger("postern.maillog.bounce");

    private final EntityManager em;
    private final Config config;

    /** BounceNotifier - working in the caller's transaction, with this configuration. */
    public BounceNotifier(EntityManager em, Config config) {
        this.em = em;
        this.config = config;
    }

    /**
     * notify - queue the report for {@code bounced}, recipients of {@code m} that this round
     * bounced; returns the report's queue id, or null when no report is due.
     */
    public String notify(QueuedMessage m, List<QueuedRecipient> bounced, Instant now) {
        if (bounced.isEmpty()) {
            return null;
        }
        String sender = m.getSender();
        String doubleBounceSender = qualify(config.get("double_bounce_sender"));
        if (sender.equalsIgnoreCase(doubleBounceSender)
                || sender.equalsIgnoreCase(config.get("double_bounce_sender"))) {
            MAILLOG.info(m.getQueueId() + ": undeliverable postmaster notification discarded");
            LOG.warning("PSTN5101: " + m.getQueueId() + ": postmaster notification to "
                    + bounced.get(0).getAddress() + " could not be delivered; discarded");
            return null;
        }
        DsnComposer.Kind kind;
        String to;
        String envelopeSender;
        boolean headersOnly;
        List<QueuedRecipient> reported;
        if (sender.isEmpty()) {
            kind = DsnComposer.Kind.POSTMASTER;
            to = qualify(config.get("2bounce_notice_recipient"));
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
                return null;
            }
        }
        return report(kind, m, reported, to, envelopeSender, headersOnly, null, now);
    }

    /**
     * delayWarning - queue a delay warning (Postfix's "sender delay notification") when
     * delay_warning_time (0: off) passed between the previous round and this one, for
     * the recipients deferred now whose NOTIFY asks for delays (absent NOTIFY does).
     * Mail from the null sender or from double_bounce_sender is never warned about.
     * Returns the warning's queue id, or null.
     */
    public String delayWarning(QueuedMessage m, List<QueuedRecipient> deferred, Instant previousRound,
                               Instant now) {
        Duration warnAfter = config.getTime("delay_warning_time");
        if (deferred.isEmpty() || warnAfter.isZero() || warnAfter.isNegative() || m.getSender().isEmpty()
                || m.getSender().equalsIgnoreCase(qualify(config.get("double_bounce_sender")))) {
            return null;
        }
        // once per message: only the round that crosses the warning time warns
        Instant warnAt = m.getArrival().plus(warnAfter);
        if (warnAt.isAfter(now) || !warnAt.isAfter(previousRound)) {
            return null;
        }
        List<QueuedRecipient> reported = new ArrayList<>();
        for (QueuedRecipient r : deferred) {
            if (wants(r.getNotify(), "DELAY")) {
                reported.add(r);
            }
        }
        if (reported.isEmpty()) {
            return null;
        }
        Instant retryUntil = m.getArrival().plus(config.getTime("maximal_queue_lifetime"));
        return report(DsnComposer.Kind.DELAY, m, reported, m.getSender(), "", true, retryUntil, now);
    }

    /** report - compose and queue one notice about the recipients; its queue id. */
    private String report(DsnComposer.Kind kind, QueuedMessage m, List<QueuedRecipient> reported, String to,
                          String envelopeSender, boolean headersOnly, Instant retryUntil, Instant now) {
        List<DsnComposer.Failure> failures = new ArrayList<>();
        for (QueuedRecipient r : reported) {
            failures.add(new DsnComposer.Failure(r.getAddress(), r.getOrcpt(), r.getDsn(), r.getRelay(),
                    r.getReply()));
        }
        int limit = Math.max(0, config.getInt("bounce_size_limit"));
        byte[] content = originalContent(m, limit + 1);
        DsnComposer.Original original = new DsnComposer.Original(m.getQueueId(), m.getSender(), m.getArrival(),
                m.getEnvid(), content, content.length >= m.getSize(), retryUntil);
        String id = QueueIds.next();
        DsnComposer composer = new DsnComposer(config.get("myhostname"), config.get("mail_name"), limit);
        DsnComposer.Report report = composer.compose(kind, id, to, original, failures, headersOnly, now);
        store(id, envelopeSender, to, report, now);
        MAILLOG.info(m.getQueueId() + ": " + switch (kind) {
            case SENDER -> "sender non-delivery notification: ";
            case POSTMASTER -> "postmaster non-delivery notification: ";
            case DELAY -> "sender delay notification: ";
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
        return address.indexOf('@') >= 0 ? address : address + "@" + config.get("myorigin");
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
