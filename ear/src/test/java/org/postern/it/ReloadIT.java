package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ReloadIT - postfix reload against the deployed server: main.cf edited with postconf -e
 * applies to the sessions that start after the reload and not to the open ones; a
 * master.cf service added is listening after the reload and one removed is closed while
 * its open session finishes; a main.cf or master.cf the server cannot use is refused with
 * the file, line and reason while the running configuration keeps serving; the same
 * through a remote JMX client (a JVM of its own with WildFly's client jar, as jconsole)
 * and through the JSON API with its roles. Every test puts main.cf and master.cf back and
 * reloads.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class ReloadIT {
    private static final String BASE = "http://127.0.0.1:8180/postern";
    private static final String VIEWER = "it-viewer:Viewer-Pass-1";
    private static final String OPERATOR = "it-operator:Operator-Pass-1";
    private static final String ADMIN = "it-admin:Admin-Pass-1";
    /** a port of no other test: the service a reload adds */
    private static final int EXTRA_PORT = 12541;

    private final Path config = Path.of(System.getProperty("it.config"));
    private String mainCf;
    private String masterCf;

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @BeforeEach
    void keep() throws Exception {
        mainCf = Files.readString(config.resolve("main.cf"));
        masterCf = Files.readString(config.resolve("master.cf"));
    }

    @AfterEach
    void restore() throws Exception {
        Files.writeString(config.resolve("main.cf"), mainCf);
        Files.writeString(config.resolve("master.cf"), masterCf);
        Commands.Result r = Commands.server(null, "postfix", "reload");
        assertEquals(0, r.status(), "restoring the configuration: " + r);
    }

    @Test
    void mainCfChangesApplyToTheSessionsAfterTheReload() throws Exception {
        try (SmtpClient before = new SmtpClient(Postern.HOST, Postern.PORT)) {
            assertTrue(before.reply().startsWith("220 postern.test ESMTP"));
            Commands.Result e = postconf("-e", "smtpd_banner = $myhostname ESMTP reloaded", "message_size_limit = 1234567");
            assertEquals(0, e.status(), e.toString());

            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
            assertTrue(r.err().contains("postfix/postfix-script: refreshing the Postern mail system"), r.err());
            assertTrue(r.err().contains("main.cf: message_size_limit: \"60000000\" -> \"1234567\""), r.err());

            try (SmtpClient after = new SmtpClient(Postern.HOST, Postern.PORT)) {
                assertEquals("220 postern.test ESMTP reloaded", after.reply());
                after.send("EHLO client.example.org");
                assertTrue(after.reply().contains("250-SIZE 1234567"), "the new session has the new limit");
                after.send("MAIL FROM:<a@example.org> SIZE=2000000");
                assertTrue(after.reply().startsWith("552 5.3.4"), "the new limit is enforced");
            }
            // the session that was open keeps the configuration it started with
            before.send("EHLO client.example.org");
            assertTrue(before.reply().contains("250-SIZE 60000000"), "the open session kept its limit");
        }
        assertTrue(Files.readAllLines(Postern.mailLog()).stream()
                .anyMatch(l -> l.matches(".* postern/master\\[\\d+\\]: reload -- version \\S+, configuration .*")),
                "postern/master: reload -- in the mail log");
    }

    /**
     * syslog_name: postconf -e syslog_name=postern-test and a reload rename the lines of the
     * daemons (postern-test/smtpd, postern-test/qmgr...); postconf -X and a reload give them
     * the default postern/ back.
     */
    @Test
    void syslogNameRenamesTheMailLogLinesAfterAReload() throws Exception {
        try (TestSink sink = TestSink.smtp(12526)) {
            Commands.Result e = postconf("-e", "syslog_name=postern-test");
            assertEquals(0, e.status(), e.toString());
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());

            String queueId = Postern.send("bob@smtp.test", "renamed", "logged as postern-test");
            List<String> log = DeliveryIT.waitForLog(queueId, "removed");
            for (String daemon : List.of("smtpd", "cleanup", "qmgr", "smtp")) {
                assertTrue(log.stream().anyMatch(l -> l.contains(" postern-test/" + daemon + "[")),
                        "postern-test/" + daemon + " lines for " + queueId + ": " + log);
            }
            assertTrue(log.stream().noneMatch(l -> l.contains(" postern/")), log.toString());
            assertTrue(log.stream().anyMatch(l -> l.matches(".* postern-test/qmgr\\[\\d+\\]: " + queueId
                    + ": removed")), log.toString());
            assertTrue(Files.readAllLines(Postern.mailLog()).stream().anyMatch(l ->
                    l.matches(".* postern-test/master\\[\\d+\\]: reload -- version \\S+, configuration .*")),
                    "postern-test/master: reload -- in the mail log");

            Commands.Result x = postconf("-X", "syslog_name");
            assertEquals(0, x.status(), x.toString());
            r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
            String again = Postern.send("bob@smtp.test", "default", "logged as postern");
            List<String> back = DeliveryIT.waitForLog(again, "removed");
            assertTrue(back.stream().anyMatch(l -> l.contains(" postern/smtpd[")), back.toString());
            assertTrue(back.stream().anyMatch(l -> l.matches(".* postern/qmgr\\[\\d+\\]: " + again + ": removed")),
                    back.toString());
            assertTrue(back.stream().noneMatch(l -> l.contains("postern-test/")), back.toString());
        }
    }

    @Test
    void masterCfServicesAreBoundAndClosedByAReload() throws Exception {
        Files.writeString(config.resolve("master.cf"), masterCf
                + "127.0.0.1:" + EXTRA_PORT + " inet n - n - - smtpd -o smtpd_banner=extra-service\n");
        Commands.Result r = Commands.server(null, "postfix", "reload");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().contains("127.0.0.1:" + EXTRA_PORT + ": listening on 127.0.0.1:" + EXTRA_PORT), r.err());

        try (SmtpClient open = new SmtpClient(Postern.HOST, EXTRA_PORT)) {
            assertEquals("220 extra-service", open.reply());
            Files.writeString(config.resolve("master.cf"), masterCf);
            r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
            assertTrue(r.err().contains("127.0.0.1:" + EXTRA_PORT + ": closed 127.0.0.1:" + EXTRA_PORT
                    + "; 1 sessions finish"), r.err());
            assertThrows(ConnectException.class, () -> new SmtpClient(Postern.HOST, EXTRA_PORT).close());
            // the open session of the removed service goes on to its end
            open.send("NOOP");
            assertEquals("250 2.0.0 Ok", open.reply());
            open.send("QUIT");
            assertTrue(open.reply().startsWith("221"));
        }
        try (SmtpClient main = new SmtpClient(Postern.HOST, Postern.PORT)) {
            assertTrue(main.reply().startsWith("220 postern.test"), "the service that stayed still serves");
        }
    }

    @Test
    void smtpEnforceTlsKeepsMailOutOfTheClearOnTheServer() throws Exception {
        // the Postfix 2.2 names with an empty smtp_tls_security_level; the sink offers no STARTTLS
        try (TestSink sink = TestSink.smtp(12526)) {
            Commands.Result e = postconf("-e", "smtp_enforce_tls = yes", "smtp_tls_enforce_peername = no");
            assertEquals(0, e.status(), e.toString());
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
            assertFalse(r.err().contains("not supported"), r.err());
            String queueId = Postern.send("bob@smtp.test", "enforced", "never in the clear");
            List<String> log = DeliveryIT.waitForLog(queueId, "status=deferred");
            assertTrue(log.stream().anyMatch(l -> l.contains("to=<bob@smtp.test>") && l.contains("dsn=4.7.4, "
                    + "status=deferred (TLS is required, but was not offered by host 127.0.0.1[127.0.0.1])")),
                    log.toString());
            assertNull(sink.nextWith(queueId, 3), "the message did not reach the sink");
            Commands.Result d = Commands.server(null, "postsuper", "-d", queueId);
            assertEquals(0, d.status(), d.toString());
        }
    }

    @Test
    void notifyClassesProtocolSendsThePostmasterTheClientsTranscript() throws Exception {
        // the sink answers the first end of data with 354: an unexpected reply, Postfix's protocol error class
        try (TestSink sink = new TestSink(12526, false, n -> n == 1 ? "354 4.0.0 not what you expected" : "250 2.0.0 Ok")) {
            Commands.Result e = postconf("-e", "notify_classes = resource, software, protocol",
                    "error_notice_recipient = notices@smtp.test");
            assertEquals(0, e.status(), e.toString());
            assertEquals(0, Commands.server(null, "postfix", "reload").status());
            String queueId = Postern.send("bob@smtp.test", "protocol notice", "a reply out of place");
            DeliveryIT.waitForLog(queueId, "postmaster protocol notification");
            List<String> log = DeliveryIT.waitForLog(queueId, "status=deferred");
            assertTrue(log.stream().anyMatch(l -> l.contains("to=<bob@smtp.test>") && l.contains("status=deferred")
                    && l.contains("354 4.0.0 not what you expected (in reply to end of DATA command)")), log.toString());
            TestSink.Delivery notice = null;
            for (int i = 0; i < 5 && notice == null; i++) {
                TestSink.Delivery d = sink.next(20, java.util.concurrent.TimeUnit.SECONDS);
                if (d != null && d.text().contains("SMTP client: errors from")) {
                    notice = d;
                }
            }
            assertNotNull(notice, "the postmaster's notice reached notices@smtp.test");
            String text = notice.text();
            assertEquals(List.of("<notices@smtp.test>"), notice.rcptTo());
            assertTrue(text.contains("Subject: Postern SMTP client: errors from 127.0.0.1[127.0.0.1]:12526"), text);
            assertTrue(text.contains("Unexpected response from 127.0.0.1[127.0.0.1]:12526.\r\n"), text);
            assertTrue(text.contains(" In:  220 sink.test ESMTP test sink\r\n"), text);
            assertTrue(text.contains(" Out: MAIL FROM:<sender@example.org>"), text);
            assertTrue(text.contains(" Out: RCPT TO:<bob@smtp.test>"), text);
            assertTrue(text.contains(" In:  354 4.0.0 not what you expected\r\n"), text);
            assertFalse(text.contains("a reply out of place"), "the transcript has no message content");
            Commands.server(null, "postsuper", "-d", queueId);
        }
    }

    @Test
    void aConfigurationTheServerCannotUseIsRefusedAndTheRunningOneStays() throws Exception {
        // main.cf that does not parse
        Files.writeString(config.resolve("main.cf"), mainCf + "message_size_limit = lots\n");
        Commands.Result r = Commands.server(null, "postfix", "reload");
        assertEquals(1, r.status(), r.toString());
        int line = (int) mainCf.lines().count() + 1;
        assertTrue(r.err().startsWith("postfix: fatal: " + config.resolve("main.cf") + ", line " + line
                + ": bad numerical configuration: message_size_limit = lots"), r.err());
        assertStillServing();

        // a certificate that is not there, for the main smtpd service
        Files.writeString(config.resolve("main.cf"), mainCf
                + "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /nonexistent/cert.pem\n");
        r = Commands.server(null, "postfix", "reload");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("smtpd_tls_cert_file") && r.err().contains("/nonexistent/cert.pem"), r.err());
        assertStillServing();

        // a client certificate that is not there: the SMTP client's keys are checked by the reload too
        Files.writeString(config.resolve("main.cf"), mainCf + "smtp_tls_cert_file = /nonexistent/client.pem\n");
        r = Commands.server(null, "postfix", "reload");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains(config.resolve("main.cf") + ", line " + line
                + ": smtp_tls_cert_file: cannot read /nonexistent/client.pem"), r.err());
        assertStillServing();

        // a new service on a port that is taken (the management interface): nothing changes
        Files.writeString(config.resolve("main.cf"), mainCf + "smtpd_banner = $myhostname ESMTP not-applied\n");
        Files.writeString(config.resolve("master.cf"), masterCf
                + "127.0.0.1:" + EXTRA_PORT + " inet n - n - - smtpd\n127.0.0.1:10090 inet n - n - - smtpd\n");
        r = Commands.server(null, "postfix", "reload");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("cannot listen on 127.0.0.1:10090"), r.err());
        assertThrows(ConnectException.class, () -> new SmtpClient(Postern.HOST, EXTRA_PORT).close(),
                "the other new service was closed again");
        assertStillServing();

        // postfix check says the same as the reload about main.cf
        Files.writeString(config.resolve("master.cf"), masterCf);
        Files.writeString(config.resolve("main.cf"), mainCf + "message_size_limit = lots\n");
        Commands.Result check = Commands.run(Map.of("POSTERN_CONFIG_DIR", config.toString()), null,
                List.of(Commands.bin("postfix"), "check"));
        assertEquals(1, check.status(), check.toString());
    }

    private static void assertStillServing() throws Exception {
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            assertTrue(c.reply().startsWith("220 postern.test ESMTP Postern"), "the running configuration stays");
            c.send("EHLO client.example.org");
            assertTrue(c.reply().contains("250-SIZE 60000000"));
        }
    }

    @Test
    void aRemoteJmxClientReadsAndChangesTheServer() throws Exception {
        // a reject that the smtpd MBean counts: a user that hosted.test's table does not list
        String reply = Postern.rcptReply("a@example.org", "nobody@hosted.test");
        assertTrue(reply.startsWith("550 5.1.1"), reply);
        Map<String, String> got = jmx(
                "get:org.postern:type=Smtpd:Services",
                "get:org.postern:type=Smtpd:Rejects",
                "call:org.postern:type=Configuration:get:myhostname",
                "call:org.postern:type=Configuration:set:smtpd_banner:$myhostname ESMTP via-jmx",
                "call:org.postern:type=Configuration:set:message_size_limit:lots",
                "get:org.postern:type=Configuration:Parameters",
                "get:org.postern:type=Delivery:DeadDestinations",
                "call:org.postern:type=Configuration:reload");
        String services = got.get("get:org.postern:type=Smtpd:Services");
        assertTrue(services.contains("name=127.0.0.1:12525") && services.contains("listening=127.0.0.1:12525")
                && services.contains("name=127.0.0.1:12587"), services);
        String rejects = got.get("get:org.postern:type=Smtpd:Rejects");
        assertTrue(rejects.matches(".*reject_unlisted_recipient=[1-9]\\d*.*"), rejects);
        assertEquals("postern.test", got.get("call:org.postern:type=Configuration:get:myhostname"));
        assertTrue(got.get("call:org.postern:type=Configuration:set:smtpd_banner:$myhostname ESMTP via-jmx")
                .contains("main.cf: smtpd_banner set to"), got.toString());
        String refused = got.get("call:org.postern:type=Configuration:set:message_size_limit:lots");
        assertTrue(refused.startsWith("!java.lang.IllegalArgumentException: ") && refused.contains("main.cf, line")
                && refused.contains("is unchanged"), refused);
        assertTrue(got.get("get:org.postern:type=Configuration:Parameters").contains("message_size_limit=60000000"));
        assertEquals("", got.get("get:org.postern:type=Delivery:DeadDestinations"));
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            assertEquals("220 postern.test ESMTP via-jmx", c.reply());
        }
        assertTrue(Files.readString(config.resolve("main.cf")).contains("smtpd_banner = $myhostname ESMTP via-jmx"));
    }

    /** jmx - JmxProbe in a JVM of its own, as jconsole would connect; its answers by argument. */
    private static Map<String, String> jmx(String... requests) throws Exception {
        Path client = Path.of(System.getProperty("jboss.home"), "bin", "client", "jboss-cli-client.jar");
        Path classes = Path.of(JmxProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", client + ":" + classes, JmxProbe.class.getName(), Commands.MANAGEMENT));
        cmd.addAll(List.of(requests));
        Commands.Result r = Commands.run(Map.of(), null, cmd);
        assertEquals(0, r.status(), r.toString());
        Map<String, String> out = new LinkedHashMap<>();
        for (String l : r.out().lines().toList()) {
            for (String q : requests) {
                if (l.startsWith(q + "=")) {
                    out.put(q, l.substring(q.length() + 1));
                }
            }
        }
        assertEquals(requests.length, out.size(), r.toString());
        return out;
    }

    @Test
    void theJsonApiReloadsAndSetsForAnAdministratorOnly() throws Exception {
        HttpResponse<String> cfg = request("GET", "/api/server/config", VIEWER, null);
        assertEquals(200, cfg.statusCode(), cfg.body());
        assertTrue(cfg.body().contains("\"myhostname\":\"postern.test\""), cfg.body());
        HttpResponse<String> smtpd = request("GET", "/api/server/smtpd", VIEWER, null);
        assertTrue(smtpd.body().contains("\"name\":\"127.0.0.1:12525\""), smtpd.body());
        assertEquals(200, request("GET", "/api/server/delivery", VIEWER, null).statusCode());

        assertEquals(403, request("POST", "/api/server/reload", VIEWER, "{}").statusCode());
        assertEquals(403, request("POST", "/api/server/reload", OPERATOR, "{}").statusCode());
        String set = "{\"set\":{\"smtpd_banner\":\"$myhostname ESMTP via-api\"}}";
        assertEquals(403, request("POST", "/api/server/config", OPERATOR, set).statusCode());
        assertEquals(415, request("POST", "/api/server/reload", ADMIN, null).statusCode());

        HttpResponse<String> ok = request("POST", "/api/server/config", ADMIN, set);
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("main.cf: smtpd_banner set to"), ok.body());
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            assertEquals("220 postern.test ESMTP via-api", c.reply());
        }
        String before = Files.readString(config.resolve("main.cf"));
        HttpResponse<String> bad = request("POST", "/api/server/config", ADMIN,
                "{\"set\":{\"smtpd_tls_security_level\":\"may\",\"smtpd_tls_cert_file\":\"/nonexistent/cert.pem\"}}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("/nonexistent/cert.pem") && bad.body().contains("is unchanged"), bad.body());
        assertEquals(before, Files.readString(config.resolve("main.cf")), "main.cf keeps its text");

        HttpResponse<String> reload = request("POST", "/api/server/reload", ADMIN, "{}");
        assertEquals(200, reload.statusCode(), reload.body());
        assertTrue(reload.body().contains("127.0.0.1:12525: new sessions use the new settings"), reload.body());
        assertTrue(Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"))
                .contains("PSTN6101: audit: user=it-admin action=reload"), "the audit log has the reload");
    }

    @Test
    void anAccessTableEditedThroughTheApiTakesEffectAndABadOneIsRefused() throws Exception {
        Path table = config.resolve("sender_access");
        Path clients = config.resolve("client_access");
        Files.writeString(table, "# senders refused here\n");
        Files.writeString(clients, "192.0.2.0/24 REJECT\n");
        try {
            Commands.Result e = postconf("-e", "smtpd_sender_restrictions = check_sender_access texthash:" + table,
                    "smtpd_client_restrictions = check_client_access cidr:" + clients);
            assertEquals(0, e.status(), e.toString());
            assertEquals(0, Commands.server(null, "postfix", "reload").status());

            HttpResponse<String> list = request("GET", "/api/server/tables", VIEWER, null);
            assertTrue(list.body().contains("{\"file\":\"" + table + "\",\"type\":\"texthash\","
                    + "\"parameters\":[\"smtpd_sender_restrictions\"]}"), list.body());
            assertEquals("# senders refused here\n",
                    request("GET", "/api/server/tables/content?file=" + table, VIEWER, null).body());
            assertEquals(400, request("GET", "/api/server/tables/content?file=/etc/passwd", VIEWER, null).statusCode(),
                    "only tables main.cf names");
            String body = "{\"file\":\"" + table + "\",\"text\":\"blocked@example.org REJECT blocked by the table\"}";
            assertEquals(403, request("POST", "/api/server/tables", OPERATOR, body).statusCode());
            HttpResponse<String> ok = request("POST", "/api/server/tables", ADMIN, body);
            assertEquals(200, ok.statusCode(), ok.body());
            String reply = Postern.rcptReply("blocked@example.org", "someone@etrn.test");
            assertTrue(reply.startsWith("554 5.7.1") && reply.contains("blocked by the table"), reply);
            // a table its type cannot read (cidr_table: not a network): refused, the file as it was
            HttpResponse<String> bad = request("POST", "/api/server/tables", ADMIN,
                    "{\"file\":\"" + clients + "\",\"text\":\"not-a-network REJECT\"}");
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains(clients + ", line 1") && bad.body().contains("is unchanged"), bad.body());
            assertEquals("192.0.2.0/24 REJECT\n", Files.readString(clients));
        } finally {
            Files.deleteIfExists(table);
            Files.deleteIfExists(clients);
        }
    }

    private static Commands.Result postconf(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Commands.bin("postconf")));
        cmd.addAll(List.of(args));
        return Commands.run(Map.of("POSTERN_CONFIG_DIR", System.getProperty("it.config")), null, cmd);
    }

    private static HttpResponse<String> request(String method, String path, String user, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(BASE + path)).timeout(Duration.ofSeconds(60));
        b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)));
        if (json != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
