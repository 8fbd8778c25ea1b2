package org.postern.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * NetworkList - a list of networks as mynetworks writes them, and the test whether an
 * address is in it.
 *
 * <p>Elements are addresses or networks in CIDR form: {@code 127.0.0.0/8},
 * {@code 192.0.2.1}, {@code [::1]/128}, {@code [2001:db8::]/32}, {@code ::1/128} (IPv6 in
 * brackets as Postfix writes it, or without). Host names and table lookups, which
 * Postfix also allows in mynetworks, are not supported: they are a configuration error
 * here rather than a silent mismatch.
 */
public final class NetworkList implements Predicate<String> {
    private final List<byte[]> networks = new ArrayList<>();
    private final List<Integer> prefixes = new ArrayList<>();
    private final String text;

    private NetworkList(String text) {
        this.text = text;
    }

    /** parse - the networks of a list value; ConfigException names the bad element. */
    public static NetworkList parse(List<String> elements, String parameter) {
        NetworkList list = new NetworkList(String.join(" ", elements));
        for (String e : elements) {
            list.add(e, parameter);
        }
        return list;
    }

    private void add(String element, String parameter) {
        // strip, not trim: trim also drops control characters, which made "::1\u0018\u0000" the network ::1
        String e = element.strip();
        int slash = e.lastIndexOf('/');
        String addr = slash < 0 ? e : e.substring(0, slash);
        if (addr.startsWith("[") && addr.endsWith("]")) {
            addr = addr.substring(1, addr.length() - 1);
        }
        if (!isLiteral(addr)) {
            throw new ConfigException(parameter, 0, "bad network: \"" + element
                    + "\": only addresses and address/prefix are supported");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(addr).getAddress();
        } catch (UnknownHostException ex) {
            throw new ConfigException(parameter, 0, "bad network: \"" + element + "\"");
        }
        // Java reads an IPv4-mapped IPv6 literal (::ffff:a.b.c.d, as in Debian's default
        // mynetworks "[::ffff:127.0.0.0]/104") as the IPv4 address; the prefix counts IPv6 bits
        boolean mapped = bytes.length == 4 && addr.contains(":");
        int bits = mapped ? 128 : bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(e.substring(slash + 1));
            } catch (NumberFormatException ex) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bits) {
                throw new ConfigException(parameter, 0, "bad network mask in \"" + element + "\"");
            }
        }
        if (mapped) {
            if (prefix >= 96) {
                // clients on IPv4-mapped addresses are tested as IPv4, as Postfix's smtpd
                // normalises them: the network is the IPv4 network of the remaining bits
                prefix -= 96;
            } else {
                // the ::ffff: bits lie beyond such a prefix: Postfix refuses the pattern ("non-null
                // host address bits"), and as IPv6 it could never match a client, which Postern
                // (as Postfix) tests as IPv4
                throw new ConfigException(parameter, 0, "non-null host address bits in \"" + element
                        + "\": an IPv4-mapped network needs a prefix of 96 or more");
            }
        }
        networks.add(bytes);
        prefixes.add(prefix);
    }

    /** isLiteral - an IPv4 dotted quad or an IPv6 address, never a name to resolve. */
    private static boolean isLiteral(String s) {
        return s.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || (s.contains(":") && s.matches("[0-9A-Fa-f:.]+"));
    }

    /** test - true when the textual address is inside one of the networks. */
    @Override
    public boolean test(String address) {
        if (address == null) {
            return false;
        }
        String a = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1)
                : address;
        if (!isLiteral(a)) {
            return false;
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(a).getAddress();
        } catch (UnknownHostException e) {
            return false;
        }
        for (int i = 0; i < networks.size(); i++) {
            if (matches(networks.get(i), prefixes.get(i), bytes)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(byte[] net, int prefix, byte[] addr) {
        if (net.length != addr.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (net[i] != addr[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (net[full] & mask) == (addr[full] & mask);
    }

    @Override
    public String toString() {
        return text;
    }
}
