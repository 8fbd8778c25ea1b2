package org.postern.mail;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Logger;

import org.postern.config.ConfigException;
import org.postern.config.maps.DomainList;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;

/**
 * AddressMapping - one-to-one address rewriting with lookup tables, as generic(5) and
 * canonical(5) describe it.
 *
 * <h2>NAME</h2>
 * AddressMapping - Postfix's mail_addr_find/mail_addr_map for one address in, one
 * address out (smtp_generic_maps, lmtp_generic_maps).
 *
 * <h2>DESCRIPTION</h2>
 * {@link #map} takes an address in internal (unquoted) form and tries these keys, each
 * in every table before the next key, until one matches:
 * <ol>
 * <li>{@code user+ext@domain} (the address as it is);</li>
 * <li>{@code user@domain}, when the local part has an extension (recipient_delimiter);</li>
 * <li>{@code user+ext}, then {@code user}, when the domain is $myorigin, is listed in
 * $mydestination, or is an address literal {@code [addr]} of $inet_interfaces or
 * $proxy_interfaces;</li>
 * <li>{@code @domain}.</li>
 * </ol>
 * An address without a domain is looked up as it is (and without its extension) only.
 * Each key is tried first with the local part quoted as RFC 5322 wants it, then, when
 * that differs, unquoted. Keys are case-insensitive (the tables fold them).
 *
 * <p>The result is one address; of a list (comma-separated) only the first is used, with a
 * warning, as Postfix's smtp(8) does. A result of the form {@code @otherdomain} becomes
 * the same user in otherdomain (without the extension when the match was found without
 * it); a result without a domain gets {@code @$myorigin} (append_at_myorigin = yes). An
 * extension that the key did not match ({@code user+foo@domain} found as
 * {@code user@domain} or {@code user}) is put back into the result's local part only when
 * propagate_unmatched_extensions includes {@code generic} (Postfix's default does not).
 * The recipient delimiter is not applied to postmaster, mailer-daemon, double-bounce,
 * nor, as with owner_request_special = yes, to {@code owner-*} and {@code *-request}.
 *
 * <p>The tables are opened by {@link #open}, so that a table that cannot be read fails
 * the configuration, not a delivery. Equality is identity: two mappings made from two
 * configurations are different even when their text is the same, because the table files
 * may have changed in between. A deserialized mapping opens its tables again.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * The tables (smtp_generic_maps or lmtp_generic_maps), myorigin, mydestination,
 * inet_interfaces and proxy_interfaces (as addresses), recipient_delimiter,
 * propagate_unmatched_extensions - all given by the caller.
 *
 * <h2>DIAGNOSTICS</h2>
 * ConfigException from {@link #open}, with the parameter name. PSTN3116 (warning,
 * category org.postern.smtp): a multi-valued result.
 *
 * <h2>BUGS</h2>
 * append_at_myorigin and append_dot_mydomain are not parameters here: a result without
 * a domain always gets {@code @$myorigin}, and no {@code .$mydomain} is appended
 * (append_dot_mydomain = no, Postfix's default since compatibility level 1).
 * owner_request_special and double_bounce_sender have their Postfix defaults.
 */
public final class AddressMapping implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger("org.postern.smtp");

    private final String parameter;
    private final List<String> maps;
    private final List<String> mydestination;
    private final String myorigin;
    private final List<String> ownAddresses;
    private final String delimiters;
    private final boolean propagate;
    /* the opened tables and the local domain list; null after deserialization until used */
    private transient volatile Opened opened;

    private record Opened(List<LookupTable> tables, DomainList local) {
    }

    private AddressMapping(String parameter, List<String> maps, List<String> mydestination, String myorigin,
                           List<String> ownAddresses, String delimiters, boolean propagate) {
        this.parameter = parameter;
        this.maps = List.copyOf(maps);
        this.mydestination = List.copyOf(mydestination);
        this.myorigin = myorigin == null ? "" : myorigin.trim();
        this.ownAddresses = ownAddresses.stream().map(a -> a.toLowerCase(Locale.ROOT)).toList();
        this.delimiters = delimiters == null ? "" : delimiters;
        this.propagate = propagate;
    }

    /**
     * open - a mapping with its tables opened now.
     *
     * @param parameter     the parameter the tables come from, for messages (smtp_generic_maps)
     * @param maps          the type:name tables, searched in order
     * @param mydestination $mydestination, as the list parameter (names, .domains, tables)
     * @param myorigin      $myorigin
     * @param ownAddresses  the addresses of $inet_interfaces and $proxy_interfaces, textual
     * @param delimiters    $recipient_delimiter (empty: no extensions)
     * @param propagate     propagate_unmatched_extensions includes generic
     * @throws ConfigException a table cannot be opened
     */
    public static AddressMapping open(String parameter, List<String> maps, List<String> mydestination, String myorigin,
                                      List<String> ownAddresses, String delimiters, boolean propagate) {
        AddressMapping m = new AddressMapping(parameter, maps, mydestination, myorigin, ownAddresses, delimiters,
                propagate);
        m.opened();
        return m;
    }

    private Opened opened() {
        Opened o = opened;
        if (o == null) {
            List<LookupTable> tables = new ArrayList<>();
            for (String spec : maps) {
                try {
                    tables.add(LookupTables.open(spec));
                } catch (ConfigException e) {
                    throw new ConfigException(parameter, 0, spec + ": " + e.getMessage(), e);
                }
            }
            o = new Opened(List.copyOf(tables), DomainList.parse(mydestination, false, "mydestination"));
            opened = o;
        }
        return o;
    }

    /** parameter - the parameter whose tables these are. */
    public String parameter() {
        return parameter;
    }

    /** maps - the table specs, as configured. */
    public List<String> maps() {
        return maps;
    }

    /**
     * map - the address that replaces {@code address} (internal form: local part unquoted),
     * or empty when no table has an entry for it. The null sender is never mapped.
     */
    public Optional<String> map(String address) {
        if (address == null || address.isEmpty() || maps.isEmpty()) {
            return Optional.empty();
        }
        Opened o = opened();
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String domain = at < 0 ? null : address.substring(at + 1);
        String at_domain = domain == null ? "" : "@" + domain;
        int delim = extensionStart(local);
        String bare = delim < 0 ? null : local.substring(0, delim);
        String extension = delim < 0 ? null : local.substring(delim);

        // user+foo@domain, then user@domain
        String found = find(o, local, at_domain);
        boolean withoutExtension = false;
        if (found == null && bare != null) {
            found = find(o, bare, at_domain);
            withoutExtension = found != null;
        }
        // user+foo, then user, for a local domain
        if (found == null && domain != null && isLocal(o, domain)) {
            found = find(o, local, "");
            if (found == null && bare != null) {
                found = find(o, bare, "");
                withoutExtension = found != null;
            }
        }
        // @domain: the extension stays where it is
        if (found == null && domain != null) {
            found = lookup(o, at_domain);
        }
        if (found == null) {
            return Optional.empty();
        }
        return Optional.of(result(address, found, withoutExtension ? bare : local,
                withoutExtension ? extension : null));
    }

    /* result - the table's value as an address: first of a list, @domain completed, @$myorigin appended */
    private String result(String address, String value, String user, String unmatchedExtension) {
        List<String> list = splitList(value.trim());
        if (list.size() > 1) {
            LOG.warning("PSTN3116: multi-valued " + parameter + " result for " + address);
        }
        String r = list.isEmpty() ? "" : unquoteLocal(list.get(0));
        if (r.startsWith("@")) {
            r = user + r;
        } else if (r.lastIndexOf('@') < 0 && !myorigin.isEmpty()) {
            r = r + "@" + myorigin;
        }
        if (propagate && unmatchedExtension != null) {
            int at = r.lastIndexOf('@');
            r = at < 0 ? r + unmatchedExtension : r.substring(0, at) + unmatchedExtension + r.substring(at);
        }
        return r;
    }

    /* find - local@domain (domain with its @, or empty) in quoted form, then unquoted when different */
    private static String find(Opened o, String local, String atDomain) {
        String quoted = quoteLocal(local);
        String v = lookup(o, quoted + atDomain);
        if (v == null && !quoted.equals(local)) {
            v = lookup(o, local + atDomain);
        }
        return v;
    }

    private static String lookup(Opened o, String key) {
        for (LookupTable t : o.tables()) {
            Optional<String> v = t.lookup(key);
            if (v.isPresent()) {
                return v.get();
            }
        }
        return null;
    }

    /* isLocal - myorigin, mydestination, or [addr] of inet_interfaces/proxy_interfaces (Postfix resolve_local) */
    private boolean isLocal(Opened o, String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (d.equalsIgnoreCase(myorigin) || o.local().matches(d)) {
            return true;
        }
        if (d.startsWith("[") && d.endsWith("]")) {
            String literal = d.substring(1, d.length() - 1);
            if (literal.startsWith("ipv6:")) {
                literal = literal.substring(5);
            }
            return ownAddresses.contains(literal) || ownAddresses.contains(normalizeIpv6(literal));
        }
        return false;
    }

    private static String normalizeIpv6(String literal) {
        if (literal.indexOf(':') < 0) {
            return literal;
        }
        try {
            return java.net.InetAddress.getByName(literal).getHostAddress().toLowerCase(Locale.ROOT);
        } catch (java.net.UnknownHostException | SecurityException e) {
            return literal;
        }
    }

    /* extensionStart - the index of the delimiter that starts the extension, or -1 (Postfix split_addr) */
    private int extensionStart(String local) {
        if (delimiters.isEmpty() || local.isEmpty()) {
            return -1;
        }
        String l = local.toLowerCase(Locale.ROOT);
        if (l.equals("postmaster") || l.equals("mailer-daemon") || l.equals("double-bounce")
                || l.startsWith("owner-") || l.length() > 8 && l.endsWith("-request")) {
            return -1;
        }
        for (int i = 1; i < local.length(); i++) {
            if (delimiters.indexOf(local.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** quoteLocal - the address with its local part quoted when RFC 5322 needs it (external form). */
    public static String quoteLocal(String address) {
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String rest = at < 0 ? "" : address.substring(at);
        if (local.isEmpty() || isDotAtom(local)) {
            return address;
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < local.length(); i++) {
            char c = local.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').append(rest).toString();
    }

    /** unquoteLocal - the address with a quoted local part unquoted (internal form). */
    public static String unquoteLocal(String address) {
        if (!address.startsWith("\"")) {
            return address;
        }
        StringBuilder b = new StringBuilder();
        int i = 1;
        for (; i < address.length(); i++) {
            char c = address.charAt(i);
            if (c == '\\' && i + 1 < address.length()) {
                b.append(address.charAt(++i));
            } else if (c == '"') {
                break;
            } else {
                b.append(c);
            }
        }
        return b.append(i < address.length() ? address.substring(i + 1) : "").toString();
    }

    /** isDotAtom - atext *("." atext) of RFC 5322, 8-bit (RFC 6532) allowed. */
    public static boolean isDotAtom(String s) {
        if (s.isEmpty() || s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c == '.' || isAtext(c))) {
                return false;
            }
        }
        return true;
    }

    /** isAtext - an RFC 5322 atext character, or a non-ASCII one (RFC 6532). */
    public static boolean isAtext(char c) {
        return c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
    }

    /* splitList - a table result split at commas and whitespace outside quotes */
    private static List<String> splitList(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quoted && c == '\\' && i + 1 < value.length()) {
                cur.append(c).append(value.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            }
            if (!quoted && (c == ',' || Character.isWhitespace(c))) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    @Override
    public String toString() {
        return parameter + " = " + String.join(", ", maps);
    }
}
