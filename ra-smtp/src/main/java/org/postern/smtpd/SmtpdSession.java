package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.*;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.postern.mail.AddressSyntaxException;
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

    // Session state.
    boolean suspended;
    boolean closed;
    private boolean hangup;
    private String reason;
    String where = AFTER_CONNECT;
    String helo;
    String protocol = "SMTP";
    int errorCount;
    final SmtpdChat chat;
    final SmtpdLineFramer framer;
    final SmtpdContent content;
    final DataCommands data = new DataCommands(this);
    /** Connect-time client reject (smtpd_delay_reject = no): every command but QUIT gets 503. */
    private String accessDenied;
    final SmtpdCheckContext checks = new SmtpdCheckContext(this);
    /** The policy protocol's "instance": one value per message transaction. */
    String instance = "";
    private static final java.util.concurrent.atomic.AtomicLong SESSIONS = new java.util.concurrent.atomic.AtomicLong(
            new java.security.SecureRandom().nextInt() & 0xFFFFFFL);
    private final long sessionNumber = SESSIONS.getAndIncrement();
    private int transactions;
    /** The client has pipelined where it may not, at some time in this session (Postfix SMTPD_FLAG_ILL_PIPELINING). */
    boolean illPipelining;
    /** Junk commands (NOOP, VRFY, ETRN, RSET) since the last message (smtpd_junk_command_limit). */
    int junkCommands;
    /** TLS is active (STARTTLS completed, or wrapper mode). */
    boolean tls;
    /** STARTTLS answered, handshake not yet done: all input is discarded (CVE-2011-0411). */
    boolean tlsPending;

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
    Instant arrival;
    final List<Envelope.Recipient> recipients = new ArrayList<>();
    String holdReason;
    String discardReason;

    /** The spool file system's free space (queue_minfree), measured off the event loop by the listener. */
    private SpoolSpace space;

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
        this.framer = new SmtpdLineFramer(this, settings, bareNewline);
        this.content = new SmtpdContent(this, settings, bareNewline, framer.line());
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
        MAILLOG.info("connect from " + namaddr);
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
        framer.input(data, offset, length);
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
        hardErrorLimit();
    }

    /** hardErrorLimit - smtpd_hard_error_limit reached: 421 and hang up. */
    void hardErrorLimit() {
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
        byte[] pipelined = framer.pipelined();
        if (!illPipelining && pipelined != null && pipelined.length > 0
                && (!protocol.equals("ESMTP") || MUST_BE_LAST.contains(verb))) {
            // RFC 2920 3.1: this command must end a group, or the client was never told
            // that pipelining is allowed (no EHLO). Noted once per session, as Postfix does,
            // for reject_unauth_pipelining; smtpd_forbid_unauth_pipelining ends the session.
            illPipelining = true;
            framer.logImproperPipelining(verb, pipelined);
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
                ok = data.data(arg);
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
                ok = data.bdat(arg);
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
        if (data.bdatOpen()) {
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
        if (data.bdatOpen()) {
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
        framer.discard();
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
            framer.restart();
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
        runBlocking(() -> {
            try {
                outcome[0] = settings.authenticator().authenticate(authzid, username, secret) ? 1 : 0;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "PSTN1009: " + namaddr + ": authenticator failed", e);
                outcome[0] = 2;
            } finally {
                Arrays.fill(secret, '\0');
            }
        }, () -> {
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
        runBlocking(() -> reply[0] = flush(site), () -> {
            boolean started = reply[0].startsWith("250");
            chat.count("etrn", started);
            if (started) {
                reply(reply[0]);
            } else {
                error(reply[0]);
            }
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
                MAILLOG.info(reason + " after DATA (" + content.receivedBytes() + " bytes) from " + namaddr);
            } else {
                MAILLOG.info(reason + " after " + where + " from " + namaddr);
            }
        }
        content.abortData();
        data.abort();
        framer.discard();
        MAILLOG.info("disconnect from " + namaddr + chat.formatStats());
        if (chat.noticeDue()) {
            chat.notifyPostmaster(reason);
        }
    }

    void hangup() {
        hangup = true;
        closed = true;
        content.abortData();
        data.abort();
        transport.close();
    }

    // ---------------------------------------------------------------- helpers

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

    String bareLfReply() {
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
