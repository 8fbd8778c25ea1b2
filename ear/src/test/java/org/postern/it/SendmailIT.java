package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * SendmailIT - the sendmail command the build installs in the server's bin/, as a cron
 * job or an application on the host runs it, against the deployed EAR: the message on
 * standard input goes through smtpd's cleanup and arrives at a real sink (smtp.test's,
 * port 12526) with the headers it lacked; -t takes the recipients from the header and
 * removes Bcc:; a refused recipient sends nothing and fails with the reply; -q, -qR and
 * -bp are postqueue's.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class SendmailIT {

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @Test
    void aMessageOnStandardInputArrivesWithTheHeadersItLacked() throws Exception {
        try (TestSink sink = TestSink.smtp(12526)) {
            Commands.Result r = sendmail("Subject: nightly report\n\nall is well\n.\nnot part of the message\n",
                    "-f", "cron@example.org", "ops@smtp.test");
            assertEquals(0, r.status(), r.toString());
            TestSink.Delivery d = sink.next(30, TimeUnit.SECONDS);
            assertNotNull(d, "the message did not arrive");
            assertTrue(d.mailFrom().startsWith("<cron@example.org>"), d.mailFrom());
            assertEquals(List.of("<ops@smtp.test>"), d.rcptTo());
            String text = d.text();
            assertTrue(text.contains("Subject: nightly report\r\n"), text);
            assertTrue(text.contains("\r\n\r\nall is well\r\n"), text);
            assertFalse(text.contains("not part of the message"), "a '.' line ends the input without -i: " + text);
            for (String header : List.of("Received: ", "Message-Id: ", "Date: ", "From: ")) {
                assertTrue(text.startsWith(header) || text.contains("\r\n" + header), header + "missing: " + text);
            }
        }
    }

    @Test
    void dashTTakesTheRecipientsFromTheHeaderAndRemovesBcc() throws Exception {
        String message = String.join("\n",
                "From: \"Backup, nightly\" <backup@example.org>",
                "To: \"Ops Team\" <ops@smtp.test>",
                "Cc: audit@smtp.test (the auditors),",
                "  undisclosed: ;",
                "Bcc: archive@smtp.test",
                "Subject: dots",
                "",
                "a line with a dot follows",
                ".",
                "..and one that starts with two",
                "");
        try (TestSink sink = TestSink.smtp(12526)) {
            Commands.Result r = sendmail(message, "-i", "-t", "-f", "backup@example.org");
            assertEquals(0, r.status(), r.toString());
            TestSink.Delivery d = sink.next(30, TimeUnit.SECONDS);
            assertNotNull(d, "the message did not arrive");
            List<String> rcpts = new ArrayList<>(d.rcptTo());
            rcpts.sort(null);
            assertEquals(List.of("<archive@smtp.test>", "<audit@smtp.test>", "<ops@smtp.test>"), rcpts);
            String text = d.text();
            assertFalse(text.contains("Bcc:") || text.contains("archive@smtp.test"), "Bcc: is removed: " + text);
            assertTrue(text.contains("\r\na line with a dot follows\r\n.\r\n..and one that starts with two\r\n"), text);
            assertTrue(text.contains("From: \"Backup, nightly\" <backup@example.org>"), text);
        }
    }

    @Test
    void fullNameAndUnqualifiedSender() throws Exception {
        try (TestSink sink = TestSink.smtp(12526)) {
            Commands.Result r = sendmail("Subject: from cron\n\nbody\n", "-F", "Cron Daemon", "-f", "root", "ops@smtp.test");
            assertEquals(0, r.status(), r.toString());
            TestSink.Delivery d = sink.next(30, TimeUnit.SECONDS);
            assertNotNull(d, "the message did not arrive");
            // root gets @$myorigin, as Postfix's trivial-rewrite appends it
            assertTrue(d.mailFrom().matches("<root@[a-z0-9.-]+>.*"), d.mailFrom());
            String from = d.mailFrom().substring(1, d.mailFrom().indexOf('>'));
            assertTrue(d.text().contains("From: Cron Daemon <" + from + ">\r\n"), d.text());
        }
    }

    @Test
    void aRefusedRecipientSendsNothingAndSaysWhy() throws Exception {
        try (TestSink sink = TestSink.smtp(12526)) {
            Commands.Result r = sendmail("Subject: x\n\nbody\n", "-f", "a@example.org", "ops@smtp.test", "bad@@example");
            assertEquals(67, r.status(), r.toString());
            assertTrue(r.err().startsWith("sendmail: fatal: <bad@@example>: 5"), r.err());
            assertTrue(r.err().contains("nothing was sent"), r.err());
            assertNull(sink.next(5, TimeUnit.SECONDS), "part of a refused submission was sent");
        }
        Commands.Result none = sendmail("Subject: x\n\nbody\n");
        assertEquals(64, none.status(), none.toString());
        assertTrue(none.err().contains("Recipient addresses must be specified"), none.err());
    }

    @Test
    void queueOptionsArePostqueues() throws Exception {
        Commands.Result q = sendmail("", "-q");
        assertEquals(0, q.status(), q.toString());
        Commands.Result site = sendmail("", "-qRnot.a.customer.example");
        assertEquals(69, site.status(), site.toString());
        assertTrue(site.err().contains("Flush service is not configured for destination \"not.a.customer.example\""),
                site.err());
        Commands.Result bp = sendmail("", "-bp");
        assertEquals(0, bp.status(), bp.toString());
        assertTrue(bp.out().startsWith("----Queue ID-----") || bp.out().equals("Mail queue is empty\n"), bp.out());
    }

    private static Commands.Result sendmail(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Commands.bin("sendmail"));
        cmd.addAll(List.of(args));
        return Commands.run(java.util.Map.of("POSTERN_MANAGEMENT", Commands.MANAGEMENT,
                "POSTERN_CONFIG_DIR", System.getProperty("it.config")), stdin, cmd);
    }
}
