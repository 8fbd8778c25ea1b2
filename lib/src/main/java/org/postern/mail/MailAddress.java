package org.postern.mail;

import static org.postern.mail.AddressSyntaxException.Kind.BAD_ADDRESS;

/**
 * MailAddress - one RFC 5321 mailbox as given in an SMTP path.
 *
 * <p>The local part is kept as the client wrote it (a quoted local part keeps its quotes,
 * so that the address can be written back into an envelope unchanged). The domain is
 * null for an unqualified address such as {@code <postmaster>}, which Postfix accepts
 * and qualifies later; it is a domain name or an address literal ({@code [1.2.3.4]},
 * {@code [IPv6:::1]}).
 *
 * @param localPart the local part, as written
 * @param domain    the domain or address literal, or null when unqualified
 */
public record MailAddress(String localPart, String domain) {

    /** RFC 5321 4.5.3.1.1: 64 octets of local part. */
    public static final int MAX_LOCAL_PART = 64;
    /** RFC 5321 4.5.3.1.2: 255 octets of domain. */
    public static final int MAX_DOMAIN = 255;
    /** RFC 5321 4.5.3.1.3: 256 octets of path, including the angle brackets. */
    public static final int MAX_PATH = 256;

    /** toString - the address as it goes into an envelope: local@domain. */
    @Override
    public String toString() {
        return domain == null ? localPart : localPart + "@" + domain;
    }

    /** isAscii - true when the address has only ASCII characters (no SMTPUTF8 needed). */
    public boolean isAscii() {
        return ascii(localPart) && (domain == null || ascii(domain));
    }

    /**
     * parse - parse a mailbox without angle brackets and without a source route.
     *
     * @param text "local@domain", "\"quoted local\"@domain", "local@[1.2.3.4]" or "local"
     * @throws AddressSyntaxException (BAD_ADDRESS) when it is not a mailbox
     */
    public static MailAddress parse(String text) throws AddressSyntaxException {
        if (text == null || text.isEmpty()) {
            throw new AddressSyntaxException(BAD_ADDRESS, "empty address");
        }
        int at = localPartEnd(text);
        String local = text.substring(0, at);
        checkLocalPart(local);
        if (at == text.length()) {
            return new MailAddress(local, null);
        }
        String domain = text.substring(at + 1);
        checkDomain(domain);
        return new MailAddress(local, domain);
    }

    /** localPartEnd - index of the '@' after the local part, or text length when none. */
    private static int localPartEnd(String text) throws AddressSyntaxException {
        if (text.charAt(0) == '"') {
            int i = 1;
            while (i < text.length() && text.charAt(i) != '"') {
                i += text.charAt(i) == '\\' ? 2 : 1;
            }
            if (i >= text.length()) {
                throw new AddressSyntaxException(BAD_ADDRESS, "unterminated quoted local part");
            }
            int end = i + 1;
            if (end < text.length() && text.charAt(end) != '@') {
                throw new AddressSyntaxException(BAD_ADDRESS, "text after quoted local part");
            }
            return end;
        }
        int at = text.lastIndexOf('@');
        return at < 0 ? text.length() : at;
    }

    /** checkLocalPart - RFC 5321 Dot-string or Quoted-string (UTF-8 allowed, RFC 6531). */
    static void checkLocalPart(String local) throws AddressSyntaxException {
        if (local.isEmpty()) {
            throw new AddressSyntaxException(BAD_ADDRESS, "empty local part");
        }
        if (utf8Length(local) > MAX_LOCAL_PART) {
            throw new AddressSyntaxException(BAD_ADDRESS, "local part too long");
        }
        if (local.charAt(0) == '"') {
            // Quoted-string: qtextSMTP is %d32-33 / %d35-91 / %d93-126; quoted-pair is "\" %d32-126.
            for (int i = 1; i < local.length() - 1; i++) {
                char c = local.charAt(i);
                if (c == '\\') {
                    char next = local.charAt(++i);
                    if (next < 32 || next == 127) {
                        throw new AddressSyntaxException(BAD_ADDRESS, "control character in quoted pair");
                    }
                } else if (c < 32 || c == 127 || c == '"') {
                    throw new AddressSyntaxException(BAD_ADDRESS, "bad character in quoted local part");
                }
            }
            return;
        }
        // Dot-string. Like Postfix, tolerate empty atoms ("a..b"): real mailboxes use them.
        for (int i = 0; i < local.length(); i++) {
            if (!isAtext(local.charAt(i)) && local.charAt(i) != '.') {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad character in local part");
            }
        }
    }

    /** checkDomain - RFC 5321 Domain or address-literal (U-labels allowed, RFC 6531). */
    static void checkDomain(String domain) throws AddressSyntaxException {
        if (domain.isEmpty()) {
            throw new AddressSyntaxException(BAD_ADDRESS, "empty domain");
        }
        if (utf8Length(domain) > MAX_DOMAIN) {
            throw new AddressSyntaxException(BAD_ADDRESS, "domain too long");
        }
        if (domain.charAt(0) == '[') {
            checkAddressLiteral(domain);
            return;
        }
        for (String label : domain.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63) {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad domain label");
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_' || (c > 127 && !Character.isISOControl(c)
                        && !Character.isWhitespace(c));
                if (!ok) {
                    throw new AddressSyntaxException(BAD_ADDRESS, "bad character in domain");
                }
            }
        }
    }

    /** checkAddressLiteral - [IPv4], [IPv6:...] or [tag:content] (RFC 5321 4.1.3). */
    private static void checkAddressLiteral(String literal) throws AddressSyntaxException {
        if (literal.length() < 3 || literal.charAt(literal.length() - 1) != ']') {
            throw new AddressSyntaxException(BAD_ADDRESS, "unterminated address literal");
        }
        String inner = literal.substring(1, literal.length() - 1);
        if (inner.regionMatches(true, 0, "IPv6:", 0, 5)) {
            String v6 = inner.substring(5);
            if (v6.isEmpty() || !v6.matches("[0-9A-Fa-f:.]+") || !v6.contains(":")) {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad IPv6 address literal");
            }
            return;
        }
        int colon = inner.indexOf(':');
        if (colon > 0) {
            // General-address-literal: Standardized-tag ":" 1*dcontent (%d33-90 / %d94-126)
            if (!inner.substring(0, colon).matches("[A-Za-z0-9-]*[A-Za-z0-9]")) {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad address literal tag");
            }
            String content = inner.substring(colon + 1);
            if (content.isEmpty() || !content.chars().allMatch(c -> (c >= 33 && c <= 90) || (c >= 94 && c <= 126))) {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad address literal content");
            }
            return;
        }
        String[] octets = inner.split("\\.", -1);
        if (octets.length != 4) {
            throw new AddressSyntaxException(BAD_ADDRESS, "bad IPv4 address literal");
        }
        for (String octet : octets) {
            if (!octet.matches("[0-9]{1,3}") || Integer.parseInt(octet) > 255) {
                throw new AddressSyntaxException(BAD_ADDRESS, "bad IPv4 address literal");
            }
        }
    }

    /** isAtext - RFC 5322 atext, plus UTF-8 non-ASCII (RFC 6531 atext extension). */
    private static boolean isAtext(char c) {
        if (c > 127) {
            return !Character.isISOControl(c) && !Character.isWhitespace(c);
        }
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
    }

    static boolean ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 127) {
                return false;
            }
        }
        return true;
    }

    static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
