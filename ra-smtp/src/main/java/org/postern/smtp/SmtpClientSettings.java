package org.postern.smtp;

import java.io.Serializable;
import java.time.Duration;

/**
 * SmtpClientSettings - the client parameters of one delivery, taken from main.cf with the
 * smtp_* names or, for LMTP, the lmtp_* names (as Postfix's smtp(8) does in LMTP mode).
 *
 * @param heloName           smtp_helo_name / lmtp_lhlo_name (default $myhostname)
 * @param connectTimeout     smtp_connect_timeout (30s) / lmtp_connect_timeout (0s = OS default)
 * @param heloTimeout        smtp_helo_timeout (300s) / lmtp_lhlo_timeout (300s)
 * @param mailTimeout        smtp_mail_timeout (300s)
 * @param rcptTimeout        smtp_rcpt_timeout (300s)
 * @param dataInitTimeout    smtp_data_init_timeout (120s)
 * @param dataXferTimeout    smtp_data_xfer_timeout (180s)
 * @param dataDoneTimeout    smtp_data_done_timeout (600s)
 * @param rsetTimeout        smtp_rset_timeout (20s)
 * @param quitTimeout        smtp_quit_timeout (300s)
 * @param lineLengthLimit    smtp_line_length_limit (998)
 */
public record SmtpClientSettings(String heloName, Duration connectTimeout, Duration heloTimeout,
                                 Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
                                 Duration dataXferTimeout, Duration dataDoneTimeout, Duration rsetTimeout,
                                 Duration quitTimeout, int lineLengthLimit) implements Serializable {

    /** defaults - Postfix's defaults, with the given helo name. */
    public static SmtpClientSettings defaults(String heloName) {
        return new SmtpClientSettings(heloName, Duration.ofSeconds(30), Duration.ofSeconds(300),
                Duration.ofSeconds(300), Duration.ofSeconds(300), Duration.ofSeconds(120),
                Duration.ofSeconds(180), Duration.ofSeconds(600), Duration.ofSeconds(20),
                Duration.ofSeconds(300), 998);
    }
}
