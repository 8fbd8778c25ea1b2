package org.postern.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Lists - split Postfix list values.
 *
 * <p>Elements are separated by commas and/or whitespace. A {@code {...}} group is one
 * element, so that {@code inline:{ a=b, c=d } texthash:/x} has two elements; an element
 * that is entirely a group ({@code { text with spaces }}) loses its outer braces and the
 * whitespace inside them at both ends, as in Postfix 3.0 and later.
 */
public final class Lists {
    private Lists() {
    }

    /** split - the elements of a list value; unbalanced braces give IllegalArgumentException. */
    public static List<String> split(String value) {
        List<String> items = new ArrayList<>();
        int i = 0;
        int n = value.length();
        while (i < n) {
            char c = value.charAt(i);
            if (c == ',' || Character.isWhitespace(c)) {
                i++;
                continue;
            }
            int start = i;
            int depth = 0;
            while (i < n) {
                c = value.charAt(i);
                if (c == '{') {
                    depth++;
                } else if (c == '}') {
                    if (depth == 0) {
                        throw new IllegalArgumentException("unexpected '}' in: " + value);
                    }
                    depth--;
                } else if (depth == 0 && (c == ',' || Character.isWhitespace(c))) {
                    break;
                }
                i++;
            }
            if (depth > 0) {
                throw new IllegalArgumentException("missing '}' in: " + value);
            }
            items.add(unbrace(value.substring(start, i)));
        }
        return List.copyOf(items);
    }

    /** unbrace - "{ text }" becomes "text"; anything else is returned as is. */
    static String unbrace(String item) {
        if (item.length() >= 2 && item.charAt(0) == '{' && item.charAt(item.length() - 1) == '}'
                && closingBrace(item, 0) == item.length() - 1) {
            return item.substring(1, item.length() - 1).strip();
        }
        return item;
    }

    /** closingBrace - index of the '}' that matches the '{' at open, or -1. */
    static int closingBrace(String text, int open) {
        int depth = 0;
        for (int i = open; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }
}
