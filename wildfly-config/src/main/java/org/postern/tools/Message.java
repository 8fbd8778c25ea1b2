package org.postern.tools;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Message - a message as sendmail reads it: the header fields (each with its
 * continuation lines) and the body, in CRLF lines. Enough of RFC 5322 to take the
 * recipients of the address headers (display names, quoted strings, comments, groups)
 * and to remove or add a header field.
 */
final class Message {
    private final List<String> fields;
    private final byte[] body;

    private Message(List<String> fields, byte[] body) {
        this.fields = fields;
        this.body = body;
    }

    /** parse - CRLF text: the header ends at the first empty line, or at a line that is no header field. */
    static Message parse(byte[] text) {
        List<String> fields = new ArrayList<>();
        int i = 0;
        while (i < text.length) {
            int end = indexOf(text, i);
            String line = new String(text, i, end - i, StandardCharsets.UTF_8);
            if (line.isEmpty()) {
                break;
            }
            boolean continuation = (line.charAt(0) == ' ' || line.charAt(0) == '\t') && !fields.isEmpty();
            if (!continuation && !line.matches("[!-9;-~]+:.*")) {
                break;
            }
            if (continuation) {
                fields.set(fields.size() - 1, fields.get(fields.size() - 1) + "\r\n" + line);
            } else {
                fields.add(line);
            }
            i = Math.min(text.length, end + 2);
        }
        byte[] body = new byte[text.length - i];
        System.arraycopy(text, i, body, 0, body.length);
        return new Message(fields, body);
    }

    private static int indexOf(byte[] text, int from) {
        for (int i = from; i + 1 < text.length; i++) {
            if (text[i] == '\r' && text[i + 1] == '\n') {
                return i;
            }
        }
        return text.length;
    }

    private static String name(String field) {
        return field.substring(0, field.indexOf(':')).strip().toLowerCase(Locale.ROOT);
    }

    boolean has(String name) {
        return fields.stream().anyMatch(f -> name(f).equals(name.toLowerCase(Locale.ROOT)));
    }

    void prepend(String field) {
        fields.add(0, field);
    }

    void remove(String name) {
        fields.removeIf(f -> name(f).equals(name.toLowerCase(Locale.ROOT)));
    }

    /**
     * recipients - the addresses of To:, Cc: and Bcc: (of Resent-To:, Resent-Cc: and
     * Resent-Bcc: when there is a Resent- header, as sendmail -t takes them).
     */
    List<String> recipients() {
        boolean resent = fields.stream().anyMatch(f -> name(f).startsWith("resent-"));
        List<String> names = resent ? List.of("resent-to", "resent-cc", "resent-bcc") : List.of("to", "cc", "bcc");
        List<String> out = new ArrayList<>();
        for (String f : fields) {
            if (names.contains(name(f))) {
                out.addAll(addresses(f.substring(f.indexOf(':') + 1)));
            }
        }
        return out;
    }

    /**
     * addresses - the addr-specs of an address list: "Name" &lt;a@b&gt;, a@b (comment),
     * group: a@b, c@d; - display names, comments and group names are dropped.
     */
    static List<String> addresses(String list) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        StringBuilder angle = null;
        boolean quoted = false;
        int comment = 0;
        String text = list.replace("\r\n", "");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '\\' && i + 1 < text.length()) {
                    (angle != null ? angle : current).append(c).append(text.charAt(++i));
                    continue;
                }
                if (c == '"') {
                    quoted = false;
                }
                (angle != null ? angle : current).append(c);
                continue;
            }
            if (comment > 0) {
                if (c == '\\') {
                    i++;
                } else if (c == '(') {
                    comment++;
                } else if (c == ')') {
                    comment--;
                }
                continue;
            }
            switch (c) {
                case '"':
                    quoted = true;
                    (angle != null ? angle : current).append(c);
                    break;
                case '(':
                    comment = 1;
                    break;
                case '<':
                    angle = new StringBuilder();
                    break;
                case '>':
                    if (angle != null) {
                        current.setLength(0);
                        current.append('<').append(angle).append('>');
                        angle = null;
                    }
                    break;
                case ':':
                    if (angle == null) {
                        // a group's name: what came before is no address
                        current.setLength(0);
                    } else {
                        angle.append(c);
                    }
                    break;
                case ',':
                case ';':
                    if (angle == null) {
                        add(out, current.toString());
                        current.setLength(0);
                    } else {
                        angle.append(c);
                    }
                    break;
                default:
                    (angle != null ? angle : current).append(c);
            }
        }
        add(out, current.toString());
        return out;
    }

    private static void add(List<String> out, String piece) {
        String p = piece.strip();
        if (p.startsWith("<") && p.endsWith(">")) {
            p = p.substring(1, p.length() - 1).strip();
            // a source route (<@a,@b:c@d>) leaves the mailbox
            int colon = p.lastIndexOf(':');
            if (p.startsWith("@") && colon > 0) {
                p = p.substring(colon + 1);
            }
        }
        if (!p.isEmpty()) {
            out.add(p);
        }
    }

    /** phrase - a display name, quoted when it has characters a phrase may not. */
    static String phrase(String name) {
        if (name.matches("[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*")) {
            return name;
        }
        return '"' + name.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** bytes - the message as it is sent, CRLF lines. */
    byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 1024);
        for (String f : fields) {
            out.writeBytes((f + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        if (!fields.isEmpty() && !(body.length >= 2 && body[0] == '\r' && body[1] == '\n')) {
            // a header that ended at a line that is no header field: the empty line RFC 5322 wants
            out.writeBytes(new byte[] {'\r', '\n'});
        }
        out.writeBytes(body);
        return out.toByteArray();
    }
}
