package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterCfTest {
    private static final String F = "/etc/postern/master.cf";

    private static MasterService one(String line) {
        List<MasterService> s = MasterCf.parse(line + "\n", F);
        assertEquals(1, s.size());
        return s.get(0);
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> MasterCf.parse(text, F)).getMessage();
    }

    @Test
    void fieldsCommentsAndContinuation() {
        List<MasterService> s = MasterCf.parse("""
                # service type  private unpriv  chroot  wakeup  maxproc command + args
                # ==========================================================================
                127.0.0.1:2525 inet n - n - - smtpd
                submission inet n - y - 100 smtpd
                  -o smtpd_timeout=60s
                # a comment inside the continuation
                  -o { smtpd_banner = $myhostname Submission ready }
                pickup    unix  n       -       y       60?     1       pickup
                """, F);
        assertEquals(3, s.size());
        MasterService a = s.get(0);
        assertEquals("127.0.0.1:2525", a.name());
        assertEquals("inet", a.type());
        assertEquals("smtpd", a.command());
        assertEquals(Optional.of("127.0.0.1"), a.bindHost());
        assertEquals(2525, a.port());
        assertEquals("n", a.privateFlag());
        assertEquals("-", a.unprivFlag());
        assertEquals("n", a.chrootFlag());
        assertEquals("/etc/postern/master.cf, line 3", a.origin());

        MasterService sub = s.get(1);
        assertEquals(587, sub.port());
        assertEquals(Optional.empty(), sub.bindHost());
        assertEquals("100", sub.maxproc());
        assertEquals(List.of("smtpd_timeout", "smtpd_banner"), List.copyOf(sub.overrides().keySet()));
        assertEquals("60s", sub.overrides().get("smtpd_timeout"));
        assertEquals("$myhostname Submission ready", sub.overrides().get("smtpd_banner"));
        assertEquals(List.of(), sub.args());

        MasterService pickup = s.get(2);
        assertEquals("unix", pickup.type());
        assertEquals("60?", pickup.wakeup());
        assertEquals(-1, pickup.port());
        assertFalse(pickup.isInet());

        assertEquals(List.of(a, sub), MasterCf.smtpdServices(s));
    }

    @Test
    void overrideForms() {
        MasterService s = one("2525 inet n - n - - smtpd -o smtpd_timeout=10s -omessage_size_limit=5 "
                + "-o { mail_name = A B } -o{syslog_name=x} -v -o smtpd_timeout=20s { an arg }");
        assertEquals(Map.of("smtpd_timeout", "20s", "message_size_limit", "5", "mail_name", "A B",
                "syslog_name", "x"), s.overrides());
        assertEquals(List.of("message_size_limit", "mail_name", "syslog_name", "smtpd_timeout"),
                List.copyOf(s.overrides().keySet()));
        assertEquals(List.of("-v", "an arg"), s.args());
    }

    @Test
    void settingsApplyTheOverridesToMainCf() {
        MasterService s = one("2525 inet n - n - - smtpd -o smtpd_timeout=10s -o { smtpd_banner = $mail_name here }");
        Config c = s.settings(Config.parse("mail_name = Edge\n", "main.cf"));
        assertEquals(Duration.ofSeconds(10), c.get(Parameters.SMTPD_TIMEOUT));
        assertEquals("Edge here", c.get(Parameters.SMTPD_BANNER));

        MasterService bad = one("2525 inet n - n - - smtpd -o smtpd_timeout=soon");
        ConfigException e = assertThrows(ConfigException.class, () -> bad.settings(Config.defaults()));
        assertEquals("/etc/postern/master.cf, line 1: bad time value or unit: smtpd_timeout = soon", e.getMessage());
    }

    @Test
    void addressForms() {
        assertEquals(Optional.of("::1"), one("[::1]:2525 inet n - n - - smtpd").bindHost());
        assertEquals(2525, one("[::1]:2525 inet n - n - - smtpd").port());
        assertEquals(Optional.empty(), one("2525 inet n - n - - smtpd").bindHost());
        assertEquals(25, one("smtp inet n - n - - smtpd").port());
        assertEquals(587, one("submission inet n - n - - smtpd").port());
        assertEquals(465, one("smtps inet n - n - - smtpd").port());
        assertEquals(465, one("submissions inet n - n - - smtpd").port());
        assertEquals(Optional.of("mail.example.com"), one("mail.example.com:smtp inet n - n - - smtpd").bindHost());
        assertEquals(25, one("mail.example.com:smtp inet n - n - - smtpd").port());
        assertEquals(Optional.empty(), one("*:2525 inet n - n - - smtpd").bindHost());
    }

    @Test
    void badAddresses() {
        assertEquals(F + ", line 1: unknown service port: \"gopher\"", error("gopher inet n - n - - smtpd"));
        assertEquals(F + ", line 1: bad inet service port: \"0\"", error("0 inet n - n - - smtpd"));
        assertEquals(F + ", line 1: bad inet service port: \"70000\"", error("70000 inet n - n - - smtpd"));
        assertEquals(F + ", line 1: bad inet service address: \"::1:25\"", error("::1:25 inet n - n - - smtpd"));
        assertEquals(F + ", line 1: bad inet service address: \"[::1]\"", error("[::1] inet n - n - - smtpd"));
        assertEquals(F + ", line 1: bad inet service host: \"\"", error(":25 inet n - n - - smtpd"));
    }

    @Test
    void fieldErrorsNameFileAndLine() {
        assertEquals(F + ", line 2: missing \"command\" field", error("# x\n2525 inet n - n - -\n"));
        assertEquals(F + ", line 1: missing \"type\" field", error("2525\n"));
        assertEquals(F + ", line 1: bad transport type: \"tcp\"", error("2525 tcp n - n - - smtpd"));
        assertEquals(F + ", line 1: bad \"private\" field: \"x\"", error("2525 inet x - n - - smtpd"));
        assertEquals(F + ", line 1: bad \"chroot\" field: \"yes\"", error("2525 inet n - yes - - smtpd"));
        assertEquals(F + ", line 1: bad \"wakeup\" field: \"soon\"", error("2525 inet n - n soon - smtpd"));
        assertEquals(F + ", line 1: bad \"maxproc\" field: \"many\"", error("2525 inet n - n - many smtpd"));
        assertEquals(F + ", line 1: option requires an argument: -o", error("2525 inet n - n - - smtpd -o"));
        assertEquals(F + ", line 1: bad -o option: \"smtpd_timeout\": need name=value",
                error("2525 inet n - n - - smtpd -o smtpd_timeout"));
        assertEquals(F + ", line 1: bad -o option: \"=x\": need name=value", error("2525 inet n - n - - smtpd -o =x"));
        assertTrue(error("2525 inet n - n - - smtpd -o { a = b").contains("missing '}'"));
        assertTrue(error("  2525 inet n - n - - smtpd").startsWith(F + ", line 1: logical line must not start"));
        assertEquals(F + ", line 2: duplicate service name and type: \"2525/inet\"",
                error("2525 inet n - n - - smtpd\n2525 inet n - n - - smtpd\n"));
    }

    @Test
    void loadAndDefault(@TempDir Path dir) throws IOException {
        List<MasterService> d = MasterCf.load(dir);
        assertEquals(1, d.size());
        assertEquals(Optional.of("127.0.0.1"), d.get(0).bindHost());
        assertEquals(2525, d.get(0).port());
        assertEquals("smtpd", d.get(0).command());
        assertEquals(d, MasterCf.smtpdServices(d));

        Files.writeString(dir.resolve("master.cf"), "[::1]:10025 inet n - n - - smtpd\n");
        List<MasterService> s = MasterCf.load(dir);
        assertEquals(Optional.of("::1"), s.get(0).bindHost());
        assertEquals(dir.resolve("master.cf") + ", line 1", s.get(0).origin());
    }

    @Test
    void garbageNeverThrowsAnythingButConfigException() {
        java.util.Random random = new java.util.Random(7);
        String[] words = {"2525", "inet", "unix", "n", "-", "y", "smtpd", "-o", "{", "}", "a=b", "[::1]:25", "\n", " ",
                "\n ", "#", "x:y", "60?", "=", "[", "]"};
        for (int round = 0; round < 3000; round++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(20);
            for (int i = 0; i < n; i++) {
                sb.append(words[random.nextInt(words.length)]).append(random.nextBoolean() ? " " : "");
            }
            try {
                MasterCf.parse(sb.toString(), F);
            } catch (ConfigException expected) {
                assertTrue(expected.getMessage().startsWith(F), expected.getMessage());
            }
        }
    }
}
