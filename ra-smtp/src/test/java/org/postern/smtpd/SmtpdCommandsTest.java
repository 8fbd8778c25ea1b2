package org.postern.smtpd;

import java.nio.file.Path;

import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command table ({@link SmtpdCommands}) as conversations: the requirements of a
 * command are checked in the order the handlers checked them before the table, and the
 * command statistics follow the table's order (Postfix's).
 */
class SmtpdCommandsTest extends SessionConversation {
    @TempDir
    static Path certs;
    static SslContext context;

    @BeforeAll
    static void certificate() throws Exception {
        context = TestCertificates.selfSigned(certs).serverContext();
    }

    @Test
    void authEnabledBeforeHeloRequiredBeforeTransaction() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.heloRequired = true;
        open(b.build(), OUTSIDE);
        send("AUTH PLAIN");
        expect("503 5.5.1 Error: authentication not enabled");
        b.saslAuthEnable = true;
        b.authenticator = (authzid, username, password) -> false;
        open(b.build(), OUTSIDE);
        send("AUTH PLAIN");
        expect("503 5.5.1 Error: send HELO/EHLO first");
        ehloMail("a@example.com");
        send("AUTH PLAIN");
        expect("503 5.5.1 Error: MAIL transaction in progress");
    }

    @Test
    void etrnNeedsHeloWhateverHeloRequiredSays() {
        open(settings(), OUTSIDE);
        send("ETRN example.com");
        expect("503 5.5.1 Error: send HELO/EHLO first");
        ehloMail("a@example.com");
        send("ETRN example.com");
        expect("503 5.5.1 Error: MAIL transaction in progress");
    }

    @Test
    void mailWantsHeloBeforeStartTls() {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.heloRequired = true;
        b.tlsLevel = SmtpdSettings.TlsLevel.ENCRYPT;
        b.sslContext = context;
        open(b.build(), OUTSIDE);
        send("MAIL FROM:<a@example.com>");
        expect("503 5.5.1 Error: send HELO/EHLO first");
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("530 5.7.0 Must issue a STARTTLS command first");
    }

    @Test
    void statisticsInTableOrder() {
        open(settings(), OUTSIDE);
        for (String command : new String[] {"HELP", "NOOP", "VRFY <a@example.com>", "RSET", "EHLO client.example",
                "HELO client.example", "XYZZY", "QUIT"}) {
            send(command);
        }
        session.ended();
        expectLog("disconnect from unknown[192.0.2.1] helo=1 ehlo=1 rset=1 noop=1 vrfy=1 quit=1 help=1 unknown=0/1"
                + " commands=7/8");
    }
}
