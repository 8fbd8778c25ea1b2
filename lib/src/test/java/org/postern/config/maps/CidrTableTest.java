package org.postern.config.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.ConfigException;

class CidrTableTest {
    @TempDir
    Path dir;

    private LookupTable open(String text) throws Exception {
        Path file = dir.resolve("client_access.cidr");
        Files.writeString(file, text);
        return LookupTables.open("cidr:" + file);
    }

    @Test
    void firstMatchingNetworkInFileOrderWins() throws Exception {
        LookupTable t = open("""
                # cidr_table(5)
                192.0.2.77          OK
                192.0.2.0/24        REJECT blocked network
                [2001:db8::]/32     DUNNO
                0.0.0.0/0           REJECT everyone else
                """);
        assertEquals(Optional.of("OK"), t.lookup("192.0.2.77"));
        assertEquals(Optional.of("REJECT blocked network"), t.lookup("192.0.2.78"));
        assertEquals(Optional.of("DUNNO"), t.lookup("2001:db8::25"));
        assertEquals(Optional.of("REJECT everyone else"), t.lookup("198.51.100.1"));
        // what smtpd also looks up in access maps, names and partial addresses, never match
        assertEquals(Optional.empty(), t.lookup("mail.example.com"));
        assertEquals(Optional.empty(), t.lookup("192.0.2"));
    }

    @Test
    void aBadNetworkNamesFileAndLine() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> open("10.0.0.0/8 OK\n10.0.0.0/33 REJECT\n"));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertThrows(ConfigException.class, () -> open("10.0.0.0/8\n"));
    }
}
