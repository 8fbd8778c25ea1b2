package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;

import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.dns.MxRecord;
import org.postern.smtp.sts.MtaStsPolicy;

/**
 * SmtpTargetResolver - where to connect for a next hop: the addresses to try, in order
 * (Postfix's smtp_addr.c and the next-hop part of smtp_connect.c).
 *
 * <h2>DESCRIPTION</h2>
 * For {@code smtp:domain} (mxLookup, unless disable_dns_lookups) the MX records sorted by
 * preference, equal preferences shuffled (smtp_randomize_addresses), each MX host's
 * addresses in order; no MX: the domain's own addresses; a null MX (RFC 7505): bounce
 * 5.1.10; NXDOMAIN: bounce 5.4.4; any other DNS failure: defer 4.4.3, never a bounce
 * (with ignore_mx_lookup_error = yes an MX lookup without answer falls back to the
 * domain's addresses). No MX host with an address: bounce 5.4.4, or defer with
 * smtp_defer_if_no_mx_address_found. For {@code smtp:[host]} and LMTP: the host's
 * addresses (smtp_host_lookup: dns, native or both) or the address literal;
 * {@code lmtp:unix:/path}: the socket.
 * <p>
 * Addresses of a family not in inet_protocols are dropped; at most smtp_mx_address_limit
 * addresses are kept per next hop. Then come the addresses of each smtp_fallback_relay
 * (SMTP only), which also save mail whose primary next hop cannot be found.
 * <p>
 * Mail loops (SMTP to port 25 only, as Postfix): when an MX host is one of our own
 * addresses or host names, only the MX hosts more preferred than ourselves are kept; when
 * none is left the mail bounces with 5.4.6 "mail for X loops back to myself" (or 4.4.4
 * "unable to find primary relay for X" when a better MX had no address). A bracketed host
 * that is one of our addresses loops too. When best_mx_transport is set, the loop is
 * reported as DEFERRED 4.4.6 instead, and the queue manager hands the mail to that transport.
 * <p>
 * MTA-STS (RFC 8461 section 4.1): with a policy in enforce mode only the MX hosts that
 * match one of its mx patterns are kept (a domain without MX records: the domain itself,
 * as its implicit MX, must match); when none does, the mail is deferred with 4.7.5 and no
 * server of the next hop is connected to. The fallback relays are not the recipient
 * domain's MX hosts and are not filtered.
 *
 * <h2>SECURITY</h2>
 * Trusts DNS answers only as far as their count: the address limit bounds the work.
 */
final class SmtpTargetResolver {

    /** Failure - the next hop cannot be reached at all: every recipient gets this outcome. */
    record Failure(Status status, String dsn, String text) {
    }

    /** Result - either targets (non-empty) or a failure. */
    record Result(List<SmtpTarget> targets, Failure failure) {
    }

    /** NativeLookup - the system resolver (getaddrinfo: /etc/hosts, NSS), for smtp_host_lookup = native. */
    interface NativeLookup {
        List<InetAddress> lookup(String host) throws UnknownHostException;
    }

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final int SMTP_PORT = 25;

    private final DnsResolver dns;
    private final Random random;
    private final NativeLookup nativeLookup;

    SmtpTargetResolver(DnsResolver dns, Random random) {
        this(dns, random, host -> List.of(InetAddress.getAllByName(host)));
    }

    SmtpTargetResolver(DnsResolver dns, Random random, NativeLookup nativeLookup) {
        this.dns = dns;
        this.random = random;
        this.nativeLookup = nativeLookup;
    }

    /** dns - the resolver of the MX and address lookups (also asked for DANE's TLSA records and MTA-STS's TXT record). */
    DnsResolver dns() {
        return dns;
    }

    /** resolve - the targets of {@code hop} under Postfix's default routing. */
    Result resolve(NextHop hop, String localName) {
        return resolve(hop, localName, SmtpClientSettings.Routing.defaults());
    }

    /** resolve - the targets of {@code hop}, then of the fallback relays; {@code localName} names a unix socket's host. */
    Result resolve(NextHop hop, String localName, SmtpClientSettings.Routing routing) {
        return resolve(hop, localName, routing, null);
    }

    /** resolve - the same, the MX hosts limited by an MTA-STS policy in enforce mode ({@code sts}: null for none). */
    Result resolve(NextHop hop, String localName, SmtpClientSettings.Routing routing, MtaStsPolicy sts) {
        if (hop.unixPath() != null) {
            return ok(List.of(new SmtpTarget(localName, null, 0, hop.unixPath())));
        }
        boolean smtp = hop.protocol() == NextHop.Protocol.SMTP;
        Result primary = resolveOne(hop, smtp, routing, sts != null && sts.enforce() ? sts : null);
        if (!smtp || routing.fallbackRelays().isEmpty() || isLoop(primary.failure())) {
            return primary;   // "Don't try any backup host if mail loops to myself"
        }
        List<SmtpTarget> all = new ArrayList<>(primary.targets());
        for (String relay : routing.fallbackRelays()) {
            NextHop f;
            try {
                f = parseSmtpDestination(relay);
            } catch (IllegalArgumentException e) {
                continue;
            }
            Result r = resolveOne(f, true, routing, null);
            for (SmtpTarget t : r.targets()) {
                SmtpTarget fb = new SmtpTarget(t.hostName(), t.address(), t.port(), t.unixPath(), true);
                if (all.stream().noneMatch(a -> java.util.Objects.equals(a.address(), fb.address()) && a.port() == fb.port())) {
                    all.add(fb);
                }
            }
        }
        return all.isEmpty() ? primary : ok(all);
    }

    private static boolean isLoop(Failure f) {
        return f != null && (f.dsn().equals("5.4.6") || f.dsn().equals("4.4.6"));
    }

    /* resolveOne - one next hop's targets, limited to smtp_mx_address_limit */
    private Result resolveOne(NextHop hop, boolean smtp, SmtpClientSettings.Routing routing, MtaStsPolicy enforce) {
        String host = stripBrackets(hop.host());
        boolean loopDetect = smtp && hop.port() == SMTP_PORT;
        InetAddress literal = literal(host);
        Result r;
        if (literal != null) {
            r = families(ok(List.of(new SmtpTarget(literal.getHostAddress(), literal, hop.port(), null))), host,
                    routing);
        } else if (!hop.mxLookup() || routing.disableDnsLookups() || !smtp) {
            r = hostTargets(host, hop.port(), routing);
        } else {
            return limit(mxTargets(host, hop.port(), routing, loopDetect, enforce), routing);
        }
        if (loopDetect && r.failure() == null && r.targets().stream().anyMatch(t -> isSelf(t, routing))) {
            return loop(host, routing);
        }
        return limit(r, routing);
    }

    private Result mxTargets(String domain, int port, SmtpClientSettings.Routing routing, boolean loopDetect,
                             MtaStsPolicy enforce) {
        List<MxRecord> mx;
        try {
            mx = new ArrayList<>(dns.lookupMx(domain));
        } catch (DnsLookupException e) {
            if (e.kind() == DnsLookupException.Kind.TEMPORARY && routing.ignoreMxLookupError()) {
                return hostTargets(domain, port, routing);
            }
            return nameServiceError(domain, "MX", e);
        }
        if (mx.isEmpty()) {
            if (enforce != null && !enforce.mxMatches(domain)) {
                return stsMismatch(domain, List.of(domain));
            }
            return hostTargets(domain, port, routing);
        }
        if (mx.size() == 1 && mx.get(0).isNull()) {
            return fail(Status.BOUNCED, "5.1.10", "Domain " + domain + " does not accept mail (nullMX)");
        }
        if (enforce != null) {
            // RFC 8461 section 4.1: no mail to an MX host that the policy does not name
            List<String> refused = mx.stream().filter(r -> !r.isNull() && !enforce.mxMatches(r.host()))
                    .map(MxRecord::host).toList();
            mx.removeIf(r -> !r.isNull() && !enforce.mxMatches(r.host()));
            if (mx.stream().noneMatch(r -> !r.isNull())) {
                return stsMismatch(domain, refused);
            }
        }
        if (routing.randomizeAddresses()) {
            // shuffle first, then a stable sort: equal preferences end up in random order
            Collections.shuffle(mx, random);
        }
        mx.sort(Comparator.comparingInt(MxRecord::preference));
        int bestPreference = mx.get(0).preference();
        List<SmtpTarget> targets = new ArrayList<>();
        List<Integer> preferences = new ArrayList<>();
        Failure temporary = null;
        for (MxRecord r : mx) {
            if (r.isNull()) {
                continue;
            }
            List<InetAddress> addresses;
            if (loopDetect && routing.ownNames().contains(r.host().toLowerCase(Locale.ROOT))) {
                addresses = List.of();
                // our own name: the MX is ourselves whatever its addresses are
                targets.add(new SmtpTarget(r.host(), null, port, null));
                preferences.add(r.preference());
                continue;
            }
            try {
                addresses = filter(lookupHost(r.host(), routing), routing);
            } catch (DnsLookupException e) {
                if (e.kind() == DnsLookupException.Kind.TEMPORARY && temporary == null) {
                    temporary = nameServiceError(r.host(), "A", e).failure();
                }
                continue;
            }
            if (routing.randomizeAddresses()) {
                Collections.shuffle(addresses, random);
            }
            for (InetAddress a : addresses) {
                targets.add(new SmtpTarget(r.host(), a, port, null));
                preferences.add(r.preference());
            }
        }
        if (loopDetect) {
            // smtp_find_self / smtp_truncate_self: keep only the MX hosts better than ourselves
            for (int i = 0; i < targets.size(); i++) {
                if (isSelf(targets.get(i), routing)) {
                    int self = preferences.get(i);
                    List<SmtpTarget> better = new ArrayList<>();
                    for (int k = 0; k < targets.size(); k++) {
                        if (preferences.get(k) < self) {
                            better.add(targets.get(k));
                        }
                    }
                    if (!better.isEmpty()) {
                        return ok(better);
                    }
                    if (!routing.bestMxTransport().isEmpty()) {
                        return fail(Status.DEFERRED, "4.4.6", "mail for " + domain + " loops back to myself");
                    }
                    int bestFound = preferences.get(0);
                    return bestFound != bestPreference
                            ? fail(Status.DEFERRED, "4.4.4", "unable to find primary relay for " + domain)
                            : fail(Status.BOUNCED, "5.4.6", "mail for " + domain + " loops back to myself");
                }
            }
        }
        if (!targets.isEmpty()) {
            return ok(targets);
        }
        if (temporary != null) {
            return new Result(List.of(), temporary);
        }
        boolean defer = routing.deferIfNoMxAddressFound();
        return fail(defer ? Status.DEFERRED : Status.BOUNCED, defer ? "4.4.4" : "5.4.4",
                "no MX host for " + domain + " has a valid address record");
    }

    private static Result stsMismatch(String domain, List<String> hosts) {
        return fail(Status.DEFERRED, "4.7.5", "MTA-STS policy of " + domain + ": no MX host matches its mx patterns ("
                + String.join(", ", hosts) + ")");
    }

    private Result hostTargets(String host, int port, SmtpClientSettings.Routing routing) {
        List<InetAddress> addresses;
        try {
            addresses = lookupHost(host, routing);
        } catch (DnsLookupException e) {
            return nameServiceError(host, "A", e);
        }
        if (routing.randomizeAddresses()) {
            Collections.shuffle(addresses, random);
        }
        List<SmtpTarget> targets = new ArrayList<>();
        for (InetAddress a : addresses) {
            targets.add(new SmtpTarget(host, a, port, null));
        }
        return families(ok(targets), host, routing);
    }

    /* families - drop the addresses of protocols not in inet_protocols */
    private static Result families(Result r, String host, SmtpClientSettings.Routing routing) {
        List<SmtpTarget> kept = r.targets().stream().filter(t -> allowed(t.address(), routing)).toList();
        if (kept.isEmpty()) {
            String type = routing.ipv4() || !routing.ipv6() ? "A" : "AAAA";
            return fail(Status.BOUNCED, "5.4.4", "Host or domain name not found. Name service error for name="
                    + host + " type=" + type + ": Host found but no data record of requested type");
        }
        return ok(kept);
    }

    private static List<InetAddress> filter(List<InetAddress> addresses, SmtpClientSettings.Routing routing) {
        List<InetAddress> out = new ArrayList<>();
        for (InetAddress a : addresses) {
            if (allowed(a, routing)) {
                out.add(a);
            }
        }
        return out;
    }

    private static boolean allowed(InetAddress a, SmtpClientSettings.Routing routing) {
        return a == null || (a instanceof Inet4Address ? routing.ipv4() : a instanceof Inet6Address && routing.ipv6());
    }

    /* lookupHost - the addresses of a host by smtp_host_lookup (dns, native, in the order given) */
    private List<InetAddress> lookupHost(String host, SmtpClientSettings.Routing routing) throws DnsLookupException {
        List<String> ways = routing.disableDnsLookups() ? List.of("native") : routing.hostLookup();
        if (ways.isEmpty()) {
            ways = List.of("dns");
        }
        DnsLookupException last = null;
        for (String way : ways) {
            try {
                List<InetAddress> found = way.equals("native") ? nativeHost(host) : new ArrayList<>(dns.lookupAddresses(host));
                if (!found.isEmpty() || way.equals(ways.get(ways.size() - 1))) {
                    return new ArrayList<>(found);
                }
            } catch (DnsLookupException e) {
                last = e;
            }
        }
        throw last != null ? last : new DnsLookupException(DnsLookupException.Kind.NOT_FOUND, "Host not found");
    }

    private List<InetAddress> nativeHost(String host) throws DnsLookupException {
        try {
            return new ArrayList<>(nativeLookup.lookup(host));
        } catch (UnknownHostException e) {
            // getaddrinfo does not tell NXDOMAIN from SERVFAIL reliably: never bounce on it
            throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "Host not found, try again");
        }
    }

    /* isSelf - a target that is this mail system (smtp_find_self): by address or by host name */
    private static boolean isSelf(SmtpTarget t, SmtpClientSettings.Routing routing) {
        if (t.address() == null) {
            return true;   // an MX named with our own host name
        }
        if (routing.ownNames().contains(t.hostName().toLowerCase(Locale.ROOT))) {
            return true;
        }
        String a = t.address().getHostAddress();
        for (String own : routing.ownAddresses()) {
            if (own.equalsIgnoreCase(a)) {
                return true;
            }
        }
        return false;
    }

    private static Result loop(String host, SmtpClientSettings.Routing routing) {
        if (!routing.bestMxTransport().isEmpty()) {
            return fail(Status.DEFERRED, "4.4.6", "mail for " + host + " loops back to myself");
        }
        return fail(Status.BOUNCED, "5.4.6", "mail for " + host + " loops back to myself");
    }

    /* limit - smtp_mx_address_limit: bound the addresses tried for one next hop */
    private static Result limit(Result r, SmtpClientSettings.Routing routing) {
        int max = routing.mxAddressLimit();
        if (r.failure() != null || max <= 0 || r.targets().size() <= max) {
            return r;
        }
        return ok(List.copyOf(r.targets().subList(0, max)));
    }

    private static Result nameServiceError(String name, String type, DnsLookupException e) {
        boolean permanent = e.kind() == DnsLookupException.Kind.NOT_FOUND;
        return fail(permanent ? Status.BOUNCED : Status.DEFERRED, permanent ? "5.4.4" : "4.4.3",
                "Host or domain name not found. Name service error for name=" + name + " type=" + type
                        + ": " + (permanent ? "Host not found" : "Host not found, try again"));
    }

    private static Result ok(List<SmtpTarget> targets) {
        return new Result(targets, null);
    }

    private static Result fail(Status status, String dsn, String text) {
        return new Result(List.of(), new Failure(status, dsn, text));
    }

    /**
     * parseSmtpDestination - an SMTP destination as written in relayhost, fallback_relay or
     * transport(5): {@code [host]:port}, {@code [host]}, {@code host:port}, {@code host}
     * (MX lookup without brackets), port by number or smtp/submission/smtps.
     */
    static NextHop parseSmtpDestination(String destination) {
        return NextHop.parseSmtp(destination);
    }

    private static String stripBrackets(String host) {
        String h = host.trim();
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.toLowerCase(Locale.ROOT).startsWith("ipv6:")) {
            h = h.substring(5);
        }
        return h;
    }

    /* literal - the address of an IPv4 or IPv6 literal, without any name lookup; else null */
    private static InetAddress literal(String host) {
        if (!IPV4.matcher(host).matches() && host.indexOf(':') < 0) {
            return null;
        }
        try {
            return InetAddress.getByName(host);   // a literal: parsed, never looked up
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
