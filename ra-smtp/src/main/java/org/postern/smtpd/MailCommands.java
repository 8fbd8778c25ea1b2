package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;
import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.*;

import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.postern.mail.AddressSyntaxException;
import org.postern.mail.MailPath;
import org.postern.mail.DsnParameters;
import org.postern.mail.Xtext;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * MailCommands - the MAIL and RCPT commands of one SMTP session: the envelope.
 *
 * <h2>NAME</h2>
 * MailCommands - Postfix smtpd.c's mail_cmd() and rcpt_cmd(), with the queue space
 * check of smtpd_check_queue() and smtpd_check_size().
 *
 * <h2>DESCRIPTION</h2>
 * MAIL FROM starts a transaction: the sender path and its parameters (BODY, SIZE,
 * SMTPUTF8, AUTH, and the DSN parameters RET and ENVID), the declared size against
 * message_size_limit and the free space of the spool, and smtpd_sender_restrictions
 * when smtpd_delay_reject = no. Each RCPT TO adds a recipient (NOTIFY and ORCPT kept
 * for DSN) once smtpd_recipient_restrictions accept it; the first one assigns the queue
 * id, logged as "QUEUEID: client=name[addr]". The HELO and STARTTLS requirements of
 * MAIL are checks of the command table ({@link SmtpdCommands}).
 *
 * <h2>SECURITY</h2>
 * Addresses and parameters are parsed strictly ({@link MailPath}); an unknown parameter
 * is refused (555). Recipients are bounded by smtpd_recipient_limit (qmail-dos-2); a
 * non-ASCII address needs SMTPUTF8; the AUTH parameter is kept, never trusted.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * message_size_limit, queue_minfree, smtpd_recipient_limit, smtpd_delay_reject,
 * smtpd_sender_restrictions, smtpd_recipient_restrictions, smtpd_sasl_auth_enable.
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321 4.1.1.2 and 4.1.1.3, RFC 1870 (SIZE), RFC 3461 (DSN), RFC 4954 5 (AUTH=),
 * RFC 6531 (SMTPUTF8), Postfix smtpd(8).
 */
final class MailCommands {
    private static final AtomicLong SESSIONS = new AtomicLong(new SecureRandom().nextInt() & 0xFFFFFFL);

    private final SmtpdSession s;
    private final SmtpdSettings settings;
    /** The session's number, for the policy protocol's "instance". */
    private final long sessionNumber = SESSIONS.getAndIncrement();
    /** MAIL commands accepted in this session, for the policy protocol's "instance". */
    private int transactions;
    /** The spool file system's free space (queue_minfree), measured off the event loop by the listener. */
    private SpoolSpace space;

    MailCommands(SmtpdSession session, SmtpdSettings settings) {
        this.s = session;
        this.settings = settings;
    }

    /**
     * mail - MAIL FROM:&lt;sender&gt; [parameters]: starts a transaction. The HELO and
     * STARTTLS requirements are checked before, in the command table.
     */
    boolean mail(String arg) {
        if (s.data.bdatOpen()) {
            return s.error("503 5.5.1 Error: MAIL after BDAT");
        }
        if (s.sender != null) {
            return s.error(NESTED_MAIL);
        }
        MailPath path = path(arg, "FROM:", MAIL_SYNTAX, BAD_SENDER);
        if (path == null) {
            return false;
        }
        Map<String, String> params = new LinkedHashMap<>();
        long declaredSize = -1;
        for (Map.Entry<String, String> p : path.params().entrySet()) {
            String key = p.getKey();
            String value = p.getValue();
            switch (key) {
                case "BODY":
                    if (value == null || !(value.equalsIgnoreCase("7BIT") || value.equalsIgnoreCase("8BITMIME"))) {
                        return unsupported(key, value);
                    }
                    params.put(key, value.toUpperCase(Locale.ROOT));
                    break;
                case "SIZE":
                    if (value == null || !value.chars().allMatch(Character::isDigit)) {
                        return s.error(BAD_SIZE);
                    }
                    if (value.length() > 18) {
                        return s.error(SIZE_IMPOSSIBLE);
                    }
                    declaredSize = Long.parseLong(value);
                    params.put(key, value);
                    break;
                case "SMTPUTF8":
                    if (value != null) {
                        return unsupported(key, value);
                    }
                    params.put(key, "");
                    break;
                case "AUTH":
                    // RFC 4954 5: the original submitter, xtext or <>; kept, never trusted
                    if (!settings.offersAuth(s.tls) || value == null || !(value.equals("<>") || Xtext.isValid(value))) {
                        return unsupported(key, value);
                    }
                    params.put(key, value);
                    break;
                case "RET":
                    if (!DsnParameters.validRet(value)) {
                        return s.error(BAD_RET);
                    }
                    params.put(key, value.toUpperCase(Locale.ROOT));
                    break;
                case "ENVID":
                    String envid = Xtext.decode(value);
                    if (!DsnParameters.validEnvid(envid)) {
                        return s.error(BAD_ENVID);
                    }
                    params.put(key, envid);
                    break;
                default:
                    return unsupported(key, value);
            }
        }
        if (!path.isNull() && !path.address().isAscii() && !params.containsKey("SMTPUTF8")) {
            return s.error(NEED_SMTPUTF8);
        }
        if (settings.limits().messageSizeLimit() > 0 && declaredSize > settings.limits().messageSizeLimit()) {
            return s.error(SIZE_EXCEEDS);
        }
        if (!enoughSpace(declaredSize)) {
            return s.error(NO_STORAGE);
        }
        if (!settings.check().delayReject()) {
            s.checks.checkingSender = path.isNull() ? "" : path.address().toString();
            try {
                s.checks.prefetch(SmtpdCheck.Stage.MAIL, null);
                String reject = settings.check().checkSender(s.checks);
                if (reject != null) {
                    return s.policyError(reject);
                }
            } finally {
                s.checks.checkingSender = null;
            }
        }
        s.sender = path;
        s.mailParams = params;
        s.arrival = s.clock.instant();
        s.instance = Long.toHexString(sessionNumber) + "." + Long.toHexString(s.arrival.getEpochSecond()) + "."
                + (++transactions);
        s.reply(MAIL_OK);
        return true;
    }

    /** freeSpace - use this free-space figure (the listener's, refreshed in the background). */
    void freeSpace(SpoolSpace shared) {
        this.space = shared;
    }

    /**
     * enoughSpace - queue_minfree (Postfix smtpd_check_queue and smtpd_check_size): the
     * spool file system must keep queue_minfree bytes and 1.5 times message_size_limit
     * free, and room for a declared SIZE on top of queue_minfree. The figure is the
     * listener's {@link SpoolSpace}, at most about a second old; no file system call
     * here, on the event loop. Unknown (not measurable): the check passes, as before.
     */
    private boolean enoughSpace(long declaredSize) {
        if (space == null) {
            space = SpoolSpace.direct(settings.content().spoolDirectory()); // no listener (tests): measure now
        }
        long free = space.free();
        if (free == SpoolSpace.UNKNOWN) {
            return true;
        }
        if (free <= settings.limits().queueMinfree() || free / 1.5 <= settings.limits().messageSizeLimit()) {
            s.maillog.warning("warning: not enough free space in mail queue: " + free
                    + " bytes < 1.5*message size limit");
            return false;
        }
        if (declaredSize > 0 && declaredSize > free - settings.limits().queueMinfree()) {
            s.maillog.warning("warning: not enough free space in mail queue: " + free + " bytes; "
                    + s.namaddr() + " declared SIZE=" + declaredSize);
            return false;
        }
        return true;
    }

    /** rcpt - RCPT TO:&lt;recipient&gt; [NOTIFY= ORCPT=]; the first accepted one assigns the queue id. */
    boolean rcpt(String arg) {
        if (s.data.bdatOpen()) {
            return s.error("503 5.5.1 Error: RCPT after BDAT");
        }
        if (s.sender == null) {
            return s.error(NEED_MAIL);
        }
        MailPath path = path(arg, "TO:", RCPT_SYNTAX, BAD_RECIPIENT);
        if (path == null) {
            return false;
        }
        if (path.isNull()) {
            return s.error(BAD_RECIPIENT);
        }
        String notify = null;
        String orcpt = null;
        for (Map.Entry<String, String> p : path.params().entrySet()) {
            String value = p.getValue();
            switch (p.getKey()) {
                case "NOTIFY":
                    if (!DsnParameters.validNotify(value)) {
                        return s.error(BAD_NOTIFY);
                    }
                    notify = value.toUpperCase(Locale.ROOT);
                    break;
                case "ORCPT":
                    if (!DsnParameters.validOrcpt(value)) {
                        return s.error(BAD_ORCPT);
                    }
                    orcpt = value;
                    break;
                default:
                    return unsupported(p.getKey(), value);
            }
        }
        // Bound the recipients per message: qmail-dos-2.
        if (settings.limits().recipientLimit() > 0 && s.recipients.size() >= settings.limits().recipientLimit()) {
            return s.error(TOO_MANY_RCPT);
        }
        if (!path.address().isAscii() && !s.mailParams.containsKey("SMTPUTF8")) {
            return s.error(NEED_SMTPUTF8);
        }
        if (s.discardReason == null) {
            // After DISCARD every recipient is accepted unchecked: the message goes nowhere.
            s.checks.checkingRecipient = path.address().toString();
            try {
                s.checks.prefetch(SmtpdCheck.Stage.RCPT, path.address());
                String reject = settings.check().checkRecipient(s.checks, path.address());
                if (reject != null) {
                    return s.policyError(reject);
                }
            } finally {
                s.checks.checkingRecipient = null;
            }
        }
        if (s.queueId == null) {
            // As Postfix: the queue id exists from the first accepted recipient on, so
            // that rejects before it are logged as NOQUEUE.
            s.queueId = QueueIds.next();
            s.maillog.info(s.queueId + ": client=" + s.namaddr() + (s.auth.username() == null ? ""
                    : ", sasl_method=" + s.auth.method() + ", sasl_username=" + printable(s.auth.username(), 100)));
        }
        s.recipients.add(new Envelope.Recipient(path.address().toString(), orcpt, notify));
        s.reply(RCPT_OK);
        return true;
    }

    /**
     * path - the keyword ("FROM:", "TO:") and the path after it, parsed; null when they
     * do not parse, the error (the syntax reply, or the bad address reply) answered.
     */
    private MailPath path(String arg, String keyword, String syntaxReply, String badAddressReply) {
        if (!arg.regionMatches(true, 0, keyword, 0, keyword.length())) {
            s.error(syntaxReply);
            return null;
        }
        try {
            return MailPath.parse(arg.substring(keyword.length()));
        } catch (AddressSyntaxException e) {
            s.error(e.kind() == AddressSyntaxException.Kind.COMMAND_SYNTAX ? syntaxReply : badAddressReply);
            return null;
        }
    }

    private boolean unsupported(String key, String value) {
        return s.error("555 5.5.4 Unsupported option: " + (value == null ? key : key + "=" + value));
    }
}
