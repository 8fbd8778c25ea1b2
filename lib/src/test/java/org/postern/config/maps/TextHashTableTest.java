package org.postern.config.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.ConfigException;

class TextHashTableTest implements LookupTableContract {
    @TempDir
    Path dir;

    @Override
    public LookupTable table() {
        return open("""
                # transport map
                example.com     smtp:[mx.example.com]:25
                Mixed.Example   lmtp:unix:/run/lmtp
                """);
    }

    private LookupTable open(String text) {
        try {
            Path file = dir.resolve("table");
            Files.writeString(file, text);
            return LookupTables.open("texthash:" + file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void resourceFileInPostfixFormat() throws Exception {
        Path file = Path.of(getClass().getResource("/config/transport").toURI());
        LookupTable t = LookupTables.open("texthash:" + file);
        assertEquals(Optional.of("lmtp:inet:127.0.0.1:24"), t.lookup("lists.example.com"));
        assertEquals(Optional.of("smtp:[relay.example.net]:587"), t.lookup(".example.net"));
        assertEquals(Optional.of("error:5.1.1 mailbox unavailable, gone away"), t.lookup("old.example.com"));
        assertEquals(Optional.empty(), t.lookup("#commented.example.com"));
        assertEquals("texthash:" + file, t.spec());
    }

    @Test
    void continuationLinesAndValuesWithSpaces() {
        LookupTable t = open("a  one two\n  three\n\n# c\nb\tx # not a comment\n");
        assertEquals(Optional.of("one two three"), t.lookup("a"));
        assertEquals(Optional.of("x # not a comment"), t.lookup("b"));
    }

    @Test
    void keyWithoutValueIsSkippedAndFirstDuplicateWins() {
        LookupTable t = open("lonely\nk 1\nK 2\n");
        assertEquals(Optional.empty(), t.lookup("lonely"));
        assertEquals(Optional.of("1"), t.lookup("k"));
    }

    @Test
    void leadingContinuationIsAnError() {
        ConfigException e = assertThrows(ConfigException.class, () -> open("  a b\n"));
        assertEquals(1, e.line());
    }

    @Test
    void unreadableFileAndUnknownType() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> LookupTables.open("texthash:" + dir.resolve("missing")));
        assertTrue(e.getMessage().contains("open database"), e.getMessage());
        assertThrows(ConfigException.class, () -> LookupTables.open("texthash:"));
        e = assertThrows(ConfigException.class, () -> LookupTables.open("pcre:/etc/postfix/checks"));
        assertEquals("pcre:/etc/postfix/checks: unsupported dictionary type: pcre (Postern supports: inline, texthash, "
                + "hash, btree, lmdb, cdb, dbm, sdbm, cidr)", e.getMessage());
        assertThrows(ConfigException.class, () -> LookupTables.open("/etc/postfix/transport"));
        assertThrows(ConfigException.class, () -> LookupTables.open(null));
    }

    @Test
    void openAllKeepsTheOrder() {
        var tables = LookupTables.openAll(java.util.List.of("inline:{a=1}", "inline:{a=2}"));
        assertEquals(Optional.of("1"), tables.get(0).lookup("a"));
        assertEquals(Optional.of("2"), tables.get(1).lookup("a"));
    }
}
