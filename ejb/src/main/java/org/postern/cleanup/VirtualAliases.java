package org.postern.cleanup;

import org.postern.config.Parameters;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import org.postern.config.Config;
import org.postern.config.maps.DomainList;
import org.postern.config.Lists;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;
import org.postern.service.ConfigService;

/**
 * VirtualAliases - envelope recipient rewriting with virtual_alias_maps, as Postfix's
 * cleanup(8) does it (virtual(5)).
 *
 * <h2>DESCRIPTION</h2>
 * Each recipient is looked up as {@code user@domain}, then as {@code user} when the domain
 * is local (mydestination or myorigin), then as {@code @domain} (the catch-all, lowest
 * precedence). A result is a list of addresses separated by commas or whitespace; each
 * is expanded again, until an address has no entry, maps to itself or leads back to an
 * address already expanded (a loop, ended there). A result of the
 * form {@code @otherdomain} means the same user in otherdomain; one without a domain gets
 * {@code @$myorigin}. Addresses are kept once, in order.
 *
 * <h2>SECURITY</h2>
 * The tables come from the administrator; the addresses come from the network. Loops and
 * explosions are bounded: virtual_alias_recursion_limit levels and
 * virtual_alias_expansion_limit addresses per original recipient; past a limit the
 * expansion stops with a warning and what was found so far is kept, so no mail is lost.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * virtual_alias_maps (empty), virtual_alias_recursion_limit (1000),
 * virtual_alias_expansion_limit (1000), mydestination, myorigin.
 *
 * <h2>BUGS</h2>
 * recipient_delimiter extensions (user+ext) are not looked up separately; canonical_maps
 * are not implemented.
 *
 * <h2>SEE ALSO</h2>
 * CleanupService, virtual(5), smtpd's reject_unlisted_recipient for virtual_alias_domains
 */
public final class VirtualAliases {
    private static final Logger LOG = Logger.getLogger("org.postern.cleanup");

    private final List<LookupTable> maps;
    private final DomainList local;
    private final String myorigin;
    private final int recursionLimit;
    private final int expansionLimit;

    private VirtualAliases(List<LookupTable> maps, DomainList local, String myorigin, int recursionLimit,
                           int expansionLimit) {
        this.maps = maps;
        this.local = local;
        this.myorigin = myorigin;
        this.recursionLimit = recursionLimit;
        this.expansionLimit = expansionLimit;
    }

    /** inForce - the aliases of the configuration in force, made once per configuration. */
    public static VirtualAliases inForce(ConfigService configService) {
        return configService.derived(VirtualAliases.class, VirtualAliases::of);
    }

    /** of - the aliases of a configuration, its tables opened once. */
    public static VirtualAliases of(Config c) {
        List<String> localDomains = new ArrayList<>(c.get(Parameters.MYDESTINATION));
        localDomains.add(c.get(Parameters.MYORIGIN));
        return new VirtualAliases(LookupTables.openAll(c.get(Parameters.VIRTUAL_ALIAS_MAPS)),
                DomainList.parse(localDomains, false, "mydestination"), c.get(Parameters.MYORIGIN).toLowerCase(Locale.ROOT),
                c.get(Parameters.VIRTUAL_ALIAS_RECURSION_LIMIT), c.get(Parameters.VIRTUAL_ALIAS_EXPANSION_LIMIT));
    }

    /** isEmpty - true without virtual_alias_maps: every address stays as it is. */
    public boolean isEmpty() {
        return maps.isEmpty();
    }

    /** expand - the final recipients of one envelope recipient; [address] when no alias applies. */
    public List<String> expand(String address) {
        if (maps.isEmpty() || address.isEmpty()) {
            return List.of(address);
        }
        Set<String> done = new LinkedHashSet<>();
        Set<String> seen = new LinkedHashSet<>();
        Set<String> expanded = new LinkedHashSet<>();
        Deque<String[]> work = new ArrayDeque<>();
        work.add(new String[] {address, "0"});
        seen.add(address.toLowerCase(Locale.ROOT));
        while (!work.isEmpty()) {
            String[] item = work.poll();
            String a = item[0];
            int depth = Integer.parseInt(item[1]);
            Optional<List<String>> result = lookup(a);
            if (result.isEmpty() || depth >= recursionLimit) {
                if (result.isPresent()) {
                    LOG.warning("PSTN4130: " + address + ": virtual_alias_recursion_limit " + recursionLimit
                            + " reached at " + a);
                }
                done.add(a);
            } else {
                expanded.add(a.toLowerCase(Locale.ROOT));
                for (String r : result.get()) {
                    String key = r.toLowerCase(Locale.ROOT);
                    if (r.equalsIgnoreCase(a) || expanded.contains(key)) {
                        // maps to itself, or back to an address already expanded (a loop):
                        // delivered as it is, so that nothing is lost
                        done.add(r);
                    } else if (seen.add(key)) {
                        work.add(new String[] {r, String.valueOf(depth + 1)});
                    }
                }
            }
            if (done.size() + work.size() > expansionLimit) {
                LOG.warning("PSTN4131: " + address + ": virtual_alias_expansion_limit " + expansionLimit
                        + " exceeded; keeping the first " + expansionLimit + " recipients");
                work.forEach(w -> done.add(w[0]));
                return List.copyOf(done).subList(0, Math.min(done.size(), expansionLimit));
            }
        }
        return List.copyOf(done);
    }

    /** lookup - the alias result of one address, each element rewritten, or empty. */
    private Optional<List<String>> lookup(String address) {
        int at = address.lastIndexOf('@');
        String user = at < 0 ? address : address.substring(0, at);
        String domain = at < 0 ? myorigin : address.substring(at + 1).toLowerCase(Locale.ROOT);
        Optional<String> value = find(user + "@" + domain);
        if (value.isEmpty() && local.matches(domain)) {
            value = find(user);
        }
        if (value.isEmpty()) {
            value = find("@" + domain);
        }
        if (value.isEmpty()) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>();
        for (String r : Lists.split(value.get())) {
            if (r.startsWith("@")) {
                out.add(user + r); // @otherdomain: the same user there
            } else if (r.indexOf('@') < 0) {
                out.add(r + "@" + myorigin);
            } else {
                out.add(r);
            }
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(out);
    }

    private Optional<String> find(String key) {
        for (LookupTable t : maps) {
            Optional<String> v = t.lookup(key);
            if (v.isPresent()) {
                return v;
            }
        }
        return Optional.empty();
    }
}
