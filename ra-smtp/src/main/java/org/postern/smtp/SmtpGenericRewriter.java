package org.postern.smtp;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;

import org.postern.mail.AddressMapping;

/**
 * SmtpGenericRewriter - smtp_generic_maps and lmtp_generic_maps in the outgoing copy of a
 * message: the envelope addresses and the addresses in the primary message header.
 *
 * <h2>NAME</h2>
 * SmtpGenericRewriter - Postfix smtp(8)'s generic(5) mapping (smtp_map11 and
 * smtp_header_rewrite), for the SMTP and LMTP client.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #envelope} maps the envelope sender (not the null sender) and each envelope
 * recipient as they go into MAIL FROM and RCPT TO. {@link #content} wraps the stored
 * content so that the address fields of the primary header come out rewritten: the
 * headers that Postfix marks as sender or recipient headers (From, Sender, Reply-To,
 * Errors-To, Return-Path, Return-Receipt-To, Disposition-Notification-To,
 * Mail-Followup-To, To, Cc, Bcc, Apparently-To, Resent-From, Resent-Sender,
 * Resent-Reply-To, Resent-To, Resent-Cc, Resent-Bcc; names are case-insensitive). The
 * headers of attached messages and MIME parts are not rewritten, as in Postfix. Only the
 * outgoing copy changes: the queue keeps the original addresses, and the delivery log
 * lines (to=&lt;...&gt;), bounces and DSN ORCPT keep the original recipient.
 *
 * <p>A field value is read as an RFC 5322 address list: display names, comments, groups
 * ({@code name: a@b, c@d;}), angle addresses with or without a source route, and bare
 * addr-specs. Only the addr-spec itself is replaced (its local part quoted when it needs
 * to be); display names, comments, white space and the folding of the field (its CRLFs)
 * are kept byte for byte, so a folded field stays a valid folded field. A field whose
 * addresses the table does not change is passed on byte-identical, and so is a field that
 * does not parse (an unterminated quoted string, comment or domain literal, a stray
 * {@code >}), and an addr-spec with comments or white space inside it. Bytes of 8 bits
 * (RFC 6532 UTF-8) are kept; addresses are looked up as UTF-8.
 *
 * <p>The header ends at the empty line, at the first line that is not a header field or
 * its continuation, or at the end of the content; from there on the content is passed on
 * untouched.
 *
 * <h2>STANDARDS</h2>
 * RFC 5322 section 3.4 (address specification), RFC 6532 (UTF-8 headers), generic(5).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtp_generic_maps, lmtp_generic_maps, through {@link AddressMapping} (the lookup order,
 * recipient_delimiter, propagate_unmatched_extensions).
 *
 * <h2>BUGS</h2>
 * SIZE= in MAIL FROM is the queued size, as Postfix sends it, even when the rewritten
 * header makes the message a few bytes longer (RFC 1870's SIZE is the client's estimate).
 * A header field longer than {@link #FIELD_LIMIT} (Postfix's header_size_limit) ends the
 * rewriting: it and the rest of the message go out unchanged. Unlike Postfix, which
 * writes a rewritten field anew from its parse tree, only the addresses change.
 */
public final class SmtpGenericRewriter {

    /** FIELD_LIMIT - the longest header field that is rewritten (Postfix header_size_limit, 102400) */
    public static final int FIELD_LIMIT = 102_400;

    /** the sender and recipient headers of Postfix's header_opts (HDR_OPT_SENDER, HDR_OPT_RECIP), lower case */
    static final Set<String> ADDRESS_HEADERS = Set.of("apparently-to", "bcc", "cc", "disposition-notification-to",
            "errors-to", "from", "mail-followup-to", "reply-to", "resent-bcc", "resent-cc", "resent-from",
            "resent-reply-to", "resent-sender", "resent-to", "return-path", "return-receipt-to", "sender", "to");

    private SmtpGenericRewriter() {
    }

    /** envelope - the envelope address as sent: mapped when the table has it; the null sender stays. */
    public static String envelope(AddressMapping mapping, String address) {
        if (mapping == null || address == null || address.isEmpty()) {
            return address;
        }
        return mapping.map(address).orElse(address);
    }

    /** content - the content with its primary header's addresses mapped; {@code in} itself without a mapping. */
    public static InputStream content(AddressMapping mapping, InputStream in) {
        return mapping == null ? in : new Rewriting(in, mapping);
    }

    /**
     * field - one header field ("Name: value", with its CRLFs) as sent: rewritten when it is
     * an address field and an address in it maps to another; otherwise the same string. The
     * text is ISO-8859-1, one char per byte.
     */
    static String field(String field, UnaryOperator<String> map) {
        int colon = field.indexOf(':');
        if (colon <= 0) {
            return field;
        }
        String name = field.substring(0, colon).strip().toLowerCase(Locale.ROOT);
        if (!ADDRESS_HEADERS.contains(name)) {
            return field;
        }
        String value = addressList(field.substring(colon + 1), map);
        return value == null ? field : field.substring(0, colon + 1) + value;
    }

    /* ---------------------------------------------------------------- RFC 5322 address lists */

    private enum Kind { SPACE, COMMENT, QUOTED, LITERAL, ATOM, SPECIAL }

    private record Token(Kind kind, int start, int end, String text) {
        boolean is(char c) {
            return kind == Kind.SPECIAL && text.charAt(0) == c;
        }

        boolean cfws() {
            return kind == Kind.SPACE || kind == Kind.COMMENT;
        }
    }

    private record Replacement(int start, int end, String text) {
    }

    /**
     * addressList - the value with each addr-spec that {@code map} changes replaced, or null
     * when nothing changed or the value does not parse. {@code map} takes and gives an
     * internal-form address (UTF-8 text); this method works on ISO-8859-1 text.
     */
    static String addressList(String value, UnaryOperator<String> map) {
        List<Token> tokens = tokenize(value);
        if (tokens == null) {
            return null;
        }
        List<Replacement> replacements = new ArrayList<>();
        List<Token> element = new ArrayList<>();
        boolean angle = false;
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.is('<')) {
                int close = i + 1;
                while (close < tokens.size() && !tokens.get(close).is('>') && !tokens.get(close).is('<')) {
                    close++;
                }
                if (close >= tokens.size() || !tokens.get(close).is('>')) {
                    return null;
                }
                angleAddress(tokens.subList(i + 1, close), map, replacements);
                angle = true;
                i = close;
            } else if (t.is(',') || t.is(';')) {
                if (!angle) {
                    bareAddress(element, map, replacements);
                }
                element.clear();
                angle = false;
            } else if (t.is(':')) {
                // the display name of a group: its mailboxes follow
                element.clear();
                angle = false;
            } else if (t.is('>')) {
                return null;
            } else {
                element.add(t);
            }
        }
        if (!angle) {
            bareAddress(element, map, replacements);
        }
        if (replacements.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder(value);
        for (int k = replacements.size() - 1; k >= 0; k--) {
            Replacement r = replacements.get(k);
            b.replace(r.start(), r.end(), r.text());
        }
        return b.toString();
    }

    /* angleAddress - the tokens between < and >: [route:] addr-spec; <> is the null address */
    private static void angleAddress(List<Token> inner, UnaryOperator<String> map, List<Replacement> out) {
        List<Token> core = new ArrayList<>();
        for (Token t : inner) {
            if (!t.cfws()) {
                core.add(t);
            }
        }
        if (core.isEmpty()) {
            return;
        }
        if (core.get(0).is('@')) {
            // RFC 5322 obs-route: @a,@b: before the addr-spec
            int colon = 0;
            while (colon < core.size() && !core.get(colon).is(':')) {
                colon++;
            }
            if (colon >= core.size()) {
                return;
            }
            core = core.subList(colon + 1, core.size());
        }
        addrSpec(core, map, out);
    }

    /* bareAddress - a mailbox without angle brackets: its tokens must be an addr-spec */
    private static void bareAddress(List<Token> element, UnaryOperator<String> map, List<Replacement> out) {
        List<Token> core = new ArrayList<>();
        for (Token t : element) {
            if (!t.cfws()) {
                core.add(t);
            }
        }
        addrSpec(core, map, out);
    }

    /*
     * addrSpec - core (no CFWS) is word *("." word) ["@" (atom *("." atom) / literal)], its
     * tokens adjacent; then it is replaced by the mapped address when that differs
     */
    private static void addrSpec(List<Token> core, UnaryOperator<String> map, List<Replacement> out) {
        if (core.isEmpty()) {
            return;
        }
        for (int k = 1; k < core.size(); k++) {
            if (core.get(k).start() != core.get(k - 1).end()) {
                return;   // CFWS inside the addr-spec (obsolete syntax): leave it as written
            }
        }
        StringBuilder local = new StringBuilder();
        int k = 0;
        boolean word = true;
        for (; k < core.size() && !core.get(k).is('@'); k++) {
            Token t = core.get(k);
            if (word && t.kind() == Kind.ATOM) {
                local.append(t.text());
            } else if (word && t.kind() == Kind.QUOTED) {
                local.append(unquote(t.text()));
            } else if (!word && t.is('.')) {
                local.append('.');
            } else {
                return;
            }
            word = !word;
        }
        if (word) {
            return;   // empty local part, or one ending with "."
        }
        String domain = null;
        if (k < core.size()) {
            StringBuilder d = new StringBuilder();
            List<Token> rest = core.subList(k + 1, core.size());
            if (rest.size() == 1 && rest.get(0).kind() == Kind.LITERAL) {
                d.append(rest.get(0).text());
            } else {
                boolean atom = true;
                for (Token t : rest) {
                    if (atom && t.kind() == Kind.ATOM || !atom && t.is('.')) {
                        d.append(t.text());
                    } else {
                        return;
                    }
                    atom = !atom;
                }
                if (atom) {
                    return;   // no domain after "@", or one ending with "."
                }
            }
            domain = d.toString();
        }
        String internal = utf8(local.toString()) + (domain == null ? "" : "@" + utf8(domain));
        String mapped = map.apply(internal);
        if (mapped == null || mapped.equals(internal)) {
            return;
        }
        out.add(new Replacement(core.get(0).start(), core.get(core.size() - 1).end(),
                latin1(AddressMapping.quoteLocal(mapped))));
    }

    /* tokenize - RFC 5322 lexical tokens of a field value, or null when it does not scan */
    private static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            int start = i;
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\r' || s.charAt(i) == '\n')) {
                    i++;
                }
                out.add(new Token(Kind.SPACE, start, i, s.substring(start, i)));
            } else if (c == '(') {
                int depth = 0;
                for (; i < n; i++) {
                    char x = s.charAt(i);
                    if (x == '\\') {
                        i++;
                    } else if (x == '(') {
                        depth++;
                    } else if (x == ')' && --depth == 0) {
                        break;
                    }
                }
                if (i >= n) {
                    return null;
                }
                i++;
                out.add(new Token(Kind.COMMENT, start, i, s.substring(start, i)));
            } else if (c == '"' || c == '[') {
                char close = c == '"' ? '"' : ']';
                for (i++; i < n && s.charAt(i) != close; i++) {
                    if (s.charAt(i) == '\\') {
                        i++;
                    } else if (c == '[' && s.charAt(i) == '[') {
                        return null;
                    }
                }
                if (i >= n) {
                    return null;
                }
                i++;
                out.add(new Token(c == '"' ? Kind.QUOTED : Kind.LITERAL, start, i, s.substring(start, i)));
            } else if ("<>:;@,.".indexOf(c) >= 0) {
                i++;
                out.add(new Token(Kind.SPECIAL, start, i, s.substring(start, i)));
            } else if (AddressMapping.isAtext(c)) {
                while (i < n && AddressMapping.isAtext(s.charAt(i))) {
                    i++;
                }
                out.add(new Token(Kind.ATOM, start, i, s.substring(start, i)));
            } else {
                return null;   // ')', ']', '\\' or a control character outside their context
            }
        }
        return out;
    }

    /* unquote - the text of a quoted-string without its quotes and backslashes; folding removed */
    private static String unquote(String quoted) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < quoted.length() - 1; i++) {
            char c = quoted.charAt(i);
            if (c == '\\' && i + 1 < quoted.length() - 1) {
                b.append(quoted.charAt(++i));
            } else if (c != '\r' && c != '\n') {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static String utf8(String latin1) {
        return new String(latin1.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    private static String latin1(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /* ---------------------------------------------------------------- the content stream */

    /* Rewriting - the primary header field by field, then the rest of the content as it is */
    private static final class Rewriting extends InputStream {
        private final InputStream in;
        private final UnaryOperator<String> map;
        private final ByteArrayOutputStream field = new ByteArrayOutputStream();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private byte[] out = new byte[0];
        private int outPos;
        private boolean body;

        Rewriting(InputStream in, AddressMapping mapping) {
            this.in = new BufferedInputStream(in);
            this.map = mapper(mapping);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (outPos >= out.length && !body) {
                fill();
            }
            if (outPos < out.length) {
                int n = Math.min(len, out.length - outPos);
                System.arraycopy(out, outPos, b, off, n);
                outPos += n;
                return n;
            }
            return in.read(b, off, len);
        }

        /* fill - the next header line decides: continuation, new field, or the end of the header */
        private void fill() throws IOException {
            ByteArrayOutputStream emit = new ByteArrayOutputStream();
            boolean complete = readLine();
            byte[] l = line.toByteArray();
            if (l.length == 0) {
                flushField(emit);
                body = true;
            } else if (!complete || field.size() + l.length > FIELD_LIMIT) {
                // too long to be a header field Postfix would rewrite: everything from here as it is
                emit.write(field.toByteArray());
                field.reset();
                emit.write(l);
                body = true;
            } else if ((l[0] == ' ' || l[0] == '\t') && field.size() > 0) {
                field.write(l);
            } else {
                flushField(emit);
                if (isFieldStart(l)) {
                    field.write(l);
                } else {
                    emit.write(l);   // the empty line, or the body without one
                    body = true;
                }
            }
            out = emit.toByteArray();
            outPos = 0;
        }

        /* readLine - up to and including LF, at most FIELD_LIMIT bytes; false when cut at the limit */
        private boolean readLine() throws IOException {
            line.reset();
            int c;
            while (line.size() < FIELD_LIMIT && (c = in.read()) >= 0) {
                line.write(c);
                if (c == '\n') {
                    return true;
                }
            }
            return line.size() < FIELD_LIMIT;
        }

        private void flushField(ByteArrayOutputStream emit) throws IOException {
            if (field.size() == 0) {
                return;
            }
            String f = field.toString(StandardCharsets.ISO_8859_1);
            field.reset();
            emit.write(SmtpGenericRewriter.field(f, map).getBytes(StandardCharsets.ISO_8859_1));
        }

        /* isFieldStart - RFC 5322 field-name (printable ASCII but ':'), optional white space, ':' */
        private static boolean isFieldStart(byte[] l) {
            int i = 0;
            while (i < l.length && l[i] > 32 && l[i] < 127 && l[i] != ':') {
                i++;
            }
            if (i == 0) {
                return false;
            }
            while (i < l.length && (l[i] == ' ' || l[i] == '\t')) {
                i++;
            }
            return i < l.length && l[i] == ':';
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** mapper - the function {@link #field} takes, from a mapping. */
    static UnaryOperator<String> mapper(AddressMapping mapping) {
        return a -> mapping.map(a).orElse(a);
    }
}
