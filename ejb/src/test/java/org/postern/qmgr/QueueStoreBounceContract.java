package org.postern.qmgr;

import org.postern.config.Parameters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.T0;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.junit.jupiter.api.Test;
import org.postern.bounce.DsnParsers;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.queue.QueueDatabaseContract;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * QueueStoreBounceContract - non-delivery reports: finishing a round with bounced
 * recipients queues the report in the same transaction (RFC 3464, Postfix's bounce(8)).
 */
public interface QueueStoreBounceContract extends QueueDatabaseContract {
    Duration LEASE = Duration.ofMinutes(5);
    String TEXT = "Message-ID: <orig-7@example.org>\r\nFrom: sender@example.org\r\nSubject: figures\r\n\r\n"
            + "Hello,\r\nthe figures.\r\n";

    /** config - main.cf for these tests: a fixed host name and origin. */
    default Config config() {
        return Config.parse("myhostname = mx.postern.test\nmyorigin = postern.test\n", "main.cf");
    }

    default QueueStore store() {
        return new QueueStore(config());
    }

    /** stored - a text message from sender with MAIL FROM parameters and recipients; its queue id. */
    default String stored(String sender, Map<String, String> mailParams, Envelope.Recipient... recipients) {
        String id = QueueIds.next();
        Envelope env = new Envelope(id, sender, mailParams, List.of(recipients), "client.example.net",
                "192.0.2.10", 49152, "client.example.net", "ESMTP", "smtpd", T0, 0);
        return database().inTransaction(new CleanupService(),
                c -> c.store(env, new ByteArrayInputStream(TEXT.getBytes(StandardCharsets.US_ASCII))));
    }

    default String stored(Envelope.Recipient... recipients) {
        return stored("sender@example.org", Map.of("ENVID", "env-7"), recipients);
    }

    default QueueStore.Claim claim(String id, Instant now) {
        return database().inTransaction(store(), q -> q.claim(id, now, LEASE));
    }

    default QueueStore.Finished finish(QueueStore.Claim c, Map<Long, QueueStore.Outcome> outcomes, Instant now) {
        return database().inTransaction(store(), q -> q.finishRound(c.queueId(), c.lease(), outcomes, now));
    }

    /** finish - the same with these main.cf lines added to config(). */
    default QueueStore.Finished finish(QueueStore.Claim c, Map<Long, QueueStore.Outcome> outcomes, Instant now,
                                       String mainCf) {
        Config with = Config.parse("myhostname = mx.postern.test\nmyorigin = postern.test\n" + mainCf, "main.cf");
        return database().inTransaction(new QueueStore(with),
                q -> q.finishRound(c.queueId(), c.lease(), outcomes, now));
    }

    /** content - the stored content of a message, read as the delivery agent reads it. */
    default byte[] content(String id) {
        QueuedMessage m = database().message(id);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < m.getContentChunks(); i++) {
            int seq = i;
            out.writeBytes(database().withoutTransaction(store(), q -> q.chunk(id, seq)));
        }
        return out.toByteArray();
    }

    static Envelope.Recipient rcpt(String address, String orcpt, String notify) {
        return new Envelope.Recipient(address, orcpt, notify);
    }

    static QueueStore.Outcome bounced(String address) {
        return new QueueStore.Outcome(RecipientStatus.BOUNCED, "5.1.1", "mx.example.com[192.0.2.25]:25",
                "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown", null);
    }

    static QueueStore.Outcome deferred(Instant next) {
        return new QueueStore.Outcome(RecipientStatus.DEFERRED, "4.4.1", "none",
                "connect to mx.example.com: Connection refused", next);
    }

    @Test
    default void aBounceQueuesAReportToTheSenderDueNow() throws Exception {
        String id = stored(rcpt("a@example.com", "rfc822;A@example.com", null), rcpt("b@example.com", null, null));
        Instant now = T0.plusSeconds(5);
        QueueStore.Claim c = claim(id, now);

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("a@example.com"),
                c.due().get(1).id(), deferred(now.plusSeconds(300))), now);

        assertEquals(now.plusSeconds(300), f.next());
        assertEquals(1, f.notices().size());
        String report = f.notices().get(0);
        assertTrue(QueueIds.isValid(report));
        QueuedMessage r = database().message(report);
        assertEquals("", r.getSender(), "the null sender");
        assertEquals(QueueState.INCOMING, r.getState());
        assertEquals(now, r.getNextAttempt());
        assertEquals(List.of("sender@example.org"), r.getRecipients().stream().map(QueuedRecipient::getAddress).toList());
        assertNull(r.getRecipients().get(0).getNotify());

        byte[] dsn = content(report);
        assertEquals(r.getSize(), dsn.length);
        DeliveryStatus status = ((MultipartReport) DsnParsers.jakarta(dsn).getContent()).getDeliveryStatus();
        assertEquals("env-7", status.getMessageDSN().getHeader("Original-Envelope-Id", null));
        assertEquals("dns; mx.postern.test", status.getMessageDSN().getHeader("Reporting-MTA", null));
        assertEquals(1, status.getRecipientDSNCount(), "only the bounced recipient");
        assertEquals("rfc822; a@example.com", status.getRecipientDSN(0).getHeader("Final-Recipient", null));
        assertEquals("rfc822;A@example.com", status.getRecipientDSN(0).getHeader("Original-Recipient", null));

        Map<String, String> py = DsnParsers.python(dsn);
        assertEquals("message/rfc822", py.get("part2"), "no RET: the whole message, as Postfix");
        assertEquals("figures", py.get("returned.Subject"));
        assertEquals("Hello,|the figures.|", py.get("returned.body"));
        assertEquals("MAILER-DAEMON@mx.postern.test (Mail Delivery System)", py.get("from"));

        QueueStore.Claim rc = claim(report, now);
        assertNotNull(rc, "the report is deliverable at once");
        assertEquals("", rc.sender());
        assertEquals(QueueState.DEFERRED, database().message(id).getState(), "b@example.com still waits");
    }

    @Test
    default void retHdrsReturnsTheHeaderOnly() {
        String id = stored("sender@example.org", Map.of("RET", "HDRS"), rcpt("a@example.com", null, null));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("a@example.com")), T0.plusSeconds(2));

        assertNull(f.next());
        assertNull(database().message(id), "the message is gone, its report is queued");
        Map<String, String> py = DsnParsers.python(content(f.notices().get(0)));
        assertEquals("text/rfc822-headers", py.get("part2"));
        assertEquals("figures", py.get("returned.Subject"));
        assertFalse(new String(content(f.notices().get(0)), StandardCharsets.US_ASCII).contains("the figures."));
    }

    @Test
    default void notifyNeverOrWithoutFailureGetsNoReport() {
        String id = stored(rcpt("a@example.com", null, "NEVER"), rcpt("b@example.com", null, "SUCCESS,DELAY"),
                rcpt("c@example.com", null, "FAILURE"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("a@example.com"),
                c.due().get(1).id(), bounced("b@example.com"), c.due().get(2).id(), bounced("c@example.com")),
                T0.plusSeconds(2));

        assertEquals(1, f.notices().size());
        Map<String, String> py = DsnParsers.python(content(f.notices().get(0)));
        assertEquals("rfc822; c@example.com", py.get("rcpt0.Final-Recipient"));
        assertFalse(py.containsKey("rcpt1.Final-Recipient"), py.toString());

        String never = stored(rcpt("a@example.com", null, "NEVER"));
        QueueStore.Claim n = claim(never, T0.plusSeconds(3));
        QueueStore.Finished none = finish(n, Map.of(n.due().get(0).id(), bounced("a@example.com")), T0.plusSeconds(4));
        assertEquals(List.of(), none.notices());
        assertNull(database().message(never));
        assertEquals(1, database().rows("queue_message"), "only the first report");
    }

    @Test
    default void noBounceNoReport() {
        String id = stored(rcpt("a@example.com", null, null));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), deferred(T0.plusSeconds(400))), T0.plusSeconds(2));

        assertEquals(List.of(), f.notices());
        assertEquals(1, database().rows("queue_message"));
    }

    @Test
    default void aBounceThatBouncesGoesToThePostmasterWithNotifyClasses2bounce() {
        String bounce = stored("", Map.of(), rcpt("sender@example.org", null, null));
        QueueStore.Claim c = claim(bounce, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("sender@example.org")),
                T0.plusSeconds(2), "notify_classes = 2bounce\n");

        assertEquals(1, f.notices().size());
        QueuedMessage notice = database().message(f.notices().get(0));
        assertEquals("double-bounce@postern.test", notice.getSender());
        assertEquals("postmaster@postern.test", notice.getRecipients().get(0).getAddress());
        Map<String, String> py = DsnParsers.python(content(notice.getQueueId()));
        assertEquals("Postmaster Copy: Undelivered Mail", py.get("subject"));
        assertEquals("text/rfc822-headers", py.get("part2"));
        assertEquals("rfc822; sender@example.org", py.get("rcpt0.Final-Recipient"));
    }

    @Test
    default void withTheDefaultNotifyClassesAnUndeliverableBounceIsDiscarded() {
        assertEquals(List.of("resource", "software"), config().get(Parameters.NOTIFY_CLASSES));
        String bounce = stored("", Map.of(), rcpt("sender@example.org", null, null));
        QueueStore.Claim c = claim(bounce, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("sender@example.org")),
                T0.plusSeconds(2));

        assertEquals(List.of(), f.notices());
        assertNull(f.next());
        assertEquals(0, database().totalRows(), "the bounce is gone, nothing new queued");
    }

    @Test
    default void anUndeliverablePostmasterNoticeIsDiscardedNotLooped() {
        String notice = stored("double-bounce@postern.test", Map.of(), rcpt("postmaster@postern.test", null, null));
        QueueStore.Claim c = claim(notice, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("postmaster@postern.test")),
                T0.plusSeconds(2));

        assertEquals(List.of(), f.notices());
        assertNull(f.next());
        assertEquals(0, database().totalRows(), "dropped, nothing new queued");
    }

    @Test
    default void anExpiredRecipientIsReportedWithoutARemoteServer() {
        String id = stored(rcpt("a@example.com", null, null));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        QueueStore.Outcome expired = new QueueStore.Outcome(RecipientStatus.BOUNCED, "5.4.1", "none",
                "message expired: connect to mx.example.com: Connection refused", null);

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), expired), T0.plusSeconds(2));

        Map<String, String> py = DsnParsers.python(content(f.notices().get(0)));
        assertEquals("5.4.1", py.get("rcpt0.Status"));
        assertEquals("failed", py.get("rcpt0.Action"));
        assertFalse(py.containsKey("rcpt0.Remote-MTA"));
        assertFalse(py.containsKey("rcpt0.Diagnostic-Code"));
        assertTrue(py.get("text").contains("<a@example.com>: message expired: connect to mx.example.com"),
                py.get("text"));
    }

    @Test
    default void aRoundThatOutlivedItsLeaseStillReportsItsBounces() {
        String id = stored(rcpt("a@example.com", null, null), rcpt("b@example.com", null, null));
        QueueStore.Claim stale = claim(id, T0.plusSeconds(1));
        QueueStore.Claim current = claim(id, T0.plusSeconds(2).plus(LEASE));
        assertNotNull(current);

        QueueStore.Finished f = finish(stale, Map.of(stale.due().get(0).id(), bounced("a@example.com")),
                T0.plusSeconds(3).plus(LEASE));

        assertEquals(1, f.notices().size(), "a bounce is a fact and is reported once");
        assertEquals(RecipientStatus.BOUNCED, database().message(id).getRecipients().get(0).getStatus());
        QueueStore.Finished again = finish(current, Map.of(current.due().get(0).id(), bounced("a@example.com")),
                T0.plusSeconds(4).plus(LEASE));
        assertEquals(List.of(), again.notices(), "an already bounced recipient is not reported twice");
    }

    @Test
    default void theReportAndTheBounceCommitTogether() {
        String id = stored(rcpt("a@example.com", null, null), rcpt("b@example.com", null, null));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        assertThrows(IllegalStateException.class, () -> database().inTransaction(store(), q -> {
            q.finishRound(id, c.lease(), Map.of(c.due().get(0).id(), bounced("a@example.com")), T0.plusSeconds(2));
            throw new IllegalStateException("the commit fails");
        }));

        assertEquals(1, database().rows("queue_message"), "no report without the recorded bounce");
        assertEquals(RecipientStatus.PENDING, database().message(id).getRecipients().get(0).getStatus());
        Map<Long, QueueStore.Outcome> outcomes = new HashMap<>();
        outcomes.put(c.due().get(0).id(), bounced("a@example.com"));
        assertEquals(1, finish(c, outcomes, T0.plusSeconds(3)).notices().size(), "the retried finish reports");
    }

    // ---- delay warnings

    /** round - claim at now and finish with every due recipient deferred, with delay_warning_time = 4h. */
    default QueueStore.Finished deferredRound(String id, Instant now) {
        Config warning = Config.parse("myhostname = mx.postern.test\nmyorigin = postern.test\n"
                + "delay_warning_time = 4h\n", "main.cf");
        QueueStore.Claim c = database().inTransaction(new QueueStore(warning), q -> q.claim(id, now, LEASE));
        assertNotNull(c, "due at " + now);
        Map<Long, QueueStore.Outcome> outcomes = new HashMap<>();
        for (QueueStore.Claim.Rcpt r : c.due()) {
            outcomes.put(r.id(), new QueueStore.Outcome(RecipientStatus.DEFERRED, "4.4.1",
                    "mx.example.com[192.0.2.25]:25", "451 4.4.1 try again later", now.plusSeconds(60)));
        }
        return database().inTransaction(new QueueStore(warning), q -> q.finishRound(id, c.lease(), outcomes, now));
    }

    @Test
    default void theSenderIsWarnedOnceAfterDelayWarningTime() {
        String id = stored(rcpt("a@example.com", "rfc822;a@example.com", null), rcpt("b@example.com", null, "FAILURE"),
                rcpt("c@example.com", null, "DELAY,FAILURE"));

        assertEquals(List.of(), deferredRound(id, T0.plus(Duration.ofHours(1))).notices(), "not yet");
        QueueStore.Finished f = deferredRound(id, T0.plus(Duration.ofHours(4)).plusSeconds(1));
        assertEquals(List.of(), deferredRound(id, T0.plus(Duration.ofHours(5))).notices(), "once only");

        assertEquals(1, f.notices().size());
        QueuedMessage w = database().message(f.notices().get(0));
        assertEquals("", w.getSender());
        assertEquals("sender@example.org", w.getRecipients().get(0).getAddress());
        Map<String, String> py = DsnParsers.python(content(w.getQueueId()));
        assertEquals("0", py.get("defects"));
        assertEquals("Delayed Mail (still being retried)", py.get("subject"));
        assertEquals("text/rfc822-headers", py.get("part2"));
        assertEquals("rfc822; a@example.com", py.get("rcpt0.Final-Recipient"));
        assertEquals("delayed", py.get("rcpt0.Action"));
        assertEquals("4.4.1", py.get("rcpt0.Status"));
        assertEquals("smtp; 451 4.4.1 try again later", py.get("rcpt0.Diagnostic-Code"));
        assertEquals("Wed, 19 Mar 2025 09:26:53 +0000", py.get("rcpt0.Will-Retry-Until"), "arrival + 5d");
        assertEquals("rfc822; c@example.com", py.get("rcpt1.Final-Recipient"), "b asked for failures only");
        assertFalse(py.containsKey("rcpt2.Final-Recipient"));
        assertTrue(py.get("text").contains("THIS IS A WARNING ONLY"), py.get("text"));
        assertEquals(QueueState.DEFERRED, database().message(id).getState(), "the message itself waits on");
    }

    @Test
    default void nullSenderMailIsNotWarnedAbout() {
        String bounce = stored("", Map.of(), rcpt("sender@example.org", null, null));

        assertEquals(List.of(), deferredRound(bounce, T0.plus(Duration.ofHours(5))).notices());
    }

    @Test
    default void aChainOfUndeliverableNoticesEndsAfterThePostmasterNotice() {
        String id = stored(rcpt("a@example.com", null, null));
        Instant t = T0.plusSeconds(1);
        List<String> senders = new java.util.ArrayList<>();
        for (int round = 0; round < 5 && id != null; round++) {
            QueueStore.Claim c = claim(id, t);
            senders.add(c.sender());
            // bounce implies 2bounce; the sender's report then has a postmaster copy, followed no further
            QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced(c.due().get(0).address())), t,
                    "notify_classes = bounce\n");
            if (f.notices().size() == 2) {
                assertEquals("double-bounce@postern.test", database().message(f.notices().get(1)).getSender());
                String copy = f.notices().get(1);
                database().update(em -> {
                    em.createQuery("DELETE FROM ContentChunk c WHERE c.queueId = :id").setParameter("id", copy)
                            .executeUpdate();
                    em.remove(em.find(QueuedMessage.class, copy));
                });
            }
            assertNull(f.next());
            id = f.notices().isEmpty() ? null : f.notices().get(0);
            t = t.plusSeconds(1);
        }

        assertEquals(List.of("sender@example.org", "", "double-bounce@postern.test"), senders,
                "the message, its bounce, the postmaster notice; then nothing");
        assertEquals(0, database().totalRows());
    }

    // ---- success notices (NOTIFY=SUCCESS) and notify_classes

    static QueueStore.Outcome sent(String action) {
        return new QueueStore.Outcome(RecipientStatus.SENT, "2.0.0", "mx.example.com[192.0.2.25]:25",
                "250 2.0.0 Ok: queued as 4XYZ", null, action);
    }

    @Test
    default void notifySuccessGetsASuccessNoticeWithTheActionOfTheNextHop() throws Exception {
        String id = stored("sender@example.org", Map.of("ENVID", "env-9"),
                rcpt("a@example.com", "rfc822;A@example.com", "SUCCESS,FAILURE"), rcpt("b@example.com", null, null),
                rcpt("c@example.com", null, "SUCCESS"), rcpt("d@example.com", null, "SUCCESS"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), sent("relayed"), c.due().get(1).id(),
                sent("relayed"), c.due().get(2).id(), sent("delivered"), c.due().get(3).id(), sent(null)),
                T0.plusSeconds(2));

        assertNull(f.next(), "all sent: the message is gone");
        assertEquals(1, f.notices().size(), "one notice for the round");
        QueuedMessage n = database().message(f.notices().get(0));
        assertEquals("", n.getSender(), "the null sender");
        assertEquals("sender@example.org", n.getRecipients().get(0).getAddress());
        byte[] dsn = content(n.getQueueId());
        DeliveryStatus status = ((MultipartReport) DsnParsers.jakarta(dsn).getContent()).getDeliveryStatus();
        assertEquals("env-9", status.getMessageDSN().getHeader("Original-Envelope-Id", null));
        assertEquals(2, status.getRecipientDSNCount(), "b has no NOTIFY (no success), d's next hop took NOTIFY");
        assertEquals("rfc822;A@example.com", status.getRecipientDSN(0).getHeader("Original-Recipient", null));
        assertEquals("relayed", status.getRecipientDSN(0).getHeader("Action", null));

        Map<String, String> py = DsnParsers.python(dsn);
        assertEquals("0", py.get("defects"));
        assertEquals("Successful Mail Delivery Report", py.get("subject"));
        assertEquals("multipart/report", py.get("content-type"));
        assertEquals("delivery-status", py.get("report-type"));
        assertEquals("rfc822; a@example.com", py.get("rcpt0.Final-Recipient"));
        assertEquals("relayed", py.get("rcpt0.Action"));
        assertEquals("2.0.0", py.get("rcpt0.Status"));
        assertEquals("dns; mx.example.com", py.get("rcpt0.Remote-MTA"));
        assertEquals("smtp; 250 2.0.0 Ok: queued as 4XYZ", py.get("rcpt0.Diagnostic-Code"));
        assertEquals("rfc822; c@example.com", py.get("rcpt1.Final-Recipient"));
        assertEquals("delivered", py.get("rcpt1.Action"));
        assertEquals("text/rfc822-headers", py.get("part2"), "no RET: the header only, as Postfix");
        assertEquals("figures", py.get("returned.Subject"));
        assertTrue(py.get("text").contains("Your message was successfully delivered"), py.get("text"));
        assertTrue(py.get("text").contains("<a@example.com>: delivery via mx.example.com[192.0.2.25]:25: 250 2.0.0"),
                py.get("text"));
    }

    @Test
    default void retFullReturnsTheWholeMessageWithASuccessNotice() {
        String id = stored("sender@example.org", Map.of("RET", "FULL"), rcpt("a@example.com", null, "SUCCESS"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), sent("delivered")), T0.plusSeconds(2));

        Map<String, String> py = DsnParsers.python(content(f.notices().get(0)));
        assertEquals("message/rfc822", py.get("part2"));
        assertEquals("Hello,|the figures.|", py.get("returned.body"));
    }

    @Test
    default void theNullSenderGetsNoSuccessNotice() {
        String id = stored("", Map.of(), rcpt("a@example.com", null, "SUCCESS"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), sent("relayed")), T0.plusSeconds(2));

        assertEquals(List.of(), f.notices());
        assertEquals(0, database().totalRows());
    }

    @Test
    default void notifyClassesBounceSendsThePostmasterTheHeaderOfEveryBounce() {
        String id = stored(rcpt("a@example.com", null, null), rcpt("b@example.com", null, "NEVER"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        QueueStore.Finished f = finish(c, Map.of(c.due().get(0).id(), bounced("a@example.com"),
                c.due().get(1).id(), bounced("b@example.com")), T0.plusSeconds(2),
                "notify_classes = bounce\nbounce_notice_recipient = bounces@admin.example\n");

        assertEquals(2, f.notices().size(), "the sender's report and the postmaster's copy");
        QueuedMessage copy = database().message(f.notices().get(1));
        assertEquals("double-bounce@postern.test", copy.getSender());
        assertEquals("bounces@admin.example", copy.getRecipients().get(0).getAddress());
        Map<String, String> py = DsnParsers.python(content(copy.getQueueId()));
        assertEquals("0", py.get("defects"));
        assertEquals("Postmaster Copy: Undelivered Mail", py.get("subject"));
        assertEquals("text/rfc822-headers", py.get("part2"), "headers only, whatever RET");
        assertEquals("figures", py.get("returned.Subject"));
        assertEquals("rfc822; a@example.com", py.get("rcpt0.Final-Recipient"));
        assertEquals("failed", py.get("rcpt0.Action"));
        assertFalse(py.containsKey("rcpt1.Final-Recipient"), "b asked for no report");

        String plain = stored(rcpt("a@example.com", null, null));
        QueueStore.Claim p = claim(plain, T0.plusSeconds(3));
        assertEquals(1, finish(p, Map.of(p.due().get(0).id(), bounced("a@example.com")), T0.plusSeconds(4))
                .notices().size(), "the default notify_classes have no bounce: the sender's report only");
    }

    @Test
    default void notifyClassesDelaySendsThePostmasterACopyOfTheWarning() {
        String id = stored(rcpt("a@example.com", null, null));
        Config delay = Config.parse("myhostname = mx.postern.test\nmyorigin = postern.test\n"
                + "delay_warning_time = 4h\nnotify_classes = delay\ndelay_notice_recipient = delays\n", "main.cf");
        Instant now = T0.plus(Duration.ofHours(4)).plusSeconds(1);
        QueueStore.Claim c = database().inTransaction(new QueueStore(delay), q -> q.claim(id, now, LEASE));
        QueueStore.Finished f = database().inTransaction(new QueueStore(delay), q -> q.finishRound(id, c.lease(),
                Map.of(c.due().get(0).id(), deferred(now.plusSeconds(600))), now));

        assertEquals(2, f.notices().size(), "the sender's warning and the postmaster's copy");
        QueuedMessage copy = database().message(f.notices().get(1));
        assertEquals("double-bounce@postern.test", copy.getSender());
        assertEquals("delays@postern.test", copy.getRecipients().get(0).getAddress());
        Map<String, String> py = DsnParsers.python(content(copy.getQueueId()));
        assertEquals("Postmaster Warning: Delayed Mail", py.get("subject"));
        assertEquals("delayed", py.get("rcpt0.Action"));
        assertEquals("4.4.1", py.get("rcpt0.Status"));
    }
}
