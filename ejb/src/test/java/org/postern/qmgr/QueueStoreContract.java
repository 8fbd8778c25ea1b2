package org.postern.qmgr;

import org.postern.config.Parameters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.T0;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.queue.QueueDatabaseContract;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * QueueStoreContract - the queue manager's transactions (claim, finish, release, due) on
 * a real database, on messages stored by CleanupService.
 */
public interface QueueStoreContract extends QueueDatabaseContract {
    Duration LEASE = Duration.ofMinutes(5);

    /** stored - a message stored as smtpd stores it, arriving at the given time; its queue id. */
    default String stored(Instant arrival, int size, Envelope.Recipient... recipients) {
        String id = QueueIds.next();
        byte[] data = content(size, arrival.toEpochMilli());
        return database().inTransaction(new CleanupService(),
                c -> c.store(envelope(id, arrival, recipients), new ByteArrayInputStream(data)));
    }

    /** the lease token of the latest claim of each message, as the queue manager keeps it */
    Map<String, Long> LEASES = new java.util.concurrent.ConcurrentHashMap<>();

    default QueueStore.Claim claim(String queueId, Instant now) {
        QueueStore.Claim c = database().inTransaction(new QueueStore(), q -> q.claim(queueId, now, LEASE));
        if (c != null) {
            LEASES.put(queueId, c.lease());
        }
        return c;
    }

    /** finish - as the holder of the latest claim */
    default Instant finish(String queueId, Map<Long, QueueStore.Outcome> outcomes, Instant now) {
        long lease = LEASES.getOrDefault(queueId, -1L);
        return database().inTransaction(new QueueStore(), q -> q.finish(queueId, lease, outcomes, now));
    }

    default List<String> due(Instant now, int max) {
        return database().withoutTransaction(new QueueStore(), q -> q.due(now, max));
    }

    static QueueStore.Outcome sent() {
        return new QueueStore.Outcome(RecipientStatus.SENT, "2.0.0", "mx.example.com[192.0.2.25]:25",
                "250 2.0.0 Ok: queued as 4XYZ", null);
    }

    static QueueStore.Outcome deferred(Instant next) {
        return new QueueStore.Outcome(RecipientStatus.DEFERRED, "4.2.0", "mx.example.com[192.0.2.25]:25",
                "450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted", next);
    }

    default void setState(String queueId, QueueState state) {
        database().update(em -> em.find(QueuedMessage.class, queueId).setState(state));
    }

    // ---- claim

    @Test
    default void claimReturnsTheDueRecipientsAndMakesTheMessageActive() {
        String id = stored(T0, 200 * 1024, new Envelope.Recipient("a@example.com", "rfc822;A@example.com", "FAILURE"),
                rcpt("b@example.com"));
        Instant now = T0.plusSeconds(2);

        QueueStore.Claim c = claim(id, now);

        assertNotNull(c);
        assertEquals(id, c.queueId());
        assertEquals("sender@example.org", c.sender());
        assertEquals(T0, c.arrival());
        assertEquals(200 * 1024, c.size());
        assertEquals(2, c.nrcpt());
        assertEquals(4, c.chunks());
        assertEquals("env-1", c.envid());
        assertEquals("HDRS", c.ret());
        assertEquals("8BITMIME", c.bodyType());
        // the original client as smtpd stored it, for XFORWARD
        assertEquals(new QueueStore.Claim.Client("client.example.net", "192.0.2.10", 49152, "client.example.net",
                "ESMTP"), c.client());
        assertTrue(c.firstTime());
        assertEquals(List.of("a@example.com", "b@example.com"), c.due().stream().map(QueueStore.Claim.Rcpt::address).toList());
        assertEquals("rfc822;A@example.com", c.due().get(0).orcpt());
        assertEquals("FAILURE", c.due().get(0).notifyParam());
        assertNull(c.due().get(1).orcpt());
        assertNull(c.due().get(1).notifyParam());

        QueuedMessage m = database().message(id);
        assertEquals(QueueState.ACTIVE, m.getState());
        assertEquals(now.plus(LEASE), m.getLeaseUntil());
        assertEquals(now, m.getActiveSince());
        assertEquals(List.of(m.getRecipients().get(0).getId(), m.getRecipients().get(1).getId()),
                c.due().stream().map(QueueStore.Claim.Rcpt::id).toList());
    }

    @Test
    default void aSecondClaimWhileTheLeaseIsHeldGetsNothing() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        Instant now = T0.plusSeconds(1);
        assertNotNull(claim(id, now));

        assertNull(claim(id, now), "same instant");
        assertNull(claim(id, now.plus(LEASE).minusSeconds(1)), "just before the lease ends");

        QueuedMessage m = database().message(id);
        assertEquals(now.plus(LEASE), m.getLeaseUntil(), "the failed claims did not touch the lease");
        assertEquals(QueueState.ACTIVE, m.getState());
    }

    @Test
    default void twoQueueManagersClaimingAtOnceGetTheMessageOnce() throws Exception {
        String id = stored(T0, 100, rcpt("a@example.com"));
        Instant now = T0.plusSeconds(1);
        CountDownLatch firstClaimed = new CountDownLatch(1);
        CountDownLatch commitFirst = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            // the first holds its transaction open after its UPDATE, so the second runs into the row lock
            Future<QueueStore.Claim> first = pool.submit(() -> database().inTransaction(new QueueStore(), q -> {
                QueueStore.Claim c = q.claim(id, now, LEASE);
                firstClaimed.countDown();
                try {
                    commitFirst.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return c;
            }));
            assertTrue(firstClaimed.await(5, TimeUnit.SECONDS));
            Future<QueueStore.Claim> second = pool.submit(() -> claim(id, now));
            Thread.sleep(200);
            commitFirst.countDown();

            assertNotNull(first.get(5, TimeUnit.SECONDS));
            assertNull(second.get(5, TimeUnit.SECONDS), "the second claim saw the first one's lease");
        } finally {
            commitFirst.countDown();
            pool.shutdownNow();
        }
        assertEquals(now.plus(LEASE), database().message(id).getLeaseUntil());
    }

    @Test
    default void anExpiredLeaseCanBeClaimedAgainAfterACrash() {
        String id = stored(T0, 100, rcpt("a@example.com"), rcpt("b@example.com"));
        Instant first = T0.plusSeconds(1);
        assertNotNull(claim(id, first));
        // the queue manager died: no finish, no release

        Instant later = first.plus(LEASE).plusSeconds(1);
        QueueStore.Claim again = claim(id, later);

        assertNotNull(again);
        assertFalse(again.firstTime(), "the message was made active before");
        assertEquals(List.of("a@example.com", "b@example.com"),
                again.due().stream().map(QueueStore.Claim.Rcpt::address).toList());
        QueuedMessage m = database().message(id);
        assertEquals(later.plus(LEASE), m.getLeaseUntil());
        assertEquals(QueueState.ACTIVE, m.getState());
        assertEquals(first, m.getActiveSince());
    }

    @Test
    default void aRoundThatOutlivedItsLeaseLeavesTheNewLeaseAloneAndRecordsOnlyFinalOutcomes() {
        String id = stored(T0, 100, rcpt("a@example.com"), rcpt("b@example.com"));
        Instant first = T0.plusSeconds(1);
        QueueStore.Claim stale = claim(id, first);
        Instant later = first.plus(LEASE).plusSeconds(1);
        QueueStore.Claim current = claim(id, later);
        assertNotNull(current);
        long a = stale.due().get(0).id();
        long b = stale.due().get(1).id();

        Instant next = database().inTransaction(new QueueStore(),
                q -> q.finish(id, stale.lease(), Map.of(a, sent(), b, deferred(later.plusSeconds(600))),
                        later.plusSeconds(2)));

        QueuedMessage m = database().message(id);
        assertNotNull(next);
        assertEquals(later.plus(LEASE), m.getLeaseUntil(), "the current lease is kept");
        assertEquals(QueueState.ACTIVE, m.getState());
        assertEquals(RecipientStatus.SENT, m.getRecipients().get(0).getStatus(), "a delivery is a fact");
        assertEquals(RecipientStatus.PENDING, m.getRecipients().get(1).getStatus(),
                "a stale deferral does not overwrite the current round's work");
        database().inTransaction(new QueueStore(), q -> {
            q.release(id, stale.lease());
            return null;
        });
        assertEquals(later.plus(LEASE), database().message(id).getLeaseUntil(), "a stale release does nothing");
    }

    @Test
    default void aRestartedNodeTakesBackItsOwnLeasesAndNoOtherNodes() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        Instant now = T0.plusSeconds(1);
        assertNotNull(claim(id, now));
        assertEquals(QueueStore.NODE, database().message(id).getLeaseOwner());

        int others = database().inTransaction(new QueueStore(), q -> q.releaseLeasesOf("some-other-node"));
        assertEquals(0, others);
        assertEquals(now.plus(LEASE), database().message(id).getLeaseUntil(), "another node's lease is kept");

        int mine = database().inTransaction(new QueueStore(), q -> q.releaseLeasesOf(QueueStore.NODE));
        assertEquals(1, mine);
        assertNull(database().message(id).getLeaseUntil());
        assertNotNull(claim(id, now.plusSeconds(1)), "claimable again at once, not after the lease");
    }

    @Test
    default void releaseGivesTheLeaseBack() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        Instant now = T0.plusSeconds(1);
        assertNotNull(claim(id, now));

        database().inTransaction(new QueueStore(), q -> {
            q.release(id, LEASES.get(id));
            return null;
        });

        assertNull(database().message(id).getLeaseUntil());
        QueueStore.Claim again = claim(id, now.plusSeconds(1));
        assertNotNull(again);
        assertEquals(1, again.due().size());
        database().inTransaction(new QueueStore(), q -> {
            q.release(QueueIds.next(), 0L);
            return null;
        });
    }

    @Test
    default void aMessageWithNothingDueYetIsNotClaimedAndKeepsNoLease() {
        Instant arrival = T0.plus(Duration.ofMinutes(10));
        String id = stored(arrival, 100, rcpt("a@example.com"));

        assertNull(claim(id, arrival.minus(Duration.ofMinutes(1))));

        QueuedMessage m = database().message(id);
        assertNull(m.getLeaseUntil());
        assertEquals(QueueState.INCOMING, m.getState());
        assertNotNull(claim(id, arrival), "due at its time");
    }

    @Test
    default void aMessageWithAllRecipientsDoneIsNotClaimedAndKeepsNoLease() {
        String id = stored(T0, 100, rcpt("a@example.com"), rcpt("b@example.com"));
        database().update(em -> {
            for (QueuedRecipient r : em.find(QueuedMessage.class, id).getRecipients()) {
                r.record(RecipientStatus.SENT, "2.0.0", "mx", "250 Ok", T0, null);
            }
        });

        assertNull(claim(id, T0.plusSeconds(10)));

        assertNull(database().message(id).getLeaseUntil());
        assertNull(claim(id, T0.plusSeconds(20)), "still nothing to do");
    }

    @Test
    default void aMissingQueueIdIsNotClaimed() {
        assertNull(claim(QueueIds.next(), T0));
        assertNull(claim("not a queue id", T0));
        assertEquals(0, database().totalRows());
    }

    @Test
    default void heldAndCorruptMessagesAreNotClaimed() {
        String held = stored(T0, 100, rcpt("a@example.com"));
        String corrupt = stored(T0, 100, rcpt("a@example.com"));
        setState(held, QueueState.HOLD);
        setState(corrupt, QueueState.CORRUPT);

        assertNull(claim(held, T0.plusSeconds(1)));
        assertNull(claim(corrupt, T0.plusSeconds(1)));
        assertNull(database().message(held).getLeaseUntil());
        assertNull(database().message(corrupt).getLeaseUntil());
    }

    // ---- finish

    @Test
    default void finishingWithEveryRecipientSentRemovesTheMessage() {
        String id = stored(T0, 200 * 1024, rcpt("a@example.com"), rcpt("b@example.com"));
        String other = stored(T0, 100 * 1024, rcpt("c@example.com"));
        Instant now = T0.plusSeconds(1);
        QueueStore.Claim c = claim(id, now);

        Instant next = finish(id, Map.of(c.due().get(0).id(), sent(), c.due().get(1).id(), sent()), now.plusSeconds(3));

        assertNull(next);
        assertNull(database().message(id));
        assertEquals(0, database().rows("queue_message", id));
        assertEquals(0, database().rows("queue_recipient", id));
        assertEquals(0, database().rows("queue_content", id));
        assertEquals(1, database().rows("queue_recipient", other), "another message is untouched");
        assertEquals(2, database().rows("queue_content", other), "another message is untouched");
    }

    @Test
    default void finishingWithSentAndBouncedRemovesTheMessage() {
        String id = stored(T0, 1000, rcpt("a@example.com"), rcpt("b@example.com"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        QueueStore.Outcome bounced = new QueueStore.Outcome(RecipientStatus.BOUNCED, "5.1.1", "mx",
                "550 5.1.1 <b@example.com>: Recipient address rejected: User unknown", null);

        assertNull(finish(id, Map.of(c.due().get(0).id(), sent(), c.due().get(1).id(), bounced), T0.plusSeconds(2)));

        assertEquals(0, database().rows("queue_message", id));
        assertEquals(0, database().rows("queue_recipient", id));
        assertEquals(0, database().rows("queue_content", id));
        assertEquals(1, database().rows("queue_message"), "only the non-delivery report is left");
    }

    @Test
    default void finishingWithOneDeferredKeepsItForLater() {
        String id = stored(T0, 200 * 1024, rcpt("a@example.com"), rcpt("b@example.com"));
        Instant now = T0.plusSeconds(1);
        QueueStore.Claim c = claim(id, now);
        long a = c.due().get(0).id();
        long b = c.due().get(1).id();
        Instant done = now.plusSeconds(4);
        Instant t = done.plus(Duration.ofMinutes(5));

        Instant next = finish(id, Map.of(a, sent(), b, deferred(t)), done);

        assertEquals(t, next);
        QueuedMessage m = database().message(id);
        assertEquals(QueueState.DEFERRED, m.getState());
        assertEquals(t, m.getNextAttempt());
        assertNull(m.getLeaseUntil());
        QueuedRecipient ra = m.getRecipients().get(0);
        QueuedRecipient rb = m.getRecipients().get(1);
        assertEquals(RecipientStatus.SENT, ra.getStatus());
        assertEquals(1, ra.getAttempts());
        assertNull(ra.getNextAttempt());
        assertEquals(RecipientStatus.DEFERRED, rb.getStatus());
        assertEquals(1, rb.getAttempts());
        assertEquals("4.2.0", rb.getDsn());
        assertEquals("mx.example.com[192.0.2.25]:25", rb.getRelay());
        assertEquals("450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted", rb.getReply());
        assertEquals(done, rb.getLastAttempt());
        assertEquals(t, rb.getNextAttempt());
        assertEquals(4, database().rows("queue_content", id), "the content stays");

        assertNull(claim(id, t.minus(Duration.ofMinutes(1))), "not due before t");
        assertNull(database().message(id).getLeaseUntil(), "a claim with nothing due leaves no lease");
        QueueStore.Claim again = claim(id, t);
        assertNotNull(again);
        assertFalse(again.firstTime());
        assertEquals(List.of(b), again.due().stream().map(QueueStore.Claim.Rcpt::id).toList());
        assertEquals(2, again.nrcpt());
    }

    @Test
    default void theNextAttemptIsTheEarliestOfTheDeferredRecipients() {
        String id = stored(T0, 100, rcpt("a@example.com"), rcpt("b@example.com"), rcpt("c@example.com"));
        QueueStore.Claim c = claim(id, T0);
        Instant early = T0.plus(Duration.ofMinutes(5));
        Instant late = T0.plus(Duration.ofMinutes(50));

        Instant next = finish(id, Map.of(c.due().get(0).id(), deferred(late), c.due().get(1).id(), deferred(early),
                c.due().get(2).id(), sent()), T0.plusSeconds(1));

        assertEquals(early, next);
        assertEquals(early, database().message(id).getNextAttempt());
        assertEquals(List.of(c.due().get(1).id()),
                claim(id, early).due().stream().map(QueueStore.Claim.Rcpt::id).toList());
    }

    @Test
    default void finishingAMissingMessageDoesNothing() {
        assertNull(finish(QueueIds.next(), Map.of(1L, sent()), T0));
        assertEquals(0, database().totalRows());
    }

    // ---- due

    @Test
    default void dueListsDeliverableDueUnleasedMessagesOldestFirst() {
        Instant now = T0.plus(Duration.ofHours(1));
        // stored out of order, so that the order comes from the query
        String third = stored(T0.plusSeconds(30), 10, rcpt("a@example.com"));
        String first = stored(T0, 10, rcpt("a@example.com"));
        String notYet = stored(now.plusSeconds(60), 10, rcpt("a@example.com"));
        String held = stored(T0.minusSeconds(60), 10, rcpt("a@example.com"));
        String corrupt = stored(T0.minusSeconds(60), 10, rcpt("a@example.com"));
        setState(held, QueueState.HOLD);
        setState(corrupt, QueueState.CORRUPT);
        String leased = stored(T0.minusSeconds(50), 10, rcpt("a@example.com"));
        assertNotNull(claim(leased, now.minusSeconds(10)));
        String deferredLater = stored(T0.minusSeconds(40), 10, rcpt("a@example.com"));
        QueueStore.Claim dl = claim(deferredLater, T0);
        finish(deferredLater, Map.of(dl.due().get(0).id(), deferred(now.plusSeconds(600))), T0.plusSeconds(1));
        String second = stored(T0.minusSeconds(30), 10, rcpt("a@example.com"));
        QueueStore.Claim d = claim(second, T0);
        finish(second, Map.of(d.due().get(0).id(), deferred(T0.plusSeconds(10))), T0.plusSeconds(1));

        assertEquals(List.of(first, second, third), due(now, 100));
        assertEquals(List.of(first, second), due(now, 2));
        assertEquals(List.of(first), due(now, 1));
    }

    @Test
    default void dueListsAnActiveMessageWhoseLeaseExpired() {
        String id = stored(T0, 10, rcpt("a@example.com"));
        Instant claimed = T0.plusSeconds(1);
        assertNotNull(claim(id, claimed));

        assertEquals(List.of(), due(claimed.plusSeconds(1), 10));
        assertEquals(List.of(id), due(claimed.plus(LEASE).plusSeconds(1), 10));
    }

    @Test
    default void dueOnAnEmptyQueueIsEmpty() {
        assertEquals(List.of(), due(T0, 10));
    }

    // ---- hold and release

    default boolean hold(String queueId) {
        return database().inTransaction(new QueueStore(), q -> q.hold(queueId));
    }

    default QueueStore.Released releaseHold(String queueId, Instant now) {
        return database().inTransaction(new QueueStore(), q -> q.releaseHold(queueId, now));
    }

    @Test
    default void aHeldMessageIsNeitherClaimedNorDueUntilReleased() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        assertTrue(hold(id));

        assertEquals(QueueState.HOLD, database().message(id).getState());
        assertNull(claim(id, T0.plusSeconds(1)));
        assertEquals(List.of(), due(T0.plusSeconds(1), 10));

        QueueStore.Released r = releaseHold(id, T0.plusSeconds(2));
        assertTrue(r.released());
        assertEquals(T0, r.next(), "due since its arrival: at once");
        assertEquals(QueueState.DEFERRED, database().message(id).getState());
        assertEquals(List.of(id), due(T0.plusSeconds(2), 10));
        assertNotNull(claim(id, T0.plusSeconds(3)));
        assertFalse(releaseHold(id, T0.plusSeconds(4)).released(), "not held any more");
        assertFalse(hold(QueueIds.next()));
    }

    @Test
    default void holdingDuringARoundKeepsTheMessageHeldAndRecordsOnlyFinalOutcomes() {
        String id = stored(T0, 100, rcpt("a@example.com"), rcpt("b@example.com"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        assertTrue(hold(id));

        Instant later = T0.plus(Duration.ofMinutes(30));
        finish(id, Map.of(c.due().get(0).id(), sent(), c.due().get(1).id(), deferred(later)), T0.plusSeconds(2));

        QueuedMessage m = database().message(id);
        assertEquals(QueueState.HOLD, m.getState());
        assertEquals(RecipientStatus.SENT, m.getRecipients().get(0).getStatus());
        assertEquals(RecipientStatus.PENDING, m.getRecipients().get(1).getStatus());
        QueueStore.Released r = releaseHold(id, T0.plusSeconds(3));
        assertEquals(T0, r.next(), "b was never tried: due at once");
        assertEquals(List.of("b@example.com"),
                claim(id, T0.plusSeconds(4)).due().stream().map(QueueStore.Claim.Rcpt::address).toList());
    }

    @Test
    default void releasingAHeldMessageWithNothingLeftRemovesIt() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        assertTrue(hold(id));
        finish(id, Map.of(c.due().get(0).id(), sent()), T0.plusSeconds(2));

        QueueStore.Released r = releaseHold(id, T0.plusSeconds(3));

        assertTrue(r.removed());
        assertEquals(0, database().totalRows());
    }

    @Test
    default void corruptMessagesCannotBeHeld() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        setState(id, QueueState.CORRUPT);

        assertFalse(hold(id));
        assertEquals(QueueState.CORRUPT, database().message(id).getState());
    }

    // ---- corrupt

    @Test
    default void aMessageWithoutRecipientsIsMovedToCorruptAndNeverDueAgain() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        database().update(em -> em.find(QueuedMessage.class, id).getRecipients().clear());

        assertNull(claim(id, T0.plusSeconds(1)));

        QueuedMessage m = database().message(id);
        assertEquals(QueueState.CORRUPT, m.getState());
        assertNull(m.getNextAttempt());
        assertNull(m.getLeaseUntil());
        assertEquals(List.of(corruptNotice(id, "software")), due(T0.plus(Duration.ofDays(1)), 10),
                "only the postmaster's notice (notify_classes = resource, software) is due");
        assertNull(claim(id, T0.plus(Duration.ofDays(1))), "never retried");
    }

    @Test
    default void aRetryThatFindsContentMissingMovesTheMessageToCorrupt() {
        String id = stored(T0, 200 * 1024, rcpt("a@example.com"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        finish(id, Map.of(c.due().get(0).id(), deferred(T0.plusSeconds(300))), T0.plusSeconds(2));
        database().update(em -> em.createNativeQuery("DELETE FROM queue_content WHERE queue_id = ?1 AND seq = 2")
                .setParameter(1, id).executeUpdate());

        assertNull(claim(id, T0.plusSeconds(300)));

        assertEquals(QueueState.CORRUPT, database().message(id).getState());
        assertEquals(3, database().rows("queue_content", id), "kept for inspection");
        assertEquals(List.of(corruptNotice(id, "resource")), due(T0.plus(Duration.ofDays(1)), 10),
                "only the postmaster's notice is due");
    }

    /** corruptNotice - the queue id of the one postmaster notice about the corrupt message id, checked. */
    default String corruptNotice(String id, String klass) {
        List<String> notices = database().transaction(em -> em.createQuery(
                "SELECT m.queueId FROM QueuedMessage m WHERE m.queueId <> :id", String.class)
                .setParameter("id", id).getResultList());
        assertEquals(1, notices.size());
        QueuedMessage n = database().message(notices.get(0));
        assertEquals("double-bounce@" + org.postern.config.Config.defaults().get(Parameters.MYORIGIN), n.getSender());
        assertTrue(n.getRecipients().get(0).getAddress().startsWith("postmaster@"));
        byte[] text = database().withoutTransaction(new QueueStore(), q -> q.chunk(n.getQueueId(), 0));
        String notice = new String(text, java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(notice.contains("Subject: Postmaster Warning: Message Moved to the Corrupt Queue\r\n"), notice);
        assertTrue(notice.contains("Queue ID: " + id + "\r\n"), notice);
        assertTrue(notice.contains("(a " + klass + " problem)"), notice);
        return n.getQueueId();
    }

    @Test
    default void corruptTakesTheMessageFromARoundInProgress() {
        String id = stored(T0, 100, rcpt("a@example.com"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));

        boolean moved = database().inTransaction(new QueueStore(), q -> q.corrupt(id, "unreadable content"));
        assertTrue(moved);
        Instant next = finish(id, Map.of(c.due().get(0).id(), deferred(T0.plusSeconds(300))), T0.plusSeconds(2));

        assertNotNull(next, "null would tell the queue manager that the message was removed");
        QueuedMessage m = database().message(id);
        assertEquals(QueueState.CORRUPT, m.getState(), "the stale round did not make it deferred again");
        assertNull(m.getNextAttempt());
        boolean missing = database().inTransaction(new QueueStore(), q -> q.corrupt(QueueIds.next(), "x"));
        assertFalse(missing);
    }
}
