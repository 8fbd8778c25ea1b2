package org.postern.smtp;

import java.net.InetAddress;

/**
 * SmtpTarget - one address to try for a next hop: a host name with one of its addresses
 * and the port, or a unix-domain socket path.
 *
 * @param hostName the name to log (the MX host, the next-hop host, or for a unix socket the
 *                 local host name, as Postfix logs {@code myhostname[private/lmtp]})
 * @param address  the address to connect to; null for a unix socket
 * @param port     TCP port; 0 for a unix socket
 * @param unixPath unix-domain socket path, else null
 * @param fallback true for an address of an smtp_fallback_relay (not counted by smtp_mx_session_limit)
 */
record SmtpTarget(String hostName, InetAddress address, int port, String unixPath, boolean fallback) {

    SmtpTarget(String hostName, InetAddress address, int port, String unixPath) {
        this(hostName, address, port, unixPath, false);
    }

    /** namaddr - {@code name[addr]}, as in Postfix's "host name[addr] said: ...". */
    String namaddr() {
        return hostName + "[" + (unixPath != null ? unixPath : address.getHostAddress()) + "]";
    }

    /**
     * relay - the relay= value of the log: {@code name[addr]:port}, or for a UNIX-domain
     * socket {@code name[/path]} as Postfix's lmtp writes it (name: the local host).
     */
    String relay() {
        return unixPath != null ? namaddr() : namaddr() + ":" + port;
    }
}
