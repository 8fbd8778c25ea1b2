package org.postern.tools;

import java.io.PrintStream;
import java.util.List;
import javax.management.openmbean.CompositeData;
import org.postern.mail.QueueShape;

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
        boolean linear = false;
        boolean senders = false;
        boolean parents = false;
        int width = 80;
        int buckets = 10;
        int tick = 5;
        int minSubdomains = 5;
        for (Getopt.Option o : g.options) {
            switch (o.letter()) {
                case 'h': throw new Server.Fatal(0, USAGE);
                case 'l': linear = true; break;
                case 's': senders = true; break;
                case 'p': parents = true; break;
                case 'w': width = Math.max(width, number(o.argument())); break;
                case 'b': buckets = positive(o.argument(), buckets); break;
                case 't': tick = positive(o.argument(), tick); break;
                case 'm': minSubdomains = positive(o.argument(), minSubdomains); break;
                default: break;
            }
        }
        QueueShape shape = new QueueShape(linear, parents, buckets, tick, minSubdomains);
        boolean bySender = senders;
        List<String> queues = g.operands.isEmpty() ? List.of("incoming", "active") : g.operands;
        for (String q : queues) {
            if (!List.of("hold", "incoming", "active", "deferred", "maildrop", "corrupt").contains(q)) {
                throw new Server.Fatal(1, "invalid queue name: " + q);
            }
        }
        long now = System.currentTimeMillis() / 1000;
        try (Server server = Server.connect("qshape")) {
            Postqueue.each(server, queues.toArray(new String[0]), m -> {
                long arrival = (Long) m.get("arrivalTime");
                if (bySender) {
                    shape.add((String) m.get("sender"), arrival, now);
                } else {
                    for (CompositeData r : (CompositeData[]) m.get("recipients")) {
                        shape.add((String) r.get("address"), arrival, now);
                    }
                }
            });
        }
        out.print(shape.text(width));
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
}
