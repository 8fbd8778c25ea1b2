package org.postern.tools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.management.ObjectName;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.MasterCf;
import org.postern.config.Parameter;
import org.postern.config.Parameters;
import org.postern.config.maps.LookupTables;

/**
 * Postfix - the postfix(1) command's checks for Postern.
 *
 * <pre>
 * postfix [-c config_dir] check    main.cf and master.cf as the server reads them
 * postfix status                    whether the server runs Postern
 * postfix reload                    re-read main.cf, master.cf and the lookup tables
 * postfix flush                     postqueue -f
 * </pre>
 *
 * <p>check reads main.cf (syntax and the type of every value Postern knows), master.cf,
 * opens the lookup tables that main.cf sets, and looks for the files it names; it prints
 * {@code postfix: warning: ...} for what it doubts and {@code postfix: fatal: ...} for
 * what would stop the server, and exits 0 when nothing is fatal, 1 otherwise. status
 * prints {@code postfix/postfix-script: the Postern mail system is running: PID: N} and
 * exits 0, or says it is not running and exits 1. reload asks the running server to read
 * its configuration again ({@code org.postern:type=Configuration} reload): it prints
 * {@code postfix/postfix-script: refreshing the Postern mail system} and what changed,
 * and exits 0; a configuration the server refuses prints {@code postfix: fatal:} with the
 * file, line and reason and exits 1 (the running configuration stays). start and stop are
 * not offered: WildFly starts and stops the server (standalone.sh, jboss-cli.sh).
 */
public final class Postfix {
    static final String USAGE = "usage: postfix [-c config_dir] check | postfix status | postfix reload | postfix flush";
    static final String CONFIGURATION = "org.postern:type=Configuration";

    private Postfix() {
    }

    public static void main(String[] args) {
        Server.run("postfix", () -> run(args));
    }

    static int run(String[] args) {
        Server.quiet(java.util.logging.Level.OFF);
        Getopt g = Getopt.parse(args, "c:Dv", USAGE);
        Path dir = ConfigLocator.configDir();
        for (Getopt.Option o : g.options) {
            if (o.letter() == 'c') {
                dir = Path.of(o.argument());
            }
        }
        if (g.operands.size() != 1) {
            throw new Server.Fatal(1, USAGE);
        }
        switch (g.operands.get(0)) {
            case "check":
                return check(dir);
            case "status":
                return status();
            case "flush":
                return Postqueue.run(new String[] {"-f"}, System.out);
            case "reload":
                return reload();
            case "start":
            case "stop":
                throw new Server.Fatal(1, "postfix " + g.operands.get(0) + " is not available in Postern: WildFly starts"
                        + " and stops the server (bin/standalone.sh; bin/jboss-cli.sh --connect :shutdown)");
            default:
                throw new Server.Fatal(1, USAGE);
        }
    }

    /** check - what the server would refuse, and what looks wrong. */
    static int check(Path dir) {
        int fatal = 0;
        Config config;
        try {
            config = Config.load(dir);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("postfix: fatal: " + e.getMessage());
            return 1;
        }
        for (String w : config.warnings()) {
            System.err.println("postfix: warning: " + w.replaceFirst("^PSTN\\d{4}: ", ""));
        }
        try {
            MasterCf.load(dir);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("postfix: fatal: " + e.getMessage());
            fatal++;
        }
        for (Map.Entry<String, Parameter<?>> e : Parameters.all().entrySet()) {
            String name = e.getKey();
            if (!config.isExplicit(name)) {
                continue;
            }
            String value = config.text(name).strip();
            if (name.endsWith("_maps") && !value.isEmpty()) {
                for (String spec : value.split("[\\s,]+")) {
                    try {
                        LookupTables.open(spec);
                    } catch (ConfigException | IllegalArgumentException ex) {
                        System.err.println("postfix: fatal: " + name + ": " + ex.getMessage());
                        fatal++;
                    }
                }
            }
            if (name.endsWith("_file") && value.startsWith("/") && !Files.isReadable(Path.of(value))) {
                System.err.println("postfix: warning: " + name + " = " + value + ": no such file, or not readable");
            }
        }
        return fatal == 0 ? 0 : 1;
    }

    /** reload - the server reads main.cf, master.cf and the lookup tables again. */
    static int reload() {
        try (Server server = Server.connect("postfix")) {
            Object changes;
            try {
                changes = server.invoke(CONFIGURATION, "reload", new Object[0], new String[0]);
            } catch (Server.Fatal f) {
                // the server's reason, without the "postfix request failed: " of other commands
                throw new Server.Fatal(1, f.getMessage().replaceFirst("^postfix request failed: ", ""));
            }
            System.err.println("postfix/postfix-script: refreshing the Postern mail system");
            for (String line : (String[]) changes) {
                System.err.println("postfix/postfix-script: " + line);
            }
            return 0;
        }
    }

    /** status - the server answers and Postern is deployed in it. */
    static int status() {
        try (Server server = Server.connect("postfix")) {
            server.queue("counts", new Object[0], new String[0]);
            Object name = server.attribute(new ObjectName("java.lang:type=Runtime"), "Name");
            String pid = String.valueOf(name).split("@")[0];
            System.err.println("postfix/postfix-script: the Postern mail system is running: PID: " + pid);
            return 0;
        } catch (Server.Fatal f) {
            System.err.println("postfix/postfix-script: the Postern mail system is not running (" + f.getMessage() + ")");
            return 1;
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }
}
