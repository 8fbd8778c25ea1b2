package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import java.io.ByteArrayInputStream;
import java.lang.reflect.Field;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.queue.QueueDatabase;
import org.postern.queue.RecipientStatus;
import org.postern.service.ConfigService;
import org.postern.smtp.DeliveryOutcome;
import org.postern.smtp.NextHop;
import org.postern.smtp.OutboundMessage;
import org.postern.smtp.SmtpClientConnection;
import org.postern.smtp.SmtpClientConnectionFactory;
import org.postern.smtp.SmtpClientSettings;
import org.postern.smtpd.Envelope;
import org.postern.smtpd.QueueIds;

/**
 * One delivery round of DeliveryAgent on H2, outside the container, with a scripted
 * connection factory: batching by the transport's recipient limit, relayhost lookup failures
 * deferred, best_mx_transport, and what the round records.
 */
class DeliveryAgentRoundTest {

    private static QueueDatabase db;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("deliveryagent");
    }

    @AfterAll
    static void close() {
        db.close();
    }

    /** Call - one connection request and the message handed over. */
    record Call(NextHop hop, SmtpClientSettings settings, OutboundMessage message) {
    }

    /** a QueueStore whose every call is a transaction of its own, as the container makes it; finish is recorded */
    static final class TxStore extends QueueStore {
        final List<Map<Long, Outcome>> finished = new CopyOnWriteArrayList<>();

        @Override
        public Claim claim(String queueId, Instant now, Duration lease) {
            return db.inTransaction(new QueueStore(), q -> q.claim(queueId, now, lease));
        }

        @Override
        public Instant finish(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now) {
            return finishRound(queueId, lease, outcomes, now).next();
        }

        @Override
        public Finished finishRound(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now) {
            finished.add(Map.copyOf(outcomes));
            return db.inTransaction(new QueueStore(), q -> q.finishRound(queueId, lease, outcomes, now));
        }

        @Override
        public void release(String queueId, long lease) {
            db.inTransaction(new QueueStore(), q -> {
                q.release(queueId, lease);
                return null;
            });
        }

        @Override
        public byte[] chunk(String queueId, int seq) {
            return db.inTransaction(new QueueStore(), q -> q.chunk(queueId, seq));
        }
    }

    static final class FixedConfig extends ConfigService {
        private final Config config;

        FixedConfig(String mainCf) {
            this.config = Config.parse("inet_interfaces = 127.0.0.1\n" + mainCf, "main.cf");
        }

        @Override
        public Config current() {
            return config;
        }
    }

    static final class Requests extends DeliveryRequests {
        final List<Duration> scheduled = new CopyOnWriteArrayList<>();

        @Override
        public boolean schedule(String queueId, Duration delay) {
            scheduled.add(delay);
            return true;
        }
    }

    private final TxStore store = new TxStore();
    private final Requests requests = new Requests();
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    private DeliveryAgent agent(String mainCf, BiFunction<NextHop, OutboundMessage, DeliveryOutcome> script)
            throws ReflectiveOperationException {
        DeliveryAgent a = new DeliveryAgent();
        SmtpClientConnectionFactory factory = (hop, settings) -> new SmtpClientConnection() {
            @Override
            public DeliveryOutcome deliver(OutboundMessage message) {
                calls.add(new Call(hop, settings, message));
                return script.apply(hop, message);
            }

            @Override
            public void close() {
            }
        };
        set(a, "store", store);
        set(a, "configService", new FixedConfig(mainCf));
        set(a, "requests", requests);
        set(a, "connections", factory);
        return a;
    }

    private static void set(Object bean, String field, Object value) throws ReflectiveOperationException {
        Field f = bean.getClass().getDeclaredField(field);
        f.setAccessible(true);
        f.set(bean, value);
    }

    private static String stored(String... recipients) {
        String id = QueueIds.next();
        Envelope.Recipient[] rs = new Envelope.Recipient[recipients.length];
        for (int i = 0; i < rs.length; i++) {
            rs[i] = rcpt(recipients[i]);
        }
        byte[] data = content(200, 7);
        return db.inTransaction(new CleanupService(),
                c -> c.store(envelope(id, Instant.now(), rs), new ByteArrayInputStream(data)));
    }

    private static DeliveryOutcome all(OutboundMessage m, DeliveryOutcome.Status status, String dsn, String reply) {
        List<DeliveryOutcome.RecipientOutcome> out = new ArrayList<>();
        for (OutboundMessage.OutboundRecipient r : m.recipients()) {
            out.add(new DeliveryOutcome.RecipientOutcome(r.address(), status, dsn, reply));
        }
        return new DeliveryOutcome("peer.example[192.0.2.1]:25", out, 0.01, 0.02);
    }

    @Test
    void lmtpRecipientsGoOneByOneWithLmtpDestinationRecipientLimit1() throws Exception {
        DeliveryAgent a = agent("default_transport = lmtp:inet:127.0.0.1:2424\nlmtp_destination_recipient_limit = 1",
                (hop, m) -> all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Saved"));
        String id = stored("a@example.com", "b@example.com", "c@example.com");
        a.deliver(id);
        assertEquals(3, calls.size());
        calls.forEach(c -> assertEquals(1, c.message().recipients().size()));
        assertEquals(NextHop.lmtpInet("127.0.0.1", 2424), calls.get(0).hop());
        assertEquals(Map.of("IDENT", id), calls.get(0).message().xforward());
        assertEquals(List.of(), requests.scheduled, "all sent: removed, nothing scheduled");
    }

    @Test
    void smtpRecipientsShareOneTransactionUpToTheLimit() throws Exception {
        DeliveryAgent a = agent("smtp_destination_recipient_limit = 2",
                (hop, m) -> all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok"));
        a.deliver(stored("a@example.com", "b@example.com", "c@example.com"));
        assertEquals(List.of(2, 1), calls.stream().map(c -> c.message().recipients().size()).toList());
        assertEquals(NextHop.smtp("example.com", 25, true), calls.get(0).hop());
    }

    /** storedFrom - a message from this sender that arrived this long ago. */
    private static String storedFrom(String sender, Duration age, String recipient) {
        String id = QueueIds.next();
        Envelope e = envelope(id, Instant.now().minus(age), rcpt(recipient));
        Envelope from = new Envelope(e.queueId(), sender, e.mailParams(), e.recipients(), e.clientName(),
                e.clientAddress(), e.clientPort(), e.helo(), e.protocol(), e.service(), e.arrival(), e.size());
        byte[] data = content(200, 7);
        return db.inTransaction(new CleanupService(), c -> c.store(from, new ByteArrayInputStream(data)));
    }

    @Test
    void noticesExpireAfterBounceQueueLifetimeAndOtherMailAfterMaximalQueueLifetime() throws Exception {
        DeliveryAgent a = agent("myorigin = example.net\nbounce_queue_lifetime = 1d\nmaximal_queue_lifetime = 5d",
                (hop, m) -> all(m, DeliveryOutcome.Status.DEFERRED, "4.4.1", "connect to peer: Connection refused"));
        Duration twoDays = Duration.ofDays(2);
        a.deliver(storedFrom("", twoDays, "a@example.com"));
        a.deliver(storedFrom("double-bounce@example.net", twoDays, "postmaster@example.com"));
        a.deliver(storedFrom("someone@example.org", twoDays, "b@example.com"));
        List<RecipientStatus> statuses = store.finished.stream()
                .map(f -> f.values().iterator().next().status()).toList();
        assertEquals(List.of(RecipientStatus.BOUNCED, RecipientStatus.BOUNCED, RecipientStatus.DEFERRED), statuses,
                "a bounce and a postmaster notice expire after 1d; ordinary mail waits until 5d");
    }

    @Test
    void aRelayhostThatCannotBeFoundDefersInsteadOfBouncing() throws Exception {
        DeliveryAgent a = agent("relayhost = [nothere.example]",
                (hop, m) -> all(m, DeliveryOutcome.Status.BOUNCED, "5.4.4", "Host or domain name not found."));
        a.deliver(stored("a@example.com"));
        QueueStore.Outcome o = store.finished.get(0).values().iterator().next();
        assertEquals(RecipientStatus.DEFERRED, o.status());
        assertEquals("4.4.4", o.dsn());
        assertEquals(1, requests.scheduled.size(), "retried later");
    }

    @Test
    void mailThatLoopsBackToUsGoesToBestMxTransport() throws Exception {
        DeliveryAgent a = agent("best_mx_transport = lmtp:unix:/run/postern-test-lmtp",
                (hop, m) -> hop.protocol() == NextHop.Protocol.SMTP
                        ? all(m, DeliveryOutcome.Status.DEFERRED, "4.4.6", "mail for example.com loops back to myself")
                        : all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Saved"));
        a.deliver(stored("a@example.com"));
        assertEquals(List.of(NextHop.smtp("example.com", 25, true), NextHop.lmtpUnix("/run/postern-test-lmtp")),
                calls.stream().map(Call::hop).toList());
        assertEquals(RecipientStatus.SENT, store.finished.get(0).values().iterator().next().status());
        assertTrue(calls.get(1).settings().heloName().length() > 0, "LMTP settings for the LMTP hop");
    }

    @Test
    void withoutBestMxTransportTheLoopIsRecordedAsItCame() throws Exception {
        DeliveryAgent a = agent("", (hop, m) -> all(m, DeliveryOutcome.Status.BOUNCED, "5.4.6",
                "mail for example.com loops back to myself"));
        a.deliver(stored("a@example.com"));
        assertEquals(1, calls.size());
        QueueStore.Outcome o = store.finished.get(0).values().iterator().next();
        assertEquals(RecipientStatus.BOUNCED, o.status());
        assertEquals("5.4.6", o.dsn());
    }

    @Test
    void aDestinationWhoseSlotsStayBusyIsDeferredBrieflyWithoutAConnection() throws Exception {
        DeliveryAgent a = agent("smtp_destination_concurrency_limit = 1",
                (hop, m) -> all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok"));
        String destination = NextHop.smtp("busy.example", 25, true).destination();
        try (org.postern.smtp.SmtpDestinationLimiter.Permit held = org.postern.smtp.SmtpDestinationLimiter.shared()
                .acquire("smtp", destination, 1, Duration.ZERO)) {
            long t0 = System.nanoTime();
            a.deliver(stored("a@busy.example"));
            long waited = System.nanoTime() - t0;
            assertTrue(waited >= DeliveryAgent.CONCURRENCY_WAIT.toNanos(), "waited for a slot: " + waited / 1_000_000 + " ms");
        }
        assertEquals(List.of(), calls, "no connection was borrowed");
        QueueStore.Outcome o = store.finished.get(0).values().iterator().next();
        assertEquals(RecipientStatus.DEFERRED, o.status());
        assertEquals("4.4.5", o.dsn());
        assertEquals("delivery temporarily suspended: concurrency limit 1 for busy.example:25 reached", o.reply());
        assertTrue(requests.scheduled.get(0).compareTo(Duration.ofSeconds(31)) <= 0, "retried soon: " + requests.scheduled);
    }
}
