package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.T0;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.postern.qmgr.QueueStore;
import org.postern.queue.QueueDatabaseContract;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * GroupCommitStoreContract - the group commit's hot path on a real database: the rows that
 * QueueRows writes with plain JDBC batches read back through the JPA entities exactly as
 * if JPA had written them, recipient ids never meet those of Hibernate's generator, and
 * the bulk removal of delivered messages removes only what the lease still holds.
 */
public interface GroupCommitStoreContract extends QueueDatabaseContract {
    Instant LEASE_UNTIL = T0.plus(Duration.ofMinutes(30));

    private QueueRows.Prepared prepare(Envelope env, byte[] data, boolean leased) {
        return QueueRows.prepare(env, data, data.length, null, leased, T0, LEASE_UNTIL, "node-a");
    }

    private void storeAll(List<QueueRows.Prepared> batch) {
        database().inTransaction(new CleanupService(), c -> {
            c.storeAll(batch);
            return null;
        });
    }

    @Test
    default void aBatchReadsBackThroughTheEntities() {
        String leased = QueueIds.next();
        String due = QueueIds.next();
        String held = QueueIds.next();
        byte[] small = content(1500, 1);
        byte[] large = content(200 * 1024, 2);
        Envelope heldEnv = new Envelope(held, "s@example.org", Map.of(Envelope.HOLD, "Sender address triggers HOLD action"),
                List.of(rcpt("h@example.com")), "c.example", "192.0.2.1", 1234, "c.example", "ESMTP", "smtpd", T0, 10);
        QueueRows.Prepared a = prepare(envelope(leased, T0,
                new Envelope.Recipient("c@example.com", "rfc822;C@example.com", "SUCCESS,DELAY"),
                rcpt("a@example.com")), small, true);
        QueueRows.Prepared b = prepare(envelope(due, T0, rcpt("b@example.com")), large, false);
        QueueRows.Prepared h = prepare(heldEnv, content(10, 3), true);

        storeAll(List.of(a, b, h));

        QueuedMessage m = database().message(leased);
        assertEquals(QueueState.ACTIVE, m.getState(), "born in the active queue");
        assertEquals(LEASE_UNTIL, m.getLeaseUntil());
        assertEquals("node-a", m.getLeaseOwner());
        assertEquals(T0, m.getActiveSince());
        assertEquals(T0, m.getArrival());
        assertEquals(T0, m.getNextAttempt());
        assertEquals(0, m.getVersion());
        assertEquals("sender@example.org", m.getSender());
        assertEquals("env-1", m.getEnvid());
        assertEquals("HDRS", m.getRet());
        assertEquals("8BITMIME", m.getBodyType());
        assertEquals("192.0.2.10", m.getClientAddress());
        assertEquals(1500, m.getSize());
        assertEquals(1, m.getContentChunks());
        List<QueuedRecipient> rs = m.getRecipients();
        assertEquals(List.of("c@example.com", "a@example.com"), rs.stream().map(QueuedRecipient::getAddress).toList());
        assertEquals(List.of(a.recipientIds()[0], a.recipientIds()[1]), rs.stream().map(QueuedRecipient::getId).toList(),
                "the ids that the insert reported");
        assertEquals("rfc822;C@example.com", rs.get(0).getOrcpt());
        assertEquals("SUCCESS,DELAY", rs.get(0).getNotify());
        for (QueuedRecipient r : rs) {
            assertEquals(RecipientStatus.PENDING, r.getStatus());
            assertEquals(0, r.getAttempts());
            assertEquals(T0, r.getNextAttempt());
            assertNull(r.getLastAttempt());
        }

        QueuedMessage d = database().message(due);
        assertEquals(QueueState.INCOMING, d.getState(), "not leased: due for the queue managers");
        assertNull(d.getLeaseUntil());
        assertEquals(4, d.getContentChunks());
        assertArrayEquals(large, readBack(due, 4));
        assertArrayEquals(small, readBack(leased, 1));

        QueuedMessage x = database().message(held);
        assertEquals(QueueState.HOLD, x.getState(), "a HOLD message is never born leased");
        assertNull(x.getLeaseUntil());
        assertNull(x.getNextAttempt());

        QueueStore.Claim claim = QueueStore.Claim.born(a.message(), a.recipientIds(), a.content());
        assertEquals(leased, claim.queueId());
        assertEquals(0, claim.lease());
        assertTrue(claim.firstTime());
        assertEquals(2, claim.due().size());
        assertEquals(a.recipientIds()[1], claim.due().get(1).id());
    }

    @Test
    default void recipientIdsNeverMeetThoseOfHibernatesGenerator() {
        Set<Long> ids = new HashSet<>();
        for (int round = 0; round < 3; round++) {
            // through JPA (CleanupService.store), then through the JDBC batch, alternately
            String viaJpa = QueueIds.next();
            Envelope.Recipient[] some = new Envelope.Recipient[7];
            for (int i = 0; i < some.length; i++) {
                some[i] = rcpt("j" + round + "-" + i + "@example.com");
            }
            byte[] body = content(100, round);
            database().inTransaction(new CleanupService(),
                    c -> c.store(envelope(viaJpa, T0, some), new ByteArrayInputStream(body)));
            database().message(viaJpa).getRecipients().forEach(r -> assertTrue(ids.add(r.getId()), "id " + r.getId()));

            List<QueueRows.Prepared> batch = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                Envelope.Recipient[] many = new Envelope.Recipient[40];
                for (int i = 0; i < many.length; i++) {
                    many[i] = rcpt("b" + round + "-" + k + "-" + i + "@example.com");
                }
                batch.add(prepare(envelope(QueueIds.next(), T0, many), content(100, k), true));
            }
            storeAll(batch);
            for (QueueRows.Prepared p : batch) {
                for (long id : p.recipientIds()) {
                    assertTrue(id > 0 && ids.add(id), "id " + id + " given twice");
                }
            }
        }
        assertEquals(3 * 7 + 3 * 3 * 40, database().rows("queue_recipient"));
    }

    @Test
    default void removeDeliveredRemovesWhatTheLeaseHoldsAndNothingElse() {
        String gone = QueueIds.next();
        String kept = QueueIds.next();
        storeAll(List.of(prepare(envelope(gone, T0, rcpt("a@example.com"), rcpt("b@example.com")), content(70_000, 1), true),
                prepare(envelope(kept, T0, rcpt("c@example.com")), content(100, 2), true)));
        // postsuper -h while the first delivery is under way: the lease token moves on
        assertTrue((boolean) database().inTransaction(new QueueStore(), q -> q.hold(kept)));

        Map<String, Long> leases = new LinkedHashMap<>();
        leases.put(gone, 0L);
        leases.put(kept, 0L);
        List<String> lost = database().inTransaction(new QueueStore(), q -> q.removeDelivered(leases, Set.of()));

        assertEquals(List.of(kept), lost, "the held message is reported back, not removed");
        assertEquals(0, database().rows("queue_message", gone));
        assertEquals(0, database().rows("queue_recipient", gone));
        assertEquals(0, database().rows("queue_content", gone));
        QueuedMessage k = database().message(kept);
        assertEquals(QueueState.HOLD, k.getState());
        assertEquals(1, database().rows("queue_recipient", kept));
        assertEquals(1, database().rows("queue_content", kept));
    }

    @Test
    default void releaseBornGivesTheLeaseBackOnlyWithTheRightToken() {
        String id = QueueIds.next();
        storeAll(List.of(prepare(envelope(id, T0, rcpt("a@example.com")), content(10, 1), true)));
        assertEquals(0, (int) database().inTransaction(new QueueStore(), q -> q.releaseBorn(Map.of(id, 7L))));
        assertEquals(LEASE_UNTIL, database().message(id).getLeaseUntil());
        assertEquals(1, (int) database().inTransaction(new QueueStore(), q -> q.releaseBorn(Map.of(id, 0L))));
        QueuedMessage m = database().message(id);
        assertNull(m.getLeaseUntil());
        assertNull(m.getLeaseOwner());
        assertEquals(List.of(id), database().withoutTransaction(new QueueStore(), q -> q.due(T0.plusSeconds(1), 10)),
                "due again for the ordinary path");
    }

    @Test
    default void claimAllClaimsWhatIsDueAndReadsSmallContentWithTheClaim() {
        String small = QueueIds.next();
        String large = QueueIds.next();
        String leased = QueueIds.next();
        String broken = QueueIds.next();
        byte[] smallData = content(3000, 1);
        storeAll(List.of(prepare(envelope(small, T0, rcpt("a@example.com"), rcpt("b@example.com")), smallData, false),
                prepare(envelope(large, T0, rcpt("c@example.com")), content(150_000, 2), false),
                prepare(envelope(leased, T0, rcpt("d@example.com")), content(10, 3), true),
                prepare(envelope(broken, T0, rcpt("e@example.com")), content(10, 4), false)));
        // a retry of a message whose only chunk was lost: for claim() to move to the corrupt queue
        database().update(em -> em.createQuery("DELETE FROM ContentChunk c WHERE c.queueId = :id")
                .setParameter("id", broken).executeUpdate());
        // mail queued before schema V6 has no client port
        database().update(em -> em.find(QueuedMessage.class, large).setClientPort(null));
        // the first recipient of "small" is done already: only b is due
        database().update(em -> em.find(QueuedMessage.class, small).getRecipients().get(0)
                .record(RecipientStatus.SENT, "2.0.0", "x", "250 ok", T0, null));

        Instant now = T0.plusSeconds(60);
        QueueStore.ClaimBatch b = database().inTransaction(new QueueStore(),
                q -> q.claimAll(List.of(small, large, leased, broken, "1A0000000000000X"), now, Duration.ofMinutes(30)));

        assertEquals(List.of(broken), b.odd(), "damaged: given back for claim() to look at");
        assertEquals(Set.of(small, large), new HashSet<>(b.claimed().stream().map(QueueStore.Claim::queueId).toList()),
                "the leased one belongs to its round, the unknown id is nobody's");
        for (QueueStore.Claim c : b.claimed()) {
            QueuedMessage m = database().message(c.queueId());
            assertEquals(QueueState.ACTIVE, m.getState());
            assertEquals(m.getVersion(), c.lease(), "the lease token is the row's version");
            assertEquals(now, m.getActiveSince());
            assertTrue(c.firstTime());
            assertEquals("sender@example.org", c.sender());
            assertEquals(T0, c.arrival());
        }
        QueueStore.Claim s0 = b.claimed().stream().filter(c -> c.queueId().equals(small)).findFirst().orElseThrow();
        assertEquals(2, s0.nrcpt());
        assertEquals(List.of("b@example.com"), s0.due().stream().map(QueueStore.Claim.Rcpt::address).toList());
        assertArrayEquals(smallData, s0.content(), "a single chunk comes with the claim");
        assertEquals(new QueueStore.Claim.Client("client.example.net", "192.0.2.10", 49152, "client.example.net",
                "ESMTP"), s0.client(), "the original client, read with the row, for XFORWARD");
        QueueStore.Claim l0 = b.claimed().stream().filter(c -> c.queueId().equals(large)).findFirst().orElseThrow();
        assertNull(l0.content(), "larger content is streamed chunk by chunk");
        assertNull(l0.client().port(), "no port stored: none claimed");
        assertEquals("192.0.2.10", l0.client().address());
        assertEquals(3, l0.chunks());
        QueuedMessage x = database().message(broken);
        assertNull(x.getLeaseUntil(), "an odd message's lease is given back");

        // the claim's token works for finishRound as the JPA claim's does
        Map<Long, QueueStore.Outcome> outcomes = Map.of(s0.due().get(0).id(),
                new QueueStore.Outcome(RecipientStatus.SENT, "2.0.0", "relay", "250 ok", null));
        QueueStore.Finished f = database().inTransaction(new QueueStore(),
                q -> q.finishRound(small, s0.lease(), outcomes, now));
        assertNull(f.next(), "both recipients done: removed");
        assertEquals(0, database().rows("queue_message", small));
        // a second claim finds the others leased
        assertTrue(database().inTransaction(new QueueStore(),
                q -> q.claimAll(List.of(large), now, Duration.ofMinutes(30))).claimed().isEmpty());
    }

    /** readBack - the content through QueueStore.chunk, as delivery from the database reads it. */
    private byte[] readBack(String queueId, int chunks) {
        List<byte[]> pieces = new ArrayList<>();
        for (int seq = 0; seq < chunks; seq++) {
            int s = seq;
            pieces.add(database().withoutTransaction(new QueueStore(), q -> q.chunk(queueId, s)));
        }
        return org.postern.queue.TestMessages.concat(pieces);
    }
}
