package org.postern.ra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import org.postern.smtpd.SmtpdSettings;

class SmtpdSettingsFactoryTest {

    @Test
    void postfixDefaultsBecomeEngineSettings() {
        SmtpdSettings s = SmtpdSettingsFactory.from(Config.parse("myhostname = mx.example.com", "main.cf"), "smtpd");
        assertEquals("mx.example.com ESMTP Postern", s.identity().banner());
        assertEquals(10_240_000L, s.limits().messageSizeLimit());
        assertEquals(2048, s.limits().lineLengthLimit());
        assertEquals(Duration.ofSeconds(300), s.limits().timeout());
        assertEquals(1000, s.limits().recipientLimit());
        assertEquals(SmtpdSettings.BareNewline.NORMALIZE, s.protocol().bareNewline());
        // the exclusions default to $mynetworks, the loopback networks
        assertTrue(s.protocol().bareNewlineExclusions().test("127.0.0.1"));
        assertFalse(s.protocol().bareNewlineExclusions().test("192.0.2.1"));
    }

    @Test
    void masterCfOverridesApply() {
        Config main = Config.parse("message_size_limit = 1000\nmynetworks = 192.0.2.0/24", "main.cf");
        Config c = main.withOverrides(Map.of("message_size_limit", "5000", "smtpd_timeout", "10s"), "master.cf");
        SmtpdSettings s = SmtpdSettingsFactory.from(c, "587");
        assertEquals(5000, s.limits().messageSizeLimit());
        assertEquals(Duration.ofSeconds(10), s.limits().timeout());
        assertTrue(s.protocol().bareNewlineExclusions().test("192.0.2.9"));
    }

    /** syslog_name: main.cf's value, or the service's own -o syslog_name=... */
    @Test
    void syslogNameOfMainCfOrOfTheService() {
        assertEquals("postern", SmtpdSettingsFactory.from(Config.parse("", "main.cf"), "smtpd").identity().syslogName());
        Config main = Config.parse("syslog_name = postfix-out", "main.cf");
        assertEquals("postfix-out", SmtpdSettingsFactory.from(main, "smtpd").identity().syslogName());
        Config submission = main.withOverrides(Map.of("syslog_name", "postfix/submission"), "master.cf");
        assertEquals("postfix/submission", SmtpdSettingsFactory.from(submission, "587").identity().syslogName());
    }

    @Test
    void aBadValueIsAnErrorNotAListener() {
        Config c = Config.parse("mynetworks = some.host.example", "main.cf");
        assertThrows(RuntimeException.class, () -> SmtpdSettingsFactory.from(c, "smtpd"));
    }

    @Test
    void policyAndLimitParameters() {
        SmtpdSettings s = SmtpdSettingsFactory.from(Config.parse("myhostname = mx.example.com\n"
                + "smtpd_soft_error_limit = 3\nsmtpd_error_sleep_time = 5\nsmtpd_junk_command_limit = 7\n"
                + "hopcount_limit = 9\nqueue_minfree = 1048576\nsmtpd_client_connection_count_limit = 4\n"
                + "smtpd_client_connection_rate_limit = 30\nanvil_rate_time_unit = 2m", "main.cf"), "smtpd");
        assertEquals(3, s.limits().softErrorLimit());
        assertEquals(Duration.ofSeconds(5), s.limits().errorSleepTime());
        assertEquals(7, s.limits().junkCommandLimit());
        assertEquals(9, s.limits().hopcountLimit());
        assertEquals(1L << 20, s.limits().queueMinfree());
        assertEquals(4, s.connections().connectionCountLimit());
        assertEquals(30, s.connections().connectionRateLimit());
        assertEquals(Duration.ofMinutes(2), s.connections().rateTimeUnit());
        // the exceptions default to $mynetworks
        assertTrue(s.connections().eventLimitExceptions().test("127.0.0.1"));
        assertFalse(s.connections().eventLimitExceptions().test("192.0.2.1"));
        assertTrue(s.check().delayReject());
        assertEquals(SmtpdSettings.TlsLevel.NONE, s.security().tlsLevel());
    }

    @Test
    void wrapperModeServiceFromMasterCf(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path cert = dir.resolve("cert.pem");
        java.nio.file.Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=mx.example.com")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        java.nio.file.Files.writeString(cert, java.nio.file.Files.readString(key), java.nio.file.StandardOpenOption.APPEND);
        Config main = Config.parse("myhostname = mx.example.com\nsmtpd_tls_cert_file = " + cert, "main.cf");
        java.util.List<org.postern.config.MasterService> services = org.postern.config.MasterCf.parse(
                "127.0.0.1:20465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n"
                        + "127.0.0.1:20587 inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n"
                        + "127.0.0.1:20025 inet n - n - - smtpd\n", "master.cf");
        SmtpdSettings submissions = SmtpdSettingsFactory.from(services.get(0).settings(main), "465");
        SmtpdSettings submission = SmtpdSettingsFactory.from(services.get(1).settings(main), "587");
        SmtpdSettings smtp = SmtpdSettingsFactory.from(services.get(2).settings(main), "25");
        assertTrue(submissions.security().tlsWrapperMode());
        assertFalse(submissions.offersStartTls());
        assertTrue(submissions.security().sslContext() != null, "key and certificate in one file, as Postfix allows");
        assertEquals(SmtpdSettings.TlsLevel.ENCRYPT, submission.security().tlsLevel());
        assertTrue(submission.offersStartTls());
        assertEquals(SmtpdSettings.TlsLevel.NONE, smtp.security().tlsLevel());
        assertEquals(null, smtp.security().sslContext());
    }

    /** a listener whose authenticate answers from a map, or throws when the domain is down */
    private static SmtpdListener listener(Map<String, String> users, boolean down) {
        return new SmtpdListener() {
            @Override
            public String enqueue(Envelope envelope, InputStream content) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean authenticate(String authzid, String username, char[] password) throws EnqueueException {
                if (down) {
                    throw new EnqueueException("454 4.7.0 Temporary authentication failure", "realm down", null);
                }
                return new String(password).equals(users.get(username)) && (authzid.isEmpty() || authzid.equals(username));
            }
        };
    }

    @Test
    void elytronIsTheDefaultAndAsksTheEndpoint() {
        Config c = Config.parse("smtpd_sasl_auth_enable = yes", "main.cf");
        SmtpdSettings s = SmtpdSettingsFactory.from(c, "587", listener(Map.of("alice", "s3cret"), false));
        assertTrue(s.offersAuth(false));
        assertTrue(s.security().authenticator().authenticate("", "alice", "s3cret".toCharArray()));
        assertFalse(s.security().authenticator().authenticate("", "alice", "wrong".toCharArray()));
        assertFalse(s.security().authenticator().authenticate("bob", "alice", "s3cret".toCharArray()));
        // a domain that cannot answer is a temporary failure (the session says 454), never a success
        SmtpdSettings down = SmtpdSettingsFactory.from(c, "587", listener(Map.of(), true));
        assertThrows(IllegalStateException.class,
                () -> down.security().authenticator().authenticate("", "alice", "s3cret".toCharArray()));
    }

    @Test
    void cyrusFromACopiedMainCfMeansElytron() {
        Config c = Config.parse("smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = cyrus\nsmtpd_sasl_path = smtpd",
                "main.cf");
        SmtpdSettings s = SmtpdSettingsFactory.from(c, "submission", listener(Map.of("alice", "s3cret"), false));
        assertTrue(s.offersAuth(false));
        assertTrue(s.security().authenticator().authenticate("", "alice", "s3cret".toCharArray()));
    }

    @Test
    void noAuthWithoutSmtpdSaslAuthEnable() {
        SmtpdSettings s = SmtpdSettingsFactory.from(Config.parse("", "main.cf"), "smtpd",
                listener(Map.of("alice", "s3cret"), false));
        assertFalse(s.offersAuth(true));
    }

    @Test
    void inetInterfacesDecideWhereAServiceWithoutAddressListens() {
        assertEquals(java.util.Collections.singletonList(null),
                SmtpdSettingsFactory.listenAddresses(Config.parse("", "main.cf")));
        assertEquals(java.util.List.of("127.0.0.1"), SmtpdSettingsFactory.listenAddresses(
                Config.parse("inet_interfaces = loopback-only\ninet_protocols = ipv4", "main.cf")));
        assertEquals(java.util.List.of("192.0.2.25", "2001:db8::25", "mail.example.com"),
                SmtpdSettingsFactory.listenAddresses(Config.parse(
                        "inet_interfaces = 192.0.2.25, [2001:db8::25] mail.example.com", "main.cf")));
    }
}
