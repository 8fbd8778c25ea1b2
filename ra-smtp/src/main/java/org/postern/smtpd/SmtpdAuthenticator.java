package org.postern.smtpd;

/**
 * SmtpdAuthenticator - checks the credentials of SMTP AUTH (RFC 4954) PLAIN and LOGIN.
 *
 * <p>Called on the blocking executor (never on an event loop), because a security
 * domain or a directory may take its time. Implementations must be thread-safe.
 */
public interface SmtpdAuthenticator {

    /**
     * authenticate - true when the password is right for username and username may act
     * as authzid.
     *
     * @param authzid  the authorization identity of PLAIN, "" when none was given
     * @param username the authentication identity
     * @param password the password; the caller clears it afterwards
     */
    boolean authenticate(String authzid, String username, char[] password);
}
