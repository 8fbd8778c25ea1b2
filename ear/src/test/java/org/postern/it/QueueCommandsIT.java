package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.PostfixInstance;

/**
 * QueueCommandsIT - the commands that the build installs in the server's bin/
 * (postqueue, postsuper, mailq), run as an administrator runs them on the server's host,
 * against the deployed EAR and real mail: deferred mail (etrn.test's server is down),
 * held mail, requeue, delete; and postqueue -p and -j and qshape compared with what
 * Postfix's own commands print for a deferred message of a private Postfix instance.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class QueueCommandsIT {
    /** a message line of the long-id listing: id, marker, size, arrival time, sender */
    private static final Pattern MESSAGE = Pattern.compile(
            "^([0-9A-Za-z]+)([*!]?) +(\\d+) (\\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d) (.*)$");
    private static final Pattern FOOTER = Pattern.compile("^-- \\d+ Kbytes in \\d+ Requests?\\.$");

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @Test
    void postqueueListsDeferredAndHeldMailAndPostsuperHoldsReleasesAndDeletes() throws Exception {
        String a = send("first@etrn.test");
        String b = send("second@etrn.test");
        DeliveryIT.waitForLog(a, "status=deferred");
        DeliveryIT.waitForLog(b, "status=deferred");

        Commands.Result hold = run(null, "postsuper", "-h", b);
        assertEquals(0, hold.status(), hold.toString());
        assertEquals("postsuper: " + b + ": placed on hold\npostsuper: Placed on hold: 1 message\n", hold.err(),
                hold.toString());
        assertTrue(waitForLine(b + ": placed on hold").contains("postern/postsuper["));

        Commands.Result p = run(null, "postqueue", "-p");
        assertEquals(0, p.status(), p.toString());
        List<String> lines = p.out().lines().toList();
        assertEquals("----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------", lines.get(0));
        assertTrue(FOOTER.matcher(lines.get(lines.size() - 1)).matches(), p.out());
        assertEquals("", lines.get(lines.size() - 2), p.out());
        List<String> blockA = block(lines, a);
        List<String> blockB = block(lines, b);
        Matcher ma = MESSAGE.matcher(blockA.get(0));
        assertTrue(ma.matches(), blockA.toString());
        assertFalse(ma.group(2).equals("!"), "a deferred message is not marked held: " + blockA);
        assertEquals("sender@example.org", ma.group(5));
        // the reason right-aligned to column 77 in parentheses, then the recipient in the fourth column
        assertTrue(blockA.get(1).matches(" *\\(.*Connection refused.*\\)") && (blockA.get(1).length() == 78
                || !blockA.get(1).startsWith(" ")), blockA.toString());
        assertEquals(" ".repeat(47) + "first@etrn.test", blockA.get(2));
        Matcher mb = MESSAGE.matcher(blockB.get(0));
        assertTrue(mb.matches(), blockB.toString());
        assertEquals("!", mb.group(2), "a held message is marked with !: " + blockB);

        // a deferred message is in the active queue for the moments of each retry (every 2-4 s here)
        Commands.Result j;
        String ja;
        int tries = 0;
        do {
            j = run(null, "postqueue", "-j");
            assertEquals(0, j.status(), j.toString());
            ja = j.out().lines().filter(l -> l.contains("\"queue_id\": \"" + a + "\"")).findFirst().orElseThrow();
        } while (ja.contains("\"queue_name\": \"active\"") && ++tries < 20);
        assertTrue(ja.matches("\\{\"queue_name\": \"deferred\", \"queue_id\": \"" + a + "\", \"arrival_time\": \\d+, "
                + "\"message_size\": \\d+, \"forced_expire\": false, \"sender\": \"sender@example.org\", "
                + "\"recipients\": \\[\\{\"address\": \"first@etrn.test\", \"delay_reason\": \".*Connection refused.*\"\\}\\]\\}"),
                ja);
        assertTrue(j.out().contains("{\"queue_name\": \"hold\", \"queue_id\": \"" + b + "\""), j.out());

        Commands.Result release = run(null, "postsuper", "-H", b);
        assertEquals("postsuper: " + b + ": released from hold\npostsuper: Released from hold: 1 message\n",
                release.err(), release.toString());
        waitForLine(b + ": released from hold");

        // ids on standard input, as in: mailq | awk ... | postsuper -d -
        Commands.Result delete = run(a + "\n" + b + "\n", "postsuper", "-d", "-");
        assertEquals(0, delete.status(), delete.toString());
        assertEquals("postsuper: " + a + ": removed\npostsuper: " + b + ": removed\npostsuper: Deleted: 2 messages\n",
                delete.err(), delete.toString());
        waitForLine(a + ": removed");
        waitForLine(b + ": removed");
        Commands.Result after = run(null, "mailq");
        assertFalse(after.out().contains(a) || after.out().contains(b), after.out());
        assertEquals(0, run(null, "postsuper", "-d", a).err().length(), "nothing to delete, nothing said");
    }

    @Test
    void requeueDeliversHeldMailAndPostqueueIDeliversWhatDeferTransportsHoldsBack() throws Exception {
        String held = send("third@etrn.test");
        DeliveryIT.waitForLog(held, "status=deferred");
        assertEquals("postsuper: " + held + ": placed on hold\npostsuper: Placed on hold: 1 message\n",
                run(null, "postsuper", "-h", held).err());
        try (TestSink customer = TestSink.smtp(12529)) {
            // held mail waits, whatever the backoff (2s here)
            assertNull(customer.nextWith(held, 6), "held mail was delivered");
            Commands.Result r = run(null, "postsuper", "-r", held);
            assertEquals("postsuper: " + held + ": requeued\npostsuper: Requeued: 1 message\n", r.err(), r.toString());
            assertNotNull(customer.nextWith(held, 30), "requeued mail did not arrive");
            DeliveryIT.waitForLog(held, "removed");
        }
        // later.test goes through the etrn-only transport (defer_transports): only a flush moves it
        String later = send("user@later.test");
        DeliveryIT.waitForLog(later, "status=deferred");
        try (TestSink customer = TestSink.smtp(12530)) {
            assertNull(customer.nextWith(later, 4), "etrn-only mail moved on its own");
            Commands.Result i = run(null, "postqueue", "-i", later);
            assertEquals(0, i.status(), i.toString());
            assertNotNull(customer.nextWith(later, 30), "postqueue -i did not deliver");
        }
    }

    @Test
    void usageErrorsAndUnknownIdsGetPostfixsExitStatuses() throws Exception {
        Commands.Result none = run(null, "postqueue");
        assertEquals(64, none.status(), none.toString());
        assertTrue(none.err().startsWith("postqueue: fatal: usage: postqueue -f"), none.err());
        Commands.Result bad = run(null, "postsuper", "-d", "nonsense");
        assertEquals(0, bad.status(), bad.toString());
        assertEquals("postsuper: warning: invalid mail queue id: nonsense\n", bad.err());
        Commands.Result queue = run(null, "postsuper", "-d", "ALL", "nosuchqueue");
        assertEquals(1, queue.status(), queue.toString());
        assertEquals("postsuper: fatal: invalid directory name: nosuchqueue\n", queue.err());
        Commands.Result site = run(null, "postqueue", "-s", "not.a.customer.example");
        assertEquals(69, site.status(), site.toString());
        Commands.Result status = run(null, "postfix", "status");
        assertEquals(0, status.status(), status.toString());
        assertTrue(status.err().matches("postfix/postfix-script: the Postern mail system is running: PID: \\d+\n"),
                status.err());
        assertEquals(1, runAt("127.0.0.1:1", null, "postfix", "status").status());
        Commands.Result down = runAt("127.0.0.1:1", null, "postqueue", "-p");
        assertEquals(69, down.status(), down.toString());
        assertTrue(down.err().startsWith("postqueue: fatal: Cannot connect to Postern at 127.0.0.1:1"), down.err());
    }

    @Test
    void theListingHasPostfixsColumnsAndFields(@TempDir Path dir) throws Exception {
        PostfixInstance.assumeAvailable();
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        int port = PostfixInstance.freePort();
        int dead = PostfixInstance.freePort();
        String postfixOut;
        String postfixJson;
        String postfixShape;
        String postfixHold;
        String postfixRelease;
        String postfixExpire;
        String postfixExpired;
        String postfixExpiredJson;
        String postfixExpireLog;
        try (PostfixInstance postfix = PostfixInstance.start(dir, List.of("enable_long_queue_ids = yes",
                "relayhost = [127.0.0.1]:" + dead, "myhostname = postfix.example"),
                List.of("127.0.0.1:" + port + " inet n - n - - smtpd"))) {
            try (SmtpClient c = new SmtpClient("127.0.0.1", port)) {
                sendOn(c, "fourth@etrn.test");
            }
            String log = postfix.awaitLog("status=deferred", java.time.Duration.ofSeconds(60));
            assertTrue(log.contains("status=deferred"), log);
            postfixOut = exec(List.of("/usr/sbin/postqueue", "-c", dir.resolve("conf").toString(), "-p"), null).out();
            postfixJson = exec(List.of("/usr/sbin/postqueue", "-c", dir.resolve("conf").toString(), "-j"), null).out();
            postfixShape = exec(List.of("/usr/sbin/qshape", "-c", dir.resolve("conf").toString(), "deferred"), null).out();
            // postsuper -e on Postfix's deferred message: what it reports and how the listing marks it
            String theirId = postfixOut.lines().skip(1).findFirst().orElseThrow().split("\\s+")[0];
            String conf = dir.resolve("conf").toString();
            Commands.Result h = exec(List.of("/usr/sbin/postsuper", "-c", conf, "-h", theirId), null);
            postfixHold = (h.status() + " " + h.err()).replace(theirId, "ID");
            Commands.Result r = exec(List.of("/usr/sbin/postsuper", "-c", conf, "-H", theirId), null);
            postfixRelease = (r.status() + " " + r.err()).replace(theirId, "ID");
            Commands.Result e = exec(List.of("/usr/sbin/postsuper", "-c", conf, "-e", theirId), null);
            postfixExpire = (e.status() + " " + e.err()).replace(theirId, "ID");
            postfixExpired = exec(List.of("/usr/sbin/postqueue", "-c", dir.resolve("conf").toString(), "-p"), null).out();
            postfixExpiredJson = exec(List.of("/usr/sbin/postqueue", "-c", dir.resolve("conf").toString(), "-j"), null).out();
            postfixExpireLog = postfix.awaitLog(theirId + ": expired", java.time.Duration.ofSeconds(10));
            assertTrue(postfixExpired.contains(theirId + "#"), "Postfix marks a forced-expired message with #: " + postfixExpired);
            assertTrue(postfixExpiredJson.contains("\"forced_expire\": true"), postfixExpiredJson);
            assertTrue(postfixExpireLog.contains("postsuper[") && postfixExpireLog.contains(theirId + ": expired"),
                    postfixExpireLog);
        }
        String id = send("fourth@etrn.test");
        DeliveryIT.waitForLog(id, "status=deferred");
        // the message is retried every few seconds (minimal_backoff_time = 2s) and is in the
        // active queue meanwhile: take the three listings while it is deferred in all of them
        String ours = null;
        String oursJson = null;
        String shape = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            ours = run(null, "postqueue", "-p").out();
            oursJson = run(null, "postqueue", "-j").out().lines().filter(l -> l.contains(id)).findFirst().orElse(null);
            shape = run(null, "qshape", "deferred").out();
            if (ours.contains(id) && oursJson != null
                    && shape.lines().anyMatch(l -> l.trim().startsWith("etrn.test "))) {
                break;
            }
            Thread.sleep(300);
        }
        assertTrue(oursJson != null && ours.contains(id), "the deferred message in the listings: " + ours);

        List<String> theirs = postfixOut.lines().toList();
        List<String> mine = ours.lines().toList();
        assertEquals(theirs.get(0), mine.get(0), "heading");
        assertTrue(FOOTER.matcher(theirs.get(theirs.size() - 1)).matches(), postfixOut);
        assertEquals(theirs.get(theirs.size() - 2), mine.get(mine.size() - 2), "blank line before the footer");
        // Postfix's one deferred message against ours: the same columns
        List<String> pb = theirs.subList(1, 4);
        List<String> ob = block(mine, id);
        Matcher pm = MESSAGE.matcher(pb.get(0));
        Matcher om = MESSAGE.matcher(ob.get(0));
        assertTrue(pm.matches() && om.matches(), pb + " / " + ob);
        assertEquals(pm.start(3) + pm.group(3).length(), om.start(3) + om.group(3).length(), "size column " + pb + ob);
        assertEquals(pm.start(4), om.start(4), "arrival column " + pb + ob);
        assertEquals(pm.start(5), om.start(5), "sender column " + pb + ob);
        assertEquals(pb.get(1).length() == 78 || !pb.get(1).startsWith(" "), ob.get(1).length() == 78
                || !ob.get(1).startsWith(" "), "reason right-aligned at column 77: " + pb + ob);
        assertTrue(pb.get(1).trim().startsWith("(") && ob.get(1).trim().startsWith("("), pb + " / " + ob);
        assertEquals(pb.get(2).indexOf('f'), ob.get(2).indexOf('f'), "recipient column " + pb + ob);
        assertEquals(pb.get(2).trim(), ob.get(2).trim());
        // -j: the same fields in the same order
        assertEquals(keys(postfixJson.lines().findFirst().orElseThrow()), keys(oursJson), postfixJson + oursJson);
        // qshape: the same heading (bucket limits and widths) and the domain right-aligned in the same column
        List<String> ps = postfixShape.lines().toList();
        List<String> os = shape.lines().toList();
        assertEquals(ps.get(0), os.get(0), postfixShape + "\n" + shape);
        String theirLine = ps.stream().filter(l -> l.trim().startsWith("etrn.test ")).findFirst().orElseThrow();
        String ourLine = os.stream().filter(l -> l.trim().startsWith("etrn.test ")).findFirst().orElseThrow();
        assertEquals(theirLine.indexOf("etrn.test"), ourLine.indexOf("etrn.test"), postfixShape + "\n" + shape);
        assertTrue(ourLine.matches(" +etrn\\.test +[1-9]\\d* +[1-9]\\d*( +0)+"), "a new message is in the first bucket: " + shape);
        assertEquals(0, run(id + "\n", "postsuper", "-d", "-").status());

        // postsuper -e: the same report as Postfix's, the same mail log line, and at the next
        // delivery round the message is returned to its sender instead of being delivered
        String expired = send("fifth@etrn.test");
        DeliveryIT.waitForLog(expired, "status=deferred");
        // -h and -H first (the message waits in the hold queue between them): what Postfix prints
        Commands.Result h = run(null, "postsuper", "-h", expired);
        assertEquals(postfixHold, (h.status() + " " + h.err()).replace(expired, "ID"));
        Commands.Result r = run(null, "postsuper", "-H", expired);
        assertEquals(postfixRelease, (r.status() + " " + r.err()).replace(expired, "ID"));
        Commands.Result e = run(null, "postsuper", "-e", expired);
        assertEquals(postfixExpire, (e.status() + " " + e.err()).replace(expired, "ID"));
        assertTrue(waitForLine(expired + ": expired").contains("postern/postsuper["), "mail log");
        String bounced = DeliveryIT.waitForLog(expired, "status=expired").stream()
                .filter(l -> l.contains("status=expired")).findFirst().orElseThrow();
        assertTrue(bounced.contains(expired + ": to=<fifth@etrn.test>, relay=none,")
                && bounced.contains("dsn=5.7.0, status=expired (message expired: message is administratively expired)"),
                bounced);
        String notice = waitForLine(expired + ": sender non-delivery notification: ");
        String noticeId = notice.substring(notice.lastIndexOf(' ') + 1);
        assertTrue(waitForLine(expired + ": removed").contains("postern/qmgr["));
        assertEquals(0, run(noticeId + "\n", "postsuper", "-d", "-").status());
    }

    /** keys - the JSON field names of a line, in order. */
    private static List<String> keys(String json) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"(\\w+)\": ").matcher(json);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** block - the lines of the message's block in a -p listing (up to the blank line). */
    private static List<String> block(List<String> lines, String queueId) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(queueId)) {
                int end = i;
                while (end < lines.size() && !lines.get(end).isEmpty()) {
                    end++;
                }
                return lines.subList(i, end);
            }
        }
        throw new AssertionError(queueId + " is not listed:\n" + String.join("\n", lines));
    }

    /** waitForLine - the first mail log line that contains the text, waiting up to 30 s. */
    private static String waitForLine(String text) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            Path log = Postern.mailLog();
            if (Files.exists(log)) {
                for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (l.contains(text)) {
                        return l;
                    }
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no mail log line with: " + text);
    }

    /** run - one of the server's commands against the test server's management port. */
    private static Commands.Result run(String stdin, String... command) throws Exception {
        return Commands.server(stdin, command[0], java.util.Arrays.copyOfRange(command, 1, command.length));
    }

    private static Commands.Result runAt(String management, String stdin, String... command) throws Exception {
        return Commands.at(management, stdin, command[0], java.util.Arrays.copyOfRange(command, 1, command.length));
    }

    private static Commands.Result exec(List<String> command, String stdin) throws Exception {
        return Commands.run(java.util.Map.of(), stdin, command);
    }

    /** send - one message to the recipient through Postern; its queue id. */
    private static String send(String rcpt) throws Exception {
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            return Postern.queueId(sendOn(c, rcpt));
        }
    }

    /** sendOn - one message in the session; the reply to the final dot. */
    private static String sendOn(SmtpClient c, String rcpt) throws Exception {
        c.reply();
        c.send("EHLO client.example.org");
        c.reply();
        c.send("MAIL FROM:<sender@example.org>");
        assertTrue(c.reply().startsWith("250"));
        c.send("RCPT TO:<" + rcpt + ">");
        String r = c.reply();
        assertTrue(r.startsWith("250"), r);
        c.send("DATA");
        c.reply();
        c.send("Subject: for " + rcpt);
        c.send("");
        c.send("queued for the commands");
        c.send(".");
        String queued = c.reply();
        c.send("QUIT");
        c.reply();
        return queued;
    }
}
