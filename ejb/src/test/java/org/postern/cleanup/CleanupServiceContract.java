package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.T0;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.qmgr.QueueStore;
import org.postern.queue.ContentChunk;
import org.postern.queue.QueueDatabase;
import org.postern.queue.QueueDatabaseContract;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.queue.TestMessages;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * CleanupServiceContract - CleanupService.store on a real database: what it writes, that
 * it reads back byte for byte, and that a failure leaves nothing half-written (the client
 * then gets 451 and the message is not in the queue).
 */
public interface CleanupServiceContract extends QueueDatabaseContract {

    /** store - CleanupService.store as the container runs it (REQUIRES_NEW). */
    default String store(Envelope env, byte[] data) {
        return database().inTransaction(new CleanupService(), c -> c.store(env, new ByteArrayInputStream(data)));
    }

    /** readBack - the content through QueueStore.chunk, chunk by chunk, as delivery reads it. */
    default byte[] readBack(String queueId, int chunks) {
        QueueDatabase db = database();
        QueueStore qs = new QueueStore();
        List<byte[]> pieces = new ArrayList<>();
        for (int seq = 0; seq < chunks; seq++) {
            int s = seq;
            byte[] piece = db.withoutTransaction(qs, q -> q.chunk(queueId, s));
            assertTrue(piece.length > 0 && piece.length <= ContentChunk.MAX_SIZE, "chunk " + seq + ": " + piece.length);
            pieces.add(piece);
        }
        assertThrows(IllegalStateException.class, () -> db.withoutTransaction(qs, q -> q.chunk(queueId, chunks)),
                "a chunk past the count");
        return TestMessages.concat(pieces);
    }

    @Test
    default void theEnvelopeAndTheRecipientsAreStoredInRcptOrder() {
        String id = QueueIds.next();
        byte[] data = content(1000, 1);
        Envelope env = envelope(id, T0,
                new Envelope.Recipient("c@example.com", "rfc822;C@example.com", "SUCCESS,DELAY"),
                rcpt("a@example.com"),
                new Envelope.Recipient("b@example.com", "utf-8;b@example.com", "NEVER"));

        assertEquals(id, store(env, data));

        QueuedMessage m = database().message(id);
        assertEquals("sender@example.org", m.getSender());
        assertEquals(QueueState.INCOMING, m.getState());
        assertEquals(T0, m.getArrival());
        assertEquals(T0, m.getNextAttempt(), "a new message is due at once");
        assertNull(m.getLeaseUntil());
        assertEquals(1000, m.getSize());
        assertEquals(1, m.getContentChunks());
        assertEquals("env-1", m.getEnvid());
        assertEquals("HDRS", m.getRet());
        assertEquals("8BITMIME", m.getBodyType());
        assertEquals("client.example.net", m.getClientName());
        assertEquals("192.0.2.10", m.getClientAddress());
        assertEquals("client.example.net", m.getHelo());
        assertEquals("ESMTP", m.getProtocol());
        assertEquals("smtpd", m.getService());

        List<QueuedRecipient> rs = m.getRecipients();
        assertEquals(List.of("c@example.com", "a@example.com", "b@example.com"),
                rs.stream().map(QueuedRecipient::getAddress).toList());
        assertEquals(List.of(0, 1, 2), rs.stream().map(QueuedRecipient::getPosition).toList());
        assertEquals("rfc822;C@example.com", rs.get(0).getOrcpt());
        assertEquals("SUCCESS,DELAY", rs.get(0).getNotify());
        assertNull(rs.get(1).getOrcpt());
        assertNull(rs.get(1).getNotify());
        assertEquals("utf-8;b@example.com", rs.get(2).getOrcpt());
        assertEquals("NEVER", rs.get(2).getNotify());
        for (QueuedRecipient r : rs) {
            assertEquals(RecipientStatus.PENDING, r.getStatus());
            assertEquals(0, r.getAttempts());
            assertEquals(T0, r.getNextAttempt());
        }
        assertEquals(3, database().rows("queue_recipient"));
        assertArrayEquals(data, readBack(id, 1));
    }

    @Test
    default void aRecipientGivenTwiceIsStoredOnce() {
        // Postfix's cleanup duplicate filter: RCPT TO:<a> twice is one delivery
        String id = QueueIds.next();
        store(envelope(id, T0, rcpt("a@example.com"), rcpt("b@example.com"), rcpt("a@example.com")), content(10, 1));
        assertEquals(List.of("a@example.com", "b@example.com"),
                database().message(id).getRecipients().stream().map(QueuedRecipient::getAddress).toList());
        assertEquals(2, database().rows("queue_recipient"));
    }

    @Test
    default void contentOfSeveralChunksReadsBackByteForByte() {
        int size = 200 * 1024;
        String id = QueueIds.next();
        byte[] data = content(size, 2);

        store(envelope(id, T0, rcpt("a@example.com")), data);

        QueuedMessage m = database().message(id);
        assertEquals(size, m.getSize());
        assertEquals(4, m.getContentChunks(), "3 full chunks of 64 KB and 8 KB");
        assertEquals(4, database().rows("queue_content", id));
        byte[] back = readBack(id, 4);
        assertEquals(size, back.length);
        assertArrayEquals(data, back);
        assertEquals(ContentChunk.MAX_SIZE,
                database().withoutTransaction(new QueueStore(), q -> q.chunk(id, 0)).length);
    }

    @Test
    default void emptyContentHasNoChunk() {
        String id = QueueIds.next();

        store(envelope(id, T0, rcpt("a@example.com")), new byte[0]);

        QueuedMessage m = database().message(id);
        assertEquals(0, m.getSize());
        assertEquals(0, m.getContentChunks());
        assertEquals(0, database().rows("queue_content"));
        assertEquals(1, database().rows("queue_recipient"));
        assertArrayEquals(new byte[0], readBack(id, 0));
    }

    @Test
    default void contentOfExactlyOneChunkIsOneChunk() {
        String id = QueueIds.next();
        byte[] data = content(ContentChunk.MAX_SIZE, 3);

        store(envelope(id, T0, rcpt("a@example.com")), data);

        QueuedMessage m = database().message(id);
        assertEquals(ContentChunk.MAX_SIZE, m.getSize());
        assertEquals(1, m.getContentChunks(), "no empty second chunk");
        assertEquals(1, database().rows("queue_content"));
        assertArrayEquals(data, readBack(id, 1));
    }

    @Test
    default void contentOneByteOverAChunkIsTwoChunks() {
        String id = QueueIds.next();
        byte[] data = content(ContentChunk.MAX_SIZE + 1, 4);

        store(envelope(id, T0, rcpt("a@example.com")), data);

        assertEquals(2, database().message(id).getContentChunks());
        assertArrayEquals(data, readBack(id, 2));
    }

    @Test
    default void aReadErrorInTheMiddleOfTheContentLeavesNothingInTheQueue() {
        String id = QueueIds.next();
        byte[] data = content(300 * 1024, 5);
        TestMessages.FailingStream in = new TestMessages.FailingStream(data, 150 * 1024);
        Envelope env = envelope(id, T0, rcpt("a@example.com"), rcpt("b@example.com"));

        RuntimeException e = assertThrows(RuntimeException.class,
                () -> database().inTransaction(new CleanupService(), c -> c.store(env, in)));

        assertInstanceOf(UncheckedIOException.class, e);
        assertInstanceOf(IOException.class, e.getCause());
        assertEquals(150 * 1024, in.served(), "two chunks were written before the failure");
        assertEquals(0, database().rows("queue_message"), "message row rolled back");
        assertEquals(0, database().rows("queue_recipient"), "recipient rows rolled back");
        assertEquals(0, database().rows("queue_content"), "content chunks rolled back");

        // nothing left behind stands in the way of the client's next try with the same id
        store(env, data);
        assertArrayEquals(data, readBack(id, 5));
    }

    @Test
    default void aFailedStoreDoesNotDisturbAMessageStoredBefore() {
        String first = QueueIds.next();
        byte[] data = content(100 * 1024, 6);
        store(envelope(first, T0, rcpt("a@example.com")), data);

        String second = QueueIds.next();
        assertThrows(UncheckedIOException.class, () -> database().inTransaction(new CleanupService(),
                c -> c.store(envelope(second, T0, rcpt("b@example.com")),
                        new TestMessages.FailingStream(content(100 * 1024, 7), 70 * 1024))));

        assertNull(database().message(second));
        assertEquals(1, database().rows("queue_message"));
        assertEquals(1, database().rows("queue_recipient"));
        assertEquals(2, database().rows("queue_content", first));
        assertArrayEquals(data, readBack(first, 2));
    }

    @Test
    default void aQueueIdAlreadyInTheQueueIsRefusedAndTheFirstMessageKept() {
        String id = QueueIds.next();
        byte[] data = content(70 * 1024, 8);
        store(envelope(id, T0, rcpt("a@example.com")), data);

        assertThrows(RuntimeException.class,
                () -> store(envelope(id, T0.plusSeconds(1), rcpt("b@example.com"), rcpt("c@example.com")),
                        content(10, 9)));

        QueuedMessage m = database().message(id);
        assertEquals(T0, m.getArrival());
        assertEquals(List.of("a@example.com"), m.getRecipients().stream().map(QueuedRecipient::getAddress).toList());
        assertEquals(1, database().rows("queue_recipient"));
        assertArrayEquals(data, readBack(id, 2));
    }

    @Test
    default void anInvalidQueueIdIsRefusedBeforeAnythingIsWritten() {
        for (String bad : new String[] {null, "", "0123456789abcdef", "0123456789ABCDE", "0123456789ABCDEF0",
                "../../etc/passwd", "0123456789ABCDE'", "0123456789ABCDEG"}) {
            TestMessages.UnreadableStream in = new TestMessages.UnreadableStream();
            Envelope env = envelope(bad, T0, rcpt("a@example.com"));

            assertThrows(IllegalArgumentException.class,
                    () -> database().inTransaction(new CleanupService(), c -> c.store(env, in)), "queue id " + bad);

            assertFalse(in.touched(), "content read for queue id " + bad);
            assertEquals(0, database().totalRows(), "rows written for queue id " + bad);
        }
    }
}
