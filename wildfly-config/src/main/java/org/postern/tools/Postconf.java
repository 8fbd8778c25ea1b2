package org.postern.tools;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.MainCfEditor;
import org.postern.config.ConfigLocator;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.config.Parameter;
import org.postern.config.Parameters;

/**
 * Postconf - Postfix's postconf(1) for Postern's main.cf and master.cf. It reads the
 * files, as Postfix's does, so it works with the server stopped too.
 *
 * <pre>
 * postconf [-c config_dir] [-d | -n] [-h] [-x] [name ...]   parameters, "name = value"
 * postconf [-c config_dir] -e name=value ...                 edit main.cf
 * postconf [-c config_dir] -X name ...                       remove from main.cf
 * postconf [-c config_dir] -M [service[/type] ...]           master.cf services, in Postfix's columns
 * </pre>
 *
 * <p>Without a name: every parameter Postern knows, sorted (-n: those main.cf sets,
 * Postern knows them or not; -d: the defaults). Values are printed as written, $name and
 * all (-x expands them). -h prints the values alone. An unknown name gets Postfix's
 * warning {@code postconf: warning: NAME: unknown parameter}; a name main.cf sets that
 * Postern does not use is listed by -n with a warning, as Postfix warns of an unused one.
 *
 * <p>-e replaces each definition of a parameter (its continuation lines with it) where it
 * is and appends the ones main.cf lacks, as Postfix's postconf -e does; -X removes
 * definitions. Comments and the other lines stay as they were. The edited file is
 * checked as the server would read it (syntax, and the type of every value Postern knows)
 * before it replaces main.cf (through a temporary file and a rename): a value the server
 * would refuse is refused here, with the line and the reason, and main.cf is left as it
 * was. An edit takes effect when the server reads main.cf again (at start or
 * redeployment).
 *
 * <p>The configuration directory is -c, else POSTERN_CONFIG_DIR, else the provisioned
 * server's {@code standalone/configuration/postern}. Exit status 0, 1 on an error.
 */
public final class Postconf {
    static final String USAGE = "usage: postconf [-c config_dir] [-d | -n] [-h] [-x] [name ...]"
            + " | postconf [-c config_dir] -e name=value ... | postconf [-c config_dir] -X name ..."
            + " | postconf [-c config_dir] -M [service[/type] ...]";

    private Postconf() {
    }

    public static void main(String[] args) {
        Server.run("postconf", () -> run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        // the configuration reader logs what it finds; postconf says it in its own words
        Server.quiet(java.util.logging.Level.OFF);
        Getopt g = Getopt.parse(args, "c:dehMnxX", USAGE);
        Path dir = ConfigLocator.configDir();
        boolean defaults = false;
        boolean explicit = false;
        boolean valuesOnly = false;
        boolean expand = false;
        char edit = 0;
        boolean master = false;
        for (Getopt.Option o : g.options) {
            switch (o.letter()) {
                case 'c': dir = Path.of(o.argument()); break;
                case 'd': defaults = true; break;
                case 'n': explicit = true; break;
                case 'h': valuesOnly = true; break;
                case 'x': expand = true; break;
                case 'e': edit = 'e'; break;
                case 'X': edit = 'X'; break;
                case 'M': master = true; break;
                default: throw new Server.Fatal(1, USAGE);
            }
        }
        if (defaults && explicit) {
            throw new Server.Fatal(1, "specify one of -d and -n");
        }
        if (master) {
            return master(dir, g.operands, out);
        }
        if (edit != 0) {
            if (g.operands.isEmpty()) {
                throw new Server.Fatal(1, USAGE);
            }
            return edit(dir.resolve("main.cf"), g.operands, edit == 'X');
        }
        Config config = load(dir);
        List<String> names = new ArrayList<>();
        if (g.operands.isEmpty()) {
            TreeSet<String> all = new TreeSet<>(explicit ? config.explicitNames() : Parameters.all().keySet());
            names.addAll(all);
        } else {
            names.addAll(g.operands);
        }
        for (String name : names) {
            Parameter<?> p = Parameters.all().get(name);
            String value;
            if (defaults) {
                value = p == null ? null : p.defaultValue();
            } else if (p == null && !config.isExplicit(name)) {
                value = null;
            } else if (expand && p != null) {
                value = config.text(name);
            } else {
                value = config.unexpanded(name);
            }
            if (value == null) {
                System.err.println("postconf: warning: " + name + ": unknown parameter");
                continue;
            }
            if (p == null) {
                System.err.println("postconf: warning: " + dir.resolve("main.cf") + ": unused parameter: " + name + "="
                        + value);
            }
            out.println(valuesOnly ? value : value.isEmpty() ? name + " =" : name + " = " + value);
        }
        out.flush();
        return 0;
    }

    private static Config load(Path dir) {
        try {
            return Config.load(dir);
        } catch (ConfigException e) {
            throw new Server.Fatal(1, e.getMessage());
        }
    }

    /** master - the services of master.cf in postconf -M's columns; with names, those only. */
    static int master(Path dir, List<String> wanted, PrintStream out) {
        Path file = dir.resolve("master.cf");
        List<MasterService> services;
        try {
            services = MasterCf.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (NoSuchFileException e) {
            throw new Server.Fatal(1, "open " + file + ": No such file or directory");
        } catch (IOException e) {
            throw new Server.Fatal(1, "read " + file + ": " + e.getMessage());
        } catch (ConfigException | IllegalArgumentException e) {
            throw new Server.Fatal(1, e.getMessage());
        }
        for (MasterService s : services) {
            if (!wanted.isEmpty() && wanted.stream().noneMatch(w -> w.equals(s.name())
                    || w.equals(s.name() + "/" + s.type()))) {
                continue;
            }
            // each field at its column (0, 11, 17, 25, ...), or one space after a longer one before it
            StringBuilder b = new StringBuilder();
            String[] fields = {s.name(), s.type(), s.privateFlag(), s.unprivFlag(), s.chrootFlag(), s.wakeup(),
                    s.maxproc(), s.command()};
            int[] columns = {0, 11, 17, 25, 33, 41, 49, 57};
            for (int f = 0; f < fields.length; f++) {
                if (f > 0) {
                    b.append(" ".repeat(Math.max(1, columns[f] - b.length())));
                }
                b.append(fields[f]);
            }
            for (String a : s.args()) {
                b.append(' ').append(a);
            }
            for (Map.Entry<String, String> o : s.overrides().entrySet()) {
                b.append(" -o ").append(o.getKey()).append('=').append(o.getValue());
            }
            out.println(b);
        }
        out.flush();
        return 0;
    }

    /**
     * edit - postconf -e (set) or -X (remove) on main.cf, checked before it is written;
     * each argument is name=value (or "name = value") for -e, a name for -X.
     */
    static int edit(Path mainCf, List<String> arguments, boolean remove) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String a : arguments) {
            if (remove) {
                settings.put(a.strip(), null);
                continue;
            }
            int eq = a.indexOf('=');
            if (eq <= 0 || a.substring(0, eq).isBlank()) {
                throw new Server.Fatal(1, "missing '=' after attribute name: \"" + a + "\"");
            }
            settings.put(a.substring(0, eq).strip(), a.substring(eq + 1).strip());
        }
        try {
            MainCfEditor.write(mainCf, settings);
        } catch (ConfigException e) {
            throw new Server.Fatal(1, e.getMessage());
        }
        return 0;
    }
}
