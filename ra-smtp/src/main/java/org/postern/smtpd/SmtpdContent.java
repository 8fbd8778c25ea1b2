package org.postern.smtpd;

import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;
import org.postern.smtpd.api.SmtpdListener;
import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.TOO_BIG;
import static org.postern.smtpd.SmtpdReplies.TOO_MANY_HOPS;
import static org.postern.smtpd.SmtpdReplies.WRITE_ERROR;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.postern.smtpd.SmtpdSettings.BareNewline;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * SmtpdContent - the content of the message being received with DATA or BDAT.
 *
 * <h2>NAME</h2>
 * SmtpdContent - the copy loop of Postfix smtpd.c's data_cmd() and bdat_cmd(), with the
 * header work of cleanup(8) that Postern does in smtpd: hop count and missing headers.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #open} starts the content with Postern's Received: header in a
 * {@link SmtpdSpool} (in memory up to smtpd_spool_memory_limit, past it in a spool
 * file). {@link #dataLine} takes a DATA line, dot-unstuffed (RFC 5321 4.5.2), until the
 * final dot; {@link #contentLine} a BDAT line as it is. Each line is stored with a CRLF
 * ending; a first line "From " becomes "X-Mailbox-Line: From ". In the primary header
 * section the client's Received: headers are counted (hopcount_limit) and Message-Id:,
 * Date: and From: are noted; for a client in local_header_rewrite_clients (or with
 * always_add_missing_headers = yes) the missing ones are written at the end of the
 * section, as Postfix's cleanup does. {@link #endOfData} checks
 * smtpd_end_of_data_restrictions, then hands envelope and content to the
 * {@link SmtpdListener} on the blocking executor and replies with the queue id; the
 * content is dropped (the file removed) in every case.
 *
 * <h2>SECURITY</h2>
 * The content is untrusted. Its size is bounded by message_size_limit (the rest is read
 * and discarded, then 552), its hops by hopcount_limit (mail loops, 554 5.4.0), its
 * memory by smtpd_spool_memory_limit. A dot line next to a bare &lt;LF&gt; does not end
 * DATA when the standard end of data is required (SMTP smuggling, CVE-2023-51764), and
 * with smtpd_forbid_bare_newline = reject a message with a bare &lt;LF&gt; is rejected.
 * Where Postern is stricter than Postfix: with smtpd_forbid_bare_newline = no, and for the
 * clients of smtpd_forbid_bare_newline_exclusions ($mynetworks by default), Postfix ends
 * DATA at &lt;LF&gt;.&lt;LF&gt; wherever it comes, so a trusted relay that passes such a
 * sequence through lets a second message be smuggled in; Postern ends DATA there only while
 * every line of the message so far ended in a bare &lt;LF&gt; (the legacy scripts the
 * exclusion is for), never after a line that ended in CRLF. A
 * listener's reply is used only when it is a valid 4xx/5xx line.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * message_size_limit, hopcount_limit, smtpd_spool_memory_limit (Postern),
 * always_add_missing_headers, local_header_rewrite_clients, always_bcc,
 * smtpd_forbid_bare_newline, smtpd_forbid_bare_newline_reject_code, myhostname,
 * mail_name.
 *
 * <h2>BUGS</h2>
 * A message over hopcount_limit is rejected after the final dot (554 5.4.0); Postfix's
 * cleanup would bounce it instead. Resent- headers do not make the added headers
 * Resent-Message-Id: etc. as in Postfix; a From: for the null sender is
 * MAILER-DAEMON@myhostname (Postfix: @myorigin).
 *
 * <h2>SEE ALSO</h2>
 * {@link SmtpdSpool}, {@link ReceivedHeader}, {@link DataCommands}, RFC 5321 4.5.2,
 * RFC 3030, Postfix cleanup(8).
 */
final class SmtpdContent {
    /** The time stamp of an added Message-Id: (Postfix: %Y%m%d%H%M%S in UTC). */
    private static final DateTimeFormatter MESSAGE_ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private final SmtpdSession s;
    private final SmtpdSettings settings;
    private final BareNewline bareNewline;
    private final byte[] line;

    /** In DATA content: lines go to {@link #dataLine} until the final dot. */
    private boolean inData;
    /** "data" or "bdat": the command whose statistics the message counts under. */
    private String messageVerb = "data";
    /** The content of the message being received: memory, then a file past smtpd_spool_memory_limit. */
    private SmtpdSpool spool;
    private long storedBytes;
    private long contentBytes;
    private long receivedBytes;
    private boolean tooBig;
    private boolean writeFailed;
    private boolean bareLfInData;
    private boolean previousPartial;
    private boolean previousBareLf;
    /* a content line of this DATA ended in CRLF: a dot line next to a bare LF no longer ends it */
    private boolean crlfInData;
    private boolean firstLine;
    private boolean inHeaders;
    private int hopCount;
    /** Complete the header section (local_header_rewrite_clients, always_add_missing_headers). */
    private boolean addHeaders;
    private boolean seenMessageId;
    private boolean seenDate;
    private boolean seenFrom;

    SmtpdContent(SmtpdSession session, SmtpdSettings settings, BareNewline bareNewline, byte[] line) {
        this.s = session;
        this.settings = settings;
        this.bareNewline = bareNewline;
        this.line = line;
    }

    /** inData - true between DATA's 354 and the final dot. */
    boolean inData() {
        return inData;
    }

    /** startData - DATA was accepted: the lines that follow are content. */
    void startData() {
        messageVerb = "data";
        inData = true;
    }

    /** startChunks - BDAT was accepted: the message counts under "bdat". */
    void startChunks() {
        messageVerb = "bdat";
    }

    /** storedBytes - the size of the content so far, Received: header included. */
    long storedBytes() {
        return storedBytes;
    }

    /** receivedBytes - the octets the client sent for this message. */
    long receivedBytes() {
        return receivedBytes;
    }

    /** countReceived - one more octet of DATA from the client. */
    void countReceived() {
        receivedBytes++;
    }

    /**
     * open - start the content with the Received: header (in memory; a file only with
     * smtpd_spool_memory_limit = 0); reset the content state.
     */
    boolean open() {
        try {
            spool = new SmtpdSpool(settings.content().spoolDirectory(), s.queueId, settings.limits().spoolMemoryLimit());
            byte[] received = ReceivedHeader.format(s.helo, s.clientName, s.clientAddress, settings.identity().myhostname(),
                    settings.identity().mailName(), s.protocol + (s.tls ? "S" : "") + (s.auth.username() != null ? "A" : ""),
                    s.queueId, s.recipients.size() == 1 ? s.recipients.get(0).address() : null,
                    s.arrival, s.clock.getZone()).getBytes(StandardCharsets.UTF_8);
            spool.write(received, 0, received.length);
            storedBytes = received.length;
        } catch (IOException e) {
            SmtpdSession.LOG.log(Level.WARNING, "PSTN1001: cannot create spool file in " + settings.content().spoolDirectory()
                    + " for " + s.queueId, e);
            close();
            delete();
            return false;
        }
        contentBytes = 0;
        receivedBytes = 0;
        tooBig = false;
        writeFailed = false;
        bareLfInData = false;
        crlfInData = false;
        previousPartial = false;
        previousBareLf = false;
        firstLine = true;
        inHeaders = true;
        hopCount = 0;
        addHeaders = settings.content().alwaysAddMissingHeaders()
                || settings.content().headerRewriteClients().matches(s.clientAddress, s.auth.username() != null);
        seenMessageId = false;
        seenDate = false;
        seenFrom = false;
        return true;
    }

    /** dataLine - one content line (or a piece of a long line when !complete). */
    void dataLine(int len, boolean complete, boolean bareLf) {
        if (bareLf) {
            if (bareNewline == BareNewline.REJECT) {
                bareLfInData = true;
            } else if (bareNewline == BareNewline.NOTE && !bareLfInData) {
                bareLfInData = true;
                s.maillog.info(s.queueId + ": bare <LF> received from " + s.namaddr());
            }
        }
        int off = 0;
        if (!previousPartial && len > 0 && line[0] == '.') {
            if (len == 1 && complete) {
                // A dot line next to a bare LF is not the end of DATA when the standard
                // CRLF.CRLF is required (SMTP smuggling); Postfix drops it. Without that
                // requirement (smtpd_forbid_bare_newline = no, or an excluded client) it ends
                // DATA only for a client whose lines so far all ended in a bare LF - a legacy
                // script - never inside CRLF content, where it can only be smuggled
                if ((bareNewline.wantStandardEndOfData() || crlfInData) && (bareLf || previousBareLf)) {
                    previousBareLf = bareLf;
                    return;
                }
                endOfData(true);
                return;
            }
            off = 1; // dot-unstuffing, RFC 5321 4.5.2
        }
        if (complete && !bareLf) {
            crlfInData = true;
        }
        previousBareLf = bareLf;
        storeLine(off, len, complete);
    }

    /** contentLine - one BDAT content line (or piece): stored as it is. */
    void contentLine(int len, boolean complete) {
        storeLine(0, len, complete);
    }

    /** storeLine - count hops, then write line[off..len) and CRLF when complete, within the size limit. */
    private void storeLine(int off, int len, boolean complete) {
        if (inHeaders && !previousPartial) {
            countHops(off, len);
        }
        previousPartial = !complete;
        int n = len - off;
        if (firstLine) {
            firstLine = false;
            if (n >= 5 && startsWithFrom(off, len)) {
                write("X-Mailbox-Line: ".getBytes(StandardCharsets.US_ASCII), 0, 16);
            } else if (n > 0 && (line[off] == ' ' || line[off] == '\t')) {
                // A first line that starts with white space would continue our Received: header:
                // it starts the body instead.
                endHeaders();
                write(new byte[] {'\r', '\n'}, 0, 2);
            }
        }
        contentBytes += n + (complete ? 2 : 0);
        if (settings.limits().messageSizeLimit() > 0 && contentBytes > settings.limits().messageSizeLimit()) {
            if (!tooBig) {
                tooBig = true;
                s.maillog.warning("warning: " + s.queueId + ": queue file size limit exceeded");
            }
            return;
        }
        write(line, off, n);
        if (complete) {
            write(new byte[] {'\r', '\n'}, 0, 2);
        }
    }

    /**
     * countHops - hopcount_limit: count the client's Received: headers in the primary
     * header section (a mail loop adds one per pass); the section ends at the first empty
     * line or the first line that is neither a header nor a continuation.
     */
    private void countHops(int off, int len) {
        if (len == off) {
            endHeaders();
            return;
        }
        byte c = line[off];
        if (c == ' ' || c == '\t') {
            return; // continuation of the previous header
        }
        int i = off;
        while (i < len && line[i] > 32 && line[i] < 127 && line[i] != ':') {
            i++;
        }
        if (i == off || i == len || line[i] != ':') {
            if (!(firstLine && startsWithFrom(off, len))) {
                endHeaders();
            }
            return;
        }
        String name = new String(line, off, i - off, StandardCharsets.US_ASCII);
        if (name.equalsIgnoreCase("Received")) {
            hopCount++;
        } else if (name.equalsIgnoreCase("Message-Id")) {
            seenMessageId = true;
        } else if (name.equalsIgnoreCase("Date")) {
            seenDate = true;
        } else if (name.equalsIgnoreCase("From")) {
            seenFrom = true;
        }
    }

    /**
     * endHeaders - the primary header section ends here (an empty line, a line that is no
     * header, or the end of the message): for a local client (local_header_rewrite_clients)
     * or with always_add_missing_headers, add what Postfix's cleanup adds when missing, at
     * the end of the header section and in its order: Message-Id: (arrival time in UTC and
     * the queue id), Date: (arrival, local time), From: (the envelope sender).
     */
    private void endHeaders() {
        if (!inHeaders) {
            return;
        }
        inHeaders = false;
        if (!addHeaders) {
            return;
        }
        StringBuilder b = new StringBuilder();
        if (!seenMessageId) {
            b.append("Message-Id: <").append(MESSAGE_ID_TIME.format(s.arrival)).append('.').append(s.queueId)
                    .append('@').append(settings.identity().myhostname()).append(">\r\n");
        }
        if (!seenDate) {
            b.append("Date: ").append(ReceivedHeader.mailDate(s.arrival, s.clock.getZone())).append("\r\n");
        }
        if (!seenFrom) {
            b.append("From: <").append(s.sender.isNull() ? "MAILER-DAEMON@" + settings.identity().myhostname()
                    : s.sender.address().toString()).append(">\r\n");
        }
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        write(bytes, 0, bytes.length);
    }

    /** startsWithFrom - Postfix: a first line "From " (after any '>') is an mbox From_ line. */
    private boolean startsWithFrom(int off, int len) {
        int i = off;
        while (i < len && line[i] == '>') {
            i++;
        }
        return len - i >= 5 && line[i] == 'F' && line[i + 1] == 'r' && line[i + 2] == 'o' && line[i + 3] == 'm'
                && line[i + 4] == ' ';
    }

    private void write(byte[] bytes, int off, int len) {
        if (tooBig || writeFailed || bareLfInData && bareNewline == BareNewline.REJECT) {
            return;
        }
        try {
            spool.write(bytes, off, len);
            storedBytes += len;
        } catch (IOException e) {
            writeFailed = true;
            SmtpdSession.LOG.log(Level.WARNING, "PSTN1003: write error on spool file " + spool.where() + " for "
                    + s.queueId, e);
        }
    }

    /**
     * endOfData - the final dot (or BDAT LAST): reject, or hand the message to the
     * listener. With prefetch false the DNS answers are known to be there (BDAT LAST).
     */
    void endOfData(boolean prefetch) {
        if (prefetch) {
            s.checks.prefetch(SmtpdCheck.Stage.END_OF_DATA, null);
        }
        String eodReject = null;
        if (!(bareLfInData && bareNewline == BareNewline.REJECT) && !tooBig && hopCount <= settings.limits().hopcountLimit()
                && !writeFailed) {
            // smtpd_end_of_data_restrictions before any change of state: a policy server
            // may have to be asked, and then this is done again when its answer is in
            String previous = s.where;
            s.where = SmtpdSession.AFTER_EOM;
            try {
                eodReject = settings.check().checkEndOfData(s.checks);
            } catch (SmtpdCheck.PolicyPending pending) {
                s.where = previous;
                s.await(pending.future(), () -> endOfData(false));
                return;
            }
        }
        inData = false;
        s.where = SmtpdSession.AFTER_EOM;
        endHeaders(); // a message that is all headers, or empty
        boolean closedOk = close();
        if (bareLfInData && bareNewline == BareNewline.REJECT) {
            s.checks.log("reject", "bare <LF> received");
            finishMessage(s.bareLfReply(), false, "protocol");
            if (settings.protocol().bareNewlineRejectCode() == 521) {
                s.hangup();
            }
            return;
        }
        if (tooBig) {
            finishMessage(TOO_BIG, false, "bounce");
            return;
        }
        if (hopCount > settings.limits().hopcountLimit()) {
            // a mail loop: Postfix bounces it; here the client gets the bounce as a reply
            s.checks.log("reject", TOO_MANY_HOPS);
            finishMessage(TOO_MANY_HOPS, false, "bounce");
            return;
        }
        if (writeFailed || !closedOk) {
            finishMessage(WRITE_ERROR, false, "resource");
            return;
        }
        if (eodReject != null) {
            finishMessage(eodReject, false, "policy");
            return;
        }
        Envelope envelope = envelope();
        SmtpdSpool content = spool;
        spool = null; // the blocking task owns it now, and deletes it
        String[] result = new String[1];
        boolean chunked = messageVerb.equals("bdat");
        long received = receivedBytes;
        s.runBlocking(() -> result[0] = enqueue(envelope, content, chunked, received), () -> {
            String reply = result[0] != null ? result[0] : WRITE_ERROR;
            finishMessage(reply, reply.startsWith("250"), reply.equals(WRITE_ERROR) ? "resource" : "software");
        });
    }

    /** envelope - the message's envelope: HOLD and DISCARD actions as parameters, always_bcc added. */
    private Envelope envelope() {
        Map<String, String> params = new LinkedHashMap<>(s.mailParams);
        if (s.holdReason != null) {
            params.put(Envelope.HOLD, s.holdReason);
        }
        if (s.discardReason != null) {
            params.put(Envelope.DISCARD, s.discardReason);
        }
        List<Envelope.Recipient> all = new ArrayList<>(s.recipients);
        if (!settings.content().alwaysBcc().isEmpty()
                && all.stream().noneMatch(r -> r.address().equalsIgnoreCase(settings.content().alwaysBcc()))) {
            // always_bcc: Postfix's cleanup adds it; no delivery notice for the copy
            all.add(new Envelope.Recipient(settings.content().alwaysBcc(), null, "NEVER"));
        }
        return new Envelope(s.queueId, s.sender.isNull() ? "" : s.sender.address().toString(),
                Map.copyOf(params), List.copyOf(all), s.clientName, s.clientAddress, s.clientPort, s.helo,
                s.protocol, settings.identity().serviceName(), s.arrival, storedBytes);
    }

    /**
     * enqueue - call the listener (on the blocking executor): the reply to send. The
     * content is a ByteArrayInputStream, or the spool file past smtpd_spool_memory_limit;
     * the spool is deleted in every case.
     */
    private String enqueue(Envelope envelope, SmtpdSpool content, boolean chunked, long received) {
        try (InputStream in = content.content()) {
            String id = s.listener.enqueue(envelope, in);
            if (!QueueIds.isValid(id)) {
                SmtpdSession.LOG.warning("PSTN1004: listener returned queue id \"" + printable(String.valueOf(id), 40)
                        + "\" for " + envelope.queueId() + "; replying with the session's id");
                id = envelope.queueId();
            }
            return chunked ? "250 2.0.0 Ok: " + received + " bytes queued as " + id : "250 2.0.0 Ok: queued as " + id;
        } catch (EnqueueException e) {
            SmtpdSession.LOG.log(Level.WARNING, "PSTN1005: " + envelope.queueId() + ": enqueue refused: "
                    + e.getMessage(), e);
            return validReply(e.reply()) ? e.reply() : WRITE_ERROR;
        } catch (IOException | RuntimeException e) {
            SmtpdSession.LOG.log(Level.WARNING, "PSTN1006: " + envelope.queueId() + ": enqueue failed", e);
            return WRITE_ERROR;
        } finally {
            try {
                content.delete();
            } catch (IOException e) {
                SmtpdSession.LOG.log(Level.WARNING, "PSTN1007: cannot delete spool file " + content.where(), e);
            }
        }
    }

    private static boolean validReply(String reply) {
        return reply != null && reply.matches("[45][0-9][0-9]( .*)?") && reply.indexOf('\r') < 0
                && reply.indexOf('\n') < 0;
    }

    /** finishMessage - reply after the final dot and end the transaction. */
    private void finishMessage(String reply, boolean success, String errorClass) {
        delete();
        s.reply(reply);
        s.chat.count(messageVerb, success);
        if (success) {
            // Postfix forgives earlier client errors once a message was received.
            s.errorCount = 0;
            s.junkCommands = 0;
        } else {
            s.errorCount++;
            s.chat.errorClass(errorClass);
        }
        s.resetTransaction();
        s.chat.flush();
        s.hardErrorLimit();
    }

    /** close - the content is complete (the file, if any, flushed and closed); false on a write error. */
    boolean close() {
        if (spool == null) {
            return true;
        }
        try {
            spool.close();
            return true;
        } catch (IOException e) {
            SmtpdSession.LOG.log(Level.WARNING, "PSTN1003: write error on spool file " + spool.where() + " for "
                    + s.queueId, e);
            return false;
        }
    }

    /** delete - drop the content of the current message (memory and file). */
    void delete() {
        if (spool != null) {
            SmtpdSpool dropped = spool;
            spool = null;
            try {
                dropped.delete();
            } catch (IOException e) {
                SmtpdSession.LOG.log(Level.WARNING, "PSTN1007: cannot delete spool file " + dropped.where(), e);
            }
        }
    }

    /** abortData - the session ends in DATA content: drop the content. */
    void abortData() {
        if (inData) {
            close();
            delete();
            inData = false;
        }
    }
}
