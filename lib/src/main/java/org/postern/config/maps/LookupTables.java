package org.postern.config.maps;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.postern.config.ConfigException;

/**
 * LookupTables - open a lookup table from its type:name spec.
 *
 * <h2>NAME</h2>
 * LookupTables - Postfix's dictionary types, as far as Postern implements them.
 *
 * <h2>DESCRIPTION</h2>
 * <dl>
 * <dt>{@code inline:{ key=value, key2=value2 }}</dt>
 * <dd>An in-memory table written in main.cf (Postfix 3.0). Entries are separated by
 * whitespace or commas; an entry in braces, {@code { key = text with spaces }}, may
 * contain whitespace and commas, and whitespace around its {@code =} is ignored.</dd>
 * <dt>{@code hash:/path}, {@code btree:}, {@code lmdb:}, {@code cdb:}, {@code dbm:}, {@code sdbm:}</dt>
 * <dd>Postfix's indexed tables, which postmap builds from the text file /path. Postern
 * reads that text file as texthash does (the indexed file is never read), so a table
 * written for Postfix works unchanged and edits need no postmap, only a reload.</dd>
 * <dt>{@code cidr:/path}</dt>
 * <dd>cidr_table(5): {@code network/prefix result} lines, IPv4 and IPv6, first match in
 * file order wins.</dd>
 * <dt>{@code texthash:/path}</dt>
 * <dd>A text file of {@code key value} lines, read directly without a postmap step:
 * {@code #} comments, blank lines ignored, a line starting with whitespace continues the
 * previous one. The first of two entries with the same key wins, with a warning.</dd>
 * </dl>
 * Keys are case-insensitive.
 *
 * <h2>DIAGNOSTICS</h2>
 * ConfigException for an unknown type, bad syntax or an unreadable file. Warnings
 * (PSTN0111 duplicate entry, PSTN0112 line without a value) go to {@code org.postern.config}.
 *
 * <h2>BUGS</h2>
 * regexp, pcre and the network tables (ldap, mysql, pgsql, proxy, ...) are not
 * implemented; a file is read when it is opened (at start and on postfix reload), not
 * when it changes.
 */
public final class LookupTables {
    private LookupTables() {
    }

    /** open - the table named by spec, such as texthash:/etc/postern/transport. */
    public static LookupTable open(String spec) {
        if (spec == null) {
            throw new ConfigException("(lookup table)", 0, "missing lookup table spec");
        }
        int colon = spec.indexOf(':');
        if (colon <= 0) {
            throw new ConfigException(spec, 0, "need \"type:name\" lookup table syntax");
        }
        String type = spec.substring(0, colon).toLowerCase(Locale.ROOT);
        String name = spec.substring(colon + 1);
        return switch (type) {
            case "inline" -> InlineTable.open(spec, name);
            case "texthash" -> TextHashTable.open(spec, name);
            // Postfix's indexed types are built by postmap from a text file in texthash
            // format; Postern reads that source file, so a main.cf written for Postfix works
            // as it is and no postmap step exists (the .db/.lmdb/.cdb file is never read)
            case "hash", "btree", "lmdb", "cdb", "dbm", "sdbm" -> TextHashTable.open(spec, name);
            case "cidr" -> CidrTable.open(spec, name);
            default -> throw new ConfigException(spec, 0, "unsupported dictionary type: " + type
                    + " (Postern supports: inline, texthash, hash, btree, lmdb, cdb, dbm, sdbm, cidr)");
        };
    }

    /** openAll - the tables of a list parameter such as transport_maps, in order. */
    public static List<LookupTable> openAll(List<String> specs) {
        return specs.stream().map(LookupTables::open).toList();
    }

    /** fold - lower-case a key, as Postfix folds keys of these tables. */
    static String fold(String key) {
        return key.toLowerCase(Locale.ROOT);
    }

    /** MapTable - an immutable table backed by a map of folded keys. */
    record MapTable(String spec, Map<String, String> entries) implements LookupTable {
        MapTable {
            entries = Map.copyOf(entries);
        }

        @Override
        public Optional<String> lookup(String key) {
            return key == null ? Optional.empty() : Optional.ofNullable(entries.get(fold(key)));
        }

        @Override
        public String toString() {
            return spec;
        }
    }
}
