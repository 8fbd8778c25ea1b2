package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.T0;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.events.DeliveryEvent;
import org.postern.events.EventStoreAccess;
import org.postern.queue.DeliveryEventRow;
import org.postern.queue.QueueDatabaseContract;
import org.postern.queue.RecipientStatus;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * EventOutboxContract - the delivery events' outbox on a real database: an event row for
 * every outcome recorded, in the transaction that records it, and nothing for what is not
 * recorded (a rolled-back round, a lost lease, a message not removed); the publisher's
 * queries (left, published, discard).
 */
public interface EventOutboxContract extends QueueDatabaseContract {
    Duration LEASE = Duration.ofMinutes(5);

    @BeforeEach
    default void emptyQueue() {
        database().empty();
    }

    default String stored(Envelope.Recipient... recipients) {
        String id = QueueIds.next();
        byte[] data = content(2000, T0.toEpochMilli());
        return database().inTransaction(new CleanupService(),
                c -> c.store(envelope(id, T0, recipients), new ByteArrayInputStream(data)));
    }

    default QueueStore.Claim claim(String id, Instant now) {
        QueueStore.Claim c = database().inTransaction(new QueueStore(), q -> q.claim(id, now, LEASE));
        assertNotNull(c);
        return c;
    }

    /** rows - the outbox rows, by status, of the queue id */
    default Map<String, DeliveryEventRow> rows(String queueId) {
        Map<String, DeliveryEventRow> m = new TreeMap<>();
        for (DeliveryEventRow r : left(Instant.now().plusSeconds(3600))) {
            if (r.getQueueId().equals(queueId)) {
                m.put(r.getStatus(), r);
            }
        }
        return m;
    }

    default List<DeliveryEventRow> left(Instant before) {
        return database().inTransaction(EventStoreAccess.create(), s -> s.left(before, 1000));
    }

    static JsonObject data(DeliveryEventRow r) {
        return Json.createReader(new StringReader(r.getEvent())).readObject().getJsonObject("data");
    }

    static QueueStore.Outcome outcome(RecipientStatus s, String dsn, String reply) {
        return new QueueStore.Outcome(s, dsn, "mx.example.net[192.0.2.25]:25", reply,
                s == RecipientStatus.DEFERRED ? T0.plusSeconds(300) : null);
    }

    @Test
    default void everyOutcomeOfARoundHasItsEventRowWrittenWithIt() {
        String id = stored(rcpt("a@example.net"), new Envelope.Recipient("b@example.net", "rfc822;B@Example.net", null),
                rcpt("c@example.net"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        Map<Long, QueueStore.Outcome> o = new HashMap<>();
        o.put(c.due().get(0).id(), outcome(RecipientStatus.SENT, "2.0.0", "250 2.0.0 Ok"));
        o.put(c.due().get(1).id(), outcome(RecipientStatus.DEFERRED, "4.2.0", "450 4.2.0 greylisted"));
        o.put(c.due().get(2).id(), outcome(RecipientStatus.BOUNCED, "5.1.1", "550 5.1.1 no such user"));

        QueueStore.Finished f = database().inTransaction(new QueueStore(),
                q -> q.finishRound(id, c.lease(), o, T0.plusSeconds(3), "<m@example.org>"));

        assertEquals(3, f.events().size());
        Map<String, DeliveryEventRow> rows = rows(id);
        assertEquals(Set.of("bounced", "deferred", "sent"), rows.keySet());
        assertEquals(f.events().stream().map(DeliveryEvent::id).sorted().toList(),
                rows.values().stream().map(DeliveryEventRow::getEventId).sorted().toList());
        JsonObject deferred = data(rows.get("deferred"));
        assertEquals("b@example.net", deferred.getString("recipient"));
        assertEquals("B@Example.net", deferred.getString("original_recipient"));
        assertEquals("4.2.0", deferred.getString("dsn"));
        assertEquals("450 4.2.0 greylisted", deferred.getString("reply"));
        assertEquals("<m@example.org>", deferred.getString("message_id"));
        assertEquals(3.0, deferred.getJsonNumber("delay").doubleValue(), 0.001);
        assertEquals("550 5.1.1 no such user", data(rows.get("bounced")).getString("reply"));
        assertEquals(T0.plusSeconds(3), rows.get("sent").getCreated());
    }

    @Test
    default void aRolledBackRoundLeavesNoEvent() {
        String id = stored(rcpt("a@example.net"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        Map<Long, QueueStore.Outcome> o = Map.of(c.due().get(0).id(), outcome(RecipientStatus.SENT, "2.0.0", "250 ok"));

        assertThrows(IllegalStateException.class, () -> database().inTransaction(new QueueStore(), q -> {
            q.finishRound(id, c.lease(), o, T0.plusSeconds(2), null);
            throw new IllegalStateException("the commit fails");
        }));

        assertTrue(rows(id).isEmpty());
        assertEquals(RecipientStatus.PENDING, database().message(id).getRecipients().get(0).getStatus());
    }

    @Test
    default void aRoundThatLostItsLeaseWritesEventsOnlyForTheOutcomesItRecords() {
        String id = stored(rcpt("a@example.net"), rcpt("b@example.net"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        Map<Long, QueueStore.Outcome> o = new HashMap<>();
        o.put(c.due().get(0).id(), outcome(RecipientStatus.SENT, "2.0.0", "250 ok"));
        o.put(c.due().get(1).id(), outcome(RecipientStatus.DEFERRED, "4.2.0", "450 later"));

        QueueStore.Finished f = database().inTransaction(new QueueStore(),
                q -> q.finishRound(id, c.lease() + 1, o, T0.plusSeconds(2), null));

        assertEquals(1, f.events().size());
        assertEquals(Set.of("sent"), rows(id).keySet());
    }

    @Test
    default void aBatchedRemovalWritesTheEventsOfTheMessagesItRemovedOnly() {
        String kept = stored(rcpt("a@example.net"));
        String removed = stored(rcpt("b@example.net"));
        QueueStore.Claim ck = claim(kept, T0.plusSeconds(1));
        QueueStore.Claim cr = claim(removed, T0.plusSeconds(1));
        Map<String, List<DeliveryEvent>> events = new HashMap<>();
        for (QueueStore.Claim c : List.of(ck, cr)) {
            events.put(c.queueId(), List.of(DeliveryEvent.of("mx.postern.test", T0.plusSeconds(2), T0, c.queueId(),
                    null, c.due().get(0).address(), null, RecipientStatus.SENT, "2.0.0", "250 ok", "relay")));
        }
        Map<String, Long> leases = new java.util.LinkedHashMap<>();
        leases.put(kept, ck.lease() + 1);   // lost meanwhile: recorded the ordinary way, with its own events
        leases.put(removed, cr.lease());

        List<String> lost = database().inTransaction(new QueueStore(), q -> q.removeDelivered(leases, Set.of(), events));

        assertEquals(List.of(kept), lost);
        assertTrue(rows(kept).isEmpty());
        assertEquals(events.get(removed).get(0).id(), rows(removed).get("sent").getEventId());
    }

    @Test
    default void noEventIsWrittenWhenDeliveryEventNotificationIsOff() {
        String id = stored(rcpt("a@example.net"));
        QueueStore.Claim c = claim(id, T0.plusSeconds(1));
        Map<Long, QueueStore.Outcome> o = Map.of(c.due().get(0).id(), outcome(RecipientStatus.BOUNCED, "5.1.1", "550 no"));
        Config off = Config.parse("delivery_event_notification = no\n", "main.cf");

        QueueStore.Finished f = database().inTransaction(new QueueStore(off),
                q -> q.finishRound(id, c.lease(), o, T0.plusSeconds(2), null));

        assertTrue(f.events().isEmpty());
        assertTrue(rows(id).isEmpty());
    }

    @Test
    default void thePublisherSeesTheOldestFirstAndRemovesWhatWasPublishedOrIsTooOld() {
        String id = stored(rcpt("a@example.net"));
        List<DeliveryEvent> events = List.of(
                DeliveryEvent.of("h", T0.plusSeconds(30), T0, id, null, "a@example.net", null, RecipientStatus.DEFERRED,
                        "4.0.0", "450 b", null),
                DeliveryEvent.of("h", T0.plusSeconds(10), T0, id, null, "a@example.net", null, RecipientStatus.DEFERRED,
                        "4.0.0", "450 a", null),
                DeliveryEvent.of("h", T0.plusSeconds(50), T0, id, null, "a@example.net", null, RecipientStatus.SENT,
                        "2.0.0", "250 c", null));
        database().update(em -> org.postern.events.EventOutbox.write(em, events));

        assertEquals(List.of(events.get(1).id(), events.get(0).id()),
                left(T0.plusSeconds(40)).stream().map(DeliveryEventRow::getEventId).toList());
        assertEquals(1, (int) database().inTransaction(EventStoreAccess.create(),
                s -> s.published(List.of(events.get(1).id(), "no-such-event"))));
        assertEquals(1, (int) database().inTransaction(EventStoreAccess.create(), s -> s.discard(T0.plusSeconds(40))));
        assertEquals(List.of(events.get(2).id()),
                left(T0.plusSeconds(3600)).stream().map(DeliveryEventRow::getEventId).toList());
    }
}
