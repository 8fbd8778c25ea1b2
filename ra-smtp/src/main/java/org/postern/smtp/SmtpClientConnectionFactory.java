package org.postern.smtp;

import jakarta.resource.ResourceException;

/**
 * SmtpClientConnectionFactory - the outbound side of the adapter: SMTP and LMTP client
 * connections, pooled by the JCA container and matched by next hop and settings, so
 * that a borrowed connection may be a cached one (Postfix's connection cache).
 */
public interface SmtpClientConnectionFactory {

    /** getConnection - a connection to {@code hop}, new or cached, with these client settings. */
    SmtpClientConnection getConnection(NextHop hop, SmtpClientSettings settings) throws ResourceException;
}
