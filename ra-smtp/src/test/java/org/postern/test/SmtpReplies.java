package org.postern.test;

import java.io.BufferedReader;
import java.io.IOException;

/** SmtpReplies - the tests' reader of one SMTP reply from a server they talk to over a socket. */
public final class SmtpReplies {
    private SmtpReplies() {
    }

    /** read - the next complete reply, its lines joined with '\n'; an IOException when the connection closes first. */
    public static String read(BufferedReader in) throws IOException {
        StringBuilder b = new StringBuilder();
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed; got " + b);
            }
            b.append(line).append('\n');
        } while (line.length() > 3 && line.charAt(3) == '-');
        return b.toString().trim();
    }
}
