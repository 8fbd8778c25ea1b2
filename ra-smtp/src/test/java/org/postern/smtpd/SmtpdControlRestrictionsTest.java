package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * reject_multi_recipient_bounce, defer_if_permit, defer_if_reject, reject_unauth_pipelining
 * and sleep as conversations: Postfix's replies and log lines.
 */
class SmtpdControlRestrictionsTest extends SessionConversation {

    @Test
    void multiRecipientBounceAtData() {
        SmtpdSettings s = settings("smtpd_data_restrictions = reject_multi_recipient_bounce");
        open(s, OUTSIDE);
        ehloMail("");
        send("RCPT TO:<a@mx.example.org>");
        send("RCPT TO:<b@mx.example.org>");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok");
        send("DATA");
        expect("550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce");
        expectQueueLog("reject: DATA from unknown[192.0.2.1]: 550 5.5.3 <DATA>: Data command rejected: "
                + "Multi-recipient bounce; from=<> to=<b@mx.example.org> proto=ESMTP helo=<client.example>");
        // one recipient, or a real sender: accepted
        open(s, OUTSIDE);
        ehloMail("");
        send("RCPT TO:<a@mx.example.org>");
        send("DATA");
        expect("250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
        open(s, OUTSIDE);
        ehloMail("someone@example.com");
        send("RCPT TO:<a@mx.example.org>");
        send("RCPT TO:<b@mx.example.org>");
        send("DATA");
        expect("250 2.1.5 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
    }

    @Test
    void multiRecipientBounceAtRcptRefusesTheSecondAndItsCode() {
        open(settings("smtpd_recipient_restrictions = reject_multi_recipient_bounce, permit_mynetworks, "
                + "reject_unauth_destination", "multi_recipient_bounce_reject_code = 554"), OUTSIDE);
        ehloMail("");
        send("RCPT TO:<a@mx.example.org>");
        send("RCPT TO:<b@mx.example.org>");
        expect("250 2.1.5 Ok",
                "554 5.5.3 <b@mx.example.org>: Recipient address rejected: Multi-recipient bounce");
    }

    @Test
    void deferIfPermit() {
        open(settings("smtpd_recipient_restrictions = defer_if_permit, permit"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.0 <x@mx.example.org>: Recipient address rejected: defer_if_permit requested");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.7.0 <x@mx.example.org>: Recipient address "
                + "rejected: defer_if_permit requested; from=<a@example.com> to=<x@mx.example.org> proto=ESMTP "
                + "helo=<client.example>");
        // a reject wins over the deferral
        open(settings("smtpd_recipient_restrictions = defer_if_permit, reject"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("554 5.7.1 <x@mx.example.org>: Recipient address rejected: Access denied");
        // warn_if_reject: only a warning
        open(settings("smtpd_recipient_restrictions = warn_if_reject, defer_if_permit, permit"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        expectLog("NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 450 4.7.0 <x@mx.example.org>: Recipient "
                + "address rejected: defer_if_permit requested; from=<a@example.com> to=<x@mx.example.org> "
                + "proto=ESMTP helo=<client.example>");
    }

    @Test
    void deferIfPermitOfTheClientStageIsCarriedToRcptWithoutDelayReject() {
        open(settings("smtpd_delay_reject = no", "smtpd_client_restrictions = defer_if_permit"), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        send("MAIL FROM:<a@example.com>");
        expect("250 2.1.0 Ok");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.0 <unknown[192.0.2.1]>: Client host rejected: defer_if_permit requested");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.7.0 <unknown[192.0.2.1]>: Client host "
                + "rejected: defer_if_permit requested; from=<a@example.com> to=<x@mx.example.org> proto=ESMTP "
                + "helo=<client.example>");
    }

    @Test
    void deferIfReject() {
        open(settings("smtpd_recipient_restrictions = defer_if_reject, reject"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.0 <x@mx.example.org>: Recipient address rejected: defer_if_reject requested");
        expectLog("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.7.0 <x@mx.example.org>: Recipient address "
                + "rejected: defer_if_reject requested; from=<a@example.com> to=<x@mx.example.org> proto=ESMTP "
                + "helo=<client.example>");
        // nothing to change when the request is permitted or only deferred
        open(settings("smtpd_recipient_restrictions = defer_if_reject, permit"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        open(settings("smtpd_recipient_restrictions = defer_if_reject, defer"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.1 <x@mx.example.org>: Recipient address rejected: Try again later");
        // the access map action: its own text, or Service unavailable
        open(settings("smtpd_recipient_restrictions = check_recipient_access " + table("DEFER_IF_REJECT 4.7.9 maybe "
                + "later") + ", reject"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.9 <x@mx.example.org>: Recipient address rejected: maybe later");
        open(settings("smtpd_recipient_restrictions = check_recipient_access " + table("DEFER_IF_REJECT")
                + ", reject"), OUTSIDE);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        expect("450 4.7.1 <x@mx.example.org>: Recipient address rejected: Service unavailable");
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tables;

    /** table - an access table with one entry for x@mx.example.org. */
    private String table(String value) {
        java.nio.file.Path p = tables.resolve("access" + value.hashCode());
        try {
            java.nio.file.Files.writeString(p, "x@mx.example.org " + value + "\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return "texthash:" + p;
    }

    @Test
    void unauthPipeliningIsRememberedForTheSession() {
        SmtpdSettings s = settings("smtpd_data_restrictions = reject_unauth_pipelining");
        // HELO, then MAIL before the reply: the client was never told about PIPELINING
        open(s, OUTSIDE);
        raw("HELO client.example\r\nMAIL FROM:<a@example.com>\r\n");
        expect("250 mx.example.org", "250 2.1.0 Ok");
        expectLog("improper command pipelining after HELO from unknown[192.0.2.1]: MAIL FROM:<a@example.com>??");
        send("RCPT TO:<x@mx.example.org>");
        expect("250 2.1.5 Ok");
        send("DATA");
        expect("503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining");
        expectQueueLog("reject: DATA from unknown[192.0.2.1]: 503 5.5.0 <DATA>: Data command rejected: Improper use "
                + "of SMTP command pipelining; from=<a@example.com> to=<x@mx.example.org> proto=SMTP "
                + "helo=<client.example>");
        // RFC 2920 pipelining after EHLO is fine
        open(s, OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        raw("MAIL FROM:<a@example.com>\r\nRCPT TO:<x@mx.example.org>\r\nDATA\r\n");
        expect("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
    }

    // ------------------------------------------------------------ sleep

    private final Semaphore resumed = new Semaphore(0);

    /** timedTransport - the session's waits really wait; each resumption is signalled. */
    private void timedTransport() {
        SmtpdTransport inner = transport;
        transport = new SmtpdTransport() {
            @Override public void reply(String line) { synchronized (replies) { inner.reply(line); } }
            @Override public void flush() { }
            @Override public void close() { inner.close(); }
            @Override public void startTls() { inner.startTls(); }
            @Override public void runBlocking(Runnable work, Runnable then) { inner.runBlocking(work, then); }
            @Override public void delay(Duration delay, Runnable then) { inner.delay(delay, then); }

            @Override
            public void await(CompletionStage<?> pending, Runnable then) {
                pending.whenComplete((r, e) -> {
                    synchronized (replies) {
                        then.run();
                    }
                    resumed.release();
                });
            }
        };
    }

    private List<String> repliesNow() {
        synchronized (replies) {
            List<String> copy = List.copyOf(replies);
            replies.clear();
            return copy;
        }
    }

    @Test
    void sleepDelaysTheGreetingWithoutHoldingAThread() throws InterruptedException {
        timedTransport();
        SmtpdSettings s = settings("smtpd_delay_reject = no",
                "smtpd_client_restrictions = sleep 1, reject_unauth_pipelining");
        long start = System.nanoTime();
        synchronized (replies) {
            connect(s, OUTSIDE);
        }
        // connect returned at once: the session waits on a timer, nothing is sent yet
        assertTrue(System.nanoTime() - start < 500_000_000L, "start() must not block");
        assertEquals(List.of(), repliesNow());
        assertTrue(resumed.tryAcquire(5, TimeUnit.SECONDS));
        long waited = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waited >= 950, "greeting after " + waited + " ms");
        assertEquals(List.of("220 mx.example.org ESMTP Postern"), repliesNow());
        synchronized (replies) {
            send("EHLO client.example");
        }
        assertEquals("250-mx.example.org", repliesNow().get(0));
    }

    @Test
    void sleepCatchesAZombieThatTalksBeforeTheGreeting() throws InterruptedException {
        timedTransport();
        SmtpdSettings s = settings("smtpd_delay_reject = no",
                "smtpd_client_restrictions = sleep 1, reject_unauth_pipelining");
        synchronized (replies) {
            connect(s, OUTSIDE);
            send("EHLO zombie.example"); // held while the session sleeps
        }
        assertTrue(resumed.tryAcquire(5, TimeUnit.SECONDS));
        assertEquals(List.of("503 5.5.0 <unknown[192.0.2.1]>: Client host rejected: Improper use of SMTP command "
                + "pipelining", "503 5.7.0 Error: access denied for unknown[192.0.2.1]"), repliesNow());
        expectLog("improper command pipelining after CONNECT from unknown[192.0.2.1]: EHLO zombie.example??");
        expectLog("NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 503 5.5.0 <unknown[192.0.2.1]>: Client host "
                + "rejected: Improper use of SMTP command pipelining; proto=SMTP");
    }

    @Test
    void sleepAtRcptThenTheRestOfTheList() throws InterruptedException {
        timedTransport();
        SmtpdSettings s = settings("smtpd_recipient_restrictions = sleep 1, reject");
        long start;
        synchronized (replies) {
            connect(s, OUTSIDE);
            send("EHLO client.example");
            send("MAIL FROM:<a@example.com>");
            start = System.nanoTime();
            send("RCPT TO:<x@mx.example.org>");
            send("QUIT"); // held until the RCPT TO is answered
        }
        List<String> before = repliesNow();
        assertEquals("250 2.1.0 Ok", before.get(before.size() - 1));
        assertTrue(resumed.tryAcquire(5, TimeUnit.SECONDS));
        assertTrue((System.nanoTime() - start) / 1_000_000 >= 950);
        assertEquals(List.of("554 5.7.1 <x@mx.example.org>: Recipient address rejected: Access denied",
                "221 2.0.0 Bye"), repliesNow());
    }
}
