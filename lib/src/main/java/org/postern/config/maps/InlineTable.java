package org.postern.config.maps;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import org.postern.config.ConfigException;
import org.postern.config.Lists;

/**
 * InlineTable - the inline:{...} table: entries written in the spec itself.
 */
final class InlineTable {
    private static final Logger LOG = Logger.getLogger("org.postern.config");

    private InlineTable() {
    }

    static LookupTable open(String spec, String name) {
        String body = name.strip();
        if (body.length() < 2 || body.charAt(0) != '{' || body.charAt(body.length() - 1) != '}') {
            throw new ConfigException(spec, 0, "need \"inline:{name=value...}\"");
        }
        List<String> items;
        try {
            items = Lists.split(body.substring(1, body.length() - 1));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(spec, 0, e.getMessage());
        }
        Map<String, String> entries = new LinkedHashMap<>();
        for (String item : items) {
            // Lists.split has removed the braces of a { key = value } entry
            int eq = item.indexOf('=');
            String key = eq < 0 ? "" : item.substring(0, eq).strip();
            if (key.isEmpty()) {
                throw new ConfigException(spec, 0, "missing '=' after attribute name: \"" + item + "\"");
            }
            String folded = LookupTables.fold(key);
            if (entries.putIfAbsent(folded, item.substring(eq + 1).strip()) != null) {
                LOG.warning("PSTN0111: " + spec + ": duplicate entry: \"" + folded + "\"");
            }
        }
        return new LookupTables.MapTable(spec, entries);
    }
}
