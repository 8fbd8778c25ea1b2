package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * InteropIT - peers nobody here wrote: swaks sends to Postern with PIPELINING, Postern
 * delivers over LMTP to Dovecot, and the message is read back from Dovecot's Maildir.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class InteropIT {
    private static final int DOVECOT_PORT = 12424;
    private static Dovecot dovecot;
    private static Path work;

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @BeforeAll
    static void startDovecot() throws Exception {
        work = Path.of(System.getProperty("it.server")).getParent().resolve("interop");
        dovecot = new Dovecot(work.resolve("dovecot"), DOVECOT_PORT);
    }

    @AfterAll
    static void stopDovecot() throws Exception {
        if (dovecot != null) {
            dovecot.close();
        }
    }

    @Test
    void swaksWithPipeliningToPosternToDovecotLmtp() throws Exception {
        String message = "From: Alice <alice@example.org>\n"
                + "To: <user@dovecot.test>\n"
                + "Subject: interop through Postern\n"
                + "Message-ID: <interop-1@example.org>\n"
                + "Date: Sat, 21 Nov 2026 10:00:00 +0000\n"
                + "\n"
                + "Hello Dovecot,\n"
                + ".this line starts with a dot\n"
                + "bye\n";
        Path data = work.resolve("message.eml");
        Files.writeString(data, message, StandardCharsets.UTF_8);
        String transcript = swaks("--pipeline", "--helo", "client.example.org", "--from", "alice@example.org",
                "--to", "user@dovecot.test", "--data", data.toString());
        assertTrue(transcript.contains("PIPELINING"), transcript);
        String queueId = queueId(transcript);

        Path delivered = dovecot.waitForMail("user", 60);
        assertNotNull(delivered, "nothing in Dovecot's Maildir; mail log: " + Postern.logLines(queueId));
        String stored = Files.readString(delivered, StandardCharsets.UTF_8);
        // Dovecot puts Return-Path:, Delivered-To: and its own Received: on top of ours
        assertTrue(stored.startsWith("Return-Path: <alice@example.org>\n"), stored);
        int ours = stored.indexOf("Received: from client.example.org");
        assertTrue(ours > 0, stored);
        String fromOurs = stored.substring(ours);
        assertTrue(fromOurs.contains("id " + queueId), fromOurs);
        String afterReceived = fromOurs.substring(DeliveryIT.receivedHeader(fromOurs.replace("\n", "\r\n"))
                .replace("\r\n", "\n").length());
        // what swaks put on the wire between 354 and the final dot (it ends the data with an
        // empty line of its own), as Dovecot stores it: LF line ends
        assertEquals(sentData(transcript), afterReceived);
        assertTrue(afterReceived.startsWith(message), afterReceived);
        DeliveryIT.waitForLog(queueId, "removed");

        // pflogsumm, written for Postfix's log, reads Postern's
        Process pflogsumm = new ProcessBuilder("pflogsumm", "--syslog-name=postern", Postern.mailLog().toString())
                .redirectErrorStream(true).start();
        String summary = new String(pflogsumm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(pflogsumm.waitFor(60, TimeUnit.SECONDS));
        Matcher count = Pattern.compile("(?m)^\\s+(\\d+)\\s+delivered$").matcher(summary);
        assertTrue(count.find(), summary);
        assertTrue(Integer.parseInt(count.group(1)) >= 1, summary);
        assertTrue(summary.contains("user@dovecot.test"), summary);
    }

    @Test
    void overLmtpToDovecotsUnixSocket() throws Exception {
        String message = "From: <alice@example.org>\nTo: <user2@dovecot-unix.test>\nSubject: over a unix socket\n"
                + "Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <unix@example.org>\n\nhi\n";
        Path data = work.resolve("message-unix.eml");
        Files.writeString(data, message, StandardCharsets.UTF_8);
        String transcript = swaks("--from", "alice@example.org", "--to", "user2@dovecot-unix.test",
                "--data", data.toString());
        String queueId = queueId(transcript);

        Path delivered = dovecot.waitForMail("user2", 60);
        assertNotNull(delivered, "nothing in Dovecot's Maildir; mail log: " + Postern.logLines(queueId));
        String stored = Files.readString(delivered, StandardCharsets.UTF_8);
        assertTrue(stored.contains("Received: from ") && stored.contains("id " + queueId), stored);
        assertTrue(stored.endsWith(sentData(transcript)), stored);
        List<String> log = DeliveryIT.waitForLog(queueId, "removed");
        assertTrue(log.stream().anyMatch(l -> l.contains("postern/lmtp[") && l.contains("to=<user2@dovecot-unix.test>")
                && l.contains("[" + dovecot.socket() + "]") && l.contains("status=sent")), log.toString());
    }

    @Test
    void aHostedMailboxDomainGoesToVirtualTransport() throws Exception {
        // virtual_mailbox_domains = hosted.test, virtual_transport = lmtp:unix:dovecot/lmtp.sock
        // (relative to queue_directory), virtual_mailbox_maps lists carol only
        Path data = work.resolve("message-hosted.eml");
        Files.writeString(data, "From: <alice@example.org>\nTo: <carol@hosted.test>\nSubject: hosted\n"
                + "Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <hosted@example.org>\n\nhi carol\n",
                StandardCharsets.UTF_8);
        String transcript = swaks("--from", "alice@example.org", "--to", "carol@hosted.test", "--data",
                data.toString());
        String queueId = queueId(transcript);
        Path delivered = dovecot.waitForMail("carol", 60);
        assertNotNull(delivered, "nothing in Dovecot's Maildir; mail log: " + Postern.logLines(queueId));
        assertTrue(Files.readString(delivered, StandardCharsets.UTF_8).endsWith(sentData(transcript)));
        List<String> log = DeliveryIT.waitForLog(queueId, "removed");
        assertTrue(log.stream().anyMatch(l -> l.contains("to=<carol@hosted.test>") && l.contains("status=sent")),
                log.toString());

        // a user that virtual_mailbox_maps does not list is refused at RCPT
        Process swaks = new ProcessBuilder("swaks", "--server", Postern.HOST + ":" + Postern.PORT, "--timeout", "60",
                "--from", "alice@example.org", "--to", "dave@hosted.test").redirectErrorStream(true).start();
        String refused = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(swaks.waitFor(90, TimeUnit.SECONDS));
        assertTrue(refused.contains("<** 550 5.1.1 <dave@hosted.test>: Recipient address rejected: User unknown in "
                + "virtual mailbox table"), refused);
    }

    @Test
    void aVirtualAliasIsRewrittenWhenQueuedAndLoggedWithOrigTo() throws Exception {
        // virtual_alias_maps: team@hosted.test -> erin@hosted.test (in Dovecot's hosted domain)
        Path data = work.resolve("message-alias.eml");
        Files.writeString(data, "From: <alice@example.org>\nTo: <team@hosted.test>\nSubject: alias\n"
                + "Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <alias@example.org>\n\nhi team\n",
                StandardCharsets.UTF_8);
        String transcript = swaks("--from", "alice@example.org", "--to", "team@hosted.test", "--data",
                data.toString());
        String queueId = queueId(transcript);
        Path delivered = dovecot.waitForMail("erin", 60);
        assertNotNull(delivered, "nothing in erin's Maildir; mail log: " + Postern.logLines(queueId));
        assertTrue(Files.readString(delivered, StandardCharsets.UTF_8).endsWith(sentData(transcript)));
        List<String> log = DeliveryIT.waitForLog(queueId, "removed");
        assertTrue(log.stream().anyMatch(l -> l.contains("to=<erin@hosted.test>, orig_to=<team@hosted.test>")
                && l.contains("status=sent")), log.toString());
    }

    /** swaks - run swaks against Postern with these arguments; its transcript, after it succeeded. */
    private static String swaks(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("swaks", "--server",
                Postern.HOST + ":" + Postern.PORT, "--timeout", "60"));
        command.addAll(List.of(args));
        Process swaks = new ProcessBuilder(command).redirectErrorStream(true).start();
        String transcript = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(swaks.waitFor(90, TimeUnit.SECONDS));
        assertEquals(0, swaks.exitValue(), transcript);
        return transcript;
    }

    /** queueId - the queue id of the 250 reply to the final dot in a swaks transcript. */
    private static String queueId(String transcript) {
        Matcher m = Pattern.compile("250 2\\.0\\.0 Ok: queued as ([0-9A-F]{16})").matcher(transcript);
        assertTrue(m.find(), transcript);
        return m.group(1);
    }

    /** sentData - the message lines of a swaks transcript (" -> " lines after the 354), LF-terminated. */
    private static String sentData(String transcript) {
        StringBuilder data = new StringBuilder();
        boolean inData = false;
        for (String line : transcript.split("\r?\n", -1)) {
            if (!inData) {
                inData = line.startsWith("<-  354") || line.startsWith("<** 354") || line.contains(" 354 ");
                continue;
            }
            if (line.equals(" -> .")) {
                return data.toString();
            }
            if (line.startsWith(" -> ")) {
                String l = line.substring(4);
                data.append(l.startsWith("..") ? l.substring(1) : l).append('\n');
            }
        }
        throw new AssertionError("no DATA in the swaks transcript: " + transcript);
    }
}
