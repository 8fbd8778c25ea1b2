package org.postern.maillog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MailLoggerTest - the ident syslog_name/daemon reaches the mail log: in the record that a
 * java.util.logging handler of postern.maillog.&lt;daemon&gt; receives, and in the line that
 * WildFly's pattern formatter (JBoss LogManager, from the WildFly distribution that
 * wildfly-config unpacks) makes of it with the pattern of configure-logging.cli.
 */
class MailLoggerTest {

    /** records received by a handler on a daemon's logger, as a test listener sees them */
    private static final class Capture extends Handler {
        final List<LogRecord> records = new ArrayList<>();

        @Override
        public synchronized void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    private final Capture smtpd = new Capture();

    @BeforeEach
    void listen() {
        Logger.getLogger("postern.maillog.smtpd").addHandler(smtpd);
    }

    @AfterEach
    void stop() {
        Logger.getLogger("postern.maillog.smtpd").removeHandler(smtpd);
    }

    @Test
    void theIdentIsSyslogNameSlashDaemon() {
        assertEquals("postern/smtpd", MailLogger.of("smtpd", MailLogger.DEFAULT_SYSLOG_NAME).ident());
        assertEquals("postfix-out/qmgr", MailLogger.of("qmgr", "postfix-out").ident());
        assertEquals("postfix/submission/smtpd", MailLogger.of("smtpd", "postfix/submission").ident());
        // a dot is a character like any other: the category is not cut at it
        assertEquals("mail.example/smtp", MailLogger.of("smtp", "mail.example").ident());
        // Postfix's mail_task() with an empty syslog_name
        assertEquals("/smtpd", MailLogger.of("smtpd", "").ident());
        assertEquals("postern/smtpd", MailLogger.of("smtpd", null).ident());
        assertSame(MailLogger.of("lmtp", "x"), MailLogger.of("lmtp", "x"));
    }

    @Test
    void theLoggerIsTheDaemonsWhateverTheName() {
        MailLogger.of("smtpd", "postfix/submission").info("connect from localhost[127.0.0.1]");
        MailLogger.of("smtpd", "postern").warning("warning: non-SMTP command from localhost[127.0.0.1]: GET /");
        assertEquals(2, smtpd.records.size());
        LogRecord first = smtpd.records.get(0);
        assertEquals("postern.maillog.smtpd", first.getLoggerName());
        assertEquals(Level.INFO, first.getLevel());
        assertEquals("postfix/submission/smtpd", first.getSourceClassName());
        assertNull(first.getSourceMethodName());
        assertEquals("connect from localhost[127.0.0.1]", first.getMessage());
        LogRecord second = smtpd.records.get(1);
        assertEquals(Level.WARNING, second.getLevel());
        assertEquals("postern/smtpd", second.getSourceClassName());
    }

    @Test
    void configureLoggingCliUsesThePattern() throws Exception {
        String cli = Files.readString(cli());
        assertTrue(cli.contains("pattern-formatter=POSTERN-MAILLOG:add(pattern=\"" + MailLogger.PATTERN + "\")"), cli);
    }

    /**
     * WildFly's formatter, the pattern of configure-logging.cli: the default name gives
     * exactly the line of before (postern/smtpd[pid]:), another name and a per-service name
     * with a slash and a dot come out whole.
     */
    @Test
    void wildflysPatternFormatterPrintsTheIdent(@TempDir Path tmp) throws Exception {
        Optional<Path> dist = wildflyDist();
        assumeTrue(dist.isPresent(), "the WildFly distribution is not in the local Maven repository");
        String pattern = pattern(Files.readString(cli()));
        try (URLClassLoader jboss = jbossLogManager(dist.get(), tmp)) {
            Formatter f = (Formatter) jboss.loadClass("org.jboss.logmanager.formatters.PatternFormatter")
                    .getConstructor(String.class).newInstance(pattern);
            long pid = ProcessHandle.current().pid();
            String[][] cases = {
                    {"postern", "postern/smtpd"},
                    {"postern-test", "postern-test/smtpd"},
                    {"postfix/submission", "postfix/submission/smtpd"},
                    {"mail.example", "mail.example/smtpd"},
            };
            for (String[] c : cases) {
                smtpd.records.clear();
                MailLogger.of("smtpd", c[0]).info("0196A1B2C3D4E5F6: client=localhost[127.0.0.1]");
                String line = f.format(smtpd.records.get(0));
                Matcher m = Pattern.compile("[A-Z][a-z]{2} \\d\\d \\d\\d:\\d\\d:\\d\\d (\\S+) (.*)\\R").matcher(line);
                assertTrue(m.matches(), line);
                assertEquals(c[1] + "[" + pid + "]: 0196A1B2C3D4E5F6: client=localhost[127.0.0.1]", m.group(2));
            }
        }
    }

    /* cli - configure-logging.cli of wildfly-config, beside this module */
    private static Path cli() {
        return Path.of("").toAbsolutePath().getParent().resolve("wildfly-config/src/main/cli/configure-logging.cli");
    }

    /* pattern - the pattern of the POSTERN-MAILLOG formatter in a CLI script */
    private static String pattern(String cli) {
        Matcher m = Pattern.compile("pattern-formatter=POSTERN-MAILLOG:add\\(pattern=\"([^\"]*)\"\\)").matcher(cli);
        assertTrue(m.find(), cli);
        return m.group(1);
    }

    /* wildflyDist - the WildFly distribution of the parent pom's version.wildfly in ~/.m2, if there */
    private static Optional<Path> wildflyDist() throws Exception {
        String pom = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("pom.xml"));
        Matcher v = Pattern.compile("<version.wildfly>([^<]+)</version.wildfly>").matcher(pom);
        if (!v.find()) {
            return Optional.empty();
        }
        Path zip = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "wildfly", "wildfly-dist",
                v.group(1), "wildfly-dist-" + v.group(1) + ".zip");
        return Files.isRegularFile(zip) ? Optional.of(zip) : Optional.empty();
    }

    /* jbossLogManager - jboss-logmanager and what it finds the host name and pid with, from the distribution */
    private static URLClassLoader jbossLogManager(Path dist, Path tmp) throws Exception {
        List<URL> urls = new ArrayList<>();
        try (ZipFile zip = new ZipFile(dist.toFile()); Stream<? extends ZipEntry> entries = zip.stream()) {
            for (ZipEntry e : entries.filter(e -> e.getName().matches(
                    ".*/modules/system/layers/base/(org/jboss/logmanager|org/wildfly/common|io/smallrye/common/(net|os|constraint))"
                            + "/main/[^/]+\\.jar")).toList()) {
                Path jar = tmp.resolve(e.getName().substring(e.getName().lastIndexOf('/') + 1));
                try (InputStream in = zip.getInputStream(e)) {
                    Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
                }
                urls.add(jar.toUri().toURL());
            }
        }
        assertEquals(5, urls.size(), "jboss-logmanager, wildfly-common and three smallrye-common jars in " + dist);
        return new URLClassLoader(urls.toArray(URL[]::new), MailLoggerTest.class.getClassLoader());
    }
}
