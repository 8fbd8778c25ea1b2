package org.postern.tools;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Postsuper - Postfix's postsuper(1) for Postern: queue operations by queue id.
 *
 * <pre>
 * postsuper [-v] [-c config_dir] [-d id] [-e id] [-f id] [-h id] [-H id] [-r id] [queue ...]
 * </pre>
 *
 * <ul>
 * <li>-d id: delete the message (no notice to anyone);</li>
 * <li>-e id: expire it (Postfix 3.5): at its next delivery round it is returned to the
 * sender with "message is administratively expired" instead of being delivered; a held
 * message stays held until it is released;</li>
 * <li>-f id: expire it and release it from hold;</li>
 * <li>-h id: put it on hold (not delivered until released);</li>
 * <li>-H id: release it from hold;</li>
 * <li>-r id: requeue it, that is deliver it now whatever its backoff (a held message is
 * released first).</li>
 * </ul>
 *
 * <p>Each option may be given more than once. The id {@code ALL} means every message of
 * the queues named after the options (by default: -d every queue, -h incoming, active
 * and deferred, -H hold, -r, -e and -f hold, incoming, active, deferred); {@code -} reads ids from
 * standard input, one per line (the first word of the line), as in {@code mailq | awk
 * ... | postsuper -d -}. Queue names are hold, incoming, active, deferred, maildrop
 * (always empty here) and Postern's corrupt. Like Postfix it reports, on standard error,
 * {@code postsuper: Requeued: N messages}, {@code Deleted: N messages}, {@code Placed on
 * hold: N messages}, {@code Released from hold: N messages} and {@code Force-expired: N
 * messages} for the counts above zero, after a line per message changed ({@code
 * postsuper: ID: removed}, {@code placed on hold}, {@code released from hold}, {@code
 * requeued}, {@code expired}),
 * and warns of a word that is not a queue id. Every change is in the mail log as
 * postsuper writes it. -s, -S and -p (Postfix's structure checks) are accepted and do
 * nothing: the queue is a database. Exit status 0; 1 on a bad queue name; 64 on a usage
 * error; 69 when the server cannot be reached.
 */
public final class Postsuper {
    static final String USAGE = "usage: postsuper [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)]"
            + " [-f queue_id (expire and/or un-hold)] [-h queue_id (hold)]"
            + " [-H queue_id (un-hold)] [-p (purge temporary files)] [-r queue_id (requeue)]"
            + " [-s (structure fix)] [-S (stale temporary files)] [-v (verbose)] [queue...]";
    private static final Set<String> QUEUES = Set.of("hold", "incoming", "active", "deferred", "maildrop", "corrupt");
    private static final String[] CHANGE = {String.class.getName(), String[].class.getName(),
            String[].class.getName()};

    private Postsuper() {
    }

    public static void main(String[] args) {
        Server.run("postsuper", () -> run(args));
    }

    static int run(String[] args) {
        Getopt g = Getopt.parse(args, "c:d:e:f:h:H:pr:sSv", USAGE);
        // the operations in the order Postfix reports them
        Map<Character, List<String>> ids = new LinkedHashMap<>();
        for (char c : new char[] {'r', 'd', 'h', 'H', 'e', 'f'}) {
            ids.put(c, new ArrayList<>());
        }
        List<String> stdin = null;
        for (Getopt.Option o : g.options) {
            List<String> list = ids.get(o.letter());
            if (list == null) {
                continue;
            }
            if (o.argument().equals("-")) {
                if (stdin == null) {
                    stdin = readIds();
                }
                list.addAll(stdin);
            } else {
                list.add(o.argument());
            }
        }
        for (String q : g.operands) {
            if (!QUEUES.contains(q)) {
                throw new Server.Fatal(1, "invalid directory name: " + q);
            }
        }
        if (ids.values().stream().allMatch(List::isEmpty)) {
            return 0;
        }
        for (List<String> list : ids.values()) {
            list.removeIf(id -> {
                if (id.equals("ALL") || id.matches("[0-9A-F]{16}")) {
                    return false;
                }
                System.err.println("postsuper: warning: invalid mail queue id: " + id);
                return true;
            });
        }
        String[] queues = g.operands.toArray(new String[0]);
        String[] words = {"Requeued", "Deleted", "Placed on hold", "Released from hold", "Force-expired", null};
        String[] operations = {"requeue", "delete", "hold", "release", "expire", "expireRelease"};
        int[] counts = new int[6];
        try (Server server = Server.connect("postsuper")) {
            int k = 0;
            for (List<String> list : ids.values()) {
                if (!list.isEmpty()) {
                    // what Postfix's postsuper prints for each message, then the counts
                    String[] said = (String[]) server.queue("change", new Object[] {operations[k],
                            list.toArray(new String[0]), queues}, CHANGE);
                    for (String line : said) {
                        System.err.println("postsuper: " + line);
                    }
                    String word = operations[k].startsWith("expire") ? ": expired" : null;
                    counts[k] = word == null ? countOf(said, k) : (int) java.util.Arrays.stream(said)
                            .filter(l -> l.endsWith(word)).count();
                }
                k++;
            }
        }
        counts[4] += counts[5]; // -e and -f: one "Force-expired" count, as Postfix reports it
        for (int k = 0; k < 5; k++) {
            if (counts[k] > 0) {
                System.err.println("postsuper: " + words[k] + ": " + counts[k] + " message" + (counts[k] > 1 ? "s" : ""));
            }
        }
        return 0;
    }

    /** countOf - the messages an operation changed: its lines (release is also in -f's lines). */
    private static int countOf(String[] said, int k) {
        String[] words = {": requeued", ": removed", ": placed on hold", ": released from hold"};
        return (int) java.util.Arrays.stream(said).filter(l -> l.endsWith(words[k])).count();
    }

    /** readIds - queue ids from standard input, the first word of each line. */
    private static List<String> readIds() {
        List<String> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                String t = line.strip();
                if (!t.isEmpty()) {
                    out.add(t.split("\\s+", 2)[0]);
                }
            }
        } catch (IOException e) {
            throw new Server.Fatal(74, "read standard input: " + e.getMessage());
        }
        return out;
    }
}
