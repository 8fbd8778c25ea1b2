package org.postern.config.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;

import org.junit.jupiter.api.Test;

/**
 * LookupTableContract - what every lookup table does, written once.
 *
 * <p>An implementation's test supplies a table holding exactly
 * {@code example.com -> smtp:[mx.example.com]:25} and
 * {@code Mixed.Example -> lmtp:unix:/run/lmtp}.
 */
interface LookupTableContract {

    /** table - the table under test, with the two entries above. */
    LookupTable table();

    @Test
    default void findsAKey() {
        assertEquals(Optional.of("smtp:[mx.example.com]:25"), table().lookup("example.com"));
    }

    @Test
    default void missingKeyIsEmpty() {
        assertEquals(Optional.empty(), table().lookup("example.org"));
        assertEquals(Optional.empty(), table().lookup(""));
    }

    @Test
    default void keysAreCaseInsensitive() {
        assertEquals(Optional.of("smtp:[mx.example.com]:25"), table().lookup("EXAMPLE.Com"));
        assertEquals(Optional.of("lmtp:unix:/run/lmtp"), table().lookup("mixed.example"));
        assertEquals(Optional.of("lmtp:unix:/run/lmtp"), table().lookup("MIXED.EXAMPLE"));
    }

    @Test
    default void valuesKeepTheirCase() {
        // only keys are folded
        assertEquals("lmtp:unix:/run/lmtp", table().lookup("mixed.example").orElseThrow());
    }

    @Test
    default void nullKeyIsEmpty() {
        assertEquals(Optional.empty(), table().lookup(null));
    }
}
