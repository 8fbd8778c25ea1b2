package org.postern.queue.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** QueueMigrationsTest - every migration in the jar is listed, in order, and readable from the class path. */
class QueueMigrationsTest {

    @Test
    void everyMigrationInTheJarIsListedInOrder() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("src/main/resources", QueueMigrations.LOCATION))) {
            List<String> found = files.map(f -> f.getFileName().toString())
                    .sorted(Comparator.comparingInt(n -> Integer.parseInt(n.substring(1, n.indexOf("__")))))
                    .toList();
            assertEquals(found, QueueMigrations.POSTGRESQL);
        }
    }

    @Test
    void everyListedMigrationIsReadFromTheClassPath() throws Exception {
        for (String name : QueueMigrations.POSTGRESQL) {
            try (Reader r = new QueueMigrations.Migration(name).read()) {
                assertTrue(r.read() >= 0, name);
            }
        }
    }
}
