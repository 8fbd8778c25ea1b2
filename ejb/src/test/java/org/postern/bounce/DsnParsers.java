package org.postern.bounce;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * DsnParsers - reads a delivery status notification with parsers that nobody here wrote:
 * Jakarta Mail (Angus, with its message/delivery-status handler) and Python's email package.
 */
public final class DsnParsers {
    /**
     * Python's view of a report, printed as key=value lines: the top-level type and
     * report-type, each part's type, the per-message fields (msg.Name), each recipient's
     * fields (rcptN.Name) and the returned message's header fields (returned.Name).
     */
    private static final String PYTHON = String.join("\n",
            "import sys, email, email.policy",
            "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.compat32)",
            "out = []",
            "out.append('defects=%d' % len(m.defects))",
            "out.append('content-type=' + m.get_content_type())",
            "out.append('report-type=' + str(m.get_param('report-type')))",
            "out.append('subject=' + str(m['Subject']))",
            "out.append('to=' + str(m['To']))",
            "out.append('from=' + str(m['From']))",
            "out.append('auto-submitted=' + str(m['Auto-Submitted']))",
            "parts = m.get_payload()",
            "out.append('parts=%d' % len(parts))",
            "for i, p in enumerate(parts):",
            "    out.append('part%d=%s' % (i, p.get_content_type()))",
            "    if p.get_content_type() == 'text/plain':",
            "        out.append('text=' + p.get_payload(decode=True).decode('ascii').replace('\\r\\n', '|').replace('\\n', '|'))",
            "    if p.get_content_type() == 'message/delivery-status':",
            "        blocks = p.get_payload()",
            "        for k, v in blocks[0].items():",
            "            out.append('msg.%s=%s' % (k, v))",
            "        for n, b in enumerate(blocks[1:]):",
            "            for k, v in b.items():",
            "                out.append('rcpt%d.%s=%s' % (n, k, ' '.join(v.split())))",
            "    if p.get_content_type() == 'message/rfc822':",
            "        r = p.get_payload()[0]",
            "        for k, v in r.items():",
            "            out.append('returned.%s=%s' % (k, v))",
            "        out.append('returned.body=' + str(r.get_payload()).replace('\\r\\n', '|').replace('\\n', '|'))",
            "    if p.get_content_type() == 'text/rfc822-headers':",
            "        h = email.message_from_string(p.get_payload(), policy=email.policy.compat32)",
            "        for k, v in h.items():",
            "            out.append('returned.%s=%s' % (k, v))",
            "print('\\n'.join(out))");

    private DsnParsers() {
    }

    /** jakarta - the report as a Jakarta Mail message. */
    public static MimeMessage jakarta(byte[] report) {
        try {
            return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(report));
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** python - the report as Python's email package reads it (see {@link #PYTHON}). */
    public static Map<String, String> python(byte[] report) {
        try {
            Path file = Files.createTempFile("postern-dsn", ".eml");
            try {
                Files.write(file, report);
                Process p = new ProcessBuilder(List.of("python3", "-c", PYTHON, file.toString()))
                        .redirectErrorStream(true).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("python3 did not finish");
                }
                String text = new String(out, StandardCharsets.UTF_8);
                assertEquals(0, p.exitValue(), text);
                Map<String, String> fields = new LinkedHashMap<>();
                for (String line : text.split("\n")) {
                    int eq = line.indexOf('=');
                    if (eq > 0) {
                        fields.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
                    }
                }
                return fields;
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
