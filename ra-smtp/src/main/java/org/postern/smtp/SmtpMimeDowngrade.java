package org.postern.smtp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * SmtpMimeDowngrade - 8BITMIME to 7BIT conversion for a server that does not announce
 * 8BITMIME (RFC 6152 section 3; Postfix's disable_mime_output_conversion = no).
 *
 * <h2>DESCRIPTION</h2>
 * Converts a single-part message whose type is text/* (or absent, which RFC 2045 section 5.2
 * makes text/plain) and whose Content-Transfer-Encoding is absent, 7bit or 8bit: the body
 * is encoded quoted-printable (RFC 2045 section 6.7; line breaks stay hard line breaks,
 * soft breaks keep encoded lines within 76 characters), the Content-Transfer-Encoding
 * header is replaced by "quoted-printable", and MIME-Version: 1.0 is added when missing.
 * <p>
 * Everything else goes out unchanged: multipart and message/* bodies (no recursive
 * conversion yet), non-text types, binary or already-encoded bodies, and header blocks
 * larger than {@link #HEADER_LIMIT}. Header fields themselves are never changed apart from
 * the two named above; 8-bit bytes in headers stay as they are.
 *
 * <h2>SECURITY</h2>
 * The header block is buffered up to {@link #HEADER_LIMIT} bytes (Postfix's
 * header_size_limit); the body is streamed.
 */
final class SmtpMimeDowngrade {

    /** bound on the buffered header block: a longer one is sent unconverted */
    static final int HEADER_LIMIT = 102_400;
    private static final int QP_LINE = 76;
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private SmtpMimeDowngrade() {
    }

    /**
     * copy - write {@code in} to {@code out}, converted when that is possible; returns
     * true when the body was converted.
     */
    static boolean copy(InputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        List<byte[]> lines = new ArrayList<>();
        boolean complete = false;
        while (header.size() < HEADER_LIMIT) {
            byte[] line = readLine(in);
            if (line == null) {
                break;
            }
            header.write(line);
            lines.add(line);
            if (isBlank(line)) {
                complete = true;
                break;
            }
        }
        if (!complete || !convertible(lines)) {
            header.writeTo(out);
            in.transferTo(out);
            return false;
        }
        boolean mimeVersion = false;
        for (int i = 0; i < lines.size() - 1; i++) {
            String name = fieldName(lines.get(i));
            if (name != null && name.equals("mime-version")) {
                mimeVersion = true;
            }
        }
        for (int i = 0; i < lines.size() - 1; i++) {
            String name = fieldName(lines.get(i));
            if ("content-transfer-encoding".equals(name)) {
                // skip the field and its continuation lines
                while (i + 1 < lines.size() - 1 && isContinuation(lines.get(i + 1))) {
                    i++;
                }
                continue;
            }
            out.write(lines.get(i));
        }
        if (!mimeVersion) {
            out.write("MIME-Version: 1.0\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write("Content-Transfer-Encoding: quoted-printable\r\n".getBytes(StandardCharsets.US_ASCII));
        out.write(lines.get(lines.size() - 1));   // the empty line
        byte[] line;
        while ((line = readLine(in)) != null) {
            encodeLine(line, out);
        }
        return true;
    }

    /* convertible - a single text part in 7bit/8bit that quoted-printable can carry */
    private static boolean convertible(List<byte[]> lines) {
        String type = unfolded(lines, "content-type");
        String cte = unfolded(lines, "content-transfer-encoding");
        if (type != null) {
            String t = type.trim().toLowerCase(Locale.ROOT);
            if (!t.startsWith("text/")) {
                return false;
            }
        }
        if (cte != null) {
            String e = cte.trim().toLowerCase(Locale.ROOT);
            int semi = e.indexOf(';');
            e = (semi >= 0 ? e.substring(0, semi) : e).trim();
            return e.equals("7bit") || e.equals("8bit");
        }
        return true;
    }

    /* unfolded - the value of the first field of this name, continuation lines joined */
    private static String unfolded(List<byte[]> lines, String wanted) {
        for (int i = 0; i < lines.size(); i++) {
            if (wanted.equals(fieldName(lines.get(i)))) {
                StringBuilder b = new StringBuilder(value(lines.get(i)));
                while (i + 1 < lines.size() && isContinuation(lines.get(i + 1))) {
                    b.append(' ').append(text(lines.get(++i)).trim());
                }
                return b.toString();
            }
        }
        return null;
    }

    private static String fieldName(byte[] line) {
        String s = text(line);
        int colon = s.indexOf(':');
        if (colon <= 0 || isContinuation(line)) {
            return null;
        }
        return s.substring(0, colon).trim().toLowerCase(Locale.ROOT);
    }

    private static String value(byte[] line) {
        String s = text(line);
        return s.substring(s.indexOf(':') + 1);
    }

    private static String text(byte[] line) {
        return new String(line, StandardCharsets.ISO_8859_1).replaceAll("[\r\n]+$", "");
    }

    private static boolean isContinuation(byte[] line) {
        return line.length > 0 && (line[0] == ' ' || line[0] == '\t');
    }

    private static boolean isBlank(byte[] line) {
        return text(line).isEmpty();
    }

    /* encodeLine - one body line in quoted-printable, CRLF-terminated, soft breaks at 76 */
    private static void encodeLine(byte[] line, OutputStream out) throws IOException {
        int end = line.length;
        boolean terminated = false;
        if (end > 0 && line[end - 1] == '\n') {
            end--;
            terminated = true;
            if (end > 0 && line[end - 1] == '\r') {
                end--;
            }
        }
        int column = 0;
        for (int i = 0; i < end; i++) {
            int b = line[i] & 0xff;
            boolean last = i == end - 1;
            // RFC 2045 6.7 rule 3: trailing white space must be encoded
            boolean literal = (b >= 33 && b <= 126 && b != '=') || ((b == ' ' || b == '\t') && !last);
            int width = literal ? 1 : 3;
            // leave room for the soft break "=" unless this is the line's last character
            if (column + width > (last ? QP_LINE : QP_LINE - 1)) {
                out.write('=');
                out.write('\r');
                out.write('\n');
                column = 0;
            }
            if (literal) {
                out.write(b);
            } else {
                out.write('=');
                out.write(HEX[b >> 4]);
                out.write(HEX[b & 0xf]);
            }
            column += width;
        }
        if (terminated) {
            out.write('\r');
            out.write('\n');
        }
    }

    /* readLine - one line with its terminator (LF or CRLF), or the unterminated rest; null at end */
    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            if (c == '\n') {
                break;
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }
}
