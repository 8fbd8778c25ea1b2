package org.postern.smtp;

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
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.postern.smtp.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.DeliveryOutcome.Status;
import org.postern.smtp.OutboundMessage.OutboundRecipient;
import org.postern.smtp.dns.DnsJavaResolver;
import org.postern.smtp.dns.DnsResolver;

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
 * After a transaction the session stays open; before the next one it sends RSET, and a
 * session that fails the RSET is retired and replaced by a new one, transparently. A
 * timeout, a lost connection or a 421 retires the session ({@link #isConnected} becomes
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
 * From {@link SmtpClientSettings}: smtp_helo_name/lmtp_lhlo_name, smtp_connect_timeout (30s),
 * smtp_helo_timeout (300s, also the greeting), smtp_mail_timeout (300s), smtp_rcpt_timeout
 * (300s), smtp_data_init_timeout (120s), smtp_data_xfer_timeout (180s, per write of content),
 * smtp_data_done_timeout (600s), smtp_rset_timeout (20s), smtp_quit_timeout (300s),
 * smtp_line_length_limit (998). Fixed for now: smtp_skip_5xx_greeting = yes,
 * smtp_randomize_addresses = yes.
 *
 * <h2>BUGS</h2>
 * No STARTTLS, AUTH, BDAT, XFORWARD; no 8BITMIME to 7BIT conversion; addresses are sent as
 * given (no smtp_quote_rfc821_envelope quoting); ENVID and ORCPT are sent as stored (xtext);
 * no fallback to the next MX after a 4xx within a transaction; no reuse count limit
 * (smtp_connection_cache_reuse_limit), which is left to the pool.
 * <p>
 * Not thread-safe: one session serves one delivery at a time.
 */
public final class SmtpClientSession implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");

    private final NextHop hop;
    private final SmtpClientSettings settings;
    private final SmtpTargetResolver targets;
    private final boolean lmtp;

    private SmtpStream stream;
    private SmtpTarget target;
    private SmtpFeatures features = SmtpFeatures.NONE;
    private boolean needsRset;
    private int transactions;

    public SmtpClientSession(NextHop hop, SmtpClientSettings settings) {
        this(hop, settings, DnsJavaResolver.system());
    }

    public SmtpClientSession(NextHop hop, SmtpClientSettings settings, DnsResolver dns) {
        this.hop = hop;
        this.settings = settings;
        this.targets = new SmtpTargetResolver(dns, new SecureRandom());
        this.lmtp = hop.protocol() == NextHop.Protocol.LMTP;
    }

    public NextHop hop() {
        return hop;
    }

    public SmtpClientSettings settings() {
        return settings;
    }

    /** isConnected - true while a live session is open (it will be reused by the next delivery). */
    public boolean isConnected() {
        return stream != null;
    }

    /** transactions - the number of mail transactions started on the current connection. */
    public int transactions() {
        return transactions;
    }

    /** relay - the peer as logged, or "none" when not connected. */
    public String relay() {
        return stream != null ? target.relay() : "none";
    }

    /** deliver - one mail transaction for {@code message}; never throws for a delivery problem. */
    public DeliveryOutcome deliver(OutboundMessage message) {
        long start = System.nanoTime();
        RecipientOutcome[] out = new RecipientOutcome[message.recipients().size()];
        if (stream != null && needsRset && !rset()) {
            retire("RSET probe failed");
        }
        Failure failure = stream == null ? open() : null;
        long connected = System.nanoTime();
        if (failure != null) {
            fillAll(message, out, failure.status, failure.dsn, failure.text);
            return outcome(failure.relay, out, start, connected);
        }
        String relay = target.relay();
        transact(message, out);
        return outcome(relay, out, start, connected);
    }

    private static DeliveryOutcome outcome(String relay, RecipientOutcome[] out, long start, long connected) {
        long end = System.nanoTime();
        return new DeliveryOutcome(relay, List.of(out), (connected - start) / 1e9, (end - connected) / 1e9);
    }

    // ---------------------------------------------------------------- connection set-up

    private record Failure(Status status, String dsn, String text, String relay) {
    }

    /* open - connect to the first target that greets and accepts EHLO/HELO/LHLO; else the last failure */
    private Failure open() {
        SmtpTargetResolver.Result r = targets.resolve(hop, settings.heloName());
        if (r.failure() != null) {
            return new Failure(r.failure().status(), r.failure().dsn(), r.failure().text(), "none");
        }
        Failure last = null;
        for (SmtpTarget t : r.targets()) {
            SmtpStream s;
            try {
                s = t.unixPath() != null
                        ? SmtpStream.connectUnix(Path.of(t.unixPath()), settings.connectTimeout())
                        : SmtpStream.connectTcp(new InetSocketAddress(t.address(), t.port()), settings.connectTimeout());
            } catch (IOException e) {
                String where = t.unixPath() != null ? t.namaddr() : t.namaddr() + ":" + t.port();
                last = new Failure(Status.DEFERRED, "4.4.1", "connect to " + where + ": " + reason(e), "none");
                LOG.log(Level.FINE, "PSTN3101: {0}", last.text);
                continue;
            }
            last = handshake(s, t);
            if (last == null) {
                stream = s;
                target = t;
                needsRset = false;
                transactions = 0;
                LOG.log(Level.FINE, "PSTN3100: connected to {0} for {1}", new Object[] {t.relay(), hop.destination()});
                return null;
            }
            s.close();
            LOG.log(Level.FINE, "PSTN3102: {0}", last.text);
        }
        return last;
    }

    /* handshake - greeting and EHLO/HELO/LHLO; null on success */
    private Failure handshake(SmtpStream s, SmtpTarget t) {
        SmtpStage stage = SmtpStage.GREETING;
        try {
            s.limit(stage.timeout(settings));
            SmtpReply greeting = s.readReply();
            if (!greeting.positive()) {
                // smtp_skip_5xx_greeting = yes: a 5xx greeting means "skip this server", not "bounce"
                String dsn = "4" + greeting.dsn().substring(1);
                return new Failure(Status.DEFERRED, dsn,
                        "host " + t.namaddr() + " refused to talk to me: " + greeting.text(), t.relay());
            }
            stage = lmtp ? SmtpStage.LHLO : SmtpStage.EHLO;
            SmtpReply ehlo = exchange(s, stage, (lmtp ? "LHLO " : "EHLO ") + settings.heloName());
            if (ehlo.positive()) {
                features = SmtpFeatures.parse(ehlo);
                return null;
            }
            if (lmtp || ehlo.replyClass() != 5) {
                return replyFailure(t, ehlo, stage);
            }
            stage = SmtpStage.HELO;
            SmtpReply helo = exchange(s, stage, "HELO " + settings.heloName());
            if (helo.positive()) {
                features = SmtpFeatures.NONE;
                return null;
            }
            return replyFailure(t, helo, stage);
        } catch (IOException e) {
            return new Failure(Status.DEFERRED, "4.4.2", ioText(e, t, stage), t.relay());
        }
    }

    private Failure replyFailure(SmtpTarget t, SmtpReply reply, SmtpStage stage) {
        return new Failure(status(reply), failureDsn(reply), said(t, reply, stage), t.relay());
    }

    private SmtpReply exchange(SmtpStream s, SmtpStage stage, String command) throws IOException {
        s.limit(stage.timeout(settings));
        s.command(command);
        s.flush();
        return s.readReply();
    }

    /* rset - verify that a cached session is still usable (smtp_rset_timeout) */
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

    private void transact(OutboundMessage m, RecipientOutcome[] out) {
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
        boolean utf8 = !ascii(m.sender()) || rcpts.stream().anyMatch(r -> !ascii(r.address()));
        if (utf8 && !features.smtpUtf8()) {
            fillAll(m, out, Status.BOUNCED, "5.6.7",
                    "SMTPUTF8 is required, but was not offered by host " + target.namaddr());
            return;
        }
        List<Integer> sendable = new ArrayList<>();
        for (int i = 0; i < rcpts.size(); i++) {
            OutboundRecipient r = rcpts.get(i);
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
            content = m.content().open();
        } catch (IOException e) {
            fillAll(m, out, Status.DEFERRED, "4.3.0", "error reading message content: " + e.getMessage());
            return;
        }
        needsRset = true;
        transactions++;
        SmtpStage stage = SmtpStage.MAIL;
        try (InputStream in = content) {
            stage = run(m, out, sendable, in);
        } catch (ContentReadException e) {
            // the peer has part of the message: only closing the connection aborts it safely
            fillAll(m, out, Status.DEFERRED, "4.3.0", "error reading message content: " + e.getMessage());
            retire("content read error");
        } catch (StageException e) {
            String text = ioText(e.cause, target, e.stage);
            LOG.log(Level.FINE, "PSTN3104: {0}", text);
            fillAll(m, out, Status.DEFERRED, "4.4.2", text);
            retire(text);
        } catch (IOException e) {
            // closing the content stream failed: the transaction itself is complete
            LOG.log(Level.FINE, "PSTN3105: closing content of {0}: {1}", new Object[] {m.queueId(), e.getMessage()});
        }
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
    private SmtpStage run(OutboundMessage m, RecipientOutcome[] out, List<Integer> sendable, InputStream content)
            throws IOException {
        List<OutboundRecipient> rcpts = m.recipients();
        String mail = mailCommand(m);
        List<String> rcptCommands = new ArrayList<>();
        for (int i : sendable) {
            rcptCommands.add(rcptCommand(rcpts.get(i)));
        }
        boolean pipelining = features.pipelining();
        SmtpStage stage = SmtpStage.MAIL;
        try {
            if (pipelining) {
                // RFC 2920: MAIL, RCPT and DATA may be sent as one group; the replies come in order
                stream.limit(stage.timeout(settings));
                stream.command(mail);
                for (String c : rcptCommands) {
                    stream.command(c);
                }
                stream.command("DATA");
                stream.flush();
            }
            SmtpReply mailReply = pipelining ? read(stage) : exchange(stream, stage, mail);
            boolean mailOk = mailReply.positive();
            if (!mailOk) {
                for (int i : sendable) {
                    out[i] = failed(rcpts.get(i), mailReply, stage);
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
                if (r.positive()) {
                    accepted.add(i);
                } else {
                    out[i] = failed(rcpts.get(i), r, stage);
                }
            }
            stage = SmtpStage.DATA;
            SmtpReply dataReply;
            if (pipelining) {
                dataReply = read(stage);
            } else if (accepted.isEmpty()) {
                closeIf421(last421);
                return stage;      // no recipient accepted: no DATA; RSET before the next use
            } else {
                dataReply = exchange(stream, stage, "DATA");
            }
            if (dataReply.replyClass() != 3) {
                for (int i : accepted) {
                    out[i] = failed(rcpts.get(i), dataReply, stage);
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
                return stage;
            }
            stage = SmtpStage.BODY;
            stream.limit(stage.timeout(settings));
            new SmtpContentWriter(new StreamOutput(stream), settings.lineLengthLimit()).copy(new GuardedInput(content));
            stream.flush();
            stage = SmtpStage.DOT;
            stream.limit(stage.timeout(settings));
            stream.command(".");
            stream.flush();
            if (lmtp) {
                // RFC 2033 section 4.2: one reply per accepted recipient, in RCPT order
                for (int i : accepted) {
                    SmtpReply r = stream.readReply();
                    out[i] = r.positive() ? sent(rcpts.get(i), r) : failed(rcpts.get(i), r, stage);
                }
            } else {
                SmtpReply r = stream.readReply();
                for (int i : accepted) {
                    out[i] = r.positive() ? sent(rcpts.get(i), r) : failed(rcpts.get(i), r, stage);
                }
                closeIf421(r);
            }
            return stage;
        } catch (ContentReadException e) {
            throw e;
        } catch (IOException e) {
            throw new StageException(stage, e);
        }
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

    private String mailCommand(OutboundMessage m) {
        StringBuilder b = new StringBuilder("MAIL FROM:<").append(m.sender()).append('>');
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
        StringBuilder b = new StringBuilder("RCPT TO:<").append(r.address()).append('>');
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

    // ---------------------------------------------------------------- outcomes and texts

    private static RecipientOutcome sent(OutboundRecipient r, SmtpReply reply) {
        return new RecipientOutcome(r.address(), Status.SENT, reply.dsn(), reply.text());
    }

    private RecipientOutcome failed(OutboundRecipient r, SmtpReply reply, SmtpStage stage) {
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

    /** close - send QUIT (smtp_quit_timeout; the reply is read but not required) and close. */
    @Override
    public void close() {
        if (stream == null) {
            return;
        }
        try {
            exchange(stream, SmtpStage.QUIT, "QUIT");
        } catch (IOException e) {
            // the session ends either way; a missing QUIT reply is no error (smtp_skip_quit_response)
        } finally {
            stream.close();
            stream = null;
        }
    }

    @Override
    public String toString() {
        return "SmtpClientSession[" + hop.destination() + ", " + relay() + "]";
    }

    /* StreamOutput - content bytes into the session stream */
    private static final class StreamOutput extends OutputStream {
        private final SmtpStream s;

        StreamOutput(SmtpStream s) {
            this.s = s;
        }

        @Override
        public void write(int b) throws IOException {
            s.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            s.write(b, off, len);
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
