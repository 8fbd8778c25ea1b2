package org.postern.tools;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.management.openmbean.CompositeData;

/**
 * Qshape - Postfix's qshape(1) for Postern: the queue by domain and age.
 *
 * <pre>
 * qshape [-s] [-p] [-m min_subdomains] [-l] [-b bucket_count] [-t bucket_time]
 *        [-w terminal_width] [-N batch_msg_count] [-n batch_top_domains]
 *        [-c config_directory] [queue_name ...]
 * </pre>
 *
 * <p>One line per recipient domain (-s: sender domain) with the number of addresses in
 * the queues named (by default incoming and active; hold and deferred as well when
 * named), first in total (T), then by age in buckets: [0, t), [t, 2t), [2t, 4t), ... minutes
 * (-t, 5 by default), -b buckets (10), the last without limit; -l makes the buckets linear.
 * -p adds parent domains (".example.com") that have at least -m (5) subdomains. Domains
 * are sorted by total, then by length, then by name (Postfix leaves equal ones in hash
 * order). The columns fit -w (80) as qshape fits them. -N and -n (interim results on a
 * terminal) are accepted and ignored: the listing comes from the server a page at a time
 * and is printed once.
 */
public final class Qshape {
    static final String USAGE = "usage: qshape [ -s ] [ -p ] [ -m <min_subdomains> ] [ -l ] [ -b <bucket_count> ]"
            + " [ -t <bucket_time> ] [ -w <terminal_width> ] [ -N <batch_msg_count> ] [ -n <batch_top_domains> ]"
            + " [ -c <config_directory> ] [ <queue_name> ... ]";

    private Qshape() {
    }

    public static void main(String[] args) {
        Server.run("qshape", () -> run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        Getopt g = Getopt.parse(args, "lhc:psw:b:t:m:n:N:", USAGE);
        Shape shape = new Shape();
        for (Getopt.Option o : g.options) {
            switch (o.letter()) {
                case 'h': throw new Server.Fatal(0, USAGE);
                case 'l': shape.linear = true; break;
                case 's': shape.senders = true; break;
                case 'p': shape.parents = true; break;
                case 'w': shape.width = Math.max(shape.width, number(o.argument())); break;
                case 'b': shape.buckets = positive(o.argument(), shape.buckets); break;
                case 't': shape.tick = positive(o.argument(), shape.tick); break;
                case 'm': shape.minSubdomains = positive(o.argument(), shape.minSubdomains); break;
                default: break;
            }
        }
        List<String> queues = g.operands.isEmpty() ? List.of("incoming", "active") : g.operands;
        for (String q : queues) {
            if (!List.of("hold", "incoming", "active", "deferred", "maildrop", "corrupt").contains(q)) {
                throw new Server.Fatal(1, "invalid queue name: " + q);
            }
        }
        long now = System.currentTimeMillis() / 1000;
        try (Server server = Server.connect("qshape")) {
            Postqueue.each(server, queues.toArray(new String[0]), m -> shape.add(m, now));
        }
        out.print(shape.results());
        out.flush();
        return 0;
    }

    private static int number(String s) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new Server.Fatal(Server.EX_USAGE, USAGE);
        }
    }

    private static int positive(String s, int otherwise) {
        int n = number(s);
        return n > 0 ? n : otherwise;
    }

    /** Shape - the counts per domain and bucket; bucket 0 is the total. */
    static final class Shape {
        boolean linear;
        boolean senders;
        boolean parents;
        int width = 80;
        int buckets = 10;
        int tick = 5;
        int minSubdomains = 5;
        final Map<String, long[]> counts = new HashMap<>();
        final Map<String, Integer> subdomains = new HashMap<>();

        /** bucket - the age bucket (1 to buckets) of a message that arrived at the time. */
        int bucket(long arrival, long now) {
            double m = (now - arrival) / (60.0 * tick);
            if (m < 1) {
                return 1;
            }
            int b = linear ? (int) (m + 1) : 2 + (int) (Math.log(m) / Math.log(2));
            return Math.min(b, buckets);
        }

        void add(CompositeData message, long now) {
            int b = bucket((Long) message.get("arrivalTime"), now);
            List<String> addresses = new ArrayList<>();
            if (senders) {
                addresses.add((String) message.get("sender"));
            } else {
                for (CompositeData r : (CompositeData[]) message.get("recipients")) {
                    addresses.add((String) r.get("address"));
                }
            }
            for (String address : addresses) {
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

        /** results - the heading and a line per domain. */
        String results() {
            long[] total = counts.computeIfAbsent("TOTAL", k -> new long[buckets + 1]);
            List<String> heads = new ArrayList<>();
            List<Integer> widths = new ArrayList<>();
            int domainWidth = width;
            String t = "0";
            long tv = 0;
            for (int i = 0; i <= buckets; ) {
                String h = i == 0 ? "T" : t;
                int l = Math.max(Long.toString(total[i]).length(), h.length());
                l = l > 2 ? l + 1 : 3;
                heads.add(h);
                widths.add(l);
                domainWidth -= l;
                if (++i < buckets) {
                    tv += tv != 0 && !linear ? tv : tick;
                    t = Long.toString(tv);
                } else {
                    t = tv + "+";
                }
            }
            domainWidth = Math.max(domainWidth, 18);
            StringBuilder b = new StringBuilder();
            line(b, "", heads, widths, domainWidth);
            List<String> domains = new ArrayList<>(counts.keySet());
            domains.sort((x, y) -> {
                int c = Long.compare(counts.get(y)[0], counts.get(x)[0]);
                if (c == 0) {
                    c = Integer.compare(x.length(), y.length());
                }
                return c != 0 ? c : x.compareTo(y);
            });
            for (String d : domains) {
                if (d.startsWith(".") && subdomains.getOrDefault(d, 0) < minSubdomains) {
                    continue;
                }
                List<String> cells = new ArrayList<>();
                for (long n : counts.get(d)) {
                    cells.add(Long.toString(n));
                }
                line(b, d, cells, widths, domainWidth);
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
}
