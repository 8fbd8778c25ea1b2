package org.postern.smtpd;

import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;
import org.postern.smtpd.api.SmtpdListener;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * SmtpdChat - the replies of one SMTP session, its transcript and its command statistics.
 *
 * <h2>NAME</h2>
 * SmtpdChat - Postfix smtpd_chat.c: smtpd_chat_reply(), smtpd_chat_query(),
 * smtpd_chat_notify(), and the command counters of the "disconnect from" line.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #reply} queues one reply line on the transport; for a client in debug_peer_list
 * it is logged too ("&gt; name[addr]: text"). When notify_classes is set, every reply and
 * every command line ({@link #query}) is kept as an "Out: " or "In:  " line of the
 * transcript, and the error classes of the session are collected ({@link #errorClass});
 * once the connection is gone {@link #notifyPostmaster} queues the transcript for
 * error_notice_recipient when one of those classes is in notify_classes
 * ({@link SmtpdNotice}). {@link #count} records the outcome of each command, and
 * {@link #formatStats} prints them as Postfix 3.0+ does: " ehlo=1 mail=1 rcpt=0/1
 * commands=2/3".
 *
 * <h2>SECURITY</h2>
 * The transcript is bounded: at most HISTORY_MAX_CHARS characters (then one
 * "(transcript truncated)" line) and, as Postfix's smtpd_history_flush_threshold, it is
 * forgotten at EHLO, RSET and the end of a message once over HISTORY_FLUSH_THRESHOLD
 * lines. AUTH credentials never enter it ({@link #text}); client text is made printable
 * ({@link #printable}) before it is logged.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * notify_classes, error_notice_recipient, double_bounce_sender, debug_peer_list,
 * debug_peer_level, line_length_limit.
 *
 * <h2>SEE ALSO</h2>
 * {@link SmtpdNotice}, Postfix smtpd_chat.c.
 */
final class SmtpdChat {
    /** Postfix's smtpd_history_flush_threshold default: a longer history is forgotten at EHLO, RSET, end of DATA. */
    private static final int HISTORY_FLUSH_THRESHOLD = 100;
    /** Bound of a postmaster notice's transcript, in characters. */
    private static final int HISTORY_MAX_CHARS = 100_000;
    /** Command statistics names, in the command table's order (Postfix's); "unknown" last. */
    private static final List<String> STAT_ORDER = Stream.concat(
            Arrays.stream(SmtpdCommands.values()).map(SmtpdCommands::statName), Stream.of("unknown")).toList();

    private final SmtpdSession session;
    private final SmtpdSettings settings;
    /** The client matches debug_peer_list: log the conversation (Postfix's verbose chat log). */
    private final boolean debugPeer;
    /** "In:  " and "Out: " lines, as Postfix's smtpd_chat history; kept only when notify_classes is set. */
    private final List<String> history = new ArrayList<>();
    private int historyChars;
    private boolean historyTruncated;
    private final Set<String> errorClasses = new HashSet<>();
    private final Map<String, int[]> stats = new LinkedHashMap<>();

    SmtpdChat(SmtpdSession session, SmtpdSettings settings, boolean debugPeer) {
        this.session = session;
        this.settings = settings;
        this.debugPeer = debugPeer;
    }

    /** debugPeer - true when the client matches debug_peer_list. */
    boolean debugPeer() {
        return debugPeer;
    }

    /** reply - send one reply line; logged for clients in debug_peer_list, kept for a notice. */
    void reply(String text) {
        if (debugPeer) {
            session.maillog.info("> " + session.namaddr() + ": " + text);
        }
        keep("Out: " + text);
        session.transport.reply(text);
    }

    /** query - keep one command line of the client ("In:  ") for a notice, as it is shown. */
    void query(String shown) {
        keep("In:  " + shown);
    }

    /**
     * keep - keep one line of the conversation for a postmaster notice. Bounded: at most
     * HISTORY_MAX_CHARS in all (then one "(transcript truncated)" line).
     */
    private void keep(String text) {
        if (settings.notices().notifyClasses().isEmpty() || historyTruncated) {
            return;
        }
        if (historyChars + text.length() > HISTORY_MAX_CHARS) {
            historyTruncated = true;
            history.add("(transcript truncated)");
            return;
        }
        history.add(text);
        historyChars += text.length();
    }

    /** flush - Postfix smtpd_history_flush_threshold: a long history is forgotten. */
    void flush() {
        if (history.size() > HISTORY_FLUSH_THRESHOLD) {
            history.clear();
            historyChars = 0;
            historyTruncated = false;
        }
    }

    /** mark - the length of the transcript now, to {@link #rewind} to. */
    int mark() {
        return history.size();
    }

    /** rewind - forget the lines kept since {@link #mark} (a line that will be processed again). */
    void rewind(int mark) {
        while (history.size() > mark) {
            historyChars -= history.remove(history.size() - 1).length();
        }
    }

    /** text - a command line as the transcript shows it: never the AUTH credentials. */
    String text(String line, boolean saslResponse) {
        if (saslResponse) {
            return "********"; // a SASL response line: user name or password
        }
        if (line.regionMatches(true, 0, "AUTH ", 0, 5)) {
            String[] w = line.trim().split("[ \t]+");
            if (w.length > 2) {
                return w[0] + " " + w[1] + " ********";
            }
        }
        return printable(line, settings.limits().lineLengthLimit());
    }

    /** errorClass - the session had an error of this notify_classes class. */
    void errorClass(String errorClass) {
        errorClasses.add(errorClass);
    }

    /** count - one command and its outcome, for the statistics. */
    void count(String name, boolean success) {
        int[] c = stats.computeIfAbsent(name, k -> new int[2]);
        c[1]++;
        if (success) {
            c[0]++;
        }
    }

    /** formatStats - " ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6" (Postfix 3.0+). */
    String formatStats() {
        StringBuilder b = new StringBuilder();
        int success = 0;
        int total = 0;
        for (String name : STAT_ORDER) {
            int[] c = stats.get(name);
            if (c == null) {
                continue;
            }
            b.append(' ').append(name).append('=').append(c[0]);
            if (c[0] != c[1]) {
                b.append('/').append(c[1]);
            }
            success += c[0];
            total += c[1];
        }
        b.append(" commands=").append(success);
        if (success != total || total == 0) {
            b.append('/').append(total);
        }
        return b.toString();
    }

    /** noticeDue - the session had errors of a class in notify_classes, and there is a transcript. */
    boolean noticeDue() {
        return !history.isEmpty() && errorClasses.stream().anyMatch(settings.notices().notifyClasses()::contains);
    }

    /**
     * notifyPostmaster - Postfix smtpd_chat_notify(): the transcript goes to
     * error_notice_recipient from double_bounce_sender, queued through the listener like
     * any message (on the blocking executor). A notice that cannot be queued is logged
     * and dropped: it is junk mail, never worth a retry.
     */
    void notifyPostmaster(String reason) {
        String id = QueueIds.next();
        Instant now = session.clock.instant();
        byte[] content = SmtpdNotice.content(settings, id, session.namaddr(), List.copyOf(history), reason, now,
                session.clock.getZone());
        Envelope envelope = SmtpdNotice.envelope(settings, id, now, content.length);
        history.clear();
        SmtpdListener listener = session.listener;
        session.transport.runBlocking(() -> {
            try {
                listener.enqueue(envelope, new java.io.ByteArrayInputStream(content));
            } catch (EnqueueException | RuntimeException e) {
                session.maillog.warning("warning: postmaster notify: " + e.getMessage());
            }
        }, () -> { });
    }

    /** printable - at most max characters, non-printables as '?'. */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && i < max; i++) {
            char c = s.charAt(i);
            b.append(c < 32 || c == 127 ? '?' : c);
        }
        return b.toString();
    }
}
