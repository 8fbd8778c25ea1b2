package org.postern.smtp;

import java.io.Serializable;

/**
 * NextHop - where a delivery goes, as resolved from transport_maps, relayhost or the
 * recipient domain.
 *
 * @param protocol  SMTP or LMTP
 * @param host      host name or address literal (without brackets); null for a unix socket
 * @param port      TCP port; 0 for a unix socket
 * @param mxLookup  true when MX records of {@code host} are to be looked up (smtp:domain,
 *                  not smtp:[host])
 * @param unixPath  unix-domain socket path for lmtp:unix:/path, else null
 */
public record NextHop(Protocol protocol, String host, int port, boolean mxLookup, String unixPath)
        implements Serializable {

    public enum Protocol { SMTP, LMTP }

    public static NextHop smtp(String host, int port, boolean mxLookup) {
        return new NextHop(Protocol.SMTP, host, port, mxLookup, null);
    }

    public static NextHop lmtpInet(String host, int port) {
        return new NextHop(Protocol.LMTP, host, port, false, null);
    }

    public static NextHop lmtpUnix(String path) {
        return new NextHop(Protocol.LMTP, null, 0, false, path);
    }

    /** destination - the name the connection cache and the log use for this next hop. */
    public String destination() {
        if (unixPath != null) {
            return "unix:" + unixPath;
        }
        String h = mxLookup ? host : "[" + host + "]";
        return h + ":" + port;
    }
}
