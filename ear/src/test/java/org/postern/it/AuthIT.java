package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * AuthIT - SMTP AUTH PLAIN and LOGIN against WildFly's Elytron security domain
 * (smtpd_sasl_type = elytron, the default): the user is an ApplicationRealm user made
 * with add-user.sh (ear/pom.xml), the client is swaks, and the submission service of
 * the test master.cf (127.0.0.1:12587) relays for authenticated clients only.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class AuthIT {
    private static final int SUBMISSION = 12587;
    private static TestSink sink;

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @BeforeAll
    static void startSink() throws Exception {
        sink = TestSink.smtp(12526);
    }

    @AfterAll
    static void stopSink() throws Exception {
        if (sink != null) {
            sink.close();
        }
    }

    @Test
    void authPlainWithTheRealmsPasswordRelays() throws Exception {
        String transcript = swaks(0, "--auth", "PLAIN", "--auth-user", "smtp-user", "--auth-password", "Smtp-Pass-1",
                "--from", "smtp-user@example.org", "--to", "friend@smtp.test");
        assertTrue(transcript.contains("<-  235 2.7.0 Authentication successful"), transcript);
        String queueId = queueId(transcript);
        TestSink.Delivery d = sink.next(60, TimeUnit.SECONDS);
        assertNotNull(d, "nothing at the sink; mail log: " + Postern.logLines(queueId));
        assertEquals(List.of("<friend@smtp.test>"), d.rcptTo());
        // Postfix's shape: the smtpd line names the method and the user
        assertTrue(Postern.logLines(queueId).stream().anyMatch(l -> l.contains("postern/smtpd[")
                && l.contains("client=") && l.contains("sasl_method=PLAIN, sasl_username=smtp-user")),
                Postern.logLines(queueId).toString());
    }

    @Test
    void authLoginWorksToo() throws Exception {
        String transcript = swaks(0, "--auth", "LOGIN", "--auth-user", "smtp-user", "--auth-password", "Smtp-Pass-1",
                "--from", "smtp-user@example.org", "--to", "other@smtp.test");
        assertTrue(transcript.contains("<-  235 2.7.0 Authentication successful"), transcript);
        queueId(transcript);
        TestSink.Delivery d = sink.next(60, TimeUnit.SECONDS);
        assertNotNull(d);
        assertEquals(List.of("<other@smtp.test>"), d.rcptTo());
    }

    @Test
    void aWrongPasswordIs535AndRelaysNothing() throws Exception {
        // swaks exits 28 when AUTH fails
        String transcript = swaks(28, "--auth", "PLAIN", "--auth-user", "smtp-user", "--auth-password", "wrong",
                "--from", "smtp-user@example.org", "--to", "friend@smtp.test");
        assertTrue(transcript.contains("<** 535 5.7.8 Error: authentication failed"), transcript);
        // without AUTH the same submission service refuses to relay
        String anonymous = swaks(24, "--from", "smtp-user@example.org", "--to", "friend@smtp.test");
        assertTrue(anonymous.contains("<** 554 5.7.1 <friend@smtp.test>: Relay access denied"), anonymous);
        assertNull(sink.next(3, TimeUnit.SECONDS));
        List<String> log = Files.readAllLines(Postern.mailLog(), StandardCharsets.UTF_8);
        assertTrue(log.stream().anyMatch(l -> l.contains("SASL PLAIN authentication failed")
                && l.contains("sasl_username=smtp-user")), String.join("\n", log));
        assertTrue(log.stream().noneMatch(l -> l.contains("wrong")), "the password must never be logged");
    }

    /** swaks - run swaks against the submission service; its transcript, after it exited with status. */
    private static String swaks(int status, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("swaks", "--server", Postern.HOST + ":" + SUBMISSION,
                "--timeout", "60", "--helo", "client.example.org"));
        command.addAll(List.of(args));
        Process swaks = new ProcessBuilder(command).redirectErrorStream(true).start();
        String transcript = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(swaks.waitFor(90, TimeUnit.SECONDS));
        assertEquals(status, swaks.exitValue(), transcript);
        return transcript;
    }

    private static String queueId(String transcript) {
        Matcher m = Pattern.compile("250 2\\.0\\.0 Ok: queued as ([0-9A-F]{16})").matcher(transcript);
        assertTrue(m.find(), transcript);
        return m.group(1);
    }
}
