package org.postern.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * Parameter - the definition of one main.cf parameter: name, type, default, doc.
 *
 * <p>The default is written as Postfix writes it and may refer to other parameters
 * ({@code $myhostname}). A TIME parameter has a default unit that applies to a bare
 * number ({@code smtpd_timeout = 300} means 300 seconds, {@code maximal_queue_lifetime = 5}
 * five days). A STRING parameter may restrict its values to a list of choices, compared
 * without regard to case as Postfix does.
 *
 * <p>The type argument is the Java type of the parsed value, so that
 * {@link Config#get(Parameter)} is typed: {@code config.get(Parameters.SMTPD_TIMEOUT)} is a
 * {@link Duration}, {@code config.get(Parameters.SMTPD_RECIPIENT_LIMIT)} an {@code Integer}.
 * Code names a parameter by its constant, never by a string, so that a misspelt name does
 * not compile and "find usages" of a constant finds every reader of the parameter.
 *
 * @param <T>          the type of the parsed value: String, Boolean, Integer, Long (SIZE),
 *                     Duration (TIME) or List&lt;String&gt; (LIST)
 * @param name         the main.cf name
 * @param type         how the value is parsed
 * @param defaultValue the default, unexpanded
 * @param doc          one line of documentation
 * @param defaultUnit  for TIME: the unit of a bare number; otherwise null
 * @param choices      for STRING: the allowed values, or empty for any
 */
public record Parameter<T>(String name, Type type, String defaultValue, String doc,
                        ChronoUnit defaultUnit, List<String> choices) {

    /** Type - how a parameter value is parsed. */
    public enum Type {
        /** Any text. */
        STRING,
        /** {@code yes} or {@code no}, any case. */
        BOOLEAN,
        /** A non-negative int. */
        INT,
        /** A non-negative byte count (long). */
        SIZE,
        /** A number with an optional unit s, m, h, d or w. */
        TIME,
        /** Elements separated by commas and/or whitespace, see {@link Lists#split}. */
        LIST
    }

    public Parameter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(defaultValue, "defaultValue");
        Objects.requireNonNull(doc, "doc");
        choices = List.copyOf(choices);
        if (type == Type.TIME && defaultUnit == null) {
            throw new IllegalArgumentException(name + ": a TIME parameter needs a default unit");
        }
    }

    static Parameter<String> string(String name, String def, String doc) {
        return new Parameter<>(name, Type.STRING, def, doc, null, List.of());
    }

    static Parameter<String> choice(String name, String def, String doc, String... choices) {
        return new Parameter<>(name, Type.STRING, def, doc, null, List.of(choices));
    }

    static Parameter<Boolean> bool(String name, String def, String doc) {
        return new Parameter<>(name, Type.BOOLEAN, def, doc, null, List.of());
    }

    static Parameter<Integer> integer(String name, String def, String doc) {
        return new Parameter<>(name, Type.INT, def, doc, null, List.of());
    }

    static Parameter<Long> size(String name, String def, String doc) {
        return new Parameter<>(name, Type.SIZE, def, doc, null, List.of());
    }

    static Parameter<Duration> time(String name, String def, ChronoUnit unit, String doc) {
        return new Parameter<>(name, Type.TIME, def, doc, unit, List.of());
    }

    static Parameter<List<String>> list(String name, String def, String doc) {
        return new Parameter<>(name, Type.LIST, def, doc, null, List.of());
    }
}
