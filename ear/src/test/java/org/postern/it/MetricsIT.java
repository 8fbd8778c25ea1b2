package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * MetricsIT - the Prometheus endpoint of the management interface (WildFly's micrometer
 * subsystem, configure-metrics.cli) as a scraper reads it: Postern's meters are there and
 * move with real traffic - a message accepted, a recipient deferred, a RCPT rejected by a
 * restriction - and no mail address ever appears in it. And the health probes: no login,
 * UP, and readiness DOWN (503) when queue_minfree cannot be kept, while smtpd answers MAIL
 * with 452 4.3.1 for the same reason.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class MetricsIT {
    private static final URI METRICS = URI.create("http://127.0.0.1:10090/metrics");

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @Test
    void posternsMetersFollowRealTraffic() throws Exception {
        String before = scrape();
        double accepted = value(before, "postern_messages_accepted_total\\{[^}]*\\}");
        double deferred = value(before, "postern_recipients_total\\{[^}]*status=\"deferred\"[^}]*\\}");
        double rejects = value(before, "postern_smtpd_rejects_total\\{[^}]*restriction=\"reject_unlisted_recipient\"[^}]*\\}");

        String id = Postern.send("metrics@etrn.test", "for the metrics", "deferred: the sink is not there");
        DeliveryIT.waitForLog(id, "status=deferred");
        String rejected = Postern.rcptReply("a@example.org", "nobody@hosted.test");
        assertTrue(rejected.startsWith("550 5.1.1"), rejected);
        // the reject counters are registered as restrictions first reject (every 5 s)
        String after = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            after = scrape();
            if (value(after, "postern_smtpd_rejects_total\\{[^}]*restriction=\"reject_unlisted_recipient\"[^}]*\\}")
                    > rejects) {
                break;
            }
            Thread.sleep(1000);
        }
        assertTrue(value(after, "postern_messages_accepted_total\\{[^}]*\\}") >= accepted + 1, after);
        assertTrue(value(after, "postern_recipients_total\\{[^}]*status=\"deferred\"[^}]*\\}") >= deferred + 1, after);
        assertTrue(value(after, "postern_smtpd_rejects_total\\{[^}]*restriction=\"reject_unlisted_recipient\"[^}]*\\}")
                >= rejects + 1, after);
        for (String queue : new String[] {"hold", "incoming", "active", "deferred", "corrupt"}) {
            assertTrue(Pattern.compile("(?m)^postern_queue_messages\\{[^}]*queue=\"" + queue + "\"").matcher(after).find(),
                    queue);
        }
        assertTrue(after.contains("postern_delivery_delay_seconds_count"), "delivery delays");
        assertTrue(after.contains("postern_smtpd_sessions"), "sessions");
        assertFalse(after.contains("@"), "no address in the metrics");

        Commands.Result deleted = Commands.server(null, "postsuper", "-d", id);
        assertEquals(0, deleted.status(), deleted.toString());
    }

    @Test
    void healthAnswersWithoutALoginAndReadinessFollowsQueueMinfree() throws Exception {
        HttpResponse<String> live = get("http://127.0.0.1:8180/postern/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertTrue(live.body().startsWith("{\"status\":\"UP\""), live.body());
        HttpResponse<String> ready = get("http://127.0.0.1:8180/postern/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        for (String check : new String[] {"smtpd-listeners", "queue-database", "queue-minfree"}) {
            assertTrue(ready.body().contains("{\"name\":\"" + check + "\",\"status\":\"UP\""), ready.body());
        }
        assertTrue(ready.body().contains("2 of 2 smtpd services listening"), ready.body());

        // more free space asked for than any disk has: not ready, and smtpd says the same to MAIL
        java.nio.file.Path mainCf = java.nio.file.Path.of(System.getProperty("it.config"), "main.cf");
        String before = java.nio.file.Files.readString(mainCf);
        try {
            java.nio.file.Files.writeString(mainCf, before + "queue_minfree = 1000000000000000\n");
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
            HttpResponse<String> full = get("http://127.0.0.1:8180/postern/health/ready");
            assertEquals(503, full.statusCode(), full.body());
            assertTrue(full.body().startsWith("{\"status\":\"DOWN\""), full.body());
            assertTrue(full.body().contains("{\"name\":\"queue-minfree\",\"status\":\"DOWN\""), full.body());
            // the listener's free-space figure is at most a second old
            Thread.sleep(1500);
            try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
                c.reply();
                c.send("EHLO client.example.org");
                c.reply();
                c.send("MAIL FROM:<a@example.org>");
                assertEquals("452 4.3.1 Insufficient system storage", c.reply());
            }
        } finally {
            java.nio.file.Files.writeString(mainCf, before);
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
        }
        assertEquals(200, get("http://127.0.0.1:8180/postern/health/ready").statusCode());
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String scrape() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(METRICS)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), "a scraper needs no login on the management interface's loopback");
        return r.body();
    }

    /** value - the value of the first sample that matches, 0 when there is none yet. */
    private static double value(String body, String sample) {
        Matcher m = Pattern.compile("(?m)^" + sample + " (\\S+)$").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
