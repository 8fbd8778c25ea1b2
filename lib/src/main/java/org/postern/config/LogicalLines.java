package org.postern.config;

import java.util.ArrayList;
import java.util.List;

/**
 * LogicalLines - Postfix's physical-to-logical line joining.
 *
 * <p>Shared by main.cf, master.cf and texthash tables, as Postfix shares readllines():
 * a line whose first non-blank character is {@code #} is a comment, an empty or
 * all-blank line is ignored, and a line that starts with whitespace continues the
 * previous logical line (joined with one space). Comment and blank lines do not end a
 * logical line. A continuation line before any logical line is an error.
 */
public final class LogicalLines {

    /** Line - one logical line and the number of its first physical line. */
    public record Line(int number, String text) {
    }

    private LogicalLines() {
    }

    /** read - split text into logical lines; fileName is used in error messages. */
    public static List<Line> read(String text, String fileName) {
        List<Line> lines = new ArrayList<>();
        StringBuilder current = null;
        int currentNumber = 0;
        int number = 0;
        for (String physical : text.split("\n", -1)) {
            number++;
            String stripped = physical.strip();
            if (stripped.isEmpty() || stripped.charAt(0) == '#') {
                continue;
            }
            if (Character.isWhitespace(physical.charAt(0))) {
                if (current == null) {
                    throw new ConfigException(fileName, number,
                            "logical line must not start with whitespace: \"" + abbreviate(stripped) + "\"");
                }
                current.append(' ').append(stripped);
                continue;
            }
            if (current != null) {
                lines.add(new Line(currentNumber, current.toString()));
            }
            current = new StringBuilder(stripped);
            currentNumber = number;
        }
        if (current != null) {
            lines.add(new Line(currentNumber, current.toString()));
        }
        return lines;
    }

    /** abbreviate - keep error messages short when the input is long (as Postfix's %.30s). */
    static String abbreviate(String text) {
        return text.length() <= 30 ? text : text.substring(0, 30) + "...";
    }
}
