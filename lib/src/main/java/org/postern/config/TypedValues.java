package org.postern.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/**
 * TypedValues - parse an expanded parameter value according to its type.
 *
 * <p>Errors are IllegalArgumentException with Postfix's reason text
 * ({@code bad numerical configuration: message_size_limit = abc}); Config adds the
 * file and line.
 */
final class TypedValues {
    /** The longest time accepted, in seconds: 100 years bound the arithmetic. */
    private static final long MAX_SECONDS = 100L * 366 * 86400;

    private TypedValues() {
    }

    /** parse - the typed value (String, Boolean, Integer, Long, Duration or List). */
    static Object parse(Parameter<?> p, String value) {
        return switch (p.type()) {
            case STRING -> string(p, value);
            case BOOLEAN -> bool(p.name(), value);
            case INT -> (int) number(p.name(), value, Integer.MAX_VALUE);
            case SIZE -> number(p.name(), value, Long.MAX_VALUE);
            case TIME -> time(p.name(), value, p.defaultUnit());
            case LIST -> list(p.name(), value);
        };
    }

    static String string(Parameter<?> p, String value) {
        if (p.choices().isEmpty()) {
            return value;
        }
        for (String choice : p.choices()) {
            if (choice.equalsIgnoreCase(value)) {
                return choice;
            }
        }
        throw new IllegalArgumentException("invalid " + p.name() + " value: \"" + value
                + "\" (specify one of: " + String.join(", ", p.choices()) + ")");
    }

    static boolean bool(String name, String value) {
        if (value.equalsIgnoreCase("yes")) {
            return true;
        }
        if (value.equalsIgnoreCase("no")) {
            return false;
        }
        throw new IllegalArgumentException("bad boolean configuration: " + name + " = " + value);
    }

    static long number(String name, String value, long max) {
        if (value.startsWith("-") && value.length() > 1 && allDigits(value, 1, value.length())) {
            throw new IllegalArgumentException("invalid " + name + " parameter value " + value + " < 0");
        }
        if (value.isEmpty() || !allDigits(value, 0, value.length())) {
            throw new IllegalArgumentException("bad numerical configuration: " + name + " = " + value);
        }
        try {
            long n = Long.parseLong(value);
            if (n > max) {
                throw new IllegalArgumentException("invalid " + name + " parameter value " + value + " > " + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad numerical configuration: " + name + " = " + value, e);
        }
    }

    static Duration time(String name, String value, ChronoUnit defaultUnit) {
        int end = 0;
        while (end < value.length() && isAsciiDigit(value.charAt(end))) {
            end++;
        }
        String digits = value.substring(0, end);
        String unit = value.substring(end).toLowerCase(Locale.ROOT);
        if (digits.isEmpty() || unit.length() > 1 || digits.length() > 12) {
            throw badTime(name, value);
        }
        long n = Long.parseLong(digits);
        long perUnit = switch (unit) {
            case "" -> defaultUnit.getDuration().getSeconds();
            case "s" -> 1;
            case "m" -> 60;
            case "h" -> 3600;
            case "d" -> 86400;
            case "w" -> 7 * 86400;
            default -> throw badTime(name, value);
        };
        if (n > MAX_SECONDS / perUnit) {
            throw new IllegalArgumentException("invalid " + name + " parameter value " + value + ": too large");
        }
        return Duration.ofSeconds(n * perUnit);
    }

    static List<String> list(String name, String value) {
        try {
            return Lists.split(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad list syntax: " + name + " = " + value
                    + ": " + e.getMessage(), e);
        }
    }

    private static IllegalArgumentException badTime(String name, String value) {
        return new IllegalArgumentException("bad time value or unit: " + name + " = " + value);
    }

    private static boolean allDigits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isAsciiDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
