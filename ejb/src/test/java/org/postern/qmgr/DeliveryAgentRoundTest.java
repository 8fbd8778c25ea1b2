package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.queue.QueueDatabase;
import org.postern.queue.QueuedMessage;
import org.postern.queue.RecipientStatus;
import org.postern.service.ConfigService;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

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

    @BeforeEach
    void forgetDeadDestinations() {
        DeadDestinations.shared().clear();
        DestinationBacklog.shared().clear();
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

        /** finishRound fails this many more times, as when the database is unreachable */
        final java.util.concurrent.atomic.AtomicInteger unreachable = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Finished finishRound(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now,
                                    String messageId) {
            if (unreachable.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IllegalStateException("Connection refused");
            }
            finished.add(Map.copyOf(outcomes));
            return db.inTransaction(new QueueStore(), q -> q.finishRound(queueId, lease, outcomes, now, messageId));
        }

        /** the messages removed in a batch (every recipient sent): Removals' path, not finishRound's */
        final List<String> removed = new CopyOnWriteArrayList<>();

        @Override
        public List<String> removeDelivered(Map<String, Long> leases, java.util.Set<String> indexed,
                                            Map<String, List<org.postern.events.DeliveryEvent>> events) {
            List<String> lost = db.inTransaction(new QueueStore(), q -> q.removeDelivered(leases, indexed, events));
            leases.keySet().stream().filter(id -> !lost.contains(id)).forEach(removed::add);
            return lost;
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

        @Override
        public List<String> due(Instant now, int max) {
            return db.withoutTransaction(new QueueStore(), q -> q.due(now, max));
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
        final List<String> woken = new CopyOnWriteArrayList<>();

        @Override
        public void wakeUp(String queueId) {
            woken.add(queueId);
        }

        @Override
        public boolean wakeUpAll(List<String> queueIds, int perRequest) {
            woken.addAll(queueIds);
            return true;
        }

        @Override
        public boolean schedule(String queueId, Duration delay) {
            scheduled.add(delay);
            return true;
        }
    }

    private final TxStore store = new TxStore();
    private final Requests requests = new Requests();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    /** the destination slots of the fake connection pool: one semaphore per transport and destination */
    private final Map<String, java.util.concurrent.Semaphore> slots = new java.util.concurrent.ConcurrentHashMap<>();

    private SmtpClientConnectionFactory.Permit slot(String transport, String destination, int limit, Duration maxWait)
            throws InterruptedException {
        if (limit <= 0) {
            return () -> { };
        }
        java.util.concurrent.Semaphore s = slots.computeIfAbsent(transport + " " + destination,
                k -> new java.util.concurrent.Semaphore(limit));
        return s.tryAcquire(maxWait.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS) ? s::release : null;
    }

    private DeliveryAgent agent(String mainCf, BiFunction<NextHop, OutboundMessage, DeliveryOutcome> script)
            throws ReflectiveOperationException {
        DeliveryAgent a = new DeliveryAgent();
        SmtpClientConnectionFactory factory = new SmtpClientConnectionFactory() {
            @Override
            public SmtpClientConnection getConnection(NextHop hop, SmtpClientSettings settings) {
                return new SmtpClientConnection() {
                    @Override
                    public DeliveryOutcome deliver(OutboundMessage message) {
                        calls.add(new Call(hop, settings, message));
                        return script.apply(hop, message);
                    }

                    @Override
                    public void close() {
                    }
                };
            }

            @Override
            public SmtpClientConnectionFactory.Permit reserve(String transport, NextHop hop, int limit, Duration maxWait)
                    throws InterruptedException {
                return slot(transport, hop.destination(), limit, maxWait);
            }

            @Override
            public java.util.Map<String, Integer> busy() {
                return java.util.Map.of();
            }
        };
        set(a, "store", store);
        set(a, "configService", new FixedConfig(mainCf));
        set(a, "requests", requests);
        set(a, "connections", factory);
        set(a, "slots", org.postern.qmgr.ClusterAlone.slots());
        set(a, "clusterDead", org.postern.qmgr.ClusterAlone.deadDestinations());
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
        // XFORWARD: the original client as smtpd stored it, the queue id, and SOURCE=REMOTE
        assertEquals(Map.of("IDENT", id, "NAME", "client.example.net", "ADDR", "192.0.2.10", "PORT", "49152",
                "PROTO", "ESMTP", "HELO", "client.example.net", "SOURCE", "REMOTE"), calls.get(0).message().xforward());
        assertEquals(List.of(), requests.scheduled, "all sent: removed, nothing scheduled");
    }

    @Test
    void xforwardOfLocalMailAndOfAClientWithoutNameOrPort() {
        QueueStore.Claim.Client notice = new QueueStore.Claim.Client("localhost", "127.0.0.1", 0, null, "local");
        assertEquals(Map.of("IDENT", "4ABC", "SOURCE", "LOCAL"), DeliveryAgent.xforward(claim(notice)),
                "mail Postern composed itself: SOURCE=LOCAL and no client, as Postfix sends for its own mail");
        QueueStore.Claim.Client old = new QueueStore.Claim.Client("unknown", "2001:db8::7", null, "", "SMTP");
        assertEquals(Map.of("IDENT", "4ABC", "NAME", "unknown", "ADDR", "2001:db8::7", "PROTO", "SMTP",
                "SOURCE", "REMOTE"), DeliveryAgent.xforward(claim(old)),
                "no port stored, an empty HELO: left out, for the client to send as [UNAVAILABLE]");
        assertEquals(Map.of("IDENT", "4ABC"), DeliveryAgent.xforward(claim(null)));
    }

    private static QueueStore.Claim claim(QueueStore.Claim.Client client) {
        return new QueueStore.Claim("4ABC", 1, "s@example.org", Instant.now(), 10, 1, null, null, null, 1, true,
                List.of(), false, null, false, client);
    }

    @Test
    void aRoundTheDatabaseWillNotTakeWaitsInMemoryAndIsRecordedWhenItAnswers() throws Exception {
        UnrecordedRounds.shared().take();
        DeliveryAgent a = agent("minimal_backoff_time = 300s",
                (hop, m) -> all(m, DeliveryOutcome.Status.DEFERRED, "4.3.0", "451 4.3.0 try again later"));
        String id = stored("a@example.com");
        store.unreachable.set(DeliveryAgent.FINISH_ATTEMPTS + 1);
        a.deliver(id); // every attempt of the round fails: no exception, the round waits
        assertEquals(1, UnrecordedRounds.shared().size());
        assertEquals(List.of(), requests.scheduled, "nothing scheduled yet");
        QueuedMessage held = db.message(id);
        assertTrue(held.getLeaseUntil() != null, "still leased to this node meanwhile");

        assertEquals(0, a.recordKept(), "the database still does not answer: the round keeps waiting");
        assertEquals(1, UnrecordedRounds.shared().size());

        assertEquals(1, a.recordKept(), "the database answers: the round is recorded");
        assertEquals(0, UnrecordedRounds.shared().size());
        QueuedMessage m = db.message(id);
        assertEquals(null, m.getLeaseUntil(), "the lease given back");
        assertEquals(RecipientStatus.DEFERRED, m.getRecipients().get(0).getStatus());
        assertEquals(1, requests.scheduled.size(), "the next attempt scheduled as after any round");
    }

    @Test
    void smtpRecipientsShareOneTransactionUpToTheLimit() throws Exception {
        DeliveryAgent a = agent("smtp_destination_recipient_limit = 2",
                (hop, m) -> all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok"));
        a.deliver(stored("a@example.com", "b@example.com", "c@example.com"));
        assertEquals(List.of(2, 1), calls.stream().map(c -> c.message().recipients().size()).toList());
        assertEquals(NextHop.smtp("example.com", 25, true), calls.get(0).hop());
    }

    @Test
    void eachBatchTellsTheClientWhetherItsDestinationHasABacklog() throws Exception {
        DeliveryAgent a = agent("smtp_destination_recipient_limit = 2",
                (hop, m) -> all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok"));
        a.deliver(stored("a@lone.example"));
        a.deliver(stored("a@batch.example", "b@batch.example", "c@batch.example"));
        assertEquals(List.of("lone.example", "batch.example", "batch.example"),
                calls.stream().map(c -> c.hop().host()).toList());
        assertEquals(List.of(false, true, true), calls.stream().map(c -> c.message().backlog()).toList(),
                "a one-off message has none; a batch with another after it has one, and that one follows back to back");
        assertTrue(calls.get(0).settings().cache().onDemand(), "smtp_connection_cache_on_demand = yes");
        assertEquals(2, DestinationBacklog.shared().size(), "a queue per destination");
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
        String id = stored("a@example.com");
        a.deliver(id);
        assertEquals(List.of(NextHop.smtp("example.com", 25, true), NextHop.lmtpUnix("/run/postern-test-lmtp")),
                calls.stream().map(Call::hop).toList());
        // sent: removed with the batch of delivered messages, not recorded by finishRound
        assertEquals(List.of(id), store.removed);
        assertEquals(0, db.rows("queue_message", id));
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
        try (SmtpClientConnectionFactory.Permit held = slot("smtp", destination, 1, Duration.ZERO)) {
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

    // ---- success notices

    /** storedWith - a message from sender@example.org to one recipient with this NOTIFY; its queue id. */
    private static String storedWith(String recipient, String notify) {
        String id = QueueIds.next();
        Envelope e = envelope(id, Instant.now(), new Envelope.Recipient(recipient, null, notify));
        byte[] data = content(200, 7);
        return db.inTransaction(new CleanupService(), c -> c.store(e, new ByteArrayInputStream(data)));
    }

    private static DeliveryOutcome sentBy(OutboundMessage m, boolean dsn) {
        DeliveryOutcome o = all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok: queued as 4XYZ");
        return new DeliveryOutcome(o.relay(), o.recipients(), 0.01, 0.02, null,
                dsn ? java.util.Set.of(o.relay()) : java.util.Set.of(), false);
    }

    /** action - the success action of the only recipient of the latest round, and the notice woken, if any. */
    private String onlyAction() {
        return store.finished.get(store.finished.size() - 1).values().iterator().next().action();
    }

    private Map<String, String> notice(String id) {
        QueuedMessage n = db.message(id);
        assertEquals("", n.getSender(), "a notice from the null sender");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < n.getContentChunks(); i++) {
            int seq = i;
            out.writeBytes(db.withoutTransaction(new QueueStore(), q -> q.chunk(id, seq)));
        }
        return org.postern.bounce.DsnParsers.python(out.toByteArray());
    }

    @Test
    void anSmtpPeerWithoutDsnGetsARelayedNotice() throws Exception {
        DeliveryAgent a = agent("", (hop, m) -> sentBy(m, false));
        a.deliver(storedWith("a@example.com", "SUCCESS"));
        assertEquals("relayed", onlyAction());
        assertEquals(1, requests.woken.size(), "the notice is woken after the commit");
        Map<String, String> py = notice(requests.woken.get(0));
        assertEquals("Successful Mail Delivery Report", py.get("subject"));
        assertEquals("relayed", py.get("rcpt0.Action"));
        assertEquals("2.0.0", py.get("rcpt0.Status"));
        assertEquals("smtp; 250 2.0.0 Ok: queued as 4XYZ", py.get("rcpt0.Diagnostic-Code"));
    }

    @Test
    void anSmtpPeerThatAnnouncedDsnGotNotifyAndWeSendNothing() throws Exception {
        DeliveryAgent a = agent("", (hop, m) -> sentBy(m, true));
        a.deliver(storedWith("a@example.com", "SUCCESS"));
        assertEquals(1, calls.size());
        assertEquals("SUCCESS", calls.get(0).message().recipients().get(0).notifyParam(), "NOTIFY handed to the client");
        assertNull(onlyAction());
        assertEquals(List.of(), requests.woken);
    }

    @Test
    void anLmtpServerWithoutDsnDeliversFinallyWithLmtpAssumeFinal() throws Exception {
        DeliveryAgent a = agent("default_transport = lmtp:inet:127.0.0.1:2424\nlmtp_assume_final = yes",
                (hop, m) -> sentBy(m, false));
        a.deliver(storedWith("a@example.com", "SUCCESS"));
        assertEquals("delivered", onlyAction());
        assertEquals("delivered", notice(requests.woken.get(0)).get("rcpt0.Action"));

        DeliveryAgent postfixDefault = agent("default_transport = lmtp:inet:127.0.0.1:2424",
                (hop, m) -> sentBy(m, false));
        postfixDefault.deliver(storedWith("b@example.com", "SUCCESS"));
        assertEquals("relayed", onlyAction(), "lmtp_assume_final = no (Postfix's default): relayed");
    }

    @Test
    void withoutNotifySuccessNoNoticeIsSent() throws Exception {
        DeliveryAgent a = agent("", (hop, m) -> sentBy(m, false));
        a.deliver(storedWith("a@example.com", null));
        a.deliver(storedWith("b@example.com", "FAILURE,DELAY"));
        assertEquals(List.of(), requests.woken);
    }

    // ---- dead-destination cache

    private static DeliveryOutcome refused(OutboundMessage m) {
        DeliveryOutcome o = all(m, DeliveryOutcome.Status.DEFERRED, "4.4.1",
                "connect to dead.example[192.0.2.9]:25: Connection refused");
        return new DeliveryOutcome("none", o.recipients(), 0.01, 0, null, java.util.Set.of(), true);
    }

    @Test
    void aDestinationThatCannotBeReachedIsSuspendedForOtherMailUntilItComesBack() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean();
        DeliveryAgent a = agent("minimal_backoff_time = 300s",
                (hop, m) -> up.get() ? all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok") : refused(m));
        a.deliver(stored("a@dead.example"));
        assertEquals(1, calls.size());

        a.deliver(stored("b@dead.example", "c@dead.example"));
        assertEquals(1, calls.size(), "no connection for the second message");
        for (QueueStore.Outcome o : store.finished.get(1).values()) {
            assertEquals(RecipientStatus.DEFERRED, o.status());
            assertEquals("4.4.1", o.dsn());
            assertEquals("none", o.relay());
            assertEquals("delivery temporarily suspended: connect to dead.example[192.0.2.9]:25: Connection refused",
                    o.reply());
        }
        assertEquals(Duration.ofSeconds(300), requests.scheduled.get(1).plusMillis(999).withNanos(0),
                "rescheduled with the normal backoff");

        a.deliver(stored("d@other.example"));
        assertEquals(2, calls.size(), "other destinations are not affected");

        // ETRN / sendmail -q: a flushed round ignores the cache; the destination answers again
        up.set(true);
        String flushed = stored("e@dead.example");
        db.update(em -> em.find(QueuedMessage.class, flushed).setFlushRequested(true));
        a.deliver(flushed);
        assertEquals(3, calls.size(), "the flush connected");
        assertTrue(store.removed.contains(flushed), "sent, and removed with its flush index rows");
        assertEquals(0, db.rows("queue_flush", flushed));

        a.deliver(stored("f@dead.example"));
        assertEquals(4, calls.size(), "a delivery that reached the destination brought it back");
    }

    @Test
    void aRecipientRefusedWith4xxDoesNotSuspendTheDestination() throws Exception {
        DeliveryAgent a = agent("", (hop, m) -> all(m, DeliveryOutcome.Status.DEFERRED, "4.2.0",
                "host peer.example[192.0.2.1] said: 450 4.2.0 busy (in reply to RCPT TO command)"));
        a.deliver(stored("a@busy4xx.example"));
        a.deliver(stored("b@busy4xx.example"));
        assertEquals(2, calls.size());
    }

    @Test
    void theDeadTimeIsMinimalBackoffTime() {
        NextHop hop = NextHop.smtp("x.example", 25, true);
        Instant now = Instant.now();
        DeadDestinations.shared().markDead(hop, "4.4.1", "connect to x.example: Connection refused",
                now.plusSeconds(300));
        assertEquals("delivery temporarily suspended: connect to x.example: Connection refused",
                DeadDestinations.shared().dead(hop, now.plusSeconds(299)).suspended());
        assertNull(DeadDestinations.shared().dead(hop, now.plusSeconds(300)), "alive again after the backoff");
    }

    // ---- qmgr_message_active_limit

    @Test
    void theActiveQueueLimitLeavesTheRestDueUntilThereIsRoom() throws Exception {
        java.util.concurrent.CountDownLatch inFlight = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        DeliveryAgent a = agent("qmgr_message_active_limit = 1", (hop, m) -> {
            if (m.recipients().get(0).address().startsWith("first")) {
                inFlight.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return all(m, DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok");
        });
        db.empty();   // the wake-up takes the oldest due messages: only these two
        String first = stored("first@example.com");
        String second = stored("second@example.com");
        Thread t = new Thread(() -> a.deliver(first));
        t.start();
        assertTrue(inFlight.await(10, java.util.concurrent.TimeUnit.SECONDS));

        a.deliver(second);
        assertEquals(1, calls.size(), "the second message was not claimed");
        QueuedMessage waiting = db.message(second);
        assertEquals(org.postern.queue.QueueState.INCOMING, waiting.getState(), "left untouched in the database");
        assertNull(waiting.getLeaseUntil());

        release.countDown();
        t.join(10_000);
        assertTrue(requests.woken.contains(second), "woken when the first left the active queue: " + requests.woken);
        a.deliver(second);
        assertEquals(2, calls.size());
        assertNull(db.message(second), "delivered and removed");
    }
}
