package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.BDAT_SYNTAX;
import static org.postern.smtpd.SmtpdReplies.DATA_AFTER_BDAT;
import static org.postern.smtpd.SmtpdReplies.DATA_GO;
import static org.postern.smtpd.SmtpdReplies.DATA_SYNTAX;
import static org.postern.smtpd.SmtpdReplies.NEED_RCPT;
import static org.postern.smtpd.SmtpdReplies.NO_VALID_RCPT;
import static org.postern.smtpd.SmtpdReplies.WRITE_ERROR;

import org.postern.smtpd.policy.SmtpdCheck;

/**
 * DataCommands - the DATA and BDAT commands of one SMTP session.
 *
 * <h2>NAME</h2>
 * DataCommands - Postfix smtpd.c's data_cmd() and bdat_cmd(): RFC 5321 DATA and
 * RFC 3030 CHUNKING.
 *
 * <h2>DESCRIPTION</h2>
 * DATA needs a recipient; it checks smtpd_data_restrictions, opens the content
 * ({@link SmtpdContent#open}) and answers 354: the lines up to the final dot are
 * content. BDAT count [LAST]: the next count octets are content, as they are (no
 * dot-stuffing, no end marker); each chunk is answered "250 2.0.0 Ok: N bytes", the
 * last one with the queue id. The content stays open between chunks while commands are
 * read. A chunk that cannot be accepted is still read and thrown away, so that the
 * session stays in step with the client, and once a chunk of a message has failed the
 * later ones are discarded (551 5.0.0). A BDAT line that cannot be parsed ends the
 * session: the octets that follow cannot be found.
 *
 * <h2>SECURITY</h2>
 * A chunk's octets are counted, never buffered whole ({@link SmtpdLineFramer#chunkOctet}).
 * A null chunk without LAST is refused (551 5.7.1), as in Postfix.
 *
 * <h2>BUGS</h2>
 * A bare &lt;LF&gt; inside a BDAT chunk is taken as a line end.
 *
 * <h2>SEE ALSO</h2>
 * {@link SmtpdContent}, RFC 5321 4.1.1.4, RFC 3030.
 */
final class DataCommands {
    private final SmtpdSession s;
    /** A BDAT transaction is open: the content is kept between chunks. */
    private boolean bdatOpen;
    private long bdatRemaining;
    private boolean bdatLast;
    private boolean bdatDiscard;
    /** A chunk of the current message failed: later chunks are discarded (551 5.0.0). */
    private boolean bdatFailed;
    private long bdatChunkSize;

    DataCommands(SmtpdSession session) {
        this.s = session;
    }

    /** bdatOpen - true while a BDAT transaction is open (MAIL, RCPT and DATA are refused). */
    boolean bdatOpen() {
        return bdatOpen;
    }

    /** chunkRemaining - the octets of the current BDAT chunk still to be read. */
    long chunkRemaining() {
        return bdatRemaining;
    }

    /** data - DATA: open the spool, write the Received: header, switch to content. */
    boolean data(String arg) {
        if (bdatOpen) {
            return s.error(DATA_AFTER_BDAT);
        }
        if (s.recipients.isEmpty()) {
            return s.error(s.sender == null ? NEED_RCPT : NO_VALID_RCPT);
        }
        if (!arg.isEmpty()) {
            return s.error(DATA_SYNTAX);
        }
        s.checks.prefetch(SmtpdCheck.Stage.DATA, null);
        String reject = s.settings.check().checkData(s.checks);
        if (reject != null) {
            return s.policyError(reject);
        }
        if (!s.content.open()) {
            return s.error(WRITE_ERROR);
        }
        s.content.startData();
        s.where = SmtpdSession.AFTER_DATA;
        s.reply(DATA_GO);
        return true;
    }

    /**
     * bdat - BDAT count [LAST] (RFC 3030): the next count octets are message content, as
     * they are (no dot-stuffing, no end marker). A chunk that cannot be accepted is still
     * read and thrown away, so that the session stays in step with the client.
     */
    boolean bdat(String arg) {
        String queueId = s.queueId != null ? s.queueId : "NOQUEUE";
        String[] words = arg.trim().split("[ \t]+");
        if (arg.isBlank() || words.length > 2 || !words[0].matches("[0-9]{1,18}")
                || (words.length == 2 && !words[1].equalsIgnoreCase("LAST"))) {
            // the octets that follow cannot be found: Postfix gives up on the session
            s.maillog.info(queueId + ": malformed BDAT command syntax from " + s.namaddr()
                    + ": " + printable("BDAT " + arg, 100));
            s.error(BDAT_SYNTAX);
            s.hangup();
            return false;
        }
        long size = Long.parseLong(words[0]);
        boolean last = words.length == 2;
        String refusal = null;
        boolean policyRefusal = false;
        if (bdatFailed) {
            // an earlier chunk of this message failed: the rest is read and dropped
            refusal = "551 5.0.0 Discarded " + size + " bytes after earlier error";
        } else if (size == 0 && !last) {
            s.maillog.info(queueId + ": null BDAT request from " + s.namaddr());
            refusal = "551 5.7.1 Null BDAT request";
        } else if (s.recipients.isEmpty()) {
            refusal = s.sender == null ? NEED_RCPT : NO_VALID_RCPT;
        } else if (!bdatOpen) {
            s.checks.prefetch(SmtpdCheck.Stage.DATA, null);
            if (last) {
                s.checks.prefetch(SmtpdCheck.Stage.END_OF_DATA, null);
            }
            refusal = s.settings.check().checkData(s.checks);
            policyRefusal = refusal != null;
            if (refusal == null && !s.content.open()) {
                refusal = WRITE_ERROR;
            }
        } else if (last) {
            s.checks.prefetch(SmtpdCheck.Stage.END_OF_DATA, null);
        }
        // Only now, after any DnsPending: the chunk's octets follow this line.
        bdatChunkSize = size;
        bdatRemaining = size;
        bdatLast = last;
        if (refusal != null) {
            // read and discard the chunk; the message has failed (RFC 3030 2)
            abort();
            bdatFailed = !last && !s.recipients.isEmpty();
            bdatDiscard = size > 0;
            if (policyRefusal) {
                s.policyError(refusal);
            } else {
                s.error(refusal);
            }
            s.chat.count("bdat", false);
            return true;
        }
        bdatOpen = true;
        bdatDiscard = false;
        s.content.startChunks();
        if (size == 0) {
            chunkDone();
        }
        return true;
    }

    /** chunkByte - one octet of a BDAT chunk, framed into content lines. */
    void chunkByte(byte c) {
        bdatRemaining--;
        if (!bdatDiscard) {
            s.content.countReceived();
            s.framer.chunkOctet(c);
        }
        if (bdatRemaining == 0) {
            if (bdatDiscard) {
                bdatDiscard = false;
                s.framer.clearLine();
            } else {
                chunkDone();
            }
        }
    }

    /** chunkDone - the end of a chunk: "250 2.0.0 Ok: N bytes", or the message after LAST. */
    private void chunkDone() {
        if (!bdatLast) {
            s.framer.chunkEnd(); // a line cut by the chunk's end waits for the next chunk; commands come first
            s.reply("250 2.0.0 Ok: " + bdatChunkSize + " bytes");
            s.chat.count("bdat", true);
            return;
        }
        s.framer.chunkLast(); // the last line of the message without its CRLF
        bdatOpen = false;
        s.content.endOfData(false); // the BDAT LAST command has fetched the DNS answers already
    }

    /** abort - drop a BDAT transaction's spool (RSET, errors, end of session). */
    void abort() {
        if (bdatOpen) {
            s.content.close();
            s.content.delete();
            bdatOpen = false;
            s.framer.clearLine();
        }
    }

    /** reset - a new transaction: abort any BDAT transaction and forget an earlier chunk's failure. */
    void reset() {
        abort();
        bdatFailed = false;
    }
}
