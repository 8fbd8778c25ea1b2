package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;

import org.postern.smtpd.SmtpdSettings.BareNewline;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * SmtpdLineFramer - the input side of one SMTP session: bytes into lines.
 *
 * <h2>NAME</h2>
 * SmtpdLineFramer - Postfix smtp_get() with its line_length_limit bound, the input
 * half of smtpd_chat_query(), and the pipelining checks of smtpd.c.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #input} takes the bytes as they arrive (any chunking) and cuts them into lines:
 * command lines go to {@link SmtpdSession#commandLine}, DATA content lines to
 * {@link SmtpdContent#dataLine}, and the octets of a BDAT chunk, counted, to
 * {@link DataCommands#chunkByte}, which frames them back here ({@link #chunkOctet}).
 * While the session is suspended (a message being stored, DNS or a policy server being
 * asked, the tarpit, a SASL check, an ETRN) input is held, in order, and replayed
 * afterwards ({@link #replayHeld}). A line whose restrictions need answers that are not
 * in yet is held too and processed again when they are. What the client sent after a
 * command without waiting for its reply is remembered for the pipelining checks
 * ({@link #pipelined}, RFC 2920). The tarpit (smtpd_error_sleep_time) holds a command
 * line here until its delay is over.
 *
 * <h2>SECURITY</h2>
 * A line is never longer than line_length_limit: an over-long command is skipped to its
 * end and answered (counted as an error), an over-long content line is passed on in
 * pieces. A bare &lt;LF&gt; is handled as smtpd_forbid_bare_newline says (SMTP smuggling,
 * CVE-2023-51764): rejected, noted, or taken as a line end. After STARTTLS nothing that
 * came in plaintext is acted on ({@link #discard}, CVE-2011-0411).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * line_length_limit, smtpd_forbid_bare_newline, smtpd_forbid_bare_newline_exclusions,
 * smtpd_forbid_bare_newline_reject_code, smtpd_soft_error_limit,
 * smtpd_error_sleep_time.
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321 2.3.8 and 4.5.3.1.4, RFC 2920, Postfix smtpd(8).
 */
final class SmtpdLineFramer {
    private final SmtpdSession s;
    private final SmtpdSettings settings;
    private final BareNewline bareNewline;
    private final byte[] line;
    private int lineLength;
    /* lines completed (smtpd_per_record_deadline) */
    private long records;
    private boolean skippingLongCommand;
    /** Input that arrived while the session was suspended, in order. */
    private final Deque<byte[]> held = new ArrayDeque<>();
    /** Input that followed the current command line in the same read, or null. */
    private byte[] pipelined;
    /** A command line held back by the tarpit, processed first when the delay is over. */
    private byte[] tarpitLine;
    private boolean tarpitDone;
    /** The content line a BDAT chunk ended in, put aside while commands are read; or null. */
    private byte[] chunkCarry;

    SmtpdLineFramer(SmtpdSession session, SmtpdSettings settings, BareNewline bareNewline) {
        this.s = session;
        this.settings = settings;
        this.bareNewline = bareNewline;
        this.line = new byte[settings.limits().lineLengthLimit()];
    }

    /** line - the line buffer: the current line is line[0..len) of the call that passes it on. */
    byte[] line() {
        return line;
    }

    /** pipelined - what the client sent after the command being processed, without waiting; or null. */
    byte[] pipelined() {
        return pipelined;
    }

    /** firstHeld - the first input held back, or null. */
    byte[] firstHeld() {
        return held.peekFirst();
    }

    /** input - process bytes received from the client (any chunking). */
    void input(byte[] data, int offset, int length) {
        if (s.closed || s.tlsPending) {
            // After STARTTLS nothing that came in plaintext may be acted on (CVE-2011-0411).
            return;
        }
        if (s.suspended) {
            held.addLast(Arrays.copyOfRange(data, offset, offset + length));
            return;
        }
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            if (s.closed || s.tlsPending) {
                return; // the rest of the plaintext after STARTTLS is dropped unread
            }
            if (s.suspended) {
                // End of DATA started an enqueue: keep the rest, ahead of later input.
                held.addFirst(Arrays.copyOfRange(data, i, end));
                return;
            }
            byte c = data[i];
            if (s.data.chunkRemaining() > 0) {
                s.data.chunkByte(c);
                continue;
            }
            if (s.content.inData()) {
                s.content.countReceived();
            }
            if (skippingLongCommand) {
                if (c == '\n') {
                    skippingLongCommand = false;
                    commandTooLong();
                }
                continue;
            }
            if (c == '\n') {
                int len = lineLength;
                lineLength = 0;
                // what the client sent after this line without waiting for the reply
                pipelined = i + 1 < end ? Arrays.copyOfRange(data, i + 1, Math.min(end, i + 101))
                        : held.isEmpty() ? null : held.peekFirst();
                completeLine(len);
                pipelined = null;
            } else {
                if (lineLength == line.length) {
                    // line_length_limit reached without LF: a partial line (Postfix smtp_get bound).
                    int len = lineLength;
                    lineLength = 0;
                    partialLine(len);
                    if (skippingLongCommand) {
                        continue; // this byte belongs to the over-long command being skipped
                    }
                }
                line[lineLength++] = c;
            }
        }
    }

    /** recordInProgress - part of a line or of a BDAT chunk has arrived, its end not yet (smtpd_per_record_deadline). */
    boolean recordInProgress() {
        return lineLength > 0 || skippingLongCommand || s.data.chunkRemaining() > 0;
    }

    /** records - the lines completed so far (a new record began when this changed). */
    long records() {
        return records;
    }

    /** completeLine - a line ended by LF: strip CRLF or note the bare LF. */
    private void completeLine(int len) {
        records++;
        boolean bareLf = false;
        if (bareNewline == BareNewline.NO) {
            // noted all the same: a dot line next to it ends DATA only for an LF-only client (SmtpdContent)
            bareLf = len == 0 || line[len - 1] != '\r';
            while (len > 0 && line[len - 1] == '\r') {
                len--;
            }
        } else if (len > 0 && line[len - 1] == '\r') {
            len--;
        } else {
            bareLf = true;
        }
        int chatMark = s.chat.mark();
        try {
            if (s.content.inData()) {
                s.content.dataLine(len, true, bareLf);
            } else if (!tarpit(len, bareLf) && !bareLfCommand(bareLf)) {
                s.commandLine(line, len);
            }
        } catch (SmtpdCheckContext.DnsPending | SmtpdCheck.PolicyPending pending) {
            // the line is processed again when the answers are in: keep it in the transcript once
            s.chat.rewind(chatMark);
            // The restrictions need DNS or policy server answers: hold this line, wait
            // without blocking, then process it again (the answers are kept by then).
            byte[] saved = lineBytes(len, bareLf);
            CompletableFuture<Void> future = pending instanceof SmtpdCheckContext.DnsPending d ? d.future
                    : ((SmtpdCheck.PolicyPending) pending).future();
            s.await(future, () -> {
                tarpitDone = !s.content.inData(); // a command's tarpit, if any, was served before the first attempt
                input(saved, 0, saved.length);
            });
        }
    }

    /**
     * bareLfCommand - smtpd_forbid_bare_newline for a command line ended by a bare LF:
     * reject it and hang up, or note it in the log. True when the session is over.
     */
    private boolean bareLfCommand(boolean bareLf) {
        if (bareLf && bareNewline == BareNewline.REJECT) {
            s.checks.log("reject", "bare <LF> received");
            s.reply(s.bareLfReply());
            s.hangup();
            return true;
        }
        if (bareLf && bareNewline == BareNewline.NOTE) {
            s.maillog.info("bare <LF> received from " + s.namaddr());
        }
        return false;
    }

    /** lineBytes - the current line again, with its line end, to be processed later. */
    private byte[] lineBytes(int len, boolean bareLf) {
        byte[] saved = Arrays.copyOf(line, len + (bareLf ? 1 : 2));
        if (bareLf) {
            saved[len] = '\n';
        } else {
            saved[len] = '\r';
            saved[len + 1] = '\n';
        }
        return saved;
    }

    /** partialLine - line_length_limit bytes without LF. */
    private void partialLine(int len) {
        records++;   // a piece of line_length_limit octets is a record of its own, as in Postfix
        if (s.content.inData()) {
            s.content.dataLine(len, false, false);
        } else {
            // Postfix skips the rest of an over-long command to stay in sync.
            skippingLongCommand = true;
        }
    }

    /** commandTooLong - a command over line_length_limit (skipped to its end). */
    private void commandTooLong() {
        SmtpdSession.LOG.warning("PSTN1002: " + s.namaddr() + ": request longer than " + settings.limits().lineLengthLimit());
        // Counted as an error (Postfix does not): endless long lines must hit the error limit.
        s.error("500 5.5.2 " + settings.identity().myhostname() + " Error: command too long");
        s.hardErrorLimit();
    }

    /**
     * tarpit - smtpd_error_sleep_time: once the client has made smtpd_soft_error_limit
     * errors, every reply waits (Postfix sleeps before each reply). The command line is
     * held and processed when the delay is over; reading stops meanwhile, so pipelined
     * commands wait their turn. True when the line was held.
     */
    private boolean tarpit(int len, boolean bareLf) {
        if (tarpitDone) {
            tarpitDone = false;
            return false;
        }
        if (s.errorCount < settings.limits().softErrorLimit() || settings.limits().errorSleepTime().isZero()) {
            return false;
        }
        tarpitLine = lineBytes(len, bareLf);
        s.delay(settings.limits().errorSleepTime(), () -> {
            byte[] l = tarpitLine;
            tarpitLine = null;
            tarpitDone = true;
            input(l, 0, l.length);
        });
        return true;
    }

    /**
     * chunkOctet - one octet of a BDAT chunk, framed into content lines: CRLF or a bare
     * LF ends a line (the chunk has no dot-stuffing and no end marker), and a line over
     * line_length_limit is passed on in pieces.
     */
    void chunkOctet(byte c) {
        resumeChunkLine();
        if (c == '\n') {
            int len = lineLength;
            lineLength = 0;
            if (len > 0 && line[len - 1] == '\r') {
                len--;
            }
            s.content.contentLine(len, true);
        } else {
            if (lineLength == line.length) {
                int len = lineLength;
                lineLength = 0;
                s.content.contentLine(len, false);
            }
            line[lineLength++] = c;
        }
    }

    /**
     * chunkEnd - a chunk other than the last is complete. RFC 3030 lets a chunk end anywhere,
     * in the middle of a line (Postern's own client cuts at 64 KB): the part of the line
     * received so far is put aside until the next chunk, so that the line buffer is empty
     * for the next command ("BDAT n LAST" must not be read as the rest of a content line),
     * and the content sees its lines as if the chunks were one.
     */
    void chunkEnd() {
        if (lineLength > 0) {
            chunkCarry = Arrays.copyOf(line, lineLength);
            lineLength = 0;
        }
    }

    /* resumeChunkLine - the content line a previous chunk ended in continues here */
    private void resumeChunkLine() {
        if (chunkCarry != null) {
            System.arraycopy(chunkCarry, 0, line, 0, chunkCarry.length);
            lineLength = chunkCarry.length;
            chunkCarry = null;
        }
    }

    /** chunkLast - the last line of a BDAT LAST message, when it has no CRLF. */
    void chunkLast() {
        resumeChunkLine(); // BDAT 0 LAST after a chunk that ended in mid-line
        if (lineLength > 0) {
            int len = lineLength;
            lineLength = 0;
            s.content.contentLine(len, true);
        }
    }

    /** clearLine - forget a partial line (a discarded chunk, an aborted BDAT transaction). */
    void clearLine() {
        lineLength = 0;
        chunkCarry = null;
    }

    /** discard - drop the held input and the partial line (STARTTLS, end of session). */
    void discard() {
        held.clear();
        lineLength = 0;
        chunkCarry = null;
    }

    /** restart - the TLS handshake is done: nothing of the plaintext is left. */
    void restart() {
        discard();
        skippingLongCommand = false;
    }

    /** replayHeld - process input that arrived while the session was suspended. */
    void replayHeld() {
        while (!held.isEmpty() && !s.suspended && !s.closed) {
            byte[] chunk = held.pollFirst();
            input(chunk, 0, chunk.length);
        }
        if (!s.suspended && !s.closed) {
            s.transport.flush();
        }
    }

    /** improperPipelining - log the first command sent ahead of time where RFC 2920 forbids it. */
    void logImproperPipelining(String after, byte[] ahead) {
        s.maillog.info("improper command pipelining after " + after + " from " + s.namaddr() + ": "
                + printable(new String(ahead, StandardCharsets.UTF_8), 100));
    }
}
