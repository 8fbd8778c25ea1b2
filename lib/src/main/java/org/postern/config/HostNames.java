package org.postern.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * HostNames - the defaults of myhostname and mydomain.
 *
 * <p>Like Postfix: the machine's host name, fully qualified through the resolver when the
 * plain name has no dot; a name that still has no dot gets {@code .localdomain} appended,
 * so that mydomain (myhostname minus its first label) is never empty.
 */
final class HostNames {
    static final String LOCALDOMAIN = "localdomain";

    private HostNames() {
    }

    /** localHostName - this machine's name, fully qualified if possible. */
    static String localHostName() {
        String name;
        try {
            InetAddress local = InetAddress.getLocalHost();
            name = local.getHostName();
            if (name.indexOf('.') < 0) {
                String canonical = local.getCanonicalHostName();
                // a canonical "name" that is an address literal is no help
                if (canonical.indexOf('.') > 0 && !Character.isDigit(canonical.charAt(canonical.length() - 1))
                        && canonical.indexOf(':') < 0) {
                    name = canonical;
                }
            }
        } catch (UnknownHostException | SecurityException e) {
            name = "localhost";
        }
        return qualify(name.toLowerCase(Locale.ROOT));
    }

    /** qualify - append .localdomain to a name without a dot. */
    static String qualify(String name) {
        return name.indexOf('.') < 0 ? name + "." + LOCALDOMAIN : name;
    }

    /** domainOf - a host name minus its first label, or localdomain when nothing is left. */
    static String domainOf(String hostName) {
        int dot = hostName.indexOf('.');
        if (dot < 0 || dot == hostName.length() - 1) {
            return LOCALDOMAIN;
        }
        return hostName.substring(dot + 1);
    }
}
