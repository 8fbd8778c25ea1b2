package org.postern.queue;

import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.EntityTransaction;
import jakarta.persistence.Persistence;
import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * QueueDatabase - the queue tables on a real database, outside the container, for tests.
 *
 * <p>Boots the test persistence unit "postern-test" (src/test/resources/META-INF) on the
 * database given by JDBC properties, and runs a bean's method as the container would: the
 * bean's {@code @PersistenceContext} field {@code em} gets a fresh EntityManager, a
 * transaction begins, the method runs, the transaction commits, or rolls back on any
 * exception, which is rethrown. That is the REQUIRES_NEW of CleanupService and QueueStore;
 * {@link #withoutTransaction} is SUPPORTS called with no transaction.
 *
 * <p>One instance per test class (the schema is created once, create-drop); {@link #empty}
 * between tests. Another database is a constructor call away, e.g. for PostgreSQL
 * (with its JDBC driver as a test dependency):
 * {@code new QueueDatabase(Map.of("jakarta.persistence.jdbc.url", "jdbc:postgresql://localhost/postern_test",
 * "jakarta.persistence.jdbc.user", ..., "jakarta.persistence.jdbc.password", ...))}.
 */
public final class QueueDatabase implements AutoCloseable {
    /** held so that the level is not lost with a collected logger */
    private static final Logger HIBERNATE = Logger.getLogger("org.hibernate");
    private static final String[] TABLES = {"queue_flush", "queue_content", "queue_recipient", "queue_message"};

    static {
        HIBERNATE.setLevel(Level.WARNING);
    }

    private final EntityManagerFactory emf;

    /** QueueDatabase - boot the unit on the database that the jakarta.persistence.jdbc.* properties name. */
    public QueueDatabase(Map<String, String> jdbc) {
        this.emf = Persistence.createEntityManagerFactory("postern-test", new HashMap<>(jdbc));
    }

    /** h2 - a private in-memory H2 database of that name, kept until close. */
    public static QueueDatabase h2(String name) {
        return new QueueDatabase(Map.of(
                "jakarta.persistence.jdbc.driver", "org.h2.Driver",
                "jakarta.persistence.jdbc.url", "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1",
                "jakarta.persistence.jdbc.user", "sa",
                "jakarta.persistence.jdbc.password", ""));
    }

    /** inTransaction - call a bean method in a transaction of its own (REQUIRES_NEW). */
    public <B, R> R inTransaction(B bean, Function<B, R> call) {
        EntityManager em = emf.createEntityManager();
        inject(bean, em);
        EntityTransaction tx = em.getTransaction();
        try {
            tx.begin();
            R result = call.apply(bean);
            tx.commit();
            return result;
        } catch (RuntimeException | Error e) {
            if (tx.isActive()) {
                tx.rollback();
            }
            throw e;
        } finally {
            inject(bean, null);
            em.close();
        }
    }

    /** withoutTransaction - call a SUPPORTS bean method with no transaction around it. */
    public <B, R> R withoutTransaction(B bean, Function<B, R> call) {
        EntityManager em = emf.createEntityManager();
        inject(bean, em);
        try {
            return call.apply(bean);
        } finally {
            inject(bean, null);
            em.close();
        }
    }

    /** transaction - work on the tables directly, in a transaction of its own (set up, read back). */
    public <R> R transaction(Function<EntityManager, R> work) {
        EntityManager em = emf.createEntityManager();
        EntityTransaction tx = em.getTransaction();
        try {
            tx.begin();
            R result = work.apply(em);
            tx.commit();
            return result;
        } catch (RuntimeException | Error e) {
            if (tx.isActive()) {
                tx.rollback();
            }
            throw e;
        } finally {
            em.close();
        }
    }

    /** update - {@link #transaction} without a result. */
    public void update(Consumer<EntityManager> work) {
        transaction(em -> {
            work.accept(em);
            return null;
        });
    }

    /** message - the message row with its recipients loaded, detached; null when there is none. */
    public QueuedMessage message(String queueId) {
        return transaction(em -> {
            QueuedMessage m = em.find(QueuedMessage.class, queueId);
            if (m != null) {
                m.getRecipients().size();
            }
            return m;
        });
    }

    /** rows - how many rows the table has, counted in SQL, past any persistence context. */
    public long rows(String table) {
        return transaction(em -> ((Number) em.createNativeQuery("SELECT COUNT(*) FROM " + table)
                .getSingleResult()).longValue());
    }

    /** rows - how many rows of the table belong to the queue id. */
    public long rows(String table, String queueId) {
        return transaction(em -> ((Number) em.createNativeQuery(
                        "SELECT COUNT(*) FROM " + table + " WHERE queue_id = ?1")
                .setParameter(1, queueId).getSingleResult()).longValue());
    }

    /** totalRows - the rows of all the queue tables together. */
    public long totalRows() {
        long n = 0;
        for (String t : TABLES) {
            n += rows(t);
        }
        return n;
    }

    /** empty - delete every row of the queue tables, children first. */
    public void empty() {
        update(em -> {
            for (String t : TABLES) {
                em.createNativeQuery("DELETE FROM " + t).executeUpdate();
            }
            em.createNativeQuery("DELETE FROM queue_event").executeUpdate();
        });
    }

    @Override
    public void close() {
        emf.close();
    }

    /** inject - set the bean's field em, as the container does for @PersistenceContext. */
    private static void inject(Object bean, EntityManager em) {
        try {
            Field f = bean.getClass().getDeclaredField("em");
            f.setAccessible(true);
            f.set(bean, em);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(bean.getClass().getName() + " has no field em", e);
        }
    }
}
