package org.postern.smtpd.policy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * HostsFile - the hosts(5) file as the first source of the client's name, before DNS
 * (nsswitch "hosts: files dns", which Postfix's peer name lookup goes through):
 * 127.0.0.1 is "localhost" without a name server.
 *
 * <p>Read once when the policy is built (at deployment; there is no reload yet), bounded
 * in size; the lookups then never touch the file system. Only the peer name lookup and
 * its verification use it, through {@link #over}; the DNS restrictions ask DNS.
 */
public final class HostsFile {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    private static final long MAX_SIZE = 1 << 20;

    /** EMPTY - no hosts file. */
    public static final HostsFile EMPTY = new HostsFile(Map.of(), Map.of());

    /** address (canonical) → names, in file order */
    private final Map<String, List<String>> names;
    /** name (lower case) → addresses (canonical), in file order */
    private final Map<String, List<String>> addresses;

    private HostsFile(Map<String, List<String>> names, Map<String, List<String>> addresses) {
        this.names = names;
        this.addresses = addresses;
    }

    /** system - /etc/hosts; EMPTY when it cannot be read. */
    public static HostsFile system() {
        return read(Path.of("/etc/hosts"));
    }

    /** read - a hosts file; EMPTY (with a warning) when it cannot be read or is too large. */
    public static HostsFile read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return EMPTY;
            }
            if (Files.size(file) > MAX_SIZE) {
                LOG.warning("PSTN1112: " + file + " is larger than " + MAX_SIZE + " bytes: not used");
                return EMPTY;
            }
            return parse(Files.readString(file, StandardCharsets.ISO_8859_1));
        } catch (IOException | RuntimeException e) {
            LOG.warning("PSTN1112: cannot read " + file + ": " + e);
            return EMPTY;
        }
    }

    /** parse - "address name [alias...]" lines; '#' starts a comment. */
    public static HostsFile parse(String text) {
        Map<String, List<String>> names = new LinkedHashMap<>();
        Map<String, List<String>> addresses = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            int hash = raw.indexOf('#');
            String[] f = (hash >= 0 ? raw.substring(0, hash) : raw).trim().split("[ \t]+");
            if (f.length < 2 || !Hostnames.validHostaddr(f[0])) {
                continue;
            }
            String address = canonical(f[0]);
            if (address == null) {
                continue;
            }
            for (int i = 1; i < f.length; i++) {
                String name = f[i].toLowerCase(Locale.ROOT);
                if (!Hostnames.validHostname(name)) {
                    continue;
                }
                names.computeIfAbsent(address, k -> new ArrayList<>()).add(name);
                List<String> a = addresses.computeIfAbsent(name, k -> new ArrayList<>());
                if (!a.contains(address)) {
                    a.add(address);
                }
            }
        }
        return new HostsFile(Map.copyOf(names), Map.copyOf(addresses));
    }

    private static String canonical(String literal) {
        try {
            return InetAddress.getByName(literal).getHostAddress(); // a literal: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * over - a lookup that answers PTR, A and AAAA from this file when it knows the
     * address or name, and asks dns otherwise.
     */
    public DnsLookup over(DnsLookup dns) {
        if (names.isEmpty()) {
            return dns;
        }
        return (name, type) -> {
            List<String> found = null;
            if (type == DnsLookup.Type.PTR && Hostnames.validHostaddr(name)) {
                String c = canonical(name);
                found = c == null ? null : names.get(c);
            } else if (type == DnsLookup.Type.A || type == DnsLookup.Type.AAAA) {
                List<String> all = addresses.get(name.toLowerCase(Locale.ROOT));
                if (all != null) {
                    boolean v6 = type == DnsLookup.Type.AAAA;
                    found = all.stream().filter(a -> a.indexOf(':') >= 0 == v6).toList();
                    if (found.isEmpty()) {
                        // the name is in the file, without this family: NOT_FOUND, as files would say
                        return CompletableFuture.completedFuture(new DnsLookup.Answer(DnsLookup.Status.NOT_FOUND,
                                List.of()));
                    }
                }
            }
            if (found == null || found.isEmpty()) {
                return dns.lookup(name, type);
            }
            return CompletableFuture.completedFuture(new DnsLookup.Answer(DnsLookup.Status.FOUND, found));
        };
    }
}
