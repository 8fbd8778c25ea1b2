package org.postern.config;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.function.Function;

/**
 * Expander - Postfix's $name expansion of parameter values.
 *
 * <p>Forms: {@code $name}, {@code ${name}}, {@code $(name)}; {@code ${name?value}} (value
 * when name is non-empty), {@code ${name:value}} (value when name is empty or undefined),
 * and the Postfix 3.0 forms {@code ${name?{value}}}, {@code ${name?{v1}:{v2}}},
 * {@code ${name:{value}}}; {@code $$} is a literal {@code $}, and a {@code $} that is
 * followed by none of these is kept as is. Expansion is recursive; an undefined name
 * expands to nothing. As in Postfix, "non-empty" is decided on the unexpanded value.
 * Postfix's comparison form {@code ${{a} == {b} ? ...}} is not supported.
 *
 * <p>Results are memoized per name, so a value is expanded once per Config. Errors
 * (loops, unbalanced brackets, nesting deeper than {@link #MAX_DEPTH}, results longer
 * than {@link #MAX_LENGTH}) are IllegalArgumentException with the reason.
 */
final class Expander {
    /** Bound the nesting of expansions: a chain of thousands would exhaust the stack. */
    static final int MAX_DEPTH = 100;
    /** Bound the size of a result: "a=$b$b$b$b, b=$c$c$c$c, ..." grows exponentially. */
    static final int MAX_LENGTH = 1 << 20;

    private final Function<String, String> raw;
    private final Map<String, String> memo = new HashMap<>();
    private final LinkedHashSet<String> active = new LinkedHashSet<>();
    private int depth;

    /** Expander - raw maps a name to its unexpanded value, or null when undefined. */
    Expander(Function<String, String> raw) {
        this.raw = raw;
    }

    /** value - the expanded value of a parameter, or "" when it is undefined. */
    String value(String name) {
        String done = memo.get(name);
        if (done != null) {
            return done;
        }
        if (!active.add(name)) {
            throw new IllegalArgumentException("parameter expansion loop: "
                    + String.join(" -> ", active) + " -> " + name);
        }
        try {
            String text = raw.apply(name);
            String result = text == null ? "" : expand(text);
            memo.put(name, result);
            return result;
        } finally {
            active.remove(name);
        }
    }

    /** expand - expand every reference in a text. */
    String expand(String text) {
        if (depth >= MAX_DEPTH) {
            throw new IllegalArgumentException("unreasonable macro call nesting: \""
                    + LogicalLines.abbreviate(text) + "\"");
        }
        depth++;
        try {
            StringBuilder out = new StringBuilder(text.length());
            int i = 0;
            int n = text.length();
            while (i < n) {
                char c = text.charAt(i);
                if (c != '$' || i + 1 >= n) {
                    out.append(c);
                    i++;
                    continue;
                }
                char next = text.charAt(i + 1);
                if (next == '$') {
                    out.append('$');
                    i += 2;
                } else if (isNameChar(next)) {
                    int end = nameEnd(text, i + 1);
                    out.append(value(text.substring(i + 1, end)));
                    i = end;
                } else if (next == '{' || next == '(') {
                    char close = next == '{' ? '}' : ')';
                    int end = matching(text, i + 1, next, close);
                    out.append(reference(text.substring(i + 2, end), close));
                    i = end + 1;
                } else {
                    out.append(c);
                    i++;
                }
                if (out.length() > MAX_LENGTH) {
                    throw new IllegalArgumentException("expanded value longer than " + MAX_LENGTH
                            + " characters: \"" + LogicalLines.abbreviate(text) + "\"");
                }
            }
            return out.toString();
        } finally {
            depth--;
        }
    }

    /** reference - the expansion of the text inside ${...} or $(...). */
    private String reference(String inner, char close) {
        int end = nameEnd(inner, 0);
        if (end == 0) {
            throw new IllegalArgumentException("bad parameter name syntax: \"" + LogicalLines.abbreviate(inner) + "\"");
        }
        String name = inner.substring(0, end);
        if (end == inner.length()) {
            return value(name);
        }
        char op = inner.charAt(end);
        if (op != '?' && op != ':') {
            throw new IllegalArgumentException("bad parameter name syntax: \"" + LogicalLines.abbreviate(inner) + "\"");
        }
        String rest = inner.substring(end + 1);
        String whenSet;
        String otherwise = null;
        String stripped = rest.strip();
        if (stripped.startsWith("{")) {
            int closeBrace = Lists.closingBrace(stripped, 0);
            if (closeBrace < 0) {
                throw new IllegalArgumentException("missing '}' in: \"" + LogicalLines.abbreviate(inner) + "\"");
            }
            whenSet = stripped.substring(1, closeBrace);
            String after = stripped.substring(closeBrace + 1).strip();
            if (!after.isEmpty()) {
                String second = after.startsWith(":") ? after.substring(1).strip() : "";
                if (op != '?' || !second.startsWith("{") || Lists.closingBrace(second, 0) != second.length() - 1) {
                    throw new IllegalArgumentException("bad conditional syntax: \""
                            + LogicalLines.abbreviate(inner) + "\"");
                }
                otherwise = second.substring(1, second.length() - 1);
            }
        } else {
            whenSet = rest;
        }
        String current = raw.apply(name);
        boolean nonEmpty = current != null && !current.isEmpty();
        if (op == '?') {
            return nonEmpty ? expand(whenSet) : otherwise == null ? "" : expand(otherwise);
        }
        return nonEmpty ? "" : expand(whenSet);
    }

    /** matching - index of the bracket that closes the one at open. */
    private static int matching(String text, int open, char opening, char closing) {
        int depth = 0;
        for (int i = open; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == opening) {
                depth++;
            } else if (c == closing && --depth == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("missing '" + closing + "' in: \""
                + LogicalLines.abbreviate(text.substring(open - 1)) + "\"");
    }

    /** referencedNames - the names that a text refers to, for the unused-parameter check. */
    static void referencedNames(String text, java.util.Set<String> names) {
        int n = text.length();
        for (int i = 0; i < n - 1; i++) {
            if (text.charAt(i) != '$') {
                continue;
            }
            char next = text.charAt(i + 1);
            if (next == '$') {
                i++;
                continue;
            }
            int start = next == '{' || next == '(' ? i + 2 : i + 1;
            int end = nameEnd(text, start);
            if (end > start) {
                names.add(text.substring(start, end));
            }
        }
    }

    private static int nameEnd(String text, int from) {
        int i = from;
        while (i < text.length() && isNameChar(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
}
