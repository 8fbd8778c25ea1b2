package org.postern.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MainCfEditor - postconf -e and -X on main.cf: each definition of a named parameter is
 * replaced where it stands (or removed), the ones main.cf lacks are appended, and comments
 * and every other line stay as they were.
 *
 * <p>The edited text is parsed before it is written; a text that does not parse is
 * refused with the file, line and reason, and main.cf is left unchanged. The new file
 * replaces the old one by an atomic rename, with the old file's permissions, so that a
 * reader (the server reloading, another postconf) sees the old text or the new one, never
 * half of it. An edit takes effect when the server reads main.cf again: at start, or on
 * {@code postfix reload}.
 */
public final class MainCfEditor {
    private MainCfEditor() {
    }

    /**
     * write - apply settings (name to value; a null value removes the parameter) to the
     * main.cf at mainCf.
     *
     * @throws ConfigException when the result does not parse, or the file cannot be read
     *         or written; main.cf is then unchanged
     */
    public static void write(Path mainCf, Map<String, String> settings) {
        String text;
        try {
            text = Files.exists(mainCf) ? Files.readString(mainCf, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new ConfigException(mainCf.toString(), 0, "cannot read: " + e.getMessage(), e);
        }
        String edited = edited(text, settings);
        try {
            Config.parse(edited, mainCf.toString());
        } catch (ConfigException e) {
            throw new ConfigException(e.origin(), e.line(), e.reason() + " (" + mainCf + " is unchanged)", e);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(mainCf.toString(), 0, e.getMessage() + " (" + mainCf + " is unchanged)", e);
        }
        try {
            Path tmp = mainCf.resolveSibling("main.cf.tmp");
            Files.writeString(tmp, edited, StandardCharsets.UTF_8);
            if (Files.exists(mainCf)) {
                try {
                    Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(mainCf));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: the default permissions
                }
            }
            try {
                Files.move(tmp, mainCf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, mainCf, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new ConfigException(mainCf.toString(), 0, "cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * edited - main.cf text with each definition of a named parameter replaced (null
     * value: removed), and the ones it lacks appended.
     */
    public static String edited(String text, Map<String, String> settings) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (text.endsWith("\n")) {
            lines.remove(lines.size() - 1);
        }
        List<String> out = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String name = definedName(line);
            if (name == null || !settings.containsKey(name)) {
                out.add(line);
                continue;
            }
            // the definition's continuation lines go with it; comments and blank lines among
            // them do not end it (as Postfix reads main.cf): they stay, after the new line
            int last = i;
            List<String> between = new ArrayList<>();
            List<String> pending = new ArrayList<>();
            for (int j = i + 1; j < lines.size(); j++) {
                String next = lines.get(j);
                if (next.isBlank() || next.strip().startsWith("#")) {
                    pending.add(next);
                } else if (Character.isWhitespace(next.charAt(0))) {
                    between.addAll(pending);
                    pending.clear();
                    last = j;
                } else {
                    break;
                }
            }
            String value = settings.get(name);
            if (value != null) {
                // every definition is replaced where it is, as Postfix's postconf -e does
                out.add(definition(name, value));
                done.add(name);
            }
            out.addAll(between);
            i = last;
        }
        for (Map.Entry<String, String> s : settings.entrySet()) {
            if (s.getValue() != null && !done.contains(s.getKey())) {
                out.add(definition(s.getKey(), s.getValue()));
            }
        }
        return out.isEmpty() ? "" : String.join("\n", out) + "\n";
    }

    private static String definition(String name, String value) {
        return value.isEmpty() ? name + " =" : name + " = " + value;
    }

    /** definedName - the name a main.cf line defines, null for a comment, blank or continuation line. */
    static String definedName(String line) {
        if (line.isEmpty() || Character.isWhitespace(line.charAt(0)) || line.charAt(0) == '#') {
            return null;
        }
        int i = 0;
        while (i < line.length() && line.charAt(i) != '=' && !Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        return line.substring(0, i);
    }
}
