package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;
import org.postern.smtpd.policy.DnsLookup;
import org.postern.smtpd.policy.DnsLookup.Answer;
import org.postern.smtpd.policy.DnsLookup.Status;
import org.postern.smtpd.policy.DnsLookup.Type;

/** reject_rhsbl_* as conversations, with a scripted resolver (answers immediate or held back). */
class SmtpdRhsblTest extends SessionConversation {
    private final Map<String, Answer> zone = new HashMap<>();
    private final List<String> queries = new ArrayList<>();
    private final List<Runnable> release = new ArrayList<>();
    private boolean holdAnswers;

    private final DnsLookup dns = (name, type) -> {
        String key = type + " " + name;
        queries.add(key);
        Answer a = zone.getOrDefault(key, new Answer(Status.NOT_FOUND, List.of()));
        if (!holdAnswers) {
            return CompletableFuture.completedFuture(a);
        }
        CompletableFuture<Answer> f = new CompletableFuture<>();
        release.add(() -> f.complete(a));
        return f;
    };

    private void record(Type type, String name, String... values) {
        zone.put(type + " " + name, new Answer(Status.FOUND, List.of(values)));
    }

    private SmtpdSettings dnsSettings(String... mainCf) {
        return SmtpdSettings.defaults("smtpd", "mx.example.org", spool).withPolicy(String.join("\n", mainCf), dns);
    }

    /** session - a client with this (verified) host name and address; EHLO helo; MAIL FROM sender. */
    private void session(SmtpdSettings s, String name, String address, String helo, String sender) {
        session = new SmtpdSession(s, listener, transport, name, address, 40000, CLOCK);
        session.start();
        expect("220 mx.example.org ESMTP Postern");
        send("EHLO " + helo);
        replies.clear();
        send("MAIL FROM:<" + sender + ">");
        expect("250 2.1.0 Ok");
    }

    @Test
    void rhsblSender() {
        record(Type.A, "spam.example.dbl.example", "127.0.1.2");
        record(Type.TXT, "spam.example.dbl.example", "spam domain", "see https://dbl.example/spam.example");
        SmtpdSettings s = dnsSettings("smtpd_sender_restrictions = reject_rhsbl_sender dbl.example");
        session(s, "unknown", OUTSIDE, "client.example", "a@spam.example");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 Service unavailable; Sender address [a@spam.example] blocked using dbl.example; "
                + "spam domain / see https://dbl.example/spam.example");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Sender address "
                + "[a@spam.example] blocked using dbl.example; spam domain / see https://dbl.example/spam.example; "
                + "from=<a@spam.example> to=<x@mx.example.org> proto=ESMTP helo=<client.example>");
        session(s, "unknown", OUTSIDE, "client.example", "a@clean.example");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        // the null sender, an address literal and a numeric last label are never looked up
        queries.clear();
        session(s, "unknown", OUTSIDE, "client.example", "");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        session(s, "unknown", OUTSIDE, "client.example", "a@[192.0.2.9]");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        session(s, "unknown", OUTSIDE, "client.example", "a@host.10");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        assertEquals(List.of(), queries);
    }

    @Test
    void replyFiltersAndCode() {
        record(Type.A, "spam.example.dbl.example", "127.0.1.2");
        session(dnsSettings("smtpd_sender_restrictions = reject_rhsbl_sender dbl.example=127.0.1.[2..4;9]",
                "maps_rbl_reject_code = 550"), "unknown", OUTSIDE, "client.example", "a@spam.example");
        send("RCPT TO:<x@mx.example.org>");
        expect("550 5.7.1 Service unavailable; Sender address [a@spam.example] blocked using dbl.example");
        session(dnsSettings("smtpd_sender_restrictions = reject_rhsbl_sender dbl.example=127.0.1.3"),
                "unknown", OUTSIDE, "client.example", "a@spam.example");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        ConfigException bad = assertThrows(ConfigException.class,
                () -> dnsSettings("smtpd_sender_restrictions = reject_rhsbl_sender dbl.example=127.0.x.1"));
        assertTrue(bad.getMessage().contains("restriction reject_rhsbl_sender needs a DNS domain argument"),
                bad::getMessage);
    }

    @Test
    void rhsblClientHeloAndRecipient() {
        record(Type.A, "mail.spam.example.dbl.example", "127.0.1.2");
        record(Type.A, "helo.spam.example.dbl.example", "127.0.1.2");
        record(Type.A, "spam.example.dbl.example", "127.0.1.2");
        session(dnsSettings("smtpd_client_restrictions = reject_rhsbl_client dbl.example"),
                "mail.spam.example", OUTSIDE, "client.example", "a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 Service unavailable; Client host [mail.spam.example] blocked using dbl.example");
        // a client without a name is not looked up
        session(dnsSettings("smtpd_client_restrictions = reject_rhsbl_client dbl.example"),
                "unknown", OUTSIDE, "client.example", "a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        session(dnsSettings("smtpd_helo_restrictions = reject_rhsbl_helo dbl.example"),
                "unknown", OUTSIDE, "helo.spam.example", "a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 Service unavailable; Helo command [helo.spam.example] blocked using dbl.example");
        session(dnsSettings("smtpd_recipient_restrictions = reject_rhsbl_recipient dbl.example, permit_mynetworks, "
                + "reject_unauth_destination"), "unknown", "127.0.0.1", "client.example", "a@example.com");
        send("RCPT TO:<x@spam.example>");
        send("RCPT TO:<x@clean.example>");
        expect("554 5.7.1 Service unavailable; Recipient address [x@spam.example] blocked using dbl.example",
                "250 2.1.5 Ok");
    }

    @Test
    void rhsblReverseClientUsesTheUnverifiedPtrName() {
        record(Type.PTR, OUTSIDE, "dyn-1.spam.example");
        record(Type.A, "dyn-1.spam.example.dbl.example", "127.0.1.2");
        holdAnswers = true;
        session = new SmtpdSession(dnsSettings("smtpd_client_restrictions = reject_rhsbl_reverse_client dbl.example"),
                listener, transport, "unknown", OUTSIDE, 40000, CLOCK);
        session.start();
        expect("220 mx.example.org ESMTP Postern");
        send("EHLO client.example");
        send("MAIL FROM:<a@example.com>");
        replies.clear();
        send("RCPT TO:<x@mx.example.org>");
        expect(); // waiting for the PTR answer
        release.remove(0).run();
        expect(); // then for the blocklist
        while (!release.isEmpty()) {
            release.remove(0).run();
        }
        expect("554 5.7.1 Service unavailable; Unverified Client host [dyn-1.spam.example] blocked using "
                + "dbl.example");
        assertEquals(List.of("PTR 192.0.2.1", "A dyn-1.spam.example.dbl.example",
                "TXT dyn-1.spam.example.dbl.example"), queries);
    }
}
