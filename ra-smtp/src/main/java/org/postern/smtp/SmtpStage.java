package org.postern.smtp;

import org.postern.smtp.api.SmtpClientSettings;
import java.time.Duration;
import java.util.function.Function;

/**
 * SmtpStage - the stages of a client session, with the words Postfix uses for them in
 * "lost connection with X while ..." and "conversation with X timed out while ...", the
 * command named in "(in reply to ... command)", and the timeout parameter of each.
 */
enum SmtpStage {
    GREETING("receiving the initial server greeting", "initial greeting", SmtpClientSettings::heloTimeout),
    EHLO("performing the EHLO handshake", "EHLO command", SmtpClientSettings::heloTimeout),
    HELO("performing the HELO handshake", "HELO command", SmtpClientSettings::heloTimeout),
    LHLO("performing the LHLO handshake", "LHLO command", SmtpClientSettings::heloTimeout),
    STARTTLS("receiving the STARTTLS response", "STARTTLS command", s -> s.tls().starttlsTimeout()),
    AUTH("performing the AUTH handshake", "AUTH command", SmtpClientSettings::heloTimeout),
    /* XFORWARD NAME, ADDR, PORT; then PROTO, HELO, IDENT, SOURCE: smtp_xforward_timeout (Postfix's words) */
    XFORWARD_NAME_ADDR("sending XFORWARD name/address", "XFORWARD name/address command",
            s -> s.session().xforwardTimeout()),
    XFORWARD_PROTO_HELO("sending XFORWARD protocol/helo_name", "XFORWARD helo/protocol command",
            s -> s.session().xforwardTimeout()),
    MAIL("sending MAIL FROM", "MAIL FROM command", SmtpClientSettings::mailTimeout),
    RCPT("sending RCPT TO", "RCPT TO command", SmtpClientSettings::rcptTimeout),
    DATA("sending DATA command", "DATA command", SmtpClientSettings::dataInitTimeout),
    BODY("sending message body", "end of DATA command", SmtpClientSettings::dataXferTimeout),
    DOT("sending end of data -- message may be sent more than once", "end of DATA command",
            SmtpClientSettings::dataDoneTimeout),
    /* CHUNKING (RFC 3030), which Postfix's client does not send: the words of BODY and DOT, the command BDAT */
    BDAT("sending message body", "BDAT command", SmtpClientSettings::dataXferTimeout),
    BDAT_LAST("sending end of data -- message may be sent more than once", "BDAT LAST command",
            SmtpClientSettings::dataDoneTimeout),
    RSET("sending RSET probe", "RSET command", SmtpClientSettings::rsetTimeout),
    QUIT("sending QUIT", "QUIT command", SmtpClientSettings::quitTimeout);

    final String doing;
    final String inReplyTo;
    private final Function<SmtpClientSettings, Duration> timeout;

    SmtpStage(String doing, String inReplyTo, Function<SmtpClientSettings, Duration> timeout) {
        this.doing = doing;
        this.inReplyTo = inReplyTo;
        this.timeout = timeout;
    }

    /** endOfData - the whole message has gone out: the server may have it, a failure now may mean a duplicate. */
    boolean endOfData() {
        return this == DOT || this == BDAT_LAST;
    }

    /** timeout - this stage's time limit per read or write under these settings. */
    Duration timeout(SmtpClientSettings settings) {
        return timeout.apply(settings);
    }
}
