package org.postern.smtpd.policy;

/**
 * Hostnames - Postfix's valid_hostname() and valid_hostaddr() as the HELO checks use them.
 */
public final class Hostnames {
    private Hostnames() {
    }

    /**
     * validHostname - labels of letters, digits, '-' and '_' (not starting or ending with
     * '-'), at most 63 octets each and 255 in all, and not all-numeric (that is an address).
     */
    static boolean validHostname(String name) {
        if (name == null || name.isEmpty() || name.length() > 255) {
            return false;
        }
        boolean nonNumeric = false;
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean digit = c >= '0' && c <= '9';
                boolean ok = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
                if (!ok) {
                    return false;
                }
                if (!digit) {
                    nonNumeric = true;
                }
            }
        }
        return nonNumeric;
    }

    /** validHostaddr - an IPv4 dotted quad, or an IPv6 address (optionally "IPv6:" prefixed). */
    static boolean validHostaddr(String addr) {
        if (addr == null || addr.isEmpty()) {
            return false;
        }
        if (addr.regionMatches(true, 0, "IPv6:", 0, 5)) {
            return validIpv6(addr.substring(5));
        }
        if (addr.indexOf(':') >= 0) {
            return validIpv6(addr);
        }
        return validIpv4(addr);
    }

    public static boolean validIpv4(String addr) {
        String[] parts = addr.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    public static boolean validIpv6(String addr) {
        if (!addr.matches("[0-9A-Fa-f:.]+") || addr.length() > 45) {
            return false;
        }
        int doubleColon = addr.indexOf("::");
        if (doubleColon >= 0 && addr.indexOf("::", doubleColon + 1) >= 0) {
            return false;
        }
        String[] groups = addr.split(":", -1);
        int count = 0;
        for (int i = 0; i < groups.length; i++) {
            String g = groups[i];
            if (g.isEmpty()) {
                continue;
            }
            if (g.indexOf('.') >= 0) {
                if (i != groups.length - 1 || !validIpv4(g)) {
                    return false;
                }
                count += 2;
            } else if (g.length() > 4) {
                return false;
            } else {
                count++;
            }
        }
        return doubleColon >= 0 ? count < 8 : count == 8;
    }

    /** stripLiteral - "[1.2.3.4]" becomes "1.2.3.4"; anything else is returned as is. */
    static String stripLiteral(String name) {
        if (name.length() > 2 && name.charAt(0) == '[' && name.charAt(name.length() - 1) == ']') {
            return name.substring(1, name.length() - 1);
        }
        return name;
    }

    /** stripDot - a name without its final dot ("example.com." is "example.com"; "." stays). */
    static String stripDot(String name) {
        return name.length() > 1 && name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** canonical - an IP address in one textual form, to compare addresses; anything else as is. */
    static String canonical(String address) {
        try {
            return java.net.InetAddress.getByName(address).getHostAddress();
        } catch (java.net.UnknownHostException | RuntimeException e) {
            return address;
        }
    }
}
