package org.postern.config.maps;

import java.util.Optional;

/**
 * LookupTable - a Postfix lookup table: a key in, a value or nothing out.
 *
 * <p>Keys are folded to lower case when the table is built and when it is searched, as
 * Postfix does for its tables, so lookups are case-insensitive. Implementations are
 * immutable and safe for concurrent use. {@link LookupTables#open} makes them from a
 * {@code type:name} spec.
 */
public interface LookupTable {

    /** lookup - the value of a key, or empty when the table has no such key. */
    Optional<String> lookup(String key);

    /** spec - the type:name this table was opened with. */
    String spec();
}
