package org.postern.mail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * QueueShape - Postfix's qshape(1) histogram: addresses of queued mail counted per
 * domain and age bucket, for the qshape command and the console's dashboard.
 *
 * <p>Bucket 0 is the total; buckets 1 to {@code buckets} hold the ages [0, t), [t, 2t),
 * [2t, 4t), ... minutes (t the bucket time, 5 by default), the last without limit, or
 * [0, t), [t, 2t), [2t, 3t), ... when linear. An empty address counts as MAILER-DAEMON.
 * With parents, each domain also counts for its parent domains (".example.com") but the
 * top-level ones; a parent is shown when it has at least minSubdomains subdomains. Rows
 * are sorted by total, then by length, then by name (Postfix leaves equal ones in hash
 * order), with TOTAL first.
 */
public final class QueueShape {
    private final boolean linear;
    private final boolean parents;
    private final int buckets;
    private final int tick;
    private final int minSubdomains;
    private final Map<String, long[]> counts = new HashMap<>();
    private final Map<String, Integer> subdomains = new HashMap<>();

    /** Row - one line of the histogram: the domain (TOTAL first) and its counts, total first. */
    public record Row(String domain, long[] counts) {
        /** cells - the counts as a list, for pages that cannot iterate over an array of long. */
        public List<Long> cells() {
            return java.util.Arrays.stream(counts).boxed().toList();
        }
    }

    public QueueShape(boolean linear, boolean parents, int buckets, int tick, int minSubdomains) {
        if (buckets < 1 || tick < 1) {
            throw new IllegalArgumentException("bucket count and bucket time must be positive");
        }
        this.linear = linear;
        this.parents = parents;
        this.buckets = buckets;
        this.tick = tick;
        this.minSubdomains = minSubdomains;
        counts.put("TOTAL", new long[buckets + 1]);
    }

    /** defaults - qshape's defaults: 10 buckets of 5 minutes doubling, no parent domains. */
    public static QueueShape defaults() {
        return new QueueShape(false, false, 10, 5, 5);
    }

    /** bucket - the age bucket (1 to buckets) of mail that arrived at the time (seconds). */
    int bucket(long arrival, long now) {
        double m = (now - arrival) / (60.0 * tick);
        if (m < 1) {
            return 1;
        }
        int b = linear ? (int) (m + 1) : 2 + (int) (Math.log(m) / Math.log(2));
        return Math.min(b, buckets);
    }

    /** add - one address of mail that arrived at the time (seconds since the epoch), now being now. */
    public void add(String address, long arrival, long now) {
        int b = bucket(arrival, now);
        count("TOTAL", b);
        String d = domain(address.toLowerCase(Locale.ROOT));
        boolean isNew = false;
        while (true) {
            boolean old = count(d, b) > 1;
            if (isNew) {
                subdomains.merge(d, 1, Integer::sum);
            }
            isNew = !old;
            if (!parents) {
                break;
            }
            // the parent of a.b.c is .b.c; a top-level domain has none
            String bare = d.startsWith(".") ? d.substring(1) : d;
            int dot = bare.indexOf('.');
            if (dot < 0 || bare.indexOf('.', dot + 1) < 0) {
                break;
            }
            d = bare.substring(dot);
        }
    }

    /** domain - the domain of an address as qshape takes it: MAILER-DAEMON for the null address. */
    static String domain(String address) {
        if (address.isEmpty()) {
            return "MAILER-DAEMON";
        }
        String d = address.substring(address.lastIndexOf('@') + 1);
        while (d.contains("..")) {
            d = d.replace("..", ".");
        }
        if (d.startsWith(".")) {
            d = d.substring(1);
        }
        if (d.endsWith(".") && d.length() > 1) {
            d = d.substring(0, d.length() - 1);
        }
        return d;
    }

    private long count(String domain, int bucket) {
        long[] c = counts.computeIfAbsent(domain, k -> new long[buckets + 1]);
        c[bucket]++;
        return ++c[0];
    }

    /** headings - "T", then each bucket's upper limit in minutes, the last with "+". */
    public List<String> headings() {
        List<String> heads = new ArrayList<>();
        long t = 0;
        for (int i = 0; i <= buckets; i++) {
            if (i == 0) {
                heads.add("T");
            } else if (i < buckets) {
                t += t != 0 && !linear ? t : tick;
                heads.add(Long.toString(t));
            } else {
                heads.add(t + "+");
            }
        }
        return heads;
    }

    /** rows - TOTAL and the domains in qshape's order (parents with too few subdomains left out). */
    public List<Row> rows() {
        List<String> domains = new ArrayList<>(counts.keySet());
        domains.sort((x, y) -> {
            int c = Long.compare(counts.get(y)[0], counts.get(x)[0]);
            if (c == 0) {
                c = Integer.compare(x.length(), y.length());
            }
            return c != 0 ? c : x.compareTo(y);
        });
        List<Row> out = new ArrayList<>();
        for (String d : domains) {
            if (d.startsWith(".") && subdomains.getOrDefault(d, 0) < minSubdomains) {
                continue;
            }
            out.add(new Row(d, counts.get(d).clone()));
        }
        return out;
    }

    /** text - the histogram as qshape prints it for a terminal of the width. */
    public String text(int width) {
        long[] total = counts.get("TOTAL");
        List<String> heads = headings();
        List<Integer> widths = new ArrayList<>();
        int domainWidth = width;
        for (int i = 0; i <= buckets; i++) {
            int l = Math.max(Long.toString(total[i]).length(), heads.get(i).length());
            l = l > 2 ? l + 1 : 3;
            widths.add(l);
            domainWidth -= l;
        }
        domainWidth = Math.max(domainWidth, 18);
        StringBuilder b = new StringBuilder();
        line(b, "", heads, widths, domainWidth);
        for (Row r : rows()) {
            List<String> cells = new ArrayList<>();
            for (long n : r.counts()) {
                cells.add(Long.toString(n));
            }
            line(b, r.domain(), cells, widths, domainWidth);
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String d, List<String> cells, List<Integer> widths, int dw) {
        int len = d.length();
        if (len > dw) {
            b.append(d.startsWith(".") ? ".+" + d.substring(len - dw + 2) : "+" + d.substring(len - dw + 1));
        } else {
            b.append(" ".repeat(dw - len)).append(d);
        }
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            b.append(" ".repeat(Math.max(0, widths.get(i) - c.length()))).append(c);
        }
        b.append('\n');
    }
}
