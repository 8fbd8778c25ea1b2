package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.postern.mail.AddressSyntaxException;
import org.postern.mail.MailAddress;
import org.postern.mail.MailPath;
import org.postern.mail.Xtext;
import org.postern.smtpd.SmtpdSettings.BareNewline;
import org.postern.smtpd.policy.SmtpdCheck;

/**
 * SmtpdSession - the SMTP server protocol engine for one client connection.
 *
 * <h2>NAME</h2>
 * SmtpdSession - Postfix smtpd(8) conversation, independent of the network layer.
 *
 * <h2>DESCRIPTION</h2>
 * The transport feeds raw bytes with {@link #input}; the session frames lines within
 * line_length_limit, answers commands through {@link SmtpdTransport#reply}, streams
 * DATA content into a {@link SmtpdSpool} (a Received: header first, then the
 * dot-unstuffed lines with CRLF endings; BDAT chunks, RFC 3030, the same way without dot
 * handling): in memory up to smtpd_spool_memory_limit, past it in a spool file. After
 * the final dot it hands envelope and content (a ByteArrayInputStream, or the file) to
 * the {@link SmtpdListener} on the blocking executor via {@link SmtpdTransport#runBlocking};
 * the content is dropped (the file removed) in every case. For a client in
 * local_header_rewrite_clients (or with always_add_missing_headers = yes) the missing
 * Message-Id:, Date: and From: headers are written at the end of the primary header
 * section, as Postfix's cleanup does. Input that arrives
 * meanwhile (pipelined commands) is held and processed afterwards, in order. Replies
 * and their texts are Postfix's. The transport calls {@link #start} once connected
 * (or {@link #refuse} over a connection limit), {@link #tlsStarted} when a TLS
 * handshake is done, {@link #timeout} when the client was idle for smtpd_timeout, and
 * {@link #ended} once the connection is gone.
 *
 * <p>Access policy: the smtpd_*_restrictions of
 * {@link org.postern.smtpd.policy.SmtpdCheck}. With smtpd_delay_reject = yes (default)
 * the client, HELO and sender restrictions are evaluated at RCPT TO; with "no" at
 * connect (a reject replaces the greeting and every later command but QUIT gets 503),
 * HELO and MAIL FROM. When a restriction needs DNS the command waits, without
 * blocking, for the answers ({@link SmtpdTransport#await}) and is then processed.
 * HOLD and DISCARD actions go into the envelope's mail parameters. Commands sent ahead
 * of time where RFC 2920 forbids it (before the greeting, after a command that must end
 * a group, or without EHLO) are logged once ("improper command pipelining after ...")
 * and remembered for reject_unauth_pipelining; smtpd_forbid_unauth_pipelining = yes
 * ends the session instead (not for talk before the greeting).
 *
 * <p>Notices: the conversation is kept (In:/Out: lines, AUTH credentials masked, bounded)
 * and, when the session had errors of a class in notify_classes (policy: a restriction
 * rejected or deferred; protocol: syntax, sequence, unknown commands; resource: storage
 * and queue file errors; software: the listener or flush service failed), a transcript
 * goes to error_notice_recipient once the connection is gone, see {@link SmtpdNotice}.
 *
 * <h2>SECURITY</h2>
 * Talks to untrusted SMTP clients. Every input is bounded: line length
 * (line_length_limit; longer commands are skipped and answered, longer content lines
 * are kept as continuation pieces, never buffered whole), message size
 * (message_size_limit; excess content is read and discarded), recipients
 * (smtpd_recipient_limit: qmail-dos-2), errors (smtpd_soft_error_limit with
 * smtpd_error_sleep_time, the tarpit, scheduled and never slept on the event loop;
 * smtpd_hard_error_limit), junk commands (smtpd_junk_command_limit), hops
 * (hopcount_limit: mail loops), spool space (queue_minfree). Bare &lt;LF&gt; handling
 * follows smtpd_forbid_bare_newline against SMTP smuggling (CVE-2023-51764). After
 * STARTTLS every plaintext octet the client sent after the command is discarded and
 * the session starts over (CVE-2011-0411). AUTH credentials are never logged. Non-SMTP
 * commands that look like HTTP or header lines end the session as in Postfix.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * See {@link SmtpdSettings}: myhostname, smtpd_banner, mail_name, message_size_limit,
 * line_length_limit, smtpd_timeout, smtpd_recipient_limit, smtpd_hard_error_limit,
 * smtpd_soft_error_limit, smtpd_error_sleep_time, smtpd_junk_command_limit,
 * hopcount_limit, queue_minfree, smtpd_helo_required, disable_vrfy_command,
 * smtpd_forbid_bare_newline, smtpd_forbid_bare_newline_exclusions,
 * smtpd_forbid_bare_newline_reject_code, smtpd_tls_security_level,
 * smtpd_sasl_auth_enable, smtpd_tls_auth_only, debug_peer_list, debug_peer_level,
 * smtpd_peername_lookup, always_bcc, always_add_missing_headers,
 * local_header_rewrite_clients, notify_classes, error_notice_recipient,
 * double_bounce_sender, smtpd_spool_memory_limit (Postern), and
 * the policy parameters of {@link org.postern.smtpd.policy.PolicySettings}.
 *
 * <h2>BUGS</h2>
 * The peer name lookup gives up after 10 seconds (the client is then "unknown"); the
 * hosts file is read when the configuration is loaded. AUTH needs an {@link SmtpdAuthenticator}: the adapter
 * provides one for smtpd_sasl_type = dovecot only (no WildFly Elytron binding yet). A bare &lt;LF&gt; inside a BDAT chunk is taken
 * as a line end. A message over hopcount_limit is rejected after the final dot
 * (554 5.4.0); Postfix's cleanup would bounce it instead. A message past
 * smtpd_spool_memory_limit is written to its spool file on the calling thread (the event
 * loop; buffered, not synced). The memory limit is per message: there is no bound on the
 * memory of all sessions together but the number of connections. Resent- headers do not make the added
 * headers Resent-Message-Id: etc. as in Postfix; a From: for the null sender is
 * MAILER-DAEMON@myhostname (Postfix: @myorigin).
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321, RFC 1870 (SIZE), RFC 2920 (PIPELINING), RFC 3030 (CHUNKING), RFC 3207
 * (STARTTLS), RFC 3461 (DSN parameters), RFC 4954 (AUTH), RFC 6531 (SMTPUTF8), Postfix
 * smtpd(8) and postconf(5).
 */
public final class SmtpdSession {
    static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    static final Logger MAILLOG = Logger.getLogger("postern.maillog.smtpd");
    /** The flush service's failure reply, also {@link SmtpdListener#etrn}'s default. */
    static final String ETRN_FAILED = SmtpdReplies.ETRN_FAILED;

    /** Conversation stages for "... after X from ..." (Postfix smtpd.h). */
    static final String AFTER_CONNECT = "CONNECT";
    static final String AFTER_DATA = "DATA content";
    static final String AFTER_EOM = "END-OF-MESSAGE";
    private static final String UNKNOWN = "UNKNOWN";
    /** The time stamp of an added Message-Id: (Postfix: %Y%m%d%H%M%S in UTC). */
    private static final java.time.format.DateTimeFormatter MESSAGE_ID_TIME =
            java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(java.time.ZoneOffset.UTC);

    /** Commands that must end a pipelined group (RFC 2920 3.1, RFC 3207, RFC 4954). */
    private static final java.util.Set<String> MUST_BE_LAST = java.util.Set.of("HELO", "EHLO", "STARTTLS", "AUTH",
            "DATA", "NOOP", "VRFY", "ETRN", "QUIT");

    private final SmtpdSettings settings;
    private final SmtpdListener listener;
    private final SmtpdTransport transport;
    private final Clock clock;
    /** The client's verified name (smtpd_peername_lookup), or "unknown". */
    private String clientName;
    private final String clientAddress;
    private final int clientPort;
    private String namaddr;
    private final BareNewline bareNewline;

    // Line framing.
    private final byte[] line;
    private int lineLength;
    private boolean skippingLongCommand;
    private final Deque<byte[]> held = new ArrayDeque<>();

    // Session state.
    private boolean suspended;
    private boolean closed;
    private boolean hangup;
    private String reason;
    String where = AFTER_CONNECT;
    String helo;
    String protocol = "SMTP";
    private int errorCount;
    private final SmtpdChat chat;
    /** Connect-time client reject (smtpd_delay_reject = no): every command but QUIT gets 503. */
    private String accessDenied;
    private final SmtpdCheckContext checks = new SmtpdCheckContext(this);
    /** The policy protocol's "instance": one value per message transaction. */
    String instance = "";
    private static final java.util.concurrent.atomic.AtomicLong SESSIONS = new java.util.concurrent.atomic.AtomicLong(
            new java.security.SecureRandom().nextInt() & 0xFFFFFFL);
    private final long sessionNumber = SESSIONS.getAndIncrement();
    private int transactions;
    /** Input that followed the current command line in the same read, or null. */
    private byte[] pipelined;
    /** The client has pipelined where it may not, at some time in this session (Postfix SMTPD_FLAG_ILL_PIPELINING). */
    boolean illPipelining;
    /** Junk commands (NOOP, VRFY, ETRN, RSET) since the last message (smtpd_junk_command_limit). */
    private int junkCommands;
    /** A command line held back by the tarpit, processed first when the delay is over. */
    private byte[] tarpitLine;
    private boolean tarpitDone;
    /** TLS is active (STARTTLS completed, or wrapper mode). */
    private boolean tls;
    /** STARTTLS answered, handshake not yet done: all input is discarded (CVE-2011-0411). */
    private boolean tlsPending;

    // SASL (RFC 4954).
    private enum AuthStage { NONE, PLAIN, LOGIN_USER, LOGIN_PASS }
    private AuthStage authStage = AuthStage.NONE;
    private String loginUser;
    String saslUsername;
    String saslMethod;

    // Transaction state (MAIL .. end of DATA).
    String queueId;
    MailPath sender;
    Map<String, String> mailParams;
    private Instant arrival;
    final List<Envelope.Recipient> recipients = new ArrayList<>();
    String holdReason;
    String discardReason;

    // DATA state.
    private boolean inData;
    /** The spool file system's free space (queue_minfree), measured off the event loop by the listener. */
    private SpoolSpace space;
    /** The content of the message being received: memory, then a file past smtpd_spool_memory_limit. */
    private SmtpdSpool spool;
    long storedBytes;
    private long contentBytes;
    private long receivedBytes;
    private boolean tooBig;
    private boolean writeFailed;
    private boolean bareLfInData;
    private boolean previousPartial;
    private boolean previousBareLf;
    private boolean firstLine;
    private boolean inHeaders;
    private int hopCount;
    /** Complete the header section (local_header_rewrite_clients, always_add_missing_headers). */
    private boolean addHeaders;
    private boolean seenMessageId;
    private boolean seenDate;
    private boolean seenFrom;

    // BDAT state (RFC 3030): the spool is open between chunks while commands are read.
    private boolean bdatOpen;
    private long bdatRemaining;
    private boolean bdatLast;
    private boolean bdatDiscard;
    /** A chunk of the current message failed: later chunks are discarded (551 5.0.0). */
    private boolean bdatFailed;
    private long bdatChunkSize;
    /** "data" or "bdat": the command whose statistics the message counts under. */
    private String messageVerb = "data";

    /**
     * @param clientName    client host name as logged, "unknown" when not resolved
     * @param clientAddress client IP address, textual
     */
    public SmtpdSession(SmtpdSettings settings, SmtpdListener listener, SmtpdTransport transport,
                        String clientName, String clientAddress, int clientPort, Clock clock) {
        this.settings = settings;
        this.listener = listener;
        this.transport = transport;
        this.clock = clock;
        this.clientName = clientName;
        this.clientAddress = clientAddress;
        this.clientPort = clientPort;
        this.namaddr = clientName + "[" + clientAddress + "]";
        this.bareNewline = settings.bareNewlineExclusions().test(clientAddress) ? BareNewline.NO
                : settings.bareNewline();
        this.line = new byte[settings.lineLengthLimit()];
        this.chat = new SmtpdChat(this, settings,
                settings.debugPeerLevel() > 0 && settings.debugPeers().test(clientAddress));
    }

    /** reply - send one reply line (see {@link SmtpdChat#reply}). */
    void reply(String text) {
        chat.reply(text);
    }

    /** start - log the connection and send the greeting. */
    public void start() {
        if (settings.peernameLookup()) {
            // Postfix's peer name lookup, without blocking: the greeting waits for DNS.
            CompletableFuture<String> name = settings.check().clientName(checks);
            if (!name.isDone()) {
                suspended = true;
                transport.await(name, () -> {
                    suspended = false;
                    if (!closed) {
                        named(name.join());
                        replayHeld();
                    }
                });
                return;
            }
            named(name.join());
            return;
        }
        connected();
    }

    /** named - the peer name is known: use it from now on. */
    private void named(String name) {
        clientName = name;
        namaddr = name + "[" + clientAddress + "]";
        connected();
    }

    /** connected - log the connection; the client restrictions when not delayed; greet. */
    private void connected() {
        MAILLOG.info("connect from " + namaddr);
        if (!settings.check().delayReject()) {
            CompletableFuture<Void> f = settings.check().prefetch(checks, SmtpdCheck.Stage.CONNECT, null);
            if (f != null && !f.isDone()) {
                suspended = true;
                transport.await(f, () -> {
                    suspended = false;
                    if (!closed) {
                        greet();
                        replayHeld();
                    }
                });
                return;
            }
        }
        greet();
    }

    /** greet - the client restrictions when not delayed, then the greeting (or the reject). */
    private void greet() {
        if (!illPipelining && !held.isEmpty()) {
            // the client spoke before the greeting (for reject_unauth_pipelining)
            illPipelining = true;
            MAILLOG.info("improper command pipelining after " + AFTER_CONNECT + " from " + namaddr + ": "
                    + printable(new String(held.peekFirst(), StandardCharsets.UTF_8), 100));
        }
        if (!settings.check().delayReject()) {
            // RFC 5321 3.1: a 554 instead of the greeting, then 503 to everything but QUIT.
            try {
                accessDenied = settings.check().checkClient(checks);
            } catch (SmtpdCheck.PolicyPending pending) {
                suspended = true;
                transport.await(pending.future(), () -> {
                    suspended = false;
                    if (!closed) {
                        greet();
                        replayHeld();
                    }
                });
                return;
            }
        }
        if (accessDenied != null) {
            reply(accessDenied);
            chat.errorClass("policy");
            errorCount++;
        } else {
            reply("220 " + settings.banner());
        }
        transport.flush();
    }

    /**
     * refuse - instead of {@link #start}: the connection is over a per-client limit; log
     * the warning, send the 421 reply and hang up.
     */
    public void refuse(String warning, String reply) {
        MAILLOG.info("connect from " + namaddr);
        MAILLOG.warning("warning: " + warning);
        reply(reply);
        hangup();
    }

    /** isSuspended - true while the listener is storing a message (reading is paused). */
    public boolean isSuspended() {
        return suspended;
    }

    /** isClosed - true once the session has decided to end the connection. */
    public boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- input framing

    /** input - process bytes received from the client (any chunking). */
    public void input(byte[] data, int offset, int length) {
        if (closed || tlsPending) {
            // After STARTTLS nothing that came in plaintext may be acted on (CVE-2011-0411).
            return;
        }
        if (suspended) {
            held.addLast(Arrays.copyOfRange(data, offset, offset + length));
            return;
        }
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            if (closed || tlsPending) {
                return; // the rest of the plaintext after STARTTLS is dropped unread
            }
            if (suspended) {
                // End of DATA started an enqueue: keep the rest, ahead of later input.
                held.addFirst(Arrays.copyOfRange(data, i, end));
                return;
            }
            byte c = data[i];
            if (bdatRemaining > 0) {
                chunkByte(c);
                continue;
            }
            if (inData) {
                receivedBytes++;
            }
            if (skippingLongCommand) {
                if (c == '\n') {
                    skippingLongCommand = false;
                    commandTooLong();
                }
                continue;
            }
            if (c == '\n') {
                int len = lineLength;
                lineLength = 0;
                // what the client sent after this line without waiting for the reply
                pipelined = i + 1 < end ? Arrays.copyOfRange(data, i + 1, Math.min(end, i + 101))
                        : held.isEmpty() ? null : held.peekFirst();
                completeLine(len);
                pipelined = null;
            } else {
                if (lineLength == line.length) {
                    // line_length_limit reached without LF: a partial line (Postfix smtp_get bound).
                    int len = lineLength;
                    lineLength = 0;
                    partialLine(len);
                    if (skippingLongCommand) {
                        continue; // this byte belongs to the over-long command being skipped
                    }
                }
                line[lineLength++] = c;
            }
        }
    }

    /** completeLine - a line ended by LF: strip CRLF or note the bare LF. */
    private void completeLine(int len) {
        boolean bareLf = false;
        if (bareNewline == BareNewline.NO) {
            while (len > 0 && line[len - 1] == '\r') {
                len--;
            }
        } else if (len > 0 && line[len - 1] == '\r') {
            len--;
        } else {
            bareLf = true;
        }
        int chatMark = chat.mark();
        try {
            if (inData) {
                dataLine(len, true, bareLf);
            } else {
                commandLine(len, bareLf);
            }
        } catch (SmtpdCheckContext.DnsPending | SmtpdCheck.PolicyPending pending) {
            // the line is processed again when the answers are in: keep it in the transcript once
            chat.rewind(chatMark);
            // The restrictions need DNS or policy server answers: hold this line, wait
            // without blocking, then process it again (the answers are kept by then).
            byte[] saved = lineBytes(len, bareLf);
            suspended = true;
            CompletableFuture<Void> future = pending instanceof SmtpdCheckContext.DnsPending d ? d.future
                    : ((SmtpdCheck.PolicyPending) pending).future();
            transport.await(future, () -> {
                suspended = false;
                if (closed) {
                    return;
                }
                tarpitDone = !inData; // a command's tarpit, if any, was served before the first attempt
                input(saved, 0, saved.length);
                replayHeld();
            });
        }
    }

    /** lineBytes - the current line again, with its line end, to be processed later. */
    private byte[] lineBytes(int len, boolean bareLf) {
        byte[] saved = Arrays.copyOf(line, len + (bareLf ? 1 : 2));
        if (bareLf) {
            saved[len] = '\n';
        } else {
            saved[len] = '\r';
            saved[len + 1] = '\n';
        }
        return saved;
    }

    /** partialLine - line_length_limit bytes without LF. */
    private void partialLine(int len) {
        if (inData) {
            dataLine(len, false, false);
        } else {
            // Postfix skips the rest of an over-long command to stay in sync.
            skippingLongCommand = true;
        }
    }

    // ---------------------------------------------------------------- commands

    private void commandLine(int len, boolean bareLf) {
        if (tarpit(len, bareLf)) {
            return;
        }
        if (bareLf && bareNewline == BareNewline.REJECT) {
            checks.log("reject", "bare <LF> received");
            reply(bareLfReply());
            hangup();
            return;
        }
        if (bareLf && bareNewline == BareNewline.NOTE) {
            MAILLOG.info("bare <LF> received from " + namaddr);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(line, 0, len)).toString();
        } catch (CharacterCodingException e) {
            chat.query(printable(new String(line, 0, len, StandardCharsets.ISO_8859_1), settings.lineLengthLimit()));
            chat.count("unknown", false);
            where = UNKNOWN;
            error(BAD_UTF8);
            return;
        }
        chat.query(chat.text(text, authStage != AuthStage.NONE));
        if (chat.debugPeer()) {
            // never the credentials of an AUTH exchange
            boolean secret = authStage != AuthStage.NONE
                    || text.regionMatches(true, 0, "AUTH ", 0, 5) && text.trim().indexOf(' ', 5) > 0;
            MAILLOG.info("< " + namaddr + ": " + (secret ? "AUTH ********" : printable(text, 1000)));
        }
        if (authStage != AuthStage.NONE) {
            authResponse(text);
            hardErrorLimit();
            return;
        }
        SmtpCommand command = SmtpCommand.parse(text);
        if (command.verb().isEmpty()) {
            chat.count("unknown", false);
            where = UNKNOWN;
            error(BAD_SYNTAX);
            return;
        }
        dispatch(command, text);
        if (!closed && errorCount >= settings.hardErrorLimit()) {
            reason = "too many errors";
            reply("421 4.7.0 " + settings.myhostname() + " Error: too many errors");
            hangup();
        }
    }

    /**
     * tarpit - smtpd_error_sleep_time: once the client has made smtpd_soft_error_limit
     * errors, every reply waits (Postfix sleeps before each reply). The command line is
     * held and processed when the delay is over; reading stops meanwhile, so pipelined
     * commands wait their turn. True when the line was held.
     */
    private boolean tarpit(int len, boolean bareLf) {
        if (tarpitDone) {
            tarpitDone = false;
            return false;
        }
        if (errorCount < settings.softErrorLimit() || settings.errorSleepTime().isZero()) {
            return false;
        }
        tarpitLine = lineBytes(len, bareLf);
        suspended = true;
        transport.delay(settings.errorSleepTime(), () -> {
            suspended = false;
            if (closed) {
                return;
            }
            byte[] l = tarpitLine;
            tarpitLine = null;
            tarpitDone = true;
            input(l, 0, l.length);
            replayHeld();
        });
        return true;
    }

    /** hardErrorLimit - smtpd_hard_error_limit reached: 421 and hang up. */
    private void hardErrorLimit() {
        if (!closed && errorCount >= settings.hardErrorLimit()) {
            reason = "too many errors";
            reply("421 4.7.0 " + settings.myhostname() + " Error: too many errors");
            hangup();
        }
    }

    /** dispatch - one place per verb. */
    private void dispatch(SmtpCommand command, String text) {
        String verb = command.verb();
        String arg = command.argument();
        boolean ok;
        if (!illPipelining && pipelined != null && pipelined.length > 0
                && (!protocol.equals("ESMTP") || MUST_BE_LAST.contains(verb))) {
            // RFC 2920 3.1: this command must end a group, or the client was never told
            // that pipelining is allowed (no EHLO). Noted once per session, as Postfix does,
            // for reject_unauth_pipelining; smtpd_forbid_unauth_pipelining ends the session.
            illPipelining = true;
            MAILLOG.info("improper command pipelining after " + verb + " from " + namaddr + ": "
                    + printable(new String(pipelined, StandardCharsets.UTF_8), 100));
            if (settings.forbidUnauthPipelining()) {
                chat.errorClass("protocol");
                where = verb;
                chat.count(verb.toLowerCase(Locale.ROOT), false);
                reply("554 5.5.0 Error: SMTP protocol synchronization");
                hangup();
                return;
            }
        }
        if (accessDenied != null && !verb.equals("QUIT")) {
            where = verb;
            chat.count(isNonSmtp(verb) ? "unknown" : verb.toLowerCase(Locale.ROOT), false);
            error("503 5.7.0 Error: access denied for " + namaddr);
            return;
        }
        switch (verb) {
            case "HELO": where = verb; ok = helo(arg); break;
            case "EHLO": where = verb; ok = ehlo(arg); break;
            case "MAIL": where = verb; ok = mail(arg); break;
            case "RCPT": where = verb; ok = rcpt(arg); break;
            case "DATA":
                where = verb;
                ok = data(arg);
                if (ok) {
                    return; // counted at the end of the message
                }
                break;
            case "RSET": where = verb; ok = rset(arg); break;
            case "NOOP": where = verb; ok = noop(); break;
            case "VRFY": where = verb; ok = vrfy(arg); break;
            case "QUIT": where = verb; ok = quit(); break;
            case "HELP": where = verb; ok = help(); break;
            case "STARTTLS": where = verb; ok = starttls(arg); break;
            case "BDAT":
                where = verb;
                ok = bdat(arg);
                if (ok) {
                    return; // counted with the last chunk
                }
                break;
            case "AUTH":
                where = verb;
                ok = auth(arg);
                if (ok) {
                    return; // counted when the exchange ends
                }
                break;
            case "ETRN":
                where = verb;
                ok = etrn(arg);
                if (ok) {
                    return; // counted when the flush service has answered
                }
                break;
            default:
                where = UNKNOWN;
                if (isNonSmtp(verb)) {
                    chat.errorClass("protocol");
                    chat.count("unknown", false);
                    MAILLOG.warning("warning: non-SMTP command from " + namaddr + ": " + printable(text, 100));
                    reply(BREAK_RULES);
                    hangup();
                    return;
                }
                verb = "UNKNOWN";
                ok = error(NOT_RECOGNIZED);
        }
        chat.count(verb.toLowerCase(Locale.ROOT), ok);
        // smtpd_junk_command_limit: a client that keeps the session busy without mail
        // (NOOP/RSET/VRFY floods) starts to collect errors, and so the tarpit and the
        // hard error limit.
        if ((verb.equals("NOOP") || verb.equals("RSET") || verb.equals("VRFY") || verb.equals("ETRN"))
                && junkCommands++ >= settings.junkCommandLimit()) {
            errorCount++;
        }
    }

    /** helo - HELO hostname: plain SMTP; resets any transaction (RFC 5321 4.1.4). */
    private boolean helo(String arg) {
        if (arg.isEmpty()) {
            return error(HELO_SYNTAX);
        }
        String reject = checkHeloNow(arg);
        if (reject != null) {
            return policyError(reject);
        }
        resetTransaction();
        chat.flush();
        helo = arg;
        protocol = "SMTP";
        reply("250 " + settings.myhostname());
        return true;
    }

    /** checkHeloNow - smtpd_helo_restrictions at HELO time (smtpd_delay_reject = no); the reject or null. */
    private String checkHeloNow(String name) {
        if (settings.check().delayReject()) {
            return null;
        }
        String previous = helo;
        helo = name;
        try {
            checks.prefetch(SmtpdCheck.Stage.HELO, null);
            return settings.check().checkHelo(checks);
        } finally {
            helo = previous;
        }
    }

    /** ehlo - EHLO hostname: the extensions in Postfix's order. */
    private boolean ehlo(String arg) {
        if (arg.isEmpty()) {
            return error(EHLO_SYNTAX);
        }
        String reject = checkHeloNow(arg);
        if (reject != null) {
            return policyError(reject);
        }
        resetTransaction();
        chat.flush();
        helo = arg;
        protocol = "ESMTP";
        List<String> lines = new ArrayList<>();
        lines.add(settings.myhostname());
        lines.add("PIPELINING");
        lines.add(settings.messageSizeLimit() > 0 ? "SIZE " + settings.messageSizeLimit() : "SIZE");
        if (!settings.disableVrfy()) {
            lines.add("VRFY");
        }
        lines.add("ETRN");
        if (settings.offersStartTls() && !tls) {
            lines.add("STARTTLS");
        }
        if (settings.offersAuth(tls)) {
            lines.add("AUTH PLAIN LOGIN");
        }
        lines.add("ENHANCEDSTATUSCODES");
        lines.add("8BITMIME");
        lines.add("DSN");
        lines.add("SMTPUTF8");
        lines.add("CHUNKING");
        for (int i = 0; i < lines.size(); i++) {
            reply("250" + (i == lines.size() - 1 ? " " : "-") + lines.get(i));
        }
        return true;
    }

    /** mail - MAIL FROM:&lt;sender&gt; [parameters]: starts a transaction. */
    private boolean mail(String arg) {
        if (bdatOpen) {
            return error("503 5.5.1 Error: MAIL after BDAT");
        }
        if (settings.heloRequired() && helo == null) {
            return error(NEED_HELO);
        }
        if (settings.tlsLevel() == SmtpdSettings.TlsLevel.ENCRYPT && !tls) {
            return error(NEED_STARTTLS);
        }
        if (sender != null) {
            return error(NESTED_MAIL);
        }
        if (!arg.regionMatches(true, 0, "FROM:", 0, 5)) {
            return error(MAIL_SYNTAX);
        }
        MailPath path;
        try {
            path = MailPath.parse(arg.substring(5));
        } catch (AddressSyntaxException e) {
            return error(e.kind() == AddressSyntaxException.Kind.COMMAND_SYNTAX ? MAIL_SYNTAX : BAD_SENDER);
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
                        return error(BAD_SIZE);
                    }
                    if (value.length() > 18) {
                        return error(SIZE_IMPOSSIBLE);
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
                    if (!settings.offersAuth(tls) || value == null || !(value.equals("<>") || Xtext.isValid(value))) {
                        return unsupported(key, value);
                    }
                    params.put(key, value);
                    break;
                case "RET":
                    if (value == null || !(value.equalsIgnoreCase("FULL") || value.equalsIgnoreCase("HDRS"))) {
                        return error(BAD_RET);
                    }
                    params.put(key, value.toUpperCase(Locale.ROOT));
                    break;
                case "ENVID":
                    String envid = Xtext.decode(value);
                    if (envid == null || envid.isEmpty() || envid.length() > 100
                            || !envid.chars().allMatch(c -> c >= 32 && c < 127)) {
                        return error(BAD_ENVID);
                    }
                    params.put(key, envid);
                    break;
                default:
                    return unsupported(key, value);
            }
        }
        if (!path.isNull() && !path.address().isAscii() && !params.containsKey("SMTPUTF8")) {
            return error(NEED_SMTPUTF8);
        }
        if (settings.messageSizeLimit() > 0 && declaredSize > settings.messageSizeLimit()) {
            return error(SIZE_EXCEEDS);
        }
        if (!enoughSpace(declaredSize)) {
            return error(NO_STORAGE);
        }
        if (!settings.check().delayReject()) {
            checks.checkingSender = path.isNull() ? "" : path.address().toString();
            try {
                checks.prefetch(SmtpdCheck.Stage.MAIL, null);
                String reject = settings.check().checkSender(checks);
                if (reject != null) {
                    return policyError(reject);
                }
            } finally {
                checks.checkingSender = null;
            }
        }
        sender = path;
        mailParams = params;
        arrival = clock.instant();
        instance = Long.toHexString(sessionNumber) + "." + Long.toHexString(arrival.getEpochSecond()) + "."
                + (++transactions);
        reply(MAIL_OK);
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
            space = SpoolSpace.direct(settings.spoolDirectory()); // no listener (tests): measure now
        }
        long free = space.free();
        if (free == SpoolSpace.UNKNOWN) {
            return true;
        }
        if (free <= settings.queueMinfree() || free / 1.5 <= settings.messageSizeLimit()) {
            MAILLOG.warning("warning: not enough free space in mail queue: " + free
                    + " bytes < 1.5*message size limit");
            return false;
        }
        if (declaredSize > 0 && declaredSize > free - settings.queueMinfree()) {
            MAILLOG.warning("warning: not enough free space in mail queue: " + free + " bytes; " + namaddr
                    + " declared SIZE=" + declaredSize);
            return false;
        }
        return true;
    }

    /** rcpt - RCPT TO:&lt;recipient&gt; [NOTIFY= ORCPT=]; the first accepted one assigns the queue id. */
    private boolean rcpt(String arg) {
        if (bdatOpen) {
            return error("503 5.5.1 Error: RCPT after BDAT");
        }
        if (sender == null) {
            return error(NEED_MAIL);
        }
        if (!arg.regionMatches(true, 0, "TO:", 0, 3)) {
            return error(RCPT_SYNTAX);
        }
        MailPath path;
        try {
            path = MailPath.parse(arg.substring(3));
        } catch (AddressSyntaxException e) {
            return error(e.kind() == AddressSyntaxException.Kind.COMMAND_SYNTAX ? RCPT_SYNTAX : BAD_RECIPIENT);
        }
        if (path.isNull()) {
            return error(BAD_RECIPIENT);
        }
        String notify = null;
        String orcpt = null;
        for (Map.Entry<String, String> p : path.params().entrySet()) {
            String value = p.getValue();
            switch (p.getKey()) {
                case "NOTIFY":
                    if (!validNotify(value)) {
                        return error(BAD_NOTIFY);
                    }
                    notify = value.toUpperCase(Locale.ROOT);
                    break;
                case "ORCPT":
                    if (!validOrcpt(value)) {
                        return error(BAD_ORCPT);
                    }
                    orcpt = value;
                    break;
                default:
                    return unsupported(p.getKey(), value);
            }
        }
        // Bound the recipients per message: qmail-dos-2.
        if (settings.recipientLimit() > 0 && recipients.size() >= settings.recipientLimit()) {
            return error(TOO_MANY_RCPT);
        }
        if (!path.address().isAscii() && !mailParams.containsKey("SMTPUTF8")) {
            return error(NEED_SMTPUTF8);
        }
        if (discardReason == null) {
            // After DISCARD every recipient is accepted unchecked: the message goes nowhere.
            checks.checkingRecipient = path.address().toString();
            try {
                checks.prefetch(SmtpdCheck.Stage.RCPT, path.address());
                String reject = settings.check().checkRecipient(checks, path.address());
                if (reject != null) {
                    return policyError(reject);
                }
            } finally {
                checks.checkingRecipient = null;
            }
        }
        if (queueId == null) {
            // As Postfix: the queue id exists from the first accepted recipient on, so
            // that rejects before it are logged as NOQUEUE.
            queueId = QueueIds.next();
            MAILLOG.info(queueId + ": client=" + namaddr + (saslUsername == null ? ""
                    : ", sasl_method=" + saslMethod + ", sasl_username=" + printable(saslUsername, 100)));
        }
        recipients.add(new Envelope.Recipient(path.address().toString(), orcpt, notify));
        reply(RCPT_OK);
        return true;
    }

    /** validNotify - RFC 3461 4.1: NEVER, or a list of SUCCESS, FAILURE, DELAY. */
    static boolean validNotify(String value) {
        if (value == null) {
            return false;
        }
        String[] words = value.toUpperCase(Locale.ROOT).split(",", -1);
        if (words.length == 1 && words[0].equals("NEVER")) {
            return true;
        }
        for (String w : words) {
            if (!(w.equals("SUCCESS") || w.equals("FAILURE") || w.equals("DELAY"))) {
                return false;
            }
        }
        return true;
    }

    /** validOrcpt - RFC 3461 4.2: addr-type ";" xtext (utf-8 type: RFC 6533, decoded leniently). */
    static boolean validOrcpt(String value) {
        if (value == null) {
            return false;
        }
        int semi = value.indexOf(';');
        if (semi <= 0 || semi == value.length() - 1) {
            return false;
        }
        String type = value.substring(0, semi);
        String address = value.substring(semi + 1);
        if (type.equalsIgnoreCase("utf-8")) {
            return address.chars().noneMatch(c -> c < 33 || c == 127);
        }
        return Xtext.isValid(address);
    }

    /** data - DATA: open the spool file, write the Received: header, switch to content. */
    private boolean data(String arg) {
        if (bdatOpen) {
            return error(DATA_AFTER_BDAT);
        }
        if (recipients.isEmpty()) {
            return error(sender == null ? NEED_RCPT : NO_VALID_RCPT);
        }
        if (!arg.isEmpty()) {
            return error(DATA_SYNTAX);
        }
        checks.prefetch(SmtpdCheck.Stage.DATA, null);
        String reject = settings.check().checkData(checks);
        if (reject != null) {
            return policyError(reject);
        }
        if (!openSpool()) {
            return error(WRITE_ERROR);
        }
        messageVerb = "data";
        inData = true;
        where = AFTER_DATA;
        reply(DATA_GO);
        return true;
    }

    /**
     * bdat - BDAT count [LAST] (RFC 3030): the next count octets are message content, as
     * they are (no dot-stuffing, no end marker). A chunk that cannot be accepted is still
     * read and thrown away, so that the session stays in step with the client.
     */
    private boolean bdat(String arg) {
        String[] words = arg.trim().split("[ \t]+");
        if (arg.isBlank() || words.length > 2 || !words[0].matches("[0-9]{1,18}")
                || (words.length == 2 && !words[1].equalsIgnoreCase("LAST"))) {
            // the octets that follow cannot be found: Postfix gives up on the session
            MAILLOG.info((queueId != null ? queueId : "NOQUEUE") + ": malformed BDAT command syntax from " + namaddr
                    + ": " + printable("BDAT " + arg, 100));
            error(BDAT_SYNTAX);
            hangup();
            return false;
        }
        long size = Long.parseLong(words[0]);
        boolean last = words.length == 2;
        String refusal = null;
        boolean policyRefusal = false;
        if (bdatFailed) {
            // an earlier chunk of this message failed: the rest is read and dropped
            refusal = "551 5.0.0 Discarded " + size + " bytes after earlier error";
        } else if (size == 0 && !last) {
            MAILLOG.info((queueId != null ? queueId : "NOQUEUE") + ": null BDAT request from " + namaddr);
            refusal = "551 5.7.1 Null BDAT request";
        } else if (recipients.isEmpty()) {
            refusal = sender == null ? NEED_RCPT : NO_VALID_RCPT;
        } else if (!bdatOpen) {
            checks.prefetch(SmtpdCheck.Stage.DATA, null);
            if (last) {
                checks.prefetch(SmtpdCheck.Stage.END_OF_DATA, null);
            }
            refusal = settings.check().checkData(checks);
            policyRefusal = refusal != null;
            if (refusal == null && !openSpool()) {
                refusal = WRITE_ERROR;
            }
        } else if (last) {
            checks.prefetch(SmtpdCheck.Stage.END_OF_DATA, null);
        }
        // Only now, after any DnsPending: the chunk's octets follow this line.
        bdatChunkSize = size;
        bdatRemaining = size;
        bdatLast = last;
        if (refusal != null) {
            // read and discard the chunk; the message has failed (RFC 3030 2)
            abortBdat();
            bdatFailed = !last && !recipients.isEmpty();
            bdatDiscard = size > 0;
            if (policyRefusal) {
                policyError(refusal);
            } else {
                error(refusal);
            }
            chat.count("bdat", false);
            return true;
        }
        bdatOpen = true;
        bdatDiscard = false;
        messageVerb = "bdat";
        if (size == 0) {
            chunkDone();
        }
        return true;
    }

    /** chunkByte - one octet of a BDAT chunk, framed into content lines. */
    private void chunkByte(byte c) {
        bdatRemaining--;
        if (!bdatDiscard) {
            receivedBytes++;
            if (c == '\n') {
                int len = lineLength;
                lineLength = 0;
                if (len > 0 && line[len - 1] == '\r') {
                    len--;
                }
                contentLine(len, true);
            } else {
                if (lineLength == line.length) {
                    int len = lineLength;
                    lineLength = 0;
                    contentLine(len, false);
                }
                line[lineLength++] = c;
            }
        }
        if (bdatRemaining == 0) {
            if (bdatDiscard) {
                bdatDiscard = false;
                lineLength = 0;
            } else {
                chunkDone();
            }
        }
    }

    /** chunkDone - the end of a chunk: "250 2.0.0 Ok: N bytes", or the message after LAST. */
    private void chunkDone() {
        if (!bdatLast) {
            reply("250 2.0.0 Ok: " + bdatChunkSize + " bytes");
            chat.count("bdat", true);
            return;
        }
        if (lineLength > 0) {
            // the last line of the message without its CRLF
            int len = lineLength;
            lineLength = 0;
            contentLine(len, true);
        }
        bdatOpen = false;
        endOfData(false); // the BDAT LAST command has fetched the DNS answers already
    }


    /** abortBdat - drop a BDAT transaction's spool (RSET, errors, end of session). */
    private void abortBdat() {
        if (bdatOpen) {
            closeSpool();
            deleteSpool();
            bdatOpen = false;
            lineLength = 0;
        }
    }

    /**
     * openSpool - start the content with the Received: header (in memory; a file only with
     * smtpd_spool_memory_limit = 0); reset the content state.
     */
    private boolean openSpool() {
        try {
            spool = new SmtpdSpool(settings.spoolDirectory(), queueId, settings.spoolMemoryLimit());
            byte[] received = ReceivedHeader.format(helo, clientName, clientAddress, settings.myhostname(),
                    settings.mailName(), protocol + (tls ? "S" : "") + (saslUsername != null ? "A" : ""), queueId,
                    recipients.size() == 1 ? recipients.get(0).address() : null,
                    arrival, clock.getZone()).getBytes(StandardCharsets.UTF_8);
            spool.write(received, 0, received.length);
            storedBytes = received.length;
        } catch (IOException e) {
            LOG.log(Level.WARNING, "PSTN1001: cannot create spool file in " + settings.spoolDirectory() + " for "
                    + queueId, e);
            closeSpool();
            deleteSpool();
            return false;
        }
        contentBytes = 0;
        receivedBytes = 0;
        tooBig = false;
        writeFailed = false;
        bareLfInData = false;
        previousPartial = false;
        previousBareLf = false;
        firstLine = true;
        inHeaders = true;
        hopCount = 0;
        addHeaders = settings.alwaysAddMissingHeaders()
                || settings.headerRewriteClients().matches(clientAddress, saslUsername != null);
        seenMessageId = false;
        seenDate = false;
        seenFrom = false;
        return true;
    }

    /**
     * starttls - STARTTLS (RFC 3207): answer 220, then the transport switches to TLS. Any
     * plaintext the client pipelined after the command is discarded, and when the
     * handshake is done ({@link #tlsStarted}) the session starts over: no HELO, no
     * transaction (RFC 3207 4.2; the CVE-2011-0411 command injection).
     */
    private boolean starttls(String arg) {
        if (!arg.isEmpty()) {
            return error(STARTTLS_SYNTAX);
        }
        if (tls) {
            return error(TLS_ACTIVE);
        }
        if (!settings.offersStartTls()) {
            return error(NOT_IMPLEMENTED);
        }
        reply(STARTTLS_GO);
        tlsPending = true;
        held.clear();
        lineLength = 0;
        transport.startTls();
        return true;
    }

    /**
     * tlsStarted - the TLS handshake is done (after STARTTLS, or at once in wrapper mode):
     * forget everything learned in plaintext and log it as Postfix does.
     */
    public void tlsStarted(String tlsProtocol, String cipher) {
        tls = true;
        if (tlsPending) {
            tlsPending = false;
            held.clear();
            lineLength = 0;
            skippingLongCommand = false;
            resetTransaction();
            helo = null;
            protocol = "SMTP";
            saslUsername = null;
            saslMethod = null;
            authStage = AuthStage.NONE;
        }
        int bits = cipherBits(cipher);
        MAILLOG.info("Anonymous TLS connection established from " + namaddr + ": " + tlsProtocol + " with cipher "
                + cipher + (bits > 0 ? " (" + bits + "/" + bits + " bits)" : ""));
    }

    /** namaddr - "name[address]" of the client, as logged. */
    public String namaddr() {
        return namaddr;
    }

    /** clientName - the client's verified name, or "unknown". */
    String clientName() {
        return clientName;
    }

    /** clientAddress - the client's IP address, textual. */
    String clientAddress() {
        return clientAddress;
    }

    /** clientPort - the client's TCP port. */
    int clientPort() {
        return clientPort;
    }

    SmtpdSettings settings() {
        return settings;
    }

    SmtpdTransport transport() {
        return transport;
    }

    SmtpdListener listener() {
        return listener;
    }

    Clock clock() {
        return clock;
    }

    /** cipherBits - the symmetric key size of a JSSE cipher suite name, 0 when unknown. */
    static int cipherBits(String cipher) {
        if (cipher.contains("AES_256") || cipher.contains("CHACHA20")) {
            return 256;
        }
        if (cipher.contains("AES_128")) {
            return 128;
        }
        return 0;
    }

    /** isTls - true once TLS is active. */
    public boolean isTls() {
        return tls;
    }

    /**
     * auth - AUTH PLAIN [initial-response] or AUTH LOGIN [initial-response] (RFC 4954,
     * RFC 4616). Credentials are checked by the {@link SmtpdAuthenticator} on the blocking
     * executor; a failure counts as an error (tarpit, hard limit). True while the
     * exchange goes on or is being checked.
     */
    private boolean auth(String arg) {
        if (!settings.offersAuth(tls)) {
            return error(AUTH_NOT_ENABLED);
        }
        if (settings.heloRequired() && helo == null) {
            return error(NEED_HELO);
        }
        if (sender != null) {
            return error("503 5.5.1 Error: MAIL transaction in progress");
        }
        if (saslUsername != null) {
            return error("503 5.5.1 Error: already authenticated");
        }
        String[] words = arg.trim().split("[ \t]+");
        if (arg.isBlank() || words.length > 2) {
            return error(AUTH_SYNTAX);
        }
        String mechanism = words[0].toUpperCase(Locale.ROOT);
        String initial = words.length == 2 ? words[1] : null;
        if (mechanism.equals("PLAIN")) {
            if (initial == null) {
                authStage = AuthStage.PLAIN;
                reply("334 ");
                return true;
            }
            authStage = AuthStage.PLAIN;
            authResponse(initial.equals("=") ? "" : initial);
            return true;
        }
        if (mechanism.equals("LOGIN")) {
            authStage = AuthStage.LOGIN_USER;
            if (initial == null) {
                reply("334 VXNlcm5hbWU6"); // "Username:"
                return true;
            }
            authResponse(initial.equals("=") ? "" : initial);
            return true;
        }
        return error("535 5.7.8 Error: authentication failed: Invalid authentication mechanism");
    }

    /** authResponse - one client line of the SASL exchange: base64, or "*" to cancel. */
    private void authResponse(String text) {
        AuthStage stage = authStage;
        authStage = AuthStage.NONE;
        if (text.equals("*")) {
            chat.count("auth", false);
            error("501 5.7.0 Authentication aborted");
            return;
        }
        byte[] decoded;
        try {
            decoded = java.util.Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            chat.count("auth", false);
            error("501 5.5.2 Cannot decode response");
            return;
        }
        switch (stage) {
            case LOGIN_USER:
                loginUser = new String(decoded, StandardCharsets.UTF_8);
                authStage = AuthStage.LOGIN_PASS;
                reply("334 UGFzc3dvcmQ6"); // "Password:"
                return;
            case LOGIN_PASS:
                verify("LOGIN", "", loginUser, decoded);
                loginUser = null;
                return;
            default:
                // RFC 4616: [authzid] NUL authcid NUL passwd
                int first = indexOf(decoded, 0);
                int second = first < 0 ? -1 : indexOf(decoded, first + 1);
                if (second < 0 || indexOf(decoded, second + 1) >= 0) {
                    authFailed("PLAIN", null, AUTH_FAILED);
                    return;
                }
                String authzid = new String(decoded, 0, first, StandardCharsets.UTF_8);
                String authcid = new String(decoded, first + 1, second - first - 1, StandardCharsets.UTF_8);
                verify("PLAIN", authzid, authcid, Arrays.copyOfRange(decoded, second + 1, decoded.length));
                Arrays.fill(decoded, (byte) 0);
        }
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    /** verify - ask the authenticator on the blocking executor; reads wait meanwhile. */
    private void verify(String method, String authzid, String username, byte[] password) {
        java.nio.CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(password));
        char[] secret = Arrays.copyOfRange(chars.array(), chars.arrayOffset(), chars.arrayOffset() + chars.limit());
        Arrays.fill(chars.array(), '\0');
        Arrays.fill(password, (byte) 0);
        int[] outcome = new int[1]; // 0 failed, 1 ok, 2 temporary failure
        suspended = true;
        transport.runBlocking(() -> {
            try {
                outcome[0] = settings.authenticator().authenticate(authzid, username, secret) ? 1 : 0;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "PSTN1009: " + namaddr + ": authenticator failed", e);
                outcome[0] = 2;
            } finally {
                Arrays.fill(secret, '\0');
            }
        }, () -> {
            suspended = false;
            if (closed) {
                return;
            }
            if (outcome[0] == 1) {
                saslUsername = username;
                saslMethod = method;
                chat.count("auth", true);
                reply(AUTH_OK);
            } else {
                authFailed(method, username, outcome[0] == 2 ? "454 4.7.0 Temporary authentication failure"
                        : AUTH_FAILED);
                hardErrorLimit();
            }
            replayHeld();
        });
    }

    /** authFailed - log as Postfix does, count the error, reply. */
    private void authFailed(String method, String username, String reply) {
        MAILLOG.warning("warning: " + namaddr + ": SASL " + method + " authentication failed: authentication failure"
                + (username == null ? "" : ", sasl_username=" + printable(username, 100)));
        chat.count("auth", false);
        error(reply);
    }

    /** rset - RSET: abort the transaction. */
    private boolean rset(String arg) {
        if (!arg.isEmpty()) {
            return error(RSET_SYNTAX);
        }
        resetTransaction();
        chat.flush();
        reply(OK);
        return true;
    }

    /** noop - NOOP [string] (RFC 5321 4.1.1.9 allows an argument). */
    private boolean noop() {
        reply(OK);
        return true;
    }

    /** vrfy - VRFY address: without address verification Postfix answers 252 with the argument. */
    private boolean vrfy(String arg) {
        if (settings.disableVrfy()) {
            return error(VRFY_DISABLED);
        }
        if (arg.isEmpty()) {
            return error(VRFY_SYNTAX);
        }
        try {
            MailPath path = MailPath.parse(arg);
            if (path.isNull() || !path.params().isEmpty()) {
                return error(BAD_RECIPIENT);
            }
        } catch (AddressSyntaxException e) {
            return error(BAD_RECIPIENT);
        }
        reply("252 2.0.0 " + arg);
        return true;
    }

    /**
     * etrn - ETRN domain (RFC 1985): smtpd_etrn_restrictions, then the flush service on the
     * blocking executor; reads wait meanwhile. A leading '@' (the domain and its
     * subdomains) or '#' (a queue name) is dropped as Postfix does, and the rest must be
     * a valid host name: it names a destination in the flush index, never a path.
     * Returns true when the reply will come from the flush service.
     */
    private boolean etrn(String arg) {
        if (helo == null) {
            return error(NEED_HELO);
        }
        if (sender != null) {
            return error("503 5.5.1 Error: MAIL transaction in progress");
        }
        String domain = arg.trim();
        if (domain.isEmpty() || domain.contains(" ")) {
            return error(ETRN_SYNTAX);
        }
        if (domain.charAt(0) == '@' || domain.charAt(0) == '#') {
            domain = domain.substring(1);
        }
        if (!validHostname(domain)) {
            return error(ETRN_BAD_DOMAIN);
        }
        checks.prefetch(SmtpdCheck.Stage.ETRN, null);
        String reject = settings.check().checkEtrn(checks, domain);
        if (reject != null) {
            return policyError(reject);
        }
        String site = domain;
        String[] reply = new String[1];
        suspended = true;
        transport.runBlocking(() -> reply[0] = flush(site), () -> {
            suspended = false;
            if (closed) {
                return;
            }
            boolean started = reply[0].startsWith("250");
            chat.count("etrn", started);
            if (started) {
                reply(reply[0]);
            } else {
                error(reply[0]);
            }
            replayHeld();
        });
        return true;
    }

    /** flush - ask the listener's flush service (on the blocking executor): the reply to send. */
    private String flush(String domain) {
        try {
            return listener.etrn(domain) ? ETRN_STARTED : "459 <" + domain + ">: service unavailable";
        } catch (EnqueueException e) {
            LOG.warning("PSTN1011: " + namaddr + ": ETRN " + domain + ": " + e.getMessage());
            return ETRN_FAILED;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "PSTN1012: " + namaddr + ": ETRN " + domain + ": flush service failed", e);
            return ETRN_FAILED;
        }
    }

    /** validHostname - letters, digits, '-' and '.', labels of 1-63, at most 255 (valid_hostname()). */
    static boolean validHostname(String name) {
        if (name.isEmpty() || name.length() > 255 || name.startsWith(".") || name.contains("..")) {
            return false;
        }
        for (String label : name.split("\\.")) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '-') {
                    return false;
                }
            }
        }
        return true;
    }

    /** quit - QUIT: say goodbye and close. */
    private boolean quit() {
        reply(BYE);
        hangup();
        return true;
    }

    /**
     * help - HELP: Postfix before 3.10 answered "500 5.5.2 Error: command not recognized";
     * later versions list the implemented commands, which we do.
     */
    private boolean help() {
        reply(HELP);
        return true;
    }

    private boolean unsupported(String key, String value) {
        return error("555 5.5.4 Unsupported option: " + (value == null ? key : key + "=" + value));
    }

    /** commandTooLong - a command over line_length_limit (skipped to its end). */
    private void commandTooLong() {
        LOG.warning("PSTN1002: " + namaddr + ": request longer than " + settings.lineLengthLimit());
        // Counted as an error (Postfix does not): endless long lines must hit the error limit.
        error("500 5.5.2 " + settings.myhostname() + " Error: command too long");
        if (!closed && errorCount >= settings.hardErrorLimit()) {
            reason = "too many errors";
            reply("421 4.7.0 " + settings.myhostname() + " Error: too many errors");
            hangup();
        }
    }

    /**
     * error - reply with an error and count it towards smtpd_hard_error_limit; the error
     * class for notify_classes follows the reply: resource for storage and queue file
     * errors, policy for the size and recipient limits, software for a failed flush
     * service, protocol for everything else (syntax, sequence, unknown commands).
     */
    private boolean error(String reply) {
        chat.errorClass(reply.equals(NO_STORAGE) || reply.equals(WRITE_ERROR) ? "resource"
                : reply.equals(SIZE_EXCEEDS) || reply.equals(TOO_MANY_RCPT) ? "policy"
                : reply.equals(ETRN_FAILED) ? "software" : "protocol");
        reply(reply);
        errorCount++;
        return false;
    }

    /** policyError - a reject or defer of the access policy (smtpd_*_restrictions): class policy. */
    private boolean policyError(String reply) {
        chat.errorClass("policy");
        reply(reply);
        errorCount++;
        return false;
    }

    // ---------------------------------------------------------------- DATA content

    /** dataLine - one content line (or a piece of a long line when !complete). */
    private void dataLine(int len, boolean complete, boolean bareLf) {
        if (bareLf) {
            if (bareNewline == BareNewline.REJECT) {
                bareLfInData = true;
            } else if (bareNewline == BareNewline.NOTE && !bareLfInData) {
                bareLfInData = true;
                MAILLOG.info(queueId + ": bare <LF> received from " + namaddr);
            }
        }
        int off = 0;
        if (!previousPartial && len > 0 && line[0] == '.') {
            if (len == 1 && complete) {
                // A dot line next to a bare LF is not the end of DATA when the standard
                // CRLF.CRLF is required (SMTP smuggling); Postfix drops it.
                if (bareNewline.wantStandardEndOfData() && (bareLf || previousBareLf)) {
                    previousBareLf = bareLf;
                    return;
                }
                endOfData();
                return;
            }
            off = 1; // dot-unstuffing, RFC 5321 4.5.2
        }
        previousBareLf = bareLf;
        storeLine(off, len, complete);
    }

    /** contentLine - one BDAT content line (or piece): stored as it is. */
    private void contentLine(int len, boolean complete) {
        storeLine(0, len, complete);
    }

    /** storeLine - count hops, then write line[off..len) and CRLF when complete, within the size limit. */
    private void storeLine(int off, int len, boolean complete) {
        if (inHeaders && !previousPartial) {
            countHops(off, len);
        }
        previousPartial = !complete;
        int n = len - off;
        if (firstLine) {
            firstLine = false;
            if (n >= 5 && startsWithFrom(off, len)) {
                write("X-Mailbox-Line: ".getBytes(StandardCharsets.US_ASCII), 0, 16);
            } else if (n > 0 && (line[off] == ' ' || line[off] == '\t')) {
                // A first line that starts with white space would continue our Received: header:
                // it starts the body instead.
                endHeaders();
                write(new byte[] {'\r', '\n'}, 0, 2);
            }
        }
        contentBytes += n + (complete ? 2 : 0);
        if (settings.messageSizeLimit() > 0 && contentBytes > settings.messageSizeLimit()) {
            if (!tooBig) {
                tooBig = true;
                MAILLOG.warning("warning: " + queueId + ": queue file size limit exceeded");
            }
            return;
        }
        write(line, off, n);
        if (complete) {
            write(new byte[] {'\r', '\n'}, 0, 2);
        }
    }

    /**
     * countHops - hopcount_limit: count the client's Received: headers in the primary
     * header section (a mail loop adds one per pass); the section ends at the first empty
     * line or the first line that is neither a header nor a continuation.
     */
    private void countHops(int off, int len) {
        if (len == off) {
            endHeaders();
            return;
        }
        byte c = line[off];
        if (c == ' ' || c == '\t') {
            return; // continuation of the previous header
        }
        int i = off;
        while (i < len && line[i] > 32 && line[i] < 127 && line[i] != ':') {
            i++;
        }
        if (i == off || i == len || line[i] != ':') {
            if (!(firstLine && startsWithFrom(off, len))) {
                endHeaders();
            }
            return;
        }
        String name = new String(line, off, i - off, StandardCharsets.US_ASCII);
        if (name.equalsIgnoreCase("Received")) {
            hopCount++;
        } else if (name.equalsIgnoreCase("Message-Id")) {
            seenMessageId = true;
        } else if (name.equalsIgnoreCase("Date")) {
            seenDate = true;
        } else if (name.equalsIgnoreCase("From")) {
            seenFrom = true;
        }
    }

    /**
     * endHeaders - the primary header section ends here (an empty line, a line that is no
     * header, or the end of the message): for a local client (local_header_rewrite_clients)
     * or with always_add_missing_headers, add what Postfix's cleanup adds when missing, at
     * the end of the header section and in its order: Message-Id: (arrival time in UTC and
     * the queue id), Date: (arrival, local time), From: (the envelope sender).
     */
    private void endHeaders() {
        if (!inHeaders) {
            return;
        }
        inHeaders = false;
        if (!addHeaders) {
            return;
        }
        StringBuilder b = new StringBuilder();
        if (!seenMessageId) {
            b.append("Message-Id: <").append(MESSAGE_ID_TIME.format(arrival)).append('.').append(queueId)
                    .append('@').append(settings.myhostname()).append(">\r\n");
        }
        if (!seenDate) {
            b.append("Date: ").append(ReceivedHeader.mailDate(arrival, clock.getZone())).append("\r\n");
        }
        if (!seenFrom) {
            b.append("From: <").append(sender.isNull() ? "MAILER-DAEMON@" + settings.myhostname()
                    : sender.address().toString()).append(">\r\n");
        }
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        write(bytes, 0, bytes.length);
    }

    /** startsWithFrom - Postfix: a first line "From " (after any '>') is an mbox From_ line. */
    private boolean startsWithFrom(int off, int len) {
        int i = off;
        while (i < len && line[i] == '>') {
            i++;
        }
        return len - i >= 5 && line[i] == 'F' && line[i + 1] == 'r' && line[i + 2] == 'o' && line[i + 3] == 'm'
                && line[i + 4] == ' ';
    }

    private void write(byte[] bytes, int off, int len) {
        if (tooBig || writeFailed || bareLfInData && bareNewline == BareNewline.REJECT) {
            return;
        }
        try {
            spool.write(bytes, off, len);
            storedBytes += len;
        } catch (IOException e) {
            writeFailed = true;
            LOG.log(Level.WARNING, "PSTN1003: write error on spool file " + spool.where() + " for " + queueId, e);
        }
    }

    /** endOfData - the final dot: reject, or hand the message to the listener. */
    private void endOfData() {
        endOfData(true);
    }

    /** endOfData - with prefetch false the DNS answers are known to be there (BDAT LAST). */
    private void endOfData(boolean prefetch) {
        if (prefetch) {
            checks.prefetch(SmtpdCheck.Stage.END_OF_DATA, null);
        }
        String eodReject = null;
        if (!(bareLfInData && bareNewline == BareNewline.REJECT) && !tooBig && hopCount <= settings.hopcountLimit()
                && !writeFailed) {
            // smtpd_end_of_data_restrictions before any change of state: a policy server
            // may have to be asked, and then this is done again when its answer is in
            String previous = where;
            where = AFTER_EOM;
            try {
                eodReject = settings.check().checkEndOfData(checks);
            } catch (SmtpdCheck.PolicyPending pending) {
                where = previous;
                suspended = true;
                transport.await(pending.future(), () -> {
                    suspended = false;
                    if (!closed) {
                        endOfData(false);
                        replayHeld();
                    }
                });
                return;
            }
        }
        inData = false;
        where = AFTER_EOM;
        endHeaders(); // a message that is all headers, or empty
        boolean closedOk = closeSpool();
        if (bareLfInData && bareNewline == BareNewline.REJECT) {
            checks.log("reject", "bare <LF> received");
            finishMessage(bareLfReply(), false, "protocol");
            if (settings.bareNewlineRejectCode() == 521) {
                hangup();
            }
            return;
        }
        if (tooBig) {
            finishMessage(TOO_BIG, false, "bounce");
            return;
        }
        if (hopCount > settings.hopcountLimit()) {
            // a mail loop: Postfix bounces it; here the client gets the bounce as a reply
            checks.log("reject", TOO_MANY_HOPS);
            finishMessage(TOO_MANY_HOPS, false, "bounce");
            return;
        }
        if (writeFailed || !closedOk) {
            finishMessage(WRITE_ERROR, false, "resource");
            return;
        }
        if (eodReject != null) {
            finishMessage(eodReject, false, "policy");
            return;
        }
        Map<String, String> params = new LinkedHashMap<>(mailParams);
        if (holdReason != null) {
            params.put(Envelope.HOLD, holdReason);
        }
        if (discardReason != null) {
            params.put(Envelope.DISCARD, discardReason);
        }
        List<Envelope.Recipient> all = new ArrayList<>(recipients);
        if (!settings.alwaysBcc().isEmpty()
                && all.stream().noneMatch(r -> r.address().equalsIgnoreCase(settings.alwaysBcc()))) {
            // always_bcc: Postfix's cleanup adds it; no delivery notice for the copy
            all.add(new Envelope.Recipient(settings.alwaysBcc(), null, "NEVER"));
        }
        Envelope envelope = new Envelope(queueId, sender.isNull() ? "" : sender.address().toString(),
                Map.copyOf(params), List.copyOf(all), clientName, clientAddress, clientPort, helo,
                protocol, settings.serviceName(), arrival, storedBytes);
        SmtpdSpool content = spool;
        spool = null; // the blocking task owns it now, and deletes it
        String[] result = new String[1];
        suspended = true;
        boolean chunked = messageVerb.equals("bdat");
        long received = receivedBytes;
        transport.runBlocking(() -> result[0] = enqueue(envelope, content, chunked, received), () -> {
            suspended = false;
            if (closed) {
                return; // the client went away meanwhile; the spool is already gone
            }
            String reply = result[0] != null ? result[0] : WRITE_ERROR;
            finishMessage(reply, reply.startsWith("250"), reply.equals(WRITE_ERROR) ? "resource" : "software");
            replayHeld();
        });
    }

    /**
     * enqueue - call the listener (on the blocking executor): the reply to send. The
     * content is a ByteArrayInputStream, or the spool file past smtpd_spool_memory_limit;
     * the spool is deleted in every case.
     */
    private String enqueue(Envelope envelope, SmtpdSpool content, boolean chunked, long received) {
        try (InputStream in = content.content()) {
            String id = listener.enqueue(envelope, in);
            if (!QueueIds.isValid(id)) {
                LOG.warning("PSTN1004: listener returned queue id \"" + printable(String.valueOf(id), 40)
                        + "\" for " + envelope.queueId() + "; replying with the session's id");
                id = envelope.queueId();
            }
            return chunked ? "250 2.0.0 Ok: " + received + " bytes queued as " + id : "250 2.0.0 Ok: queued as " + id;
        } catch (EnqueueException e) {
            LOG.log(Level.WARNING, "PSTN1005: " + envelope.queueId() + ": enqueue refused: " + e.getMessage(), e);
            return validReply(e.reply()) ? e.reply() : WRITE_ERROR;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "PSTN1006: " + envelope.queueId() + ": enqueue failed", e);
            return WRITE_ERROR;
        } finally {
            try {
                content.delete();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "PSTN1007: cannot delete spool file " + content.where(), e);
            }
        }
    }

    private static boolean validReply(String reply) {
        return reply != null && reply.matches("[45][0-9][0-9]( .*)?") && reply.indexOf('\r') < 0
                && reply.indexOf('\n') < 0;
    }

    /** finishMessage - reply after the final dot and end the transaction. */
    private void finishMessage(String reply, boolean success, String errorClass) {
        deleteSpool();
        reply(reply);
        chat.count(messageVerb, success);
        if (success) {
            // Postfix forgives earlier client errors once a message was received.
            errorCount = 0;
            junkCommands = 0;
        } else {
            errorCount++;
            chat.errorClass(errorClass);
        }
        resetTransaction();
        chat.flush();
        if (!closed && errorCount >= settings.hardErrorLimit()) {
            reason = "too many errors";
            reply("421 4.7.0 " + settings.myhostname() + " Error: too many errors");
            hangup();
        }
    }

    /** replayHeld - process input that arrived while the listener was busy. */
    private void replayHeld() {
        while (!held.isEmpty() && !suspended && !closed) {
            byte[] chunk = held.pollFirst();
            input(chunk, 0, chunk.length);
        }
        if (!suspended && !closed) {
            transport.flush();
        }
    }

    // ---------------------------------------------------------------- end of session

    /** timeout - smtpd_timeout passed without input (ignored while the listener works). */
    public void timeout() {
        if (closed || suspended) {
            return;
        }
        reason = "timeout";
        reply("421 4.4.2 " + settings.myhostname() + " Error: timeout exceeded");
        hangup();
    }

    /** ended - the connection is gone: log the reason and the command statistics; clean up. */
    public void ended() {
        if (reason == null && !hangup) {
            reason = "lost connection";
        }
        closed = true;
        if (reason != null && !(where.equals(AFTER_EOM) && reason.equals("lost connection"))) {
            if (where.equals(AFTER_DATA)) {
                MAILLOG.info(reason + " after DATA (" + receivedBytes + " bytes) from " + namaddr);
            } else {
                MAILLOG.info(reason + " after " + where + " from " + namaddr);
            }
        }
        if (inData) {
            closeSpool();
            deleteSpool();
            inData = false;
        }
        abortBdat();
        held.clear();
        MAILLOG.info("disconnect from " + namaddr + chat.formatStats());
        if (chat.noticeDue()) {
            chat.notifyPostmaster(reason);
        }
    }

    private void hangup() {
        hangup = true;
        closed = true;
        if (inData) {
            closeSpool();
            deleteSpool();
            inData = false;
        }
        abortBdat();
        transport.close();
    }

    // ---------------------------------------------------------------- helpers

    private void resetTransaction() {
        abortBdat();
        bdatFailed = false;
        sender = null;
        mailParams = null;
        queueId = null;
        arrival = null;
        recipients.clear();
        holdReason = null;
        discardReason = null;
    }

    /** closeSpool - the content is complete (the file, if any, flushed and closed); false on a write error. */
    private boolean closeSpool() {
        if (spool == null) {
            return true;
        }
        try {
            spool.close();
            return true;
        } catch (IOException e) {
            LOG.log(Level.WARNING, "PSTN1003: write error on spool file " + spool.where() + " for " + queueId, e);
            return false;
        }
    }

    /** deleteSpool - drop the content of the current message (memory and file). */
    private void deleteSpool() {
        if (spool != null) {
            SmtpdSpool s = spool;
            spool = null;
            try {
                s.delete();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "PSTN1007: cannot delete spool file " + s.where(), e);
            }
        }
    }

    private String bareLfReply() {
        return settings.bareNewlineRejectCode() + " 5.5.2 " + settings.myhostname() + " Error: bare <LF> received";
    }

    /** isNonSmtp - HTTP verbs and header lines sent to an SMTP port (Postfix is_header, smtpd_forbid_cmds). */
    private static boolean isNonSmtp(String verb) {
        if (verb.equals("CONNECT") || verb.equals("GET") || verb.equals("POST")) {
            return true;
        }
        return verb.length() > 1 && verb.endsWith(":") && verb.substring(0, verb.length() - 1).chars()
                .allMatch(c -> c > 32 && c < 127 && c != ':');
    }
}
