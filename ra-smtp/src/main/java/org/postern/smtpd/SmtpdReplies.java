package org.postern.smtpd;

/**
 * SmtpdReplies - the fixed reply texts of the SMTP server, in one table.
 *
 * <h2>NAME</h2>
 * SmtpdReplies - the replies of Postfix smtpd(8) (smtpd.c, smtpd_sasl_proto.c), with
 * their enhanced status codes (RFC 3463), word for word.
 *
 * <h2>DESCRIPTION</h2>
 * One constant per fixed reply, used by the command handlers and by
 * {@link SmtpdSession#error}, which derives a reply's notify_classes class from it
 * (resource, policy, software, protocol). Replies with variable parts (a host name, a
 * count, a domain) are built where they are sent.
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321 4.2, RFC 3463, Postfix smtpd(8).
 */
final class SmtpdReplies {
    static final String OK = "250 2.0.0 Ok";
    static final String MAIL_OK = "250 2.1.0 Ok";
    static final String RCPT_OK = "250 2.1.5 Ok";
    static final String DATA_GO = "354 End data with <CR><LF>.<CR><LF>";
    static final String BYE = "221 2.0.0 Bye";
    static final String NOT_RECOGNIZED = "500 5.5.2 Error: command not recognized";
    static final String NOT_IMPLEMENTED = "502 5.5.1 Error: command not implemented";
    static final String BAD_SYNTAX = "500 5.5.2 Error: bad syntax";
    static final String BAD_UTF8 = "500 5.5.2 Error: bad UTF-8 syntax";
    static final String HELO_SYNTAX = "501 Syntax: HELO hostname";
    static final String EHLO_SYNTAX = "501 Syntax: EHLO hostname";
    static final String MAIL_SYNTAX = "501 5.5.4 Syntax: MAIL FROM:<address>";
    static final String RCPT_SYNTAX = "501 5.5.4 Syntax: RCPT TO:<address>";
    static final String DATA_SYNTAX = "501 5.5.4 Syntax: DATA";
    static final String RSET_SYNTAX = "501 5.5.4 Syntax: RSET";
    static final String VRFY_SYNTAX = "501 5.5.4 Syntax: VRFY address";
    static final String VRFY_DISABLED = "502 5.5.1 VRFY command is disabled";
    static final String NEED_HELO = "503 5.5.1 Error: send HELO/EHLO first";
    /** ETRN replies: Postfix's texts, as the ETRN howto shows them */
    static final String ETRN_STARTED = "250 Queuing started";
    static final String ETRN_FAILED = org.postern.smtpd.api.SmtpdListener.ETRN_FAILED;
    static final String ETRN_SYNTAX = "500 5.5.2 Syntax: ETRN domain";
    static final String ETRN_BAD_DOMAIN = "501 5.5.4 Error: invalid parameter syntax";
    static final String IN_TRANSACTION = "503 5.5.1 Error: MAIL transaction in progress";
    static final String NESTED_MAIL = "503 5.5.1 Error: nested MAIL command";
    static final String NEED_MAIL = "503 5.5.1 Error: need MAIL command";
    static final String NEED_RCPT = "503 5.5.1 Error: need RCPT command";
    static final String NO_VALID_RCPT = "554 5.5.1 Error: no valid recipients";
    static final String BAD_SENDER = "501 5.1.7 Bad sender address syntax";
    static final String BAD_RECIPIENT = "501 5.1.3 Bad recipient address syntax";
    static final String BAD_SIZE = "501 5.5.4 Bad message size syntax";
    static final String SIZE_IMPOSSIBLE = "552 5.3.4 Message size exceeds file system imposed limit";
    static final String SIZE_EXCEEDS = "552 5.3.4 Message size exceeds fixed limit";
    static final String BAD_RET = "501 5.5.4 Bad RET parameter syntax";
    static final String BAD_ENVID = "501 5.5.4 Bad ENVID parameter syntax";
    static final String BAD_NOTIFY = "501 5.5.4 Error: Bad NOTIFY parameter syntax";
    static final String BAD_ORCPT = "501 5.5.4 Error: Bad ORCPT parameter syntax";
    static final String NEED_SMTPUTF8 = "553 5.6.7 Must declare SMTPUTF8 to send unicode address";
    static final String TOO_MANY_RCPT = "452 4.5.3 Error: too many recipients";
    static final String TOO_BIG = "552 5.3.4 Error: message file too big";
    static final String TOO_MANY_HOPS = "554 5.4.0 Error: too many hops";
    static final String NO_STORAGE = "452 4.3.1 Insufficient system storage";
    static final String STARTTLS_GO = "220 2.0.0 Ready to start TLS";
    static final String STARTTLS_SYNTAX = "501 5.5.4 Syntax: STARTTLS";
    static final String TLS_ACTIVE = "554 5.5.1 Error: TLS already active";
    static final String NEED_STARTTLS = "530 5.7.0 Must issue a STARTTLS command first";
    static final String BDAT_SYNTAX = "521 5.5.4 Syntax: BDAT count [LAST]";
    static final String AUTH_OK = "235 2.7.0 Authentication successful";
    static final String AUTH_FAILED = "535 5.7.8 Error: authentication failed: authentication failure";
    static final String AUTH_NOT_ENABLED = "503 5.5.1 Error: authentication not enabled";
    static final String AUTH_SYNTAX = "501 5.5.4 Syntax: AUTH mechanism";
    static final String DATA_AFTER_BDAT = "503 5.5.1 Error: DATA after BDAT";
    static final String WRITE_ERROR = "451 4.3.0 Error: queue file write error";
    static final String BREAK_RULES = "221 2.7.0 Error: I can break rules, too. Goodbye.";
    /** HELP: Postfix 3.10+ lists the implemented commands, sorted. */
    static final String HELP = "214 2.0.0 Commands: DATA EHLO ETRN HELO HELP MAIL NOOP QUIT RCPT RSET VRFY";

    private SmtpdReplies() {
    }
}
