package org.postern.smtp.sts;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MtaStsPolicy - one MTA-STS policy (RFC 8461) as fetched from
 * {@code https://mta-sts.<domain>/.well-known/mta-sts.txt}, and the TXT record that
 * announces it.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #parse} reads the policy text of RFC 8461 section 3.2: lines ended by LF or
 * CRLF, each {@code key: value} with optional white space around the colon and at the end;
 * {@code version: STSv1}, {@code mode: enforce | testing | none} and {@code max_age:} (1 to
 * 10 digits, seconds) are required, each {@code mx:} line adds one pattern (at least one
 * unless the mode is none). Field names and values are case-sensitive as the ABNF's
 * {@code %x} strings are; the first occurrence of a single-valued field counts; unknown
 * fields (extensions) are ignored; blank lines are skipped. A max_age above 31557600 (the
 * largest the RFC allows) is taken as 31557600.
 * <p>
 * {@link #policyId} picks the id of the {@code _mta-sts} TXT record (section 3.1): the
 * records that do not begin with {@code v=STSv1;} are discarded; unless exactly one is
 * left and it has a valid {@code id=} (1 to 32 letters and digits), there is no policy.
 * <p>
 * {@link #mxMatches} is section 4.1: a pattern is an MX host name, or {@code *.} and a
 * domain, which matches a host with exactly one more label on the left; case and a final
 * dot do not count.
 *
 * @param id       the TXT record's id under which this policy was fetched
 * @param mode     enforce, testing or none
 * @param mx       the mx patterns, lower case, without a final dot
 * @param maxAge   max_age
 */
public record MtaStsPolicy(String id, String mode, List<String> mx, Duration maxAge) {

    /** RFC 8461 section 3.2: max_age is at most 31557600 seconds (about a year) */
    public static final long MAX_AGE_LIMIT = 31_557_600L;

    private static final Pattern FIELD = Pattern.compile("([^:\\s]+)[ \\t]*:[ \\t]*(.*?)[ \\t]*");
    private static final Pattern TXT_START = Pattern.compile("v[ \\t]*=[ \\t]*STSv1[ \\t]*;.*", Pattern.DOTALL);
    private static final Pattern TXT_ID = Pattern.compile("id[ \\t]*=[ \\t]*([A-Za-z0-9]{1,32})");
    private static final Pattern TXT_EXT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}[ \\t]*=[ \\t]*[\\x21-\\x3A\\x3C\\x3E-\\x7E]+");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

    public MtaStsPolicy {
        mx = List.copyOf(mx);
    }

    /** enforce - mode enforce: mail goes only to matching MX hosts, over verified TLS. */
    public boolean enforce() {
        return mode.equals("enforce");
    }

    /** testing - mode testing: failures are logged, the mail is delivered as without a policy. */
    public boolean testing() {
        return mode.equals("testing");
    }

    /** active - enforce or testing (mode none is as if the domain had no policy). */
    public boolean active() {
        return enforce() || testing();
    }

    /**
     * parse - the policy text; IllegalArgumentException says what is wrong.
     *
     * @param id   the TXT record's id the policy was fetched for
     * @param text the body of the HTTPS response
     */
    public static MtaStsPolicy parse(String id, String text) {
        String version = null;
        String mode = null;
        String maxAge = null;
        List<String> mx = new ArrayList<>();
        for (String raw : text.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.isBlank()) {
                continue;
            }
            Matcher m = FIELD.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a \"key: value\" line: " + abbreviate(line));
            }
            String key = m.group(1);
            String value = m.group(2);
            switch (key) {
                case "version" -> version = version == null ? value : version;
                case "mode" -> mode = mode == null ? value : mode;
                case "max_age" -> maxAge = maxAge == null ? value : maxAge;
                case "mx" -> mx.add(mxPattern(value));
                default -> {
                    // an extension field: ignored (section 3.2)
                }
            }
        }
        if (!"STSv1".equals(version)) {
            throw new IllegalArgumentException(version == null ? "no version field" : "version is not STSv1: "
                    + abbreviate(version));
        }
        if (mode == null || !List.of("enforce", "testing", "none").contains(mode)) {
            throw new IllegalArgumentException(mode == null ? "no mode field" : "unknown mode: " + abbreviate(mode));
        }
        if (maxAge == null || !maxAge.matches("[0-9]{1,10}")) {
            throw new IllegalArgumentException(maxAge == null ? "no max_age field" : "invalid max_age: "
                    + abbreviate(maxAge));
        }
        if (mx.isEmpty() && !mode.equals("none")) {
            throw new IllegalArgumentException("no mx field in mode " + mode);
        }
        long age = Math.min(Long.parseLong(maxAge), MAX_AGE_LIMIT);
        return new MtaStsPolicy(id, mode, mx, Duration.ofSeconds(age));
    }

    /* mxPattern - a host name, or "*." and a domain: lower case, without a final dot */
    private static String mxPattern(String value) {
        String v = stripDot(value.toLowerCase(Locale.ROOT));
        String host = v.startsWith("*.") ? v.substring(2) : v;
        if (host.isEmpty()) {
            throw new IllegalArgumentException("invalid mx pattern: " + abbreviate(value));
        }
        for (String label : host.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches() || label.length() > 63) {
                throw new IllegalArgumentException("invalid mx pattern: " + abbreviate(value));
            }
        }
        return v;
    }

    /**
     * mxMatches - section 4.1: does one of the policy's mx patterns match this MX host?
     */
    public boolean mxMatches(String host) {
        String h = stripDot(host.toLowerCase(Locale.ROOT));
        for (String p : mx) {
            if (p.startsWith("*.")) {
                int dot = h.indexOf('.');
                if (dot > 0 && h.substring(dot + 1).equals(p.substring(2))) {
                    return true;
                }
            } else if (p.equals(h)) {
                return true;
            }
        }
        return false;
    }

    /**
     * policyId - section 3.1: the id of the one TXT record of {@code _mta-sts.<domain>} that
     * begins with {@code v=STSv1;}; null when there is none, more than one, or its syntax is
     * invalid (then the domain has no policy that can be discovered now).
     *
     * @param records the TXT records, each its strings joined
     */
    public static String policyId(List<String> records) {
        List<String> sts = records.stream().filter(r -> TXT_START.matcher(r).matches()).toList();
        if (sts.size() != 1) {
            return null;
        }
        String[] fields = sts.get(0).split(";", -1);
        String id = null;
        for (int i = 1; i < fields.length; i++) {
            String f = fields[i].strip();
            if (f.isEmpty() && i == fields.length - 1) {
                break;   // the optional final ";"
            }
            Matcher m = TXT_ID.matcher(f);
            if (m.matches()) {
                id = id == null ? m.group(1) : id;
            } else if (!TXT_EXT.matcher(f).matches()) {
                return null;
            }
        }
        return id;
    }

    private static String stripDot(String s) {
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    @Override
    public String toString() {
        return "mode=" + mode + ", id=" + id + ", max_age=" + maxAge.toSeconds() + ", mx=" + String.join(" ", mx);
    }
}
