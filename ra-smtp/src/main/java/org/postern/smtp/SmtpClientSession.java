package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.smtp.api.SmtpClientSettings;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.OutboundMessage.OutboundRecipient;
import org.postern.smtp.dns.DnsJavaResolver;
import org.postern.smtp.dns.DnsResolver;
import org.postern.maillog.MailLogger;

/**
 * SmtpClientSession - one SMTP or LMTP client session with a next hop: the protocol of
 * Postfix's smtp(8) and lmtp(8) delivery agents, on the caller's thread, blocking.
 *
 * <h2>DESCRIPTION</h2>
 * The session connects lazily on the first {@link #deliver}: it resolves the next hop
 * (MX or host addresses, or a unix-domain socket), tries each address until one greets
 * with 2xx and accepts EHLO (or HELO after a 5xx to EHLO; LHLO in LMTP mode), then runs
 * one mail transaction per {@link #deliver}: MAIL FROM, RCPT TO for each recipient, DATA,
 * the dot-stuffed content and the final ".". With PIPELINING (RFC 2920) MAIL, the RCPTs
 * and DATA go out in one write. In LMTP mode (RFC 2033) each accepted recipient gets its
 * own reply after the final ".". Without an accepted recipient DATA is not sent.
 * <p>
 * To a server that announces CHUNKING (RFC 3030) the content goes in BDAT chunks instead
 * of DATA, once the RCPT replies are in ({@link #chunks}). Here Postern's client differs
 * from Postfix's: Postfix implements BDAT in smtpd(8) only and its smtp(8)/lmtp(8) always
 * send DATA. BDAT spares the server the scan for the final "." and the client the
 * dot-stuffing, and a message's size is exact; smtp_discard_ehlo_keywords = chunking (or
 * smtp_discard_ehlo_keyword_address_maps for one server; lmtp_discard_lhlo_keywords) sends
 * DATA as Postfix does.
 * <p>
 * After a transaction the session stays open (the connection cache). A transaction that
 * completed (the reply to end of data was read) needs no RSET: the server has reset its
 * state (RFC 5321 section 4.1.1.4), so the next MAIL FROM follows at once, as with Postfix
 * 3.4. A transaction that did not complete (no recipient accepted, MAIL or DATA refused)
 * is ended with RSET before the session goes back into the cache, and a session that fails
 * that RSET (a reply other than 2xx, or smtp_rset_timeout) is retired. A cached session
 * whose server has spoken while it was idle (e.g. "421 timeout") is not reused; one whose
 * server closed it unnoticed fails before the first reply of the next transaction and is
 * replaced by a new connection within the same delivery, once, without deferring anything.
 * A timeout, a lost connection or a 421 retires the session ({@link #isConnected} becomes
 * false); its undecided recipients are deferred with Postfix's texts, e.g. "lost connection
 * with host[addr] while sending end of data -- message may be sent more than once".
 * {@link #close} sends QUIT.
 * <p>
 * Outcomes never throw: every recipient gets SENT (2xx), DEFERRED (4xx, connection and
 * DNS trouble) or BOUNCED (5xx, SIZE exceeded, null MX, NXDOMAIN), with the enhanced
 * status code of the reply or a derived x.0.0.
 *
 * <h2>SECURITY</h2>
 * Talks to SMTP/LMTP servers and DNS servers; trusts neither. Reply lines and multi-line
 * replies are bounded ({@link SmtpStream#REPLY_LINE_LIMIT}, {@link SmtpStream#REPLY_LINES_LIMIT}),
 * every read and write has a time limit, and envelope addresses with CR, LF or NUL are
 * never written (command injection).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * From {@link SmtpClientSettings}: syslog_name (postern: the mail log names the lines
 * postern/smtp or postern/lmtp), smtp_helo_name/lmtp_lhlo_name, smtp_connect_timeout (30s),
 * smtp_helo_timeout (300s, also the greeting), smtp_mail_timeout (300s), smtp_rcpt_timeout
 * (300s), smtp_data_init_timeout (120s), smtp_data_xfer_timeout (180s, per write of content;
 * the final "." leaves in the same write as the end of the content), smtp_data_done_timeout
 * (600s, the wait for the reply to "."; its timeout is logged as a warning: the message may be
 * delivered twice), smtp_rset_timeout (20s), smtp_quit_timeout (300s), smtp_line_length_limit
 * (998). Session: smtp_skip_5xx_greeting (yes), smtp_always_send_ehlo (yes),
 * smtp_never_send_ehlo (no), smtp_skip_quit_response (yes; lmtp_skip_quit_response no),
 * smtp_quote_rfc821_envelope (yes), smtp_discard_ehlo_keywords, smtp_bind_address(6),
 * disable_mime_output_conversion (no; see {@link SmtpMimeDowngrade} for what is converted).
 * Routing: see {@link SmtpTargetResolver}; smtp_mx_session_limit (2) bounds the sessions of
 * one delivery: recipients deferred by one server (4xx, or a connection lost before the
 * final ".") are offered to the next MX host or fallback relay. Cache: a session left idle
 * for longer than smtp_connection_cache_time_limit (2s; in LMTP mode
 * lmtp_connection_cache_time_limit, which defaults to $max_idle, 100s, as lmtp(8) keeps a
 * cached connection "for up to $max_idle seconds") is closed with QUIT by the shared
 * watchdog (one reaper task per idle session, cancelled when the session is used or
 * closed), and is not reused if the watchdog has not got to it yet. No new transaction
 * starts on a session opened longer ago than smtp_connection_reuse_time_limit (300s;
 * lmtp_connection_reuse_time_limit, 300s), nor on one already reused
 * smtp_connection_reuse_count_limit times (0 = no limit; N allows N+1 transactions; the older
 * name smtp_connection_cache_reuse_limit is the same limit; lmtp_connection_reuse_count_limit,
 * 0): such a session is closed with QUIT after its delivery, as is every session when
 * caching is off for the destination. Whether a session is kept at all: always for a
 * destination in smtp_connection_cache_destinations and, in LMTP mode, with
 * lmtp_cache_connection (yes); with smtp_connection_cache_on_demand (yes) only after a request
 * that the queue manager marked as having a backlog ({@link OutboundMessage#backlog}, Postfix's
 * DEL_REQ_FLAG_CONN_STORE): a one-off message does not leave a connection open. A cached
 * session is still reused by a request without a backlog (Postfix's DEL_REQ_FLAG_CONN_LOAD
 * without STORE), which then closes it.
 *
 * TLS: smtp_tls_security_level (none, may, encrypt, dane, dane-only, verify, secure; when
 * empty, the Postfix 2.2 smtp_use_tls, smtp_enforce_tls and smtp_tls_enforce_peername) or the
 * next hop's smtp_tls_policy_maps entry or smtp_tls_per_site actions (by next hop, then by the
 * server's host name here); a level Postern does not implement (fingerprint, a typo) defers the
 * mail with 4.7.0 "client TLS configuration problem". At dane and dane-only each server's
 * DNSSEC-validated TLSA records decide (smtp_dns_support_level = dnssec,
 * smtp_tls_dane_insecure_mx_policy; see {@link SmtpDane}). smtp_tls_CAfile, smtp_tls_CApath,
 * smtp_tls_verify_cert_match, smtp_tls_secure_cert_match, smtp_starttls_timeout, the client
 * keys (smtp_tls_cert_file and relatives), protocols, cipher exclusions, verify depth, session
 * cache; see {@link SmtpTls}. smtp_tls_note_starttls_offer logs "Host offered STARTTLS: [name]"
 * at level none; smtp_tls_loglevel 2 logs the server certificate. At level may a failed
 * handshake is retried once in the clear with the same server; a STARTTLS refusal continues in
 * the clear; plaintext pipelined after the 220 is refused.
 *
 * MTA-STS (RFC 8461, Postern): with smtp_mta_sts_enable = yes, the policy of the recipient
 * domain limits the MX hosts and requires verified TLS (enforce) or is only logged
 * (testing); see {@link SmtpMtaSts}. An explicit smtp_tls_policy_maps entry takes precedence.
 *
 * Generic maps: smtp_generic_maps / lmtp_generic_maps rewrite MAIL FROM, RCPT TO and the
 * primary header's address fields of the copy sent, see {@link SmtpGenericRewriter}.
 *
 * XFORWARD: smtp_send_xforward_command / lmtp_send_xforward_command (no): the original
 * client's attributes before MAIL FROM when the server offers XFORWARD, as Postfix sends
 * them (XFORWARD_README): only those the server lists after its XFORWARD keyword, in two
 * commands, NAME ADDR PORT then PROTO HELO IDENT SOURCE, an unknown value as [UNAVAILABLE],
 * an IPv6 address as IPv6:addr, values xtext-encoded, a command that would pass 512
 * octets split in more; see {@link #xforwardCommands}. With PIPELINING they go out in the
 * group with MAIL. Each
 * command and its reply are limited by smtp_xforward_timeout / lmtp_xforward_timeout
 * (300s); a timeout is "timed out while sending XFORWARD name/address" (or
 * "protocol/helo_name"). A refused XFORWARD is logged (PSTN3120, warning) and the mail goes
 * on without the attributes, as with Postfix; a 421 defers it.
 * SASL: smtp_sasl_auth_enable, smtp_sasl_password_maps, smtp_sasl_security_options,
 * smtp_sasl_tls_security_options, smtp_sasl_mechanism_filter; see {@link SmtpSasl}.
 *
 * <h2>BUGS</h2>
 * XFORWARD carries what the queue hands over in
 * {@link OutboundMessage#xforward} (the queue manager's DeliveryAgent.xforward: all seven
 * attributes; no PORT for mail queued before schema V6; mail submitted with bin/sendmail
 * reaches the queue through smtpd on loopback, so it is SOURCE=REMOTE, not LOCAL as
 * Postfix's pickup mail is);
 * no sender-dependent SASL credentials; the trust anchors of a CAfile/CApath are read
 * once per path (a changed file needs a restart); ENVID and ORCPT are sent as stored (xtext); parts of
 * 8-bit mail that claim 7bit are sent unconverted to servers without 8BITMIME (as Postfix does).
 * <p>
 * One delivery at a time (a lock serializes deliver and close). An expired cached session
 * says QUIT where Postfix's scache(8) just closes the socket (RFC 5321 section 4.1.1.10: the
 * client ends with QUIT); lmtp(8) of Postfix 2.2 did the same. The liveness check of a cached
 * session is only "no unread input": over TLS input that is still encrypted is not seen, and
 * a dead session is then noticed by the failed first command and replaced. The reply to the
 * first command of a reused session being 421 also counts as "the session was gone" and is
 * retried once on a new connection. The time limits are checked when a delivery starts and
 * ends, not while it runs: a long delivery finishes on its session.
 */
public final class SmtpClientSession implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");
    /* the mail log of the delivery agents (the names of the ejb's MailLog) */

    private final NextHop hop;
    private final SmtpClientSettings settings;
    private final SmtpTargetResolver targets;
    private final boolean lmtp;
    /** the mail log of the delivery service: syslog_name/smtp or syslog_name/lmtp */
    private final MailLogger maillog;

    /* one delivery at a time; the idle reaper only tries it */
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private SmtpStream stream;
    private SmtpTarget target;
    private SmtpFeatures features = SmtpFeatures.NONE;
    /* a transaction on the current connection did not complete: RSET before it is cached */
    private boolean needsRset;
    private int transactions;
    private long lastUsed;
    /* when the current connection was opened (smtp_connection_reuse_time_limit counts from here) */
    private long openedAt;
    /* the idle reaper armed when the last delivery left the session cached; cancelled on the next use */
    private java.util.concurrent.ScheduledFuture<?> reaper;
    /* set by transact: the connection died before the first reply of the transaction (or that reply was 421) */
    private boolean diedUnanswered;
    private boolean answered;
    /* dot-stuffing and folding of the content, kept for the session's messages (its buffers are reused) */
    private SmtpContentWriter contentWriter;
    /* notify_classes = protocol: this delivery's conversation, or null when not asked for */
    private final List<String> history;
    /* the server whose reply suggested a protocol error in this delivery, or null */
    private String protocolError;
    private ChunkOutput chunkOutput;             // BDAT, made when the session first sends BDAT
    private SmtpContentWriter chunkWriter;
    private int connectionsOpened;
    private boolean closedOnPurpose;
    /* the stream that handshake() leaves behind: the TLS one after STARTTLS */
    private SmtpStream handshaken;
    /* set by open() when this delivery established TLS; reported once, as Postfix logs it once */
    private String tlsEstablished;
    /* the smtp_pix_workarounds delay_dotcrlf of this session's server */
    private boolean pixDelayDot;
    /* the queue id of the delivery in progress, for the log lines of the handshake */
    private volatile String queueId;
    /* the MTA-STS policy (enforce or testing) of the delivery in progress, or null; the TLS session it checks */
    private org.postern.smtp.sts.MtaStsPolicy sts;
    private SmtpTls.Established stsEstablished;
    /* targets whose TLS handshake failed at level may: retried in the clear, as Postfix does */
    private final java.util.Set<SmtpTarget> plainOnly = new java.util.HashSet<>();

    public SmtpClientSession(NextHop hop, SmtpClientSettings settings) {
        this(hop, settings, DnsJavaResolver.system());
    }

    public SmtpClientSession(NextHop hop, SmtpClientSettings settings, DnsResolver dns) {
        this(hop, settings, new SmtpTargetResolver(dns, new SecureRandom()));
    }

    SmtpClientSession(NextHop hop, SmtpClientSettings settings, SmtpTargetResolver targets) {
        this.hop = hop;
        this.settings = settings;
        this.targets = targets;
        this.history = settings.workarounds().protocolNotices() ? new ArrayList<>() : null;
        this.lmtp = hop.protocol() == NextHop.Protocol.LMTP;
        this.maillog = MailLogger.of(lmtp ? "lmtp" : "smtp", settings.syslogName());
    }

    /** connectionsOpened - how many connections this session has opened in its life (tests, statistics). */
    public int connectionsOpened() {
        return connectionsOpened;
    }

    public NextHop hop() {
        return hop;
    }

    public SmtpClientSettings settings() {
        return settings;
    }

    /** isConnected - true while a live session is open (it will be reused by the next delivery). */
    public boolean isConnected() {
        lock.lock();
        try {
            return stream != null;
        } finally {
            lock.unlock();
        }
    }

    /** transactions - the number of mail transactions started on the current connection. */
    public int transactions() {
        return transactions;
    }

    /** relay - the peer as logged, or "none" when not connected. */
    public String relay() {
        return stream != null ? target.relay() : "none";
    }

    /**
     * deliver - one mail transaction for {@code message}; never throws for a delivery problem.
     * Recipients that a server defers (4xx, lost connection before the final ".") are tried
     * again at the next MX host or fallback relay, within smtp_mx_session_limit sessions.
     */
    public DeliveryOutcome deliver(OutboundMessage message) {
        lock.lock();
        try {
            return deliverLocked(message);
        } finally {
            lock.unlock();
        }
    }

    private DeliveryOutcome deliverLocked(OutboundMessage message) {
        queueId = message.queueId();
        // daemon_timeout: the watchdog of one delivery request; it closes the connection, the
        // operation in progress fails and the recipients are deferred
        java.util.concurrent.ScheduledFuture<?> watchdog = SmtpWatchdog.arm(settings.workarounds().daemonTimeout(),
                this::daemonTimeout);
        try {
            return deliverWatched(message);
        } finally {
            SmtpWatchdog.disarm(watchdog);
        }
    }

    /* daemonTimeout - daemon_timeout ran out: close the connection under the running delivery */
    private void daemonTimeout() {
        SmtpStream s = stream;
        LOG.warning("PSTN3119: " + queueId + ": delivery request took longer than daemon_timeout ("
                + settings.workarounds().daemonTimeout().toSeconds() + "s): closing the connection");
        if (s != null) {
            s.abort();
        }
    }

    private DeliveryOutcome deliverWatched(OutboundMessage message) {
        long start = System.nanoTime();
        tlsEstablished = null;
        protocolError = null;
        if (history != null) {
            history.clear();   // one transcript per delivery request, as Postfix's per session use
        }
        int n = message.recipients().size();
        RecipientOutcome[] out = new RecipientOutcome[n];
        boolean[] retry = new boolean[n];
        String[] relays = new String[n];
        SmtpClientSettings.Cache cache = settings.cache();
        // in use, so not idle: the reaper armed by the previous delivery leaves the watchdog's queue
        disarmReaper();
        checkCached(cache);
        // a cached session that turns out dead before its first reply is replaced once, transparently
        boolean fromCache = stream != null;
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pending.add(i);
        }
        List<SmtpTarget> candidates = null;
        int[] next = {0};
        int sessions = 0;
        String relay = "none";
        long connected = -1;
        // the servers that announced DSN (NOTIFY passed on), and whether none could be reached at all
        java.util.Set<String> dsnRelays = new java.util.HashSet<>();
        boolean siteFailure = false;
        while (true) {
            if (stream == null) {
                if (candidates == null) {
                    SmtpTargetResolver.Result r = resolveTargets(message);
                    if (r.failure() != null) {
                        fillAll(message, out, r.failure().status(), r.failure().dsn(), r.failure().text());
                        siteFailure = connected < 0;
                        break;
                    }
                    candidates = r.targets();
                }
                Failure failure = open(candidates, next);
                if (failure != null) {
                    if (relay.equals("none")) {
                        relay = failure.relay;
                    }
                    fillAll(message, out, failure.status, failure.dsn, failure.text);
                    siteFailure = connected < 0;
                    break;
                }
            }
            if (connected < 0) {
                connected = System.nanoTime();
            }
            relay = target.relay();
            for (int i : pending) {
                out[i] = null;
                retry[i] = false;
            }
            transact(message, out, retry, pending);
            if (fromCache && diedUnanswered) {
                // the server dropped the cached connection while it was idle: nothing was accepted
                LOG.log(Level.FINE, "PSTN3114: {0}: cached session with {1} was gone; reconnecting",
                        new Object[] {message.queueId(), relay});
                fromCache = false;
                for (int i : pending) {
                    out[i] = null;
                    retry[i] = false;
                }
                continue;
            }
            fromCache = false;
            if (features.dsn()) {
                dsnRelays.add(target.relay());
            }
            for (int i : pending) {
                if (out[i] != null) {
                    relays[i] = target.relay();
                }
            }
            if (!target.fallback()) {
                sessions++;   // smtp_mx_session_limit counts the primary next hop's sessions only
            }
            List<Integer> soft = new ArrayList<>();
            for (int i : pending) {
                if (retry[i] && out[i].status() == Status.DEFERRED) {
                    soft.add(i);
                }
            }
            int limit = settings.routing().mxSessionLimit();
            if (soft.isEmpty()) {
                break;
            }
            if (candidates == null) {
                SmtpTargetResolver.Result r = resolveTargets(message);
                candidates = r.failure() != null ? List.of() : r.targets();
            }
            // the servers not tried yet in this delivery; a cached session's server may be anywhere in the list
            SmtpTarget current = target;
            List<SmtpTarget> rest = new ArrayList<>();
            boolean limitReached = limit > 0 && sessions >= limit;
            for (int k = next[0]; k < candidates.size(); k++) {
                SmtpTarget c = candidates.get(k);
                // past the session limit only the fallback relays are left ("gives up or delivers to a fallback relay")
                if (!sameEndpoint(c, current) && (!limitReached || c.fallback())) {
                    rest.add(c);
                }
            }
            candidates = rest;
            next[0] = 0;
            if (candidates.isEmpty()) {
                break;
            }
            LOG.log(Level.FINE, "PSTN3107: {0}: {1} recipient(s) deferred by {2}; trying the next server",
                    new Object[] {message.queueId(), soft.size(), current.relay()});
            if (stream != null) {
                quit("trying the next server for deferred recipients");
            }
            // if no other server takes them, the recipients keep this server's answer (open fills only gaps)
            pending = soft;
        }
        if (connected < 0) {
            connected = System.nanoTime();
        }
        finishUse(cache, message.backlog());
        for (int i = 0; i < n; i++) {
            if (relays[i] != null && !relays[i].equals(relay) && out[i] != null) {
                out[i] = out[i].withRelay(relays[i]);   // logged with the server that answered for it
            }
        }
        DeliveryOutcome o = outcome(relay, out, start, connected, tlsEstablished);
        DeliveryOutcome.Transcript transcript = protocolError == null ? null
                : new DeliveryOutcome.Transcript(protocolError, history);
        return new DeliveryOutcome(o.relay(), o.recipients(), o.connectSeconds(), o.transmitSeconds(), o.tls(),
                dsnRelays, siteFailure, transcript);
    }

    /* resolveTargets - the next hop's servers, those an MTA-STS policy in enforce mode allows (SmtpMtaSts) */
    private SmtpTargetResolver.Result resolveTargets(OutboundMessage message) {
        sts = SmtpMtaSts.policy(hop, settings, message, targets.dns());
        SmtpTargetResolver.Result r = targets.resolve(hop, settings.heloName(), settings.routing(), sts);
        SmtpMtaSts.testMx(maillog, sts, hop, r.targets());
        return r;
    }

    private static boolean sameEndpoint(SmtpTarget a, SmtpTarget b) {
        return b != null && java.util.Objects.equals(a.address(), b.address()) && a.port() == b.port()
                && java.util.Objects.equals(a.unixPath(), b.unixPath());
    }

    /*
     * checkCached - before a cached session carries another transaction: close it when it
     * has been idle too long (smtp_connection_cache_time_limit) or open too long
     * (smtp_connection_reuse_time_limit), or when the server spoke while it was idle (e.g.
     * "421 timeout" before closing): no probe command, the cheap checks only.
     */
    private void checkCached(SmtpClientSettings.Cache cache) {
        if (stream == null) {
            return;
        }
        long now = System.nanoTime();
        if (!cache.timeLimit().isZero() && now - lastUsed > cache.timeLimit().toNanos()) {
            quit("idle for longer than the connection cache time limit");
        } else if (pastReuseTime(cache, now)) {
            quit("connection reuse time limit reached");
        } else if (unsolicitedInput()) {
            retire("the server sent data while the session was idle");
        }
    }

    /* pastReuseTime - smtp_connection_reuse_time_limit: no new transaction on a session opened this long ago */
    private boolean pastReuseTime(SmtpClientSettings.Cache cache, long now) {
        Duration limit = cache.reuseTimeLimit();
        return !limit.isZero() && now - openedAt >= limit.toNanos();
    }

    private boolean unsolicitedInput() {
        try {
            return stream.pendingInput() > 0;
        } catch (IOException e) {
            return true;
        }
    }

    /*
     * finishUse - after a delivery: close the session unless the connection cache keeps it.
     * With on-demand caching it is kept only when the queue manager said that the destination
     * has a backlog ({@code backlog}, Postfix's DEL_REQ_FLAG_CONN_STORE); a cached session reused
     * for a request without one carries that request and is then closed, as smtp(8) loads from
     * the cache without storing back. A session that is kept after an incomplete transaction
     * gets RSET now, as Postfix does; after a completed one the server has already reset its
     * state (RFC 5321 section 4.1.1.4), so the next MAIL FROM needs no RSET before it.
     */
    private void finishUse(SmtpClientSettings.Cache cache, boolean backlog) {
        if (stream == null) {
            return;
        }
        lastUsed = System.nanoTime();
        if (!cache.enabled()) {
            quit("connection caching is off for " + hop.destination());
        } else if (!cache.keeps(backlog)) {
            quit("no backlog for " + hop.destination() + " (smtp_connection_cache_on_demand)");
        } else if (cache.reuseLimit() > 0 && transactions > cache.reuseLimit()) {
            // reused reuseLimit times: N reuses are N + 1 transactions (smtp_connection_reuse_count_limit)
            quit("reuse count limit " + cache.reuseLimit() + " reached");
        } else if (pastReuseTime(cache, lastUsed)) {
            quit("connection reuse time limit reached");
        } else if (needsRset && !rset()) {
            // smtp_rset_timeout, or a reply other than 2xx: the session is not fit for the cache
            retire("RSET failed");
        } else if (!cache.timeLimit().isZero()) {
            // do not keep the peer's connection slot for longer than the cache time limit
            long used = lastUsed;
            reaper = SmtpWatchdog.arm(cache.timeLimit().plusMillis(50), () -> reap(used));
        }
    }

    /* disarmReaper - the session is in use or gone: its idle reaper must not stay queued on the watchdog */
    private void disarmReaper() {
        SmtpWatchdog.disarm(reaper);
        reaper = null;
    }

    /*
     * reap - on the watchdog thread: a cached session that stayed idle since {@code used}
     * leaves the cache and says QUIT, as lmtp(8) does when its idle time is up. Never blocks
     * the shared watchdog or a delivery: a session in use is not idle, and the QUIT (with
     * smtp_quit_timeout, and the reply when smtp_skip_quit_response = no) goes out on another
     * thread, on a stream this session has already let go of.
     */
    private void reap(long used) {
        if (!lock.tryLock()) {
            return;
        }
        SmtpStream idle;
        SmtpTarget peer;
        try {
            if (stream == null || lastUsed != used) {
                return;   // used again (or closed) since: not idle
            }
            reaper = null;
            idle = stream;
            peer = target;
            stream = null;
            closedOnPurpose = true;
        } finally {
            lock.unlock();
        }
        LOG.log(Level.FINE, "PSTN3110: closing idle cached session with {0}", peer.relay());
        SmtpWatchdog.aside(() -> sendQuit(idle));
    }

    /* quit - end a healthy session politely (QUIT) */
    private void quit(String why) {
        LOG.log(Level.FINE, "PSTN3108: closing session with {0}: {1}", new Object[] {target.relay(), why});
        close();
        closedOnPurpose = true;
    }

    /**
     * closedOnPurpose - the session is not connected because the cache closed it (caching
     * off, reuse limit, idle time limit), not because it failed: it may be used again and
     * will reconnect.
     */
    public boolean closedOnPurpose() {
        lock.lock();
        try {
            return stream == null && closedOnPurpose;
        } finally {
            lock.unlock();
        }
    }

    private static DeliveryOutcome outcome(String relay, RecipientOutcome[] out, long start, long connected,
                                           String tls) {
        long end = System.nanoTime();
        return new DeliveryOutcome(relay, List.of(out), (connected - start) / 1e9, (end - connected) / 1e9, tls);
    }

    // ---------------------------------------------------------------- connection set-up

    private record Failure(Status status, String dsn, String text, String relay) {
    }

    /* a TLS handshake failure at level may: connect again in the clear */
    private static final Failure TLS_RETRY_PLAIN = new Failure(Status.DEFERRED, "4.7.5", "TLS handshake failed", "none");

    /* open - connect to the next candidate that greets and accepts EHLO/HELO/LHLO; else the last failure */
    private Failure open(List<SmtpTarget> candidates, int[] next) {
        Failure last = null;
        while (next[0] < candidates.size()) {
            SmtpTarget t = candidates.get(next[0]++);
            SmtpStream s;
            try {
                s = t.unixPath() != null
                        ? SmtpStream.connectUnix(Path.of(t.unixPath()), settings.connectTimeout())
                        : SmtpStream.connectTcp(new InetSocketAddress(t.address(), t.port()), bindAddress(t),
                        settings.connectTimeout());
            } catch (IOException e) {
                String where = t.unixPath() != null ? t.namaddr() : t.namaddr() + ":" + t.port();
                last = new Failure(Status.DEFERRED, "4.4.1", "connect to " + where + ": " + reason(e), "none");
                LOG.log(Level.FINE, "PSTN3101: {0}", last.text);
                continue;
            }
            connectionsOpened++;
            if (debugPeer(t)) {
                s.trace(maillog, t.relay());
            }
            s.history(history);
            handshaken = s;
            last = handshake(s, t);
            if (last == TLS_RETRY_PLAIN) {
                handshaken.close();
                plainOnly.add(t);
                next[0]--;   // the same server again, without STARTTLS
                continue;
            }
            if (last == null) {
                stream = handshaken;
                closedOnPurpose = false;
                target = t;
                needsRset = false;
                transactions = 0;
                openedAt = System.nanoTime();
                LOG.log(Level.FINE, "PSTN3100: connected to {0} for {1}", new Object[] {t.relay(), hop.destination()});
                return null;
            }
            handshaken.close();
            LOG.log(Level.FINE, "PSTN3102: {0}", last.text);
            if (last.status == Status.BOUNCED) {
                return last;   // a 5xx greeting with smtp_skip_5xx_greeting = no is final
            }
        }
        return last != null ? last
                : new Failure(Status.DEFERRED, "4.4.1", "no server for " + hop.destination() + " left to try", "none");
    }

    /* bindAddress - smtp_bind_address / smtp_bind_address6 for this target's family, or null */
    private InetSocketAddress bindAddress(SmtpTarget t) {
        String b = t.address() instanceof java.net.Inet6Address ? settings.session().bindAddress6()
                : settings.session().bindAddress();
        return b.isEmpty() ? null : new InetSocketAddress(b.replaceAll("^\\[|\\]$", ""), 0);
    }

    /* handshake - greeting and EHLO/HELO/LHLO; null on success */
    private Failure handshake(SmtpStream s, SmtpTarget t) {
        SmtpStage stage = SmtpStage.GREETING;
        SmtpClientSettings.Session opt = settings.session();
        try {
            s.limit(stage.timeout(settings));
            SmtpReply greeting = s.readReply();
            if (!greeting.positive()) {
                String text = "host " + t.namaddr() + " refused to talk to me: " + greeting.text();
                if (greeting.replyClass() == 5 && !opt.skip5xxGreeting()) {
                    return new Failure(Status.BOUNCED, greeting.dsn(), text, t.relay());
                }
                // smtp_skip_5xx_greeting = yes: a 5xx greeting means "skip this server", not "bounce"
                return new Failure(Status.DEFERRED, "4" + greeting.dsn().substring(1), text, t.relay());
            }
            List<String> pix = pixWorkarounds(greeting, t);
            pixDelayDot = pix.contains("delay_dotcrlf");
            boolean esmtp = lmtp || (opt.alwaysSendEhlo() || greetingSaysEsmtp(greeting)) && !opt.neverSendEhlo()
                    && !pix.contains("disable_esmtp");
            if (esmtp) {
                stage = lmtp ? SmtpStage.LHLO : SmtpStage.EHLO;
                SmtpReply ehlo = exchange(s, stage, (lmtp ? "LHLO " : "EHLO ") + settings.heloName());
                if (ehlo.positive()) {
                    features = SmtpFeatures.parse(ehlo, discardKeywords(t));
                    return secure(s, t, stage);
                }
                if (lmtp || ehlo.replyClass() != 5) {
                    return replyFailure(t, ehlo, stage);
                }
            }
            stage = SmtpStage.HELO;
            SmtpReply helo = exchange(s, stage, "HELO " + settings.heloName());
            if (helo.positive()) {
                features = SmtpFeatures.NONE;
                return secure(s, t, stage);
            }
            return replyFailure(t, helo, stage);
        } catch (IOException e) {
            return new Failure(Status.DEFERRED, "4.4.2", ioText(e, t, stage), t.relay());
        }
    }

    /* secure - STARTTLS, then AUTH: what may precede the mail transactions of a session */
    private Failure secure(SmtpStream s, SmtpTarget t, SmtpStage helloStage) throws IOException {
        Failure f = startTls(s, t, helloStage);
        f = f != null ? f : mtaSts(t);
        return f != null ? f : authenticate(handshaken, t);
    }

    /* mtaSts - RFC 8461 section 4.2 for this server: enforce defers, testing logs (SmtpMtaSts) */
    private Failure mtaSts(SmtpTarget t) {
        String problem = SmtpMtaSts.problem(sts, t, stsEstablished, features.starttls(),
                settings.tls().forHost(t.hostName()));
        if (problem == null) {
            return null;
        }
        if (!sts.enforce()) {
            SmtpMtaSts.testing(maillog, sts, hop, t, problem);
            return null;
        }
        LOG.warning("PSTN3128: " + queueId + ": " + t.relay() + ": " + problem + " (MTA-STS policy of "
                + SmtpMtaSts.domain(hop) + " in enforce mode): not delivered to this server");
        return new Failure(Status.DEFERRED, "4.7.5", "MTA-STS policy of " + SmtpMtaSts.domain(hop) + ": "
                + t.namaddr() + ": " + problem, t.relay());
    }

    /*
     * authenticate - AUTH (RFC 4954) when smtp_sasl_auth_enable, the server offers AUTH and
     * smtp_sasl_password_maps has credentials for it; a failure defers (soft bounce, as Postfix).
     */
    private Failure authenticate(SmtpStream s, SmtpTarget t) throws IOException {
        SmtpClientSettings.Sasl sasl = settings.sasl();
        if (!sasl.enabled() || features.auth().isEmpty()) {
            return null;
        }
        List<String> keys = new ArrayList<>();
        keys.add(t.hostName());
        if (hop.host() != null) {
            String h = hop.host().replaceAll("^\\[|\\]$", "");
            if (hop.mxLookup()) {
                keys.add(h + ":" + hop.port());
                keys.add(h);
            } else {
                keys.add("[" + h + "]:" + hop.port());
                keys.add("[" + h + "]");
            }
        }
        SmtpSasl.Credentials c = SmtpSasl.credentials(sasl.passwordMaps(), keys);
        if (c == null) {
            return null;   // no entry for this server: no attempt to authenticate
        }
        boolean overTls = tlsEstablished != null;
        List<String> mechanisms = SmtpSasl.usable(features.auth(), sasl.mechanismFilter(),
                overTls ? sasl.tlsSecurityOptions() : sasl.securityOptions());
        if (mechanisms.isEmpty()) {
            return new Failure(Status.DEFERRED, "4.7.0", "SASL authentication failed; cannot authenticate to server "
                    + t.namaddr() + ": no mechanism available", t.relay());
        }
        String mechanism = mechanisms.get(0);
        SmtpReply r;
        switch (mechanism) {
            case "PLAIN" -> r = exchange(s, SmtpStage.AUTH, "AUTH PLAIN " + SmtpSasl.plain(c));
            case "LOGIN" -> {
                r = exchange(s, SmtpStage.AUTH, "AUTH LOGIN");
                if (r.code() == 334) {
                    r = exchange(s, SmtpStage.AUTH, SmtpSasl.b64(c.user()));
                }
                if (r.code() == 334) {
                    r = exchange(s, SmtpStage.AUTH, SmtpSasl.b64(c.password()));
                }
            }
            default -> {
                r = exchange(s, SmtpStage.AUTH, "AUTH CRAM-MD5");
                if (r.code() == 334) {
                    r = exchange(s, SmtpStage.AUTH, SmtpSasl.cramMd5(c, r.lines().isEmpty() ? "" : r.lines().get(0)));
                }
            }
        }
        if (r.code() == 235) {
            LOG.log(Level.FINE, "PSTN3113: authenticated to {0} with {1} as {2}",
                    new Object[] {t.namaddr(), mechanism, c.user()});
            return null;
        }
        String dsn = r.replyClass() == 4 || r.replyClass() == 5 ? "4" + r.dsn().substring(1) : "4.7.0";
        return new Failure(Status.DEFERRED, dsn, "SASL authentication failed; server " + t.namaddr() + " said: "
                + r.text(), t.relay());
    }

    /*
     * startTls - STARTTLS (RFC 3207) by smtp_tls_security_level; then EHLO again. Null when the
     * session may go on (in TLS, or in the clear where the level allows it); {@link #handshaken}
     * is the stream to go on with.
     */
    private Failure startTls(SmtpStream s, SmtpTarget t, SmtpStage helloStage) throws IOException {
        // smtp_tls_per_site: the server's host name may change the next hop's level
        SmtpClientSettings.Tls tls = SmtpMtaSts.tls(sts, t, settings.tls().forHost(t.hostName()));
        tlsEstablished = null;
        stsEstablished = null;
        if (tls.invalid()) {
            LOG.warning("PSTN3115: " + t.namaddr() + ": TLS policy level \"" + tls.level()
                    + "\" is not supported (none, may, encrypt, dane, dane-only, verify, secure): mail deferred, "
                    + "not sent in the clear");
            return new Failure(Status.DEFERRED, "4.7.0", "client TLS configuration problem", t.relay());
        }
        // dane, dane-only: the server's DNSSEC-validated TLSA records make the effective level (RFC 7672)
        SmtpDane.Policy dane = SmtpDane.policy(tls, hop, t, targets.dns());
        if (dane.tls() == null) {
            return new Failure(Status.DEFERRED, dane.dsn(), dane.text(), t.relay());
        }
        tls = dane.tls();
        if (!tls.enabled() && features.starttls() && tls.options().noteStarttlsOffer() && s.isTcp()) {
            maillog.info("Host offered STARTTLS: [" + t.hostName() + "]");
        }
        if (!tls.enabled() || !s.isTcp() || plainOnly.contains(t)) {
            if (tls.required() && !s.isTcp()) {
                return new Failure(Status.DEFERRED, "4.7.4", "TLS is required, but not available over "
                        + t.namaddr(), t.relay());
            }
            return null;
        }
        if (!features.starttls()) {
            return tls.required() ? new Failure(Status.DEFERRED, "4.7.4",
                    "TLS is required, but was not offered by host " + t.namaddr(), t.relay()) : null;
        }
        SmtpReply r = exchange(s, SmtpStage.STARTTLS, "STARTTLS");
        if (r.code() != 220) {
            if (tls.required()) {
                return new Failure(Status.DEFERRED, "4.7.5", "TLS is required, but host " + t.namaddr()
                        + " refused to start TLS: " + r.text(), t.relay());
            }
            LOG.log(Level.FINE, "PSTN3111: host {0} refused to start TLS: {1}", new Object[] {t.namaddr(), r.text()});
            return null;   // level may: go on in the clear on this connection
        }
        if (s.pendingInput() > 0) {
            // plaintext after the 220 would be read as if it came through TLS: command injection
            return new Failure(Status.DEFERRED, "4.7.0", "host " + t.namaddr()
                    + " sent data after its STARTTLS response (possible STARTTLS injection)", t.relay());
        }
        List<String> names = certNames(t, tls);
        SmtpTls.Established est;
        try {
            est = s.startTls(t.hostName(), t.port(), tls, names, tls.starttlsTimeout());
        } catch (IOException e) {
            LOG.log(Level.FINE, "PSTN3112: TLS handshake with {0} failed: {1}", new Object[] {t.namaddr(), e.toString()});
            if (!tls.required()) {
                return TLS_RETRY_PLAIN;
            }
            return new Failure(Status.DEFERRED, "4.7.5", "Cannot start TLS: handshake failure with host "
                    + t.namaddr(), t.relay());
        }
        SmtpStream secure = SmtpStream.overTls(est);
        stsEstablished = est;
        if (debugPeer(t)) {
            secure.trace(maillog, t.relay());
        }
        secure.history(history);
        handshaken = secure;
        if (dane.authenticates()) {
            String trust = SmtpDane.verify(SmtpTls.chain(est.socket().getSession()), dane, t.namaddr());
            if (!trust.equals("Verified")) {
                return new Failure(Status.DEFERRED, "4.7.5", trust.equals("Untrusted")
                        ? "Server certificate not trusted" : "Server certificate not verified", t.relay());
            }
            // an insecure MX RRset: the match is only "Trusted", the MX host name could be forged
            est = new SmtpTls.Established(est.socket(), dane.halfDane() ? "Trusted" : "Verified", est.protocol(),
                    est.cipher(), est.peer());
        }
        if (tls.verified() && !est.verified()) {
            return new Failure(Status.DEFERRED, "4.7.5", est.trust().equals("Untrusted")
                    ? "Server certificate not trusted" : "Server certificate not verified", t.relay());
        }
        tlsEstablished = est.trust() + " TLS connection established to " + t.relay() + ": " + est.protocol()
                + " with cipher " + est.cipher();
        if (tls.options().logLevel() >= 2 && est.peer() != null) {
            // smtp_tls_loglevel 2: the server certificate, as Postfix's summary of it
            maillog.info(t.relay() + ": " + SmtpTls.describe(est.peer()));
        }
        // RFC 3207 section 4.2: forget what was learned before TLS, ask again
        SmtpStage stage = lmtp ? SmtpStage.LHLO : SmtpStage.EHLO;
        SmtpReply ehlo = exchange(secure, stage, (lmtp ? "LHLO " : "EHLO ") + settings.heloName());
        if (!ehlo.positive()) {
            return replyFailure(t, ehlo, stage);
        }
        features = SmtpFeatures.parse(ehlo, discardKeywords(t));
        return null;
    }

    /* certNames - the names a certificate must match: smtp_tls_verify_cert_match / _secure_cert_match */
    private List<String> certNames(SmtpTarget t, SmtpClientSettings.Tls tls) {
        List<String> names = new ArrayList<>();
        String nexthop = hop.host() == null ? t.hostName() : hop.host().replaceAll("^\\[|\\]$", "");
        for (String m : tls.match()) {
            switch (m) {
                case "hostname" -> names.add(t.hostName());
                case "nexthop" -> names.add(nexthop);
                case "dot-nexthop" -> names.add("." + nexthop);
                default -> names.add(m);
            }
        }
        return names;
    }

    /*
     * pixWorkarounds - a greeting of nothing but asterisks (after its code) is a Cisco PIX
     * "mailguard": the workarounds of smtp_pix_workaround_maps for the server's address, else
     * smtp_pix_workarounds; logged as Postfix does. Empty for any other greeting.
     */
    private List<String> pixWorkarounds(SmtpReply greeting, SmtpTarget t) {
        SmtpClientSettings.Workarounds w = settings.workarounds();
        if (lmtp || greeting.code() != 220) {
            return List.of();
        }
        for (String line : greeting.lines()) {
            for (char ch : line.toCharArray()) {
                if ("20 *\t".indexOf(ch) < 0) {
                    return List.of();
                }
            }
        }
        List<String> words = w.pixWorkarounds();
        String byAddress = lookup(w.pixWorkaroundMaps(), t.address() == null ? null : t.address().getHostAddress());
        if (byAddress != null) {
            words = List.of(byAddress.toLowerCase(java.util.Locale.ROOT).split("[,\\s]+"));
        }
        List<String> known = words.stream().filter(x -> x.equals("disable_esmtp") || x.equals("delay_dotcrlf")).toList();
        if (!known.isEmpty()) {
            maillog.info((queueId == null ? "" : queueId + ": ")
                    + "enabling PIX workarounds: " + String.join(" ", known) + " for " + t.relay());
        }
        return known;
    }

    /*
     * discardKeywords - the EHLO keywords to ignore from this server: its entry in
     * smtp_discard_ehlo_keyword_address_maps, else smtp_discard_ehlo_keywords; Postfix's
     * "discarding EHLO keywords" line unless the list says silent-discard.
     */
    private List<String> discardKeywords(SmtpTarget t) {
        List<String> words = settings.session().discardEhloKeywords();
        String byAddress = lookup(settings.workarounds().discardKeywordMaps(),
                t.address() == null ? null : t.address().getHostAddress());
        if (byAddress != null) {
            words = java.util.Arrays.stream(byAddress.toLowerCase(java.util.Locale.ROOT).split("[,\\s]+"))
                    .filter(x -> !x.isEmpty()).toList();
        }
        List<String> shown = words.stream().filter(x -> !x.equals("silent-discard"))
                .map(x -> x.toUpperCase(java.util.Locale.ROOT)).toList();
        if (!shown.isEmpty() && !words.contains("silent-discard")) {
            maillog.info("discarding EHLO keywords: "
                    + String.join(" ", shown));
        }
        return words;
    }

    /* debugPeer - debug_peer_list names this server (its address or host name) and debug_peer_level is above 0 */
    private boolean debugPeer(SmtpTarget t) {
        SmtpClientSettings.Workarounds w = settings.workarounds();
        if (w.debugPeerList().isEmpty() || w.debugPeerLevel() <= 0) {
            return false;
        }
        // addresses and networks as smtpd reads them; anything else is a host name, compared as such
        org.postern.config.NetworkList list = DEBUG_PEERS.computeIfAbsent(w.debugPeerList(),
                l -> org.postern.config.NetworkList.parse(l.stream().filter(SmtpClientSession::networkLike).toList(),
                        "debug_peer_list"));
        String address = t.address() == null ? null : t.address().getHostAddress();
        return address != null && list.test(address)
                || w.debugPeerList().stream().anyMatch(p -> p.equalsIgnoreCase(t.hostName()));
    }

    private static boolean networkLike(String p) {
        return !p.isEmpty() && (Character.isDigit(p.charAt(0)) || p.startsWith("[") || p.contains(":"));
    }

    private static final java.util.Map<List<String>, org.postern.config.NetworkList> DEBUG_PEERS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /* lookup - a table list looked up by a server's IP address; null: no entry, or no address */
    private static String lookup(List<String> tables, String address) {
        if (tables.isEmpty() || address == null) {
            return null;
        }
        long generation = SmtpClientParameters.generation();
        if (tablesGeneration != generation) {
            // a new configuration: table files may have changed (postfix reload)
            TABLES.clear();
            tablesGeneration = generation;
        }
        for (org.postern.config.maps.LookupTable table : TABLES.computeIfAbsent(tables,
                org.postern.config.maps.LookupTables::openAll)) {
            java.util.Optional<String> v = table.lookup(address);
            if (v.isPresent()) {
                return v.get();
            }
        }
        return null;
    }

    private static volatile long tablesGeneration = -1;

    /** the tables of smtp_pix_workaround_maps and smtp_discard_ehlo_keyword_address_maps, opened once per value */
    private static final java.util.Map<List<String>, List<org.postern.config.maps.LookupTable>> TABLES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static void sleep(java.time.Duration d) throws java.io.InterruptedIOException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted during the PIX delay");
        }
    }

    /* greetingSaysEsmtp - the word ESMTP after the host name of the greeting (smtp_always_send_ehlo = no) */
    private static boolean greetingSaysEsmtp(SmtpReply greeting) {
        for (String line : greeting.lines()) {
            for (String word : line.split("[ \\t]+")) {
                if (word.equalsIgnoreCase("ESMTP")) {
                    return true;
                }
            }
        }
        return false;
    }

    private Failure replyFailure(SmtpTarget t, SmtpReply reply, SmtpStage stage) {
        checkCode(reply, t);
        return new Failure(status(reply), failureDsn(reply), said(t, reply, stage), t.relay());
    }

    private SmtpReply exchange(SmtpStream s, SmtpStage stage, String command) throws IOException {
        s.limit(stage.timeout(settings));
        s.command(command);
        s.flush();
        return s.readReply();
    }

    /* rset - end an incomplete transaction before the session is cached (smtp_rset_timeout) */
    private boolean rset() {
        try {
            SmtpReply r = exchange(stream, SmtpStage.RSET, "RSET");
            needsRset = false;
            return r.positive();
        } catch (IOException e) {
            return false;
        }
    }

    /* retire - close the connection without QUIT: it is broken or the server asked us to go */
    private void retire(String why) {
        closedOnPurpose = false;
        disarmReaper();
        if (stream != null) {
            LOG.log(Level.FINE, "PSTN3103: retiring session with {0}: {1}", new Object[] {target.relay(), why});
            stream.close();
            stream = null;
        }
    }

    // ---------------------------------------------------------------- the mail transaction

    /** ContentReadException - the stored content could not be read (a local problem, not the peer's). */
    private static final class ContentReadException extends IOException {
        private static final long serialVersionUID = 1L;

        ContentReadException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /* transact - one mail transaction for the recipients at {@code pending}; retry marks what another server may take */
    private void transact(OutboundMessage m, RecipientOutcome[] out, boolean[] retry, List<Integer> pending) {
        diedUnanswered = false;
        List<OutboundRecipient> rcpts = m.recipients();
        if (features.sizeLimit() > 0 && m.size() > features.sizeLimit()) {
            fillAll(m, out, Status.BOUNCED, "5.3.4", "message size " + m.size() + " exceeds size limit "
                    + features.sizeLimit() + " of server " + target.namaddr());
            return;
        }
        if (unsafe(m.sender()) || unsafe(m.envid()) || unsafe(m.ret())) {
            fillAll(m, out, Status.BOUNCED, "5.1.7", "invalid sender address or parameter syntax");
            return;
        }
        // a server without SMTPUTF8 (RFC 6531 section 3.2): a sender that needs UTF-8 fails the
        // whole message; otherwise only the recipients whose address needs it bounce, and the
        // others are delivered, as Postfix does
        if (!ascii(m.sender()) && !features.smtpUtf8()) {
            fillAll(m, out, Status.BOUNCED, "5.6.7",
                    "SMTPUTF8 is required, but was not offered by host " + target.namaddr());
            return;
        }
        List<Integer> sendable = new ArrayList<>();
        for (int i : pending) {
            OutboundRecipient r = rcpts.get(i);
            if (!ascii(r.address()) && !features.smtpUtf8()) {
                out[i] = new RecipientOutcome(r.address(), Status.BOUNCED, "5.6.7",
                        "SMTPUTF8 is required, but was not offered by host " + target.namaddr());
                continue;
            }
            if (unsafe(r.address()) || unsafe(r.orcpt()) || unsafe(r.notifyParam())) {
                out[i] = new RecipientOutcome(r.address(), Status.BOUNCED, "5.1.3", "invalid recipient address syntax");
            } else {
                sendable.add(i);
            }
        }
        if (sendable.isEmpty()) {
            return;
        }
        InputStream content;
        try {
            // smtp_generic_maps: the outgoing copy's header addresses; the stored content stays as it is
            content = SmtpGenericRewriter.content(settings.session().genericMaps(), m.content().open());
        } catch (IOException e) {
            fillAll(m, out, Status.DEFERRED, "4.3.0", "error reading message content: " + e.getMessage());
            return;
        }
        needsRset = true;
        transactions++;
        answered = false;
        SmtpStage stage = SmtpStage.MAIL;
        try (InputStream in = content) {
            stage = run(m, out, retry, sendable, in);
        } catch (ContentReadException e) {
            // the peer has part of the message: only closing the connection aborts it safely
            fillAll(m, out, Status.DEFERRED, "4.3.0", "error reading message content: " + e.getMessage());
            retire("content read error");
        } catch (StageException e) {
            String text = ioText(e.cause, target, e.stage);
            if (e.stage.endOfData()) {
                // the server may have the whole message: a retry may deliver it twice (smtp_data_done_timeout)
                LOG.log(Level.WARNING, "PSTN3106: {0}: {1}", new Object[] {m.queueId(), text});
            } else {
                LOG.log(Level.FINE, "PSTN3104: {0}", text);
            }
            for (int i : sendable) {
                if (out[i] == null) {
                    out[i] = new RecipientOutcome(rcpts.get(i).address(), Status.DEFERRED, "4.4.2", text);
                    // not after the final ".": another server now would make a duplicate more likely
                    retry[i] = !e.stage.endOfData();
                }
            }
            retire(text);
        } catch (IOException e) {
            // closing the content stream failed: the transaction itself is complete
            LOG.log(Level.FINE, "PSTN3105: closing content of {0}: {1}", new Object[] {m.queueId(), e.getMessage()});
        }
        diedUnanswered = stream == null && !answered;
    }

    /** StageException - an I/O failure of the connection, with the stage it happened in. */
    private static final class StageException extends IOException {
        private static final long serialVersionUID = 1L;
        final transient SmtpStage stage;
        final IOException cause;

        StageException(SmtpStage stage, IOException cause) {
            super(cause.getMessage(), cause);
            this.stage = stage;
            this.cause = cause;
        }
    }

    /* run - MAIL, RCPT..., DATA, content, "."; records each outcome as soon as it is known */
    private SmtpStage run(OutboundMessage m, RecipientOutcome[] out, boolean[] retry, List<Integer> sendable,
                          InputStream content) throws IOException {
        List<OutboundRecipient> rcpts = m.recipients();
        String mail = mailCommand(m);
        List<String> rcptCommands = new ArrayList<>();
        for (int i : sendable) {
            rcptCommands.add(rcptCommand(rcpts.get(i)));
        }
        boolean pipelining = features.pipelining();
        boolean chunking = features.chunking();
        List<Xforward> xforward = settings.session().sendXforward() ? xforwardCommands(m.xforward(), features.xforward())
                : List.of();
        SmtpStage stage = xforward.isEmpty() ? SmtpStage.MAIL : xforward.get(0).stage();
        try {
            if (pipelining) {
                // RFC 2920: XFORWARD, MAIL, RCPT and DATA may be sent as one group; the replies come in order
                stream.limit(stage.timeout(settings));
                for (Xforward x : xforward) {
                    stream.command(x.command());
                }
                stream.command(mail);
                for (String c : rcptCommands) {
                    stream.command(c);
                }
                if (!chunking) {
                    // BDAT waits for the RCPT replies: a chunk cannot be taken back when none was accepted
                    stream.command("DATA");
                }
                stream.flush();
            }
            for (Xforward x : xforward) {
                stage = x.stage();
                SmtpReply r = pipelining ? read(stage) : exchange(stream, stage, x.command());
                answered = answered || r.code() != 421;
                if (r.code() == 421) {
                    // RFC 5321 section 3.8: the server is going away; no further reply will come
                    for (int i : sendable) {
                        out[i] = failed(rcpts.get(i), r, stage);
                        retry[i] = true;
                    }
                    retire("server said " + r.text());
                    return stage;
                }
                if (!r.positive()) {
                    // as Postfix: a refused XFORWARD is a warning; the mail goes on without the attributes
                    LOG.log(Level.WARNING, "PSTN3120: {0}: host {1} said: {2} (in reply to {3})",
                            new Object[] {m.queueId(), target.namaddr(), r.text(), stage.inReplyTo});
                }
            }
            stage = SmtpStage.MAIL;
            SmtpReply mailReply = pipelining ? read(stage) : exchange(stream, stage, mail);
            answered = answered || mailReply.code() != 421;
            boolean mailOk = mailReply.positive();
            if (!mailOk) {
                for (int i : sendable) {
                    out[i] = failed(rcpts.get(i), mailReply, stage);
                    retry[i] = out[i].status() == Status.DEFERRED;
                }
                if (!pipelining) {
                    closeIf421(mailReply);
                    return stage;
                }
            }
            List<Integer> accepted = new ArrayList<>();
            stage = SmtpStage.RCPT;
            SmtpReply last421 = mailReply.code() == 421 ? mailReply : null;
            for (int k = 0; k < sendable.size(); k++) {
                int i = sendable.get(k);
                SmtpReply r = pipelining ? read(stage) : exchange(stream, stage, rcptCommands.get(k));
                last421 = r.code() == 421 ? r : last421;
                if (!mailOk) {
                    continue;
                }
                if (r.code() == 421) {
                    // RFC 5321 section 3.8: the server is going away; no further reply will come
                    for (int j : accepted) {
                        out[j] = failed(rcpts.get(j), r, stage);
                        retry[j] = true;
                    }
                    for (int k2 = k; k2 < sendable.size(); k2++) {
                        int j = sendable.get(k2);
                        out[j] = failed(rcpts.get(j), r, stage);
                        retry[j] = true;
                    }
                    retire("server said " + r.text());
                    return stage;
                }
                if (r.positive()) {
                    accepted.add(i);
                } else {
                    out[i] = failed(rcpts.get(i), r, stage);
                    retry[i] = out[i].status() == Status.DEFERRED;
                }
            }
            if (chunking) {
                if (accepted.isEmpty()) {
                    closeIf421(last421);
                    return stage;      // no recipient accepted: no BDAT; RSET before the session is cached
                }
                return chunks(m, out, retry, accepted, content);
            }
            stage = SmtpStage.DATA;
            SmtpReply dataReply;
            if (pipelining) {
                dataReply = read(stage);
            } else if (accepted.isEmpty()) {
                closeIf421(last421);
                return stage;      // no recipient accepted: no DATA; RSET before the session is cached
            } else {
                dataReply = exchange(stream, stage, "DATA");
            }
            if (dataReply.replyClass() != 3) {
                for (int i : accepted) {
                    out[i] = failed(rcpts.get(i), dataReply, stage);
                    retry[i] = out[i].status() == Status.DEFERRED;
                }
                closeIf421(dataReply.code() == 421 ? dataReply : last421);
                return stage;
            }
            if (accepted.isEmpty()) {
                // RFC 2920 section 3.1: the server said 354 after all: end the empty message
                stage = SmtpStage.DOT;
                stream.limit(stage.timeout(settings));
                stream.command(".");
                stream.flush();
                stream.readReply();
                needsRset = false;   // the reply to end of data ended the transaction
                return stage;
            }
            stage = SmtpStage.BODY;
            stream.limit(stage.timeout(settings));
            SmtpContentWriter writer = contentWriter();
            if (m.body8bit() && !features.eightBitMime() && settings.session().mimeOutputConversion()) {
                // RFC 6152 section 3: a server without 8BITMIME gets 7-bit content
                boolean converted = SmtpMimeDowngrade.copy(new GuardedInput(content), new WriterOutput(writer),
                        settings.workarounds().mimeNestingLimit(), settings.workarounds().mimeBoundaryLimit());
                writer.finish();
                if (!converted) {
                    LOG.log(Level.FINE, "PSTN3109: {0}: 8-bit content sent unconverted to {1} (no part declares 8bit or binary)",
                            new Object[] {m.queueId(), target.relay()});
                }
            } else {
                writer.copy(new GuardedInput(content));
            }
            if (pixDelayDot && m.arrival() != null && java.time.Duration.between(m.arrival(), java.time.Instant.now())
                    .compareTo(settings.workarounds().pixThreshold()) >= 0) {
                // smtp_pix_workarounds delay_dotcrlf: the content, then a pause, then "." in a packet of its own
                stream.flush();
                sleep(settings.workarounds().pixDelay());
            }
            // the end of the content and the final "." leave in one write (no flush in between);
            // a failed write means the "." did not get out whole, so this is still the body
            stream.command(".");
            stream.flush();
            stage = SmtpStage.DOT;
            stream.limit(stage.timeout(settings));
            if (lmtp) {
                // RFC 2033 section 4.2: one reply per accepted recipient, in RCPT order
                for (int i : accepted) {
                    SmtpReply r = stream.readReply();
                    out[i] = r.positive() ? sent(rcpts.get(i), r) : failed(rcpts.get(i), r, stage);
                }
                needsRset = false;   // RFC 2033 section 4.2: the last reply ends the transaction
                // LMTP end-of-data replies are final for the server that delivers: no other server is tried
            } else {
                SmtpReply r = stream.readReply();
                // RFC 5321 section 4.1.1.4: whatever the reply to end of data, the transaction is over
                needsRset = false;
                for (int i : accepted) {
                    out[i] = r.positive() ? sent(rcpts.get(i), r) : failed(rcpts.get(i), r, stage);
                    retry[i] = out[i].status() == Status.DEFERRED;
                }
                closeIf421(r);
            }
            return stage;
        } catch (ContentReadException | StageException e) {
            throw e;
        } catch (IOException e) {
            throw new StageException(stage, e);
        }
    }

    /**
     * chunks - the content in BDAT chunks (RFC 3030) to a server that announced CHUNKING,
     * after at least one RCPT was accepted: "BDAT n" and n octets of content (CRLF line ends,
     * long lines folded, no dot-stuffing) per {@link #BDAT_CHUNK} octets, the rest with
     * "BDAT n LAST" (n may be 0). Without PIPELINING each chunk waits for its reply; with it,
     * one chunk's reply is outstanding at most while the next goes out, so the content
     * streams without a round trip per chunk and a refusal stops it after one more chunk
     * (which the server must discard, RFC 3030 section 4.2). A refused chunk fails the
     * transaction for the accepted recipients with the server's reply (RSET before the
     * session is used again); the replies to BDAT LAST are those to end of data: one, or one
     * per accepted recipient in LMTP. A failure after BDAT LAST went out may mean a
     * duplicate, as after the "." of DATA.
     */
    private SmtpStage chunks(OutboundMessage m, RecipientOutcome[] out, boolean[] retry, List<Integer> accepted,
                             InputStream content) throws IOException {
        stream.limit(SmtpStage.BDAT.timeout(settings));
        if (chunkOutput == null) {
            chunkOutput = new ChunkOutput();
            chunkWriter = new SmtpContentWriter(chunkOutput, settings.lineLengthLimit(), false);
        }
        ChunkOutput chunker = chunkOutput;
        chunker.reset(features.pipelining());
        chunkWriter.reset();
        try {
            return chunks(m, out, retry, accepted, content, chunker);
        } catch (ContentReadException | StageException e) {
            throw e;
        } catch (IOException e) {
            throw new StageException(chunker.stage, e);
        }
    }

    private SmtpStage chunks(OutboundMessage m, RecipientOutcome[] out, boolean[] retry, List<Integer> accepted,
                             InputStream content, ChunkOutput chunker) throws IOException {
        List<OutboundRecipient> rcpts = m.recipients();
        SmtpStage stage = SmtpStage.BDAT;
        SmtpReply refused;
        try {
            if (m.body8bit() && !features.eightBitMime() && settings.session().mimeOutputConversion()) {
                SmtpMimeDowngrade.copy(new GuardedInput(content), new WriterOutput(chunkWriter),
                        settings.workarounds().mimeNestingLimit(), settings.workarounds().mimeBoundaryLimit());
                chunkWriter.finish();
            } else {
                chunkWriter.copy(new GuardedInput(content));
            }
            stage = SmtpStage.BDAT_LAST;
            chunker.stage = stage;
            chunker.last();
            stream.limit(stage.timeout(settings));
            refused = chunker.awaitOutstanding();
        } catch (ChunkRefused e) {
            refused = e.reply;
        }
        if (refused != null) {
            // the transaction failed; no later chunk was sent but the one already in the pipeline
            for (int i : accepted) {
                out[i] = failed(rcpts.get(i), refused, SmtpStage.BDAT);
                retry[i] = out[i].status() == Status.DEFERRED;
            }
            if (stage == SmtpStage.BDAT_LAST || refused.code() == 421) {
                // the number of replies to a failed BDAT LAST is not certain (LMTP): only closing is safe
                retire(refused.code() == 421 ? "server said " + refused.text() : "BDAT refused");
            }
            return SmtpStage.BDAT;
        }
        if (lmtp) {
            // RFC 2033 section 4.2 and RFC 3030: one reply per accepted recipient after BDAT LAST
            for (int i : accepted) {
                SmtpReply r = stream.readReply();
                out[i] = r.positive() ? sent(rcpts.get(i), r) : failed(rcpts.get(i), r, stage);
            }
        } else {
            SmtpReply r = stream.readReply();
            for (int i : accepted) {
                out[i] = r.positive() ? sent(rcpts.get(i), r) : failed(rcpts.get(i), r, stage);
                retry[i] = out[i].status() == Status.DEFERRED;
            }
            closeIf421(r);
        }
        needsRset = false;   // the reply to BDAT LAST ended the transaction, as the reply to end of data does
        return stage;
    }

    /** the octets of content per BDAT chunk but the last: 64 KiB, a buffer per session that used BDAT */
    static final int BDAT_CHUNK = 65536;

    /** ChunkRefused - the server refused a BDAT chunk; the content is not sent further. */
    private static final class ChunkRefused extends IOException {
        private static final long serialVersionUID = 1L;
        final transient SmtpReply reply;

        ChunkRefused(SmtpReply reply) {
            super(reply.text());
            this.reply = reply;
        }
    }

    /* ChunkOutput - content octets into BDAT chunks of BDAT_CHUNK octets on the current stream */
    private final class ChunkOutput extends OutputStream {
        private final byte[] buf = new byte[BDAT_CHUNK];
        private int fill;
        private int outstanding;         // chunks sent whose reply was not read (pipelining: one at most)
        private boolean pipelined;
        SmtpStage stage;                 // BDAT, then BDAT_LAST once the last chunk is on its way

        void reset(boolean pipelining) {
            stage = SmtpStage.BDAT;
            fill = 0;
            outstanding = 0;
            pipelined = pipelining;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, buf.length - fill);
                System.arraycopy(b, off, buf, fill, n);
                fill += n;
                off += n;
                len -= n;
                if (fill == buf.length) {
                    chunk();
                }
            }
        }

        /* chunk - a full chunk out; then the reply of the one before it (pipelining) or of this one */
        private void chunk() throws IOException {
            stream.command("BDAT " + fill);
            stream.write(buf, 0, fill);
            fill = 0;
            outstanding++;
            if (pipelined && outstanding < 2) {
                return;
            }
            stream.flush();
            SmtpReply r = stream.readReply();
            outstanding--;
            if (!r.positive()) {
                awaitOutstanding();   // the chunk in the pipeline gets its reply too
                throw new ChunkRefused(r);
            }
        }

        /* last - the rest with BDAT LAST */
        void last() throws IOException {
            stream.command("BDAT " + fill + " LAST");
            stream.write(buf, 0, fill);
            fill = 0;
            stream.flush();
        }

        /* awaitOutstanding - the replies of the chunks before BDAT LAST: the first refusal, or null */
        SmtpReply awaitOutstanding() throws IOException {
            SmtpReply refused = null;
            while (outstanding > 0) {
                SmtpReply r = stream.readReply();
                outstanding--;
                if (!r.positive() && refused == null) {
                    refused = r;
                }
            }
            return refused;
        }
    }

    /* contentWriter - the session's content writer, reset for the next message; it writes to the current stream */
    private SmtpContentWriter contentWriter() {
        if (contentWriter == null) {
            contentWriter = new SmtpContentWriter(new CurrentStreamOutput(), settings.lineLengthLimit());
        }
        contentWriter.reset();
        return contentWriter;
    }

    private SmtpReply read(SmtpStage stage) throws IOException {
        stream.limit(stage.timeout(settings));
        return stream.readReply();
    }

    /* closeIf421 - RFC 5321 section 3.8: after 421 the server closes; so do we */
    private void closeIf421(SmtpReply r) {
        if (r != null && r.code() == 421) {
            retire("server said " + r.text());
        }
    }

    /** the attributes of Postfix's first XFORWARD command: the original client's name, address and port */
    static final List<String> XFORWARD_NAME_ADDR = List.of("NAME", "ADDR", "PORT");
    /** the attributes of Postfix's second XFORWARD command: protocol, HELO name, log ident and source */
    static final List<String> XFORWARD_PROTO_HELO = List.of("PROTO", "HELO", "IDENT", "SOURCE");
    /** the value of an attribute that is not known (XFORWARD_README) */
    static final String XFORWARD_UNAVAILABLE = "[UNAVAILABLE]";
    /** the prefix of an IPv6 ADDR, as Postfix writes it */
    static final String XFORWARD_IPV6 = "IPv6:";
    /** the longest XFORWARD command line without CRLF: 512 octets with it (RFC 5321 section 4.5.3.1.4) */
    static final int XFORWARD_LINE_LIMIT = 510;
    /** the longest attribute value (XFORWARD_README, note 1); Postfix's smtpd answers 501 to a longer one */
    static final int XFORWARD_VALUE_LIMIT = 255;

    /** Xforward - one XFORWARD command and the stage it is sent in. */
    record Xforward(SmtpStage stage, String command) {
    }

    /**
     * xforwardCommands - the XFORWARD commands for a message, as Postfix's smtp(8) sends them
     * (XFORWARD_README): only the attributes the server announced after its XFORWARD keyword;
     * first NAME, ADDR and PORT, then PROTO, HELO, IDENT and SOURCE, each group sent only when
     * one of its announced attributes is known, the others of the group then as [UNAVAILABLE].
     * "unknown" (a client name without reverse DNS, an unknown address, port or protocol)
     * counts as not known, as in Postfix. An IPv6 ADDR gets the prefix IPv6:, as Postfix stores
     * it (Postfix's smtpd refuses a bare one). Values are xtext-encoded; one whose encoding is
     * longer than 255 characters, or that has CR, LF or NUL, is sent as [UNAVAILABLE]. A group
     * whose line would pass 512 octets with CRLF is sent as several XFORWARD commands.
     *
     * @param attributes the message's attributes by upper-case name ({@link OutboundMessage#xforward})
     * @param announced  the attribute names of the server's XFORWARD keyword, upper case
     */
    static List<Xforward> xforwardCommands(java.util.Map<String, String> attributes, List<String> announced) {
        List<Xforward> out = new ArrayList<>();
        xforwardGroup(out, SmtpStage.XFORWARD_NAME_ADDR, XFORWARD_NAME_ADDR, attributes, announced);
        xforwardGroup(out, SmtpStage.XFORWARD_PROTO_HELO, XFORWARD_PROTO_HELO, attributes, announced);
        return out;
    }

    private static void xforwardGroup(List<Xforward> out, SmtpStage stage, List<String> group,
                                      java.util.Map<String, String> attributes, List<String> announced) {
        List<String> words = new ArrayList<>();
        boolean known = false;
        for (String name : group) {
            if (!announced.contains(name)) {
                continue;
            }
            String v = xforwardValue(name, attributes.get(name));
            known |= v != null;
            words.add(name + "=" + (v != null ? v : XFORWARD_UNAVAILABLE));
        }
        if (!known) {
            return;
        }
        StringBuilder b = new StringBuilder("XFORWARD");
        for (String w : words) {
            if (b.length() > "XFORWARD".length() && b.length() + 1 + w.length() > XFORWARD_LINE_LIMIT) {
                out.add(new Xforward(stage, b.toString()));
                b.setLength("XFORWARD".length());
            }
            b.append(' ').append(w);
        }
        out.add(new Xforward(stage, b.toString()));
    }

    /* xforwardValue - the xtext of a known value, or null when it is not known or cannot be sent */
    private static String xforwardValue(String name, String v) {
        if (v == null || v.isEmpty() || unsafe(v) || XFORWARD_UNAVAILABLE.equalsIgnoreCase(v)) {
            return null;
        }
        if (!name.equals("HELO") && !name.equals("IDENT") && !name.equals("SOURCE") && v.equalsIgnoreCase("unknown")) {
            return null;
        }
        if (name.equals("ADDR") && v.indexOf(':') >= 0 && !v.regionMatches(true, 0, XFORWARD_IPV6, 0, 5)) {
            // an IPv6 address in the form of mail (RFC 5321 IPv6-address-literal): Postfix's smtpd
            // answers "501 5.5.4 Bad ADDR syntax" to a bare one
            v = XFORWARD_IPV6 + v;
        }
        String x = xtext(v);
        return x.length() > XFORWARD_VALUE_LIMIT ? null : x;
    }

    /* xtext - RFC 3461 section 4 (ENVID, ORCPT) */
    private static String xtext(String v) {
        return org.postern.mail.Xtext.encode(v);
    }

    private String mailCommand(OutboundMessage m) {
        StringBuilder b = new StringBuilder("MAIL FROM:<").append(envelope(generic(m.sender()))).append('>');
        if (features.sizeLimit() >= 0) {
            b.append(" SIZE=").append(m.size());
        }
        if (m.body8bit() && features.eightBitMime()) {
            b.append(" BODY=8BITMIME");
        }
        if (features.smtpUtf8() && (!ascii(m.sender())
                || m.recipients().stream().anyMatch(r -> !ascii(r.address())))) {
            b.append(" SMTPUTF8");
        }
        if (features.dsn()) {
            if (m.ret() != null) {
                b.append(" RET=").append(m.ret());
            }
            if (m.envid() != null) {
                b.append(" ENVID=").append(m.envid());
            }
        }
        return b.toString();
    }

    private String rcptCommand(OutboundRecipient r) {
        StringBuilder b = new StringBuilder("RCPT TO:<").append(envelope(generic(r.address()))).append('>');
        if (features.dsn()) {
            if (r.notifyParam() != null) {
                b.append(" NOTIFY=").append(r.notifyParam());
            }
            if (r.orcpt() != null) {
                b.append(" ORCPT=").append(r.orcpt());
            }
        }
        return b.toString();
    }

    /* generic - smtp_generic_maps: the envelope address as sent; outcomes and logs keep the original */
    private String generic(String address) {
        return SmtpGenericRewriter.envelope(settings.session().genericMaps(), address);
    }

    /* envelope - an address as sent: local part quoted when RFC 5321 requires it (smtp_quote_rfc821_envelope) */
    private String envelope(String address) {
        return settings.session().quoteRfc821Envelope() ? quote(address) : address;
    }

    /**
     * quote - RFC 5321 section 4.1.2: a local part that is not a Dot-string becomes a
     * Quoted-string, with backslash before '"' and '\'. An already quoted local part, the null
     * address and the domain are left alone.
     */
    static String quote(String address) {
        if (address.isEmpty()) {
            return address;
        }
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String domain = at < 0 ? "" : address.substring(at);
        if (local.length() >= 2 && local.startsWith("\"") && local.endsWith("\"") || isDotString(local)) {
            return address;
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < local.length(); i++) {
            char c = local.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').append(domain).toString();
    }

    /* isDotString - Atom *("." Atom), atext of RFC 5322 plus UTF-8 (RFC 6531) */
    private static boolean isDotString(String s) {
        if (s.isEmpty() || s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean atext = c >= 0x80 || Character.isLetterOrDigit(c) && c < 0x80 || "!#$%&'*+-/=?^_`{|}~.".indexOf(c) >= 0;
            if (!atext) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- outcomes and texts

    private static RecipientOutcome sent(OutboundRecipient r, SmtpReply reply) {
        return new RecipientOutcome(r.address(), Status.SENT, reply.dsn(), reply.text());
    }

    /*
     * checkCode - notify_classes = protocol: a reply reported as a failure that suggests a
     * protocol error - a code outside 4xx and 5xx, 500 to 509 (RFC 5321: syntax errors,
     * unrecognized commands) or 555 (RFC 1869: unknown MAIL/RCPT parameters) - marks this
     * delivery's transcript for the postmaster, as Postfix's smtp_check_code() does
     */
    private void checkCode(SmtpReply reply, SmtpTarget t) {
        int c = reply.code();
        if (history != null && protocolError == null && t != null
                && (c < 400 || c > 599 || c == 555 || (c >= 500 && c < 510))) {
            protocolError = t.relay();   // Postfix's namaddrport: host[addr]:port
        }
    }

    private RecipientOutcome failed(OutboundRecipient r, SmtpReply reply, SmtpStage stage) {
        checkCode(reply, target);
        return new RecipientOutcome(r.address(), status(reply), failureDsn(reply), said(target, reply, stage));
    }

    private static Status status(SmtpReply reply) {
        return reply.replyClass() == 5 ? Status.BOUNCED : Status.DEFERRED;
    }

    /* failureDsn - a 2xx or 3xx where a failure is reported (unexpected reply) is a temporary error */
    private static String failureDsn(SmtpReply reply) {
        int c = reply.replyClass();
        return c == 4 || c == 5 ? reply.dsn() : "4.0.0";
    }

    private static String said(SmtpTarget t, SmtpReply reply, SmtpStage stage) {
        return "host " + t.namaddr() + " said: " + reply.text() + " (in reply to " + stage.inReplyTo + ")";
    }

    private static String ioText(IOException e, SmtpTarget t, SmtpStage stage) {
        if (e instanceof SocketTimeoutException) {
            return "conversation with " + t.namaddr() + " timed out while " + stage.doing;
        }
        return "lost connection with " + t.namaddr() + " while " + stage.doing;
    }

    /* reason - the strerror-like text Postfix prints after "connect to ...: " */
    private static String reason(IOException e) {
        if (e instanceof SocketTimeoutException) {
            return "Connection timed out";
        }
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof NoRouteToHostException) {
            return "No route to host";
        }
        String msg = e.getMessage();
        if (e instanceof ConnectException && msg != null && msg.startsWith("Connection refused")) {
            return "Connection refused";
        }
        return msg != null ? msg : e.getClass().getSimpleName();
    }

    private static void fillAll(OutboundMessage m, RecipientOutcome[] out, Status status, String dsn, String text) {
        for (int i = 0; i < out.length; i++) {
            if (out[i] == null) {
                out[i] = new RecipientOutcome(m.recipients().get(i).address(), status, dsn, text);
            }
        }
    }

    /* unsafe - CR, LF or NUL in an envelope value would let it inject commands */
    private static boolean unsafe(String s) {
        return s != null && (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\0') >= 0);
    }

    private static boolean ascii(String s) {
        return s == null || s.chars().allMatch(c -> c < 0x80);
    }

    // ---------------------------------------------------------------- end of session

    /**
     * close - send QUIT (smtp_quit_timeout) and close; the reply is awaited only with
     * smtp_skip_quit_response = no (lmtp_skip_quit_response = no, the LMTP default).
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closeLocked();
        } finally {
            lock.unlock();
        }
    }

    private void closeLocked() {
        disarmReaper();
        if (stream == null) {
            return;
        }
        SmtpStream s = stream;
        stream = null;
        sendQuit(s);
    }

    /* sendQuit - QUIT on {@code s} within smtp_quit_timeout, the reply awaited unless skipped; then close */
    private void sendQuit(SmtpStream s) {
        try {
            if (settings.session().skipQuitResponse()) {
                s.limit(SmtpStage.QUIT.timeout(settings));
                s.command("QUIT");
                s.flush();
            } else {
                exchange(s, SmtpStage.QUIT, "QUIT");
            }
        } catch (IOException e) {
            // the session ends either way; a missing QUIT reply is no error (smtp_skip_quit_response)
        } finally {
            s.close();
        }
    }

    @Override
    public String toString() {
        return "SmtpClientSession[" + hop.destination() + ", " + relay() + "]";
    }

    /* CurrentStreamOutput - content bytes into the session's current stream (it changes on reconnect) */
    private final class CurrentStreamOutput extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            stream.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            stream.write(b, off, len);
        }
    }

    /* WriterOutput - bytes pushed into a content writer (dot-stuffing, folding) */
    private static final class WriterOutput extends OutputStream {
        private final SmtpContentWriter w;

        WriterOutput(SmtpContentWriter w) {
            this.w = w;
        }

        @Override
        public void write(int b) throws IOException {
            w.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            w.write(b, off, len);
        }
    }

    /* GuardedInput - tells a failure to read the stored content from a failure of the socket */
    private static final class GuardedInput extends FilterInputStream {
        GuardedInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new ContentReadException(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw new ContentReadException(e);
            }
        }
    }
}
