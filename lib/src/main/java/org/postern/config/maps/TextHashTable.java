package org.postern.config.maps;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

import org.postern.config.ConfigException;
import org.postern.config.LogicalLines;

/**
 * TextHashTable - the texthash:/path table: a Postfix text table read into memory.
 */
final class TextHashTable {
    private static final Logger LOG = Logger.getLogger("org.postern.config");

    private TextHashTable() {
    }

    static LookupTable open(String spec, String name) {
        if (name.isEmpty()) {
            throw new ConfigException(spec, 0, "need \"texthash:/path/to/file\"");
        }
        String text;
        try {
            text = new String(Files.readAllBytes(Path.of(name)), StandardCharsets.UTF_8);
        } catch (IOException | InvalidPathException | SecurityException e) {
            throw new ConfigException(spec, 0, "open database " + name + ": " + e, e);
        }
        return parse(spec, name, text);
    }

    /** parse - "key value" lines; fileName is used in messages. */
    static LookupTable parse(String spec, String fileName, String text) {
        Map<String, String> entries = new LinkedHashMap<>();
        for (LogicalLines.Line line : LogicalLines.read(text, fileName)) {
            String s = line.text();
            int space = 0;
            while (space < s.length() && !Character.isWhitespace(s.charAt(space))) {
                space++;
            }
            if (space == s.length()) {
                LOG.warning("PSTN0112: " + fileName + ", line " + line.number()
                        + ": expected format: key whitespace value");
                continue;
            }
            String key = LookupTables.fold(s.substring(0, space));
            String value = s.substring(space).strip();
            if (entries.putIfAbsent(key, value) != null) {
                LOG.warning("PSTN0111: " + fileName + ", line " + line.number()
                        + ": duplicate entry: \"" + key + "\"");
            }
        }
        return new LookupTables.MapTable(spec, entries);
    }
}
