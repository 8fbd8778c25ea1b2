package org.postern.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;

/** Postern - facts about the Postern under test: its EAR, its listener, its mail log. */
final class Postern {
    /** the listener of src/test/it-config/master.cf */
    static final String HOST = "127.0.0.1";
    static final int PORT = 12525;
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as ([0-9A-F]{16})");

    private Postern() {
    }

    /** ear - the EAR this build produced, under its fixed name postern.ear. */
    static EnterpriseArchive ear() {
        return ShrinkWrap.createFromZipFile(EnterpriseArchive.class, new File(System.getProperty("postern.ear")));
    }

    static Path mailLog() {
        return Path.of(System.getProperty("it.server"), "log", "mail.log");
    }

    /** logLines - the mail log lines that mention the queue id. */
    static List<String> logLines(String queueId) throws IOException {
        Path log = mailLog();
        if (!Files.exists(log)) {
            return List.of();
        }
        return Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> l.contains(queueId)).toList();
    }

    /** queueId - the id in a 250 reply to the final dot; fails when the reply is not one. */
    static String queueId(String reply) {
        Matcher m = QUEUED.matcher(reply);
        if (!m.matches()) {
            throw new AssertionError("expected '250 2.0.0 Ok: queued as <id>', got: " + reply);
        }
        return m.group(1);
    }

    /**
     * rcptReply - the reply to RCPT TO:&lt;rcpt&gt; after EHLO and MAIL FROM:&lt;sender&gt; (its
     * 250 asserted: smtpd_delay_reject judges the sender at RCPT), in a session of its own.
     */
    static String rcptReply(String sender, String rcpt) throws Exception {
        try (SmtpClient c = new SmtpClient(HOST, PORT)) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<" + sender + ">");
            String mail = c.reply();
            if (!mail.startsWith("250")) {
                throw new AssertionError("MAIL FROM: " + mail);
            }
            c.send("RCPT TO:<" + rcpt + ">");
            String reply = c.reply();
            c.send("QUIT");
            c.reply();
            return reply;
        }
    }

    /** send - one message from sender@example.org to the recipient through Postern; its queue id. */
    static String send(String rcpt, String subject, String body) throws Exception {
        try (SmtpClient c = new SmtpClient(HOST, PORT)) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<sender@example.org>");
            String mail = c.reply();
            if (!mail.startsWith("250")) {
                throw new AssertionError("MAIL FROM: " + mail);
            }
            c.send("RCPT TO:<" + rcpt + ">");
            String r = c.reply();
            if (!r.startsWith("250")) {
                throw new AssertionError("RCPT TO:<" + rcpt + ">: " + r);
            }
            c.send("DATA");
            c.reply();
            c.send("Subject: " + subject);
            c.send("");
            c.send(body);
            c.send(".");
            String id = queueId(c.reply());
            c.send("QUIT");
            c.reply();
            return id;
        }
    }
}
