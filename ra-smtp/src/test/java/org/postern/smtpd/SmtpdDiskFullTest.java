package org.postern.smtpd;

import org.postern.test.SmtpReplies;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.test.Peers;

/**
 * A spool file system that fills up in the middle of DATA or BDAT: a real 256 KB tmpfs
 * mounted as the spool directory of a listener on 127.0.0.1, and a message of about
 * 600 KB. The client gets Postfix's reply for a queue file write error, "451 4.3.0 Error:
 * queue file write error" (Postfix's cleanup_strerror() table: CLEANUP_STAT_WRITE, 451,
 * 4.3.0; smtpd's "%d %s Error: %s"), never a 250; the listener never sees the message; the
 * partial spool file is gone by the time of the reply; the session goes on: a small
 * message in the same session is accepted and arrives whole; and the postmaster gets the
 * session's transcript (notify_classes has "resource" by default, as in Postfix).
 *
 * <p>message_size_limit is 0 here: with a limit, queue_minfree's check at MAIL (1.5 times
 * the limit free) would refuse the transaction before any content, and the failure in
 * mid-content is the case to prove (the space is taken after MAIL, or the client sends
 * more than it declared). smtpd_spool_memory_limit is 0 (every message to a file, the small
 * one too: it fits only because the big one's file was removed) or 64 KB (the big message
 * spills to the file part-way).
 *
 * <p>Needs root to mount; without root, or when the mount fails, the test is skipped on a
 * developer's machine and fails under CI (CI=true, {@link Peers}).
 */
class SmtpdDiskFullTest {

    private static final String WRITE_ERROR = "451 4.3.0 Error: queue file write error";
    private static Path spool;
    private static boolean mounted;

    private NioEventLoopGroup group;
    private ExecutorService blocking;
    private SmtpdServer server;
    private final List<Envelope> envelopes = new CopyOnWriteArrayList<>();
    private final List<byte[]> contents = new CopyOnWriteArrayList<>();

    private final SmtpdListener listener = (envelope, content) -> {
        byte[] bytes;
        try {
            bytes = content.readAllBytes();
        } catch (IOException e) {
            throw new EnqueueException("read failed", e);
        }
        synchronized (this) { // the i-th content is the i-th envelope's
            contents.add(bytes);
            envelopes.add(envelope);
        }
        return envelope.queueId();
    };

    @BeforeAll
    static void mount() throws Exception {
        Peers.assume("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        spool = Files.createTempDirectory("postern-full-spool");
        String out = run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", spool.toString());
        mounted = out == null;
        if (!mounted) {
            Files.deleteIfExists(spool);
            Peers.abort("cannot mount a 256k tmpfs on " + spool + ": " + out);
        }
        long size = Files.getFileStore(spool).getTotalSpace();
        assertTrue(size > 0 && size <= 512 * 1024, "a small file system: " + size);
    }

    @AfterAll
    static void unmount() throws Exception {
        if (mounted) {
            String out = run("umount", spool.toString());
            assertEquals(null, out, "umount " + spool);
            mounted = false;
        }
        if (spool != null) {
            Files.deleteIfExists(spool);
        }
    }

    /* run - a command; null when it exited 0, else its output and status */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out: " + out;
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    }

    private void start(long spoolMemoryLimit) throws IOException {
        group = new NioEventLoopGroup(2);
        blocking = Executors.newFixedThreadPool(2);
        SmtpdSettings.Builder b = SmtpdSettings.defaults("smtpd", "mx.example.org", spool).withMessageSizeLimit(0)
                .toBuilder();
        b.spoolMemoryLimit = spoolMemoryLimit;
        server = new SmtpdServer("smtpd", b.build(), listener, group, blocking);
        server.start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            blocking.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /* big - some 600 KB of CRLF lines, more than the whole file system */
    private static byte[] big() {
        StringBuilder b = new StringBuilder("Subject: too big for the spool\r\n\r\n");
        for (int i = 0; b.length() < 600 * 1024; i++) {
            b.append("line ").append(i).append(" abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n");
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static final byte[] SMALL = "Subject: small\r\n\r\nit fits\r\n".getBytes(StandardCharsets.US_ASCII);


    private static void send(OutputStream out, String command) throws IOException {
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /* spoolFiles - the spool files smtpd made (queueid.spool) */
    private static List<Path> spoolFiles() throws IOException {
        try (Stream<Path> s = Files.list(spool)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".spool")).toList();
        }
    }

    /* session - EHLO, then for each message MAIL, RCPT and DATA (or BDAT LAST): the reply after the content */
    private List<String> session(boolean bdat, byte[]... messages) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            assertTrue(SmtpReplies.read(in).startsWith("220 "));
            send(out, "EHLO client.example");
            String ehlo = SmtpReplies.read(in);
            assertTrue(ehlo.contains("CHUNKING"), ehlo);
            List<String> replies = new java.util.ArrayList<>();
            for (byte[] m : messages) {
                send(out, "MAIL FROM:<a@example.com>");
                assertEquals("250 2.1.0 Ok", SmtpReplies.read(in));
                send(out, "RCPT TO:<b@example.org>");
                assertEquals("250 2.1.5 Ok", SmtpReplies.read(in));
                if (bdat) {
                    // two chunks: the space runs out in the first one
                    int half = m.length / 2;
                    send(out, "BDAT " + half);
                    out.write(m, 0, half);
                    out.flush();
                    String chunk = SmtpReplies.read(in);
                    assertFalse(chunk.contains("queued"), chunk);
                    send(out, "BDAT " + (m.length - half) + " LAST");
                    out.write(m, half, m.length - half);
                    out.flush();
                } else {
                    send(out, "DATA");
                    assertEquals("354 End data with <CR><LF>.<CR><LF>", SmtpReplies.read(in));
                    out.write(m);
                    out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                String r = SmtpReplies.read(in);
                replies.add(r);
                if (!r.startsWith("250")) {
                    // the partial spool file is gone by the time of the reply
                    assertEquals(List.of(), spoolFiles(), "spool files after " + r);
                }
            }
            send(out, "QUIT");
            assertEquals("221 2.0.0 Bye", SmtpReplies.read(in));
            return replies;
        }
    }

    private void assertWriteErrorThenSmallMessageAccepted(boolean bdat) throws IOException {
        byte[] big = big();
        List<String> replies = session(bdat, big, SMALL);
        System.out.println("SmtpdDiskFullTest: " + (bdat ? "BDAT" : "DATA") + ", " + big.length + " bytes into "
                + Files.getFileStore(spool).getTotalSpace() + ": " + replies);
        assertEquals(WRITE_ERROR, replies.get(0), "the message that does not fit");
        assertTrue(replies.get(1).matches("250 2\\.0\\.0 Ok: (\\d+ bytes )?queued as \\w+"), replies.get(1));
        // of the client's messages only the small one reached the listener, whole (after Postern's Received: header)
        List<Integer> mail = new java.util.ArrayList<>();
        for (int i = 0; i < envelopes.size(); i++) {
            if (envelopes.get(i).sender().equals("a@example.com")) {
                mail.add(i);
            }
        }
        assertEquals(1, mail.size(), () -> "messages handed to the listener: " + envelopes.stream()
                .map(e -> e.queueId() + " from " + e.sender() + ", " + e.size() + " bytes").toList());
        // (the headers Postfix's cleanup adds for a local client come at the end of the header section)
        String got = new String(contents.get(mail.get(0)), StandardCharsets.ISO_8859_1);
        assertTrue(got.contains("\r\nSubject: small\r\n") && got.endsWith("\r\n\r\nit fits\r\n"), got);
        // and the postmaster hears of it, as from Postfix (notify_classes = resource, software):
        // the session's transcript, queued through the listener when the session ends
        String notice = awaitNotice();
        assertTrue(notice.contains("\r\nSubject: Postern SMTP server: errors from unknown[127.0.0.1]\r\n"), notice);
        assertTrue(notice.contains(" Out: " + WRITE_ERROR + "\r\n"), notice);
        assertEquals(List.of(), spoolFiles(), "nothing left in the spool");
    }

    /* awaitNotice - the postmaster notice (from double-bounce to postmaster), once the listener has it */
    private String awaitNotice() {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            for (int i = 0; i < envelopes.size(); i++) {
                if (envelopes.get(i).recipients().get(0).address().equals("postmaster@mx.example.org")) {
                    return new String(contents.get(i), StandardCharsets.ISO_8859_1);
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("no postmaster notice: " + envelopes);
    }

    @Test
    void dataThatFillsTheSpoolGetsPostfixsWriteErrorAndTheSessionGoesOn() throws IOException {
        start(0);
        assertWriteErrorThenSmallMessageAccepted(false);
    }

    @Test
    void dataThatSpillsFromMemoryIntoAFullSpoolGetsTheWriteError() throws IOException {
        start(64 * 1024);
        assertWriteErrorThenSmallMessageAccepted(false);
    }

    @Test
    void bdatThatFillsTheSpoolGetsTheWriteErrorAtLast() throws IOException {
        start(0);
        assertWriteErrorThenSmallMessageAccepted(true);
    }
}
