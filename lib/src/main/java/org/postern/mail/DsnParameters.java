package org.postern.mail;

import java.util.Locale;

/**
 * DsnParameters - the syntax of the RFC 3461 delivery status notification parameters,
 * written once for every way mail comes in: smtpd's MAIL FROM and RCPT TO, and the JMS
 * submission queue's message properties.
 *
 * <h2>DESCRIPTION</h2>
 * NOTIFY is NEVER or a comma-separated list of SUCCESS, FAILURE and DELAY (RFC 3461 4.1);
 * ORCPT is addr-type ";" xtext (4.2; the utf-8 type of RFC 6533 is checked leniently);
 * RET is FULL or HDRS (4.3); ENVID, once decoded from xtext, is 1 to 100 printable ASCII
 * characters (4.4; Postern stores it decoded).
 *
 * <h2>SEE ALSO</h2>
 * RFC 3461, smtpd's MailCommands, SubmitEndpoint
 */
public final class DsnParameters {
    /** the longest ENVID, decoded (RFC 3461 4.4: "100 characters") */
    public static final int MAX_ENVID = 100;

    private DsnParameters() {
    }

    /** validNotify - RFC 3461 4.1: NEVER, or a list of SUCCESS, FAILURE, DELAY. */
    public static boolean validNotify(String value) {
        if (value == null) {
            return false;
        }
        String[] words = value.toUpperCase(Locale.ROOT).split(",", -1);
        if (words.length == 1 && words[0].equals("NEVER")) {
            return true;
        }
        for (String w : words) {
            if (!(w.equals("SUCCESS") || w.equals("FAILURE") || w.equals("DELAY"))) {
                return false;
            }
        }
        return true;
    }

    /** validOrcpt - RFC 3461 4.2: addr-type ";" xtext (utf-8 type: RFC 6533, decoded leniently). */
    public static boolean validOrcpt(String value) {
        if (value == null) {
            return false;
        }
        int semi = value.indexOf(';');
        if (semi <= 0 || semi == value.length() - 1) {
            return false;
        }
        String type = value.substring(0, semi);
        String address = value.substring(semi + 1);
        if (type.equalsIgnoreCase("utf-8")) {
            return address.chars().noneMatch(c -> c < 33 || c == 127);
        }
        return Xtext.isValid(address);
    }

    /** validRet - RFC 3461 4.3: FULL or HDRS, in any case. */
    public static boolean validRet(String value) {
        return value != null && (value.equalsIgnoreCase("FULL") || value.equalsIgnoreCase("HDRS"));
    }

    /** validEnvid - RFC 3461 4.4, the decoded value: 1 to 100 printable ASCII characters. */
    public static boolean validEnvid(String decoded) {
        return decoded != null && !decoded.isEmpty() && decoded.length() <= MAX_ENVID
                && decoded.chars().allMatch(c -> c >= 32 && c < 127);
    }
}
