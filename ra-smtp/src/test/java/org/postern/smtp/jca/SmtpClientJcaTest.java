package org.postern.smtp.jca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.OutboundMessage.OutboundRecipient;
import org.postern.smtp.api.SmtpClientConnection;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.SmtpTestServers;

/** The JCA layer under a hand-rolled pooling ConnectionManager, as IronJacamar drives it. */
class SmtpClientJcaTest {

    /** PoolingConnectionManager - free list, matchManagedConnections, destroy on error. */
    static final class PoolingConnectionManager implements ConnectionManager, ConnectionEventListener {
        private static final long serialVersionUID = 1L;
        final Set<ManagedConnection> free = new HashSet<>();
        final List<ManagedConnection> created = new ArrayList<>();
        final List<ManagedConnection> destroyed = new ArrayList<>();

        @Override
        public synchronized Object allocateConnection(ManagedConnectionFactory mcf, ConnectionRequestInfo cri)
                throws ResourceException {
            ManagedConnection mc = free.isEmpty() ? null : mcf.matchManagedConnections(new HashSet<>(free), null, cri);
            if (mc != null) {
                free.remove(mc);
            } else {
                mc = mcf.createManagedConnection(null, cri);
                mc.addConnectionEventListener(this);
                created.add(mc);
            }
            return mc.getConnection(null, cri);
        }

        @Override
        public synchronized void connectionClosed(ConnectionEvent event) {
            ManagedConnection mc = (ManagedConnection) event.getSource();
            try {
                mc.cleanup();
            } catch (ResourceException e) {
                throw new IllegalStateException(e);
            }
            free.add(mc);
        }

        @Override
        public synchronized void connectionErrorOccurred(ConnectionEvent event) {
            ManagedConnection mc = (ManagedConnection) event.getSource();
            free.remove(mc);
            destroyed.add(mc);
            try {
                mc.destroy();
            } catch (ResourceException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void localTransactionStarted(ConnectionEvent event) {
        }

        @Override
        public void localTransactionCommitted(ConnectionEvent event) {
        }

        @Override
        public void localTransactionRolledback(ConnectionEvent event) {
        }
    }

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private static SmtpClientSettings settings() {
        Duration d = Duration.ofSeconds(2);
        return new SmtpClientSettings("client.test", d, d, d, d, d, d, d, d, d, 998);
    }

    private static OutboundMessage message(String rcpt) {
        return new OutboundMessage("Q1", "s@client.test", List.of(new OutboundRecipient(rcpt, null, null)), 3,
                () -> new ByteArrayInputStream("x\r\n".getBytes()), null, null, false);
    }

    @Test
    void destinationSlotsBelongToThePoolAndAreSharedByItsFactories() throws Exception {
        SmtpClientManagedConnectionFactory mcf = new SmtpClientManagedConnectionFactory();
        SmtpClientConnectionFactory one = (SmtpClientConnectionFactory) mcf.createConnectionFactory();
        SmtpClientConnectionFactory two = (SmtpClientConnectionFactory) mcf.createConnectionFactory();
        NextHop hop = NextHop.smtp("slots.example", 25, true);
        try (var held = one.reserve("smtp", hop, 1, Duration.ZERO)) {
            assertTrue(held != null, "the first slot is free");
            assertEquals(null, two.reserve("smtp", hop, 1, Duration.ofMillis(20)), "the pool's only slot is taken");
            try (var lmtp = two.reserve("lmtp", hop, 1, Duration.ZERO)) {
                assertTrue(lmtp != null, "another transport has slots of its own");
            }
            SmtpClientConnectionFactory otherPool = (SmtpClientConnectionFactory)
                    new SmtpClientManagedConnectionFactory().createConnectionFactory();
            try (var other = otherPool.reserve("smtp", hop, 1, Duration.ZERO)) {
                assertTrue(other != null, "another pool has slots of its own: no JVM-wide static");
            }
        }
        try (var again = two.reserve("smtp", hop, 1, Duration.ZERO)) {
            assertTrue(again != null, "a closed permit gives its slot back");
        }
    }

    @Test
    void aSecondDeliveryToTheSameHopReusesTheManagedConnection() throws Exception {
        SmtpTestServers.Handle a = SmtpTestServers.start();
        SmtpTestServers.Handle b = SmtpTestServers.start();
        toClose.add(a);
        toClose.add(b);
        PoolingConnectionManager cm = new PoolingConnectionManager();
        SmtpClientManagedConnectionFactory mcf = new SmtpClientManagedConnectionFactory();
        SmtpClientConnectionFactory cf = (SmtpClientConnectionFactory) mcf.createConnectionFactory(cm);
        NextHop hopA = NextHop.smtp("127.0.0.1", a.port(), false);
        NextHop hopB = NextHop.smtp("127.0.0.1", b.port(), false);

        try (SmtpClientConnection c = cf.getConnection(hopA, settings())) {
            assertEquals(Status.SENT, c.deliver(message("one@x.test")).recipients().get(0).status());
        }
        try (SmtpClientConnection c = cf.getConnection(hopB, settings())) {
            assertEquals(Status.SENT, c.deliver(message("other@x.test")).recipients().get(0).status());
        }
        try (SmtpClientConnection c = cf.getConnection(hopA, settings())) {
            DeliveryOutcome o = c.deliver(message("two@x.test"));
            assertEquals(Status.SENT, o.recipients().get(0).status());
        }
        assertEquals(2, cm.created.size(), "one managed connection per destination");
        assertEquals(1, a.connections(), "the cached session to A was reused: one TCP connection");
        assertEquals(0, a.commands("RSET").size(), "no RSET before reuse after a completed transaction");
        assertEquals(2, cm.free.size());
    }

    @Test
    void anIdleCachedSessionSaysQuitWhileItsManagedConnectionStaysInThePool() throws Exception {
        SmtpTestServers.Handle a = SmtpTestServers.start();
        toClose.add(a);
        PoolingConnectionManager cm = new PoolingConnectionManager();
        SmtpClientConnectionFactory cf = (SmtpClientConnectionFactory) new SmtpClientManagedConnectionFactory()
                .createConnectionFactory(cm);
        NextHop hop = NextHop.smtp("127.0.0.1", a.port(), false);
        SmtpClientSettings cached = settings().withCache(new SmtpClientSettings.Cache(true, 0, Duration.ofMillis(200)));
        for (String rcpt : List.of("one@x.test", "two@x.test")) {
            try (SmtpClientConnection c = cf.getConnection(hop, cached)) {
                assertEquals(Status.SENT, c.deliver(message(rcpt)).recipients().get(0).status());
            }
        }
        assertEquals(1, a.connections());
        assertEquals(List.of(), a.commands("QUIT"), "cached, not closed");
        for (int i = 0; i < 100 && a.commands("QUIT").isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of("QUIT"), a.commands("QUIT"), "idle past smtp_connection_cache_time_limit: QUIT");
        assertEquals(1, cm.free.size(), "the managed connection is still pooled");
        assertTrue(cm.destroyed.isEmpty(), "an expired session is no connection error");
        try (SmtpClientConnection c = cf.getConnection(hop, cached)) {
            assertEquals(Status.SENT, c.deliver(message("three@x.test")).recipients().get(0).status());
        }
        assertEquals(1, cm.created.size(), "the same managed connection");
        assertEquals(2, a.connections(), "which connected again");
    }

    @Test
    void differentSettingsDoNotMatch() throws Exception {
        SmtpTestServers.Handle a = SmtpTestServers.start();
        toClose.add(a);
        PoolingConnectionManager cm = new PoolingConnectionManager();
        SmtpClientConnectionFactory cf = (SmtpClientConnectionFactory) new SmtpClientManagedConnectionFactory()
                .createConnectionFactory(cm);
        NextHop hop = NextHop.smtp("127.0.0.1", a.port(), false);
        try (SmtpClientConnection c = cf.getConnection(hop, settings())) {
            c.deliver(message("one@x.test"));
        }
        try (SmtpClientConnection c = cf.getConnection(hop, SmtpClientSettings.defaults("other.test"))) {
            c.deliver(message("two@x.test"));
        }
        assertEquals(2, cm.created.size());
    }

    @Test
    void aFailedConnectionIsReportedAndDestroyed() throws Exception {
        SmtpTestServers.Handle a = SmtpTestServers.start();
        toClose.add(a);
        a.closeAfterData();
        PoolingConnectionManager cm = new PoolingConnectionManager();
        SmtpClientConnectionFactory cf = (SmtpClientConnectionFactory) new SmtpClientManagedConnectionFactory()
                .createConnectionFactory(cm);
        SmtpClientConnection c = cf.getConnection(NextHop.smtp("127.0.0.1", a.port(), false), settings());
        DeliveryOutcome o = c.deliver(message("one@x.test"));
        assertEquals(Status.DEFERRED, o.recipients().get(0).status());
        assertEquals(1, cm.destroyed.size());
        assertTrue(cm.free.isEmpty());
        c.close();   // after the error: a no-op, not a second return to the pool
        assertTrue(cm.free.isEmpty());
        assertThrows(IllegalStateException.class, () -> c.deliver(message("x@x.test")));
    }

    @Test
    void theManagedConnectionIsNotTransactionalAndChecksItsRequestInfo() throws Exception {
        SmtpClientManagedConnectionFactory mcf = new SmtpClientManagedConnectionFactory();
        SmtpClientRequestInfo info = new SmtpClientRequestInfo(NextHop.smtp("127.0.0.1", 1, false), settings());
        ManagedConnection mc = mcf.createManagedConnection(null, info);
        assertThrows(NotSupportedException.class, mc::getXAResource);
        assertThrows(NotSupportedException.class, mc::getLocalTransaction);
        assertThrows(ResourceException.class, () -> mc.getConnection(null,
                new SmtpClientRequestInfo(NextHop.smtp("127.0.0.2", 1, false), settings())));
        assertThrows(ResourceException.class, () -> mcf.createManagedConnection(null, null));
        assertSame(mc, mcf.matchManagedConnections(Set.of(mc), null,
                new SmtpClientRequestInfo(NextHop.smtp("127.0.0.1", 1, false), settings())));
        assertEquals(null, mcf.matchManagedConnections(Set.of(mc), null,
                new SmtpClientRequestInfo(NextHop.lmtpInet("127.0.0.1", 1), settings())));
        assertEquals(new SmtpClientManagedConnectionFactory(), mcf);
        assertEquals(new SmtpClientManagedConnectionFactory().hashCode(), mcf.hashCode());
        mc.destroy();
    }

    @Test
    void theUnmanagedFactoryOpensAndQuitsPerConnection() throws Exception {
        SmtpTestServers.Handle a = SmtpTestServers.start();
        toClose.add(a);
        SmtpClientConnectionFactory cf = (SmtpClientConnectionFactory) new SmtpClientManagedConnectionFactory()
                .createConnectionFactory();
        NextHop hop = NextHop.smtp("127.0.0.1", a.port(), false);
        SmtpClientConnection c1 = cf.getConnection(hop, settings());
        c1.deliver(message("one@x.test"));
        c1.close();
        SmtpClientConnection c2 = cf.getConnection(hop, settings());
        assertNotSame(c1, c2);
        c2.deliver(message("two@x.test"));
        c2.close();
        assertEquals(2, a.connections());
        // smtp_skip_quit_response = yes: the QUIT may still be on its way to the server
        for (int i = 0; i < 100 && a.commands("QUIT").size() < 2; i++) {
            Thread.sleep(20);
        }
        assertEquals(2, a.commands("QUIT").size());
    }

    @Test
    void nMessagesThroughThePoolTravelOverFewerConnectionsAndTheReuseCountLimitRetiresSessions() throws Exception {
        SmtpTestServers.Handle a = SmtpTestServers.start();
        toClose.add(a);
        PoolingConnectionManager cm = new PoolingConnectionManager();
        SmtpClientConnectionFactory cf = (SmtpClientConnectionFactory) new SmtpClientManagedConnectionFactory()
                .createConnectionFactory(cm);
        NextHop hop = NextHop.smtp("127.0.0.1", a.port(), false);
        SmtpClientSettings s = settings().withCache(new SmtpClientSettings.Cache(true, 5, Duration.ofSeconds(10)));
        int n = 12;
        for (int i = 0; i < n; i++) {
            try (SmtpClientConnection c = cf.getConnection(hop, s)) {
                assertEquals(Status.SENT, c.deliver(message("m" + i + "@x.test")).recipients().get(0).status());
            }
        }
        // smtp_connection_reuse_count_limit = 5: a session is used once and reused five times
        assertEquals(2, a.connections(), "6 + 6 transactions over 2 connections for 12 messages");
        assertEquals(0, cm.destroyed.size(), "a session retired at the reuse limit is no error");
        assertEquals(1, cm.created.size(), "the managed connection reconnects");
        assertEquals(1, cm.free.size());
    }
}
