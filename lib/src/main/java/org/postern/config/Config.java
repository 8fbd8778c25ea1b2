package org.postern.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Config - an immutable, validated set of main.cf parameter values.
 *
 * <h2>NAME</h2>
 * Config - Postfix main.cf syntax, $name expansion and typed values.
 *
 * <h2>DESCRIPTION</h2>
 * A main.cf holds {@code name = value} lines (whitespace around {@code =} optional);
 * lines whose first non-blank character is {@code #} are comments, blank lines are
 * ignored, a line starting with whitespace continues the previous one, and a later
 * definition overrides an earlier one. Values are expanded as described in
 * {@link Expander}: {@code $name}, {@code ${name}}, {@code $(name)},
 * {@code ${name?value}}, {@code ${name:value}}, {@code ${name?{v1}:{v2}}}, {@code $$}.
 *
 * <p>Everything is checked when the Config is made, so that a bad file fails the
 * deployment and never a session: syntax, expansion loops, and every registered
 * parameter's value against its type. A parameter that Postern does not know is not
 * fatal: it is logged once, as {@code unused parameter} when Postfix does not know it
 * either, or as {@code parameter not supported by Postern, ignored} when it does. Like
 * Postfix, a name that another value refers to ({@code $name}) is not reported.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * All of {@link Parameters}; the file is {@code main.cf} in {@link ConfigLocator#configDir()}.
 *
 * <h2>DIAGNOSTICS</h2>
 * ConfigException, with file, line and Postfix's reason text. Warnings are logged to
 * {@code org.postern.config} with ids PSTN0101 (unused parameter) and PSTN0102 (not
 * supported), and are kept in {@link #warnings()}.
 */
public final class Config {
    static final Logger LOG = Logger.getLogger("org.postern.config");
    static final String MAIN_CF = "main.cf";

    /** Entry - one explicit setting and where it came from (line 0: no line). */
    private record Entry(String name, String raw, String origin, int line) {
    }

    private final String fileName;
    private final Optional<Path> configDir;
    private final Map<String, Entry> entries;
    private final Map<String, String> expanded;
    /** the warnings already logged by this class (one deployment: the class loader's life) */
    private static final Set<String> LOGGED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Map<String, Object> typed;
    private final List<String> warnings;
    /** the names master.cf's delivery services add (relay_destination_recipient_limit...) */
    private final ServiceParameters serviceParameters;

    private Config(String fileName, Optional<Path> configDir, LinkedHashMap<String, Entry> entries,
                   List<String> earlierWarnings, List<Entry> newEntries, ServiceParameters serviceParameters) {
        this.fileName = fileName;
        this.configDir = configDir;
        this.serviceParameters = serviceParameters;
        this.entries = Collections.unmodifiableMap(entries);
        Map<String, String> values = new HashMap<>();
        Map<String, Object> parsed = new HashMap<>();
        Expander[] self = new Expander[1];
        Expander expander = new Expander(name -> raw(name, self[0]));
        self[0] = expander;
        for (Entry e : entries.values()) {
            // a name Postern does not use is expanded only when a used one refers to it,
            // as in Postfix: a Postfix main.cf may hold forms Postern cannot expand
            // (${{$compatibility_level} <level {2} ? ...}) in parameters it ignores
            if (Parameters.all().containsKey(e.name())) {
                resolve(expander, e.name(), e.origin(), e.line(), values, parsed);
            }
        }
        for (String name : Parameters.all().keySet()) {
            if (!entries.containsKey(name)) {
                resolve(expander, name, fileName, 0, values, parsed);
            }
        }
        this.expanded = Map.copyOf(values);
        this.typed = Map.copyOf(parsed);
        List<String> all = new ArrayList<>(earlierWarnings);
        all.addAll(warn(newEntries));
        this.warnings = List.copyOf(all);
    }

    /** load - read configDir/main.cf; without one, every parameter has its default. */
    public static Config load(Path configDir) {
        return load(configDir, ServiceParameters.NONE);
    }

    /**
     * load - the same, knowing the parameter names that master.cf's delivery services add
     * ({@code slow_destination_recipient_limit} for a service {@code slow ... smtp}): those
     * are not reported as unused, as postconf does not report them.
     */
    public static Config load(Path configDir, ServiceParameters services) {
        Path file = configDir.resolve(MAIN_CF);
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            LOG.info(() -> "PSTN0103: " + file + ": not found, using default parameter values");
            return new Config(file.toString(), Optional.of(configDir), new LinkedHashMap<>(), List.of(), List.of(),
                    services);
        } catch (IOException | SecurityException e) {
            throw new ConfigException(file.toString(), 0, "cannot read: " + e, e);
        }
        return parse(text, file.toString(), Optional.of(configDir), services);
    }

    /** parse - a main.cf text; fileName is used in messages. */
    public static Config parse(String text, String fileName) {
        return parse(text, fileName, Optional.empty(), ServiceParameters.NONE);
    }

    /** parse - a main.cf text, knowing the names that master.cf's delivery services add. */
    public static Config parse(String text, String fileName, ServiceParameters services) {
        return parse(text, fileName, Optional.empty(), services);
    }

    /** defaults - every parameter at its default value. */
    public static Config defaults() {
        return new Config(MAIN_CF, Optional.empty(), new LinkedHashMap<>(), List.of(), List.of(),
                ServiceParameters.NONE);
    }

    private static Config parse(String text, String fileName, Optional<Path> configDir, ServiceParameters services) {
        Objects.requireNonNull(text, "text");
        LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
        for (LogicalLines.Line line : LogicalLines.read(text, fileName)) {
            Entry e = nameValue(line.text(), fileName, line.number());
            // remove first: the map's order is the order of the definitions that count
            entries.remove(e.name());
            entries.put(e.name(), e);
        }
        return new Config(fileName, configDir, entries, List.of(), List.copyOf(entries.values()), services);
    }

    /** nameValue - split "name = value" as Postfix's split_nameval() does. */
    private static Entry nameValue(String text, String fileName, int line) {
        int i = 0;
        while (i < text.length() && text.charAt(i) != '=' && !Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        String name = text.substring(0, i);
        if (name.isEmpty()) {
            throw new ConfigException(fileName, line, "missing attribute name");
        }
        String rest = text.substring(i).stripLeading();
        if (!rest.startsWith("=")) {
            throw new ConfigException(fileName, line, "missing '=' after attribute name: \"" + name + "\"");
        }
        return new Entry(name, rest.substring(1).strip(), fileName, line);
    }

    /**
     * withOverrides - this configuration with some parameters replaced, as master.cf
     * {@code -o name=value} does; origin names them in messages (for example
     * {@code "master.cf, line 12"}). The overrides are checked like main.cf lines.
     */
    public Config withOverrides(Map<String, String> overrides, String origin) {
        LinkedHashMap<String, Entry> merged = new LinkedHashMap<>(entries);
        List<Entry> added = new ArrayList<>();
        for (Map.Entry<String, String> o : overrides.entrySet()) {
            String name = o.getKey();
            if (name == null || name.isEmpty() || name.chars().anyMatch(c -> c == '=' || Character.isWhitespace(c))) {
                throw new ConfigException(origin, 0, "bad parameter name: \"" + name + "\"");
            }
            Entry e = new Entry(name, Objects.requireNonNullElse(o.getValue(), "").strip(), origin, 0);
            merged.remove(name);
            merged.put(name, e);
            added.add(e);
        }
        return new Config(fileName, configDir, merged, warnings, added, serviceParameters);
    }

    /** raw - the unexpanded value of a name, or null when it is undefined. */
    private String raw(String name, Expander expander) {
        Entry e = entries.get(name);
        if (e != null) {
            return e.raw();
        }
        if (name.equals(Parameters.MYDOMAIN.name()) && entries.containsKey(Parameters.MYHOSTNAME.name())) {
            // mydomain follows a configured myhostname, as in Postfix
            String host = expander.value(Parameters.MYHOSTNAME.name());
            return HostNames.domainOf(host).replace("$", "$$");
        }
        Parameter<?> p = Parameters.all().get(name);
        return p == null ? null : p.defaultValue();
    }

    /** resolve - expand and type-check one name; errors carry its location. */
    private void resolve(Expander expander, String name, String origin, int line,
                         Map<String, String> values, Map<String, Object> parsed) {
        try {
            String value = expander.value(name);
            if (name.equals(Parameters.MYORIGIN.name()) && value.startsWith("/")) {
                value = firstLine(value);
            }
            values.put(name, value);
            Parameter<?> p = Parameters.all().get(name);
            if (p != null) {
                parsed.put(name, TypedValues.parse(p, value));
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException(origin, line, e.getMessage(), e);
        }
    }

    /**
     * firstLine - Debian's myorigin = /etc/mailname: "specifying a file name will cause the
     * first line of that file to be used as the name" (the Debian package's main.cf).
     */
    private static String firstLine(String file) {
        try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(file))) {
            String line = r.readLine();
            if (line == null || line.isBlank()) {
                throw new IllegalArgumentException("myorigin = " + file + ": the file is empty");
            }
            return line.strip();
        } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException("myorigin = " + file + ": cannot read the file: " + e, e);
        }
    }

    /** warn - log each unknown name once; a name that another value refers to is used. */
    private List<String> warn(List<Entry> newEntries) {
        Set<String> referenced = new HashSet<>();
        for (Entry e : entries.values()) {
            Expander.referencedNames(e.raw(), referenced);
        }
        for (Parameter<?> p : Parameters.all().values()) {
            Expander.referencedNames(p.defaultValue(), referenced);
        }
        List<String> out = new ArrayList<>();
        for (Entry e : newEntries) {
            if (Parameters.all().containsKey(e.name()) || referenced.contains(e.name())
                    || serviceParameters.used(e.name())) {
                continue;
            }
            String where = ConfigException.location(e.origin(), e.line());
            String message = Parameters.isPostfixParameter(e.name()) || serviceParameters.derived(e.name())
                    ? "PSTN0102: " + where + ": parameter not supported by Postern, ignored: " + e.name()
                    : "PSTN0101: " + where + ": unused parameter: " + e.name() + "=" + e.raw();
            // the adapter and the queue side each read main.cf: say each thing once per deployment
            if (LOGGED.size() < 10_000 && LOGGED.add(message)) {
                LOG.warning(message);
            }
            out.add(message);
        }
        return out;
    }

    private static Parameter<?> registered(String name) {
        Parameter<?> p = Parameters.all().get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown parameter: " + name);
        }
        return p;
    }

    /**
     * get - the value of a parameter, parsed to its type: a String (for a choice, the choice
     * as registered), Boolean, Integer, Long (SIZE, in bytes), Duration (TIME) or an
     * unmodifiable List&lt;String&gt; (LIST).
     */
    @SuppressWarnings("unchecked")
    public <T> T get(Parameter<T> p) {
        Object value = typed.get(p.name());
        if (value == null) {
            registered(p.name());
        }
        return (T) value;
    }

    /**
     * value - the value of a parameter whose name is made at run time from a master.cf
     * service name ({@link ServiceParameters}, such as {@code relay_destination_recipient_limit}),
     * so not registered: main.cf's value (or an override's), else the parameter's default,
     * expanded and parsed as {@link #get} does. For a registered parameter, {@link #get}.
     *
     * @throws ConfigException the value does not parse: the file and line that set it
     */
    @SuppressWarnings("unchecked")
    public <T> T value(Parameter<T> p) {
        if (Parameters.all().get(p.name()) == p) {
            return get(p);
        }
        Entry e = entries.get(p.name());
        String own = e != null ? e.raw() : p.defaultValue();
        Expander[] self = new Expander[1];
        Expander expander = new Expander(name -> name.equals(p.name()) ? own : raw(name, self[0]));
        self[0] = expander;
        try {
            return (T) TypedValues.parse(p, expander.value(p.name()));
        } catch (IllegalArgumentException x) {
            throw e != null ? new ConfigException(e.origin(), e.line(), x.getMessage(), x)
                    : new ConfigException(fileName, 0, x.getMessage(), x);
        }
    }

    /** text - the expanded text of a parameter, as postconf shows it (any type). */
    public String text(Parameter<?> p) {
        return text(p.name());
    }

    /** text - the expanded text of a registered parameter named at run time (postconf name). */
    public String text(String name) {
        registered(name);
        return expanded.get(name);
    }

    /**
     * socketPath - a UNIX-domain socket name as Postfix reads it in main.cf and master.cf:
     * an absolute path as it is, a relative one (private/auth, private/dovecot-lmtp) under
     * queue_directory.
     */
    public String socketPath(String name) {
        return name.startsWith("/") ? name
                : java.nio.file.Path.of(get(Parameters.QUEUE_DIRECTORY)).resolve(name).toString();
    }

    /**
     * error - a ConfigException for a parameter's value: the file and line that set it (the
     * main.cf name and line 0 when it has its default), so that a reload's refusal points
     * at the line to fix.
     */
    public ConfigException error(Parameter<?> p, String reason) {
        Entry e = entries.get(p.name());
        return e != null ? new ConfigException(e.origin(), e.line(), reason) : new ConfigException(fileName(), 0, reason);
    }

    /**
     * unexpanded - the value as main.cf has it, or the default when main.cf does not set
     * it, without $name expansion (what postconf prints without -x); null for a name that
     * is neither set nor registered. mydomain's default is the one derived from myhostname.
     */
    public String unexpanded(String name) {
        Entry e = entries.get(name);
        if (e != null) {
            return e.raw();
        }
        if (name.equals(Parameters.MYDOMAIN.name())) {
            return expanded.get(name);
        }
        Parameter<?> p = Parameters.all().get(name);
        return p == null ? null : p.defaultValue();
    }

    /** explicitNames - the names main.cf (or an override) sets, known to Postern or not (postconf -n). */
    public List<String> explicitNames() {
        return List.copyOf(entries.keySet());
    }

    /** isExplicit - true when main.cf or an override sets this name (postconf -n). */
    public boolean isExplicit(String name) {
        return entries.containsKey(name);
    }

    /** isExplicit - true when main.cf or an override sets this parameter. */
    public boolean isExplicit(Parameter<?> p) {
        return isExplicit(p.name());
    }

    /** warnings - the warnings given when this configuration was made, in order. */
    public List<String> warnings() {
        return warnings;
    }

    /** configDir - the directory main.cf was loaded from, if it was loaded from one. */
    public Optional<Path> configDir() {
        return configDir;
    }

    /** fileName - the name of the main.cf this configuration came from. */
    public String fileName() {
        return fileName;
    }

    /**
     * differences - what changed in main.cf's text from before to after, one line per
     * parameter: "main.cf: name: \"old\" -> \"new\"", "main.cf: name set to \"new\"",
     * "main.cf: name removed (default applies)" (what postfix reload reports).
     */
    public static java.util.List<String> differences(Config before, Config after) {
        java.util.Map<String, String> names = new java.util.LinkedHashMap<>();
        before.explicitNames().forEach(n -> names.put(n, n));
        after.explicitNames().forEach(n -> names.put(n, n));
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String n : names.keySet()) {
            String a = before.isExplicit(n) ? before.unexpanded(n) : null;
            String b = after.isExplicit(n) ? after.unexpanded(n) : null;
            if (a == null ? b != null : !a.equals(b)) {
                out.add("main.cf: " + n + (a == null ? " set to \"" + b + "\""
                        : b == null ? " removed (default applies)" : ": \"" + a + "\" -> \"" + b + "\""));
            }
        }
        return out;
    }
}
