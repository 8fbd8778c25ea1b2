package org.postern.flush;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.TestMessages.T0;
import static org.postern.queue.TestMessages.content;
import static org.postern.queue.TestMessages.envelope;
import static org.postern.queue.TestMessages.rcpt;

import jakarta.persistence.PersistenceException;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.cleanup.CleanupService;
import org.postern.config.Config;
import org.postern.queue.FlushEntry;
import org.postern.queue.QueueDatabase;
import org.postern.queue.QueueState;
import org.postern.queue.QueuedMessage;
import org.postern.queue.QueuedRecipient;
import org.postern.queue.RecipientStatus;
import org.postern.service.ConfigService;
import org.postern.smtpd.api.QueueIds;

/**
 * FlushServiceTest - the ETRN contract of FlushService: true (250 Queuing started) and
 * the indexed mail requested now, false for a domain that is not eligible (459), a
 * FlushException when the queue cannot be flushed (458).
 */
class FlushServiceTest {
    private static final Instant LATER = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
    private static QueueDatabase db;
    private final List<String> woken = new ArrayList<>();
    private boolean databaseDown;

    @BeforeAll
    static void open() {
        db = QueueDatabase.h2("flushservice");
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @BeforeEach
    void empty() {
        db.empty();
    }

    private FlushService service(String mainCf) {
        FlushService s = new FlushService();
        Config config = Config.parse(mainCf, "main.cf");
        s.configService = new ConfigService() {
            @Override
            public Config current() {
                return config;
            }
        };
        s.queue = new FlushQueue() {
            @Override
            public List<String> flushDomain(String domain, Instant now) {
                if (databaseDown) {
                    throw new PersistenceException("connection refused");
                }
                return db.inTransaction(new FlushQueue(), q -> q.flushDomain(domain, now));
            }

            @Override
            public List<String> flushAll(Instant now, int max) {
                if (databaseDown) {
                    throw new PersistenceException("connection refused");
                }
                return db.inTransaction(new FlushQueue(), q -> q.flushAll(now, max));
            }
        };
        s.requests = queueIds -> {
            woken.addAll(queueIds);
            return true;
        };
        return s;
    }

    /** deferred - a message deferred until LATER, indexed under the domain of its recipient. */
    private String deferred(String address) {
        String id = QueueIds.next();
        db.inTransaction(new CleanupService(), c -> c.store(envelope(id, T0, rcpt(address)),
                new ByteArrayInputStream(content(100, 5))));
        db.update(em -> {
            QueuedMessage m = em.find(QueuedMessage.class, id);
            m.setState(QueueState.DEFERRED);
            m.setNextAttempt(LATER);
            for (QueuedRecipient r : m.getRecipients()) {
                r.record(RecipientStatus.DEFERRED, "4.4.1", "none", "connection refused", T0, LATER);
            }
            em.persist(new FlushEntry(FastFlushDomains.domainOf(address), id));
        });
        return id;
    }

    @Test
    void etrnForAnEligibleDomainWithMailQueuesItNow() throws Exception {
        String a = deferred("a@customer.example");
        String other = deferred("b@other.example");
        FlushService s = service("relay_domains = customer.example, other.example\n");

        assertTrue(s.flushDomain("Customer.Example"));

        assertEquals(List.of(a), woken);
        assertFalse(db.message(a).getNextAttempt().isAfter(Instant.now()), "due now, not at the next retry");
        assertEquals(LATER, db.message(other).getNextAttempt());
    }

    @Test
    void etrnForAnEligibleDomainWithoutMailStartsAndMovesNothing() throws Exception {
        String other = deferred("b@other.example");
        FlushService s = service("relay_domains = customer.example, other.example\n");

        assertTrue(s.flushDomain("customer.example"));

        assertEquals(List.of(), woken);
        assertEquals(LATER, db.message(other).getNextAttempt());
    }

    @Test
    void etrnForADomainThatIsNotEligibleIsRefused() throws Exception {
        String a = deferred("a@customer.example");
        FlushService s = service("relay_domains = other.example\n");

        assertFalse(s.flushDomain("customer.example"), "459 <customer.example>: service unavailable");
        assertFalse(s.flushDomain("bad domain!"));
        assertFalse(service("relay_domains = customer.example\nfast_flush_domains =\n").flushDomain("customer.example"),
                "fast ETRN turned off");

        assertEquals(List.of(), woken);
        assertEquals(LATER, db.message(a).getNextAttempt());
    }

    @Test
    void aFlushThatCannotStartThrows() {
        deferred("a@customer.example");
        FlushService s = service("relay_domains = customer.example\n");
        databaseDown = true;

        FlushException e = assertThrows(FlushException.class, () -> s.flushDomain("customer.example"));
        assertTrue(e.getMessage().contains("customer.example"), e.getMessage());
        assertThrows(FlushException.class, s::flushAll);
        assertEquals(List.of(), woken);
    }

    @Test
    void flushAllRequestsEveryDeferredMessage() throws Exception {
        String a = deferred("a@customer.example");
        String b = deferred("b@elsewhere.example");

        assertEquals(2, service("relay_domains =\n").flushAll());

        assertEquals(List.of(a, b).stream().sorted().toList(), woken.stream().sorted().toList());
    }
}
