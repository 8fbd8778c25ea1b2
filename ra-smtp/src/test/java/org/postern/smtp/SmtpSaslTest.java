package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;

/** The SASL client (AUTH) against a scripted server. */
class SmtpSaslTest {

    @TempDir
    Path dir;
    private FakeSmtpServer server;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private SmtpClientSettings.Sasl sasl(List<String> options, List<String> filter) throws IOException {
        Path map = dir.resolve("sasl_passwd");
        Files.writeString(map, "[127.0.0.1]:" + server.port() + " alice:s3cret\n");
        return new SmtpClientSettings.Sasl(true, List.of("texthash:" + map), options, options, filter);
    }

    private RecipientOutcome deliver(SmtpClientSettings.Sasl sasl) throws IOException {
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("127.0.0.1", server.port(), false),
                fast().withSasl(sasl))) {
            return s.deliver(message("x\r\n", "a@x.test")).recipients().get(0);
        }
    }

    @Test
    void cramMd5IsUsedInTheClearByDefault() throws Exception {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("AUTH PLAIN LOGIN CRAM-MD5");
        String challenge = Base64.getEncoder().encodeToString("<1896.697170952@postoffice.example.net>".getBytes());
        SmtpSasl.Credentials c = new SmtpSasl.Credentials("alice", "s3cret");
        server.on("AUTH CRAM-MD5", "334 " + challenge).on(SmtpSasl.cramMd5(c, challenge), "235 2.7.0 Authentication successful");
        assertEquals(Status.SENT, deliver(sasl(List.of("noplaintext", "noanonymous"), List.of())).status());
        assertEquals(List.of("AUTH CRAM-MD5"), server.commands("AUTH"));
        // RFC 2195's example, recomputed: user, space, hex HMAC-MD5 of the challenge
        String response = new String(Base64.getDecoder().decode(SmtpSasl.cramMd5(new SmtpSasl.Credentials("tim",
                "tanstaaftanstaaf"), Base64.getEncoder().encodeToString("<1896.697170952@postoffice.reston.mci.net>".getBytes()))));
        assertEquals("tim b913a602c7eda7a495b4e6e7334d3890", response);
    }

    @Test
    void plainNeedsTheOptionsToAllowPlaintext() throws Exception {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("AUTH PLAIN LOGIN");
        server.on("AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice\0s3cret".getBytes()), "235 2.7.0 Ok");
        RecipientOutcome refused = deliver(sasl(List.of("noplaintext", "noanonymous"), List.of()));
        assertEquals(new RecipientOutcome("a@x.test", Status.DEFERRED, "4.7.0", "SASL authentication failed; "
                + "cannot authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available"), refused);
        assertEquals(List.of(), server.commands("AUTH"), "the password never went out in the clear");
        assertEquals(Status.SENT, deliver(sasl(List.of("noanonymous"), List.of())).status());
        assertEquals(1, server.messages.size());
    }

    @Test
    void theMechanismFilterPicksLogin() throws Exception {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("AUTH PLAIN LOGIN");
        server.on("AUTH LOGIN", "334 VXNlcm5hbWU6").on(SmtpSasl.b64("alice"), "334 UGFzc3dvcmQ6")
                .on(SmtpSasl.b64("s3cret"), "235 2.7.0 Ok");
        assertEquals(Status.SENT, deliver(sasl(List.of("noanonymous"), List.of("login"))).status());
        assertEquals(List.of("AUTH LOGIN"), server.commands("AUTH"));
    }

    @Test
    void aRejectedAuthDefersAndNoEntryMeansNoAuth() throws Exception {
        server = new FakeSmtpServer(false);
        server.ehloKeywords = List.of("AUTH PLAIN");
        server.on("AUTH", "535 5.7.8 Error: authentication failed");
        RecipientOutcome r = deliver(sasl(List.of("noanonymous"), List.of()));
        assertEquals(Status.DEFERRED, r.status());
        assertEquals("4.7.8", r.dsn());
        assertTrue(r.reply().startsWith("SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535"), r.reply());
        assertEquals(0, server.messages.size());
        Path empty = dir.resolve("empty");
        Files.writeString(empty, "other.example bob:pw\n");
        SmtpClientSettings.Sasl none = new SmtpClientSettings.Sasl(true, List.of("texthash:" + empty),
                List.of("noanonymous"), List.of("noanonymous"), List.of());
        server.transcript.clear();
        assertEquals(Status.SENT, deliver(none).status());
        assertEquals(List.of(), server.commands("AUTH"));
    }
}
