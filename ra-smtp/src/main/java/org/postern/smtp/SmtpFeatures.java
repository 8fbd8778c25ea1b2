package org.postern.smtp;

import java.util.List;
import java.util.Locale;

/**
 * SmtpFeatures - the EHLO keywords the client uses (RFC 5321 section 4.1.1.1), parsed from
 * the lines after the first of the EHLO reply. A HELO or LHLO-less session has none.
 *
 * @param sizeLimit  the SIZE parameter (RFC 1870); 0 when SIZE without a limit, -1 when not offered
 * @param xforward   the attribute names after the XFORWARD keyword (Postfix XFORWARD_README: "250-XFORWARD
 *                   NAME ADDR PROTO HELO"), upper case, in the server's order; empty when XFORWARD is not
 *                   offered. Only these are sent: a server that lists no attribute gets no XFORWARD.
 * @param chunking   CHUNKING (RFC 3030): the content goes with BDAT instead of DATA
 */
record SmtpFeatures(boolean pipelining, long sizeLimit, boolean eightBitMime, boolean smtpUtf8,
                    boolean dsn, boolean enhancedStatusCodes, boolean starttls, List<String> auth,
                    List<String> xforward, boolean chunking) {

    static final SmtpFeatures NONE = new SmtpFeatures(false, -1, false, false, false, false, false, List.of(),
            List.of(), false);

    /** parse - the features announced in an EHLO/LHLO reply. */
    static SmtpFeatures parse(SmtpReply ehlo) {
        return parse(ehlo, List.of());
    }

    /** parse - the features announced, minus those in {@code discard} (smtp_discard_ehlo_keywords, lower case). */
    static SmtpFeatures parse(SmtpReply ehlo, List<String> discard) {
        boolean pipelining = false, eight = false, utf8 = false, dsn = false, enhanced = false, tls = false;
        boolean chunking = false;
        List<String> xforward = new java.util.ArrayList<>();
        List<String> auth = new java.util.ArrayList<>();
        long size = -1;
        for (int i = 1; i < ehlo.lines().size(); i++) {
            String[] words = ehlo.lines().get(i).trim().split("[ =]+");
            if (words.length == 0 || words[0].isEmpty()) {
                continue;   // "250-=" or "250- =x": no keyword ("=".split gives no word at all)
            }
            if (discard.contains(words[0].toLowerCase(Locale.ROOT))) {
                continue;
            }
            switch (words[0].toUpperCase(Locale.ROOT)) {
                case "PIPELINING" -> pipelining = true;
                case "8BITMIME" -> eight = true;
                case "SMTPUTF8" -> utf8 = true;
                case "DSN" -> dsn = true;
                case "ENHANCEDSTATUSCODES" -> enhanced = true;
                case "SIZE" -> size = words.length > 1 ? parseSize(words[1]) : 0;
                case "STARTTLS" -> tls = true;
                case "XFORWARD" -> addAll(xforward, words);
                case "AUTH" -> addAll(auth, words);
                case "CHUNKING" -> chunking = true;
                default -> { }
            }
        }
        return new SmtpFeatures(pipelining, size, eight, utf8, dsn, enhanced, tls, List.copyOf(auth),
                List.copyOf(xforward), chunking);
    }

    /* addAll - the words after the keyword, upper case, each once */
    private static void addAll(List<String> to, String[] words) {
        for (int w = 1; w < words.length; w++) {
            String word = words[w].toUpperCase(Locale.ROOT);
            if (!word.isEmpty() && !to.contains(word)) {
                to.add(word);
            }
        }
    }

    private static long parseSize(String s) {
        try {
            return Math.max(0, Long.parseLong(s));
        } catch (NumberFormatException e) {
            return 0;   // a SIZE we cannot read is no limit we can check
        }
    }
}
