package org.postern.smtp;

import org.postern.test.SmtpReplies;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.settings;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.netty.channel.nio.NioEventLoopGroup;
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
import org.postern.smtpd.SmtpdServer;
import org.postern.smtpd.SmtpdSettings;
import org.postern.smtpd.SmtpdSettings.BareNewline;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;

/**
 * SMTP smuggling with Postern relaying to a real Postfix behind it: no second message ever
 * appears. The receiver is a {@link SmugglingReceiver} (shared with the ear module's HostileIT,
 * which relays through the deployed server). Postfix 3.7 (Debian's package) receives on three smtpd listeners, one per
 * smtpd_forbid_bare_newline value it knows: "no" (its default before 3.9, the most
 * permissive: a bare &lt;LF&gt; ends a line, so "&lt;LF&gt;.&lt;LF&gt;" ends DATA - the
 * receiver that a smuggled sequence would fool), "normalize" and "reject" (a bare &lt;LF&gt;
 * refuses the message: a delivery there proves that Postern's client sent none);
 * smtpd_forbid_bare_newline_exclusions is empty, or loopback would be exempt.
 *
 * <p>Each published variant of the end-of-data look-alike (SEC Consult 2023; Postfix's
 * smuggling page): &lt;LF&gt;.&lt;LF&gt;, &lt;CR&gt;.&lt;CR&gt;, &lt;LF&gt;.&lt;CR&gt;&lt;LF&gt;,
 * &lt;CR&gt;&lt;LF&gt;.&lt;LF&gt;, &lt;CR&gt;&lt;LF&gt;.&lt;CR&gt;, &lt;CR&gt;.&lt;LF&gt;, and the standard
 * &lt;CR&gt;&lt;LF&gt;.&lt;CR&gt;&lt;LF&gt; itself, is followed by a forged second transaction
 * (MAIL FROM:&lt;forged@evil.example&gt;, RCPT TO a real mailbox, DATA, a message, ".").
 * Two sources of such content:
 * <ul>
 * <li>stored content holding the raw sequence (what a queue file could hold), sent by
 * {@link SmtpClientSession} over DATA and over BDAT (Postfix announces CHUNKING): the
 * client's normalisation (a bare &lt;LF&gt; becomes CRLF, a bare &lt;CR&gt; stays data,
 * dot-stuffing for DATA) is what is tested;</li>
 * <li>the whole relay: a raw client sends the variant to Postern's smtpd (in process, with
 * smtpd_forbid_bare_newline = no and = normalize), which stores what it accepts, and
 * Postern's client relays that content to Postfix.</li>
 * </ul>
 * Proof: every delivery is one message that Postfix queued (its reply's queue id, delivered
 * by virtual(8) to bob), Postfix logged as many transactions ("client=" lines) as Postern
 * made deliveries, the forged sender and the victim appear nowhere in Postfix's log, and
 * the copy stored is the content sent, line ends as virtual(8) writes them. Needs Postfix
 * and root (a failure under CI, skipped elsewhere).
 */
class PostfixSmugglingInteropTest {

    private static final Map<String, String> VARIANTS = SmugglingReceiver.VARIANTS;

    private static SmugglingReceiver receiver;
    /** smtpd_forbid_bare_newline value -> the port of the Postfix listener with it */
    private static Map<String, Integer> LISTENERS;
    /** deliveries Postfix accepted, over all tests: as many transactions may appear in its log */
    private static final AtomicInteger DELIVERED = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        receiver = SmugglingReceiver.start("postfix-smuggling", List.of("no", "normalize", "reject"));
        LISTENERS = receiver.listeners();
    }

    @AfterAll
    static void stop() throws Exception {
        if (receiver != null) {
            receiver.close();
        }
    }

    private static String attempt(String tag, String variant) {
        return SmugglingReceiver.attempt(tag, variant);
    }

    /*
     * content - stored content with the attempt: the forged message's own end of data too
     * (content that came over BDAT may hold it) and a line of the first message after it
     */
    private static byte[] content(String tag, String variant) {
        return (attempt(tag, variant) + ".\r\nlast line of the first message\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /* client - Postern's client settings: BDAT when Postfix announces CHUNKING, or DATA with the keyword discarded */
    private static SmtpClientSettings client(boolean bdat, int port) {
        if (bdat) {
            return settings(20_000);
        }
        return SmtpClientParameters.SMTP.settings(Config.parse(
                "smtp_discard_ehlo_keywords = chunking\nsmtp_helo_name = client.postern.test\n", "main.cf"),
                NextHop.smtp("127.0.0.1", port, false));
    }

    /*
     * relay - Postern's client sends content from sender@client.postern.test to bob; Postfix
     * must queue it as one message (the reply's queue id), and the copy virtual(8) stored
     * must be the content (Postfix's own headers before it); returns the queue id
     */
    private static String relay(String mode, boolean bdat, String id, byte[] content) throws Exception {
        int port = LISTENERS.get(mode);
        OutboundMessage m = new OutboundMessage(id, "sender@client.postern.test",
                List.of(new OutboundRecipient("bob@postfix.test", null, null)), content.length,
                () -> new ByteArrayInputStream(content), null, null, false);
        RecipientOutcome r;
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), client(bdat, port))) {
            r = s.deliver(m).recipients().get(0);
        }
        String where = mode + "/" + (bdat ? "BDAT" : "DATA") + " " + id;
        assertEquals(Status.SENT, r.status(), where + ": " + r + "\nreceiver log:\n" + receiver.log());
        Matcher q = Pattern.compile(bdat ? "^250 2\\.0\\.0 Ok: \\d+ bytes queued as (\\w+)$"
                : "^250 2\\.0\\.0 Ok: queued as (\\w+)$").matcher(r.reply());
        assertTrue(q.find(), where + ": " + r.reply());
        DELIVERED.incrementAndGet();
        String queueId = q.group(1);
        String stored = stored(queueId);
        String expected = expectedCopy(content);
        assertTrue(stored.endsWith(expected), where + ": the stored copy differs from the content sent:\n"
                + printable(stored) + "\nexpected to end with:\n" + printable(expected));
        String prepended = stored.substring(0, stored.length() - expected.length());
        assertTrue(prepended.contains("by mx.postfix.test (Postfix) with ESMTP id " + queueId), where + ": " + prepended);
        return queueId;
    }

    /*
     * expectedCopy - the content as Postfix stores it: a CRLF or a bare LF of the content was
     * one line end on the wire (Postern's client sends a bare LF as CRLF) and is an LF in the
     * mailbox file; a bare CR is data to Postern's client and to Postfix's smtpd (no line
     * end), and Postfix 3.7 writes it into the mailbox as a space (seen here, with every
     * smtpd_forbid_bare_newline value, over DATA and BDAT)
     */
    private static String expectedCopy(byte[] content) {
        return new String(content, StandardCharsets.ISO_8859_1).replace("\r\n", "\n").replace('\r', ' ');
    }

    private static String printable(String s) {
        return s.replace("\r", "<CR>").replace("\n", "<LF>\n");
    }

    private static String stored(String queueId) throws IOException, InterruptedException {
        return receiver.stored(queueId);
    }

    private static void assertNothingSmuggled() throws Exception {
        receiver.assertNothingSmuggled(DELIVERED.get());
    }

    @Test
    void storedContentWithEveryVariantReachesPostfixAsOneMessage() throws Exception {
        int n = 0;
        for (String mode : LISTENERS.keySet()) {
            for (boolean bdat : new boolean[] {false, true}) {
                for (Map.Entry<String, String> v : VARIANTS.entrySet()) {
                    String tag = mode + "-" + (bdat ? "bdat" : "data") + "-" + v.getKey();
                    relay(mode, bdat, "PSTNSMUG" + (++n), content(tag, v.getValue()));
                }
            }
        }
        System.out.println("PostfixSmugglingInteropTest: " + n + " deliveries of stored content, "
                + LISTENERS.size() + " listeners x DATA/BDAT x " + VARIANTS.size() + " variants");
        assertNothingSmuggled();
    }

    @Test
    void posternSmtpdInFrontThenPosternsClientToPostfix() throws Exception {
        // what Postern's smtpd accepts and stores from a client that tries each variant, relayed on
        List<byte[]> stored = new CopyOnWriteArrayList<>();
        List<Envelope> envelopes = new CopyOnWriteArrayList<>();
        SmtpdListener listener = (envelope, content) -> {
            try {
                stored.add(content.readAllBytes());
            } catch (IOException e) {
                throw new EnqueueException("read failed", e);
            }
            envelopes.add(envelope);
            return envelope.queueId();
        };
        Path spool = Files.createTempDirectory("postern-spool");
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        ExecutorService blocking = Executors.newFixedThreadPool(2);
        int n = 0;
        try {
            for (BareNewline posternMode : List.of(BareNewline.NO, BareNewline.NORMALIZE)) {
                // the most permissive: every client excluded from smtpd_forbid_bare_newline
                SmtpdSettings s = SmtpdSettings.defaults("smtpd", "mx.postern.test", spool).withBareNewline(posternMode,
                        address -> posternMode == BareNewline.NO, 550);
                SmtpdServer server = new SmtpdServer("smtpd", s, listener, group, blocking);
                server.start("127.0.0.1", 0);
                try {
                    for (Map.Entry<String, String> v : VARIANTS.entrySet()) {
                        if (v.getValue().equals("\r\n.\r\n")) {
                            continue; // from a client, the standard end of data: what follows is its next transaction
                        }
                        String tag = "postern-" + posternMode + "-" + v.getKey();
                        int before = stored.size();
                        String reply = smuggleInto(server.port(), tag, v.getValue());
                        System.out.println("PostfixSmugglingInteropTest: Postern smtpd " + posternMode + ", "
                                + v.getKey() + ": " + reply);
                        assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), tag + ": " + reply);
                        assertEquals(before + 1, stored.size(), tag + ": one message from one transaction");
                        assertEquals("sender@client.postern.test", envelopes.get(before).sender());
                        assertEquals(List.of("bob@postfix.test"), envelopes.get(before).recipients().stream()
                                .map(Envelope.Recipient::address).toList());
                        byte[] content = stored.get(before);
                        for (String mode : LISTENERS.keySet()) {
                            for (boolean bdat : new boolean[] {false, true}) {
                                relay(mode, bdat, "PSTNFRONT" + (++n), content);
                            }
                        }
                    }
                } finally {
                    server.stop();
                }
            }
        } finally {
            blocking.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            try (java.util.stream.Stream<Path> files = Files.walk(spool)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
            }
        }
        System.out.println("PostfixSmugglingInteropTest: " + n + " relays of what Postern's smtpd stored");
        assertNothingSmuggled();
    }

    /* smuggleInto - one session with Postern's smtpd: the variant inside DATA; the reply to the final dot */
    private static String smuggleInto(int port, String tag, String variant) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            assertTrue(SmtpReplies.read(in).startsWith("220 "));
            for (String[] step : new String[][] {{"EHLO client.postern.test", "250"},
                    {"MAIL FROM:<sender@client.postern.test>", "250"}, {"RCPT TO:<bob@postfix.test>", "250"},
                    {"DATA", "354"}}) {
                out.write((step[0] + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String r = SmtpReplies.read(in);
                assertTrue(r.startsWith(step[1]), step[0] + ": " + r);
            }
            out.write((attempt(tag, variant) + ".\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String r = SmtpReplies.read(in);
            // anything after the final dot: a second transaction would have replied by now
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String quit = SmtpReplies.read(in);
            assertEquals("221 2.0.0 Bye", quit, tag + ": the reply after the message's own is QUIT's");
            return r;
        }
    }

}
