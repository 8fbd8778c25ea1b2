package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.OutboundMessage.OutboundRecipient;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

/**
 * smtp_generic_maps and lmtp_generic_maps through the real client, from main.cf to what
 * Postfix's smtp-sink received (its -d dump: the envelope as X-Mail-Args/X-Rcpt-Args, then
 * the message as it arrived).
 */
class SmtpGenericMapsInteropTest {

    private static final String SINK = "/usr/sbin/smtp-sink";

    @TempDir
    Path dir;

    private final List<Process> sinks = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : sinks) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private Config mainCf(String parameter) throws IOException {
        Path generic = dir.resolve("generic");
        Files.writeString(generic, String.join("\n",
                "# generic(5): the local names of this host, valid names outside",
                "alice@localdomain.local   alice.smith@example.com",
                "@host.local               @example.com", ""));
        return Config.parse(String.join("\n",
                parameter + " = texthash:" + generic,
                "myorigin = localdomain.local",
                "mydestination = localdomain.local, localhost",
                "inet_interfaces = 127.0.0.1", ""), "main.cf");
    }

    private static final String CONTENT = String.join("\r\n",
            "From: Alice Example <alice@localdomain.local>",
            "To: bob@host.local,",
            " \"Dave D.\" <dave@host.local>",
            "Cc: Carol <carol@remote.example>",
            "Subject: mail for alice@localdomain.local",
            "",
            "From: alice@localdomain.local stays in the body",
            "");

    private static OutboundMessage message() {
        byte[] content = CONTENT.getBytes(StandardCharsets.US_ASCII);
        List<OutboundRecipient> rcpts = List.of(new OutboundRecipient("bob@host.local", null, null),
                new OutboundRecipient("carol@remote.example", null, null));
        return new OutboundMessage("QGEN1", "alice@localdomain.local", rcpts, content.length,
                () -> new ByteArrayInputStream(content), null, null, false);
    }

    /* sink - smtp-sink dumping each transaction into dir/dump/msg.*; returns its port once it accepts */
    private int sink(Path dumps, String... options) throws IOException, InterruptedException {
        Peers.assume(new File(SINK).canExecute(), "Postfix smtp-sink is not installed at " + SINK);
        Peers.assume("root".equals(System.getProperty("user.name")), "smtp-sink -u nobody needs root");
        Files.createDirectories(dumps);
        // smtp-sink writes as nobody
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dumps, PosixFilePermissions.fromString("rwxrwxrwx"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(SINK, "-u", "nobody", "-d", dumps + "/msg."));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("127.0.0.1:" + port, "10"));
        sinks.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        for (int i = 0; i < 50; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return port;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IOException("smtp-sink did not start on port " + port);
    }

    /* received - the one dump file, once smtp-sink has written the whole message */
    private static List<String> received(Path dumps) throws IOException, InterruptedException {
        for (int i = 0; i < 50; i++) {
            try (Stream<Path> files = Files.list(dumps)) {
                List<Path> all = files.toList();
                if (all.size() == 1) {
                    List<String> lines = Files.readAllLines(all.get(0), StandardCharsets.ISO_8859_1);
                    if (lines.contains("From: alice@localdomain.local stays in the body")) {
                        return lines;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("smtp-sink wrote no complete dump in " + dumps);
    }

    private void deliverAndCheck(NextHop hop, SmtpClientSettings settings, Path dumps) throws Exception {
        DeliveryOutcome o;
        try (SmtpClientSession s = new SmtpClientSession(hop, settings)) {
            o = s.deliver(message());
        }
        // the outcomes (and so the to=<...> log lines and bounces) name the original recipients
        assertEquals(List.of("bob@host.local", "carol@remote.example"),
                o.recipients().stream().map(RecipientOutcome::address).toList());
        for (RecipientOutcome r : o.recipients()) {
            assertEquals(Status.SENT, r.status(), r.toString());
        }
        List<String> got = received(dumps);
        String mail = got.stream().filter(l -> l.startsWith("X-Mail-Args: ")).findFirst().orElseThrow();
        assertTrue(mail.startsWith("X-Mail-Args: <alice.smith@example.com>"), mail);
        assertEquals(List.of("X-Rcpt-Args: <bob@example.com>", "X-Rcpt-Args: <carol@remote.example>"),
                got.stream().filter(l -> l.startsWith("X-Rcpt-Args: ")).toList());
        assertTrue(got.contains("From: Alice Example <alice.smith@example.com>"), got.toString());
        int to = got.indexOf("To: bob@example.com,");
        assertTrue(to > 0, got.toString());
        assertEquals(" \"Dave D.\" <dave@example.com>", got.get(to + 1));
        assertTrue(got.contains("Cc: Carol <carol@remote.example>"), got.toString());
        assertTrue(got.contains("Subject: mail for alice@localdomain.local"), got.toString());
    }

    @Test
    void smtpGenericMapsRewriteTheEnvelopeAndTheHeaderSeenBySmtpSink() throws Exception {
        Path dumps = dir.resolve("smtp");
        int port = sink(dumps);
        NextHop hop = NextHop.smtp("127.0.0.1", port, false);
        deliverAndCheck(hop, SmtpClientParameters.SMTP.settings(mainCf("smtp_generic_maps"), hop), dumps);
    }

    @Test
    void lmtpGenericMapsDoTheSameForLmtp() throws Exception {
        Path dumps = dir.resolve("lmtp");
        int port = sink(dumps, "-L");
        NextHop hop = NextHop.lmtpInet("127.0.0.1", port);
        deliverAndCheck(hop, SmtpClientParameters.LMTP.settings(mainCf("lmtp_generic_maps"), hop), dumps);
    }

    @Test
    void theParametersReachTheSessionOncePerConfigurationAndFlavour() throws Exception {
        Config smtp = mainCf("smtp_generic_maps");
        SmtpClientSettings a = SmtpClientParameters.SMTP.settings(smtp, NextHop.smtp("a.example", 25, true));
        SmtpClientSettings b = SmtpClientParameters.SMTP.settings(smtp, NextHop.smtp("b.example", 25, true));
        assertNotNull(a.session().genericMaps());
        assertEquals("smtp_generic_maps", a.session().genericMaps().parameter());
        // one opened table for all next hops of a configuration; a reload (a new Config) opens it again
        assertSame(a.session().genericMaps(), b.session().genericMaps());
        assertNotSame(a.session().genericMaps(),
                SmtpClientParameters.SMTP.settings(mainCf("smtp_generic_maps"), null).session().genericMaps());
        // lmtp_generic_maps is the LMTP client's own: smtp_generic_maps does not apply to it
        assertNull(SmtpClientParameters.LMTP.settings(smtp, NextHop.lmtpInet("127.0.0.1", 24)).session().genericMaps());
        assertNull(SmtpClientParameters.SMTP.settings(Config.parse("inet_interfaces = 127.0.0.1\n", "main.cf"))
                .session().genericMaps());
    }
}
