package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sender restrictions of a submission service as conversations: the
 * *_sender_login_mismatch family with smtpd_sender_login_maps, and
 * reject_unlisted_sender / smtpd_reject_unlisted_sender.
 */
class SmtpdSenderRestrictionsTest extends SessionConversation {
    @TempDir
    Path tables;

    private final SmtpdAuthenticator authenticator = (authzid, username, password) ->
            (username.equals("alice") || username.equals("bob")) && new String(password).equals("s3cret");

    /** loginMaps - owners as Postfix documents them: user@domain, then @domain; comma or space separated. */
    private String loginMaps() throws IOException {
        Path p = tables.resolve("sender_login");
        Files.writeString(p, String.join("\n",
                "alice@example.com alice",
                "bob@example.com bob",
                "info@example.com ALICE, bob",
                "@shared.example alice bob",
                "") , StandardCharsets.UTF_8);
        return "texthash:" + p;
    }

    private SmtpdSettings submission(String... mainCf) throws IOException {
        String[] lines = new String[mainCf.length + 2];
        lines[0] = "smtpd_sasl_auth_enable = yes";
        lines[1] = "smtpd_sender_login_maps = " + loginMaps();
        System.arraycopy(mainCf, 0, lines, 2, mainCf.length);
        SmtpdSettings.Builder b = settings(lines).toBuilder();
        b.saslAuthEnable = true;
        b.authenticator = authenticator;
        return b.build();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** as - a new session from outside mynetworks, logged in as user (null: not logged in), MAIL FROM sender. */
    private void as(SmtpdSettings s, String user, String sender) {
        open(s, OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        if (user != null) {
            send("AUTH PLAIN " + b64("\0" + user + "\0s3cret"));
            expect("235 2.7.0 Authentication successful");
        }
        send("MAIL FROM:<" + sender + ">");
        expect("250 2.1.0 Ok");
    }

    private void rcpt(String recipient, String reply) {
        send("RCPT TO:<" + recipient + ">");
        expect(reply);
    }

    @Test
    void senderLoginMismatchLetsOwnersSendAndNobodyElse() throws IOException {
        SmtpdSettings s = submission("smtpd_sender_restrictions = reject_sender_login_mismatch");
        as(s, "alice", "alice@example.com");
        rcpt("x@other.example", "250 2.1.5 Ok");
        as(s, "alice", "bob@example.com");
        rcpt("x@other.example", "553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 553 5.7.1 <bob@example.com>: Sender address "
                + "rejected: not owned by user alice; from=<bob@example.com> to=<x@other.example> proto=ESMTP "
                + "helo=<client.example>");
        // an address that nobody owns is not alice's either
        as(s, "alice", "stranger@else.example");
        rcpt("x@other.example",
                "553 5.7.1 <stranger@else.example>: Sender address rejected: not owned by user alice");
        // owners separated by comma and space, compared without case; @domain after user@domain
        as(s, "alice", "info@example.com");
        rcpt("x@other.example", "250 2.1.5 Ok");
        as(s, "bob", "info@example.com");
        rcpt("x@other.example", "250 2.1.5 Ok");
        as(s, "bob", "anyone@shared.example");
        rcpt("x@other.example", "250 2.1.5 Ok");
        // not logged in: an owned address is refused, an unowned one is not this restriction's business
        as(s, null, "alice@example.com");
        rcpt("postmaster@mx.example.org",
                "553 5.7.1 <alice@example.com>: Sender address rejected: not logged in");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 553 5.7.1 <alice@example.com>: Sender address "
                + "rejected: not logged in; from=<alice@example.com> to=<postmaster@mx.example.org> proto=ESMTP "
                + "helo=<client.example>");
        as(s, null, "stranger@else.example");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        // the null sender is never checked
        as(s, "alice", "");
        rcpt("x@other.example", "250 2.1.5 Ok");
    }

    @Test
    void knownSenderLoginMismatchProtectsListedAddressesOnly() throws IOException {
        SmtpdSettings s = submission("smtpd_sender_restrictions = reject_known_sender_login_mismatch");
        as(s, "alice", "stranger@else.example");
        rcpt("x@other.example", "250 2.1.5 Ok");
        as(s, "alice", "bob@example.com");
        rcpt("x@other.example", "553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice");
        as(s, null, "bob@example.com");
        rcpt("postmaster@mx.example.org", "553 5.7.1 <bob@example.com>: Sender address rejected: not logged in");
    }

    @Test
    void theTwoHalvesAlone() throws IOException {
        SmtpdSettings unauth = submission("smtpd_sender_restrictions = reject_unauthenticated_sender_login_mismatch");
        as(unauth, "alice", "bob@example.com");
        rcpt("x@other.example", "250 2.1.5 Ok");
        as(unauth, null, "bob@example.com");
        rcpt("postmaster@mx.example.org", "553 5.7.1 <bob@example.com>: Sender address rejected: not logged in");
        SmtpdSettings auth = submission("smtpd_sender_restrictions = reject_authenticated_sender_login_mismatch");
        as(auth, null, "bob@example.com");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        as(auth, "alice", "bob@example.com");
        rcpt("x@other.example", "553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice");
    }

    @Test
    void withoutDelayRejectMailFromIsRefused() throws IOException {
        SmtpdSettings s = submission("smtpd_delay_reject = no",
                "smtpd_sender_restrictions = reject_sender_login_mismatch");
        open(s, OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<alice@example.com>");
        expect("553 5.7.1 <alice@example.com>: Sender address rejected: not logged in");
        expectLog("NOQUEUE: reject: MAIL from unknown[192.0.2.1]: 553 5.7.1 <alice@example.com>: Sender address "
                + "rejected: not logged in; from=<alice@example.com> proto=ESMTP helo=<client.example>");
    }

    @Test
    void withoutSaslTheRestrictionsAreIgnoredAsInPostfix() throws IOException {
        SmtpdSettings s = settings("smtpd_sender_login_maps = " + loginMaps(),
                "smtpd_sender_restrictions = reject_sender_login_mismatch");
        as(s, null, "alice@example.com");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
    }

    private static final String[] DOMAINS = {"relay_domains = relay.example",
        "relay_recipient_maps = inline:{alice@relay.example=x}", "virtual_mailbox_domains = hosted.example",
        "virtual_mailbox_maps = inline:{bob@hosted.example=x}"};

    private SmtpdSettings domains(String... more) {
        String[] lines = java.util.Arrays.copyOf(DOMAINS, DOMAINS.length + more.length);
        System.arraycopy(more, 0, lines, DOMAINS.length, more.length);
        return settings(lines);
    }

    @Test
    void unlistedSenderMustBeAValidRecipientOfItsDomain() {
        SmtpdSettings s = domains("smtpd_sender_restrictions = reject_unlisted_sender");
        as(s, null, "eve@relay.example");
        rcpt("postmaster@mx.example.org",
                "550 5.1.0 <eve@relay.example>: Sender address rejected: User unknown in relay recipient table");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.0 <eve@relay.example>: Sender address "
                + "rejected: User unknown in relay recipient table; from=<eve@relay.example> "
                + "to=<postmaster@mx.example.org> proto=ESMTP helo=<client.example>");
        as(s, null, "eve@hosted.example");
        rcpt("postmaster@mx.example.org",
                "550 5.1.0 <eve@hosted.example>: Sender address rejected: User unknown in virtual mailbox table");
        as(s, null, "Alice@Relay.Example");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        as(s, null, "bob@hosted.example");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        // other domains and the null sender are not checked
        as(s, null, "anyone@else.example");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        as(s, null, "");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        // the reply code of the domain class
        as(domains("smtpd_sender_restrictions = reject_unlisted_sender", "unknown_virtual_mailbox_reject_code = 450"),
                null, "eve@hosted.example");
        rcpt("postmaster@mx.example.org",
                "450 4.1.0 <eve@hosted.example>: Sender address rejected: User unknown in virtual mailbox table");
    }

    @Test
    void smtpdRejectUnlistedSenderIsImplicitAfterTheSenderRestrictions() {
        // even a permit of the list does not skip it (Postfix smtpd_check_mail())
        SmtpdSettings s = domains("smtpd_reject_unlisted_sender = yes",
                "smtpd_sender_restrictions = permit_mynetworks");
        open(s, "127.0.0.1");
        ehloMail("eve@relay.example");
        rcpt("x@other.example",
                "550 5.1.0 <eve@relay.example>: Sender address rejected: User unknown in relay recipient table");
        as(domains(), null, "eve@relay.example");
        rcpt("postmaster@mx.example.org", "250 2.1.5 Ok");
        // a warning does not count as the check: the implicit one still rejects
        as(domains("smtpd_reject_unlisted_sender = yes",
                "smtpd_sender_restrictions = warn_if_reject reject_unlisted_sender"), null, "eve@relay.example");
        rcpt("postmaster@mx.example.org",
                "550 5.1.0 <eve@relay.example>: Sender address rejected: User unknown in relay recipient table");
        expectLog("NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 550 5.1.0 <eve@relay.example>: Sender "
                + "address rejected: User unknown in relay recipient table; from=<eve@relay.example> "
                + "to=<postmaster@mx.example.org> proto=ESMTP helo=<client.example>");
        long rejects = maillog.stream().filter(l -> l.startsWith("NOQUEUE: reject: RCPT") && l.contains("eve@"))
                .count();
        assertEquals(2, rejects, String.join("\n", maillog));
    }
}
