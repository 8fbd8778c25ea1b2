package org.postern.config.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;

class InlineTableTest implements LookupTableContract {
    private static final String SPEC = "inline:{ example.com=smtp:[mx.example.com]:25, Mixed.Example=lmtp:unix:/run/lmtp }";

    @Override
    public LookupTable table() {
        return LookupTables.open(SPEC);
    }

    @Test
    void specIsKept() {
        assertEquals(SPEC, table().spec());
    }

    @Test
    void entriesSeparatedByWhitespaceOrCommas() {
        LookupTable t = LookupTables.open("inline:{a=1 b=2,c=3 ,, d=4}");
        assertEquals(Optional.of("1"), t.lookup("a"));
        assertEquals(Optional.of("2"), t.lookup("b"));
        assertEquals(Optional.of("3"), t.lookup("c"));
        assertEquals(Optional.of("4"), t.lookup("d"));
    }

    @Test
    void bracedEntriesMayContainSpacesAndCommas() {
        LookupTable t = LookupTables.open("inline:{ { root = * }, { greeting = hello, world }, x=y }");
        assertEquals(Optional.of("*"), t.lookup("root"));
        assertEquals(Optional.of("hello, world"), t.lookup("greeting"));
        assertEquals(Optional.of("y"), t.lookup("x"));
    }

    @Test
    void emptyTableAndEmptyValue() {
        assertEquals(Optional.empty(), LookupTables.open("inline:{}").lookup("a"));
        assertEquals(Optional.of(""), LookupTables.open("inline:{a=}").lookup("a"));
    }

    @Test
    void firstDuplicateWins() {
        assertEquals(Optional.of("1"), LookupTables.open("inline:{a=1, A=2}").lookup("a"));
    }

    @Test
    void syntaxErrors() {
        assertEquals("inline:a=b: need \"inline:{name=value...}\"",
                assertThrows(ConfigException.class, () -> LookupTables.open("inline:a=b")).getMessage());
        assertEquals("inline:{ a }: missing '=' after attribute name: \"a\"",
                assertThrows(ConfigException.class, () -> LookupTables.open("inline:{ a }")).getMessage());
        assertThrows(ConfigException.class, () -> LookupTables.open("inline:{ =b }"));
        assertThrows(ConfigException.class, () -> LookupTables.open("inline:{ {a=b }"));
    }
}
