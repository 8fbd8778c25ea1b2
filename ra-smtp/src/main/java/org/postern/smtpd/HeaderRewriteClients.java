package org.postern.smtpd;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * HeaderRewriteClients - local_header_rewrite_clients: the clients whose messages get
 * Postfix's "local" header treatment, here the missing Message-Id:, Date: and From:
 * headers (Postfix cleanup's hdr_rewrite_context).
 *
 * <p>Elements, in Postfix's syntax: permit_inet_interfaces (the client address is one of
 * this machine's inet_interfaces addresses; with inet_interfaces = all every interface
 * address, loopback included), permit_mynetworks, permit_sasl_authenticated, and
 * static:all (every client). Other Postfix elements (permit_tls_clientcerts,
 * check_address_map) are refused at start.
 */
public final class HeaderRewriteClients {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");

    /** NONE - no client gets its headers completed (always_add_missing_headers still applies). */
    public static final HeaderRewriteClients NONE = new HeaderRewriteClients(false, false, false, false,
            a -> false, a -> false);

    private final boolean all;
    private final boolean inetInterfaces;
    private final boolean mynetworks;
    private final boolean sasl;
    private final Predicate<String> ownAddresses;
    private final Predicate<String> mynetworksList;

    private HeaderRewriteClients(boolean all, boolean inetInterfaces, boolean mynetworks, boolean sasl,
                                 Predicate<String> ownAddresses, Predicate<String> mynetworksList) {
        this.all = all;
        this.inetInterfaces = inetInterfaces;
        this.mynetworks = mynetworks;
        this.sasl = sasl;
        this.ownAddresses = ownAddresses;
        this.mynetworksList = mynetworksList;
    }

    /**
     * parse - the list value of local_header_rewrite_clients.
     *
     * @param ownAddresses the inet_interfaces addresses test (see {@link #ownAddresses})
     * @param mynetworks   the mynetworks test
     * @throws IllegalArgumentException for an element Postern does not implement
     */
    public static HeaderRewriteClients parse(List<String> elements, Predicate<String> ownAddresses,
                                             Predicate<String> mynetworks) {
        boolean all = false;
        boolean inet = false;
        boolean net = false;
        boolean sasl = false;
        for (String e : elements) {
            switch (e.toLowerCase(Locale.ROOT)) {
                case "static:all": all = true; break;
                case "permit_inet_interfaces": inet = true; break;
                case "permit_mynetworks": net = true; break;
                case "permit_sasl_authenticated": sasl = true; break;
                default:
                    throw new IllegalArgumentException("local_header_rewrite_clients: \"" + e
                            + "\" is not supported by Postern; specify permit_inet_interfaces, permit_mynetworks, "
                            + "permit_sasl_authenticated or static:all");
            }
        }
        return new HeaderRewriteClients(all, inet, net, sasl, ownAddresses, mynetworks);
    }

    /** matches - true when this client's messages are completed with the missing headers. */
    public boolean matches(String clientAddress, boolean saslAuthenticated) {
        return all || sasl && saslAuthenticated || mynetworks && mynetworksList.test(clientAddress)
                || inetInterfaces && ownAddresses.test(clientAddress);
    }

    /**
     * ownAddresses - the addresses of inet_interfaces as a test on a client address: "all"
     * means every address of every interface (read once, now), "loopback-only" 127.0.0.1
     * and ::1; otherwise the listed addresses and host names (resolved now).
     */
    public static Predicate<String> ownAddresses(List<String> inetInterfaces) {
        Set<String> own = new HashSet<>();
        for (String element : inetInterfaces) {
            String e = element.toLowerCase(Locale.ROOT);
            if (e.equals("all")) {
                try {
                    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                            own.add(canonical(a));
                        }
                    }
                } catch (SocketException | RuntimeException ex) {
                    LOG.warning("PSTN1042: cannot list the network interfaces: " + ex + "; only loopback is local");
                }
                own.add("127.0.0.1");
                own.add("0:0:0:0:0:0:0:1");
            } else if (e.equals("loopback-only")) {
                own.add("127.0.0.1");
                own.add("0:0:0:0:0:0:0:1");
            } else {
                String host = e.startsWith("[") && e.endsWith("]") ? e.substring(1, e.length() - 1) : e;
                try {
                    for (InetAddress a : InetAddress.getAllByName(host)) {
                        own.add(canonical(a));
                    }
                } catch (UnknownHostException ex) {
                    LOG.warning("PSTN1043: inet_interfaces: cannot resolve \"" + element + "\"");
                }
            }
        }
        Set<String> frozen = Set.copyOf(own);
        return address -> frozen.contains(canonical(address));
    }

    private static String canonical(InetAddress a) {
        String s = a.getHostAddress();
        int scope = s.indexOf('%');
        return scope < 0 ? s : s.substring(0, scope);
    }

    /** canonical - a textual address in Java's canonical form; anything else as is. */
    private static String canonical(String address) {
        if (address == null || address.isEmpty() || !(address.indexOf(':') >= 0
                || address.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
            return address;
        }
        try {
            return canonical(InetAddress.getByName(address)); // a literal: no name lookup
        } catch (UnknownHostException | RuntimeException e) {
            return address;
        }
    }
}
