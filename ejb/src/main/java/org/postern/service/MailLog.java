package org.postern.service;

import java.util.Locale;
import org.postern.config.Config;
import org.postern.config.Parameters;
import org.postern.maillog.MailLogger;

/**
 * MailLog - the mail log of the daemons of this module: cleanup, qmgr, bounce, postsuper,
 * master, jms (the JMS submission queue), and the lines of the smtp and lmtp delivery agents. The WildFly handler configured
 * by configure-logging.cli writes standalone/log/mail.log with Postfix's syslog prefix, so
 * every line here is only the part after "postern/qmgr[pid]: ", exactly as Postfix words it.
 *
 * <p>The prefix is syslog_name/daemon ({@link MailLogger}). cleanup, qmgr, bounce, postsuper
 * and master use main.cf's syslog_name, the value of the configuration in force
 * ({@link #syslogName(Config)}, set by {@link ConfigService} at each load and reload); the
 * delivery agents use their service's own configuration, main.cf with the {@code -o}
 * overrides of its master.cf line ({@link #delivery}).
 */
public final class MailLog {
    /** main.cf's syslog_name, of the configuration in force */
    private static volatile String syslogName = MailLogger.DEFAULT_SYSLOG_NAME;

    private MailLog() {
    }

    /** syslogName - main.cf's syslog_name is now the one of this configuration. */
    static void syslogName(Config main) {
        syslogName = main.get(Parameters.SYSLOG_NAME);
    }

    public static void cleanup(String line) {
        MailLogger.of("cleanup", syslogName).info(line);
    }

    public static void qmgr(String line) {
        MailLogger.of("qmgr", syslogName).info(line);
    }

    /**
     * jms - a line of the JMS submission queue's endpoint (SubmitEndpoint), Postern's
     * pickup(8): "QUEUEID: client=jms[postern.submit], jms_message_id=...", a reject.
     */
    public static void jms(String line) {
        MailLogger.of("jms", syslogName).info(line);
    }

    /** bounce - a line of the bounce daemon: a notification sent. */
    public static void bounce(String line) {
        MailLogger.of("bounce", syslogName).info(line);
    }

    /** bounceWarning - a warning of the bounce daemon; the text begins "warning: ". */
    public static void bounceWarning(String line) {
        MailLogger.of("bounce", syslogName).warning(line);
    }

    /** postsuper - what an administrator did to a message: removed, placed on hold, released from hold, requeued. */
    public static void postsuper(String line) {
        MailLogger.of("postsuper", syslogName).info(line);
    }

    /** master - what happened to the whole server: a reload. */
    public static void master(String line) {
        MailLogger.of("master", syslogName).info(line);
    }

    /**
     * delivery - a line of the smtp or lmtp delivery agent, under the syslog_name of the
     * delivery service's configuration (main.cf with its master.cf line's -o overrides).
     */
    public static void delivery(Config service, boolean lmtp, String line) {
        MailLogger.of(lmtp ? "lmtp" : "smtp", service.get(Parameters.SYSLOG_NAME)).info(line);
    }

    /**
     * seconds - a delay as Postfix prints it in delay= and delays=: two decimals below 0.1s
     * precision is not useful, so: 0 for nothing, two decimals under 1, one under 10,
     * whole seconds above.
     */
    public static String seconds(double s) {
        if (s <= 0.0) {
            return "0";
        }
        if (s < 1.0) {
            return String.format(Locale.ROOT, "%.2f", s);
        }
        if (s < 10.0) {
            return String.format(Locale.ROOT, "%.1f", s);
        }
        return String.format(Locale.ROOT, "%.0f", s);
    }
}
