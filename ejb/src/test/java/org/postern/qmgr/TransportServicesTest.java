package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import java.io.ByteArrayInputStream;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.queue.QueueDatabase;
import org.postern.queue.RecipientStatus;
import org.postern.service.ConfigService;
import org.postern.service.DeliveryServices;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * master.cf delivery services as transports: each with main.cf plus its -o overrides for the
 * client, its own destination limits from main.cf (slow_destination_recipient_limit) and its
 * maxproc; rounds of DeliveryAgent on H2 with a real ConfigService over a configuration
 * directory and a scripted connection pool.
 */
class TransportServicesTest {

    private static QueueDatabase db;

    @TempDir
    Path dir;

    private String savedDir;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("transportservices");
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @BeforeEach
    void forgetDeadDestinations() {
        DeadDestinations.shared().clear();
        savedDir = System.getProperty(ConfigLocator.PROPERTY);
    }

    @AfterEach
    void restoreDir() {
        if (savedDir == null) {
            System.clearProperty(ConfigLocator.PROPERTY);
        } else {
            System.setProperty(ConfigLocator.PROPERTY, savedDir);
        }
    }

    /** Call - one connection request: next hop, settings, message, and the transport that reserved its slot. */
    record Call(NextHop hop, SmtpClientSettings settings, OutboundMessage message) {
    }

    /** a QueueStore whose every call is a transaction of its own, as the container makes it */
    static final class TxStore extends QueueStore {
        final List<Map<Long, Outcome>> finished = new CopyOnWriteArrayList<>();

        @Override
        public Claim claim(String queueId, Instant now, Duration lease) {
            return db.inTransaction(new QueueStore(), q -> q.claim(queueId, now, lease));
        }

        @Override
        public Finished finishRound(String queueId, long lease, Map<Long, Outcome> outcomes, Instant now,
                                    String messageId) {
            finished.add(Map.copyOf(outcomes));
            return db.inTransaction(new QueueStore(), q -> q.finishRound(queueId, lease, outcomes, now, messageId));
        }

        @Override
        public List<String> removeDelivered(Map<String, Long> leases, java.util.Set<String> indexed,
                                            Map<String, List<org.postern.events.DeliveryEvent>> events) {
            return db.inTransaction(new QueueStore(), q -> q.removeDelivered(leases, indexed, events));
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

    static final class Requests extends DeliveryRequests {
        @Override
        public void wakeUp(String queueId) {
        }

        @Override
        public boolean wakeUpAll(List<String> queueIds, int perRequest) {
            return true;
        }

        @Override
        public boolean schedule(String queueId, Duration delay) {
            return true;
        }
    }

    private final TxStore store = new TxStore();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    /** the transport and limit of each slot reserved ("slow 3") */
    private final List<String> reserved = new CopyOnWriteArrayList<>();

    /** configured - a ConfigService that loaded this main.cf and master.cf from a directory. */
    private ConfigService configured(String mainCf, String masterCf) throws Exception {
        Files.writeString(dir.resolve("main.cf"), "inet_interfaces = 127.0.0.1\nmyhostname = mx.example.org\n" + mainCf);
        Files.writeString(dir.resolve("master.cf"), masterCf);
        System.setProperty(ConfigLocator.PROPERTY, dir.toString());
        ConfigService s = new ConfigService();
        s.reload();
        return s;
    }

    private DeliveryAgent agent(ConfigService config, BiFunction<NextHop, OutboundMessage, DeliveryOutcome> script)
            throws ReflectiveOperationException {
        return agent(config, new SmtpClientConnectionFactory() {
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
            public Permit reserve(String transport, NextHop hop, int limit, Duration maxWait) {
                reserved.add(transport + " " + limit);
                return () -> { };
            }

            @Override
            public Map<String, Integer> busy() {
                return Map.of();
            }
        });
    }

    private DeliveryAgent agent(ConfigService config, SmtpClientConnectionFactory factory)
            throws ReflectiveOperationException {
        DeliveryAgent a = new DeliveryAgent();
        set(a, "store", store);
        set(a, "configService", config);
        set(a, "requests", new Requests());
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

    private static DeliveryOutcome sent(OutboundMessage m) {
        List<DeliveryOutcome.RecipientOutcome> out = new ArrayList<>();
        for (OutboundMessage.OutboundRecipient r : m.recipients()) {
            out.add(new DeliveryOutcome.RecipientOutcome(r.address(), DeliveryOutcome.Status.SENT, "2.0.0", "250 2.0.0 Ok"));
        }
        return new DeliveryOutcome("peer.example[192.0.2.1]:25", out, 0.01, 0.02);
    }

    private static final String SLOW = """
            127.0.0.1:2525 inet n - n - - smtpd
            slow      unix  -  -  n  -  2  smtp -o smtp_helo_name=slow.example -o smtp_connect_timeout=5s
            """;
    private static final String ROUTES = "transport_maps = inline:{ slow.example.net=slow:[192.0.2.7]:2526 }\n";

    // ---- the configuration of each delivery service

    @Test
    void aDeliveryServiceRunsWithItsOverridesAndMainCfLimits() throws Exception {
        ConfigService s = configured(ROUTES + """
                default_destination_recipient_limit = 40
                slow_destination_recipient_limit = 1
                slow_destination_concurrency_limit = 3
                smtp_connect_timeout = 20s
                """, SLOW + """
                relay     unix  -  -  n  -  -  smtp -o relay_destination_recipient_limit=9
                """);
        DeliveryServices d = s.deliveryServices();
        DeliveryServices.Service slow = d.service("slow");
        assertEquals("slow.example", slow.config().get(org.postern.config.Parameters.SMTP_HELO_NAME));
        assertEquals(Duration.ofSeconds(5), slow.config().get(org.postern.config.Parameters.SMTP_CONNECT_TIMEOUT));
        assertEquals(1, slow.recipientLimit());
        assertEquals(3, slow.concurrencyLimit());
        assertEquals(2, slow.processLimit());
        DeliveryServices.Service smtp = d.service("smtp");
        assertSame(s.current(), smtp.config(), "smtp is not in master.cf: main.cf itself");
        assertEquals("mx.example.org", smtp.config().get(org.postern.config.Parameters.SMTP_HELO_NAME));
        assertEquals(40, smtp.recipientLimit());
        assertEquals(0, smtp.processLimit(), "a built-in transport has no maxproc");
        // relay_destination_recipient_limit is qmgr(8)'s: an -o on the relay service does not reach it
        DeliveryServices.Service relay = d.service("relay");
        assertEquals(40, relay.recipientLimit());
        assertEquals(100, relay.processLimit(), "maxproc - is default_process_limit");
        assertEquals(Map.of("slow", "smtp", "relay", "smtp"), s.transports());
        assertTrue(s.current().warnings().stream().noneMatch(w -> w.contains("slow_destination")),
                "the service's names are known: " + s.current().warnings());
        assertSame(slow.config(), s.deliveryServices().service("slow").config(), "made once per configuration");
    }

    @Test
    void aBadOverrideOfADeliveryServiceRefusesTheReloadWithItsLine() throws Exception {
        ConfigService s = configured(ROUTES, SLOW);
        Config running = s.current();
        Files.writeString(dir.resolve("master.cf"), SLOW.replace("5s", "soon"));
        ConfigException e = assertThrows(ConfigException.class, s::reload);
        assertTrue(e.getMessage().contains("master.cf, line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("smtp_connect_timeout"), e.getMessage());
        assertSame(running, s.current(), "the running configuration stays");
    }

    @Test
    void aBadTransportLimitInMainCfRefusesTheReloadWithItsLine() throws Exception {
        ConfigService s = configured(ROUTES, SLOW);
        Files.writeString(dir.resolve("main.cf"), "mail_name = x\nslow_destination_recipient_limit = all\n");
        ConfigException e = assertThrows(ConfigException.class, s::reload);
        assertTrue(e.getMessage().contains("main.cf, line 2"), e.getMessage());
    }

    @Test
    void eachConfigurationKeepsItsOwnClientSettings() {
        Config main = Config.parse("myhostname = mx.example.org\n", "main.cf");
        Config slow = main.withOverrides(Map.of("smtp_helo_name", "slow.example"), "master.cf, line 2");
        NextHop hop = NextHop.smtp("192.0.2.7", 25, false);
        SmtpClientSettings a = SmtpClientParameters.SMTP.cachedSettings(main, hop);
        SmtpClientSettings b = SmtpClientParameters.SMTP.cachedSettings(slow, hop);
        assertEquals("mx.example.org", a.heloName());
        assertEquals("slow.example", b.heloName());
        assertNotSame(a, b);
        // alternating transports do not rebuild each other's settings
        assertSame(a, SmtpClientParameters.SMTP.cachedSettings(main, hop));
        assertSame(b, SmtpClientParameters.SMTP.cachedSettings(slow, hop));
    }

    // ---- delivery rounds

    @Test
    void aTransportOfMasterCfSendsItsOwnHeloWithItsOwnRecipientLimit() throws Exception {
        ConfigService s = configured(ROUTES + "slow_destination_recipient_limit = 1\n", SLOW);
        DeliveryAgent a = agent(s, (hop, m) -> sent(m));
        a.deliver(stored("a@slow.example.net", "b@slow.example.net", "c@slow.example.net",
                "d@other.example.net", "e@other.example.net"));
        NextHop slowHop = NextHop.smtp("192.0.2.7", 2526, false);
        List<Call> slow = calls.stream().filter(c -> c.hop().equals(slowHop)).toList();
        List<Call> other = calls.stream().filter(c -> !c.hop().equals(slowHop)).toList();
        assertEquals(3, slow.size(), "slow_destination_recipient_limit = 1: one transaction per recipient");
        slow.forEach(c -> assertEquals(1, c.message().recipients().size()));
        slow.forEach(c -> assertEquals("slow.example", c.settings().heloName()));
        slow.forEach(c -> assertEquals(Duration.ofSeconds(5), c.settings().connectTimeout()));
        assertEquals(1, other.size(), "smtp keeps default_destination_recipient_limit");
        assertEquals(2, other.get(0).message().recipients().size());
        assertEquals("mx.example.org", other.get(0).settings().heloName());
        assertTrue(reserved.containsAll(List.of("slow 20", "smtp 20")), "slots per transport: " + reserved);
        store.finished.forEach(f -> f.values().forEach(o -> assertEquals(RecipientStatus.SENT, o.status())));
    }

    @Test
    void aTransportAtItsProcessLimitIsDeferredBrieflyWithoutAConnection() throws Exception {
        ConfigService s = configured(ROUTES, SLOW.replace(" 2  smtp", " 1  smtp"));
        DeliveryAgent a = agent(s, (hop, m) -> sent(m));
        try (SmtpClientConnectionFactory.Permit held = ProcessLimits.shared().acquire("slow", 1, Duration.ZERO)) {
            a.deliver(stored("a@slow.example.net"));
        }
        assertEquals(List.of(), calls, "no connection was borrowed");
        QueueStore.Outcome o = store.finished.get(0).values().iterator().next();
        assertEquals(RecipientStatus.DEFERRED, o.status());
        assertEquals("4.4.5", o.dsn());
        assertEquals("delivery temporarily suspended: process limit 1 of transport slow reached", o.reply());
        assertEquals(0, ProcessLimits.shared().running("slow"));
    }

    @Test
    void theProcessLimitCountsEveryDestinationOfTheTransport() throws Exception {
        ProcessLimits limits = new ProcessLimits();
        SmtpClientConnectionFactory.Permit first = limits.acquire("slow", 2, Duration.ZERO);
        SmtpClientConnectionFactory.Permit second = limits.acquire("slow", 2, Duration.ZERO);
        assertEquals(null, limits.acquire("slow", 2, Duration.ofMillis(20)));
        assertTrue(limits.acquire("smtp", 2, Duration.ZERO) != null, "another transport has its own count");
        second.close();
        second.close();
        SmtpClientConnectionFactory.Permit third = limits.acquire("slow", 2, Duration.ZERO);
        assertTrue(third != null);
        assertEquals(2, limits.running("slow"), "a permit closed twice counts once");
        first.close();
        third.close();
        assertEquals(0, limits.running("slow"));
    }
}
