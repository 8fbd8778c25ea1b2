package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.JavaArchive;
import org.postern.it.probe.EventProbe;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DeliveryIT - the real EAR on the provisioned WildFly carries mail from an SMTP client to
 * an SMTP server and an LMTP server, and retries a recipient that a peer deferred; every
 * outcome is published on the delivery events topic, which a subscriber deployed beside
 * Postern ({@link EventProbe}) receives.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class DeliveryIT {
    private static TestSink smtpSink;
    private static TestSink lmtpSink;
    private static TestSink flakySink;
    /** the delivery events' peers: one that takes everything, one that defers, one that refuses */
    private static TestSink eventsSink;
    private static TestSink deferSink;
    private static TestSink rejectSink;

    /** deployment - Postern's EAR with the events subscriber (EventProbe) as one more EJB module */
    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        EnterpriseArchive ear = Postern.ear();
        ear.addAsModule(ShrinkWrap.create(JavaArchive.class, "event-probe.jar").addClass(EventProbe.class));
        String xml;
        try (java.io.InputStream in = ear.get("META-INF/application.xml").getAsset().openStream()) {
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ear.setApplicationXML(new StringAsset(xml.replace("</application>",
                "  <module><ejb>event-probe.jar</ejb></module>\n</application>")));
        return ear;
    }

    @BeforeAll
    static void peers() throws Exception {
        smtpSink = TestSink.smtp(12526);
        lmtpSink = TestSink.lmtp(12524);
        // the first end of data is answered 451, the next ones 250
        flakySink = new TestSink(12527, false,
                n -> n == 1 ? "451 4.3.0 Error: try again later" : "250 2.0.0 Ok: queued as FLAKY" + n);
        eventsSink = TestSink.smtp(12532);
        deferSink = new TestSink(12533, false, n -> "452 4.2.2 Mailbox full \"quoted\" \\ back\\slash");
        rejectSink = new TestSink(12534, false, n -> "550 5.1.1 <erin@reject.test>: \"}, \"x\": unknown");
    }

    @AfterAll
    static void stopPeers() throws Exception {
        smtpSink.close();
        lmtpSink.close();
        flakySink.close();
        eventsSink.close();
        deferSink.close();
        rejectSink.close();
    }

    /** message - a message with the lines that test transparency: a leading dot, an empty line. */
    private static final String MESSAGE = "From: Alice <alice@example.org>\r\n"
            + "To: bob@smtp.test, carol@lmtp.test\r\n"
            + "Subject: two next hops\r\n"
            + "Message-ID: <two-hops@example.org>\r\n"
            + "Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
            + "\r\n"
            + "first line\r\n"
            + ".a line that starts with a dot\r\n"
            + "\r\n"
            + "..two dots\r\n"
            + "last line\r\n";

    @Test
    void oneMessageTwoRecipientsReachSmtpAndLmtpWithTheExactBytes() throws Exception {
        String queueId;
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            assertTrue(c.reply().startsWith("220 "));
            c.send("EHLO client.example.org");
            String ehlo = c.reply();
            assertTrue(ehlo.contains("PIPELINING"), ehlo);
            c.send("MAIL FROM:<alice@example.org>");
            assertEquals("250 2.1.0 Ok", c.reply());
            c.send("RCPT TO:<bob@smtp.test>");
            assertEquals("250 2.1.5 Ok", c.reply());
            c.send("RCPT TO:<carol@lmtp.test>");
            assertEquals("250 2.1.5 Ok", c.reply());
            c.send("DATA");
            assertTrue(c.reply().startsWith("354 "));
            c.write(stuff(MESSAGE).getBytes(StandardCharsets.UTF_8));
            c.send(".");
            queueId = Postern.queueId(c.reply());
            c.send("QUIT");
            assertTrue(c.reply().startsWith("221 "));
        }

        TestSink.Delivery smtp = smtpSink.next(60, TimeUnit.SECONDS);
        TestSink.Delivery lmtp = lmtpSink.next(60, TimeUnit.SECONDS);
        assertNotNull(smtp, "nothing arrived at the SMTP server");
        assertNotNull(lmtp, "nothing arrived at the LMTP server");
        assertEquals("<alice@example.org>", smtp.mailFrom().split(" ")[0]);
        assertEquals(List.of("<bob@smtp.test>"), smtp.rcptTo().stream().map(r -> r.split(" ")[0]).toList());
        assertEquals(List.of("<carol@lmtp.test>"), lmtp.rcptTo().stream().map(r -> r.split(" ")[0]).toList());
        for (TestSink.Delivery d : List.of(smtp, lmtp)) {
            String text = d.text();
            // Postern's own Received: header, then the client's message, byte for byte
            assertTrue(text.startsWith("Received: from client.example.org"), text);
            assertTrue(text.contains(" id " + queueId), text);
            String received = receivedHeader(text);
            assertEquals(MESSAGE, text.substring(received.length()));
        }
        List<String> log = waitForLog(queueId, "removed");
        assertTrue(log.stream().anyMatch(l -> l.contains("to=<bob@smtp.test>") && l.contains("status=sent")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("postern/lmtp[") && l.contains("to=<carol@lmtp.test>")
                && l.contains("status=sent")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("from=<alice@example.org>") && l.contains("nrcpt=2")),
                log.toString());
    }

    @Test
    void aPeersTemporaryFailureDefersTheRecipientAndALaterAttemptDelivers() throws Exception {
        String queueId;
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            c.reply();
            c.send("HELO client.example.org");
            assertTrue(c.reply().startsWith("250 "));
            c.send("MAIL FROM:<alice@example.org>");
            c.reply();
            c.send("RCPT TO:<dave@flaky.test>");
            assertEquals("250 2.1.5 Ok", c.reply());
            c.send("DATA");
            c.reply();
            c.send("Subject: retry me");
            c.send("");
            c.send("body");
            c.send(".");
            queueId = Postern.queueId(c.reply());
            c.send("QUIT");
            c.reply();
        }
        TestSink.Delivery d = flakySink.next(60, TimeUnit.SECONDS);
        assertNotNull(d, "the deferred recipient was never delivered");
        assertEquals(2, flakySink.transactions(), "one refused attempt, then one delivery");
        // from a local client (local_header_rewrite_clients = permit_inet_interfaces) the missing
        // Message-Id, Date and From are added at the end of the header, as Postfix's cleanup does
        assertTrue(d.text().matches("(?s).*\r\nSubject: retry me\r\n"
                + "Message-Id: <\\d{14}\\." + queueId + "@postern\\.test>\r\n"
                + "Date: \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4} \\([A-Z]+\\)\r\n"
                + "From: <alice@example\\.org>\r\n\r\nbody\r\n"), d.text());
        assertNull(flakySink.next(1, TimeUnit.SECONDS), "delivered more than once");
        List<String> log = waitForLog(queueId, "removed");
        int deferred = indexOf(log, "to=<dave@flaky.test>", "status=deferred");
        int sent = indexOf(log, "to=<dave@flaky.test>", "status=sent");
        assertTrue(deferred >= 0 && sent > deferred, "deferred, then sent: " + log);
        assertTrue(log.get(deferred).contains("451 4.3.0"), log.get(deferred));
    }

    @Test
    void aFiftyMegabyteMessageStreamsThroughAServerWithAHalfGigabyteHeap() throws Exception {
        // the server runs with -Xmx512m (arquillian.xml): holding the message several times
        // over, as a byte[] per stage would, does not fit
        int lines = 50 * 1024 * 1024 / 78;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        long size = 0;
        String queueId;
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<big@example.org> SIZE=" + (lines * 78L + 100));
            assertEquals("250 2.1.0 Ok", c.reply());
            c.send("RCPT TO:<bob@smtp.test>");
            c.reply();
            c.send("DATA");
            assertTrue(c.reply().startsWith("354 "));
            byte[] header = ("Subject: fifty megabytes\r\nMessage-ID: <fifty@example.org>\r\n"
                    + "Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nFrom: <big@example.org>\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            c.write(header);
            sent.update(header);
            size += header.length;
            StringBuilder chunk = new StringBuilder();
            for (int i = 0; i < lines; i++) {
                chunk.append(String.format("%08d", i)).append("abcdefghijklmnopqrstuvwxyz0123456789")
                        .append("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\r\n");
                if (chunk.length() > 64 * 1024 || i == lines - 1) {
                    byte[] b = chunk.toString().getBytes(StandardCharsets.US_ASCII);
                    c.write(b);
                    sent.update(b);
                    size += b.length;
                    chunk.setLength(0);
                }
            }
            c.send(".");
            queueId = Postern.queueId(c.reply());
            c.send("QUIT");
            c.reply();
        }
        TestSink.Delivery d = smtpSink.next(120, TimeUnit.SECONDS);
        assertNotNull(d, "the 50 MB message did not arrive");
        String text = new String(d.content(), 0, 4096, StandardCharsets.US_ASCII);
        int received = receivedHeader(text).length();
        assertEquals(size, d.content().length - received);
        MessageDigest got = MessageDigest.getInstance("SHA-256");
        got.update(d.content(), received, d.content().length - received);
        assertArrayEquals(sent.digest(), got.digest(), "content differs");
        String stored = "size=" + (size + received);
        List<String> log = waitForLog(queueId, "removed");
        assertTrue(log.stream().anyMatch(l -> l.contains(stored)), log.toString());
    }

    /**
     * Event - one event as the subscriber received it: when, the JMS properties, the
     * CloudEvents document parsed back by JSON-P.
     */
    record Event(long received, String contentType, String ceId, String ceType, String status, String queueId,
                 JsonObject json) {
        JsonObject data() {
            return json.getJsonObject("data");
        }

        String recipient() {
            return data().getString("recipient");
        }
    }

    /** events - every event the subscriber has received so far. */
    static List<Event> events() throws Exception {
        Path file = Path.of(System.getProperty("it.server"), "data", EventProbe.FILE);
        List<Event> events = new ArrayList<>();
        if (!Files.exists(file)) {
            return events;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", 7);
            events.add(new Event(Long.parseLong(f[0]), f[1], f[2], f[3], f[4], f[5],
                    Json.createReader(new StringReader(f[6])).readObject()));
        }
        return events;
    }

    /** waitForEvents - the events of the queue id, once one of them matches. */
    static List<Event> waitForEvents(String queueId, Predicate<Event> wanted) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Event> mine;
        do {
            mine = events().stream().filter(e -> e.queueId().equals(queueId)).toList();
            if (mine.stream().anyMatch(wanted)) {
                return mine;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < end);
        throw new AssertionError("no such event of " + queueId + " in " + mine);
    }

    @Test
    void everyDeliveredDeferredBouncedAndExpiredRecipientIsPublishedOnTheEventsTopic() throws Exception {
        String queueId;
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<alice@events.test>");
            assertEquals("250 2.1.0 Ok", c.reply());
            for (String rcpt : List.of("bob@events.test", "dave@defer.test", "erin@reject.test")) {
                c.send("RCPT TO:<" + rcpt + ">" + (rcpt.startsWith("bob") ? " ORCPT=rfc822;Bob@Events.test" : ""));
                assertEquals("250 2.1.5 Ok", c.reply());
            }
            c.send("DATA");
            c.reply();
            c.send("Subject: events");
            c.send("Message-ID: <events@example.org>");
            c.send("");
            c.send("body");
            c.send(".");
            queueId = Postern.queueId(c.reply());
            c.send("QUIT");
            c.reply();
        }
        waitForEvents(queueId, e -> e.recipient().equals("dave@defer.test"));
        waitForEvents(queueId, e -> e.recipient().equals("erin@reject.test"));
        waitForEvents(queueId, e -> e.recipient().equals("bob@events.test"));
        // the recipient still deferred expires (postsuper -e): its next round returns it as expired
        Commands.Result expire = Commands.server(null, "postsuper", "-e", queueId);
        assertEquals(0, expire.status(), expire.toString());
        waitForEvents(queueId, e -> e.status().equals("expired"));
        List<String> log = waitForLog(queueId, "removed");
        // every round is recorded before "removed" is logged; its events are on the topic within moments
        List<Event> all = waitForEvents(queueId, e -> e.status().equals("expired"));

        Event delivered = only(all, "sent");
        assertEquals("org.postern.delivery.delivered", delivered.ceType());
        assertEquals("bob@events.test", delivered.recipient());
        assertEquals("Bob@Events.test", delivered.data().getString("original_recipient"));
        assertEquals("2.0.0", delivered.data().getString("dsn"));
        assertTrue(delivered.data().getString("reply").startsWith("250 2.0.0 Ok: queued as SINK"), delivered.toString());
        assertEquals("127.0.0.1[127.0.0.1]:12532", delivered.data().getString("relay"));

        Event bounced = only(all, "bounced");
        assertEquals("org.postern.delivery.bounced", bounced.ceType());
        assertEquals("erin@reject.test", bounced.recipient());
        assertEquals("5.1.1", bounced.data().getString("dsn"));
        assertTrue(bounced.data().getString("reply").contains("550 5.1.1 <erin@reject.test>: \"}, \"x\": unknown"),
                bounced.toString());

        Event deferred = all.stream().filter(e -> e.status().equals("deferred")).findFirst().orElseThrow();
        assertEquals("org.postern.delivery.deferred", deferred.ceType());
        assertEquals("dave@defer.test", deferred.recipient());
        assertEquals("4.2.2", deferred.data().getString("dsn"));
        assertTrue(deferred.data().getString("reply").contains("452 4.2.2 Mailbox full \"quoted\" \\ back\\slash"),
                deferred.toString());

        Event expired = only(all, "expired");
        assertEquals("org.postern.delivery.expired", expired.ceType());
        assertEquals("dave@defer.test", expired.recipient());
        assertTrue(expired.data().getString("dsn").startsWith("5."), expired.toString());
        assertTrue(expired.data().getString("reply").startsWith("message expired: "), expired.toString());

        Set<String> ids = new HashSet<>();
        for (Event e : all) {
            // CloudEvents attributes, structured mode, and the properties for selectors
            assertEquals("application/cloudevents+json; charset=UTF-8", e.contentType());
            assertEquals("1.0", e.json().getString("specversion"));
            assertEquals("postern://postern.test", e.json().getString("source"));
            assertEquals("application/json", e.json().getString("datacontenttype"));
            assertEquals(e.ceId(), e.json().getString("id"));
            assertEquals(e.ceType(), e.json().getString("type"));
            assertEquals(queueId, e.data().getString("queue_id"));
            assertEquals("<events@example.org>", e.data().getString("message_id"));
            assertEquals(e.status(), e.data().getString("status"));
            OffsetDateTime.parse(e.json().getString("time"));
            assertTrue(ids.add(e.ceId()), "an event published twice: " + e);
        }
        // one event per status line of the mail log, no more, no less
        for (String rcpt : List.of("bob@events.test", "dave@defer.test", "erin@reject.test")) {
            for (String status : List.of("sent", "deferred", "bounced", "expired")) {
                long logged = log.stream().filter(l -> l.contains("to=<" + rcpt + ">")
                        && l.contains("status=" + status + " ")).count();
                long published = all.stream().filter(e -> e.recipient().equals(rcpt) && e.status().equals(status)).count();
                assertEquals(logged, published, rcpt + " " + status + ": " + log + " " + all);
            }
        }
    }

    /**
     * an event whose row is in the database but not in the publisher's memory (lost with
     * a crash, or past a full hand-off: delivery_event_handoff_limit = 0 sends every event
     * this way) is published by the republisher, delivery_event_republish_time (2 s) after
     * its outcome
     */
    @Test
    void anEventLeftInTheDatabaseIsPublishedByTheRepublisher() throws Exception {
        Path mainCf = Path.of(System.getProperty("it.config"), "main.cf");
        String saved = Files.readString(mainCf);
        Path serverLog = Path.of(System.getProperty("it.server"), "log", "server.log");
        int before = Files.readAllLines(serverLog).size();
        try {
            Files.writeString(mainCf, saved + "\ndelivery_event_handoff_limit = 0\n");
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());

            String queueId = Postern.send("carol@events.test", "republished", "from the table");
            List<Event> events = waitForEvents(queueId, e -> e.status().equals("sent"));
            assertEquals(1, events.size(), events.toString());
            Event e = events.get(0);
            assertEquals("carol@events.test", e.recipient());
            long late = e.received() - Instant.parse(e.json().getString("time")).toEpochMilli();
            assertTrue(late >= 1900, "published " + late + " ms after the outcome: not by the republisher");
            // the republisher logs after its commit: wait for its line
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            List<String> lines;
            do {
                lines = Files.readAllLines(serverLog);
                lines = lines.subList(Math.min(before, lines.size()), lines.size());
                if (lines.stream().anyMatch(l -> l.contains("PSTN7103: "))) {
                    break;
                }
                Thread.sleep(200);
            } while (System.nanoTime() < end);
            assertTrue(lines.stream().anyMatch(l -> l.contains("PSTN7107: 1 delivery event(s) found the hand-off full")),
                    "the hand-off was not bypassed: " + lines);
            assertTrue(lines.stream().anyMatch(l -> l.contains("PSTN7103: 1 delivery event(s) left in the queue database")),
                    "no republish logged: " + lines);
        } finally {
            Files.writeString(mainCf, saved);
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), "restoring the configuration: " + r);
        }
    }

    private static Event only(List<Event> events, String status) {
        List<Event> those = events.stream().filter(e -> e.status().equals(status)).toList();
        assertEquals(1, those.size(), status + ": " + events);
        return those.get(0);
    }

    private static int indexOf(List<String> lines, String a, String b) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(a) && lines.get(i).contains(b)) {
                return i;
            }
        }
        return -1;
    }

    /** waitForLog - the log lines of the queue id, once one of them contains the text. */
    static List<String> waitForLog(String queueId, String word) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<String> lines;
        do {
            lines = Postern.logLines(queueId);
            if (lines.stream().anyMatch(l -> l.contains(word))) {
                return lines;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < end);
        throw new AssertionError("no '" + word + "' in the mail log for " + queueId + ": " + lines);
    }

    /** receivedHeader - the first header field (with its continuation lines) of the text. */
    static String receivedHeader(String text) {
        int end = 0;
        do {
            end = text.indexOf("\r\n", end) + 2;
        } while (text.charAt(end) == ' ' || text.charAt(end) == '\t');
        return text.substring(0, end);
    }

    /** stuff - dot-stuffing as a client does it (RFC 5321 4.5.2). */
    static String stuff(String message) {
        return message.replaceAll("(?m)^\\.", "..");
    }
}
