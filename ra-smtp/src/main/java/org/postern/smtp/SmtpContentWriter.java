package org.postern.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * SmtpContentWriter - copies stored message content into the DATA stream: CRLF line
 * endings, dot-stuffing (RFC 5321 section 4.5.2: a line that starts with "." gets another
 * "."), and folding of lines longer than smtp_line_length_limit. For BDAT (RFC 3030) the
 * same without dot-stuffing: a chunk is counted in octets, "." means nothing in it.
 *
 * <p>Folding is Postfix's: a line longer than the limit is broken by inserting
 * "&lt;CR&gt;&lt;LF&gt;&lt;SPACE&gt;" so that no line sent exceeds the limit (the inserted space counts),
 * "to minimize the damage to MIME formatted mail" (postconf(5)). A limit of 0 disables it.
 * The final "." is not written here.
 *
 * <p>A session keeps one writer for all its messages ({@link #reset} between them): its two
 * buffers are allocated once per session, not once per message.
 */
final class SmtpContentWriter {

    private final OutputStream out;
    private final int lineLimit;
    private final boolean dotStuffing;
    private final byte[] buf = new byte[8192];
    private final byte[] in = new byte[8192];
    private int fill;
    private int column;              // characters on the current output line
    private boolean lineStart = true; // at the start of a line of the original content
    private boolean pendingCr;

    SmtpContentWriter(OutputStream out, int lineLimit) {
        this(out, lineLimit, true);
    }

    /** SmtpContentWriter - {@code dotStuffing} false for the content of BDAT chunks. */
    SmtpContentWriter(OutputStream out, int lineLimit, boolean dotStuffing) {
        this.out = out;
        this.lineLimit = Math.max(0, lineLimit);
        this.dotStuffing = dotStuffing;
    }

    /** reset - forget the previous message (also one abandoned half-way): the next starts a line. */
    void reset() {
        fill = 0;
        column = 0;
        lineStart = true;
        pendingCr = false;
    }

    /** copy - write all of {@code content}, ending with a complete line. */
    void copy(InputStream content) throws IOException {
        int n;
        while ((n = content.read(in)) > 0) {
            write(in, 0, n);
        }
        finish();
    }

    /** write - more content (for a producer that pushes, e.g. {@link SmtpMimeDowngrade}). */
    void write(byte[] in, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) {
            accept(in[i]);
        }
    }

    /** finish - end the content with a complete line and send what is buffered (as the final "." must start a line, so a BDAT message ends with CRLF). */
    void finish() throws IOException {
        if (pendingCr || !lineStart) {
            // the content ended without a line terminator: the final "." must start a line
            pendingCr = false;
            endLine();
        }
        drain();
    }

    private void accept(byte b) throws IOException {
        if (b == '\n') {
            pendingCr = false;
            endLine();
            return;
        }
        if (pendingCr) {
            pendingCr = false;
            data((byte) '\r');   // a bare CR is data, not a line ending
        }
        if (b == '\r') {
            pendingCr = true;
            return;
        }
        data(b);
    }

    private void data(byte b) throws IOException {
        if (lineStart && b == '.' && dotStuffing) {
            put((byte) '.');
        }
        lineStart = false;
        if (lineLimit > 0 && column >= lineLimit) {
            put((byte) '\r');
            put((byte) '\n');
            put((byte) ' ');
            column = 1;
        }
        put(b);
        column++;
    }

    private void endLine() throws IOException {
        put((byte) '\r');
        put((byte) '\n');
        column = 0;
        lineStart = true;
    }

    private void put(byte b) throws IOException {
        if (fill == buf.length) {
            drain();
        }
        buf[fill++] = b;
    }

    private void drain() throws IOException {
        if (fill > 0) {
            out.write(buf, 0, fill);
            fill = 0;
        }
    }
}
