package org.postern.flush;

import org.postern.config.Parameters;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.postern.config.Config;

/**
 * FastFlushDomains - which destinations have a fast flush index (fast_flush_domains).
 *
 * <h2>DESCRIPTION</h2>
 * A domain is eligible when fast_flush_domains (default $relay_domains) names it or one of
 * its parent domains: Postfix's parent_domain_matches_subdomains includes
 * fast_flush_domains, so "example.com" also matches "mx.example.com"; ".example.com"
 * matches the subdomains only. "!domain" excludes a domain and its subdomains when it
 * comes before a match (first match wins, as in Postfix's domain lists).
 *
 * <h2>SECURITY</h2>
 * A name that is not a syntactically valid domain (RFC 1035 labels, at most 255
 * characters) is never eligible, so nothing else reaches the index or a query.
 *
 * <h2>BUGS</h2>
 * Lookup tables (type:name) in fast_flush_domains are not supported; they are ignored
 * with a warning.
 */
public final class FastFlushDomains {
    private static final Logger LOG = Logger.getLogger("org.postern.flush");
    private static final Pattern DOMAIN = Pattern.compile(
            "(?=.{1,255}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    private final List<String> patterns;

    /** FastFlushDomains - the list as main.cf gives it (already split and expanded). */
    public FastFlushDomains(List<String> list) {
        List<String> p = new ArrayList<>();
        for (String entry : list) {
            if (entry.indexOf(':') >= 0 || entry.startsWith("/")) {
                LOG.warning("PSTN5201: fast_flush_domains: lookup table " + entry + " is not supported; ignored");
                continue;
            }
            p.add(entry.toLowerCase(Locale.ROOT));
        }
        this.patterns = List.copyOf(p);
    }

    /** of - fast_flush_domains of the configuration. */
    public static FastFlushDomains of(Config config) {
        return new FastFlushDomains(config.get(Parameters.FAST_FLUSH_DOMAINS));
    }

    /** isEmpty - true when no destination has an index (fast flush is off). */
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** eligible - true when the domain (any case, trailing dot allowed) has a flush index. */
    public boolean eligible(String domain) {
        String d = normalize(domain);
        if (d == null) {
            return false;
        }
        for (String p : patterns) {
            boolean negate = p.startsWith("!");
            String q = negate ? p.substring(1) : p;
            boolean match = q.startsWith(".") ? d.endsWith(q) : d.equals(q) || d.endsWith("." + q);
            if (match) {
                return !negate;
            }
        }
        return false;
    }

    /** normalize - the domain in lower case without a trailing dot, or null when it is not a valid domain. */
    public static String normalize(String domain) {
        if (domain == null) {
            return null;
        }
        String d = domain.toLowerCase(Locale.ROOT);
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        return DOMAIN.matcher(d).matches() ? d : null;
    }

    /** domainOf - the domain of a recipient address, normalized, or null (no domain, or not valid). */
    public static String domainOf(String address) {
        int at = address.lastIndexOf('@');
        return at < 0 ? null : normalize(address.substring(at + 1));
    }
}
