package org.postern.queue.schema;

import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.hibernate.boot.Metadata;
import org.hibernate.boot.spi.BootstrapContext;
import org.hibernate.engine.jdbc.connections.spi.ConnectionProvider;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.engine.config.spi.ConfigurationService;
import org.hibernate.integrator.spi.Integrator;
import org.hibernate.service.ServiceRegistry;
import org.hibernate.service.spi.SessionFactoryServiceRegistry;
import org.hibernate.tool.schema.spi.SchemaManagementToolCoordinator;

/**
 * QueueSchema - puts the queue tables in the shape the entities need, while the
 * persistence unit starts and before anything uses it.
 *
 * <h2>DESCRIPTION</h2>
 * A Hibernate {@link Integrator} (registered in the ejb module's META-INF/services, beside
 * the persistence unit it serves), active in a persistence
 * unit whose property {@value #PROPERTY} is {@value #MIGRATE} (the application's unit
 * "postern"). On PostgreSQL, the production database, the schema is managed by versioned
 * Flyway migrations (db/migration/postgresql/V*__*.sql, see {@link QueueMigrations}):
 * pending migrations are applied, then the mapping is validated against the tables as
 * hibernate.hbm2ddl.auto=validate does, and a mismatch fails the deployment. On any other
 * database (the embedded H2 default) Hibernate updates the schema from the mapping, as
 * hibernate.hbm2ddl.auto=update did before.
 *
 * <p>Why here and not in a {@code @Startup} singleton: WildFly starts the persistence unit,
 * and with it any schema validation, before the first EJB is created, so a singleton
 * would migrate after validation had already failed on a new database. An integrator runs
 * inside the unit's start, with the unit's own connections, before it is used.
 *
 * <h2>SECURITY</h2>
 * Talks only to the unit's own datasource. The migrations are read from this jar, never
 * from the file system.
 *
 * <h2>BUGS</h2>
 * Several nodes starting at once on one PostgreSQL database rely on Flyway's own lock on
 * its history table to apply a migration once.
 */
public class QueueSchema implements Integrator {
    private static final Logger LOG = Logger.getLogger("org.postern.qmgr");
    /** the persistence unit property that switches schema management on */
    public static final String PROPERTY = "postern.schema";
    /** its value: migrate (PostgreSQL) or update (others) at start */
    public static final String MIGRATE = "migrate";

    @Override
    public void integrate(Metadata metadata, BootstrapContext bootstrapContext, SessionFactoryImplementor factory) {
        ServiceRegistry registry = factory.getServiceRegistry();
        Map<String, Object> settings = registry.requireService(ConfigurationService.class).getSettings();
        if (!MIGRATE.equals(settings.get(PROPERTY))) {
            return;
        }
        ConnectionProvider connections = registry.requireService(ConnectionProvider.class);
        String product = productName(connections);
        if (product.toLowerCase(Locale.ROOT).contains("postgresql")) {
            migrate(connections);
            // hibernate.hbm2ddl.auto=validate: the migrated tables must be exactly what the entities map
            schemaAction(metadata, registry, settings, "validate");
            LOG.info("PSTN4701: queue schema on " + product + " migrated and validated");
        } else {
            schemaAction(metadata, registry, settings, "update");
            LOG.info("PSTN4703: queue schema on " + product + " updated from the mapping");
        }
    }

    /** schemaAction - what hibernate.hbm2ddl.auto=action does at start, now. */
    private static void schemaAction(Metadata metadata, ServiceRegistry registry, Map<String, Object> settings,
                                     String action) {
        Map<String, Object> values = new HashMap<>(settings);
        values.keySet().removeIf(k -> k.contains("schema-generation"));
        values.put("hibernate.hbm2ddl.auto", action);
        SchemaManagementToolCoordinator.process(metadata, registry, values, dropAction -> {
            throw new IllegalStateException("PSTN4702: the queue schema is never dropped");
        });
    }

    @Override
    public void disintegrate(SessionFactoryImplementor factory, SessionFactoryServiceRegistry registry) {
        // nothing to undo: the schema stays
    }

    private static void migrate(ConnectionProvider connections) {
        // Flyway is touched only here, so that a unit on H2 starts even without Flyway's jars
        QueueMigrations.migrate(dataSource(connections));
    }

    private static String productName(ConnectionProvider connections) {
        try {
            Connection c = connections.getConnection();
            try {
                DatabaseMetaData md = c.getMetaData();
                return md.getDatabaseProductName();
            } finally {
                connections.closeConnection(c);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("PSTN4705: cannot reach the queue database: " + e.getMessage(), e);
        }
    }

    /**
     * dataSource - the unit's connections as a DataSource for Flyway; a connection that
     * Flyway closes goes back to the provider (the pool), not to the driver.
     */
    private static DataSource dataSource(ConnectionProvider connections) {
        return new DataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                Connection c = connections.getConnection();
                return (Connection) Proxy.newProxyInstance(QueueSchema.class.getClassLoader(),
                        new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                            if (method.getName().equals("close") && method.getParameterCount() == 0) {
                                connections.closeConnection(c);
                                return null;
                            }
                            try {
                                return method.invoke(c, args);
                            } catch (java.lang.reflect.InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
            }

            @Override
            public Connection getConnection(String user, String password) throws SQLException {
                return getConnection();
            }

            @Override
            public PrintWriter getLogWriter() {
                return null;
            }

            @Override
            public void setLogWriter(PrintWriter out) {
            }

            @Override
            public void setLoginTimeout(int seconds) {
            }

            @Override
            public int getLoginTimeout() {
                return 0;
            }

            @Override
            public Logger getParentLogger() throws SQLFeatureNotSupportedException {
                throw new SQLFeatureNotSupportedException();
            }

            @Override
            public <T> T unwrap(Class<T> type) throws SQLException {
                throw new SQLException("not a wrapper");
            }

            @Override
            public boolean isWrapperFor(Class<?> type) {
                return false;
            }
        };
    }
}
