package org.postern.events;

import java.nio.charset.StandardCharsets;

/**
 * MessageIds - the Message-ID of a message, from the start of its content, for its
 * delivery events.
 *
 * <h2>DESCRIPTION</h2>
 * Reads the header (up to the first empty line, or the end of the bytes given) and returns
 * the value of the first Message-ID field (RFC 5322 section 3.6.4), unfolded and trimmed;
 * null when there is none. The header is read as ISO-8859-1, so that no byte is refused;
 * a Message-ID is ASCII. Only the bytes given are read: the caller passes what it has in
 * memory, or the first content chunk.
 */
public final class MessageIds {
    private static final byte[] NAME = "message-id:".getBytes(StandardCharsets.US_ASCII);

    private MessageIds() {
    }

    /** find - the Message-ID of the header at the start of content, or null. */
    public static String find(byte[] content) {
        if (content == null) {
            return null;
        }
        int i = 0;
        int n = content.length;
        while (i < n) {
            int eol = lineEnd(content, i);
            if (eol == i || (eol == i + 1 && content[i] == '\r')) {
                return null;
            }
            if (startsWithName(content, i, eol)) {
                StringBuilder value = new StringBuilder(new String(content, i + NAME.length,
                        trimCr(content, i, eol) - i - NAME.length, StandardCharsets.ISO_8859_1));
                int next = eol + 1;
                // continuation lines (folding) belong to the field
                while (next < n && (content[next] == ' ' || content[next] == '\t')) {
                    int e = lineEnd(content, next);
                    value.append(new String(content, next, trimCr(content, next, e) - next, StandardCharsets.ISO_8859_1));
                    next = e + 1;
                }
                String v = value.toString().trim();
                return v.isEmpty() ? null : v;
            }
            i = eol + 1;
        }
        return null;
    }

    private static int lineEnd(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return b.length;
    }

    private static int trimCr(byte[] b, int from, int eol) {
        return eol > from && b[eol - 1] == '\r' ? eol - 1 : eol;
    }

    private static boolean startsWithName(byte[] b, int from, int eol) {
        if (eol - from < NAME.length) {
            return false;
        }
        for (int k = 0; k < NAME.length; k++) {
            int c = b[from + k];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != NAME[k]) {
                return false;
            }
        }
        return true;
    }
}
