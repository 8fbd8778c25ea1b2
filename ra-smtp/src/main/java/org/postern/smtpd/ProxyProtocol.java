package org.postern.smtpd;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * ProxyProtocol - the HAProxy PROXY protocol header, versions 1 (text) and 2 (binary),
 * as smtpd_upstream_proxy_protocol = haproxy expects it before the SMTP conversation.
 *
 * <h2>SECURITY</h2>
 * The header names the client that the proxy accepted; whoever can connect to a listener
 * with this setting can claim any client address, so such a listener must only be
 * reachable by the proxy. Input is bounded ({@link #MAX_HEADER} octets).
 */
final class ProxyProtocol {
    /** v2 signature (12 octets). */
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    /** v1 lines are at most 107 octets, CRLF included (the PROXY protocol specification, 2.1). */
    static final int V1_MAX = 107;
    /** v2 headers with TLVs are bounded here. */
    static final int MAX_HEADER = 536;

    /**
     * Result - NEED_MORE (null address and 0 consumed, error null), an error, or the
     * header's length and the client it names (address null: a LOCAL or UNKNOWN header,
     * the connection's own peer is the client).
     */
    record Result(int consumed, String address, int port, String error) {
        static final Result NEED_MORE = new Result(0, null, 0, null);

        boolean complete() {
            return consumed > 0;
        }
    }

    private ProxyProtocol() {
    }

    /** parse - the header at the start of buf[0..len). */
    static Result parse(byte[] buf, int len) {
        if (len == 0) {
            return Result.NEED_MORE;
        }
        if (buf[0] == 0x0D) {
            return parseV2(buf, len);
        }
        return parseV1(buf, len);
    }

    private static Result error(String message) {
        return new Result(0, null, 0, message);
    }

    /** parseV1 - "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n". */
    private static Result parseV1(byte[] buf, int len) {
        byte[] prefix = "PROXY ".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(len, prefix.length); i++) {
            if (buf[i] != prefix[i]) {
                return error("not a PROXY protocol header");
            }
        }
        // the whole line, CRLF included, is at most V1_MAX octets: a CRLF that ends later is
        // not looked for, so the answer for a line does not depend on how much of it has arrived
        int end = -1;
        for (int i = 0; i + 1 < Math.min(len, V1_MAX); i++) {
            if (buf[i] == '\r' && buf[i + 1] == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            return len >= V1_MAX ? error("PROXY v1 header too long") : Result.NEED_MORE;
        }
        String[] f = new String(buf, 0, end, StandardCharsets.US_ASCII).split(" ");
        if (f.length >= 2 && f[1].equals("UNKNOWN")) {
            return new Result(end + 2, null, 0, null);
        }
        if (f.length != 6 || !(f[1].equals("TCP4") || f[1].equals("TCP6"))) {
            return error("bad PROXY v1 header");
        }
        boolean v4 = f[1].equals("TCP4");
        if (!literal(f[2], v4) || !literal(f[3], v4) || !port(f[4]) || !port(f[5])) {
            return error("bad PROXY v1 address or port");
        }
        return new Result(end + 2, canonical(f[2]), Integer.parseInt(f[4]), null);
    }

    /** parseV2 - signature, version/command, family, length, addresses (TLVs ignored). */
    private static Result parseV2(byte[] buf, int len) {
        int n = Math.min(len, V2_SIGNATURE.length);
        if (!Arrays.equals(buf, 0, n, V2_SIGNATURE, 0, n)) {
            return error("not a PROXY protocol header");
        }
        if (len < 16) {
            return Result.NEED_MORE;
        }
        int versionCommand = buf[12] & 0xFF;
        int family = buf[13] & 0xFF;
        int length = ((buf[14] & 0xFF) << 8) | (buf[15] & 0xFF);
        if ((versionCommand >> 4) != 2 || (versionCommand & 0x0F) > 1) {
            return error("bad PROXY v2 version or command");
        }
        if (16 + length > MAX_HEADER) {
            return error("PROXY v2 header too long");
        }
        if (len < 16 + length) {
            return Result.NEED_MORE;
        }
        if ((versionCommand & 0x0F) == 0 || family == 0x00) {
            return new Result(16 + length, null, 0, null); // LOCAL, or UNSPEC: the proxy's own connection
        }
        int addressLength = family == 0x11 ? 4 : family == 0x21 ? 16 : -1;
        if (addressLength < 0) {
            return error("unsupported PROXY v2 address family " + family);
        }
        if (length < 2 * addressLength + 4) {
            return error("short PROXY v2 address block");
        }
        try {
            InetAddress src = InetAddress.getByAddress(Arrays.copyOfRange(buf, 16, 16 + addressLength));
            int portOffset = 16 + 2 * addressLength;
            int port = ((buf[portOffset] & 0xFF) << 8) | (buf[portOffset + 1] & 0xFF);
            return new Result(16 + length, src.getHostAddress(), port, null);
        } catch (UnknownHostException e) {
            return error("bad PROXY v2 address");
        }
    }

    private static boolean literal(String s, boolean v4) {
        return v4 ? org.postern.smtpd.policy.Hostnames.validIpv4(s)
                : s.indexOf(':') >= 0 && org.postern.smtpd.policy.Hostnames.validIpv6(s);
    }

    private static boolean port(String s) {
        return s.matches("[0-9]{1,5}") && Integer.parseInt(s) <= 65535;
    }

    private static String canonical(String literal) {
        try {
            return InetAddress.getByName(literal).getHostAddress();
        } catch (UnknownHostException e) {
            return literal;
        }
    }
}
