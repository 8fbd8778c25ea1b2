package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.SmtpdListener;
import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.BAD_SYNTAX;
import static org.postern.smtpd.SmtpdReplies.BAD_UTF8;
import static org.postern.smtpd.SmtpdReplies.NO_STORAGE;
import static org.postern.smtpd.SmtpdReplies.SIZE_EXCEEDS;
import static org.postern.smtpd.SmtpdReplies.TOO_MANY_RCPT;
import static org.postern.smtpd.SmtpdReplies.WRITE_ERROR;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.logging.Logger;
import org.postern.maillog.MailLogger;

import org.postern.mail.MailPath;
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
 * <p>The work is split along Postfix's seams. This class keeps the session's state
 * (SMTPD_STATE: client, HELO name, transaction, error counts), its life cycle (connect,
 * greeting, timeout, end) and the glue: {@link SmtpdLineFramer} cuts the input into
 * lines (smtp_get), {@link SmtpdCommands} is the command table that runs a command
 * through its handler ({@link HeloCommands}, {@link MailCommands}, {@link DataCommands},
 * {@link SessionCommands}, {@link AuthCommand}, {@link StartTlsCommand},
 * {@link EtrnCommand}), {@link SmtpdContent} receives the message,
 * {@link SmtpdChat} sends the replies and keeps the transcript and the statistics
 * (smtpd_chat.c), and {@link SmtpdCheckContext} is the session as the policy engine sees
 * it (smtpd_check.c).
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
 * See {@link SmtpdSettings}: myhostname, smtpd_banner, mail_name, syslog_name (postern: the
 * mail log names the lines postern/smtpd), message_size_limit,
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
    /** The flush service's failure reply, also {@link SmtpdListener#etrn}'s default. */
    static final String ETRN_FAILED = SmtpdReplies.ETRN_FAILED;

    /** Conversation stages for "... after X from ..." (Postfix smtpd.h). */
    static final String AFTER_CONNECT = "CONNECT";
    static final String AFTER_DATA = "DATA content";
    static final String AFTER_EOM = "END-OF-MESSAGE";
    private static final String UNKNOWN = "UNKNOWN";

    /** The service's parameters. */
    final SmtpdSettings settings;
    /** the mail log of this session: syslog_name/smtpd, syslog_name of the session's service */
    final MailLogger maillog;
    /** The smtpd endpoint: enqueue and the flush service. */
    final SmtpdListener listener;
    /** The connection under the session. */
    final SmtpdTransport transport;
    /** The time of arrival and of the headers. */
    final Clock clock;
    /** The client's verified name (smtpd_peername_lookup), or "unknown". */
    String clientName;
    /** The client's IP address, textual, and TCP port. */
    final String clientAddress;
    final int clientPort;
    private String namaddr;

    // Session state.
    boolean suspended;
    boolean closed;
    private boolean hangup;
    private String reason;
    String where = AFTER_CONNECT;
    String helo;
    String protocol = "SMTP";
    int errorCount;
    /** Connect-time client reject (smtpd_delay_reject = no): every command but QUIT gets 503. */
    String accessDenied;
    /** The policy protocol's "instance": one value per message transaction. */
    String instance = "";
    /** The client has pipelined where it may not, at some time in this session (Postfix SMTPD_FLAG_ILL_PIPELINING). */
    boolean illPipelining;
    /** Junk commands (NOOP, VRFY, ETRN, RSET) since the last message (smtpd_junk_command_limit). */
    int junkCommands;
    /** TLS is active (STARTTLS completed, or wrapper mode). */
    boolean tls;
    /** STARTTLS answered, handshake not yet done: all input is discarded (CVE-2011-0411). */
    boolean tlsPending;

    // Transaction state (MAIL .. end of DATA).
    String queueId;
    MailPath sender;
    Map<String, String> mailParams;
    Instant arrival;
    final List<Envelope.Recipient> recipients = new ArrayList<>();
    String holdReason;
    String discardReason;

    // The parts of the session (Postfix: smtpd_chat.c, smtpd_check.c, the command table).
    final SmtpdChat chat;
    final SmtpdCheckContext checks = new SmtpdCheckContext(this);
    final SmtpdLineFramer framer;
    final SmtpdContent content;
    final HeloCommands heloCommands;
    final MailCommands mailCommands;
    final DataCommands data;
    final SessionCommands sessionCommands;
    final AuthCommand auth;
    final StartTlsCommand startTls;
    final EtrnCommand etrn;

    /**
     * @param clientName    client host name as logged, "unknown" when not resolved
     * @param clientAddress client IP address, textual
     */
    public SmtpdSession(SmtpdSettings settings, SmtpdListener listener, SmtpdTransport transport,
                        String clientName, String clientAddress, int clientPort, Clock clock) {
        this.settings = settings;
        this.maillog = MailLogger.of("smtpd", settings.identity().syslogName());
        this.listener = listener;
        this.transport = transport;
        this.clock = clock;
        this.clientName = clientName;
        this.clientAddress = clientAddress;
        this.clientPort = clientPort;
        this.namaddr = clientName + "[" + clientAddress + "]";
        this.chat = new SmtpdChat(this, settings,
                settings.connections().debugPeerLevel() > 0 && settings.connections().debugPeers().test(clientAddress));
        BareNewline bareNewline = settings.protocol().bareNewlineExclusions().test(clientAddress) ? BareNewline.NO
                : settings.protocol().bareNewline();
        this.framer = new SmtpdLineFramer(this, settings, bareNewline);
        this.content = new SmtpdContent(this, settings, bareNewline, framer.line());
        this.heloCommands = new HeloCommands(this, settings);
        this.mailCommands = new MailCommands(this, settings);
        this.data = new DataCommands(this);
        this.sessionCommands = new SessionCommands(this, settings);
        this.auth = new AuthCommand(this, settings);
        this.startTls = new StartTlsCommand(this, settings);
        this.etrn = new EtrnCommand(this, settings);
    }

    /** reply - send one reply line (see {@link SmtpdChat#reply}). */
    void reply(String text) {
        chat.reply(text);
    }

    /** start - log the connection and send the greeting. */
    public void start() {
        if (settings.connections().peernameLookup()) {
            // Postfix's peer name lookup, without blocking: the greeting waits for DNS.
            CompletableFuture<String> name = settings.check().clientName(checks);
            if (!name.isDone()) {
                await(name, () -> named(name.join()));
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
        maillog.info("connect from " + namaddr);
        if (!settings.check().delayReject()) {
            CompletableFuture<Void> f = settings.check().prefetch(checks, SmtpdCheck.Stage.CONNECT, null);
            if (f != null && !f.isDone()) {
                await(f, this::greet);
                return;
            }
        }
        greet();
    }

    /** greet - the client restrictions when not delayed, then the greeting (or the reject). */
    private void greet() {
        if (!illPipelining && framer.firstHeld() != null) {
            // the client spoke before the greeting (for reject_unauth_pipelining)
            illPipelining = true;
            framer.logImproperPipelining(AFTER_CONNECT, framer.firstHeld());
        }
        if (!settings.check().delayReject()) {
            // RFC 5321 3.1: a 554 instead of the greeting, then 503 to everything but QUIT.
            try {
                accessDenied = settings.check().checkClient(checks);
            } catch (SmtpdCheck.PolicyPending pending) {
                await(pending.future(), this::greet);
                return;
            }
        }
        if (accessDenied != null) {
            reply(accessDenied);
            chat.errorClass("policy");
            errorCount++;
        } else {
            reply("220 " + settings.identity().banner());
        }
        transport.flush();
    }

    /**
     * refuse - instead of {@link #start}: the connection is over a per-client limit; log
     * the warning, send the 421 reply and hang up.
     */
    public void refuse(String warning, String reply) {
        maillog.info("connect from " + namaddr);
        maillog.warning("warning: " + warning);
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

    // ---------------------------------------------------------------- input and suspension

    /* smtpd_per_record_deadline: when the record in progress began to arrive (clock millis), or -1 */
    private long recordStart = -1;
    /* the framer's count of records when recordStart was taken */
    private long recordSerial;

    /**
     * input - process bytes received from the client (any chunking). With
     * smtpd_per_record_deadline, a record (command line, content line, BDAT chunk) that has
     * been arriving for longer than smtpd_timeout ends the session as a timeout does: the
     * idle timer only sees the time between two reads, which a client sending a byte now and
     * then never lets run out.
     */
    public void input(byte[] data, int offset, int length) {
        boolean deadline = settings.limits().perRecordDeadline();
        if (deadline && recordStart >= 0 && framer.recordInProgress()
                && clock.millis() - recordStart > settings.limits().timeout().toMillis()) {
            timeout();
            return;
        }
        framer.input(data, offset, length);
        if (deadline) {
            if (!framer.recordInProgress()) {
                recordStart = -1;
            } else if (recordStart < 0 || framer.records() != recordSerial) {
                recordStart = clock.millis();
                recordSerial = framer.records();
            }
        }
    }

    /**
     * await - stop reading until {@code pending} is done (DNS, a policy server), then,
     * unless the session has ended meanwhile, run {@code then} and the input held back.
     */
    void await(CompletionStage<?> pending, Runnable then) {
        suspended = true;
        transport.await(pending, () -> resume(then));
    }

    /** runBlocking - {@code work} on the blocking executor, then as {@link #await}. */
    void runBlocking(Runnable work, Runnable then) {
        suspended = true;
        transport.runBlocking(work, () -> resume(then));
    }

    /** delay - wait {@code delay} (the tarpit), then as {@link #await}. */
    void delay(Duration delay, Runnable then) {
        suspended = true;
        transport.delay(delay, () -> resume(then));
    }

    /** resume - reading goes on: {@code then}, then the held input, unless the session ended. */
    private void resume(Runnable then) {
        suspended = false;
        if (!closed) {
            then.run();
            framer.replayHeld();
        }
    }

    // ---------------------------------------------------------------- commands

    /** commandLine - one command line (line[0..len), without its line end): decode, log, dispatch. */
    void commandLine(byte[] line, int len) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(line, 0, len)).toString();
        } catch (CharacterCodingException e) {
            chat.query(printable(new String(line, 0, len, StandardCharsets.ISO_8859_1), settings.limits().lineLengthLimit()));
            chat.count("unknown", false);
            where = UNKNOWN;
            error(BAD_UTF8);
            return;
        }
        chat.query(chat.text(text, auth.inExchange()));
        if (chat.debugPeer()) {
            // never the credentials of an AUTH exchange
            boolean secret = auth.inExchange()
                    || text.regionMatches(true, 0, "AUTH ", 0, 5) && text.trim().indexOf(' ', 5) > 0;
            maillog.info("< " + namaddr + ": " + (secret ? "AUTH ********" : printable(text, 1000)));
        }
        if (auth.inExchange()) {
            auth.response(text);
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
        SmtpdCommands.dispatch(this, command, text);
        hardErrorLimit();
    }

    /** hardErrorLimit - smtpd_hard_error_limit reached: 421 and hang up. */
    void hardErrorLimit() {
        if (!closed && errorCount >= settings.limits().hardErrorLimit()) {
            reason = "too many errors";
            reply("421 4.7.0 " + settings.identity().myhostname() + " Error: too many errors");
            hangup();
        }
    }

    /** freeSpace - use this free-space figure (the listener's, refreshed in the background). */
    void freeSpace(SpoolSpace shared) {
        mailCommands.freeSpace(shared);
    }

    /**
     * tlsStarted - the TLS handshake is done (after STARTTLS, or at once in wrapper mode):
     * forget everything learned in plaintext and log it as Postfix does.
     */
    public void tlsStarted(String tlsProtocol, String cipher) {
        startTls.started(tlsProtocol, cipher);
    }

    /** namaddr - "name[address]" of the client, as logged. */
    public String namaddr() {
        return namaddr;
    }

    /** isTls - true once TLS is active. */
    public boolean isTls() {
        return tls;
    }

    /**
     * error - reply with an error and count it towards smtpd_hard_error_limit; the error
     * class for notify_classes follows the reply: resource for storage and queue file
     * errors, policy for the size and recipient limits, software for a failed flush
     * service, protocol for everything else (syntax, sequence, unknown commands).
     */
    boolean error(String reply) {
        chat.errorClass(reply.equals(NO_STORAGE) || reply.equals(WRITE_ERROR) ? "resource"
                : reply.equals(SIZE_EXCEEDS) || reply.equals(TOO_MANY_RCPT) ? "policy"
                : reply.equals(ETRN_FAILED) ? "software" : "protocol");
        reply(reply);
        errorCount++;
        return false;
    }

    /** policyError - a reject or defer of the access policy (smtpd_*_restrictions): class policy. */
    boolean policyError(String reply) {
        chat.errorClass("policy");
        reply(reply);
        errorCount++;
        return false;
    }

    // ---------------------------------------------------------------- end of session

    /** timeout - smtpd_timeout passed without input (ignored while the listener works). */
    public void timeout() {
        if (closed || suspended) {
            return;
        }
        reason = "timeout";
        reply("421 4.4.2 " + settings.identity().myhostname() + " Error: timeout exceeded");
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
                maillog.info(reason + " after DATA (" + content.receivedBytes() + " bytes) from " + namaddr);
            } else {
                maillog.info(reason + " after " + where + " from " + namaddr);
            }
        }
        content.abortData();
        data.abort();
        framer.discard();
        maillog.info("disconnect from " + namaddr + chat.formatStats());
        if (chat.noticeDue()) {
            chat.notifyPostmaster(reason);
        }
    }

    /** hangup - the session ends the connection: drop any content, close after the replies. */
    void hangup() {
        hangup = true;
        closed = true;
        content.abortData();
        data.abort();
        transport.close();
    }

    // ---------------------------------------------------------------- helpers

    /** resetTransaction - forget the MAIL transaction (RSET, HELO/EHLO, end of message, STARTTLS). */
    void resetTransaction() {
        data.reset();
        sender = null;
        mailParams = null;
        queueId = null;
        arrival = null;
        recipients.clear();
        holdReason = null;
        discardReason = null;
    }

    /** bareLfReply - the reply to a bare &lt;LF&gt; (smtpd_forbid_bare_newline_reject_code). */
    String bareLfReply() {
        return settings.protocol().bareNewlineRejectCode() + " 5.5.2 " + settings.identity().myhostname() + " Error: bare <LF> received";
    }
}
