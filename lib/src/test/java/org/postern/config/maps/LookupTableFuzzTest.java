package org.postern.config.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Optional;
import org.postern.config.ConfigException;
import org.postern.config.LogicalLines;

/**
 * LookupTableFuzzTest - the text of every lookup table format Postern reads: texthash
 * (and the Postfix indexed types read as texthash), cidr and inline:{...}.
 *
 * <p>Invariants: a table parses or throws ConfigException, nothing else; a lookup of any
 * key answers without an exception; in a texthash table the key of every line (its
 * first word, case-folded) finds the value of its first line; in a cidr table the
 * network of the first line matches its own address and finds the first line's result;
 * an inline table answers its spec and any lookup. The first line of a texthash or cidr
 * input is the key looked up, the rest the table. Seeds:
 * LookupTableFuzzTestInputs/{texthash,cidr,inline}/.
 */
class LookupTableFuzzTest {

    @FuzzTest
    @DictionaryEntries({" ", "#", "example.org", "OK", "REJECT", "smtp:[relay.example]:587"})
    void texthash(byte[] input) {
        String[] keyText = keyAndText(input);
        String key = keyText[0];
        String text = keyText[1];
        LookupTable table;
        try {
            table = TextHashTable.parse("texthash:/fuzz", "/fuzz", text);
        } catch (ConfigException e) {
            assertNotNull(e.origin(), e::getMessage);
            return;
        }
        assertNotNull(table.lookup(key));
        java.util.Map<String, String> first = new java.util.HashMap<>();
        for (LogicalLines.Line line : LogicalLines.read(text, "/fuzz")) {
            String[] kv = words(line.text());
            if (kv != null) {
                first.putIfAbsent(kv[0].toLowerCase(java.util.Locale.ROOT), kv[1]);
            }
        }
        for (var e : first.entrySet()) {
            assertEquals(Optional.of(e.getValue()), table.lookup(e.getKey()), e::getKey);
            assertEquals(Optional.of(e.getValue()), table.lookup(e.getKey().toUpperCase(java.util.Locale.ROOT)
                    .toLowerCase(java.util.Locale.ROOT).equals(e.getKey())
                    ? e.getKey().toUpperCase(java.util.Locale.ROOT) : e.getKey()), e::getKey);
        }
    }

    /* keyAndText - the input's first line is a key to look up, the rest the table's text */
    private static String[] keyAndText(byte[] input) {
        String all = new String(input, java.nio.charset.StandardCharsets.UTF_8);
        int nl = all.indexOf('\n');
        return nl < 0 ? new String[] {all, ""} : new String[] {all.substring(0, nl), all.substring(nl + 1)};
    }

    /* words - the first word of a line and the rest, stripped; null when there is no rest */
    private static String[] words(String line) {
        int space = 0;
        while (space < line.length() && !Character.isWhitespace(line.charAt(space))) {
            space++;
        }
        return space == line.length() ? null : new String[] {line.substring(0, space), line.substring(space).strip()};
    }

    @FuzzTest
    @DictionaryEntries({"/", "/24", "/128", ".", ":", "::", "::ffff:", "[", "]", "192.0.2.", "2001:db8::",
            " OK", " REJECT"})
    void cidr(byte[] input) {
        String[] keyText = keyAndText(input);
        String key = keyText[0];
        String text = keyText[1];
        CidrTable table;
        try {
            table = CidrTable.parse("cidr:/fuzz", "/fuzz", text);
        } catch (ConfigException e) {
            assertNotNull(e.origin(), e::getMessage);
            return;
        }
        assertNotNull(table.lookup(key));
        var lines = LogicalLines.read(text, "/fuzz");
        if (!lines.isEmpty()) {
            String first = lines.get(0).text().strip();
            String[] nr = words(first);
            String network = nr[0];
            int slash = network.lastIndexOf('/');
            String address = slash < 0 ? network : network.substring(0, slash);
            assertEquals(Optional.of(nr[1].strip()), table.lookup(address), first);
        }
    }

    @FuzzTest
    @DictionaryEntries({"inline:{", "}", "{", ",", " ", "=", " = ", "{ a = b c }"})
    void inline(byte[] input) {
        String spec = "inline:" + new String(input, java.nio.charset.StandardCharsets.UTF_8);
        LookupTable table;
        try {
            table = LookupTables.open(spec);
        } catch (ConfigException e) {
            assertNotNull(e.origin(), e::getMessage);
            return;
        }
        assertEquals(spec, table.toString());
        assertNotNull(table.lookup(spec));
    }
}
