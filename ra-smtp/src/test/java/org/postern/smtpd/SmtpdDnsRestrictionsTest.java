package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.postern.smtpd.policy.DnsLookup;
import org.postern.smtpd.policy.DnsLookup.Answer;
import org.postern.smtpd.policy.DnsLookup.Status;
import org.postern.smtpd.policy.DnsLookup.Type;

/** The DNS restrictions as conversations, with a scripted resolver (answers immediate or held back). */
class SmtpdDnsRestrictionsTest extends SessionConversation {
    private final Map<String, Answer> zone = new HashMap<>();
    private final List<String> queries = new ArrayList<>();
    private final List<CompletableFuture<Answer>> held = new ArrayList<>();
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
        held.add(f);
        release.add(() -> f.complete(a));
        return f;
    };

    private void record(Type type, String name, String... values) {
        zone.put(type + " " + name, new Answer(Status.FOUND, List.of(values)));
    }

    private void tempFail(Type type, String name) {
        zone.put(type + " " + name, new Answer(Status.TEMP_FAIL, List.of()));
    }

    private SmtpdSettings dnsSettings(String... mainCf) {
        return SmtpdSettings.defaults("smtpd", "mx.example.org", spool).withPolicy(String.join("\n", mainCf), dns);
    }

    private void rcptFrom(String client, String sender, String rcpt, String reply) {
        open(dnsSettings(lastConfig), client);
        ehloMail(sender);
        send("RCPT TO:<" + rcpt + ">");
        expect(reply);
    }

    private String lastConfig;

    @Test
    void rblClient() {
        record(Type.A, "1.2.0.192.zen.example", "127.0.0.2");
        record(Type.TXT, "1.2.0.192.zen.example", "listed, see https://zen.example/q?192.0.2.1");
        lastConfig = "smtpd_client_restrictions = reject_rbl_client zen.example";
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org", "554 5.7.1 Service unavailable; Client host "
                + "[192.0.2.1] blocked using zen.example; listed, see https://zen.example/q?192.0.2.1");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host "
                + "[192.0.2.1] blocked using zen.example; listed, see https://zen.example/q?192.0.2.1; "
                + "from=<a@example.com> to=<x@mx.example.org> proto=ESMTP helo=<client.example>");
        rcptFrom("192.0.2.7", "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
        // a filter that does not match the answer: not listed
        lastConfig = "smtpd_client_restrictions = reject_rbl_client zen.example=127.0.0.4";
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
        // a blocklist that fails is not a reason to refuse mail
        tempFail(Type.A, "7.2.0.192.zen.example");
        lastConfig = "smtpd_client_restrictions = reject_rbl_client zen.example";
        rcptFrom("192.0.2.7", "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
    }

    @Test
    void mapsRblDomainsAndItsCode() {
        record(Type.A, "1.2.0.192.bl.example", "127.0.0.2");
        lastConfig = "maps_rbl_domains = other.example, bl.example\nmaps_rbl_reject_code = 550\n"
                + "smtpd_recipient_restrictions = reject_maps_rbl";
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org",
                "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.example");
    }

    @Test
    void rblLookupsAreMadeOncePerSession() {
        lastConfig = "smtpd_client_restrictions = reject_rbl_client zen.example";
        open(dnsSettings(lastConfig), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("RCPT TO:<y@mx.example.org>");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok");
        assertEquals(List.of("A 1.2.0.192.zen.example", "TXT 1.2.0.192.zen.example"), queries);
    }

    @Test
    void unknownSenderDomain() {
        record(Type.MX, "nullmx.example", "");
        record(Type.MX, "mx.example", "mx1.mx.example");
        record(Type.A, "aonly.example", "192.0.2.5");
        tempFail(Type.MX, "broken.example");
        lastConfig = "smtpd_sender_restrictions = reject_unknown_sender_domain";
        rcptFrom(OUTSIDE, "a@nowhere.example", "x@mx.example.org",
                "450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found");
        rcptFrom(OUTSIDE, "a@nullmx.example", "x@mx.example.org",
                "550 5.7.27 <a@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail "
                        + "(nullMX)");
        rcptFrom(OUTSIDE, "a@mx.example", "x@mx.example.org", "250 2.1.5 Ok");
        rcptFrom(OUTSIDE, "a@aonly.example", "x@mx.example.org", "250 2.1.5 Ok");
        rcptFrom(OUTSIDE, "a@broken.example", "x@mx.example.org",
                "450 4.1.8 <a@broken.example>: Sender address rejected: Domain not found");
        queries.clear();
        rcptFrom(OUTSIDE, "a@mx.example.org", "x@mx.example.org", "250 2.1.5 Ok");
        assertEquals(List.of(), queries, "local domains are not looked up");
        lastConfig = "smtpd_sender_restrictions = reject_unknown_sender_domain\nunknown_address_reject_code = 550";
        rcptFrom(OUTSIDE, "a@nowhere.example", "x@mx.example.org",
                "550 5.1.8 <a@nowhere.example>: Sender address rejected: Domain not found");
    }

    @Test
    void unknownRecipientDomain() {
        record(Type.MX, "nullmx.example", "");
        lastConfig = "smtpd_recipient_restrictions = reject_unknown_recipient_domain";
        rcptFrom("127.0.0.1", "a@example.com", "x@nowhere.example",
                "450 4.1.2 <x@nowhere.example>: Recipient address rejected: Domain not found");
        rcptFrom("127.0.0.1", "a@example.com", "x@nullmx.example",
                "556 5.1.10 <x@nullmx.example>: Recipient address rejected: Domain nullmx.example does not accept "
                        + "mail (nullMX)");
    }

    @Test
    void unknownReverseClientHostname() {
        record(Type.PTR, "192.0.2.7", "mail.example.com");
        lastConfig = "smtpd_client_restrictions = reject_unknown_reverse_client_hostname";
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org",
                "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]");
        rcptFrom("192.0.2.7", "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
        lastConfig = "smtpd_client_restrictions = reject_unknown_reverse_client_hostname\n"
                + "unknown_client_reject_code = 550";
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org",
                "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]");
    }

    @Test
    void unknownClientHostnameNeedsForwardConfirmation() {
        record(Type.PTR, "192.0.2.7", "mail.example.com");
        record(Type.A, "mail.example.com", "192.0.2.7");
        record(Type.PTR, "192.0.2.8", "liar.example.com");
        record(Type.A, "liar.example.com", "198.51.100.1");
        record(Type.PTR, "2001:db8::25", "v6.example.com");
        record(Type.AAAA, "v6.example.com", "2001:db8:0:0:0:0:0:25");
        lastConfig = "smtpd_client_restrictions = reject_unknown_client_hostname";
        rcptFrom("192.0.2.7", "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
        rcptFrom("192.0.2.8", "a@example.com", "x@mx.example.org",
                "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.8]");
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org",
                "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]");
        rcptFrom("2001:db8::25", "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
    }

    @Test
    void slowAnswersSuspendTheSessionAndKeepPipelinedOrder() {
        record(Type.A, "1.2.0.192.zen.example", "127.0.0.2");
        holdAnswers = true;
        open(dnsSettings("smtpd_recipient_restrictions = reject_rbl_client zen.example"), OUTSIDE);
        ehloMail("a@example.com");
        raw("RCPT TO:<x@mx.example.org>\r\nNOOP\r\nQUIT\r\n");
        expect();
        assertEquals(2, held.size(), "A and TXT queried, nothing answered yet");
        release.forEach(Runnable::run);
        expect("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.example",
                "250 2.0.0 Ok", "221 2.0.0 Bye");
        assertTrue(closed);
    }

    @Test
    void connectTimeRblWithoutDelayReject() {
        record(Type.A, "1.2.0.192.zen.example", "127.0.0.2");
        holdAnswers = true;
        connect(dnsSettings("smtpd_delay_reject = no", "smtpd_client_restrictions = reject_rbl_client zen.example"),
                OUTSIDE);
        raw("EHLO client.example\r\n");
        expect();
        release.forEach(Runnable::run);
        expect("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.example",
                "503 5.7.0 Error: access denied for unknown[192.0.2.1]");
    }

    @Test
    void unknownHeloHostname() {
        record(Type.A, "client.example", "192.0.2.1");
        lastConfig = "smtpd_helo_restrictions = reject_unknown_helo_hostname";
        rcptFrom(OUTSIDE, "a@example.com", "x@mx.example.org", "250 2.1.5 Ok");
        open(dnsSettings(lastConfig), OUTSIDE);
        send("HELO ghost.example");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 mx.example.org", "250 2.1.0 Ok",
                "450 4.7.1 <ghost.example>: Helo command rejected: Host not found");
        queries.clear();
        send("HELO [192.0.2.1]");
        send("MAIL FROM:<a@example.com>");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 mx.example.org", "250 2.1.0 Ok", "250 2.1.5 Ok");
        assertEquals(List.of(), queries, "address literals are not looked up");
    }

    @Test
    void bdatWaitsForDnsWithoutMisreadingTheChunk() {
        record(Type.A, "1.2.0.192.zen.example", "127.0.0.2");
        holdAnswers = true;
        for (String client : List.of(OUTSIDE, "192.0.2.7")) {
            release.clear();
            open(dnsSettings("smtpd_data_restrictions = reject_rbl_client zen.example",
                    "smtpd_end_of_data_restrictions = reject_unknown_reverse_client_hostname"), client);
            ehloMail("a@example.com");
            send("RCPT TO:<x@mx.example.org>");
            expect("250 2.1.5 Ok");
            raw("BDAT 6 LAST\r\nhello\nNOOP\r\n");
            expect();
            // the data and end-of-data lookups, in as many rounds as the session asks for
            for (int done = 0; done < release.size(); done++) {
                release.get(done).run();
            }
            if (client.equals(OUTSIDE)) {
                expect("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.example",
                        "250 2.0.0 Ok");
            } else {
                expect("450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.7]",
                        "250 2.0.0 Ok");
            }
        }
    }

    @Test
    void peernameLookupNamesVerifiedClients() {
        record(Type.PTR, "192.0.2.7", "Mail.Example.COM");
        record(Type.A, "Mail.Example.COM", "192.0.2.7");
        record(Type.PTR, "192.0.2.8", "liar.example.com");
        record(Type.A, "liar.example.com", "198.51.100.1");
        holdAnswers = true;
        SmtpdSettings.Builder b = dnsSettings("smtpd_client_restrictions = check_client_access "
                + "inline:{example.com=REJECT}").toBuilder();
        b.peernameLookup = true;
        SmtpdSettings s = b.build();
        connect(s, "192.0.2.7");
        expect(); // the greeting waits for the name
        for (int done = 0; done < release.size(); done++) {
            release.get(done).run();
        }
        expect("220 mx.example.org ESMTP Postern");
        expectLog("connect from mail.example.com[192.0.2.7]");
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 <mail.example.com[192.0.2.7]>: Client host rejected: Access denied");
        expectLog("NOQUEUE: reject: RCPT from mail.example.com[192.0.2.7]: 554 5.7.1 <mail.example.com[192.0.2.7]>: "
                + "Client host rejected: Access denied; from=<a@example.com> to=<x@mx.example.org> proto=ESMTP "
                + "helo=<client.example>");
        // a name that does not map back is not used
        holdAnswers = false;
        open(b.build(), "192.0.2.8");
        expectLog("connect from unknown[192.0.2.8]");
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertTrue(contents.get(0).startsWith("Received: from client.example (unknown [192.0.2.8])"), contents.get(0));
    }
}
