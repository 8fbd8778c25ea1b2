package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.dns.Dnsmasq;
import org.postern.smtpd.policy.DnsJavaLookup;

/**
 * reject_rhsbl_sender and reject_rhsbl_helo against dnsmasq serving a blocklist on a
 * loopback port, through the resolver Postern runs with (skipped without dnsmasq).
 */
class SmtpdRhsblDnsmasqTest extends SessionConversation {
    private static Dnsmasq dnsmasq;
    private static DnsJavaLookup lookup;

    @BeforeAll
    static void start() throws Exception {
        dnsmasq = Dnsmasq.start("spam.test.dbl.test", "--host-record=spam.test.dbl.test,127.0.1.2",
                "--txt-record=spam.test.dbl.test,listed: spam.test", "--host-record=bot.spam.test.dbl.test,127.0.1.4");
        lookup = new DnsJavaLookup(List.of(dnsmasq.server()), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    private final Semaphore resumed = new Semaphore(0);

    /** the answers come on the resolver's threads: each resumption of the session is signalled */
    private SmtpdSettings settingsWithDns(String mainCf) {
        SmtpdTransport inner = transport;
        transport = new SmtpdTransport() {
            @Override public void reply(String line) { synchronized (replies) { inner.reply(line); } }
            @Override public void flush() { }
            @Override public void close() { inner.close(); }
            @Override public void startTls() { inner.startTls(); }
            @Override public void runBlocking(Runnable work, Runnable then) { inner.runBlocking(work, then); }
            @Override public void delay(Duration delay, Runnable then) { inner.delay(delay, then); }

            @Override
            public void await(java.util.concurrent.CompletionStage<?> pending, Runnable then) {
                pending.whenComplete((r, e) -> {
                    synchronized (replies) {
                        then.run();
                    }
                    resumed.release();
                });
            }
        };
        return SmtpdSettings.defaults("smtpd", "mx.example.org", spool).withPolicy(mainCf, lookup);
    }

    /** rcpt - EHLO helo, MAIL FROM sender, RCPT TO a local address: the RCPT reply once DNS has answered. */
    private String rcpt(SmtpdSettings s, String helo, String sender) throws InterruptedException {
        synchronized (replies) {
            open(s, OUTSIDE);
            send("EHLO " + helo);
            replies.clear();
            send("MAIL FROM:<" + sender + ">");
            expect("250 2.1.0 Ok");
            send("RCPT TO:<x@mx.example.org>");
        }
        for (int i = 0; i < 50; i++) {
            synchronized (replies) {
                if (!replies.isEmpty()) {
                    String r = replies.get(0);
                    replies.clear();
                    return r;
                }
            }
            resumed.tryAcquire(100, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("no RCPT reply");
    }

    @Test
    void listedSenderDomainIsRejectedWithTheTxtReason() throws InterruptedException {
        SmtpdSettings s = settingsWithDns("smtpd_sender_restrictions = reject_rhsbl_sender dbl.test");
        assertEquals("554 5.7.1 Service unavailable; Sender address [a@spam.test] "
                + "blocked using dbl.test; listed: spam.test", rcpt(s, "client.example", "a@spam.test"));
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Sender address "
                + "[a@spam.test] blocked using dbl.test; listed: spam.test; from=<a@spam.test> to=<x@mx.example.org> "
                + "proto=ESMTP helo=<client.example>");
        // NXDOMAIN under the list: not listed
        assertEquals("250 2.1.5 Ok", rcpt(s, "client.example", "a@clean.test"));
    }

    @Test
    void listedHeloWithAFilter() throws InterruptedException {
        SmtpdSettings s = settingsWithDns("smtpd_helo_restrictions = reject_rhsbl_helo dbl.test=127.0.1.[4..5]");
        assertEquals("554 5.7.1 Service unavailable; Helo command [bot.spam.test] "
                + "blocked using dbl.test", rcpt(s, "bot.spam.test", "a@example.com"));
        // spam.test answers 127.0.1.2, outside the filter
        assertEquals("250 2.1.5 Ok", rcpt(s, "spam.test", "a@example.com"));
    }
}
