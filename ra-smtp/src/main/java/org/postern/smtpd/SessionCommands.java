package org.postern.smtpd;

import static org.postern.smtpd.SmtpdReplies.BAD_RECIPIENT;
import static org.postern.smtpd.SmtpdReplies.BYE;
import static org.postern.smtpd.SmtpdReplies.HELP;
import static org.postern.smtpd.SmtpdReplies.OK;
import static org.postern.smtpd.SmtpdReplies.RSET_SYNTAX;
import static org.postern.smtpd.SmtpdReplies.VRFY_DISABLED;
import static org.postern.smtpd.SmtpdReplies.VRFY_SYNTAX;

import org.postern.mail.AddressSyntaxException;
import org.postern.mail.MailPath;

/**
 * SessionCommands - the commands of one SMTP session that carry no mail: RSET, NOOP,
 * VRFY, QUIT and HELP.
 *
 * <h2>NAME</h2>
 * SessionCommands - Postfix smtpd.c's rset_cmd(), noop_cmd(), vrfy_cmd(), quit_cmd()
 * and help (Postfix 3.10+).
 *
 * <h2>DESCRIPTION</h2>
 * RSET aborts the transaction; NOOP answers 250 (with any argument, RFC 5321
 * 4.1.1.9); VRFY answers 252 with its argument, as Postfix does without address
 * verification, unless disable_vrfy_command = yes; QUIT says goodbye and closes; HELP
 * lists the implemented commands. RSET, NOOP and VRFY count towards
 * smtpd_junk_command_limit (a flag of the command table, {@link SmtpdCommands}).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * disable_vrfy_command, smtpd_junk_command_limit.
 *
 * <h2>SEE ALSO</h2>
 * RFC 5321 4.1.1.5, 4.1.1.6, 4.1.1.9 and 4.1.1.10, Postfix smtpd(8).
 *
 * @param s        the session
 * @param settings its service's parameters
 */
record SessionCommands(SmtpdSession s, SmtpdSettings settings) {

    /** rset - RSET: abort the transaction. */
    boolean rset(String arg) {
        if (!arg.isEmpty()) {
            return s.error(RSET_SYNTAX);
        }
        s.resetTransaction();
        s.chat.flush();
        s.reply(OK);
        return true;
    }

    /** noop - NOOP [string] (RFC 5321 4.1.1.9 allows an argument). */
    boolean noop() {
        s.reply(OK);
        return true;
    }

    /** vrfy - VRFY address: without address verification Postfix answers 252 with the argument. */
    boolean vrfy(String arg) {
        if (settings.protocol().disableVrfy()) {
            return s.error(VRFY_DISABLED);
        }
        if (arg.isEmpty()) {
            return s.error(VRFY_SYNTAX);
        }
        try {
            MailPath path = MailPath.parse(arg);
            if (path.isNull() || !path.params().isEmpty()) {
                return s.error(BAD_RECIPIENT);
            }
        } catch (AddressSyntaxException e) {
            return s.error(BAD_RECIPIENT);
        }
        s.reply("252 2.0.0 " + arg);
        return true;
    }

    /** quit - QUIT: say goodbye and close. */
    boolean quit() {
        s.reply(BYE);
        s.hangup();
        return true;
    }

    /**
     * help - HELP: Postfix before 3.10 answered "500 5.5.2 Error: command not recognized";
     * later versions list the implemented commands, which we do.
     */
    boolean help() {
        s.reply(HELP);
        return true;
    }
}
