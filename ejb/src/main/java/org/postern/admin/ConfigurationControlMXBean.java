package org.postern.admin;

import java.util.Map;

/**
 * ConfigurationControlMXBean - main.cf over JMX, {@code org.postern:type=Configuration}:
 * what postconf(1) shows and edits and what {@code postfix reload} does, for the
 * {@code postfix} command in the server's bin/ directory, jconsole and any JMX client.
 * A refused change throws IllegalArgumentException whose message names the file, the line
 * and the reason; the configuration in force then stays.
 */
public interface ConfigurationControlMXBean {
    /** configDirectory - the directory main.cf and master.cf are read from. */
    String getConfigDirectory();

    /** loaded - when the configuration in force was read (ISO-8601). */
    String getLoaded();

    /** parameters - postconf -n of the configuration in force: each parameter main.cf sets, as written. */
    Map<String, String> getParameters();

    /** warnings - the warnings of the main.cf in force (unknown parameters, ...). */
    String[] getWarnings();

    /**
     * pending - what a reload would change now: "main.cf: name: old -> new" for each
     * parameter whose text in main.cf on disk differs from the configuration in force, or
     * the reason main.cf on disk would be refused.
     */
    String[] getPending();

    /** get - the value in force of one parameter, $names expanded; IllegalArgumentException for an unknown name. */
    String get(String name);

    /**
     * set - postconf -e name=value, then reload; main.cf keeps its old text when the reload
     * refuses the new value. Returns what the reload changed.
     */
    String[] set(String name, String value);

    /** tables - the lookup table files main.cf names: file to "type: parameters that name it". */
    Map<String, String> getTables();

    /** readTable - the text of one of those files. */
    String readTable(String file);

    /**
     * writeTable - replace one of those files (checked as its type reads it) and reload;
     * the file keeps its old text when either is refused. Returns what the reload changed.
     */
    String[] writeTable(String file, String text);

    /** reload - postfix reload: main.cf, master.cf and the lookup tables read again; returns what changed. */
    String[] reload();
}
