package org.postern.qmgr;

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
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.flush.FlushQueue;
import org.postern.queue.FlushEntry;
import org.postern.queue.QueueDatabaseContract;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.RecipientStatus;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * QueueStoreFlushContract - the fast flush index kept by QueueStore.finishRound, and the
 * flush transactions of FlushQueue (ETRN, postqueue -s, sendmail -q).
 */
public interface QueueStoreFlushContract extends QueueDatabaseContract {
    Duration LEASE = Duration.ofMinutes(5);
    Instant LATER = T0.plus(Duration.ofHours(1));

    default Config config() {
        return Config.parse("myhostname = mx.postern.test\nrelay_domains = customer.example, other.example\n",
                "main.cf");
    }

    default String stored(Envelope.Recipient... recipients) {
        String id = QueueIds.next();
        return database().inTransaction(new CleanupService(),
                c -> c.store(envelope(id, T0, recipients), new ByteArrayInputStream(content(100, 3))));
    }

    /** round - claim the message at now and finish with these outcomes by address. */
    default QueueStore.Finished round(String id, Instant now, Map<String, QueueStore.Outcome> byAddress) {
        QueueStore.Claim c = database().inTransaction(new QueueStore(config()), q -> q.claim(id, now, LEASE));
        assertNotNull(c, "claimable at " + now);
        Map<Long, QueueStore.Outcome> outcomes = new java.util.HashMap<>();
        for (QueueStore.Claim.Rcpt r : c.due()) {
            QueueStore.Outcome o = byAddress.get(r.address());
            if (o != null) {
                outcomes.put(r.id(), o);
            }
        }
        return database().inTransaction(new QueueStore(config()), q -> q.finishRound(id, c.lease(), outcomes, now));
    }

    static QueueStore.Outcome deferred(Instant next) {
        return new QueueStore.Outcome(RecipientStatus.DEFERRED, "4.4.1", "none", "connect to mx: Connection refused",
                next);
    }

    static QueueStore.Outcome sent() {
        return new QueueStore.Outcome(RecipientStatus.SENT, "2.0.0", "mx[192.0.2.1]:25", "250 Ok", null);
    }

    static QueueStore.Outcome bounced() {
        return new QueueStore.Outcome(RecipientStatus.BOUNCED, "5.1.1", "mx[192.0.2.1]:25", "550 5.1.1 unknown",
                null);
    }

    /** index - the rows of the flush index, as "domain queueid", sorted. */
    default Set<String> index() {
        return database().transaction(em -> {
            Set<String> rows = new TreeSet<>();
            for (FlushEntry e : em.createQuery("SELECT f FROM FlushEntry f", FlushEntry.class).getResultList()) {
                rows.add(e.getDomain() + " " + e.getQueueId());
            }
            return rows;
        });
    }

    default List<String> flushDomain(String domain, Instant now) {
        return database().inTransaction(new FlushQueue(), q -> q.flushDomain(domain, now));
    }

    @Test
    default void aDeferredRecipientOfAnEligibleDomainIndexesTheMessageOnce() {
        String id = stored(rcpt("a@customer.example"), rcpt("b@mx.customer.example"), rcpt("c@elsewhere.example"),
                rcpt("d@Other.Example"));
        round(id, T0.plusSeconds(1), Map.of("a@customer.example", deferred(LATER), "b@mx.customer.example",
                deferred(LATER), "c@elsewhere.example", deferred(LATER), "d@Other.Example", sent()));

        assertEquals(Set.of("customer.example " + id, "mx.customer.example " + id), index(),
                "by recipient domain; not for a domain that is not eligible, nor for a delivered recipient");

        round(id, LATER, Map.of("a@customer.example", deferred(LATER.plusSeconds(600)),
                "b@mx.customer.example", deferred(LATER.plusSeconds(600)),
                "c@elsewhere.example", deferred(LATER.plusSeconds(600))));
        assertEquals(2, index().size(), "deferred again: still one row per domain");
    }

    @Test
    default void deliveredOrBouncedRecipientsLeaveTheIndex() {
        String id = stored(rcpt("a@customer.example"), rcpt("b@customer.example"), rcpt("c@other.example"));
        round(id, T0.plusSeconds(1), Map.of("a@customer.example", deferred(LATER), "b@customer.example",
                deferred(LATER), "c@other.example", deferred(LATER)));
        assertEquals(Set.of("customer.example " + id, "other.example " + id), index());

        round(id, LATER, Map.of("a@customer.example", sent(), "b@customer.example", deferred(LATER.plusSeconds(600)),
                "c@other.example", bounced()));
        assertEquals(Set.of("customer.example " + id), index(), "b still waits; c bounced");

        round(id, LATER.plusSeconds(600), Map.of("b@customer.example", sent()));
        assertNull(database().message(id));
        assertEquals(Set.of(), index(), "the removed message left the index");
    }

    @Test
    default void flushingADomainMakesItsMessagesDueNowIgnoringTheBackoff() {
        String a = stored(rcpt("x@customer.example"), rcpt("y@elsewhere.example"));
        String b = stored(rcpt("z@customer.example"));
        String other = stored(rcpt("w@other.example"));
        Instant t = T0.plusSeconds(1);
        for (String id : List.of(a, b, other)) {
            round(id, t, Map.of("x@customer.example", deferred(LATER), "y@elsewhere.example", deferred(LATER),
                    "z@customer.example", deferred(LATER), "w@other.example", deferred(LATER)));
        }
        Instant now = t.plusSeconds(60);
        assertNull(database().inTransaction(new QueueStore(config()), q -> q.claim(a, now, LEASE)), "backing off");

        List<String> flushed = flushDomain("customer.example", now);

        assertEquals(new TreeSet<>(List.of(a, b)), new TreeSet<>(flushed));
        assertEquals(now, database().message(a).getNextAttempt());
        QueueStore.Claim c = database().inTransaction(new QueueStore(config()), q -> q.claim(a, now, LEASE));
        assertNotNull(c, "due now");
        assertEquals(List.of("x@customer.example", "y@elsewhere.example"),
                c.due().stream().map(QueueStore.Claim.Rcpt::address).toList(), "the whole message, as Postfix");
        assertEquals(LATER, database().message(other).getNextAttempt(), "another domain's mail waits");
        assertEquals(List.of(), flushDomain("nothing.example", now), "no index, nothing moves");
    }

    @Test
    default void heldMailStaysAndVanishedMessagesArePurgedFromTheIndex() {
        String held = stored(rcpt("x@customer.example"));
        String gone = stored(rcpt("y@customer.example"));
        round(held, T0.plusSeconds(1), Map.of("x@customer.example", deferred(LATER)));
        round(gone, T0.plusSeconds(1), Map.of("y@customer.example", deferred(LATER)));
        database().update(em -> em.find(QueuedMessage.class, held).setState(QueueState.HOLD));
        database().update(em -> {
            em.createNativeQuery("DELETE FROM queue_content WHERE queue_id = ?1").setParameter(1, gone).executeUpdate();
            em.createNativeQuery("DELETE FROM queue_recipient WHERE queue_id = ?1").setParameter(1, gone).executeUpdate();
            em.createNativeQuery("DELETE FROM queue_message WHERE queue_id = ?1").setParameter(1, gone).executeUpdate();
        });

        assertEquals(List.of(), flushDomain("customer.example", T0.plusSeconds(5)));

        assertEquals(LATER, database().message(held).getNextAttempt(), "held mail is not released by a flush");
        assertEquals(Set.of("customer.example " + held), index());
    }

    @Test
    default void flushAllMakesEveryDeferredMessageDue() {
        String a = stored(rcpt("x@customer.example"));
        String b = stored(rcpt("y@elsewhere.example"));
        String held = stored(rcpt("z@elsewhere.example"));
        for (String id : List.of(a, b, held)) {
            round(id, T0.plusSeconds(1), Map.of("x@customer.example", deferred(LATER), "y@elsewhere.example",
                    deferred(LATER.plusSeconds(60)), "z@elsewhere.example", deferred(LATER)));
        }
        database().update(em -> em.find(QueuedMessage.class, held).setState(QueueState.HOLD));
        Instant now = T0.plusSeconds(30);

        List<String> due = database().inTransaction(new FlushQueue(), q -> q.flushAll(now, 10));

        assertEquals(new TreeSet<>(List.of(a, b)), new TreeSet<>(due));
        assertNotNull(database().inTransaction(new QueueStore(config()), q -> q.claim(b, now, LEASE)));
        assertEquals(LATER, database().message(held).getNextAttempt());
        assertEquals(1, database().inTransaction(new FlushQueue(), q -> q.flushAll(now, 1)).size(), "bounded");
    }

    @Test
    default void aFlushLetsTheNextRoundIgnoreDeferTransportsOnce() {
        String id = stored(rcpt("a@customer.example"));
        QueueStore.Claim first = database().inTransaction(new QueueStore(config()),
                q -> q.claim(id, T0.plusSeconds(1), LEASE));
        assertFalse(first.ignoreDeferTransports(), "an ordinary round");
        database().inTransaction(new QueueStore(config()), q -> q.finishRound(id, first.lease(),
                Map.of(first.due().get(0).id(), deferred(LATER)), T0.plusSeconds(1)));

        flushDomain("customer.example", T0.plusSeconds(10));

        QueueStore.Claim flushed = database().inTransaction(new QueueStore(config()),
                q -> q.claim(id, T0.plusSeconds(10), LEASE));
        assertTrue(flushed.ignoreDeferTransports(), "the round a flush asked for");
        database().inTransaction(new QueueStore(config()), q -> q.finishRound(id, flushed.lease(),
                Map.of(flushed.due().get(0).id(), deferred(LATER)), T0.plusSeconds(10)));
        QueueStore.Claim after = database().inTransaction(new QueueStore(config()), q -> q.claim(id, LATER, LEASE));
        assertFalse(after.ignoreDeferTransports(), "only once");

        database().inTransaction(new QueueStore(config()), q -> q.finishRound(id, after.lease(),
                Map.of(after.due().get(0).id(), deferred(LATER.plusSeconds(600))), LATER));
        database().inTransaction(new FlushQueue(), q -> q.flushAll(LATER.plusSeconds(1), 10));
        assertTrue(database().inTransaction(new QueueStore(config()),
                q -> q.claim(id, LATER.plusSeconds(1), LEASE)).ignoreDeferTransports(), "sendmail -q as well");
    }
}
