package org.postern.flush;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.postern.config.Config;

class DeferTransportsTest {

    @Test
    void listedTransportsWaitForAFlush() {
        DeferTransports d = DeferTransports.of(Config.parse("defer_transports = etrn-only, Slow\n", "main.cf"));

        assertTrue(d.defers("etrn-only", false));
        assertTrue(d.defers("slow", false));
        assertFalse(d.defers("etrn-only", true), "ETRN and sendmail -q deliver it");
        assertFalse(d.defers("smtp", false));
        assertFalse(d.defers(null, false));
    }

    @Test
    void nothingIsDeferredByDefault() {
        DeferTransports d = DeferTransports.of(Config.defaults());

        assertFalse(d.defers("smtp", false));
        assertFalse(d.defers("relay", false));
    }
}
