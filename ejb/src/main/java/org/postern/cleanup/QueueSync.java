package org.postern.cleanup;

import jakarta.annotation.Resource;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * QueueSync - forces the queue database's committed writes to stable storage: the fsync
 * that a 250 waits for (DESIGN: durable means fsync'd).
 *
 * <h2>DESCRIPTION</h2>
 * On H2 (the embedded default) a commit writes the MVStore chunk into the file but does
 * not force it; the file reaches the disk at the next {@code CHECKPOINT SYNC} or close. So
 * {@link #sync} runs {@code CHECKPOINT SYNC}, which writes what is pending and then calls
 * fsync on the database file: every message committed before the call is on disk when it
 * returns. One call covers every transaction committed before it, which is what makes
 * group commit pay ({@link GroupCommit}).
 *
 * <p>On PostgreSQL the commit itself waits for the WAL to be flushed (fdatasync) when
 * {@code synchronous_commit} is on and {@code fsync} is on, as shipped; nothing more is
 * needed, and PostgreSQL groups concurrent commits into one WAL flush by itself. At the
 * first sync both settings are read once; a server where either is off gets a warning
 * (PSTN4104) in the log, since a 250 would then not be durable.
 *
 * <h2>SECURITY</h2>
 * CHECKPOINT SYNC needs H2's admin right: the embedded database is created by the
 * datasource's own user, who has it.
 *
 * <h2>SEE ALSO</h2>
 * GroupCommit, configure-datasource.cli, DESIGN.md "Durable means fsync'd"
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class QueueSync {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");

    /** what the database needs after a commit; null until the first sync finds out */
    private static volatile Kind kind;

    enum Kind {
        /** CHECKPOINT SYNC after the commit */
        H2,
        /** the commit is durable by itself */
        COMMIT_IS_DURABLE
    }

    @Resource(lookup = "java:jboss/datasources/PosternDS")
    private DataSource dataSource;

    /** sync - force every committed write of the queue database to stable storage. */
    public void sync() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            sync(c);
        }
    }

    /** sync - the same on a connection of the queue database (outside any transaction). */
    static void sync(Connection c) throws SQLException {
        Kind k = kind;
        if (k == null) {
            k = kindOf(c);
            kind = k;
        }
        if (k == Kind.H2) {
            try (Statement s = c.createStatement()) {
                s.execute("CHECKPOINT SYNC");
            }
        }
    }

    /* kindOf - H2, or a database whose commit is durable (PostgreSQL checked for its settings) */
    private static Kind kindOf(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("h2")) {
            LOG.info("PSTN4105: queue database H2: every group commit is followed by CHECKPOINT SYNC (fsync)");
            return Kind.H2;
        }
        if (product.contains("postgres")) {
            for (String setting : new String[] {"synchronous_commit", "fsync"}) {
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SHOW " + setting)) {
                    String v = r.next() ? r.getString(1) : "?";
                    if (v.equalsIgnoreCase("off")) {
                        LOG.warning("PSTN4104: PostgreSQL has " + setting + " = " + v
                                + ": a message acknowledged with 250 may be lost in a crash of the database host");
                    }
                }
            }
        }
        return Kind.COMMIT_IS_DURABLE;
    }
}
