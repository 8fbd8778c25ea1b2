package org.postern.tools;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import javax.management.openmbean.CompositeData;

/**
 * Postqueue - Postfix's postqueue(1) for Postern: the same options, output and exit
 * statuses, so that scripts written for Postfix work.
 *
 * <pre>
 * postqueue [-v] [-c config_dir] -p      list the queue (mailq): one block per message
 * postqueue [-v] [-c config_dir] -j      list the queue, one JSON object per message
 * postqueue [-v] [-c config_dir] -f      deliver all deferred mail now (sendmail -q)
 * postqueue [-v] [-c config_dir] -s site deliver the deferred mail of site now (ETRN)
 * postqueue [-v] [-c config_dir] -i id   deliver that message now
 * </pre>
 *
 * <p>The listing is Postfix's with long queue ids (Postern's are 16 characters): a
 * heading, then per message its id (with {@code *} while it is being delivered and
 * {@code !} while it is held), size, arrival time and sender (MAILER-DAEMON for the null
 * sender), each recipient still to be delivered on a line of its own, preceded by the
 * reason of its deferral in parentheses when that differs from the previous recipient's;
 * a footer {@code -- N Kbytes in M Requests.}, or {@code Mail queue is empty}. The JSON
 * objects have Postfix's field names (queue_name, queue_id, arrival_time, message_size,
 * forced_expire, sender, recipients with address and delay_reason). Queues are listed in
 * Postfix's order: hold, incoming, active, deferred, each in queue id order, a page of
 * messages at a time, so a large queue streams.
 *
 * <p>-c config_dir is accepted (the server reads its own configuration); -v is accepted
 * and ignored. The server is the one of POSTERN_MANAGEMENT (see {@link Server}). Exit
 * status 0, 64 on a usage error, 69 when the server cannot be reached or refuses a flush.
 */
public final class Postqueue {
    static final String USAGE = "usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p"
            + " | postqueue -s site";
    private static final String[] STR = {String.class.getName()};
    /** asctime(3) to the seconds, as %19.19s prints it: "Sun Dec  6 09:35:39" */
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMMpppd HH:mm:ss", Locale.US);
    private static final int PAGE = 500;

    private Postqueue() {
    }

    public static void main(String[] args) {
        Server.run("postqueue", () -> run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        Getopt g = Getopt.parse(args, "c:fi:jps:v", USAGE);
        char mode = 0;
        String argument = null;
        for (Getopt.Option o : g.options) {
            if ("fijps".indexOf(o.letter()) >= 0) {
                if (mode != 0) {
                    throw new Server.Fatal(Server.EX_USAGE, USAGE);
                }
                mode = o.letter();
                argument = o.argument();
            }
        }
        if (mode == 0 || !g.operands.isEmpty()) {
            throw new Server.Fatal(Server.EX_USAGE, USAGE);
        }
        try (Server server = Server.connect("postqueue")) {
            switch (mode) {
                case 'p':
                    list(server, out, false);
                    return 0;
                case 'j':
                    list(server, out, true);
                    return 0;
                case 'f':
                    server.queue("flush", new Object[0], new String[0]);
                    return 0;
                case 's':
                    if (argument.isBlank() || argument.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
                        throw new Server.Fatal(Server.EX_USAGE, "Invalid request: \"" + argument + "\"");
                    }
                    if (!(Boolean) server.queue("flushSite", new Object[] {argument}, STR)) {
                        throw new Server.Fatal(Server.EX_UNAVAILABLE, "Flush service is not configured for destination \""
                                + argument + "\"");
                    }
                    return 0;
                default:
                    if (!argument.matches("[0-9A-F]{16}")) {
                        throw new Server.Fatal(Server.EX_USAGE, "Invalid request: \"" + argument + "\"");
                    }
                    if (!(Boolean) server.queue("deliver", new Object[] {argument}, STR)) {
                        throw new Server.Fatal(Server.EX_UNAVAILABLE, "Cannot flush mail queue - queue id \"" + argument
                                + "\" is not in the incoming, active or deferred queue");
                    }
                    return 0;
            }
        }
    }

    /** list - the whole queue, a page at a time, as -p or -j prints it. */
    static void list(Server server, PrintStream out, boolean json) {
        long[] messages = {0};
        long[] bytes = {0};
        each(server, new String[] {"hold", "incoming", "active", "deferred"}, m -> {
            if (json) {
                out.print(json(m));
            } else {
                out.print(messages[0] == 0 ? heading() : "\n");
                out.print(block(m));
            }
            messages[0]++;
            bytes[0] += (Long) m.get("messageSize");
        });
        out.flush();
        footer(out, json, messages[0], bytes[0]);
    }

    /** each - every message of the queues, in order, a page at a time. */
    static void each(Server server, String[] queues, java.util.function.Consumer<CompositeData> action) {
        for (String queue : queues) {
            String after = "";
            CompositeData[] page;
            do {
                page = (CompositeData[]) server.queue("list", new Object[] {queue, after, PAGE},
                        new String[] {String.class.getName(), String.class.getName(), int.class.getName()});
                for (CompositeData m : page) {
                    action.accept(m);
                    after = (String) m.get("queueId");
                }
            } while (page.length == PAGE);
        }
    }

    private static void footer(PrintStream out, boolean json, long messages, long bytes) {
        if (!json) {
            out.print(messages == 0 ? "Mail queue is empty\n"
                    : "\n-- " + bytes / 1024 + " Kbytes in " + messages + " Request" + (messages == 1 ? "" : "s") + ".\n");
        }
    }

    /** heading - the column heading of the long-id listing. */
    static String heading() {
        return String.format("%-17s %8s %-19s %s", "----Queue ID-----", "--Size--", "---Arrival Time----",
                "--Sender/Recipient------") + "\n";
    }

    /** block - one message of the -p listing. */
    static String block(CompositeData m) {
        StringBuilder b = new StringBuilder();
        String queue = (String) m.get("queueName");
        // Postfix's status character: * active, ! held, # forced to expire (postsuper -e, -f)
        String id = (String) m.get("queueId") + (queue.equals("active") ? "*" : queue.equals("hold") ? "!"
                : Boolean.TRUE.equals(m.get("forcedExpire")) ? "#" : "");
        String sender = (String) m.get("sender");
        String arrival = ASCTIME.format(Instant.ofEpochSecond((Long) m.get("arrivalTime")).atZone(ZoneId.systemDefault()));
        b.append(String.format(Locale.ROOT, "%-17s %8d %19.19s %s", id, (Long) m.get("messageSize"), arrival,
                printable(sender.isEmpty() ? "MAILER-DAEMON" : sender))).append('\n');
        String saved = "";
        for (CompositeData r : (CompositeData[]) m.get("recipients")) {
            String why = (String) r.get("delayReason");
            if (!why.equals(saved)) {
                saved = why;
                String show = why.isEmpty() ? "reason unavailable" : printable(why);
                b.append(" ".repeat(Math.max(0, 76 - show.length()))).append('(').append(show).append(")\n");
            }
            b.append(" ".repeat(17 + 1 + 8 + 1 + 19 + 1)).append(printable((String) r.get("address"))).append('\n');
        }
        return b.toString();
    }

    /** json - one message of the -j listing, one line. */
    static String json(CompositeData m) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"queue_name\": ").append(quote((String) m.get("queueName"))).append(", ");
        b.append("\"queue_id\": ").append(quote((String) m.get("queueId"))).append(", ");
        b.append("\"arrival_time\": ").append((Long) m.get("arrivalTime")).append(", ");
        b.append("\"message_size\": ").append((Long) m.get("messageSize")).append(", ");
        b.append("\"forced_expire\": ").append((Boolean) m.get("forcedExpire")).append(", ");
        b.append("\"sender\": ").append(quote((String) m.get("sender"))).append(", ");
        b.append("\"recipients\": [");
        String sep = "";
        for (CompositeData r : (CompositeData[]) m.get("recipients")) {
            b.append(sep).append("{\"address\": ").append(quote((String) r.get("address")));
            String why = (String) r.get("delayReason");
            if (!why.isEmpty()) {
                b.append(", \"delay_reason\": ").append(quote(why));
            }
            b.append('}');
            sep = ", ";
        }
        return b.append("]}\n").toString();
    }

    /** printable - control characters become '?', as Postfix's printable() does (UTF-8 stays). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < ' ' || c == 127 ? '?' : c);
        }
        return b.toString();
    }

    /** quote - a JSON string. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < ' ' || c == 127) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }
}
