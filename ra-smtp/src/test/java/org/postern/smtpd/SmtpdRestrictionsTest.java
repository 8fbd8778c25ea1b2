package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.ConfigException;

/** smtpd_*_restrictions as conversations: Postfix's replies and log lines. */
class SmtpdRestrictionsTest extends SessionConversation {
    @TempDir
    Path tables;

    private String table(String name, String... lines) throws IOException {
        Path p = tables.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return "texthash:" + p;
    }

    @Test
    void defaultRelayPolicyDefersOutsidersAndLogsInPostfixShape() {
        open(settings(), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("450 4.7.1 <x@other.example>: Relay access denied");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.7.1 <x@other.example>: Relay access denied;"
                + " from=<a@example.com> to=<x@other.example> proto=ESMTP helo=<client.example>");
        send("RCPT TO:<postmaster@mx.example.org>");
        expect("250 2.1.5 Ok");
    }

    @Test
    void mynetworksRelaysAnywhere() {
        open(settings(), "127.0.0.1");
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("250 2.1.5 Ok");
    }

    @Test
    void mynetworksCidrIpv4AndIpv6() {
        SmtpdSettings s = settings("mynetworks = 192.0.2.0/28 [2001:db8::]/32",
                "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination");
        open(s, "192.0.2.15");
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("250 2.1.5 Ok");
        open(s, "2001:db8::25");
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("250 2.1.5 Ok");
        open(s, "192.0.2.16");
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("554 5.7.1 <x@other.example>: Relay access denied");
    }

    @Test
    void rejectUnauthDestinationWithRelayDomains() {
        open(settings("relay_domains = relay.example",
                "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("554 5.7.1 <x@other.example>: Relay access denied");
        send("RCPT TO:<x@relay.example>");
        send("RCPT TO:<x@Sub.Relay.Example>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok");
        send("RCPT TO:<x@evilrelay.example>");
        send("RCPT TO:<x@relay.example.evil.example>");
        expect("554 5.7.1 <x@evilrelay.example>: Relay access denied",
                "554 5.7.1 <x@relay.example.evil.example>: Relay access denied");
    }

    @Test
    void relayDomainsCodeIsAParameter() {
        open(settings("relay_domains_reject_code = 550",
                "smtpd_relay_restrictions = reject_unauth_destination"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@other.example>");
        expect("550 5.7.1 <x@other.example>: Relay access denied");
    }

    @Test
    void clientAccessDelayedUntilRcpt() throws IOException {
        String t = table("client", "192.0.2 REJECT", "198.51.100.7 DEFER come back later",
                "203.0.113.5 OK");
        SmtpdSettings s = settings("smtpd_client_restrictions = check_client_access " + t);
        open(s, OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("250 2.1.0 Ok");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <unknown[192.0.2.1]>: Client host "
                + "rejected: Access denied; from=<a@example.com> to=<x@mx.example.org> proto=ESMTP helo=<client.example>");
        open(s, "198.51.100.7");
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.1 <unknown[198.51.100.7]>: Client host rejected: come back later");
        open(s, "203.0.113.5");
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
    }

    @Test
    void clientRejectAtConnectWithoutDelayReject() {
        connect(settings("smtpd_delay_reject = no", "smtpd_client_restrictions = permit_mynetworks, reject"),
                OUTSIDE);
        expect("554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied");
        expectLog("NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 554 5.7.1 <unknown[192.0.2.1]>: Client host "
                + "rejected: Access denied; proto=SMTP");
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        expect("503 5.7.0 Error: access denied for unknown[192.0.2.1]",
                "503 5.7.0 Error: access denied for unknown[192.0.2.1]");
        send("QUIT");
        expect("221 2.0.0 Bye");
        assertTrue(closed);
    }

    @Test
    void heloRestrictionsAtRcptWithDelayReject() {
        SmtpdSettings s = settings(
                "smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname")
                .withHeloRequired(true);
        open(s, OUTSIDE);
        send("MAIL FROM:<a@example.com>");
        expect("503 5.5.1 Error: send HELO/EHLO first");
        send("HELO bad_host!");
        expect("250 mx.example.org");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.0 Ok", "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name");
        send("HELO client");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 mx.example.org", "250 2.1.0 Ok",
                "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname");
        send("HELO [192.0.2.1]");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 mx.example.org", "250 2.1.0 Ok", "250 2.1.5 Ok");
        send("RSET");
        send("HELO client.example.");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.0.0 Ok", "250 mx.example.org", "250 2.1.0 Ok", "250 2.1.5 Ok");
    }

    @Test
    void heloRestrictionsAtHeloWithoutDelayReject() throws IOException {
        String t = table("helo", "example.net REJECT no thanks");
        open(settings("smtpd_delay_reject = no",
                "smtpd_helo_restrictions = reject_non_fqdn_helo_hostname, check_helo_access " + t), OUTSIDE);
        send("EHLO client");
        expect("504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname");
        expectLog("NOQUEUE: reject: EHLO from unknown[192.0.2.1]: 504 5.5.2 <client>: Helo command rejected: "
                + "need fully-qualified hostname; proto=SMTP helo=<client>");
        send("HELO mail.Example.NET");
        expect("554 5.7.1 <mail.Example.NET>: Helo command rejected: no thanks");
        send("HELO mail.example.com");
        expect("250 mx.example.org");
    }

    @Test
    void senderAccessAndNonFqdnSender() throws IOException {
        String t = table("sender", "spammer@example.com REJECT", "example.net DEFER",
                "<> 550 5.7.0 no bounces here", "friend@ OK", "spam.example REJECT 5.7.2 go away");
        SmtpdSettings s = settings("smtpd_sender_restrictions = check_sender_access " + t
                + ", reject_non_fqdn_sender");
        open(s, OUTSIDE);
        ehloMail("spammer@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 <spammer@example.com>: Sender address rejected: Access denied");
        send("RSET");
        send("MAIL FROM:<a@mail.example.net>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok", "450 4.7.1 <a@mail.example.net>: Sender address rejected: Access denied");
        send("RSET");
        send("MAIL FROM:<>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok", "550 5.7.0 <>: Sender address rejected: no bounces here");
        send("RSET");
        send("MAIL FROM:<x@sub.spam.example>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok", "554 5.7.2 <x@sub.spam.example>: Sender address rejected: go away");
        send("RSET");
        send("MAIL FROM:<friend@localhost>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.1.5 Ok");
        send("RSET");
        send("MAIL FROM:<a@localhost>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.0.0 Ok", "250 2.1.0 Ok",
                "504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address");
    }

    @Test
    void senderRejectAtMailWithoutDelayReject() {
        open(settings("smtpd_delay_reject = no", "smtpd_sender_restrictions = reject_non_fqdn_sender"), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@localhost>");
        expect("504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address");
        expectLog("NOQUEUE: reject: MAIL from unknown[192.0.2.1]: 504 5.5.2 <a@localhost>: Sender address rejected: "
                + "need fully-qualified address; from=<a@localhost> proto=ESMTP helo=<client.example>");
        send("RCPT TO:<x@mx.example.org>");
        expect("503 5.5.1 Error: need MAIL command");
    }

    @Test
    void recipientAccessNumericTextAndRestrictionValues() throws IOException {
        String t = table("rcpt", "bob@relay.example 550 5.1.1 Mailbox unavailable", "carol@ 421 later",
                "relay.example reject_unauth_destination", "dave@other.example OK");
        open(settings("relay_domains = relay.example",
                "smtpd_recipient_restrictions = check_recipient_access " + t + ", reject_non_fqdn_recipient"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<bob@relay.example>");
        send("RCPT TO:<carol@mx.example.org>");
        send("RCPT TO:<alice@relay.example>");
        send("RCPT TO:<x@localhost>");
        expect("550 5.1.1 <bob@relay.example>: Recipient address rejected: Mailbox unavailable",
                "421 4.7.1 <carol@mx.example.org>: Recipient address rejected: later",
                "250 2.1.5 Ok",
                "504 5.5.2 <x@localhost>: Recipient address rejected: need fully-qualified address");
        // OK in smtpd_recipient_restrictions does not override the relay restrictions before it
        send("RCPT TO:<dave@other.example>");
        expect("450 4.7.1 <dave@other.example>: Relay access denied");
    }

    @Test
    void holdIsRecordedForTheQueue() throws IOException {
        String t = table("rcpt", "held@mx.example.org HOLD");
        open(settings("smtpd_recipient_restrictions = check_recipient_access " + t), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<held@mx.example.org>");
        expect("250 2.1.5 Ok");
        expectLog("NOQUEUE: hold: RCPT from unknown[192.0.2.1]: <held@mx.example.org>: Recipient address triggers "
                + "HOLD action; from=<a@example.com> to=<held@mx.example.org> proto=ESMTP helo=<client.example>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertEquals(1, envelopes.size());
        assertEquals("<held@mx.example.org>: Recipient address triggers HOLD action",
                envelopes.get(0).mailParams().get(Envelope.HOLD));
        assertFalse(envelopes.get(0).mailParams().containsKey(Envelope.DISCARD));
        // a new transaction forgets it
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        raw("Subject: y\r\n\r\nbody\r\n.\r\n");
        assertFalse(envelopes.get(1).mailParams().containsKey(Envelope.HOLD));
    }

    @Test
    void discardPermitsAndSkipsLaterChecks() throws IOException {
        String t = table("sender", "junk@example.com DISCARD spam source");
        open(settings("smtpd_sender_restrictions = check_sender_access " + t,
                "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"), OUTSIDE);
        ehloMail("junk@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("RCPT TO:<x@other.example>");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok");
        expectLog("NOQUEUE: discard: RCPT from unknown[192.0.2.1]: <junk@example.com>: Sender address spam source;"
                + " from=<junk@example.com> to=<x@mx.example.org> proto=ESMTP helo=<client.example>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertEquals("<junk@example.com>: Sender address spam source",
                envelopes.get(0).mailParams().get(Envelope.DISCARD));
    }

    @Test
    void warnIfRejectOnlyLogs() throws IOException {
        String t = table("rcpt", "watched@mx.example.org WARN watched recipient");
        open(settings("smtpd_recipient_restrictions = warn_if_reject reject_non_fqdn_recipient, "
                + "check_recipient_access " + t), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@localhost>");
        expect("250 2.1.5 Ok");
        expectLog("NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 504 5.5.2 <x@localhost>: Recipient address "
                + "rejected: need fully-qualified address; from=<a@example.com> to=<x@localhost> proto=ESMTP "
                + "helo=<client.example>");
        send("RCPT TO:<postmaster>");
        expect("250 2.1.5 Ok");
        send("RCPT TO:<watched@mx.example.org>");
        expect("250 2.1.5 Ok");
        expectQueueLog("warn: RCPT from unknown[192.0.2.1]: <watched@mx.example.org>: Recipient address watched "
                + "recipient; from=<a@example.com> to=<watched@mx.example.org> proto=ESMTP helo=<client.example>");
    }

    @Test
    void unlistedRelayRecipients() {
        open(settings("relay_domains = relay.example, other.example",
                "relay_recipient_maps = inline:{alice@relay.example=x, @other.example=x}"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<bob@relay.example>");
        send("RCPT TO:<Alice@Relay.Example>");
        send("RCPT TO:<anyone@other.example>");
        expect("550 5.1.1 <bob@relay.example>: Recipient address rejected: User unknown in relay recipient table",
                "250 2.1.5 Ok", "250 2.1.5 Ok");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <bob@relay.example>: Recipient address "
                + "rejected: User unknown in relay recipient table; from=<a@example.com> to=<bob@relay.example> "
                + "proto=ESMTP helo=<client.example>");
    }

    @Test
    void virtualMailboxDomainsAreAuthorizedDestinationsWithTheirOwnUsers() {
        // a Postfix + Dovecot setup: hosted domains, users in virtual_mailbox_maps
        open(settings("virtual_mailbox_domains = hosted.example, sub.hosted.example",
                "virtual_mailbox_maps = inline:{alice@hosted.example=x, @sub.hosted.example=x}"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<alice@hosted.example>");
        send("RCPT TO:<bob@hosted.example>");
        send("RCPT TO:<anyone@sub.hosted.example>");
        send("RCPT TO:<x@elsewhere.example>");
        expect("250 2.1.5 Ok",
                "550 5.1.1 <bob@hosted.example>: Recipient address rejected: User unknown in virtual mailbox table",
                "250 2.1.5 Ok",
                "450 4.7.1 <x@elsewhere.example>: Relay access denied");
        // the first RCPT was accepted, so the reject carries the queue id, not NOQUEUE
        expectQueueLog("reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <bob@hosted.example>: Recipient address "
                + "rejected: User unknown in virtual mailbox table; from=<a@example.com> to=<bob@hosted.example> "
                + "proto=ESMTP helo=<client.example>");
    }

    @Test
    void virtualAliasDomainsAcceptOnlyTheirAliases() {
        // virtual_alias_domains defaults to $virtual_alias_maps: the domain is a key of the table
        open(settings("virtual_alias_maps = inline:{ alias.example=domain, sales@alias.example=bob@example.net, "
                + "info@hosted.example=carol@hosted.example }",
                "virtual_mailbox_domains = hosted.example",
                "virtual_mailbox_maps = inline:{ carol@hosted.example=x }"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<sales@alias.example>");
        send("RCPT TO:<nobody@alias.example>");
        // an alias makes an address of a mailbox domain exist, though its mailbox table lacks it
        send("RCPT TO:<info@hosted.example>");
        send("RCPT TO:<nobody@hosted.example>");
        expect("250 2.1.5 Ok",
                "550 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias table",
                "250 2.1.5 Ok",
                "550 5.1.1 <nobody@hosted.example>: Recipient address rejected: User unknown in virtual mailbox table");
    }

    @Test
    void virtualMailboxDomainsWithoutMapsAcceptEveryUser() {
        open(settings("virtual_mailbox_domains = hosted.example", "unknown_virtual_mailbox_reject_code = 450"),
                OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<whoever@hosted.example>");
        expect("250 2.1.5 Ok");
    }

    @Test
    void unlistedRecipientAppliesToTrustedClientsToo() {
        open(settings("relay_domains = relay.example", "relay_recipient_maps = inline:{alice@relay.example=x}"),
                "127.0.0.1");
        ehloMail("a@example.com");
        send("RCPT TO:<bob@relay.example>");
        expect("550 5.1.1 <bob@relay.example>: Recipient address rejected: User unknown in relay recipient table");
    }

    @Test
    void dataAndEndOfDataRestrictions() {
        open(settings("smtpd_data_restrictions = permit_mynetworks, reject"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        expect("250 2.1.5 Ok", "554 5.7.1 <DATA>: Data command rejected: Access denied");
        // after an accepted recipient the transaction has its queue id, as in Postfix
        assertTrue(maillog.stream().anyMatch(l -> l.matches("[0-9A-F]+: reject: DATA from unknown\\[192\\.0\\.2\\.1\\]: "
                + "554 5\\.7\\.1 <DATA>: Data command rejected: Access denied; from=<a@example.com> "
                + "to=<x@mx.example.org> proto=ESMTP helo=<client.example>")), maillog::toString);

        open(settings("smtpd_end_of_data_restrictions = defer"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        expect("250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                "450 4.7.1 <END-OF-MESSAGE>: End-of-data rejected: Try again later");
        assertTrue(envelopes.isEmpty());
        assertTrue(maillog.stream().anyMatch(l -> l.matches("[0-9A-F]+: reject: END-OF-MESSAGE from unknown\\[192"
                + "\\.0\\.2\\.1\\]: 450 4\\.7\\.1 <END-OF-MESSAGE>: End-of-data rejected: Try again later; "
                + "from=<a@example.com> to=<x@mx.example.org> proto=ESMTP helo=<client.example>")), maillog::toString);
    }

    @Test
    void badAccessValueIsAServerConfigurationError() {
        open(settings("smtpd_recipient_restrictions = check_recipient_access inline:{x@mx.example.org=FROBNICATE}"),
                OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("451 4.3.5 Server configuration error");
    }

    @Test
    void configurationErrorsFailTheStart() {
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> settings("smtpd_client_restrictions = permit_everyone"));
        assertTrue(unknown.getMessage().contains("unknown smtpd restriction: \"permit_everyone\""), unknown::getMessage);
        ConfigException notYet = assertThrows(ConfigException.class,
                () -> settings("smtpd_recipient_restrictions = permit_mx_backup, reject_unauth_destination"));
        assertTrue(notYet.getMessage().contains("restriction permit_mx_backup is not supported by Postern: Postern "
                + "does not look up MX records for relay permission; list the backup domains in relay_domains"),
                notYet::getMessage);
        ConfigException noTable = assertThrows(ConfigException.class,
                () -> settings("smtpd_client_restrictions = check_client_access"));
        assertTrue(noTable.getMessage().contains("needs a type:name lookup table"), noTable::getMessage);
        ConfigException openRelay = assertThrows(ConfigException.class,
                () -> settings("smtpd_relay_restrictions = permit_mynetworks", "smtpd_recipient_restrictions ="));
        assertTrue(openRelay.getMessage().contains("reject_unauth_destination"), openRelay::getMessage);
        assertThrows(ConfigException.class, () -> settings("reject_code = 250"));
    }
}
