package org.postern.service;

import java.util.Locale;
import java.util.logging.Logger;

/**
 * MailLog - the mail log, one logger per daemon name (postern.maillog.qmgr,
 * postern.maillog.smtp, ...). The WildFly handler configured by configure-logging.cli
 * writes standalone/log/mail.log with Postfix's syslog prefix, so every line here is only
 * the part after "postern/qmgr[pid]: ", exactly as Postfix words it.
 */
public final class MailLog {
    private static final Logger CLEANUP = Logger.getLogger("postern.maillog.cleanup");
    private static final Logger QMGR = Logger.getLogger("postern.maillog.qmgr");
    private static final Logger SMTP = Logger.getLogger("postern.maillog.smtp");
    private static final Logger LMTP = Logger.getLogger("postern.maillog.lmtp");
    private static final Logger POSTSUPER = Logger.getLogger("postern.maillog.postsuper");
    private static final Logger MASTER = Logger.getLogger("postern.maillog.master");

    private MailLog() {
    }

    public static void cleanup(String line) {
        CLEANUP.info(line);
    }

    public static void qmgr(String line) {
        QMGR.info(line);
    }

    /** postsuper - what an administrator did to a message: removed, placed on hold, released from hold, requeued. */
    public static void postsuper(String line) {
        POSTSUPER.info(line);
    }

    /** master - what happened to the whole server: a reload. */
    public static void master(String line) {
        MASTER.info(line);
    }

    /** delivery - a line of the smtp or lmtp delivery agent. */
    public static void delivery(boolean lmtp, String line) {
        (lmtp ? LMTP : SMTP).info(line);
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
