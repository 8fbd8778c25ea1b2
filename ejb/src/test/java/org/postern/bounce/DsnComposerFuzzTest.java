package org.postern.bounce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * DsnComposerFuzzTest - the bounce/delay/success report ({@link DsnComposer#compose}) and
 * the postmaster's corrupt-queue notice ({@link DsnComposer#errorNotice}) made from a
 * hostile message (its content and header, as smtpd stored them or not) and hostile
 * envelope and reply text (ENVID, ORCPT, recipient addresses, a remote server's reply).
 *
 * <p>Input: a few "name: value" lines (kind, hdrs, limit, complete, to, sender, envid, and
 * any number of "rcpt: address|orcpt|status|relay|reply"), an empty line, then the
 * message content as raw octets; see the seeds in DsnComposerFuzzTestInputs/report/.
 *
 * <p>Invariants of the report, beyond "no exception": a multipart/report;
 * report-type=delivery-status with exactly three parts (text/plain, message/delivery-status,
 * then text/rfc822-headers or message/rfc822 as asked) and one close delimiter, at the end;
 * the returned content never holds a line that a MIME parser would take for one of its
 * delimiters; every line that Postern writes (all but the returned content) ends in CRLF,
 * is printable US-ASCII and at most 998 octets (RFC 5322 2.1.1); header lines are fields or
 * continuations; one recipient group per failure, with Final-Recipient, an Action of the
 * report's kind and a Status of its class; the returned content is a prefix of the message,
 * within bounce_size_limit, ends at a line end when cut, and is the header alone (no empty
 * line) for RET=HDRS; 8-bit octets only where "8bit" is declared (top level and the third
 * part) and {@link DsnComposer.Report#eightBit} says so; the size is bounded by a constant
 * plus a multiple of the envelope text plus the returned content. The notice: printable
 * US-ASCII CRLF lines of at most 998 octets, bounded by the limit. Time: Jazzer's -timeout
 * (10 s, bench/fuzz.sh) per input, and the test below for a large hostile input.
 */
class DsnComposerFuzzTest {
    private static final Instant ARRIVAL = Instant.parse("2026-11-21T12:00:00Z");
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private static final String QUEUE_ID = "1A24D2E6743AA4AE";
    private static final String HOST = "mx.postern.test";
    private static final int MAX_LINE = 998;

    /** Input - the fields of one fuzz input. */
    record Input(DsnComposer.Kind kind, boolean headersOnly, int limit, boolean complete, String to, String sender,
                 String envid, List<DsnComposer.Failure> failures, byte[] content) {
        /* textLength - the octets of envelope and reply text (what the report repeats, cleaned) */
        int textLength() {
            int n = len(to) + len(sender) + len(envid);
            for (DsnComposer.Failure f : failures) {
                n += len(f.address()) + len(f.orcpt()) + len(f.status()) + len(f.relay()) + len(f.reply())
                        + len(f.action());
            }
            return n;
        }

        private static int len(String s) {
            return s == null ? 0 : s.length();
        }
    }

    /* parse - the input's fields; anything unknown is ignored, a bad number is 0 */
    static Input parse(byte[] data) {
        int split = indexOf(data, new byte[] {'\n', '\n'}, 0);
        String head = new String(data, 0, split < 0 ? data.length : split, StandardCharsets.ISO_8859_1);
        byte[] content = split < 0 ? new byte[0] : Arrays.copyOfRange(data, split + 2, data.length);
        DsnComposer.Kind kind = DsnComposer.Kind.SENDER;
        boolean headersOnly = false;
        boolean complete = true;
        int limit = 50_000;
        String to = "sender@example.org";
        String sender = "sender@example.org";
        String envid = null;
        List<DsnComposer.Failure> failures = new ArrayList<>();
        for (String line : head.split("\n", -1)) {
            int colon = line.indexOf(": ");
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon);
            String value = line.substring(colon + 2);
            switch (name) {
                case "kind" -> {
                    for (DsnComposer.Kind k : DsnComposer.Kind.values()) {
                        if (k.name().equalsIgnoreCase(value.trim())) {
                            kind = k;
                        }
                    }
                }
                case "hdrs" -> headersOnly = value.startsWith("y");
                case "complete" -> complete = !value.startsWith("n");
                case "limit" -> limit = number(value);
                case "to" -> to = value;
                case "sender" -> sender = value;
                case "envid" -> envid = value;
                case "rcpt" -> {
                    if (failures.size() < 1000) {
                        String[] f = value.split("\\|", -1);
                        failures.add(new DsnComposer.Failure(field(f, 0), field(f, 1), field(f, 2), field(f, 3),
                                field(f, 4), field(f, 5)));
                    }
                }
                default -> {
                    // unknown: ignored
                }
            }
        }
        if (failures.isEmpty()) {
            failures.add(new DsnComposer.Failure("rcpt@example.com", null, "5.1.1", "none", "unknown user"));
        }
        // the "decoded" envelope text may carry any character: the fuzzer's octets are taken as ISO-8859-1
        return new Input(kind, headersOnly, limit, complete, to, sender, envid, failures, content);
    }

    private static String field(String[] f, int i) {
        return i < f.length && !f[i].equals("-") ? f[i].replace("\\n", "\n").replace("\\r", "\r") : null;
    }

    private static int number(String s) {
        try {
            return Math.max(0, Math.min(Integer.parseInt(s.trim()), 10_000_000));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static int indexOf(byte[] data, byte[] what, int from) {
        outer:
        for (int i = from; i + what.length <= data.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (data[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @FuzzTest
    @DictionaryEntries({"kind: ", "SENDER", "POSTMASTER", "DELAY", "SUCCESS", "BOUNCE_COPY", "DELAY_COPY", "hdrs: yes",
            "complete: no", "limit: ", "to: ", "sender: ", "envid: ", "rcpt: ", "|", "rfc822;", "+2B", "5.1.1", "4.4.1",
            "2.0.0", "none", "[192.0.2.1]:25", "550 ", "250 ", "message expired: ", "\\x0A", "\\x0D\\x0A", "\\x0D\\x0A\\x0D\\x0A", "\\x0A\\x0A",
            "--", "--" + QUEUE_ID + ".1795348800/" + HOST, "Content-Type: multipart/mixed; boundary=", "MIME-Version: 1.0",
            "Content-Transfer-Encoding: 8bit"})
    void report(byte[] data) {
        Input in = parse(data);
        DsnComposer composer = new DsnComposer(HOST, "Postern", in.limit());
        Instant retryUntil = in.kind() == DsnComposer.Kind.DELAY || in.kind() == DsnComposer.Kind.DELAY_COPY
                ? Instant.parse("2026-11-26T12:00:00Z") : null;
        DsnComposer.Original original = new DsnComposer.Original("1A24D2E6743AA000", in.sender(), ARRIVAL, in.envid(),
                in.content(), in.complete(), retryUntil);
        DsnComposer.Report r = composer.compose(in.kind(), QUEUE_ID, in.to(), original, in.failures(),
                in.headersOnly(), NOW);
        checkReport(in, r);

        // the corrupt-queue notice reads the same content as the message's header
        DsnComposer.Report notice = composer.errorNotice(QUEUE_ID, in.to(), "1A24D2E6743AA000", in.sender(),
                "software", in.failures().get(0).reply(), in.content(), NOW);
        checkNotice(in, notice);
    }

    /* checkReport - the invariants of the class comment */
    static void checkReport(Input in, DsnComposer.Report r) {
        byte[] out = r.content();
        String s = new String(out, StandardCharsets.ISO_8859_1);
        int headerEnd = s.indexOf("\r\n\r\n");
        assertTrue(headerEnd > 0, "no header section");
        String header = s.substring(0, headerEnd + 2);
        checkHeaderLines(header, "top-level header");
        String unfolded = ("\r\n" + header).replaceAll("\r\n[ \t]", " ");
        Matcher ct = Pattern.compile("(?i)\r\nContent-Type: multipart/report; report-type=delivery-status; +boundary=\"([^\"]+)\"\r\n")
                .matcher(unfolded);
        assertTrue(ct.find(), "multipart/report with a boundary: " + unfolded);
        String boundary = ct.group(1);
        assertTrue(boundary.length() <= 70 && boundary.matches("[0-9A-Za-z'()+_,./:=?-]*[0-9A-Za-z'()+_,./:=?-]"),
                "an RFC 2046 boundary: " + boundary);
        String cte = r.eightBit() ? "8bit" : "7bit";
        assertTrue(unfolded.contains("\r\nContent-Transfer-Encoding: " + cte + "\r\n"), "top-level CTE " + cte);

        // the delimiters: every line that starts with "--boundary" (RFC 2046 5.1.1: what a parser looks for)
        String close = "\r\n--" + boundary + "--\r\n";
        assertTrue(s.endsWith(close), "the report ends with its close delimiter");
        List<Integer> delimiters = new ArrayList<>();
        String dash = "--" + boundary;
        for (int i = s.indexOf(dash); i >= 0; i = s.indexOf(dash, i + 1)) {
            if (i >= 2 && s.charAt(i - 1) == '\n' && s.charAt(i - 2) == '\r') {
                delimiters.add(i);
            }
        }
        assertEquals(4, delimiters.size(), "three parts and one close delimiter: " + delimiters);
        assertEquals(s.length() - close.length() + 2, (int) delimiters.get(3), "the close delimiter is the last");

        String part1 = s.substring(delimiters.get(0), delimiters.get(1));
        String part2 = s.substring(delimiters.get(1), delimiters.get(2));
        String part3 = s.substring(delimiters.get(2), delimiters.get(3));
        checkGeneratedLines(s.substring(0, delimiters.get(2)), "the report's first two parts");
        assertTrue(part1.contains("\r\nContent-Type: text/plain; charset=us-ascii\r\n"), part1);
        assertTrue(part2.contains("\r\nContent-Type: message/delivery-status\r\n"), part2);
        checkDeliveryStatus(in, part2.substring(part2.indexOf("\r\n\r\n") + 4));

        int part3Body = part3.indexOf("\r\n\r\n");
        assertTrue(part3Body > 0, "the third part's header");
        String part3Header = part3.substring(0, part3Body + 2);
        checkGeneratedLines(part3Header, "the third part's header");
        assertTrue(part3Header.contains("\r\nContent-Type: " + (in.headersOnly() ? "text/rfc822-headers" : "message/rfc822")
                + "\r\n"), part3Header);
        assertTrue(part3Header.contains("\r\nContent-Transfer-Encoding: " + cte + "\r\n"), part3Header);

        // the returned content: between the third part's header and the close delimiter's CRLF
        int from = delimiters.get(2) + part3Body + 4;
        byte[] returned = Arrays.copyOfRange(out, from, out.length - close.length());
        checkReturned(in, returned);

        boolean eight = false;
        for (byte b : out) {
            eight |= b < 0;
        }
        assertEquals(eight, r.eightBit(), "eightBit says whether the report has 8-bit octets");
        long bound = 16_384L + 8L * in.textLength() + 64L * in.failures().size() + returned.length;
        assertTrue(out.length <= bound, "size " + out.length + " over " + bound);
    }

    /* checkReturned - a prefix of the message within the limit, cut at a line end; the header alone for RET=HDRS */
    private static void checkReturned(Input in, byte[] returned) {
        byte[] c = in.content();
        assertTrue(returned.length <= Math.min(c.length, in.limit()), "returned " + returned.length + " of "
                + c.length + ", limit " + in.limit());
        assertTrue(Arrays.equals(returned, Arrays.copyOf(c, returned.length)), "the returned content is the message's start");
        boolean whole = returned.length == c.length && in.complete();
        if (!whole && returned.length > 0) {
            assertEquals('\n', returned[returned.length - 1], "a cut copy ends at a line end");
        }
        if (in.headersOnly()) {
            assertTrue(indexOf(returned, new byte[] {'\r', '\n', '\r', '\n'}, 0) < 0
                    && !(returned.length >= 2 && returned[0] == '\r' && returned[1] == '\n'),
                    "RET=HDRS returns the header alone");
        }
    }

    /* checkDeliveryStatus - per-message fields, then one group per failure, of the report's kind */
    private static void checkDeliveryStatus(Input in, String body) {
        assertTrue(body.endsWith("\r\n"), "delivery-status ends with CRLF");
        List<String> groups = new ArrayList<>(Arrays.asList(body.split("\r\n\r\n", -1)));
        groups.removeIf(String::isBlank);
        assertEquals(1 + in.failures().size(), groups.size(), "per-message group and one per recipient: " + body);
        assertTrue(groups.get(0).contains("Reporting-MTA: dns; " + HOST), groups.get(0));
        String klass = switch (in.kind()) {
            case SUCCESS -> "2";
            case DELAY, DELAY_COPY -> "4";
            default -> "5";
        };
        Set<String> actions = switch (in.kind()) {
            case SUCCESS -> Set.of("delivered", "relayed", "expanded");
            case DELAY, DELAY_COPY -> Set.of("delayed");
            default -> Set.of("failed");
        };
        for (String g : groups.subList(1, groups.size())) {
            String unfolded = ("\r\n" + g + "\r\n").replaceAll("\r\n[ \t]", " ");
            assertTrue(unfolded.contains("\r\nFinal-Recipient: rfc822;"), g);
            Matcher action = Pattern.compile("\r\nAction: ([^\r]*)\r\n").matcher(unfolded);
            assertTrue(action.find(), g);
            assertTrue(actions.contains(action.group(1)), "action " + action.group(1));
            Matcher status = Pattern.compile("\r\nStatus: ([^\r]*)\r\n").matcher(unfolded);
            assertTrue(status.find(), g);
            assertTrue(status.group(1).matches(klass + "\\.[0-9]{1,3}\\.[0-9]{1,3}"), "status " + status.group(1));
        }
    }

    /* checkGeneratedLines - CRLF lines of printable US-ASCII (TAB allowed), at most 998 octets */
    static void checkGeneratedLines(String text, String what) {
        int start = 0;
        while (start < text.length()) {
            int eol = text.indexOf("\r\n", start);
            if (eol < 0) {
                fail(what + ": a line without CRLF at " + start);
            }
            assertTrue(eol - start <= MAX_LINE, what + ": a line of " + (eol - start) + " octets");
            for (int i = start; i < eol; i++) {
                char c = text.charAt(i);
                if (!(c == '\t' || (c >= 0x20 && c < 0x7f))) {
                    fail(what + ": octet " + (int) c + " at " + i + " in " + text.substring(start, eol));
                }
            }
            start = eol + 2;
        }
    }

    /* checkHeaderLines - generated lines that are header fields or their continuations */
    private static void checkHeaderLines(String header, String what) {
        checkGeneratedLines(header, what);
        for (String line : header.split("\r\n")) {
            assertTrue(line.startsWith(" ") || line.startsWith("\t") || line.matches("[!-9;-~]+:.*"),
                    what + ": not a field: " + line);
        }
    }

    /* checkNotice - a plain-text notice: printable US-ASCII CRLF lines, bounded by the limit */
    private static void checkNotice(Input in, DsnComposer.Report notice) {
        String s = new String(notice.content(), StandardCharsets.ISO_8859_1);
        checkGeneratedLines(s, "the corrupt-queue notice");
        assertFalse(notice.eightBit());
        int header = s.indexOf("\r\n\r\n");
        assertTrue(header > 0);
        checkHeaderLines(s.substring(0, header + 2), "the notice's header");
        long bound = 8192L + 8L * in.textLength() + 2L * Math.min(in.content().length, in.limit());
        assertTrue(s.length() <= bound, "notice size " + s.length() + " over " + bound);
    }

    @Test
    void aLargeHostileInputIsComposedWithinBoundedTime() {
        // 10 MB of content in one line, a thousand recipients with 4 KB replies without spaces:
        // composed in well under the 20 s allowed on the 2-core machine, and bounded in size
        StringBuilder head = new StringBuilder("kind: SENDER\nlimit: 50000\n");
        for (int i = 0; i < 1000; i++) {
            head.append("rcpt: r").append(i).append("@example.com|rfc822;x+2B").append(i)
                    .append("|5.1.1|mx.example.com[192.0.2.1]:25|550 ").append("x".repeat(4096)).append('\n');
        }
        byte[] h = (head + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[10_000_000];
        Arrays.fill(body, (byte) 'a');
        byte[] data = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, data, h.length, body.length);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> report(data));
    }
}
