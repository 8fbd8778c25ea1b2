package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STARTTLS in the protocol engine: announcement, replies, and the discarded plaintext (CVE-2011-0411). */
class SmtpdStartTlsSessionTest extends SessionConversation {
    @TempDir
    static Path certs;
    static SslContext context;

    @BeforeAll
    static void certificate() throws Exception {
        context = TestCertificates.selfSigned(certs).serverContext();
    }

    private SmtpdSettings tls(SmtpdSettings.TlsLevel level) {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.tlsLevel = level;
        b.sslContext = context;
        return b.build();
    }

    private void handshake() {
        session.tlsStarted("TLSv1.3", "TLS_AES_256_GCM_SHA384");
    }

    @Test
    void announcedAfterVrfyAndOnlyBeforeTls() {
        open(tls(SmtpdSettings.TlsLevel.MAY), OUTSIDE);
        send("EHLO client.example");
        expect("250-mx.example.org", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-STARTTLS",
                "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING");
        send("STARTTLS now");
        expect("501 5.5.4 Syntax: STARTTLS");
        send("STARTTLS");
        expect("220 2.0.0 Ready to start TLS");
        assertEquals(1, tlsStarts);
        handshake();
        expectLog("Anonymous TLS connection established from unknown[192.0.2.1]: TLSv1.3 with cipher "
                + "TLS_AES_256_GCM_SHA384 (256/256 bits)");
        send("EHLO client.example");
        expect("250-mx.example.org", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-ENHANCEDSTATUSCODES",
                "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING");
        send("STARTTLS");
        expect("554 5.5.1 Error: TLS already active");
    }

    @Test
    void notOfferedWithoutTls() {
        open(settings(), OUTSIDE);
        send("STARTTLS");
        expect("502 5.5.1 Error: command not implemented");
        assertEquals(0, tlsStarts);
    }

    @Test
    void pipelinedPlaintextAfterStarttlsIsNeverAnswered() {
        open(tls(SmtpdSettings.TlsLevel.MAY), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        raw("STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.com>\r\n");
        expect("220 2.0.0 Ready to start TLS");
        raw("RCPT TO:<x@mx.example.org>\r\nPARTIAL");
        expect();
        handshake();
        send("NOOP");
        expect("250 2.0.0 Ok");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok");
        // the injection is only shown as what it is, never acted on (Postfix 3.12 purges it
        // silently: STARTTLS has no "last in group" flag in its command table)
        expectLog("improper command pipelining after STARTTLS from unknown[192.0.2.1]: "
                + "RSET??MAIL FROM:<injected@example.com>??");
        assertTrue(maillog.stream().noneMatch(l -> l.contains("injected")
                && !l.startsWith("improper command pipelining after STARTTLS")), maillog::toString);
    }

    @Test
    void tlsForgetsHeloAndTransaction() {
        open(tls(SmtpdSettings.TlsLevel.MAY).withHeloRequired(true), OUTSIDE);
        ehloMail("a@example.com");
        send("STARTTLS");
        expect("220 2.0.0 Ready to start TLS");
        handshake();
        send("RCPT TO:<x@mx.example.org>");
        send("MAIL FROM:<a@example.com>");
        expect("503 5.5.1 Error: need MAIL command", "503 5.5.1 Error: send HELO/EHLO first");
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertEquals(1, envelopes.size());
        assertTrue(contents.get(0).contains(" with ESMTPS id "), contents.get(0));
    }

    @Test
    void encryptRequiresStarttlsBeforeMail() {
        open(tls(SmtpdSettings.TlsLevel.ENCRYPT), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("530 5.7.0 Must issue a STARTTLS command first");
        send("STARTTLS");
        expect("220 2.0.0 Ready to start TLS");
        handshake();
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("250 2.1.0 Ok");
    }

    @Test
    void withForbidUnauthPipeliningTheInjectionEndsTheSession() {
        SmtpdSettings.Builder b = tls(SmtpdSettings.TlsLevel.MAY).toBuilder();
        b.forbidUnauthPipelining = true;
        open(b.build(), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        raw("STARTTLS\r\nRSET\r\n");
        expect("554 5.5.0 Error: SMTP protocol synchronization");
        assertEquals(0, tlsStarts);
        assertTrue(closed);
    }
}
