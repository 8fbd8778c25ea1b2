package org.postern.smtpd;

import static org.postern.smtpd.SmtpdChat.printable;
import static org.postern.smtpd.SmtpdReplies.AUTH_FAILED;
import static org.postern.smtpd.SmtpdReplies.AUTH_OK;
import static org.postern.smtpd.SmtpdReplies.AUTH_SYNTAX;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.logging.Level;

/**
 * AuthCommand - the AUTH command and the SASL state of one SMTP session.
 *
 * <h2>NAME</h2>
 * AuthCommand - Postfix smtpd_sasl_proto.c (the AUTH command) and smtpd_sasl_glue.c (the
 * exchange with the authentication server), for the PLAIN and LOGIN mechanisms.
 *
 * <h2>DESCRIPTION</h2>
 * AUTH PLAIN [initial-response] and AUTH LOGIN [initial-response] (RFC 4954, RFC 4616):
 * the client's response lines come back here ({@link #response}) while
 * {@link #inExchange} is true; "*" cancels. The credentials are checked by the
 * {@link SmtpdAuthenticator} on the blocking executor while reads wait. A success
 * makes the login name and method ({@link #username}, {@link #method}) known to the
 * access policy, the Received: header ("ESMTPA") and the log; a failure counts as an
 * error (tarpit, hard limit). The login is forgotten when TLS starts ({@link #reset}).
 *
 * <h2>SECURITY</h2>
 * Credentials are never logged nor kept in a transcript (see {@link SmtpdChat#text});
 * the password is wiped from memory once the authenticator has answered. A second
 * AUTH after a success is refused. Commands pipelined behind AUTH run only after its
 * reply, with its outcome (reads wait for the authenticator); no mechanism here has a
 * security layer, so there is no plaintext to discard as after STARTTLS. Behind AUTH
 * PLAIN with its initial response they are legal (RFC 4954 4); behind any other AUTH
 * they are improper pipelining and, while the exchange lasts, SASL responses.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_sasl_auth_enable, smtpd_sasl_type, smtpd_tls_auth_only, smtpd_helo_required.
 *
 * <h2>BUGS</h2>
 * The authenticator exists for smtpd_sasl_type = dovecot only (no WildFly Elytron
 * binding yet).
 *
 * <h2>SEE ALSO</h2>
 * {@link DovecotAuthenticator}, RFC 4954, RFC 4616, Postfix SASL_README.
 */
final class AuthCommand {
    /** Where the SASL exchange stands: which response line comes next. */
    private enum Stage { NONE, PLAIN, LOGIN_USER, LOGIN_PASS }

    private final SmtpdSession s;
    private final SmtpdSettings settings;
    private Stage stage = Stage.NONE;
    private String loginUser;
    private String username;
    private String method;

    AuthCommand(SmtpdSession session, SmtpdSettings settings) {
        this.s = session;
        this.settings = settings;
    }

    /** username - the SASL login name, or null when the client has not authenticated. */
    String username() {
        return username;
    }

    /** method - the SASL mechanism of the login, or null. */
    String method() {
        return method;
    }

    /** inExchange - true while the next client line is a SASL response. */
    boolean inExchange() {
        return stage != Stage.NONE;
    }

    /** reset - TLS has started: forget the login and any exchange (RFC 3207 4.2). */
    void reset() {
        username = null;
        method = null;
        stage = Stage.NONE;
    }

    /**
     * auth - AUTH PLAIN [initial-response] or AUTH LOGIN [initial-response] (RFC 4954,
     * RFC 4616). Credentials are checked by the {@link SmtpdAuthenticator} on the blocking
     * executor; a failure counts as an error (tarpit, hard limit). True while the
     * exchange goes on or is being checked. Whether AUTH is offered, the HELO requirement
     * and "no transaction" are checks of the command table.
     */
    boolean auth(String arg) {
        if (username != null) {
            return s.error("503 5.5.1 Error: already authenticated");
        }
        String[] words = arg.trim().split("[ \t]+");
        if (arg.isBlank() || words.length > 2) {
            return s.error(AUTH_SYNTAX);
        }
        String mechanism = words[0].toUpperCase(Locale.ROOT);
        String initial = words.length == 2 ? words[1] : null;
        if (mechanism.equals("PLAIN")) {
            if (initial == null) {
                stage = Stage.PLAIN;
                s.reply("334 ");
                return true;
            }
            stage = Stage.PLAIN;
            response(initial.equals("=") ? "" : initial);
            return true;
        }
        if (mechanism.equals("LOGIN")) {
            stage = Stage.LOGIN_USER;
            if (initial == null) {
                s.reply("334 VXNlcm5hbWU6"); // "Username:"
                return true;
            }
            response(initial.equals("=") ? "" : initial);
            return true;
        }
        return s.error("535 5.7.8 Error: authentication failed: Invalid authentication mechanism");
    }

    /**
     * completesInOneRoundTrip - the AUTH argument names PLAIN and carries the initial
     * response: the exchange ends with the server's reply, and neither mechanism offered
     * here negotiates a security layer, so commands may follow in the same pipelined
     * group (RFC 4954 4). AUTH LOGIN, or any AUTH without a response, must end the group:
     * a line sent ahead is taken as the next SASL response, never as a command.
     */
    static boolean completesInOneRoundTrip(String arg) {
        String[] words = arg.trim().split("[ \t]+");
        return words.length == 2 && words[0].equalsIgnoreCase("PLAIN");
    }

    /** response - one client line of the SASL exchange: base64, or "*" to cancel. */
    void response(String text) {
        Stage current = stage;
        stage = Stage.NONE;
        if (text.equals("*")) {
            s.chat.count("auth", false);
            s.error("501 5.7.0 Authentication aborted");
            return;
        }
        byte[] decoded;
        try {
            decoded = java.util.Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            s.chat.count("auth", false);
            s.error("501 5.5.2 Cannot decode response");
            return;
        }
        switch (current) {
            case LOGIN_USER:
                loginUser = new String(decoded, StandardCharsets.UTF_8);
                stage = Stage.LOGIN_PASS;
                s.reply("334 UGFzc3dvcmQ6"); // "Password:"
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

    /** indexOf - the first NUL octet at or after from, or -1. */
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
        s.runBlocking(() -> {
            try {
                outcome[0] = settings.security().authenticator().authenticate(authzid, username, secret) ? 1 : 0;
            } catch (RuntimeException e) {
                SmtpdSession.LOG.log(Level.WARNING, "PSTN1009: " + s.namaddr() + ": authenticator failed", e);
                outcome[0] = 2;
            } finally {
                Arrays.fill(secret, '\0');
            }
        }, () -> {
            if (outcome[0] == 1) {
                this.username = username;
                this.method = method;
                s.chat.count("auth", true);
                s.reply(AUTH_OK);
            } else {
                authFailed(method, username, outcome[0] == 2 ? "454 4.7.0 Temporary authentication failure"
                        : AUTH_FAILED);
                s.hardErrorLimit();
            }
        });
    }

    /** authFailed - log as Postfix does, count the error, reply. */
    private void authFailed(String method, String username, String reply) {
        s.maillog.warning("warning: " + s.namaddr() + ": SASL " + method
                + " authentication failed: authentication failure"
                + (username == null ? "" : ", sasl_username=" + printable(username, 100)));
        s.chat.count("auth", false);
        s.error(reply);
    }
}
