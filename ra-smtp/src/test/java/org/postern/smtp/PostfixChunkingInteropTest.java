package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.settings;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.OutboundMessage.OutboundRecipient;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;

/**
 * CHUNKING (RFC 3030) in Postern's client against Postfix 3.7's smtpd, which announces it
 * by default (BDAT_README) and counts what it got in its "disconnect from" line ("bdat=5"
 * or "data=1"). A message of some 300 kB whose lines start with "." goes in five BDAT
 * chunks and is stored exactly as sent (a dot-stuffed copy would keep the extra dots);
 * with smtp_discard_ehlo_keywords = chunking the same message goes with DATA. Postfix's own
 * smtp(8) never sends BDAT: this is where Postern's client differs from Postfix's, and the
 * keyword is the administrator's switch. A private Postfix instance (virtual(8) maildir);
 * needs Postfix and root (a failure under CI, skipped elsewhere).
 */
class PostfixChunkingInteropTest {

    private static Path dir;
    private static PostfixInstance receiver;
    private static int receiverPort;
    private static Path mail;

    @BeforeAll
    static void start() throws Exception {
        PostfixInstance.assumeAvailable();
        dir = Files.createTempDirectory("postfix-chunking");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        mail = Files.createDirectories(dir.resolve("mail"));
        Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
        receiverPort = PostfixInstance.freePort();
        receiver = PostfixInstance.start(dir.resolve("receiver"), List.of(
                "myhostname = mx.postfix.test",
                "virtual_mailbox_domains = postfix.test",
                "virtual_mailbox_base = " + mail,
                "virtual_mailbox_maps = inline:{bob@postfix.test=bob/}",
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534"),
                List.of("127.0.0.1:" + receiverPort + " inet n - n - - smtpd"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (PostfixInstance p : new PostfixInstance[] {receiver}) {
            if (p != null) {
                p.close();
            }
        }
        if (dir != null && System.getProperty("keep.postfix") == null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /* content - a message with the headers Postfix would otherwise add, and body lines that start with "." */
    private static String content(String id, int lines) {
        StringBuilder b = new StringBuilder(String.join("\r\n",
                "From: Sender <sender@client.postern.test>",
                "To: Bob <bob@postfix.test>",
                "Subject: chunking " + id,
                "Date: Sat, 21 Nov 2026 12:00:00 +0000",
                "Message-ID: <" + id + "@client.postern.test>",
                "", ""));
        for (int i = 0; i < lines; i++) {
            b.append(i % 7 == 0 ? "." : i % 11 == 0 ? ".." : "").append("line ").append(i)
                    .append(" abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n");
        }
        return b.append(".\r\nlast line\r\n").toString();
    }

    private static RecipientOutcome deliver(int port, String id, String content, SmtpClientSettings settings) {
        byte[] bytes = content.getBytes(StandardCharsets.US_ASCII);
        OutboundMessage m = new OutboundMessage(id, "sender@client.postern.test",
                List.of(new OutboundRecipient("bob@postfix.test", null, null)), bytes.length,
                () -> new ByteArrayInputStream(bytes), null, null, false);
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), settings)) {
            return s.deliver(m).recipients().get(0);
        }
    }

    /* queueId - from "250 2.0.0 Ok: queued as ID" (DATA) or "250 2.0.0 Ok: N bytes queued as ID" (BDAT LAST) */
    private static String queueId(RecipientOutcome r) {
        Matcher m = Pattern.compile("250 2\\.0\\.0 Ok: (\\d+ bytes )?queued as (\\w+)").matcher(r.reply());
        assertTrue(m.find(), r.reply());
        return m.group(2);
    }

    /*
     * disconnect - the receiver's "disconnect from" line of the smtpd session that queued
     * {@code queueId}: the first one of the same smtpd process after its "client=" line.
     */
    private static String disconnect(String queueId) throws IOException, InterruptedException {
        String log = receiver.awaitLog(queueId + ": client=", Duration.ofSeconds(20));
        Matcher client = Pattern.compile("smtpd\\[(\\d+)\\]: " + queueId + ": client=").matcher(log);
        assertTrue(client.find(), log);
        Pattern line = Pattern.compile("smtpd\\[" + client.group(1) + "\\]: disconnect from [^\n]*");
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            Matcher m = line.matcher(log);
            if (m.find(client.end())) {
                return m.group();
            }
            assertTrue(System.nanoTime() < end, "no disconnect after " + queueId + ":\n" + log);
            Thread.sleep(100);
            log = receiver.log();
        }
    }

    /* stored - the maildir file of the message the receiver queued as queueId */
    private static String stored(String queueId) throws IOException, InterruptedException {
        receiver.awaitLog(queueId + ": to=<bob@postfix.test>, relay=virtual", Duration.ofSeconds(20));
        Path inbox = mail.resolve("bob").resolve("new");
        try (Stream<Path> s = Files.list(inbox)) {
            for (Path p : s.toList()) {
                String text = Files.readString(p, StandardCharsets.ISO_8859_1);
                if (text.contains(" id " + queueId + "\n")) {
                    return text;
                }
            }
        }
        throw new AssertionError("no message " + queueId + " in " + inbox + "\n" + receiver.log());
    }

    @Test
    void theReceiverAnnouncesChunking() throws IOException {
        // without the announcement, the tests below would prove nothing
        try (Socket s = new Socket("127.0.0.1", receiverPort)) {
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            assertTrue(in.readLine().startsWith("220 "));
            out.write("EHLO probe.postern.test\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            StringBuilder ehlo = new StringBuilder();
            String l;
            do {
                l = in.readLine();
                ehlo.append(l).append('\n');
            } while (l != null && l.startsWith("250-"));
            assertTrue(ehlo.toString().contains("250-CHUNKING\n") || ehlo.toString().contains("250 CHUNKING\n"),
                    ehlo.toString());
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }

    @Test
    void posternSendsBdatChunksAndTheStoredCopyIsTheMessage() throws Exception {
        String sent = content("postern-bdat", 4000);
        assertTrue(sent.length() > 4 * 65536 && sent.length() < 5 * 65536, "four full chunks and a last one: "
                + sent.length());
        RecipientOutcome r = deliver(receiverPort, "PSTNCHUNK1", sent, settings(20_000));
        assertEquals(Status.SENT, r.status(), r + "\nreceiver log:\n" + receiver.log());
        // Postfix's reply to BDAT LAST counts the octets of all chunks: the whole message, CRLF, not stuffed
        assertTrue(r.reply().contains("Ok: " + sent.length() + " bytes queued as "), r.reply());
        String id = queueId(r);
        String line = disconnect(id);
        assertTrue(line.matches(".* bdat=5( .*)?"), line);
        assertFalse(line.contains(" data="), line);
        assertStored(id, sent);
    }

    @Test
    void discardingTheKeywordSendsDataAsPostfixDoes() throws Exception {
        String sent = content("postern-data", 5000);
        SmtpClientSettings s = SmtpClientParameters.SMTP.settings(Config.parse(
                "smtp_discard_ehlo_keywords = chunking\nsmtp_helo_name = client.postern.test\n", "main.cf"),
                NextHop.smtp("127.0.0.1", receiverPort, false));
        RecipientOutcome r = deliver(receiverPort, "PSTNCHUNK2", sent, s);
        assertEquals(Status.SENT, r.status(), r + "\nreceiver log:\n" + receiver.log());
        String id = queueId(r);
        String line = disconnect(id);
        assertTrue(line.matches(".* data=1( .*)?"), line);
        assertFalse(line.contains("bdat="), line);
        assertStored(id, sent);
    }

    /* assertStored - the copy stored is the message as sent, LF line ends as virtual(8) stores it, after Postfix's headers */
    private static void assertStored(String id, String sent) throws Exception {
        String stored = stored(id);
        String expected = sent.replace("\r\n", "\n");
        assertTrue(stored.endsWith(expected), "stored copy differs from the message sent");
        String prepended = stored.substring(0, stored.length() - expected.length());
        assertTrue(prepended.contains("by mx.postfix.test (Postfix) with ESMTP id " + id), prepended);
    }
}
