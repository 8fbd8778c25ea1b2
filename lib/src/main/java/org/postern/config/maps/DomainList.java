package org.postern.config.maps;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.postern.config.ConfigException;


/**
 * DomainList - a list of domains as relay_domains and mydestination write them, and the
 * test whether a domain is in it (Postfix match_list with the domain matcher).
 *
 * <p>Elements, tried in order, first match wins: a domain name; {@code .domain} (its
 * subdomains only); {@code type:name} (a lookup table, the key is the domain, the value
 * does not matter); any of these prefixed with {@code !} (a match means "not in the
 * list"). When parentMatchesSubdomains is true (relay_domains is in Postfix's
 * parent_domain_matches_subdomains), {@code example.com} also matches
 * {@code sub.example.com} and tables are also searched with the parent domains.
 * Comparison ignores case. Patterns that name a file ({@code /path}) are not supported.
 */
public final class DomainList {
    private record Element(boolean negated, String domain, LookupTable table) {
    }

    private final List<Element> elements;
    private final boolean parentMatchesSubdomains;
    private final String text;

    private DomainList(List<Element> elements, boolean parentMatchesSubdomains, String text) {
        this.elements = List.copyOf(elements);
        this.parentMatchesSubdomains = parentMatchesSubdomains;
        this.text = text;
    }

    /** parse - the elements of a list parameter; ConfigException names the bad element. */
    public static DomainList parse(List<String> items, boolean parentMatchesSubdomains, String parameter) {
        List<Element> elements = new ArrayList<>();
        for (String item : items) {
            boolean negated = false;
            String s = item;
            while (s.startsWith("!")) {
                negated = !negated;
                s = s.substring(1);
            }
            if (s.isEmpty() || s.startsWith("/")) {
                throw new ConfigException(parameter, 0, "unsupported domain pattern: \"" + item
                        + "\" (use a domain name, .domain or a type:name lookup table)");
            }
            if (s.indexOf(':') > 0 && s.charAt(0) != '[') {
                elements.add(new Element(negated, null, LookupTables.open(s)));
            } else {
                elements.add(new Element(negated, s.toLowerCase(Locale.ROOT), null));
            }
        }
        return new DomainList(elements, parentMatchesSubdomains, String.join(" ", items));
    }

    /** isEmpty - true when the list has no elements. */
    public boolean isEmpty() {
        return elements.isEmpty();
    }

    /** matches - true when the domain is in the list. */
    public boolean matches(String domain) {
        if (domain == null || domain.isEmpty()) {
            return false;
        }
        String d = domain.toLowerCase(Locale.ROOT);
        for (Element e : elements) {
            if (e.table() != null ? tableMatches(e.table(), d) : patternMatches(e.domain(), d)) {
                return !e.negated();
            }
        }
        return false;
    }

    private boolean patternMatches(String pattern, String domain) {
        if (pattern.startsWith(".")) {
            return domain.endsWith(pattern);
        }
        if (domain.equals(pattern)) {
            return true;
        }
        return parentMatchesSubdomains && domain.endsWith("." + pattern);
    }

    private boolean tableMatches(LookupTable table, String domain) {
        if (table.lookup(domain).isPresent()) {
            return true;
        }
        for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
            String parent = domain.substring(dot + 1);
            if (parentMatchesSubdomains ? table.lookup(parent).isPresent()
                    : table.lookup(domain.substring(dot)).isPresent()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }
}
