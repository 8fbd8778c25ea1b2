package org.postern.smtp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;

import org.postern.smtp.DeliveryOutcome.Status;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.dns.MxRecord;

/**
 * SmtpTargetResolver - where to connect for a next hop: the addresses to try, in order.
 *
 * <p>For {@code smtp:domain} (mxLookup) the MX records sorted by preference, equal
 * preferences shuffled (smtp_randomize_addresses = yes), each MX host's addresses in
 * order; no MX: the domain's own addresses; a null MX (RFC 7505): bounce 5.1.10;
 * NXDOMAIN: bounce 5.4.4; any other DNS failure: defer 4.4.3, never a bounce. For
 * {@code smtp:[host]} and LMTP: the host's addresses or the address literal;
 * {@code lmtp:unix:/path}: the socket.
 *
 * <p>BUGS: no smtp_mx_address_limit, smtp_mx_session_limit, mail-loops-to-myself check,
 * or inet_protocols filter yet.
 */
final class SmtpTargetResolver {

    /** Failure - the next hop cannot be reached at all: every recipient gets this outcome. */
    record Failure(Status status, String dsn, String text) {
    }

    /** Result - either targets (non-empty) or a failure. */
    record Result(List<SmtpTarget> targets, Failure failure) {
    }

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final DnsResolver dns;
    private final Random random;

    SmtpTargetResolver(DnsResolver dns, Random random) {
        this.dns = dns;
        this.random = random;
    }

    /** resolve - the targets of {@code hop}; {@code localName} names a unix socket's host. */
    Result resolve(NextHop hop, String localName) {
        if (hop.unixPath() != null) {
            return ok(List.of(new SmtpTarget(localName, null, 0, hop.unixPath())));
        }
        String host = stripBrackets(hop.host());
        InetAddress literal = literal(host);
        if (literal != null) {
            return ok(List.of(new SmtpTarget(literal.getHostAddress(), literal, hop.port(), null)));
        }
        if (!hop.mxLookup()) {
            return hostTargets(host, hop.port(), "A");
        }
        return mxTargets(host, hop.port());
    }

    private Result mxTargets(String domain, int port) {
        List<MxRecord> mx;
        try {
            mx = new ArrayList<>(dns.lookupMx(domain));
        } catch (DnsLookupException e) {
            return nameServiceError(domain, "MX", e);
        }
        if (mx.isEmpty()) {
            return hostTargets(domain, port, "A");
        }
        if (mx.size() == 1 && mx.get(0).isNull()) {
            return fail(Status.BOUNCED, "5.1.10", "Domain " + domain + " does not accept mail (nullMX)");
        }
        // shuffle first, then a stable sort: equal preferences end up in random order
        Collections.shuffle(mx, random);
        mx.sort(Comparator.comparingInt(MxRecord::preference));
        List<SmtpTarget> targets = new ArrayList<>();
        Failure temporary = null;
        for (MxRecord r : mx) {
            if (r.isNull()) {
                continue;
            }
            try {
                for (InetAddress a : dns.lookupAddresses(r.host())) {
                    targets.add(new SmtpTarget(r.host(), a, port, null));
                }
            } catch (DnsLookupException e) {
                if (e.kind() == DnsLookupException.Kind.TEMPORARY && temporary == null) {
                    temporary = nameServiceError(r.host(), "A", e).failure();
                }
            }
        }
        if (!targets.isEmpty()) {
            return ok(targets);
        }
        if (temporary != null) {
            return new Result(List.of(), temporary);
        }
        return fail(Status.BOUNCED, "5.4.4", "no MX host for " + domain + " has a valid address record");
    }

    private Result hostTargets(String host, int port, String type) {
        List<InetAddress> addresses;
        try {
            addresses = dns.lookupAddresses(host);
        } catch (DnsLookupException e) {
            return nameServiceError(host, type, e);
        }
        if (addresses.isEmpty()) {
            return fail(Status.BOUNCED, "5.4.4", "Host or domain name not found. Name service error for name="
                    + host + " type=" + type + ": Host found but no data record of requested type");
        }
        List<SmtpTarget> targets = new ArrayList<>();
        for (InetAddress a : addresses) {
            targets.add(new SmtpTarget(host, a, port, null));
        }
        return ok(targets);
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
