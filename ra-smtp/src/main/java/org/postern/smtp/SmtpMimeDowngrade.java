package org.postern.smtp;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * SmtpMimeDowngrade - 8BITMIME to 7BIT conversion for a server that does not announce
 * 8BITMIME (RFC 6152 section 3; Postfix's disable_mime_output_conversion = no).
 *
 * <h2>DESCRIPTION</h2>
 * A one-pass MIME walk with the rules of Postfix's mime_state(3) in MIME_OPT_DOWNGRADE
 * mode. Every entity (the message, each part of a multipart, the message inside a
 * message/rfc822 part) has a content type and an encoding domain: 7bit unless its
 * Content-Transfer-Encoding says 8bit or binary (quoted-printable and base64 are 7bit).
 * <ul>
 * <li>An entity in the 8bit or binary domain loses its Content-Transfer-Encoding field;
 * at the end of its header block it gets "Content-Transfer-Encoding: 7bit" when it is a
 * multipart or message entity (whose parts are converted on their own), and
 * "Content-Transfer-Encoding: quoted-printable" otherwise, with its body encoded
 * quoted-printable (RFC 2045 section 6.7: line breaks stay hard line breaks, trailing
 * white space is encoded, soft breaks keep encoded lines within 76 characters).</li>
 * <li>Entities in the 7bit domain (7bit, quoted-printable, base64 parts, and parts
 * without the field) are copied byte for byte, and so are boundary lines, preambles and
 * epilogues: boundaries never change.</li>
 * <li>multipart/* parts default to text/plain, multipart/digest parts to message/rfc822
 * (RFC 2046 section 5.1.5); message/rfc822 bodies start with headers of their own and are
 * walked; message/partial and message/external-body are not (they cannot be converted).</li>
 * <li>Header fields are never changed apart from Content-Transfer-Encoding; 8-bit bytes
 * in header fields stay as they are, as in Postfix.</li>
 * </ul>
 * One addition to Postfix: a message whose primary header has no Content-Transfer-Encoding
 * and whose type is text (or absent, which RFC 2045 section 5.2 makes text/plain) is taken
 * as 8bit, because the client only converts mail that came with BODY=8BITMIME; and a
 * converted message without MIME-Version gets "MIME-Version: 1.0", so that the new
 * Content-Transfer-Encoding field means something (RFC 2045 section 4).
 *
 * <h2>SECURITY</h2>
 * Each header block is buffered up to {@link #HEADER_LIMIT} bytes (Postfix's
 * header_size_limit); a larger one ends the conversion and the rest of the message is
 * sent as it is. Multipart nesting is bounded by mime_nesting_limit (default
 * {@link #NESTING_LIMIT}) and boundary strings are truncated to mime_boundary_length_limit
 * (default {@link #BOUNDARY_LIMIT}), as Postfix does; body lines are streamed in chunks of at
 * most {@link #CHUNK} bytes.
 *
 * <h2>BUGS</h2>
 * The limits are Postfix's defaults, not read from main.cf. Parts that claim 7bit but hold
 * 8-bit bytes are sent as they are (Postfix does the same). Non-text 8-bit parts become
 * quoted-printable, not base64 (Postfix: "we're not going to convert non-text data into
 * base 64").
 */
final class SmtpMimeDowngrade {

    /** bound on one buffered header block (header_size_limit): a longer one ends the conversion */
    static final int HEADER_LIMIT = 102_400;
    /** multipart levels followed (mime_nesting_limit) */
    static final int NESTING_LIMIT = 100;
    /** significant length of a boundary string (mime_boundary_length_limit) */
    static final int BOUNDARY_LIMIT = 2048;
    /** body bytes read at a time when a line is longer */
    static final int CHUNK = 8192;

    private static final byte[] CTE_QP = ascii("Content-Transfer-Encoding: quoted-printable\r\n");
    private static final byte[] CTE_7BIT = ascii("Content-Transfer-Encoding: 7bit\r\n");
    private static final byte[] MIME_VERSION = ascii("MIME-Version: 1.0\r\n");

    private enum Type { TEXT, MESSAGE, MULTIPART, OTHER }

    private enum Headers { PRIMARY, MULTIPART, NESTED }

    /* Frame - one open multipart: its boundary and the default type of its parts */
    private record Frame(byte[] boundary, Type partType, boolean partRfc822) {
    }

    private final InputStream in;
    private final OutputStream out;
    private final Deque<Frame> stack = new ArrayDeque<>();
    private final QuotedPrintable qp;
    /* the current entity */
    private Type type = Type.TEXT;
    private boolean rfc822;
    private boolean eightBit;
    private boolean converted;

    /* mime_nesting_limit, mime_boundary_length_limit */
    private final int nestingLimit;
    private final int boundaryLimit;

    private SmtpMimeDowngrade(InputStream in, OutputStream out, int nestingLimit, int boundaryLimit) {
        this.nestingLimit = Math.max(1, nestingLimit);
        this.boundaryLimit = Math.max(1, boundaryLimit);
        this.in = new BufferedInputStream(in, CHUNK);
        this.out = out;
        this.qp = new QuotedPrintable(out);
    }

    /**
     * copy - write {@code in} to {@code out}, each 8-bit entity converted; returns true when
     * something was converted.
     */
    static boolean copy(InputStream in, OutputStream out) throws IOException {
        return copy(in, out, NESTING_LIMIT, BOUNDARY_LIMIT);
    }

    /** copy - the same with mime_nesting_limit and mime_boundary_length_limit. */
    static boolean copy(InputStream in, OutputStream out, int nestingLimit, int boundaryLimit) throws IOException {
        return new SmtpMimeDowngrade(in, out, nestingLimit, boundaryLimit).run();
    }

    /* run - header blocks and bodies in turn until the end of the content */
    private boolean run() throws IOException {
        Headers block = Headers.PRIMARY;
        entity(Type.TEXT, false);
        while (block != null) {
            Block h = readHeaderBlock();
            if (h.overflow || h.end == null) {
                // a header block too large to convert, or the end of the content: nothing more to convert
                for (byte[] line : h.lines) {
                    out.write(line);
                }
                in.transferTo(out);
                return converted;
            }
            writeHeaders(h, block);
            byte[] first = null;
            if (isBlank(h.end)) {
                out.write(h.end);
                if (type == Type.MESSAGE && rfc822) {
                    // RFC 2046 section 5.2.1: the body of message/rfc822 is a message with headers of its own
                    block = Headers.NESTED;
                    entity(Type.TEXT, false);
                    continue;
                }
                if (type == Type.MULTIPART) {
                    entity(Type.OTHER, false);   // the preamble
                }
            } else {
                // no empty line: the body starts here; in the primary header Postfix inserts the empty line
                if (block == Headers.PRIMARY) {
                    out.write('\r');
                    out.write('\n');
                }
                first = h.end;
            }
            block = body(first);
        }
        qp.end();
        return converted;
    }

    /* entity - the defaults of a new entity: its type and the 7bit domain */
    private void entity(Type t, boolean isRfc822) {
        type = t;
        rfc822 = isRfc822;
        eightBit = false;
    }

    /*
     * body - body lines (the first one given, or null) up to a boundary line that opens a
     * part, which is copied as it is; returns MULTIPART then, or null at the end of the content.
     */
    private Headers body(byte[] first) throws IOException {
        boolean lineStart = true;
        byte[] line = first != null ? first : readLine(CHUNK);
        while (line != null) {
            int b = lineStart && !stack.isEmpty() ? boundary(line) : NOT_A_BOUNDARY;
            if (b != NOT_A_BOUNDARY) {
                out.write(line);
                // a boundary line longer than a chunk (a boundary past mime_boundary_length_limit):
                // its rest is part of it, not the first header line of the part
                while (line[line.length - 1] != '\n') {
                    byte[] rest = readLine(CHUNK);
                    if (rest == null) {
                        return b == OPENS_PART ? Headers.MULTIPART : null;
                    }
                    out.write(rest);
                    line = rest;
                }
                if (b == OPENS_PART) {
                    return Headers.MULTIPART;
                }
            } else if (eightBit) {
                qp.write(line, line[line.length - 1] == '\n');
            } else {
                out.write(line);
            }
            lineStart = line[line.length - 1] == '\n';
            line = readLine(CHUNK);
        }
        return null;
    }

    private static final int NOT_A_BOUNDARY = 0;
    private static final int OPENS_PART = 1;
    private static final int CLOSES_MULTIPART = 2;

    /*
     * boundary - a "--boundary" or "--boundary--" line of an open multipart (RFC 2046 section
     * 5.1.1); like Postfix, inner multiparts whose boundary was skipped are closed too, and
     * anything after the boundary is ignored. Sets up the entity that follows.
     */
    private int boundary(byte[] line) {
        if (line.length < 3 || line[0] != '-' || line[1] != '-') {
            return NOT_A_BOUNDARY;
        }
        for (Iterator<Frame> it = stack.iterator(); it.hasNext(); ) {
            Frame f = it.next();
            if (!startsWith(line, 2, f.boundary)) {
                continue;
            }
            while (stack.peek() != f) {
                stack.pop();
            }
            int after = 2 + f.boundary.length;
            if (line.length >= after + 2 && line[after] == '-' && line[after + 1] == '-') {
                stack.pop();
                entity(Type.OTHER, false);   // the epilogue
                return CLOSES_MULTIPART;
            }
            entity(f.partType, f.partRfc822);
            return OPENS_PART;
        }
        return NOT_A_BOUNDARY;
    }

    // ---------------------------------------------------------------- header blocks

    /* Block - the header lines of one entity, and the line that ended them (null: end of content) */
    private static final class Block {
        final List<byte[]> lines = new ArrayList<>();
        byte[] end;
        boolean overflow;
    }

    /* readHeaderBlock - header fields (with continuation lines) up to the empty or first non-header line */
    private Block readHeaderBlock() throws IOException {
        Block b = new Block();
        int size = 0;
        while (true) {
            byte[] line = readLine(HEADER_LIMIT - size + 1);
            if (line == null) {
                return b;
            }
            size += line.length;
            if (size > HEADER_LIMIT) {
                b.lines.add(line);
                b.overflow = true;
                return b;
            }
            boolean continuation = !b.lines.isEmpty() && (line[0] == ' ' || line[0] == '\t') && !isBlank(line);
            if (continuation || fieldName(line) != null) {
                b.lines.add(line);
            } else {
                b.end = line;
                return b;
            }
        }
    }

    /* writeHeaders - the header block, Content-Transfer-Encoding replaced when the entity is 8-bit */
    private void writeHeaders(Block h, Headers block) throws IOException {
        List<List<byte[]>> fields = new ArrayList<>();
        for (byte[] line : h.lines) {
            if (fieldName(line) != null || fields.isEmpty()) {
                fields.add(new ArrayList<>());
            }
            fields.get(fields.size() - 1).add(line);
        }
        boolean cte = false;
        boolean mimeVersion = false;
        for (List<byte[]> f : fields) {
            String name = fieldName(f.get(0));
            String value = unfold(f);
            if ("content-type".equals(name)) {
                contentType(value);
            } else if ("content-transfer-encoding".equals(name)) {
                cte = true;
                String token = value.trim().toLowerCase(Locale.ROOT).split("[\\s;(]", 2)[0];
                switch (token) {
                    case "8bit", "binary" -> eightBit = true;
                    case "7bit", "quoted-printable", "base64" -> eightBit = false;
                    default -> { }   // an unknown encoding leaves the domain as it was (Postfix)
                }
            } else if ("mime-version".equals(name)) {
                mimeVersion = true;
            }
        }
        if (block == Headers.PRIMARY && !cte && type == Type.TEXT) {
            eightBit = true;   // Postern: an unlabelled text message that came with BODY=8BITMIME is 8-bit
        }
        if (type == Type.MESSAGE && !rfc822) {
            eightBit = false;   // message/partial, message/external-body: no conversion possible (RFC 2046 5.2)
        }
        // Postern: the new field means something only under MIME-Version (RFC 2045 section 4)
        boolean addMimeVersion = eightBit && block == Headers.PRIMARY && !mimeVersion;
        for (List<byte[]> f : fields) {
            if (eightBit && "content-transfer-encoding".equals(fieldName(f.get(0)))) {
                continue;
            }
            for (byte[] line : f) {
                out.write(line);
            }
        }
        if (eightBit) {
            if (addMimeVersion) {
                out.write(MIME_VERSION);
            }
            boolean composite = type == Type.MESSAGE || type == Type.MULTIPART;
            out.write(composite ? CTE_7BIT : CTE_QP);
            converted = true;
            if (composite) {
                eightBit = false;   // the parts are converted one by one; the rest of this entity is 7-bit
            }
        }
    }

    /* contentType - type, subtype and, for multipart, the boundary (pushed as Postfix does) */
    private void contentType(String value) {
        String v = value.trim();
        int semi = v.indexOf(';');
        String media = (semi < 0 ? v : v.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        int slash = media.indexOf('/');
        String t = slash < 0 ? media : media.substring(0, slash).trim();
        String sub = slash < 0 ? "" : media.substring(slash + 1).trim();
        rfc822 = false;
        switch (t) {
            case "text" -> type = Type.TEXT;
            case "message" -> {
                type = Type.MESSAGE;
                rfc822 = sub.equals("rfc822");
            }
            case "multipart" -> {
                type = Type.MULTIPART;
                String b = parameter(semi < 0 ? "" : v.substring(semi + 1), "boundary");
                if (b != null && !b.isEmpty() && stack.size() < nestingLimit) {
                    byte[] bytes = b.getBytes(StandardCharsets.ISO_8859_1);
                    if (bytes.length > boundaryLimit) {
                        bytes = java.util.Arrays.copyOf(bytes, boundaryLimit);
                    }
                    boolean digest = sub.equals("digest");
                    stack.push(new Frame(bytes, digest ? Type.MESSAGE : Type.TEXT, digest));
                }
            }
            default -> type = Type.OTHER;
        }
    }

    /* parameter - a Content-Type parameter value (token or quoted-string), or null */
    static String parameter(String params, String wanted) {
        int i = 0;
        int n = params.length();
        while (i < n) {
            while (i < n && (params.charAt(i) == ';' || Character.isWhitespace(params.charAt(i)))) {
                i++;
            }
            int eq = params.indexOf('=', i);
            if (eq < 0) {
                return null;
            }
            String name = params.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            i = eq + 1;
            while (i < n && Character.isWhitespace(params.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && params.charAt(i) == '"') {
                i++;
                while (i < n && params.charAt(i) != '"') {
                    char c = params.charAt(i++);
                    if (c == '\\' && i < n) {
                        c = params.charAt(i++);
                    }
                    value.append(c);
                }
                i++;
            } else {
                while (i < n && params.charAt(i) != ';' && !Character.isWhitespace(params.charAt(i))) {
                    value.append(params.charAt(i++));
                }
            }
            if (name.equals(wanted)) {
                return value.toString();
            }
            while (i < n && params.charAt(i) != ';') {
                i++;
            }
        }
        return null;
    }

    /* fieldName - the lower-case name of a header field line (RFC 5322 ftext, then ":"), or null */
    private static String fieldName(byte[] line) {
        int i = 0;
        while (i < line.length && line[i] >= 33 && line[i] <= 126 && line[i] != ':') {
            i++;
        }
        if (i == 0) {
            return null;
        }
        int name = i;
        while (i < line.length && (line[i] == ' ' || line[i] == '\t')) {
            i++;   // the obsolete "name :" form
        }
        if (i >= line.length || line[i] != ':') {
            return null;
        }
        return new String(line, 0, name, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
    }

    /* unfold - a field's value with its continuation lines joined */
    private static String unfold(List<byte[]> field) {
        StringBuilder b = new StringBuilder();
        for (byte[] line : field) {
            b.append(new String(line, StandardCharsets.ISO_8859_1).replaceAll("[\r\n]+$", "")).append(' ');
        }
        String s = b.toString();
        return s.substring(s.indexOf(':') + 1);
    }

    private static boolean isBlank(byte[] line) {
        return line.length == 1 && line[0] == '\n' || line.length == 2 && line[0] == '\r' && line[1] == '\n';
    }

    private static boolean startsWith(byte[] line, int from, byte[] prefix) {
        if (line.length - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (line[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /* readLine - one line with its LF, or at most max bytes of it; null at the end of the content */
    private byte[] readLine(int max) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while (b.size() < max && (c = in.read()) >= 0) {
            b.write(c);
            if (c == '\n') {
                break;
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * QuotedPrintable - RFC 2045 section 6.7 encoding of body lines that may arrive in
     * chunks: rule 3 (white space before a line break is encoded), rule 5 (soft breaks keep
     * lines within 76 characters), hard line breaks as CRLF.
     */
    static final class QuotedPrintable {
        private static final int LINE = 76;
        private static final byte[] HEX = ascii("0123456789ABCDEF");
        private final OutputStream out;
        private int column;
        private int pendingSpace = -1;

        QuotedPrintable(OutputStream out) {
            this.out = out;
        }

        /* write - a chunk of one line; {@code lineEnd}: it ends with LF (or CRLF), a hard line break */
        void write(byte[] b, boolean lineEnd) throws IOException {
            int end = b.length;
            if (lineEnd) {
                end--;
                if (end > 0 && b[end - 1] == '\r') {
                    end--;
                }
            }
            for (int i = 0; i < end; i++) {
                int c = b[i] & 0xff;
                if (pendingSpace >= 0) {
                    put(pendingSpace, true);
                    pendingSpace = -1;
                }
                if (c == ' ' || c == '\t') {
                    pendingSpace = c;   // literal unless the line ends here
                } else {
                    put(c, c >= 33 && c <= 126 && c != '=');
                }
            }
            if (lineEnd) {
                end();
                out.write('\r');
                out.write('\n');
                column = 0;
            }
        }

        /* end - the content or the line ends: a pending white space is encoded (rule 3) */
        void end() throws IOException {
            if (pendingSpace >= 0) {
                put(pendingSpace, false);
                pendingSpace = -1;
            }
        }

        private void put(int c, boolean literal) throws IOException {
            int width = literal ? 1 : 3;
            if (column + width > LINE - 1) {
                out.write('=');
                out.write('\r');
                out.write('\n');
                column = 0;
            }
            if (literal) {
                out.write(c);
            } else {
                out.write('=');
                out.write(HEX[c >> 4]);
                out.write(HEX[c & 0xf]);
            }
            column += width;
        }
    }
}
