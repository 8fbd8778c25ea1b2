package org.postern.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MasterCf - read the service declarations of master.cf.
 *
 * <h2>NAME</h2>
 * MasterCf - Postfix master.cf syntax for Postern's listeners.
 *
 * <h2>DESCRIPTION</h2>
 * Comment and blank lines are ignored and a line starting with whitespace continues the
 * previous one, as in main.cf. Each service line has the fields {@code service type
 * private unpriv chroot wakeup maxproc command [args]}; a field may be {@code -} for
 * the default. Arguments {@code -o name=value}, {@code -oname=value} and
 * {@code -o { name = value with spaces }} override main.cf parameters for that service
 * (see {@link MasterService#settings}); a {@code { ... }} group is one argument. Without
 * a master.cf there is one service, {@value #DEFAULT_SERVICE}.
 *
 * <h2>SECURITY</h2>
 * master.cf is trusted (it is written by the administrator), but every field is checked
 * and the listen address is parsed here, so that a typo fails the start with the file
 * and line instead of binding somewhere unexpected.
 *
 * <h2>DIAGNOSTICS</h2>
 * ConfigException with file, line and reason ({@code bad transport type: "foo"}).
 */
public final class MasterCf {
    static final String MASTER_CF = "master.cf";
    /** The service of an installation without master.cf. */
    public static final String DEFAULT_SERVICE = "127.0.0.1:2525 inet n - n - - smtpd";

    private static final Set<String> TYPES = Set.of("inet", "unix", "unix-dgram", "fifo", "pass");
    private static final Map<String, Integer> SERVICE_PORTS = Map.of(
            "smtp", 25, "submission", 587, "smtps", 465, "submissions", 465, "lmtp", 24);
    private static final String[] FIELDS = {"service", "type", "private", "unpriv", "chroot", "wakeup",
            "maxproc", "command"};

    private MasterCf() {
    }

    /** load - read configDir/master.cf; without one, the default service alone. */
    public static List<MasterService> load(Path configDir) {
        Path file = configDir.resolve(MASTER_CF);
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            Config.LOG.info(() -> "PSTN0104: " + file + ": not found, using the default service: " + DEFAULT_SERVICE);
            return parse(DEFAULT_SERVICE, "(default master.cf)");
        } catch (IOException | SecurityException e) {
            throw new ConfigException(file.toString(), 0, "cannot read: " + e, e);
        }
        return parse(text, file.toString());
    }

    /** parse - the services of a master.cf text; fileName is used in messages. */
    public static List<MasterService> parse(String text, String fileName) {
        List<MasterService> services = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (LogicalLines.Line line : LogicalLines.read(text, fileName)) {
            MasterService s = service(line, fileName);
            if (!seen.add(s.name() + "/" + s.type())) {
                throw new ConfigException(fileName, line.number(),
                        "duplicate service name and type: \"" + s.name() + "/" + s.type() + "\"");
            }
            services.add(s);
        }
        return List.copyOf(services);
    }

    /** smtpdServices - the inet services whose command is smtpd: Postern's SMTP listeners. */
    public static List<MasterService> smtpdServices(List<MasterService> services) {
        return services.stream().filter(s -> s.isInet() && s.command().equals("smtpd")).toList();
    }

    /** service - one logical line. */
    private static MasterService service(LogicalLines.Line line, String fileName) {
        int n = line.number();
        List<String> tokens;
        try {
            tokens = tokens(line.text());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(fileName, n, e.getMessage());
        }
        if (tokens.size() < FIELDS.length) {
            throw new ConfigException(fileName, n, "missing \"" + FIELDS[tokens.size()] + "\" field");
        }
        String service = tokens.get(0);
        String type = tokens.get(1);
        if (!TYPES.contains(type)) {
            throw new ConfigException(fileName, n, "bad transport type: \"" + type + "\"");
        }
        for (int i = 2; i <= 4; i++) {
            String f = tokens.get(i);
            if (!f.equals("y") && !f.equals("n") && !f.equals("-")) {
                throw new ConfigException(fileName, n, "bad \"" + FIELDS[i] + "\" field: \"" + f + "\"");
            }
        }
        String wakeup = tokens.get(5);
        if (!wakeup.equals("-") && !wakeup.matches("[0-9]{1,9}\\??")) {
            throw new ConfigException(fileName, n, "bad \"wakeup\" field: \"" + wakeup + "\"");
        }
        String maxproc = tokens.get(6);
        if (!maxproc.equals("-") && !maxproc.matches("[0-9]{1,9}")) {
            throw new ConfigException(fileName, n, "bad \"maxproc\" field: \"" + maxproc + "\"");
        }
        String command = tokens.get(7);
        List<String> args = new ArrayList<>();
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = FIELDS.length; i < tokens.size(); i++) {
            String arg = tokens.get(i);
            String setting;
            if (arg.equals("-o")) {
                if (++i >= tokens.size()) {
                    throw new ConfigException(fileName, n, "option requires an argument: -o");
                }
                setting = tokens.get(i);
            } else if (arg.startsWith("-o")) {
                setting = arg.substring(2);
            } else {
                args.add(Lists.unbrace(arg));
                continue;
            }
            String unbraced = Lists.unbrace(setting);
            int eq = unbraced.indexOf('=');
            String name = eq < 0 ? "" : unbraced.substring(0, eq).strip();
            if (eq < 0 || name.isEmpty() || name.chars().anyMatch(Character::isWhitespace)) {
                throw new ConfigException(fileName, n, "bad -o option: \"" + setting + "\": need name=value");
            }
            overrides.remove(name);
            overrides.put(name, unbraced.substring(eq + 1).strip());
        }
        String host = null;
        int port = -1;
        if (type.equals("inet")) {
            try {
                int colon = addressSplit(service);
                host = colon < 0 ? null : host(service.substring(0, colon));
                port = port(colon < 0 ? service : service.substring(colon + 1));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(fileName, n, e.getMessage());
            }
        }
        return new MasterService(service, type, tokens.get(2), tokens.get(3), tokens.get(4), wakeup, maxproc,
                command, args, overrides, ConfigException.location(fileName, n), host, port);
    }

    /** addressSplit - index of the ':' between host and port, or -1 when there is no host. */
    private static int addressSplit(String service) {
        if (service.startsWith("[")) {
            int close = service.indexOf(']');
            if (close < 0 || close + 1 >= service.length() || service.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("bad inet service address: \"" + service + "\"");
            }
            return close + 1;
        }
        int colon = service.indexOf(':');
        if (colon >= 0 && service.indexOf(':', colon + 1) >= 0) {
            // an IPv6 address must be in brackets: [::1]:2525
            throw new IllegalArgumentException("bad inet service address: \"" + service + "\"");
        }
        return colon;
    }

    /** host - the bind host of host:port; "*" means all addresses. */
    private static String host(String host) {
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || host.chars().anyMatch(c -> Character.isWhitespace(c) || c == '[' || c == ']')) {
            throw new IllegalArgumentException("bad inet service host: \"" + host + "\"");
        }
        return host.equals("*") ? null : host;
    }

    /** port - a port number or one of the service names Postern knows. */
    private static int port(String port) {
        Integer known = SERVICE_PORTS.get(port);
        if (known != null) {
            return known;
        }
        if (!port.matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("unknown service port: \"" + port + "\"");
        }
        int p = Integer.parseInt(port);
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException("bad inet service port: \"" + port + "\"");
        }
        return p;
    }

    /** tokens - split at whitespace; a {...} group is part of one token. */
    static List<String> tokens(String text) {
        List<String> tokens = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            if (Character.isWhitespace(text.charAt(i))) {
                i++;
                continue;
            }
            int start = i;
            int depth = 0;
            while (i < n && (depth > 0 || !Character.isWhitespace(text.charAt(i)))) {
                char c = text.charAt(i);
                if (c == '{') {
                    depth++;
                } else if (c == '}' && depth > 0) {
                    depth--;
                }
                i++;
            }
            if (depth > 0) {
                throw new IllegalArgumentException("missing '}' in: \"" + LogicalLines.abbreviate(text.substring(start)) + "\"");
            }
            tokens.add(text.substring(start, i));
        }
        return tokens;
    }
}
