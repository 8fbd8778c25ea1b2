package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * RestIT - the JSON API and the console's login against the deployed EAR: nothing without
 * a login, the roles (a viewer reads but cannot act), an operator holding, releasing and
 * deleting real deferred mail, bad input answered with 400, the audit log, the first
 * administrator whose random password the build wrote, and the console's form login.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class RestIT {
    private static final String BASE = "http://127.0.0.1:8180/postern";
    private static final String VIEWER = "it-viewer:Viewer-Pass-1";
    private static final String OPERATOR = "it-operator:Operator-Pass-1";

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @Test
    void nothingWithoutALogin() throws Exception {
        HttpResponse<String> r = request("GET", "/api/queue", null, null);
        assertFalse(r.statusCode() == 200 && r.body().contains("deferred"), r.statusCode() + " " + r.body());
        assertTrue(r.body().contains("j_security_check") || r.headers().firstValue("Location").orElse("")
                .contains("login"), r.statusCode() + " " + r.headers().map() + " " + r.body());
        HttpResponse<String> wrong = request("GET", "/api/queue", "it-viewer:not-the-password", null);
        assertFalse(wrong.statusCode() == 200 && wrong.body().contains("deferred"), wrong.body());
        HttpResponse<String> page = request("GET", "/index.xhtml", null, null);
        assertFalse(page.body().contains("id=\"queue\""), "the console showed the queue without a login");
    }

    @Test
    void aViewerReadsButCannotAct() throws Exception {
        HttpResponse<String> counts = request("GET", "/api/queue", VIEWER, null);
        assertEquals(200, counts.statusCode(), counts.body());
        assertTrue(counts.body().matches("\\{\"hold\":\\d+,\"incoming\":\\d+,\"active\":\\d+,\"deferred\":\\d+,\"corrupt\":\\d+\\}"),
                counts.body());
        assertEquals(200, request("GET", "/api/queue/deferred?limit=10", VIEWER, null).statusCode());
        assertEquals(403, request("POST", "/api/queue/delete", VIEWER, "{\"queue_ids\":[\"ALL\"]}").statusCode());
        assertEquals(403, request("POST", "/api/queue/flush", VIEWER, "{}").statusCode());
        HttpResponse<String> api = request("GET", "/api/openapi.yaml", VIEWER, null);
        assertEquals(200, api.statusCode());
        assertTrue(api.body().startsWith("openapi: 3"), api.body());
    }

    @Test
    void anOperatorHoldsReleasesAndDeletesDeferredMail() throws Exception {
        String id = Postern.send("rest@etrn.test", "for the API", "held and released");
        DeliveryIT.waitForLog(id, "status=deferred");
        String deferred = page("deferred", VIEWER);
        assertTrue(deferred.contains("\"queue_id\":\"" + id + "\"") || page("active", VIEWER).contains(id), deferred);

        HttpResponse<String> hold = request("POST", "/api/queue/hold", OPERATOR, "{\"queue_ids\":[\"" + id + "\"]}");
        assertEquals(200, hold.statusCode(), hold.body());
        assertEquals("{\"action\":\"hold\",\"count\":1}", hold.body());
        String held = page("hold", VIEWER);
        assertTrue(held.contains("\"queue_id\":\"" + id + "\",\"arrival_time\":"), held);
        assertTrue(held.contains("\"address\":\"rest@etrn.test\",\"delay_reason\":\""), held);

        // the raw message: for operators, not for viewers
        HttpResponse<String> raw = request("GET", "/raw?id=" + id, OPERATOR, null);
        assertEquals(200, raw.statusCode(), raw.body());
        assertEquals("message/rfc822", raw.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        assertTrue(raw.body().contains("Subject: for the API\r\n") && raw.body().contains("held and released"), raw.body());
        assertEquals(403, request("GET", "/raw?id=" + id, VIEWER, null).statusCode());

        assertEquals("{\"action\":\"release\",\"count\":1}",
                request("POST", "/api/queue/release", OPERATOR, "{\"queue_ids\":[\"" + id + "\"]}").body());
        assertEquals("{\"action\":\"requeue\",\"count\":1}",
                request("POST", "/api/queue/requeue", OPERATOR, "{\"queue_ids\":[\"" + id + "\"]}").body());
        HttpResponse<String> deliver = request("POST", "/api/queue/deliver/" + id, OPERATOR, "{}");
        assertEquals(200, deliver.statusCode(), deliver.body());
        assertEquals("{\"action\":\"deliver\",\"queue_id\":\"" + id + "\"}", deliver.body());
        assertEquals(404, request("POST", "/api/queue/deliver/0000000000000000", OPERATOR, "{}").statusCode());
        // a post from another site (a form, or no body at all) does not act
        assertEquals(415, request("POST", "/api/queue/flush", OPERATOR, null).statusCode());
        assertEquals(415, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(BASE + "/api/queue/flush"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(OPERATOR.getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("a=b")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpResponse<String> flush = request("POST", "/api/queue/flush", OPERATOR, "{}");
        assertEquals(200, flush.statusCode(), flush.body());
        assertTrue(flush.body().matches("\\{\"action\":\"flush\",\"woken\":\\d+\\}"), flush.body());
        assertEquals("{\"action\":\"delete\",\"count\":1}",
                request("POST", "/api/queue/delete", OPERATOR, "{\"queue_ids\":[\"" + id + "\"]}").body());
        DeliveryIT.waitForLog(id, "removed");
        assertTrue(Postern.logLines(id).stream().anyMatch(l -> l.contains("postern/postsuper[") && l.contains(": removed")),
                Postern.logLines(id).toString());
        String audit = Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"));
        assertTrue(audit.contains("PSTN6101: audit: user=it-operator action=hold queue_ids=[" + id + "]"), "audit log");

        assertEquals(404, request("POST", "/api/queue/flush/not.a.customer.example", OPERATOR, "{}").statusCode());
        assertEquals(200, request("POST", "/api/queue/flush/etrn.test", OPERATOR, "{}").statusCode());
    }

    @Test
    void anOperatorExpiresAHeldMessage() throws Exception {
        String id = Postern.send("expire@etrn.test", "for the API", "expired while held");
        DeliveryIT.waitForLog(id, "status=deferred");
        String body = "{\"queue_ids\":[\"" + id + "\"]}";
        assertEquals("{\"action\":\"hold\",\"count\":1}", request("POST", "/api/queue/hold", OPERATOR, body).body());
        assertEquals(403, request("POST", "/api/queue/expire", VIEWER, body).statusCode());
        assertEquals("{\"action\":\"expire\",\"count\":1}", request("POST", "/api/queue/expire", OPERATOR, body).body());
        // held mail is never delivered: it stays held, marked, until released
        String held = page("hold", VIEWER);
        assertTrue(java.util.regex.Pattern.compile("\"queue_id\":\"" + id
                + "\",\"arrival_time\":\\d+,\"message_size\":\\d+,\"forced_expire\":true").matcher(held).find(), held);
        assertTrue(Postern.logLines(id).stream().anyMatch(l -> l.contains("postern/postsuper[") && l.contains(id + ": expired")),
                Postern.logLines(id).toString());
        assertEquals("{\"action\":\"delete\",\"count\":1}", request("POST", "/api/queue/delete", OPERATOR, body).body());
    }

    @Test
    void badInputIsA400WithTheReason() throws Exception {
        HttpResponse<String> notArray = request("POST", "/api/queue/hold", OPERATOR, "{\"queue_ids\":\"x\"}");
        assertEquals(400, notArray.statusCode(), notArray.body());
        assertEquals("{\"error\":\"queue_ids must be an array of strings\"}", notArray.body());
        HttpResponse<String> queue = request("POST", "/api/queue/delete", OPERATOR,
                "{\"queue_ids\":[\"ALL\"],\"queues\":[\"nosuch\"]}");
        assertEquals(400, queue.statusCode(), queue.body());
        assertTrue(queue.body().contains("unknown queue: nosuch"), queue.body());
        assertEquals(400, request("GET", "/api/queue/deferred?limit=0", VIEWER, null).statusCode());
        assertEquals(404, request("GET", "/api/queue/nosuch", VIEWER, null).statusCode());
    }

    @Test
    void theFirstAdministratorLogsInToTheConsoleWithTheGeneratedPassword() throws Exception {
        Path file = Path.of(System.getProperty("it.server"), "configuration", "postern-admin-password");
        String[] admin = Files.readString(file).strip().split(" ");
        assertEquals("admin", admin[0]);
        assertTrue(admin[1].length() >= 20, "a long random password");
        assertEquals(200, request("GET", "/api/queue", admin[0] + ":" + admin[1], null).statusCode());

        // the form login of a browser: the login page, j_security_check, then the console
        HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> first = browser.send(HttpRequest.newBuilder(URI.create(BASE + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(first.body().contains("j_security_check"), first.body());
        String form = "j_username=admin&j_password=" + URLEncoder.encode(admin[1], StandardCharsets.UTF_8);
        HttpResponse<String> console = browser.send(HttpRequest.newBuilder(URI.create(BASE + "/j_security_check"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, console.statusCode(), console.body());
        assertTrue(console.body().contains("id=\"queue\""), console.body());
    }

    private static String page(String queue, String user) throws Exception {
        HttpResponse<String> r = request("GET", "/api/queue/" + queue + "?limit=500", user, null);
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static HttpResponse<String> request(String method, String path, String user, String json) throws Exception {
        return request(method, path, user, json, java.util.Map.of());
    }

    /** request - one request to the console's API (path under /postern), as user ("name:password", or null), with these headers. */
    static HttpResponse<String> request(String method, String path, String user, String json,
                                        java.util.Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(BASE + path)).timeout(Duration.ofSeconds(60));
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)));
        }
        headers.forEach(b::header);
        if (json != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                .send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
