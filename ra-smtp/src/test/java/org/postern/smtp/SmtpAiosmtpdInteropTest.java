package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.test.Peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.SmtpTargetResolverTest.FakeDns;
import org.postern.smtp.dns.MxRecord;

/**
 * Interop with Python's aiosmtpd as the receiving MTA, with STARTTLS and AUTH both required:
 * the mail arrives encrypted and authenticated (skipped when aiosmtpd or openssl is absent).
 */
class SmtpAiosmtpdInteropTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static final String OPENSSL = "/usr/bin/openssl";

    @TempDir
    Path dir;
    private Process peer;
    private int port;
    private Path out;

    @BeforeEach
    void start() throws Exception {
        Peers.assume(new File(PYTHON).canExecute() && new File(OPENSSL).canExecute(), "python3 or openssl missing");
        Process check = new ProcessBuilder(PYTHON, "-c", "import aiosmtpd").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Peers.assume(check.waitFor(30, TimeUnit.SECONDS) && check.exitValue() == 0, "aiosmtpd is not installed");
        Process cert = new ProcessBuilder(OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.resolve("key.pem").toString(),
                "-out", dir.resolve("cert.pem").toString(), "-days", "2", "-subj", "/CN=mx.tls.test",
                "-addext", "subjectAltName=DNS:mx.tls.test").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(cert.waitFor(30, TimeUnit.SECONDS) && cert.exitValue() == 0, "openssl req");
        Path script = dir.resolve("aiosmtpd_peer.py");
        try (InputStream in = getClass().getResourceAsStream("aiosmtpd_peer.py")) {
            Files.copy(in, script);
        }
        out = Files.createDirectory(dir.resolve("out"));
        for (int attempt = 0; attempt < 5 && peer == null; attempt++) {
            port = 21400 + new Random().nextInt(500);
            Process p = new ProcessBuilder(PYTHON, script.toString(), String.valueOf(port),
                    dir.resolve("cert.pem").toString(), dir.resolve("key.pem").toString(), out.toString(),
                    "alice", "s3cret").redirectErrorStream(true).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = r.readLine();
            if ("ready".equals(line)) {
                peer = p;
            } else {
                p.destroy();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
        Peers.assume(peer != null, "aiosmtpd did not start");
    }

    @AfterEach
    void stop() throws Exception {
        if (peer != null) {
            peer.destroy();
            peer.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void mailArrivesOverVerifiedTlsWithSaslPlain() throws Exception {
        Path passwd = dir.resolve("sasl_passwd");
        Files.writeString(passwd, "mx.tls.test alice:s3cret\n");
        SmtpClientSettings settings = fast()
                .withTls(new SmtpClientSettings.Tls("verify", dir.resolve("cert.pem").toString(), "",
                        List.of("hostname"), Duration.ofSeconds(5)))
                .withSasl(new SmtpClientSettings.Sasl(true, List.of("texthash:" + passwd),
                        List.of("noplaintext", "noanonymous"), List.of("noanonymous"), List.of()));
        FakeDns dns = new FakeDns().host("mx.tls.test", "127.0.0.1");
        dns.mx.put("tls.test", List.of(new MxRecord(10, "mx.tls.test")));
        DeliveryOutcome o;
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("tls.test", port, true), settings, dns)) {
            o = s.deliver(message("Subject: interop\r\n\r\nover TLS\r\n", "a@tls.test", "b@tls.test"));
        }
        for (DeliveryOutcome.RecipientOutcome r : o.recipients()) {
            assertEquals(Status.SENT, r.status(), r.toString());
        }
        assertTrue(o.tls().startsWith("Verified TLS connection established to mx.tls.test[127.0.0.1]:" + port), o.tls());
        assertEquals("authenticated=True tls=True rcpt=a@tls.test,b@tls.test",
                Files.readString(out.resolve("msg0.meta")).trim());
        assertTrue(Files.readString(out.resolve("msg0.eml")).contains("over TLS"));
    }

    @Test
    void withoutCredentialsTheRequiredAuthRejectsAndNothingArrives() throws Exception {
        SmtpClientSettings settings = fast().withTls(new SmtpClientSettings.Tls("may", "", "", List.of("hostname"),
                Duration.ofSeconds(5)));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", port, false), settings)) {
            DeliveryOutcome o = s.deliver(message("Subject: no auth\r\n\r\nx\r\n", "a@tls.test"));
            DeliveryOutcome.RecipientOutcome r = o.recipients().get(0);
            assertTrue(o.tls().startsWith("Untrusted TLS connection established"), o.tls());
            assertEquals(Status.BOUNCED, r.status(), r.toString());   // aiosmtpd: 530 5.7.0 Authentication required
            assertTrue(r.reply().contains("(in reply to MAIL FROM command)"), r.reply());
        }
        try (java.util.stream.Stream<Path> files = Files.list(out)) {
            assertEquals(0, files.count());
        }
    }
}
