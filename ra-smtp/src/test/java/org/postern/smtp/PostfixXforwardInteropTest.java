package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;

/**
 * Postfix 3.7 (Debian) as the XFORWARD server: smtpd_authorized_xforward_hosts =
 * 127.0.0.0/8, smtpd_client_port_logging = yes, every message held. Postern's client, with smtp_send_xforward_command = yes read from main.cf as
 * the delivery agent reads it, delivers mail of a fictitious original client; Postfix's log
 * ("orig_client=name[addr]:port", "orig_queue_id=") and the Received: header it writes into the
 * delivered file show that it took each attribute. Skipped without Postfix or root.
 */
class PostfixXforwardInteropTest {

    private static Path dir;
    private static PostfixInstance postfix;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        PostfixInstance.assumeAvailable();
        dir = Files.createTempDirectory("postfix-xforward");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path mail = Files.createDirectories(dir.resolve("mail"));
        Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
        port = PostfixInstance.freePort();
        postfix = PostfixInstance.start(dir.resolve("postfix"), List.of(
                "myhostname = mx.postfix.test",
                "virtual_mailbox_domains = postfix.test",
                "virtual_mailbox_base = " + mail,
                "virtual_mailbox_maps = inline:{bob@postfix.test=bob/}",
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534",
                "smtpd_authorized_xforward_hosts = 127.0.0.0/8",
                // every message held, for postcat to show what Postfix stored of the forwarded client
                "smtpd_recipient_restrictions = check_recipient_access static:HOLD, permit_mynetworks, reject",
                "smtpd_client_port_logging = yes",
                // IPv6 too: with ipv4 only, smtpd refuses an IPv6 XFORWARD ADDR as bad syntax
                "inet_protocols = all"),
                List.of("127.0.0.1:" + port + " inet n - n - - smtpd"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
        if (dir != null && System.getProperty("keep.postfix") == null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /* settings - the client's settings from main.cf, as the delivery agent reads them */
    private static SmtpClientSettings settings() {
        return SmtpClientParameters.SMTP.settings(Config.parse(String.join("\n",
                "myhostname = client.postern.test", "smtp_send_xforward_command = yes", "smtp_xforward_timeout = 20s",
                "inet_interfaces = 127.0.0.1", "smtp_connect_timeout = 5s"), "main.cf"));
    }

    private static OutboundMessage message(String subject, Map<String, String> xforward) {
        byte[] content = ("From: s@example.org\r\nTo: bob@postfix.test\r\nSubject: " + subject + "\r\n\r\nhello\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        return new OutboundMessage(xforward.get("IDENT"), "s@example.org",
                List.of(new OutboundMessage.OutboundRecipient("bob@postfix.test", null, null)), content.length,
                () -> new ByteArrayInputStream(content), null, null, false, xforward);
    }

    private static RecipientOutcome deliver(OutboundMessage m) throws IOException {
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), settings())) {
            return s.deliver(m).recipients().get(0);
        }
    }

    /* queueFile - postcat -q of a held message: the client attributes Postfix stored for it */
    private static String queueFile(String id) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/sbin/postcat", "-c", dir.resolve("postfix").resolve("conf").toString(),
                "-e", "-q", id).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return out;
    }

    /* queueId - Postfix's queue id from the reply "250 2.0.0 Ok: queued as 4Xyz" */
    private static String queueId(RecipientOutcome r) {
        String reply = r.reply();
        return reply.substring(reply.lastIndexOf(' ') + 1).replaceAll("[^0-9A-Za-z]", "");
    }

    @Test
    void postfixTakesEveryAttributeOfTheOriginalClient() throws Exception {
        Map<String, String> x = Map.of("NAME", "mail.example.org", "ADDR", "192.0.2.7", "PORT", "40123",
                "PROTO", "SMTP", "HELO", "helo.example.org", "IDENT", "4XFWDIDENT1", "SOURCE", "REMOTE");
        RecipientOutcome r = deliver(message("xforward ipv4", x));
        assertEquals(Status.SENT, r.status(), r.reply());
        String id = queueId(r);
        String log = postfix.awaitLog(id + ": client=", Duration.ofSeconds(10));
        // smtpd's client= line names this session and the forwarded one: IDENT as orig_queue_id,
        // NAME, ADDR and PORT (smtpd_client_port_logging) as orig_client
        assertTrue(log.matches("(?s).*" + id + ": client=localhost\\[127\\.0\\.0\\.1\\]:\\d+,"
                + " orig_queue_id=4XFWDIDENT1, orig_client=mail\\.example\\.org\\[192\\.0\\.2\\.7\\]:40123\n.*"), log);
        // the queue file keeps every attribute as the message's original client (PROTO SMTP, though
        // this session said EHLO; SOURCE=REMOTE is the remote rewrite context)
        String q = queueFile(id);
        for (String attribute : List.of("log_client_name=mail.example.org", "log_client_address=192.0.2.7",
                "log_client_port=40123", "log_helo_name=helo.example.org", "log_protocol_name=SMTP",
                "log_ident=4XFWDIDENT1", "rewrite_context=remote")) {
            assertTrue(q.contains(attribute), attribute + " in\n" + q);
        }
    }

    @Test
    void anUnknownNameIsUnavailableAndAnIpv6AddressHasPostfixsPrefix() throws Exception {
        Map<String, String> x = Map.of("NAME", "unknown", "ADDR", "2001:db8::7", "PROTO", "ESMTP",
                "HELO", "v6.example.org", "IDENT", "4XFWDIDENT2", "SOURCE", "REMOTE");
        RecipientOutcome r = deliver(message("xforward ipv6", x));
        assertEquals(Status.SENT, r.status(), r.reply());
        String id = queueId(r);
        String log = postfix.awaitLog(id + ": client=", Duration.ofSeconds(10));
        // no PORT known: [UNAVAILABLE], which Postfix logs as port "unknown"
        assertTrue(log.contains(", orig_queue_id=4XFWDIDENT2, orig_client=unknown[2001:db8::7]:unknown\n"), log);
        String q = queueFile(id);
        for (String attribute : List.of("log_client_name=unknown", "log_client_address=IPv6:2001:db8::7",
                "log_helo_name=v6.example.org", "log_protocol_name=ESMTP")) {
            assertTrue(q.contains(attribute), attribute + " in\n" + q);
        }
    }
}
