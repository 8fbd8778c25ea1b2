package org.postern.smtp.api;

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

    /**
     * parseSmtp - an SMTP destination as written in relayhost, fallback_relay or
     * transport(5): {@code [host]:port}, {@code [host]}, {@code host:port}, {@code host}
     * (MX lookup without brackets), an optional {@code inet:} prefix, the port by number or
     * service name. IllegalArgumentException names what is wrong.
     */
    public static NextHop parseSmtp(String destination) {
        String s = destination.trim();
        if (s.startsWith("inet:")) {
            s = s.substring(5);
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty next hop");
        }
        boolean mx = true;
        String host;
        String rest;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(destination);
            }
            host = s.substring(1, close);
            rest = s.substring(close + 1);
            mx = false;
        } else {
            int colon = s.lastIndexOf(':');
            host = colon < 0 ? s : s.substring(0, colon);
            rest = colon < 0 ? "" : s.substring(colon);
        }
        if (host.isEmpty() || (!rest.isEmpty() && !rest.startsWith(":"))) {
            throw new IllegalArgumentException(destination);
        }
        int port = rest.isEmpty() ? 25 : port(rest.substring(1), destination);
        return smtp(host, port, mx);
    }

    /** port - a port by number (1-65535) or by the service names smtp, submission, smtps, lmtp. */
    public static int port(String p, String destination) {
        switch (p) {
            case "smtp": return 25;
            case "submission": return 587;
            case "smtps": return 465;
            case "lmtp": return 24;
            default: break;
        }
        try {
            int n = Integer.parseInt(p);
            if (n > 0 && n < 65536) {
                return n;
            }
        } catch (NumberFormatException e) {
            // not a number either
        }
        throw new IllegalArgumentException("bad port in " + destination);
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
