package org.postern.config.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hash:, btree:, lmdb: ... as a Postfix main.cf names them: the postmap source file is read. */
class PostfixIndexedTableTest implements LookupTableContract {
    @TempDir
    Path dir;

    @Override
    public LookupTable table() {
        return open("hash", """
                example.com     smtp:[mx.example.com]:25
                Mixed.Example   lmtp:unix:/run/lmtp
                """);
    }

    private LookupTable open(String type, String text) {
        try {
            Path file = dir.resolve("transport");
            Files.writeString(file, text);
            // a stale compiled map beside it, as postmap leaves one: never read
            Files.writeString(dir.resolve("transport.db"), "garbage that is not a table");
            return LookupTables.open(type + ":" + file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyIndexedTypeReadsTheSourceFile() {
        for (String type : new String[] {"hash", "btree", "lmdb", "cdb", "dbm", "sdbm"}) {
            LookupTable t = open(type, "user@example.org  OK\n");
            assertEquals(Optional.of("OK"), t.lookup("User@Example.org"), type);
            assertEquals(type + ":" + dir.resolve("transport"), t.spec());
        }
    }
}
