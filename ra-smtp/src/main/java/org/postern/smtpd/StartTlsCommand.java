package org.postern.smtpd;

import static org.postern.smtpd.SmtpdReplies.NOT_IMPLEMENTED;
import static org.postern.smtpd.SmtpdReplies.STARTTLS_GO;
import static org.postern.smtpd.SmtpdReplies.STARTTLS_SYNTAX;
import static org.postern.smtpd.SmtpdReplies.TLS_ACTIVE;

/**
 * StartTlsCommand - the STARTTLS command of one SMTP session, and the start of TLS.
 *
 * <h2>NAME</h2>
 * StartTlsCommand - Postfix smtpd.c's starttls_cmd() and the session reset that follows
 * the handshake (RFC 3207).
 *
 * <h2>DESCRIPTION</h2>
 * STARTTLS answers 220, and then the transport puts TLS under the session
 * ({@link SmtpdTransport#startTls}). When the handshake is done ({@link #started}, also
 * at once in wrapper mode) the TLS connection is logged as Postfix does
 * ("Anonymous TLS connection established from ..."), and after STARTTLS the session
 * starts over: no HELO, no transaction, no SASL login (RFC 3207 4.2).
 *
 * <h2>SECURITY</h2>
 * Any plaintext the client pipelined after the command is discarded, and nothing that
 * arrives before the handshake is acted on: the CVE-2011-0411 command injection.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_tls_security_level, smtpd_tls_wrappermode, and the certificate parameters of
 * {@link SmtpdSettings}.
 *
 * <h2>SEE ALSO</h2>
 * RFC 3207, Postfix TLS_README.
 *
 * @param s        the session
 * @param settings its service's parameters
 */
record StartTlsCommand(SmtpdSession s, SmtpdSettings settings) {

    /**
     * starttls - STARTTLS (RFC 3207): answer 220, then the transport switches to TLS. Any
     * plaintext the client pipelined after the command is discarded, and when the
     * handshake is done ({@link #started}) the session starts over: no HELO, no
     * transaction (RFC 3207 4.2; the CVE-2011-0411 command injection).
     */
    boolean starttls(String arg) {
        if (!arg.isEmpty()) {
            return s.error(STARTTLS_SYNTAX);
        }
        if (s.tls) {
            return s.error(TLS_ACTIVE);
        }
        if (!settings.offersStartTls()) {
            return s.error(NOT_IMPLEMENTED);
        }
        s.reply(STARTTLS_GO);
        s.tlsPending = true;
        s.framer.discard();
        s.transport.startTls();
        return true;
    }

    /**
     * started - the TLS handshake is done (after STARTTLS, or at once in wrapper mode):
     * forget everything learned in plaintext and log it as Postfix does.
     */
    void started(String tlsProtocol, String cipher) {
        s.tls = true;
        if (s.tlsPending) {
            s.tlsPending = false;
            s.framer.restart();
            s.resetTransaction();
            s.helo = null;
            s.protocol = "SMTP";
            s.auth.reset();
        }
        int bits = cipherBits(cipher);
        s.maillog.info("Anonymous TLS connection established from " + s.namaddr() + ": " + tlsProtocol
                + " with cipher " + cipher + (bits > 0 ? " (" + bits + "/" + bits + " bits)" : ""));
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
}
