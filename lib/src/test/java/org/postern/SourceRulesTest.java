package org.postern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.postern.config.Parameter;
import org.postern.config.Parameters;

/**
 * SourceRulesTest - rules of the house that the compiler does not check, checked on the
 * main sources of every module (the checkout's {@code *}{@code /src/main/java}).
 *
 * <ul>
 * <li>Every registered parameter is read by some code (by its {@link Parameters} constant),
 *     or is referenced by another parameter's default ({@code $name}), or is one of the few
 *     kept for display only, listed below with the reason.</li>
 * <li>Every parameter named in a class header's CONFIGURATION PARAMETERS section is
 *     registered (text in parentheses, which gives defaults and values, and in
 *     {@code {@code ...}}, which gives code and restriction names, is not looked at).</li>
 * <li>Every log id ({@code PSTNnnnn}) in a string names one event: all its uses are in one
 *     source file, but for the ids listed below, which one event raised in two places.</li>
 * </ul>
 */
class SourceRulesTest {

    /** registered parameters no code reads, and why that is right */
    private static final Map<String, String> DISPLAY_ONLY = Map.ofEntries(
            Map.entry("mail_version", "shown by postconf and available to $mail_version in smtpd_banner"),
            Map.entry("compatibility_level", "accepted and shown; Postern always has the defaults of level 3.6"),
            // the seed manual pages' process-model parameters (SeedParametersTest): documented, no effect
            Map.entry("config_directory", "read-only: the directory is the one the server was started with"),
            Map.entry("process_id", "read-only: shown by postconf"),
            Map.entry("process_name", "read-only: shown by postconf"),
            Map.entry("ipc_timeout", "not applicable: no internal IPC channels"),
            Map.entry("max_use", "not applicable: no daemon processes that exit"),
            Map.entry("syslog_facility", "not applicable: the mail log is a WildFly log handler"),
            Map.entry("tls_daemon_random_bytes", "not applicable: SecureRandom seeds itself"),
            Map.entry("smtp_skip_4xx_greeting", "not applicable: a 4XX greeting always skips the server"));

    /** log ids used in more than one file for one event */
    private static final Map<String, String> SHARED_LOG_IDS = Map.of(
            "PSTN0111", "duplicate entry in a lookup table: the same warning of the inline and the text readers",
            "PSTN4303", "a delivery failed and a later queue scan tries again: raised by the queue manager and the agent");

    private static final Pattern LOG_ID = Pattern.compile("\"(PSTN\\d{4})\\b");

    @Test
    void everyRegisteredParameterIsRead() throws Exception {
        String code = mainSources().stream()
                .filter(p -> !p.endsWith(Path.of("org", "postern", "config", "Parameters.java")))
                .map(SourceRulesTest::read).reduce("", String::concat);
        Set<String> referencedByDefaults = new HashSet<>();
        for (Parameter<?> p : Parameters.all().values()) {
            Matcher m = Pattern.compile("\\$\\{?([a-z0-9_]+)").matcher(p.defaultValue());
            while (m.find()) {
                referencedByDefaults.add(m.group(1));
            }
        }
        List<String> unread = new ArrayList<>();
        List<String> readAfterAll = new ArrayList<>();
        for (Field f : Parameters.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != Parameter.class) {
                continue;
            }
            String name = ((Parameter<?>) f.get(null)).name();
            boolean read = Pattern.compile("\\b" + f.getName() + "\\b").matcher(code).find();
            if (DISPLAY_ONLY.containsKey(name)) {
                if (read) {
                    readAfterAll.add(name);
                }
            } else if (!read && !referencedByDefaults.contains(name)) {
                unread.add(name);
            }
        }
        assertEquals(List.of(), unread, "registered parameters that nothing reads");
        assertEquals(List.of(), readAfterAll, "parameters listed as display-only that code now reads: take them off");
    }

    @Test
    void everyParameterInAManualHeaderIsRegistered() {
        Pattern section = Pattern.compile("<h2>CONFIGURATION PARAMETERS</h2>(.*?)(?=<h2>|\\*/)", Pattern.DOTALL);
        Pattern name = Pattern.compile("(?<![\\w.*$/-])([a-z0-9]+(?:_[a-zA-Z0-9]+)+)(?![\\w*(=-])");
        Map<String, Set<String>> unknown = new TreeMap<>();
        int sections = 0;
        for (Path file : mainSources()) {
            Matcher s = section.matcher(read(file));
            while (s.find()) {
                sections++;
                String text = withoutParentheses(s.group(1).replaceAll("\\{@code [^}]*}", ""));
                Matcher n = name.matcher(text);
                while (n.find()) {
                    if (!Parameters.all().containsKey(n.group(1))) {
                        unknown.computeIfAbsent(file.getFileName().toString(), k -> new TreeSet<>()).add(n.group(1));
                    }
                }
            }
        }
        assertTrue(sections > 20, "the manual headers were found: " + sections);
        assertEquals(Map.of(), unknown, "names in CONFIGURATION PARAMETERS sections that are not registered parameters");
    }

    @Test
    void everyLogIdNamesOneEvent() {
        Map<String, Set<String>> files = new TreeMap<>();
        for (Path file : mainSources()) {
            Matcher m = LOG_ID.matcher(read(file));
            while (m.find()) {
                files.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(file.getFileName().toString());
            }
        }
        assertTrue(files.size() > 100, "log ids were found: " + files.size());
        Map<String, Set<String>> reused = new TreeMap<>();
        files.forEach((id, where) -> {
            if (where.size() > 1 && !SHARED_LOG_IDS.containsKey(id)) {
                reused.put(id, where);
            }
        });
        assertEquals(Map.of(), reused, "log ids used in more than one file: give each event an id of its own");
    }

    private static String withoutParentheses(String text) {
        StringBuilder out = new StringBuilder();
        int depth = 0;
        for (char c : text.toCharArray()) {
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** mainSources - the main Java sources of every module of the checkout. */
    static List<Path> mainSources() {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path module : modules.toList()) {
                Path src = module.resolve("src/main/java");
                if (Files.isDirectory(src)) {
                    try (Stream<Path> files = Files.walk(src)) {
                        files.filter(p -> p.toString().endsWith(".java")).forEach(out::add);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(out.size() > 100, "main sources found under " + root + ": " + out.size());
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
