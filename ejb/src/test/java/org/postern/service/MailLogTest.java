package org.postern.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;
import org.postern.config.ConfigLocator;

/**
 * MailLog - the ident of each line: main.cf's syslog_name for qmgr, cleanup, bounce,
 * postsuper and master, in force after a load and after each reload; the delivery service's
 * own syslog_name (master.cf -o syslog_name=...) for the smtp and lmtp lines.
 */
class MailLogTest {

    @TempDir
    Path dir;

    private String saved;
    /** "ident: text" of each line, in order */
    private final List<String> lines = new ArrayList<>();
    private final List<Logger> daemons = List.of("qmgr", "cleanup", "bounce", "master", "smtp", "lmtp").stream()
            .map(d -> Logger.getLogger("postern.maillog." + d)).toList();
    private final Handler capture = new Handler() {
        @Override
        public synchronized void publish(LogRecord r) {
            lines.add(r.getSourceClassName() + ": " + r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        daemons.forEach(l -> l.addHandler(capture));
    }

    @AfterEach
    void restore() {
        daemons.forEach(l -> l.removeHandler(capture));
        MailLog.syslogName(Config.parse("", "main.cf"));
        if (saved == null) {
            System.clearProperty(ConfigLocator.PROPERTY);
        } else {
            System.setProperty(ConfigLocator.PROPERTY, saved);
        }
    }

    private ConfigService service(String mainCf, String masterCf) throws Exception {
        Files.writeString(dir.resolve("main.cf"), mainCf);
        Files.writeString(dir.resolve("master.cf"), masterCf);
        saved = System.getProperty(ConfigLocator.PROPERTY);
        System.setProperty(ConfigLocator.PROPERTY, dir.toString());
        ConfigService s = new ConfigService();
        s.load();
        return s;
    }

    @Test
    void theDefaultIsPostern() throws Exception {
        ConfigService s = service("", "");
        MailLog.qmgr("0196A1B2C3D4E5F6: removed");
        MailLog.delivery(s.deliveryServices().service("smtp").config(), false, "0196A1B2C3D4E5F6: to=<a@b>");
        assertEquals(List.of("postern/qmgr: 0196A1B2C3D4E5F6: removed",
                "postern/smtp: 0196A1B2C3D4E5F6: to=<a@b>"), lines);
    }

    @Test
    void aReloadPutsMainCfsNameInForce() throws Exception {
        ConfigService s = service("", "");
        MailLog.cleanup("0196A1B2C3D4E5F6: message-id=<1@b>");
        Files.writeString(dir.resolve("main.cf"), "syslog_name = postern-test\n");
        s.reload();
        MailLog.qmgr("0196A1B2C3D4E5F6: removed");
        MailLog.bounce("0196A1B2C3D4E5F6: sender non-delivery notification: 0196A1B2C3D4E5F7");
        assertEquals("postern/cleanup: 0196A1B2C3D4E5F6: message-id=<1@b>", lines.get(0));
        // Postfix's master logs its reload under the name of the new main.cf
        assertTrue(lines.get(1).startsWith("postern-test/master: reload -- version "), lines.get(1));
        assertEquals("postern-test/qmgr: 0196A1B2C3D4E5F6: removed", lines.get(2));
        assertEquals("postern-test/bounce: 0196A1B2C3D4E5F6: sender non-delivery notification: 0196A1B2C3D4E5F7",
                lines.get(3));
        Files.writeString(dir.resolve("main.cf"), "");
        s.reload();
        MailLog.qmgr("0196A1B2C3D4E5F6: removed");
        assertEquals("postern/qmgr: 0196A1B2C3D4E5F6: removed", lines.get(lines.size() - 1));
    }

    @Test
    void aDeliveryServiceLogsUnderItsOwnName() throws Exception {
        ConfigService s = service("syslog_name = postfix-out\n",
                "slow unix - - n - 2 smtp -o syslog_name=postfix/slow\n"
                        + "dovecot unix - - n - - lmtp -o syslog_name=postfix/dovecot\n");
        DeliveryServices d = s.deliveryServices();
        MailLog.delivery(d.service("slow").config(), false, "1: to=<a@b>, relay=none");
        MailLog.delivery(d.service("dovecot").config(), true, "2: to=<a@b>, relay=none");
        MailLog.delivery(d.service("smtp").config(), false, "3: to=<a@b>, relay=none");
        MailLog.delivery(d.service("lmtp").config(), true, "4: to=<a@b>, relay=none");
        MailLog.qmgr("5: removed");
        assertEquals(List.of("postfix/slow/smtp: 1: to=<a@b>, relay=none",
                "postfix/dovecot/lmtp: 2: to=<a@b>, relay=none",
                "postfix-out/smtp: 3: to=<a@b>, relay=none",
                "postfix-out/lmtp: 4: to=<a@b>, relay=none",
                "postfix-out/qmgr: 5: removed"), lines);
    }
}
