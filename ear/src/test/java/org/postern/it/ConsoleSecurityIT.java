package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.postern.test.Peers;

/**
 * ConsoleSecurityIT - the console, the JSON API and the management interface against
 * hostile users and pages, at the edge: real HTTP and a real browser (headless Chromium).
 *
 * <ul>
 * <li>nothing without a login: every page, the API, the raw download and WildFly's
 * management API answer a login page or 401, never data; a JMX client that cannot prove
 * it runs as the server's own user (JBOSS-LOCAL-USER) is refused, and no user has a
 * default password (admin/admin);</li>
 * <li>the HTTP and management ports, and every other socket the server listens on, are
 * bound to loopback only;</li>
 * <li>the session cookie is HttpOnly and SameSite=Strict;</li>
 * <li>a state change from another origin (Origin, Referer, Sec-Fetch-Site) is refused with
 * 403 and changes nothing, from a real page of another origin in the browser too, while
 * the same request from the console's origin or from a client with no browser headers
 * passes;</li>
 * <li>a viewer who forges the operator's delete (the button's request sent from the
 * viewer's own page, with the viewer's and with the operator's view state) deletes
 * nothing (the bean refuses it and the audit log says so; the operator's view state is
 * expired in the viewer's session), while the operator's identical request does;</li>
 * <li>a table of passwords is for administrators only;</li>
 * <li>a message whose sender, Subject and headers carry markup shows them as text in the
 * queue, message and server pages, and none of its scripts runs.</li>
 * </ul>
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class ConsoleSecurityIT {
    private static final int HTTP_PORT = 8180;
    private static final int MANAGEMENT_PORT = 10090;
    private static final String ORIGIN = "http://127.0.0.1:" + HTTP_PORT;
    private static final String BASE = ORIGIN + "/postern";
    private static final String VIEWER = "it-viewer:Viewer-Pass-1";
    private static final String OPERATOR = "it-operator:Operator-Pass-1";
    private static final String ADMIN = "it-admin:Admin-Pass-1";
    private static final String REFUSED = "403 Forbidden: a request that changes something must come from the console's own pages";
    private static WebDriver browser;

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @BeforeAll
    static void chromium() throws Exception {
        // the tests that need the browser say so (Peers.assume): the others run without it
        if (Chromium.installed()) {
            browser = Chromium.start();
        }
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void nothingAnswersWithoutALogin() throws Exception {
        String id = Postern.send("nologin@etrn.test", "unseen", "never shown without a login");
        DeliveryIT.waitForLog(id, "status=deferred");
        try {
            for (String path : List.of("/", "/index.xhtml", "/queue.xhtml", "/server.xhtml", "/message.xhtml?id=" + id,
                    "/raw?id=" + id, "/api/queue", "/api/queue/deferred", "/api/server/config", "/api/server/tables",
                    "/api/openapi.yaml")) {
                HttpResponse<String> r = request("GET", path, null, null, Map.of());
                assertLogin(r, "GET " + path);
                assertFalse(r.body().contains(id) || r.body().contains("nologin@etrn.test"), path + ": " + r.body());
            }
            for (String path : List.of("/api/queue/delete", "/api/queue/flush", "/api/server/reload", "/queue.xhtml")) {
                HttpResponse<String> r = request("POST", path, null, "{\"queue_ids\":[\"" + id + "\"]}", Map.of());
                assertLogin(r, "POST " + path);
            }
            // no default password: the user names an installer would try first
            for (String guess : List.of("admin:admin", "admin:", "admin:password", "postern:postern")) {
                HttpResponse<String> r = request("GET", "/api/queue", guess, null, Map.of());
                assertNotEquals(200, r.statusCode(), guess);
                assertFalse(r.body().contains("\"deferred\":"), guess + ": " + r.body());
            }
            assertTrue(Postern.logLines(id).stream().noneMatch(l -> l.contains("postsuper")), "the message was touched");

            // WildFly's management API: a 401, nothing of the model
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            String mgmt = "http://127.0.0.1:" + MANAGEMENT_PORT + "/management";
            HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create(mgmt + "?operation=attribute&name=server-state"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, read.statusCode(), read.body());
            assertFalse(read.body().contains("running"), read.body());
            HttpResponse<String> op = http.send(HttpRequest.newBuilder(URI.create(mgmt))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"operation\":\"read-resource\",\"address\":[]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, op.statusCode(), op.body());
            String basicGuess = Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> guessed = http.send(HttpRequest.newBuilder(URI.create(mgmt + "?operation=attribute&name=server-state"))
                    .header("Authorization", "Basic " + basicGuess).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, guessed.statusCode(), guessed.body());
            // the management realm has no user at all: only the server's own OS user gets in (JBOSS-LOCAL-USER)
            Path config = Path.of(System.getProperty("it.server"), "configuration");
            assertEquals(List.of(), users(config.resolve("mgmt-users.properties")), "management users");
            // the console's only user out of the box is admin, its password random and readable by its owner alone
            Path provisioned = Path.of(System.getProperty("jboss.home"), "standalone", "configuration");
            assertEquals(List.of("admin"), users(provisioned.resolve("postern-admin-users.properties")));
            assertEquals(List.of(), users(provisioned.resolve("application-users.properties")));
            assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                    Files.getPosixFilePermissions(provisioned.resolve("postern-admin-password")));
        } finally {
            Commands.server(null, "postsuper", "-d", id);
        }
    }

    /** assertLogin - the answer is the login form or a 401, never a page of the console or data. */
    private static void assertLogin(HttpResponse<String> r, String what) {
        boolean form = r.statusCode() == 200 && r.body().contains("j_security_check");
        assertTrue(form || r.statusCode() == 401 || r.statusCode() == 403, what + ": " + r.statusCode() + " " + r.body());
        assertFalse(r.body().contains("\"deferred\":") || r.body().contains("id=\"queue\"")
                || r.body().contains("jakarta.faces.ViewState") || r.body().contains("openapi:"), what + ": " + r.body());
    }

    /** users - the users a WildFly properties realm file defines (comments left out). */
    private static List<String> users(Path file) throws Exception {
        return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .map(l -> l.substring(0, l.indexOf('='))).toList();
    }

    @Test
    void aJmxClientThatIsNotTheServersOwnUserIsRefused() throws Exception {
        // the server's own user proves itself with a file of the server's tmp/ (as the bin/ commands do)
        Commands.Result local = jmx(null, "call:org.postern:type=Configuration:get:myhostname");
        assertEquals(0, local.status(), local.toString());
        assertTrue(local.out().contains("call:org.postern:type=Configuration:get:myhostname=postern.test"), local.out());
        // anybody else: no mechanism but a password one, without a password, or with a guessed one
        Path dir = Files.createTempDirectory("jmx");
        Path none = dir.resolve("none.xml");
        Files.writeString(none, wildflyConfig(""));
        Commands.Result anonymous = jmx(none, "call:org.postern:type=Configuration:get:myhostname");
        assertNotEquals(0, anonymous.status(), anonymous.toString());
        assertFalse(anonymous.out().contains("postern.test"), anonymous.toString());
        assertTrue(anonymous.err().contains("Authentication failed") || anonymous.err().contains("SaslException"),
                anonymous.err());
        Path guess = dir.resolve("guess.xml");
        Files.writeString(guess, wildflyConfig("<set-user-name name=\"admin\"/><credentials><clear-password password=\"admin\"/></credentials>"));
        Commands.Result guessed = jmx(guess, "call:org.postern:type=Configuration:get:myhostname");
        assertNotEquals(0, guessed.status(), guessed.toString());
        assertFalse(guessed.out().contains("postern.test"), guessed.toString());
    }

    /** wildflyConfig - an Elytron client configuration that never offers JBOSS-LOCAL-USER. */
    private static String wildflyConfig(String identity) {
        return "<configuration><authentication-client xmlns=\"urn:elytron:client:1.7\">"
                + "<authentication-rules><rule use-configuration=\"remote\"/></authentication-rules>"
                + "<authentication-configurations><configuration name=\"remote\">" + identity
                + "<sasl-mechanism-selector selector=\"#ALL -JBOSS-LOCAL-USER\"/></configuration>"
                + "</authentication-configurations></authentication-client></configuration>";
    }

    /** jmx - JmxProbe in a JVM of its own (as jconsole connects), with that Elytron client configuration or none. */
    private static Commands.Result jmx(Path wildflyConfig, String... requests) throws Exception {
        Path client = Path.of(System.getProperty("jboss.home"), "bin", "client", "jboss-cli-client.jar");
        Path classes = Path.of(JmxProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (wildflyConfig != null) {
            cmd.add("-Dwildfly.config.url=" + wildflyConfig.toUri());
        }
        cmd.addAll(List.of("-cp", client + ":" + classes, JmxProbe.class.getName(), "127.0.0.1:" + MANAGEMENT_PORT));
        cmd.addAll(List.of(requests));
        return Commands.run(Map.of(), null, cmd);
    }

    // ---------------------------------------------------------------- listeners

    @Test
    void everySocketTheServerListensOnIsOnLoopback() throws Exception {
        long pid = serverPid();
        Set<String> inodes = new HashSet<>();
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (java.io.IOException e) {
                    // closed meanwhile
                }
            }
        }
        Map<Integer, List<String>> listening = new TreeMap<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.strip().split("\\s+");
                // local_address rem_address st ... inode: state 0A is LISTEN
                if (f[3].equals("0A") && inodes.contains(f[9])) {
                    String[] local = f[1].split(":");
                    listening.computeIfAbsent(Integer.parseInt(local[1], 16), k -> new ArrayList<>()).add(address(local[0]));
                }
            }
        }
        // the ones this test is about must be among them, or it proves nothing
        assertTrue(listening.containsKey(HTTP_PORT) && listening.containsKey(MANAGEMENT_PORT)
                && listening.containsKey(Postern.PORT), "server " + pid + " listens on " + listening);
        for (Map.Entry<Integer, List<String>> e : listening.entrySet()) {
            for (String a : e.getValue()) {
                assertTrue(a.startsWith("127.") || a.equals("::1") || a.startsWith("::ffff:127."),
                        "port " + e.getKey() + " listens on " + a + ", not loopback: " + listening);
            }
        }
    }

    /** serverPid - the test server's JVM: the java process whose base directory is it.server. */
    private static long serverPid() {
        String base = "-Djboss.server.base.dir=" + System.getProperty("it.server");
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(base)).orElse(false)
                        || p.info().commandLine().map(c -> c.contains(base + " ")).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst()
                .orElseThrow(() -> new AssertionError("no server process with " + base));
    }

    /** address - an address of /proc/net/tcp or tcp6 (32-bit words in host order, little-endian here). */
    private static String address(String hex) throws Exception {
        byte[] b = new byte[hex.length() / 2];
        for (int w = 0; w < b.length; w += 4) {
            for (int i = 0; i < 4; i++) {
                b[w + i] = (byte) Integer.parseInt(hex.substring((w + 3 - i) * 2, (w + 3 - i) * 2 + 2), 16);
            }
        }
        String a = java.net.InetAddress.getByAddress(b).getHostAddress();
        if (b.length == 16 && java.util.Arrays.equals(java.util.Arrays.copyOf(b, 12),
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1})) {
            return "::ffff:" + (b[12] & 255) + "." + (b[13] & 255) + "." + (b[14] & 255) + "." + (b[15] & 255);
        }
        return a.equals("0:0:0:0:0:0:0:1") ? "::1" : a;
    }

    // ---------------------------------------------------------------- cookie and CSRF

    @Test
    void theSessionCookieIsHttpOnlyAndSameSiteStrict() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(BASE + "/queue.xhtml")).build(),
                HttpResponse.BodyHandlers.ofString());
        List<String> cookies = login.headers().allValues("Set-Cookie");
        assertTrue(cookies.stream().anyMatch(c -> c.startsWith("JSESSIONID=")), login.headers().map().toString());
        String session = cookies.stream().filter(c -> c.startsWith("JSESSIONID=")).findFirst().orElseThrow();
        assertTrue(attributes(session).contains("httponly"), session);
        assertTrue(attributes(session).contains("samesite=strict"), session);
        assertFalse(login.body().toLowerCase(java.util.Locale.ROOT).contains("jsessionid"), "session id in the page");
        // the session of the logged-in user (a new id after the login) is the same kind
        String jsession = session.substring(0, session.indexOf(';'));
        HttpResponse<String> in = http.send(HttpRequest.newBuilder(URI.create(BASE + "/j_security_check"))
                .header("Cookie", jsession).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("j_username=it-viewer&j_password=Viewer-Pass-1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(302, in.statusCode(), in.headers().map() + " " + in.body());
        for (String c : in.headers().allValues("Set-Cookie")) {
            if (c.startsWith("JSESSIONID=")) {
                assertTrue(attributes(c).contains("httponly") && attributes(c).contains("samesite=strict"), c);
            }
        }
    }

    private static List<String> attributes(String setCookie) {
        return List.of(setCookie.toLowerCase(java.util.Locale.ROOT).split(";\\s*"));
    }

    @Test
    void aStateChangeFromAnotherOriginChangesNothing() throws Exception {
        String id = Postern.send("csrf@etrn.test", "forged", "never held by another site's page");
        DeliveryIT.waitForLog(id, "status=deferred");
        String body = "{\"queue_ids\":[\"" + id + "\"]}";
        try {
            List<Map<String, String>> foreign = List.of(
                    Map.of("Origin", "http://evil.example"),
                    Map.of("Origin", "http://127.0.0.1:" + (HTTP_PORT + 1)),
                    Map.of("Origin", "null"),
                    Map.of("Referer", "http://evil.example/page.html"),
                    Map.of("Sec-Fetch-Site", "cross-site", "Origin", ORIGIN),
                    Map.of("Sec-Fetch-Site", "same-site"));
            for (Map<String, String> headers : foreign) {
                HttpResponse<String> r = request("POST", "/api/queue/hold", OPERATOR, body, headers);
                assertEquals(403, r.statusCode(), headers + ": " + r.body());
                assertTrue(r.body().startsWith(REFUSED), r.body());
            }
            // an admin's reload and a console page alike
            HttpResponse<String> reload = request("POST", "/api/server/reload", ADMIN, "{}", Map.of("Origin", "http://evil.example"));
            assertEquals(403, reload.statusCode(), reload.body());
            assertTrue(reload.body().contains("Origin http://evil.example is not http://127.0.0.1:8180"), reload.body());
            assertFalse(page("hold").contains(id), "held by a request from another origin");
            assertTrue(Postern.logLines(id).stream().noneMatch(l -> l.contains("placed on hold")), "placed on hold");
            String log = Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"));
            assertTrue(log.contains("PSTN6104: refused POST /postern/api/queue/hold from 127.0.0.1 user=it-operator: "
                    + "Origin http://evil.example is not http://127.0.0.1:8180"), "the refusal is logged");

            // the same request from the console's own origin, and from a client that is no browser, passes
            HttpResponse<String> own = request("POST", "/api/queue/hold", OPERATOR, body,
                    Map.of("Origin", ORIGIN, "Sec-Fetch-Site", "same-origin", "Referer", BASE + "/queue.xhtml"));
            assertEquals(200, own.statusCode(), own.body());
            assertEquals("{\"action\":\"hold\",\"count\":1}", own.body());
            assertTrue(page("hold").contains(id));
            HttpResponse<String> curl = request("POST", "/api/queue/release", OPERATOR, body, Map.of());
            assertEquals("{\"action\":\"release\",\"count\":1}", curl.body());
        } finally {
            Commands.server(null, "postsuper", "-d", id);
        }
    }

    @Test
    void aPageOfAnotherOriginCannotActInTheLoggedInBrowser() throws Exception {
        Peers.assume(browser != null, "chromium and chromium-driver are not installed");
        String id = Postern.send("csrf-browser@etrn.test", "forged in the browser", "never held by another page");
        DeliveryIT.waitForLog(id, "status=deferred");
        HttpServer evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        int port = evil.getAddress().getPort();
        // a form that posts JSON-ish text to the API, and one that posts to the console's queue page
        String api = "<form id=f method=post enctype=text/plain action='" + BASE + "/api/queue/hold'>"
                + "<input name='{\"queue_ids\":[\"" + id + "\"],\"x\":\"' value='\"}'></form>"
                + "<script>document.getElementById('f').submit()</script>";
        String jsf = "<form id=f method=post action='" + BASE + "/queue.xhtml'>"
                + "<input name=browser value=browser><input name='browser:deleteAll' value=''></form>"
                + "<script>document.getElementById('f').submit()</script>";
        evil.createContext("/api.html", x -> answer(x, api));
        evil.createContext("/jsf.html", x -> answer(x, jsf));
        evil.start();
        try {
            logIn("it-operator", "Operator-Pass-1");
            for (String page : List.of("/api.html", "/jsf.html")) {
                // same site (127.0.0.1), another origin (port): the browser sends the cookie, the filter refuses
                browser.get("http://127.0.0.1:" + port + page);
                new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> d.getCurrentUrl().startsWith(BASE));
                String text = waitFor(By.tagName("body")).getText();
                shot("sec-1-csrf" + page.replace(".html", "").replace('/', '-'));
                // Chromium says same-site itself (Sec-Fetch-Site), which the filter believes first
                assertTrue(text.contains(REFUSED) && (text.contains("Sec-Fetch-Site: same-site")
                        || text.contains("http://127.0.0.1:" + port)), page + ": " + text);
            }
            // another site (localhost is not 127.0.0.1): the SameSite=Strict cookie is not even sent
            browser.get("http://localhost:" + port + "/api.html");
            new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> d.getCurrentUrl().startsWith(BASE));
            String cross = waitFor(By.tagName("body")).getText();
            shot("sec-2-csrf-cross-site");
            assertFalse(cross.contains("\"action\""), cross);
            assertFalse(page("hold").contains(id), "held by another origin's page");
        } finally {
            evil.stop(0);
            Commands.server(null, "postsuper", "-d", id);
        }
    }

    private static void answer(com.sun.net.httpserver.HttpExchange x, String html) throws java.io.IOException {
        byte[] b = ("<!DOCTYPE html><html><body>" + html + "</body></html>").getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "text/html; charset=UTF-8");
        x.sendResponseHeaders(200, b.length);
        x.getResponseBody().write(b);
        x.close();
    }

    // ---------------------------------------------------------------- roles on the server

    @Test
    void aViewerWhoForgesTheOperatorsDeleteDeletesNothing() throws Exception {
        Peers.assume(browser != null, "chromium and chromium-driver are not installed");
        String id = Postern.send("forge@etrn.test", "not the viewer's to delete", "held, so it stays put");
        DeliveryIT.waitForLog(id, "status=deferred");
        assertEquals(0, Commands.server(null, "postsuper", "-h", id).status());
        try {
            // the operator's page: the delete button of the message's row, and the page's view state
            logIn("it-operator", "Operator-Pass-1");
            openHeld("forge@etrn.test", id);
            String button = browser.findElement(By.cssSelector(".delete-" + id)).getAttribute("id");
            String operatorsView = viewState();
            assertTrue(button.startsWith("browser:table:0:"), button);

            // the viewer's page shows the same row without the button; the viewer sends its request anyway
            logIn("it-viewer", "Viewer-Pass-1");
            openHeld("forge@etrn.test", id);
            assertEquals(List.of(), browser.findElements(By.cssSelector(".delete-" + id)));
            String own = forge(button, null);
            System.out.println("viewer's forged delete, the viewer's view state: " + own);
            shot("sec-3-viewer-forged");
            // PrimeFaces does run the action of a button it did not render: the bean's own check refuses it
            assertFalse(own.contains("Deleted: 1 message"), own);
            assertTrue(own.contains("Only an operator or an administrator may change mail."), own);
            // ... and with the operator's view state, which is not this session's
            String stolen = forge(button, operatorsView);
            System.out.println("viewer's forged delete, the operator's view state: " + stolen);
            assertFalse(stolen.contains("Deleted: 1 message"), stolen);
            assertTrue(stolen.contains("ViewExpiredException"), stolen);
            assertTrue(page("hold").contains(id), "the viewer's forged request deleted the message");
            assertTrue(Postern.logLines(id).stream().noneMatch(l -> l.contains("removed")), "removed");
            String audit = Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"));
            assertFalse(audit.contains("console user=it-viewer action=delete queue_id=" + id + " count"), "audit");
            assertTrue(audit.contains("PSTN6105: audit: console user=it-viewer action=delete queue_id=" + id
                    + " refused: not allowed to the user's role"), "the refusal is in the audit log");

            // the very same request from the operator's page deletes it: the forgery was a well-made one
            logIn("it-operator", "Operator-Pass-1");
            openHeld("forge@etrn.test", id);
            // the right user, the right page, but no view state: JSF's state is on the server, nothing happens
            String stateless = forge(button, "-");
            System.out.println("operator's delete without a view state: " + stateless);
            assertFalse(stateless.contains("Deleted: 1 message"), stateless);
            assertTrue(page("hold").contains(id), "deleted without the page's view state");
            String operators = forge(button, null);
            assertTrue(operators.contains("Deleted: 1 message"), operators);
            assertFalse(page("hold").contains(id), "the operator's request did not delete the message");
        } finally {
            Commands.server(null, "postsuper", "-d", id);
        }
    }

    /**
     * forge - the request the button's click would send (PrimeFaces' AJAX POST), built by
     * hand from the page's own form fields, sent from the page with the session's cookie;
     * with another view state when one is given, without one for "-". The status and the
     * answer.
     */
    private static String forge(String button, String viewState) {
        Object r = ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + "const form = document.getElementById('browser');"
                + "const data = new URLSearchParams(new FormData(form));"
                + "if (arguments[1] === '-') { data.delete('jakarta.faces.ViewState'); }"
                + "else if (arguments[1]) { data.set('jakarta.faces.ViewState', arguments[1]); }"
                + "data.set('jakarta.faces.source', arguments[0]);"
                + "data.set('jakarta.faces.partial.ajax', 'true');"
                + "data.set('jakarta.faces.partial.execute', arguments[0]);"
                + "data.set('jakarta.faces.partial.render', 'browser');"
                + "data.set(arguments[0], arguments[0]);"
                + "fetch(form.action, {method: 'POST', body: data, credentials: 'same-origin',"
                + "  headers: {'Faces-Request': 'partial/ajax'}})"
                + ".then(r => r.text().then(t => done(r.status + ' ' + t)))"
                + ".catch(e => done('failed: ' + e));", button, viewState);
        return String.valueOf(r);
    }

    private static String viewState() {
        return browser.findElement(By.cssSelector("#browser input[name='jakarta.faces.ViewState']")).getAttribute("value");
    }

    /** openHeld - the queue page on the hold queue, narrowed to the recipient, until the message's row is there. */
    private static void openHeld(String rcpt, String id) throws Exception {
        browser.get(BASE + "/queue.xhtml");
        waitFor(By.id("browser:recipient")).sendKeys(rcpt);
        ((JavascriptExecutor) browser).executeScript("PF('queueMenu').selectValue('hold');");
        new WebDriverWait(browser, Duration.ofSeconds(30)).pollingEvery(Duration.ofSeconds(1))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
                    ajaxDone();
                    d.findElement(By.id("browser:show")).click();
                    ajaxDone();
                    return d.findElements(By.cssSelector(".id-" + id)).isEmpty() ? null : Boolean.TRUE;
                });
    }

    @Test
    void aTableOfPasswordsIsForAdministratorsOnly() throws Exception {
        Path config = Path.of(System.getProperty("it.config"));
        Path mainCf = config.resolve("main.cf");
        Path secrets = config.resolve("relay_passwd");
        String before = Files.readString(mainCf);
        Files.writeString(secrets, "[smtp.test]:12526 relayuser:Relay-Secret-1\n");
        try {
            Commands.Result e = Commands.run(Map.of("POSTERN_CONFIG_DIR", config.toString()), null,
                    List.of(Commands.bin("postconf"), "-e", "smtp_sasl_password_maps = texthash:" + secrets));
            assertEquals(0, e.status(), e.toString());
            assertEquals(0, Commands.server(null, "postfix", "reload").status());
            String path = "/api/server/tables/content?file=" + URLEncoder.encode(secrets.toString(), StandardCharsets.UTF_8);
            for (String user : List.of(VIEWER, OPERATOR)) {
                HttpResponse<String> r = request("GET", path, user, null, Map.of());
                assertEquals(403, r.statusCode(), r.body());
                assertFalse(r.body().contains("Relay-Secret-1"), r.body());
            }
            HttpResponse<String> admin = request("GET", path, ADMIN, null, Map.of());
            assertEquals(200, admin.statusCode(), admin.body());
            assertTrue(admin.body().contains("Relay-Secret-1"));

            if (browser != null) {
                logIn("it-viewer", "Viewer-Pass-1");
                browser.get(BASE + "/server.xhtml");
                String tables = waitFor(By.id("table-files")).getText();
                assertTrue(tables.contains(secrets.toString()) && tables.contains("passwords: for administrators"), tables);
                assertFalse(browser.getPageSource().contains("Relay-Secret-1"));
                shot("sec-4-viewer-password-table");
            }
        } finally {
            Files.writeString(mainCf, before);
            assertEquals(0, Commands.server(null, "postfix", "reload").status());
            Files.deleteIfExists(secrets);
        }
    }

    // ---------------------------------------------------------------- escaping

    @Test
    void markupInAMessageIsShownAsTextAndNeverRuns() throws Exception {
        Peers.assume(browser != null, "chromium and chromium-driver are not installed");
        String sender = "\"<img src=x onerror=window.__xss=2>\"@example.org";
        String subject = "<script>window.__xss=1</script>";
        String markup = "<b id=\"injected\" onmouseover=\"window.__xss=3\">bold</b><svg onload=\"window.__xss=4\"></svg>";
        String id;
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<" + sender + ">");
            String mail = c.reply();
            assertTrue(mail.startsWith("250"), "a quoted local part (RFC 5321 section 4.1.2): " + mail);
            c.send("RCPT TO:<xss@etrn.test>");
            String rcpt = c.reply();
            assertTrue(rcpt.startsWith("250"), rcpt);
            c.send("DATA");
            c.reply();
            c.send("Subject: " + subject);
            c.send("X-Markup: " + markup);
            c.send("");
            c.send("<script>window.__xss=5</script>");
            c.send(".");
            id = Postern.queueId(c.reply());
            c.send("QUIT");
            c.reply();
        }
        DeliveryIT.waitForLog(id, "status=deferred");
        assertEquals(0, Commands.server(null, "postsuper", "-h", id).status());
        try {
            logIn("it-operator", "Operator-Pass-1");
            openHeld("xss@etrn.test", id);
            settle();
            shot("sec-5-queue-markup");
            String table = browser.findElement(By.id("browser:table")).getText();
            assertTrue(table.contains(sender), "the sender as text: " + table);
            assertNothingRan("queue page");

            ajaxDone();
            browser.findElement(By.cssSelector("a.id-" + id)).click();
            assertEquals(id, waitFor(By.id("message-id")).getText());
            settle();
            shot("sec-6-message-markup");
            assertTrue(browser.findElement(By.id("envelope")).getText().contains(sender),
                    browser.findElement(By.id("envelope")).getText());
            String header = browser.findElement(By.id("header")).getText();
            assertTrue(header.contains("Subject: " + subject) && header.contains("X-Markup: " + markup), header);
            assertNothingRan("message page");

            browser.get(BASE + "/server.xhtml?q=" + id);
            String log = waitFor(By.id("maillog")).getText();
            settle();
            assertTrue(log.contains(id) && log.contains("onerror=window.__xss=2"), log);
            assertNothingRan("server page");

            // a text typed into the console and shown back in a message
            browser.get(BASE + "/queue.xhtml");
            WebElement site = waitFor(By.id("flush:site"));
            site.sendKeys("<img src=x onerror=window.__xss=6>");
            ajaxDone();
            browser.findElement(By.id("flush:flushSite")).click();
            new WebDriverWait(browser, Duration.ofSeconds(20))
                    .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                    .until(d -> d.findElement(By.id("browser:msgs")).getText().contains("<img src=x onerror=window.__xss=6>"));
            settle();
            shot("sec-7-message-echo");
            assertNothingRan("queue page message");
        } finally {
            Commands.server(null, "postsuper", "-d", id);
        }
    }

    /** assertNothingRan - no script of the message ran, and no element of its markup is in the page. */
    private static void assertNothingRan(String where) {
        JavascriptExecutor js = (JavascriptExecutor) browser;
        assertEquals("undefined", js.executeScript("return typeof window.__xss;"), where + ": a script of the message ran");
        assertEquals(0L, js.executeScript("return document.querySelectorAll('#injected, img[onerror], svg[onload]').length"
                + " + Array.from(document.scripts).filter(s => s.text.includes('__xss')).length;"), where);
        assertFalse(browser.getPageSource().contains("<script>window.__xss"), where + ": the script is in the page as markup");
    }

    /** settle - a moment for an injected image's error or a hover-less handler to have run, had there been one. */
    private static void settle() throws InterruptedException {
        ajaxDone();
        Thread.sleep(1000);
    }

    // ---------------------------------------------------------------- helpers

    private static String page(String queue) throws Exception {
        HttpResponse<String> r = request("GET", "/api/queue/" + queue + "?limit=500", VIEWER, null, Map.of());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static HttpResponse<String> request(String method, String path, String user, String json,
                                                Map<String, String> headers) throws Exception {
        return RestIT.request(method, path, user, json, headers);
    }

    /** logIn - a fresh session: the cookies dropped, then the login form. */
    private static void logIn(String user, String password) {
        browser.manage().deleteAllCookies();
        browser.get(BASE + "/");
        waitFor(By.id("j_username")).sendKeys(user);
        browser.findElement(By.id("j_password")).sendKeys(password);
        browser.findElement(By.id("login")).click();
        waitFor(By.id("user"));
    }

    private static void ajaxDone() {
        new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d)
                .executeScript("return !window.PrimeFaces || PrimeFaces.ajax.Queue.isEmpty();")));
    }

    private static WebElement waitFor(By by) {
        return new WebDriverWait(browser, Duration.ofSeconds(20)).until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    private static void shot(String name) throws Exception {
        Path file = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(file, Chromium.SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
