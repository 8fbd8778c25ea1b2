package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AUTH PLAIN and LOGIN (RFC 4954) as conversations, with an in-memory authenticator. */
class SmtpdAuthTest extends SessionConversation {
    @TempDir
    static Path certs;
    static SslContext context;

    private final List<String> checked = new ArrayList<>();
    private RuntimeException authenticatorFailure;

    private final SmtpdAuthenticator authenticator = (authzid, username, password) -> {
        checked.add(authzid + "/" + username);
        if (authenticatorFailure != null) {
            throw authenticatorFailure;
        }
        return username.equals("alice") && new String(password).equals("s3cret");
    };

    @BeforeAll
    static void certificate() throws Exception {
        context = TestCertificates.selfSigned(certs).serverContext();
    }

    private SmtpdSettings.Builder auth() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.saslAuthEnable = true;
        b.authenticator = authenticator;
        return b;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private void ehlo() {
        send("EHLO client.example");
        replies.clear();
    }

    @Test
    void notOfferedWhenDisabled() {
        open(settings(), OUTSIDE);
        send("EHLO client.example");
        assertTrue(replies.stream().noneMatch(r -> r.contains("AUTH")), replies::toString);
        replies.clear();
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("503 5.5.1 Error: authentication not enabled");
        // enabled but without an authenticator: still not offered
        SmtpdSettings.Builder b = settings().toBuilder();
        b.saslAuthEnable = true;
        open(b.build(), OUTSIDE);
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("503 5.5.1 Error: authentication not enabled");
    }

    @Test
    void plainWithInitialResponseLetsTheClientRelay() {
        open(auth().build(), OUTSIDE);
        send("EHLO client.example");
        assertTrue(replies.contains("250-AUTH PLAIN LOGIN"), replies::toString);
        assertEquals("250-ENHANCEDSTATUSCODES", replies.get(replies.indexOf("250-AUTH PLAIN LOGIN") + 1));
        replies.clear();
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("235 2.7.0 Authentication successful");
        assertEquals(List.of("/alice"), checked);
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("503 5.5.1 Error: already authenticated");
        // permit_sasl_authenticated in the default smtpd_relay_restrictions
        send("MAIL FROM:<alice@example.com> AUTH=alice+40example.com");
        send("RCPT TO:<x@other.example>");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok");
        expectQueueLog("client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=alice");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertTrue(contents.get(0).contains(" with ESMTPA id "), contents.get(0));
        assertEquals("alice+40example.com", envelopes.get(0).mailParams().get("AUTH"));
        session.ended();
        expectLog("disconnect from unknown[192.0.2.1] ehlo=1 auth=1/2 mail=1 rcpt=1 data=1 commands=5/6");
    }

    @Test
    void plainWithoutInitialResponseAndLogin() {
        open(auth().build(), OUTSIDE);
        ehlo();
        send("AUTH PLAIN");
        expect("334 ");
        send(b64("alice\0alice\0s3cret"));
        expect("235 2.7.0 Authentication successful");
        assertEquals(List.of("alice/alice"), checked);
        open(auth().build(), OUTSIDE);
        ehlo();
        send("AUTH LOGIN");
        expect("334 VXNlcm5hbWU6");
        send(b64("alice"));
        expect("334 UGFzc3dvcmQ6");
        send(b64("s3cret"));
        expect("235 2.7.0 Authentication successful");
        open(auth().build(), OUTSIDE);
        ehlo();
        send("AUTH LOGIN " + b64("alice"));
        expect("334 UGFzc3dvcmQ6");
        send(b64("s3cret"));
        expect("235 2.7.0 Authentication successful");
    }

    @Test
    void failuresAreErrorsForTheTarpit() {
        SmtpdSettings.Builder b = auth();
        b.softErrorLimit = 1;
        b.errorSleepTime = Duration.ofSeconds(1);
        open(b.build(), OUTSIDE);
        ehlo();
        send("AUTH PLAIN " + b64("\0alice\0wrong"));
        expect("535 5.7.8 Error: authentication failed: authentication failure");
        expectLog("warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: authentication failure, "
                + "sasl_username=alice");
        send("NOOP");
        expect("(delay 1000 ms)", "250 2.0.0 Ok");
        // and the unauthenticated client still cannot relay
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@other.example>");
        expect("(delay 1000 ms)", "250 2.1.0 Ok", "(delay 1000 ms)",
                "450 4.7.1 <x@other.example>: Relay access denied");
    }

    @Test
    void protocolErrors() {
        open(auth().build(), OUTSIDE);
        ehlo();
        send("AUTH");
        send("AUTH CRAM-MD5");
        expect("501 5.5.4 Syntax: AUTH mechanism",
                "535 5.7.8 Error: authentication failed: Invalid authentication mechanism");
        send("AUTH LOGIN");
        send("*");
        expect("334 VXNlcm5hbWU6", "501 5.7.0 Authentication aborted");
        send("AUTH PLAIN");
        send("not base64!");
        expect("334 ", "501 5.5.2 Cannot decode response");
        send("AUTH PLAIN " + b64("no separators"));
        expect("535 5.7.8 Error: authentication failed: authentication failure");
        send("MAIL FROM:<a@example.com>");
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("250 2.1.0 Ok", "503 5.5.1 Error: MAIL transaction in progress");
        assertEquals(List.of(), checked, "nothing reached the authenticator");
    }

    @Test
    void commandsPipelinedAfterPlainWithItsResponseRunAfterTheOutcome() {
        // RFC 4954 4: AUTH PLAIN with the initial response may be followed in the same
        // group; what follows runs after the AUTH reply, with its outcome, and is no
        // improper pipelining (Postfix does not flag it either), even where that ends sessions
        SmtpdSettings.Builder b = auth();
        b.forbidUnauthPipelining = true;
        open(b.build(), OUTSIDE);
        ehlo();
        raw("AUTH PLAIN " + b64("\0alice\0s3cret") + "\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<x@other.example>\r\n");
        expect("235 2.7.0 Authentication successful", "250 2.1.0 Ok", "250 2.1.5 Ok");
        // a failed AUTH: the same commands run as an unauthenticated client's
        open(b.build(), OUTSIDE);
        ehlo();
        raw("AUTH PLAIN " + b64("\0alice\0wrong") + "\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<x@other.example>\r\n");
        expect("535 5.7.8 Error: authentication failed: authentication failure", "250 2.1.0 Ok",
                "450 4.7.1 <x@other.example>: Relay access denied");
        assertTrue(maillog.stream().noneMatch(l -> l.startsWith("improper command pipelining")), maillog::toString);
    }

    @Test
    void aLinePipelinedAfterAnExchangeIsAResponseNeverACommand() {
        // AUTH LOGIN takes more round trips: it must end the group (RFC 4954 4), and what
        // the client sent ahead is read as the next SASL response, not run
        open(auth().build(), OUTSIDE);
        ehlo();
        raw("AUTH LOGIN\r\nMAIL FROM:<injected@example.com>\r\nRCPT TO:<x@mx.example.org>\r\n");
        expect("334 VXNlcm5hbWU6", "501 5.5.2 Cannot decode response", "503 5.5.1 Error: need MAIL command");
        expectLog("improper command pipelining after AUTH from unknown[192.0.2.1]: "
                + "MAIL FROM:<injected@example.com>??RCPT TO:<x@mx.example.org>??");
        assertTrue(envelopes.isEmpty());
        // AUTH PLAIN without its response likewise
        open(auth().build(), OUTSIDE);
        ehlo();
        raw("AUTH PLAIN\r\nMAIL FROM:<a@example.com>\r\n");
        expect("334 ", "501 5.5.2 Cannot decode response");
        expectLog("improper command pipelining after AUTH from unknown[192.0.2.1]: MAIL FROM:<a@example.com>??");
        assertTrue(envelopes.isEmpty());
    }

    @Test
    void authenticatorTrouble() {
        authenticatorFailure = new IllegalStateException("directory down");
        open(auth().build(), OUTSIDE);
        ehlo();
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("454 4.7.0 Temporary authentication failure");
    }

    @Test
    void tlsAuthOnly() {
        SmtpdSettings.Builder b = auth();
        b.tlsAuthOnly = true;
        b.tlsLevel = SmtpdSettings.TlsLevel.MAY;
        b.sslContext = context;
        open(b.build(), OUTSIDE);
        send("EHLO client.example");
        assertTrue(replies.stream().noneMatch(r -> r.contains("AUTH")), replies::toString);
        replies.clear();
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        send("MAIL FROM:<a@example.com> AUTH=<>");
        expect("503 5.5.1 Error: authentication not enabled", "555 5.5.4 Unsupported option: AUTH=<>");
        send("STARTTLS");
        expect("220 2.0.0 Ready to start TLS");
        session.tlsStarted("TLSv1.3", "TLS_AES_128_GCM_SHA256");
        send("EHLO client.example");
        assertTrue(replies.contains("250-AUTH PLAIN LOGIN"), replies::toString);
        replies.clear();
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("235 2.7.0 Authentication successful");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@other.example>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertTrue(contents.get(0).contains(" with ESMTPSA id "), contents.get(0));
    }

    @Test
    void debugPeerListLogsTheConversationButNotCredentials() {
        SmtpdSettings.Builder b = auth();
        b.debugPeers = "192.0.2.1"::equals;
        open(b.build(), OUTSIDE);
        send("EHLO client.example");
        send("AUTH LOGIN");
        send(b64("alice"));
        send(b64("s3cret"));
        replies.clear();
        open(b.build(), OUTSIDE);
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expectLog("< unknown[192.0.2.1]: EHLO client.example");
        expectLog("< unknown[192.0.2.1]: AUTH LOGIN");
        expectLog("> unknown[192.0.2.1]: 250-mx.example.org");
        expectLog("< unknown[192.0.2.1]: AUTH ********");
        expectLog("> unknown[192.0.2.1]: 235 2.7.0 Authentication successful");
        assertTrue(maillog.stream().noneMatch(l -> l.contains(b64("\0alice\0s3cret")) || l.contains(b64("alice"))
                || l.contains(b64("s3cret"))), maillog::toString);
        // other clients are not logged
        maillog.clear();
        replies.clear();
        open(b.build(), "192.0.2.2");
        send("NOOP");
        assertTrue(maillog.stream().noneMatch(l -> l.startsWith("<") || l.startsWith(">")), maillog::toString);
    }

    @Test
    void encryptLevelTakesNoPasswordBeforeTls() {
        SmtpdSettings.Builder b = auth();
        b.tlsLevel = SmtpdSettings.TlsLevel.ENCRYPT;
        b.sslContext = context;
        open(b.build(), OUTSIDE);
        ehlo();
        send("AUTH PLAIN " + b64("\0alice\0s3cret"));
        expect("503 5.5.1 Error: authentication not enabled");
        assertEquals(List.of(), checked);
    }
}
