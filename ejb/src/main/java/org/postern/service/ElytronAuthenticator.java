package org.postern.service;

import java.util.logging.Logger;
import org.wildfly.security.auth.server.RealmUnavailableException;
import org.wildfly.security.auth.server.SecurityDomain;
import org.wildfly.security.auth.server.ServerAuthenticationContext;
import org.wildfly.security.evidence.PasswordGuessEvidence;

/**
 * ElytronAuthenticator - SMTP AUTH (smtpd_sasl_type = elytron) against a WildFly Elytron
 * security domain.
 *
 * <h2>DESCRIPTION</h2>
 * The domain is the one WildFly associates with Postern's EJB deployment: the
 * {@code postern} application-security-domain of the ejb3 subsystem, which
 * {@code wildfly-config/src/main/cli/configure-security.cli} maps to
 * {@code ApplicationDomain} (the users of {@code add-user.sh -a}). An administrator puts
 * SMTP AUTH on LDAP, a database or a Kerberos-backed domain by pointing that mapping at
 * another Elytron security-domain; Postern does not change.
 *
 * <p>A login succeeds when the realm verifies the password and the domain's permission
 * mapper grants the identity {@code LoginPermission}, exactly as for a web or EJB login.
 * A PLAIN authorization identity other than the user is accepted only when the domain
 * lets the user run as it ({@code RunAsPrincipalPermission}), so a client cannot pick
 * somebody else's name for {@code sasl_username} and the relay decisions that depend on it.
 *
 * <h2>SECURITY</h2>
 * Passwords arrive from the network through the resource adapter and go to the realm as
 * evidence, which is destroyed afterwards; they are never logged. A realm that cannot
 * answer (LDAP down) is reported as unavailable, which the session answers with
 * {@code 454 4.7.0 Temporary authentication failure}, never as a success.
 *
 * <h2>SEE ALSO</h2>
 * SmtpdEndpoint, smtpd(8) smtpd_sasl_auth_enable, smtpd_sasl_type, smtpd_tls_auth_only
 */
public final class ElytronAuthenticator {
    private static final Logger LOG = Logger.getLogger("org.postern.service");

    private ElytronAuthenticator() {
    }

    /**
     * authenticate - true when password is right for username and username may log in and
     * act as authzid; false otherwise.
     *
     * @throws IllegalStateException when there is no security domain or its realm cannot
     *                               answer now
     */
    public static boolean authenticate(String authzid, String username, char[] password) {
        SecurityDomain domain = SecurityDomain.getCurrent();
        if (domain == null) {
            throw new IllegalStateException("PSTN4120: no Elytron security domain is associated with the Postern "
                    + "deployment (is the postern application-security-domain missing? see configure-security.cli)");
        }
        PasswordGuessEvidence evidence = new PasswordGuessEvidence(password.clone());
        ServerAuthenticationContext context = domain.createNewAuthenticationContext();
        try {
            context.setAuthenticationName(username);
            if (!context.exists() || !context.verifyEvidence(evidence)) {
                context.fail();
                return false;
            }
            boolean authorized = authzid.isEmpty() || authzid.equals(username)
                    ? context.authorize() : context.authorize(authzid);
            if (!authorized) {
                LOG.fine(() -> "PSTN4121: " + username + " may not log in"
                        + (authzid.isEmpty() ? "" : " as " + authzid));
                context.fail();
                return false;
            }
            context.succeed();
            return true;
        } catch (RealmUnavailableException e) {
            throw new IllegalStateException("PSTN4122: security realm unavailable: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            // a name the realm's name rewriter or principal decoder refuses: a wrong login
            context.fail();
            return false;
        } finally {
            evidence.destroy();
        }
    }
}
