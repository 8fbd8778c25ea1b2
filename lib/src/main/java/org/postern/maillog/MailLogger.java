package org.postern.maillog;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * MailLogger - the mail log lines of one program, under its syslog name.
 *
 * <h2>NAME</h2>
 * MailLogger - what one daemon (smtpd, smtp, lmtp, qmgr, cleanup, bounce, postsuper, master)
 * writes to the mail log, prefixed {@code syslog_name/daemon} as Postfix's syslog ident.
 *
 * <h2>DESCRIPTION</h2>
 * Postfix opens syslog with the ident {@code $syslog_name/program} (mail_task(3)): with
 * {@code syslog_name = postfix-out} in main.cf every line reads
 * {@code postfix-out/smtpd[123]: ...}, and a master.cf service with
 * {@code -o syslog_name=postfix/submission} logs {@code postfix/submission/smtpd[123]: ...}
 * while the other services keep main.cf's name.
 *
 * <p>Postern's mail log is java.util.logging, written by a WildFly handler
 * (standalone/log/mail.log). The logger stays one per daemon, {@code postern.maillog.<daemon>},
 * so that levels, handlers and the tests that listen to a daemon do not depend on the name.
 * The ident travels in the record, as its source class name ({@link Logger#logp}), and the
 * handler's pattern prints it whole with {@code %C}:
 * <pre>
 *     %d{MMM dd HH:mm:ss} %h %C[%i]: %s%n
 * </pre>
 * (wildfly-config/src/main/cli/configure-logging.cli, {@link #PATTERN}). JBoss LogManager
 * prints an explicitly set source class as it is, and does not walk the stack to find the
 * caller when one is set.
 *
 * <h2>DECISIONS</h2>
 * <ul>
 * <li>Not the logger name's last segment ({@code %c{1}}): the pattern formatter cuts a
 * category at its dots, so {@code syslog_name = mail.example} would print {@code example/smtpd},
 * and a category per name would hide the lines from a listener of {@code postern.maillog.smtpd}.</li>
 * <li>Not an MDC key ({@code %X{...}}): the MDC belongs to a thread, and one smtpd event-loop
 * thread serves the sessions of several services; every line would have to set and clear it.</li>
 * <li>Not a formatter of Postern's own: it would have to be a WildFly module beside the
 * deployment, to be installed and kept in step with the application.</li>
 * </ul>
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * syslog_name (postern): the first part of the ident; main.cf's value, or a master.cf
 * service's {@code -o syslog_name=...} for that smtpd, smtp or lmtp service.
 *
 * <h2>BUGS</h2>
 * A record logged on a {@code postern.maillog} category with {@link Logger#info} instead of
 * this class has no ident: the pattern prints the calling class in its place.
 */
public final class MailLogger {
    /** the parent category of every mail log logger */
    public static final String CATEGORY = "postern.maillog";
    /** the default of syslog_name */
    public static final String DEFAULT_SYSLOG_NAME = "postern";
    /** the mail log's pattern (JBoss LogManager pattern-formatter syntax) */
    public static final String PATTERN = "%d{MMM dd HH:mm:ss} %h %C[%i]: %s%n";
    /** idents are few (daemons times configured names); past this, loggers are not kept */
    private static final int CACHE_LIMIT = 256;
    private static final Map<String, MailLogger> CACHE = new ConcurrentHashMap<>();

    private final Logger logger;
    private final String ident;

    private MailLogger(Logger logger, String ident) {
        this.logger = logger;
        this.ident = ident;
    }

    /**
     * of - the mail log of a daemon under a syslog name: the ident is
     * {@code syslogName/daemon}, as Postfix's mail_task() makes it (an empty syslog_name
     * gives "/daemon", as in Postfix).
     *
     * @param daemon     the program: smtpd, smtp, lmtp, qmgr, cleanup, bounce, postsuper, master
     * @param syslogName the value of syslog_name for the service
     */
    public static MailLogger of(String daemon, String syslogName) {
        Objects.requireNonNull(daemon, "daemon");
        String ident = (syslogName == null ? DEFAULT_SYSLOG_NAME : syslogName) + "/" + daemon;
        MailLogger m = CACHE.get(ident);
        if (m != null) {
            return m;
        }
        m = new MailLogger(Logger.getLogger(CATEGORY + "." + daemon), ident);
        if (CACHE.size() < CACHE_LIMIT) {
            MailLogger other = CACHE.putIfAbsent(ident, m);
            return other != null ? other : m;
        }
        return m;
    }

    /** info - a line of the mail log (Postfix's msg_info). */
    public void info(String line) {
        logger.logp(Level.INFO, ident, null, line);
    }

    /** warning - a line of the mail log that Postfix logs with msg_warn; the text begins "warning: ". */
    public void warning(String line) {
        logger.logp(Level.WARNING, ident, null, line);
    }

    /** ident - what prefixes the lines: syslog_name/daemon. */
    public String ident() {
        return ident;
    }

    /** logger - the daemon's logger, postern.maillog.&lt;daemon&gt;. */
    public Logger logger() {
        return logger;
    }

    @Override
    public String toString() {
        return ident;
    }
}
