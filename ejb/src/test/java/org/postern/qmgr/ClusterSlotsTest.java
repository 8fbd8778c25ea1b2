package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.postern.queue.PostgresCluster;
import org.postern.smtp.api.SmtpClientConnectionFactory.Permit;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * ClusterSlotsTest - the destination concurrency limit across nodes, on a real PostgreSQL:
 * two ClusterSlots, as two nodes, share the limit's slots; a node's slots are free again when
 * it gives them back or when its database session ends (a killed node).
 */
class ClusterSlotsTest {
    private static final Duration NO_WAIT = Duration.ZERO;

    private static ClusterSlots node(String url) throws Exception {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser("postgres");
        ClusterSlots slots = new ClusterSlots();
        Field f = ClusterSlots.class.getDeclaredField("dataSource");
        f.setAccessible(true);
        f.set(slots, ds);
        slots.liveNodes(2);
        return slots;
    }

    /* advisoryLocks - the advisory locks held in the database, by every session */
    private static int advisoryLocks(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")) {
            r.next();
            return r.getInt(1);
        }
    }

    @Test
    void twoNodesShareTheSlotsOfOneDestination() throws Exception {
        String url = PostgresCluster.createDatabase("postern_slots");
        ClusterSlots a = node(url);
        ClusterSlots b = node(url);
        try {
            Permit a1 = a.acquire("smtp", "example.com", 2, NO_WAIT);
            Permit b1 = b.acquire("smtp", "example.com", 2, NO_WAIT);
            assertNotNull(a1);
            assertNotNull(b1);
            assertEquals(2, advisoryLocks(url));
            // the limit is reached by the two nodes together
            assertNull(a.acquire("smtp", "example.com", 2, NO_WAIT));
            assertNull(b.acquire("smtp", "example.com", 2, Duration.ofMillis(100)));
            // another destination, or another transport, has slots of its own
            Permit other = b.acquire("smtp", "example.net", 2, NO_WAIT);
            Permit lmtp = b.acquire("lmtp", "example.com", 2, NO_WAIT);
            assertNotNull(other);
            assertNotNull(lmtp);
            other.close();
            lmtp.close();
            // a slot given back is taken by the node that waits for it
            a1.close();
            Permit b2 = b.acquire("smtp", "example.com", 2, NO_WAIT);
            assertNotNull(b2);
            assertNull(a.acquire("smtp", "example.com", 2, NO_WAIT));
            b1.close();
            b2.close();
            assertEquals(0, advisoryLocks(url));
        } finally {
            a.stop();
            b.stop();
        }
    }

    @Test
    void oneNodeCannotTakeOneSlotTwice() throws Exception {
        // advisory locks stack within a session: the node keeps its own count
        String url = PostgresCluster.createDatabase("postern_slots_own");
        ClusterSlots a = node(url);
        try {
            Permit p1 = a.acquire("smtp", "example.com", 2, NO_WAIT);
            Permit p2 = a.acquire("smtp", "example.com", 2, NO_WAIT);
            assertNotNull(p1);
            assertNotNull(p2);
            assertNull(a.acquire("smtp", "example.com", 2, NO_WAIT));
            assertEquals(2, advisoryLocks(url));
            p1.close();
            p2.close();
        } finally {
            a.stop();
        }
    }

    @Test
    void aSlotTriedWhileItsNodeHoldsItIsNotLeftLocked() throws Exception {
        // the statement runs often enough for the driver and PostgreSQL to use a generic plan
        // (prepareThreshold 5), whose order of conditions once left a slot locked twice: the
        // other node then never got it back
        String url = PostgresCluster.createDatabase("postern_slots_generic");
        ClusterSlots a = node(url);
        ClusterSlots b = node(url);
        try {
            for (int round = 0; round < 20; round++) {
                Permit first = a.acquire("smtp", "example.com", 2, NO_WAIT);
                Permit second = a.acquire("smtp", "example.com", 2, NO_WAIT);
                assertNotNull(first);
                assertNotNull(second);
                first.close();
                second.close();
            }
            Permit b1 = b.acquire("smtp", "example.com", 2, NO_WAIT);
            Permit b2 = b.acquire("smtp", "example.com", 2, NO_WAIT);
            assertNotNull(b1, "slot left locked by the other node");
            assertNotNull(b2, "slot left locked by the other node");
            b1.close();
            b2.close();
        } finally {
            a.stop();
            b.stop();
        }
    }

    @Test
    void theSlotsOfANodeWhoseSessionEndsAreFree() throws Exception {
        String url = PostgresCluster.createDatabase("postern_slots_dead");
        ClusterSlots dead = node(url);
        ClusterSlots alive = node(url);
        try {
            assertNotNull(dead.acquire("smtp", "example.com", 1, NO_WAIT));
            assertNull(alive.acquire("smtp", "example.com", 1, NO_WAIT));
            // the node dies: PostgreSQL ends its session and, with it, its locks
            Field f = ClusterSlots.class.getDeclaredField("session");
            f.setAccessible(true);
            ((Connection) f.get(dead)).close();
            assertNotNull(alive.acquire("smtp", "example.com", 1, NO_WAIT));
        } finally {
            alive.stop();
        }
    }

    @Test
    void aNodeAloneTakesNoSlot() throws Exception {
        String url = PostgresCluster.createDatabase("postern_slots_alone");
        ClusterSlots a = node(url);
        a.liveNodes(1);
        try {
            assertNotNull(a.acquire("smtp", "example.com", 1, NO_WAIT));
            assertNotNull(a.acquire("smtp", "example.com", 1, NO_WAIT));
            assertEquals(0, advisoryLocks(url));
        } finally {
            a.stop();
        }
    }
}
