package org.postern.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * Getopt - POSIX getopt(3) as Postfix's commands use it: clustered flags ({@code -vp}),
 * an option's argument attached or next ({@code -d ID}, {@code -dID}), options end at
 * {@code --} or at the first operand.
 */
final class Getopt {
    /** Option - one option letter and its argument (null for a flag). */
    record Option(char letter, String argument) {
    }

    final List<Option> options = new ArrayList<>();
    final List<String> operands = new ArrayList<>();

    /** parse - the arguments by the spec ("c:d:v": c and d take an argument); Fatal EX_USAGE on a bad one. */
    static Getopt parse(String[] args, String spec, String usage) {
        Getopt g = new Getopt();
        int i = 0;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.length() == 1) {
                break;
            }
            for (int j = 1; j < a.length(); j++) {
                char c = a.charAt(j);
                int at = spec.indexOf(c);
                if (at < 0 || c == ':') {
                    throw new Server.Fatal(Server.EX_USAGE, usage);
                }
                if (at + 1 < spec.length() && spec.charAt(at + 1) == ':') {
                    String value;
                    if (j + 1 < a.length()) {
                        value = a.substring(j + 1);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new Server.Fatal(Server.EX_USAGE, usage);
                    }
                    g.options.add(new Option(c, value));
                    break;
                }
                g.options.add(new Option(c, null));
            }
        }
        for (; i < args.length; i++) {
            g.operands.add(args[i]);
        }
        return g;
    }
}
