package org.postern.mail;

/**
 * Xtext - RFC 3461 section 4 "xtext" encoding, decoding and validation.
 *
 * <p>xtext = *( xchar / hexchar ); xchar is any ASCII from "!" to "~" except "+" and "=";
 * hexchar is "+" followed by two upper-case hexadecimal digits.
 */
public final class Xtext {
    private Xtext() {
    }

    /** encode - the UTF-8 bytes of the text as xtext: "+", "=" and bytes outside "!".."~" become +XX. */
    public static String encode(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (byte c : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if (u < 33 || u > 126 || u == '+' || u == '=') {
                b.append('+').append(String.format("%02X", u));
            } else {
                b.append((char) u);
            }
        }
        return b.toString();
    }

    /**
     * decode - the decoded text, or null when the input is not valid xtext. The decoded
     * octets are read as UTF-8, the charset {@link #encode} writes (bytes that are not
     * UTF-8 become U+FFFD), so that decode(encode(text)) is the text.
     */
    public static String decode(String text) {
        if (text == null) {
            return null;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '+') {
                if (i + 2 >= text.length()) {
                    return null;
                }
                int hi = upperHex(text.charAt(i + 1));
                int lo = upperHex(text.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else if (c >= '!' && c <= '~' && c != '=') {
                out.write(c);
            } else {
                return null;
            }
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** isValid - true when the text is well-formed xtext. */
    public static boolean isValid(String text) {
        return decode(text) != null;
    }

    private static int upperHex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
