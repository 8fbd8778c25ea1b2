package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.postern.test.Peers;

/**
 * ConsoleIT - the console in a real browser (Debian's headless Chromium, driven by
 * Selenium through chromedriver) against the deployed EAR: the first administrator logs
 * in with the password the build generated, browses and filters the queue, holds and
 * releases a real deferred message, flushes its domain and sees the mail arrive at the
 * domain's sink; the dashboard counts it in the last hour's chart; an administrator sets a
 * parameter on the server page and a new SMTP session shows it, a refused value leaves
 * main.cf as it was, and a main.cf edited on disk is shown as pending until Reload; a
 * viewer sees the queue and no button that changes mail or main.cf; an operator holds
 * every message of a filter and returns them all to their senders, the page showing the
 * progress of each bulk action. Each step saves a screenshot under target/screenshots/.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class ConsoleIT {
    private static final String BASE = "http://127.0.0.1:8180/postern";
    private static WebDriver browser;

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @BeforeAll
    static void chromium() throws Exception {
        Peers.assume(Chromium.installed(), "chromium and chromium-driver are not installed");
        browser = Chromium.start();
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void anAdministratorHoldsReleasesAndFlushesRealMail() throws Exception {
        String id = Postern.send("console@etrn.test", "for the console", "held, released, flushed");
        DeliveryIT.waitForLog(id, "status=deferred");
        String[] admin = Files.readString(Path.of(System.getProperty("it.server"), "configuration",
                "postern-admin-password")).strip().split(" ");
        logIn(admin[0], admin[1]);
        waitFor(By.id("queue"));
        // qshape deferred on the dashboard (reloaded: the message is active for the moments of each retry)
        new WebDriverWait(browser, Duration.ofSeconds(20)).pollingEvery(Duration.ofSeconds(1))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
                    d.navigate().refresh();
                    return d.findElement(By.id("shape")).getText().contains("etrn.test");
                });
        // a row per domain: the domain, the total and the ten age buckets, the new message in the first
        List<WebElement> cells = browser.findElement(By.xpath("//table[@id='shape']//tr[td[1]='etrn.test']"))
                .findElements(By.tagName("td"));
        assertEquals(12, cells.size());
        assertTrue(Integer.parseInt(cells.get(1).getText()) >= 1 && Integer.parseInt(cells.get(2).getText()) >= 1,
                cells.stream().map(WebElement::getText).toList().toString());
        // the last hour: the message counts among the accepted ones, and the chart has a line for each kind
        int accepted = Integer.parseInt(browser.findElement(By.cssSelector("#rates .rate-accepted .hour")).getText());
        assertTrue(accepted >= 1, "accepted in the last hour: " + accepted);
        for (String kind : List.of("accepted", "sent", "deferred", "bounced")) {
            String points = browser.findElement(By.cssSelector("#chart polyline.line-" + kind)).getAttribute("points");
            assertEquals(60, points.split(" ").length, kind + ": a point a minute");
        }
        shot("1-dashboard");

        browser.findElement(By.id("browse")).click();
        waitFor(By.id("browser:recipient")).sendKeys("console@etrn.test");
        showUntil(By.cssSelector(".id-" + id));
        shot("2-queue-filtered");

        // the message's page: envelope, recipients with the last reply, header, download
        ajaxDone();
        click(By.cssSelector("a.id-" + id));
        assertEquals(id, waitFor(By.id("message-id")).getText());
        String recipients = browser.findElement(By.id("recipients")).getText();
        assertTrue(recipients.contains("console@etrn.test") && recipients.contains("Connection refused"), recipients);
        assertTrue(browser.findElement(By.id("header")).getText().contains("Subject: for the console"),
                browser.findElement(By.id("header")).getText());
        assertEquals(1, browser.findElements(By.id("raw")).size(), "an administrator may download the message");
        shot("2b-message");
        browser.get(BASE + "/queue.xhtml");
        waitFor(By.id("browser:recipient")).sendKeys("console@etrn.test");
        showUntil(By.cssSelector(".id-" + id));

        confirm(By.cssSelector(".hold-" + id));
        waitForText("Placed on hold: 1 message");
        chooseQueue("hold");
        showUntil(By.cssSelector(".release-" + id));
        shot("3-held");
        String log = Files.readString(Postern.mailLog());
        assertTrue(log.contains("postern/postsuper[") && log.contains(id + ": placed on hold"), "mail log");

        confirm(By.cssSelector(".release-" + id));
        waitForText("Released from hold: 1 message");
        shot("4-released");

        try (TestSink customer = TestSink.smtp(12529)) {
            WebElement site = browser.findElement(By.id("flush:site"));
            site.clear();
            site.sendKeys("etrn.test");
            ajaxDone();
            click(By.id("flush:flushSite"));
            waitForText("Queuing started for etrn.test.");
            shot("5-flushed");
            TestSink.Delivery d = customer.nextWith(id, 30);
            assertNotNull(d, "the flushed mail did not arrive");
            assertTrue(d.text().contains("id " + id), d.text());
        }
        // the server page: main.cf as postconf -n, and the mail log narrowed to the message
        browser.get(BASE + "/server.xhtml?q=" + id);
        String settings = waitFor(By.id("settings")).getText();
        assertTrue(settings.contains("relay_domains") && settings.contains("etrn.test, later.test, quiet.test"), settings);
        String maillog = browser.findElement(By.id("maillog")).getText();
        assertTrue(maillog.contains(id + ": placed on hold") && maillog.lines().allMatch(l -> l.contains(id)), maillog);
        shot("7-server");

        String audit = Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"));
        assertTrue(audit.contains("PSTN6102: audit: console user=admin action=hold queue_id=" + id), "audit log");
        assertTrue(audit.contains("PSTN6102: audit: console user=admin action=flush site=etrn.test eligible=true"),
                "audit log");
    }

    @Test
    void anAdministratorChangesAParameterAndItTakesEffectAfterTheReload() throws Exception {
        Path mainCf = Path.of(System.getProperty("it.config"), "main.cf");
        String before = Files.readString(mainCf);
        try {
            logIn("it-admin", "Admin-Pass-1");
            browser.get(BASE + "/server.xhtml");
            waitFor(By.id("config:name")).sendKeys("smtpd_banner");
            browser.findElement(By.id("config:value")).sendKeys("$myhostname ESMTP from-the-console");
            confirm(By.id("config:set"));
            waitForText("Set smtpd_banner and reloaded.");
            shot("8-set-and-reloaded");
            assertEquals("220 postern.test ESMTP from-the-console", banner());
            assertTrue(Files.readString(mainCf).contains("smtpd_banner = $myhostname ESMTP from-the-console"));

            // a value the server refuses: the reason on the page, main.cf and the banner as they were
            String kept = Files.readString(mainCf);
            WebElement name = browser.findElement(By.id("config:name"));
            name.clear();
            name.sendKeys("message_size_limit");
            WebElement value = browser.findElement(By.id("config:value"));
            value.clear();
            value.sendKeys("lots");
            confirm(By.id("config:set"));
            waitForText("bad numerical configuration: message_size_limit = lots");
            shot("9-refused");
            assertEquals(kept, Files.readString(mainCf));

            // main.cf edited on disk: the page shows what a reload would change, Reload applies it
            Commands.Result e = Commands.run(java.util.Map.of("POSTERN_CONFIG_DIR", System.getProperty("it.config")),
                    null, List.of(Commands.bin("postconf"), "-e", "smtpd_banner = $myhostname ESMTP edited-on-disk"));
            assertEquals(0, e.status(), e.toString());
            browser.get(BASE + "/server.xhtml");
            assertTrue(waitFor(By.id("pending")).getText().contains("smtpd_banner"), "pending change shown");
            assertEquals("220 postern.test ESMTP from-the-console", banner(), "not before the reload");
            confirm(By.id("config:reload"));
            waitForText("Reloaded.");
            shot("10-reloaded");
            assertEquals("220 postern.test ESMTP edited-on-disk", banner());
            String audit = Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"));
            assertTrue(audit.contains("PSTN6102: audit: console user=it-admin action=set parameter=smtpd_banner"), "audit");
            assertTrue(audit.contains("PSTN6102: audit: console user=it-admin action=reload"), "audit");
        } finally {
            Files.writeString(mainCf, before);
            Commands.Result r = Commands.server(null, "postfix", "reload");
            assertEquals(0, r.status(), r.toString());
        }
    }

    @Test
    void anOperatorHoldsAndReturnsToSenderEveryMessageOfAFilterWithProgress() throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(Postern.send("bulk@etrn.test", "bulk " + i, "held in bulk, then returned"));
        }
        for (String id : ids) {
            DeliveryIT.waitForLog(id, "status=deferred");
        }
        logIn("it-operator", "Operator-Pass-1");
        browser.get(BASE + "/queue.xhtml");
        waitFor(By.id("browser:recipient")).sendKeys("bulk@etrn.test");
        for (String id : ids) {
            showUntil(By.cssSelector(".id-" + id));
        }
        confirm(By.id("browser:holdAll"));
        waitForText("Placed on hold: 3 of 3 messages - done");
        shot("11-bulk-held");
        chooseQueue("hold");
        showUntil(By.cssSelector(".id-" + ids.get(2)));
        confirm(By.id("browser:expireAll"));
        waitForText("Returned to sender: 3 of 3 messages - done");
        shot("12-bulk-returned");
        for (String id : ids) {
            String line = DeliveryIT.waitForLog(id, "status=expired").stream().filter(l -> l.contains("status=expired"))
                    .findFirst().orElseThrow();
            assertTrue(line.contains("(message expired: message is administratively expired)"), line);
        }
        String audit = Files.readString(Path.of(System.getProperty("it.server"), "log", "server.log"));
        assertTrue(audit.contains("PSTN6102: audit: console user=it-operator action=expire filter="), "audit");
        // the notices to sender@example.org are not this test's business
        for (String id : ids) {
            String notice = Postern.logLines(id).stream().filter(l -> l.contains("sender non-delivery notification: "))
                    .findFirst().orElse("");
            if (!notice.isEmpty()) {
                Commands.server(notice.substring(notice.lastIndexOf(' ') + 1) + "\n", "postsuper", "-d", "-");
            }
        }
    }

    @Test
    void anAdministratorEditsAnAccessTableInTheBrowser() throws Exception {
        Path config = Path.of(System.getProperty("it.config"));
        Path mainCf = config.resolve("main.cf");
        Path table = config.resolve("console_sender_access");
        String before = Files.readString(mainCf);
        Files.writeString(table, "# senders refused here\n");
        try {
            Commands.Result e = Commands.run(java.util.Map.of("POSTERN_CONFIG_DIR", config.toString()), null,
                    List.of(Commands.bin("postconf"), "-e", "smtpd_sender_restrictions = check_sender_access texthash:" + table));
            assertEquals(0, e.status(), e.toString());
            assertEquals(0, Commands.server(null, "postfix", "reload").status());
            logIn("it-admin", "Admin-Pass-1");
            browser.get(BASE + "/server.xhtml");
            assertTrue(waitFor(By.id("table-files")).getText().contains(table.toString()));
            ajaxDone();
            click(By.cssSelector(".show-table-0"));
            ajaxDone();
            shot("13-table-opened");
            WebElement text = waitFor(By.id("tables:text"));
            assertEquals("# senders refused here", text.getAttribute("value").strip());
            text.clear();
            text.sendKeys("refused@example.org REJECT refused by the console's table");
            confirm(By.id("tables:save"));
            waitForText("and reloaded.");
            shot("14-table-saved");
            assertEquals("refused@example.org REJECT refused by the console's table\n", Files.readString(table));
            String reply = Postern.rcptReply("refused@example.org", "someone@etrn.test");
            assertTrue(reply.startsWith("554 5.7.1") && reply.contains("refused by the console's table"), reply);
        } finally {
            Files.writeString(mainCf, before);
            assertEquals(0, Commands.server(null, "postfix", "reload").status());
            Files.deleteIfExists(table);
        }
    }

    private static String banner() throws Exception {
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            return c.reply();
        }
    }

    @Test
    void aViewerSeesTheQueueAndNoButtonThatChangesMail() throws Exception {
        String id = Postern.send("viewer@etrn.test", "for the console", "seen by a viewer");
        DeliveryIT.waitForLog(id, "status=deferred");
        logIn("it-viewer", "Viewer-Pass-1");
        browser.get(BASE + "/queue.xhtml");
        waitFor(By.id("browser:recipient")).sendKeys("viewer@etrn.test");
        showUntil(By.cssSelector(".id-" + id));
        shot("6-viewer");
        assertEquals(List.of(), browser.findElements(By.cssSelector(".hold-" + id)));
        assertEquals(List.of(), browser.findElements(By.id("flush:site")));
        assertEquals(List.of(), browser.findElements(By.id("browser:deleteAll")));
        ajaxDone();
        click(By.cssSelector("a.id-" + id));
        assertEquals(id, waitFor(By.id("message-id")).getText());
        assertEquals(List.of(), browser.findElements(By.id("raw")), "a viewer gets no download of someone's mail");
        browser.get(BASE + "/server.xhtml");
        waitFor(By.id("settings"));
        assertEquals(List.of(), browser.findElements(By.id("config:set")), "a viewer changes no parameter");
        assertEquals(List.of(), browser.findElements(By.id("config:reload")));
        // leave no deferred mail for etrn.test's sink in the tests that follow
        Commands.Result deleted = Commands.server(null, "postsuper", "-d", id);
        assertEquals(0, deleted.status(), deleted.toString());
    }

    /** logIn - a fresh session: log out, then the login form. */
    private static void logIn(String user, String password) {
        browser.manage().deleteAllCookies();
        browser.get(BASE + "/");
        waitFor(By.id("j_username")).sendKeys(user);
        browser.findElement(By.id("j_password")).sendKeys(password);
        browser.findElement(By.id("login")).click();
        waitFor(By.id("user"));
    }

    /** chooseQueue - pick the queue in the menu (through its widget: the page re-renders the menu after each action). */
    private static void chooseQueue(String queue) {
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("PF('queueMenu').selectValue(arguments[0]);",
                queue);
    }

    /**
     * showUntil - press Show until the element is there: a deferred message is in the
     * active queue for the moments of each retry (every 2 to 4 s here).
     */
    private static void showUntil(By by) throws Exception {
        try {
            new WebDriverWait(browser, Duration.ofSeconds(30)).pollingEvery(Duration.ofSeconds(1)).until(d -> {
                click(By.id("browser:show"));
                ajaxDone();
                return d.findElements(by).isEmpty() ? null : Boolean.TRUE;
            });
        } catch (org.openqa.selenium.TimeoutException e) {
            shot("failed-" + by.toString().replaceAll("[^A-Za-z0-9-]", "_"));
            throw e;
        }
    }

    /** ajaxDone - wait until PrimeFaces has no request in flight (the page is what the last answer made it). */
    private static void ajaxDone() {
        new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> Boolean.TRUE.equals(
                ((org.openqa.selenium.JavascriptExecutor) d).executeScript(
                        "return !window.PrimeFaces || PrimeFaces.ajax.Queue.isEmpty();")));
    }

    /** click - click the element, found again when an update replaced it in between. */
    private static void click(By by) {
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> {
                    d.findElement(by).click();
                    return true;
                });
    }

    /** confirm - click a button that asks, and answer yes. */
    private static void confirm(By button) {
        ajaxDone();
        click(button);
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(ExpectedConditions.elementToBeClickable(By.cssSelector(".ui-confirmdialog-yes"))).click();
    }

    private static WebElement waitFor(By by) {
        return new WebDriverWait(browser, Duration.ofSeconds(20)).until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    private static void waitForText(String text) {
        new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> d.getPageSource().contains(text));
    }

    private static void shot(String name) throws Exception {
        Path file = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(file, Chromium.SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
