package org.postern.smtpd.policy;

import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

import org.postern.mail.MailAddress;
import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * DnsListRestrictions - the DNS blocklist restrictions: reject_rbl_client,
 * reject_maps_rbl and reject_rhsbl_client, _reverse_client, _sender, _recipient and
 * _helo (Postfix postconf(5)).
 *
 * <h2>DESCRIPTION</h2>
 * A blocklist argument is domain[=d.d.d.d], each d a number or a [n;n..m] pattern
 * (Postfix 2.8); the entry is listed when it has an A record that matches the filter.
 * reject_rbl_client looks up the client address (4.3.2.1.domain, or the reversed nibbles
 * of an IPv6 address), reject_maps_rbl the same in every maps_rbl_domains domain. The
 * reject_rhsbl_* restrictions look up the client name (not "unknown"), the unverified
 * PTR name of the client, or the domain of the sender, recipient or HELO name; address
 * literals and names ending in a numeric label are not looked up.
 *
 * <p>The reply is Postfix's default_rbl_reply, "$rbl_code Service unavailable;
 * $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}" with
 * maps_rbl_reject_code (554) and the TXT records joined by " / ". A list that does not
 * answer is not a reason to refuse mail (Postfix: DUNNO).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * maps_rbl_reject_code (554), maps_rbl_domains.
 *
 * <h2>BUGS</h2>
 * default_rbl_reply and rbl_reply_maps cannot be configured: the reply is Postfix's
 * default. No permit_dnswl_client or permit_rhswl_client.
 */
final class DnsListRestrictions {

    static final List<RestrictionKind> KINDS = List.of(
            RestrictionKind.dns("reject_rbl_client", Argument.DNS_DOMAIN, (req, r) -> rbl(req, r.arg()),
                    (q, r) -> q.list(rblQuery(q.ctx.clientAddress(), rblDomain(r.arg())))),
            RestrictionKind.dns("reject_maps_rbl", Argument.NONE, DnsListRestrictions::mapsRbl, (q, r) -> {
                for (String d : q.settings.mapsRblDomains()) {
                    q.list(rblQuery(q.ctx.clientAddress(), d));
                }
            }),
            rhsbl("reject_rhsbl_client", Request.CLIENT,
                    (ctx, rcpt) -> "unknown".equalsIgnoreCase(ctx.clientName()) ? null : ctx.clientName()),
            RestrictionKind.dns("reject_rhsbl_reverse_client", Argument.DNS_DOMAIN, (req, r) -> {
                String reverse = reverseName(req.ctx);
                return reverse == null ? Verdict.DUNNO : rhsbl(req, r.arg(), reverse, Request.REVERSE_CLIENT);
            }, (q, r) -> q.add(q.fork().clientQuery(DnsLookup.Type.PTR, q.ctx.clientAddress()).thenCompose(x -> {
                // the PTR name first (the client's reverse name), then its blocklist entry
                DnsQueries more = q.fork();
                String reverse = reverseName(q.ctx);
                if (reverse != null) {
                    more.list(rhsblQuery(reverse, rblDomain(r.arg())));
                }
                return more.all();
            }))),
            rhsbl("reject_rhsbl_sender", Request.SENDER,
                    (ctx, rcpt) -> ctx.sender() == null || ctx.sender().isEmpty() ? null : ctx.sender()),
            rhsbl("reject_rhsbl_recipient", Request.RECIPIENT, (ctx, rcpt) -> rcpt == null ? null : rcpt.toString()),
            rhsbl("reject_rhsbl_helo", Request.HELO, (ctx, rcpt) -> ctx.helo()));

    /** One octet of a d.d.d.d reply filter: a number, or [n;n..m;...] (Postfix 2.8 ip_match). */
    private static final String OCTET = "(?:\\d{1,3}|\\[\\d{1,3}(?:\\.\\.\\d{1,3})?(?:;\\d{1,3}(?:\\.\\.\\d{1,3})?)*\\])";
    private static final Pattern FILTER = Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);

    private DnsListRestrictions() {
    }

    /**
     * rhsbl - a reject_rhsbl_* restriction: what names the thing whose domain is looked
     * up (null: nothing to look up), replyClass names it in the reply.
     */
    private static RestrictionKind rhsbl(String name, String replyClass,
                                         BiFunction<CheckContext, MailAddress, String> what) {
        return RestrictionKind.dns(name, Argument.DNS_DOMAIN, (req, r) -> {
            String w = what.apply(req.ctx, req.recipient);
            return w == null ? Verdict.DUNNO : rhsbl(req, r.arg(), w, replyClass);
        }, (q, r) -> {
            String w = what.apply(q.ctx, q.recipient);
            if (w != null) {
                q.list(rhsblQuery(w, rblDomain(r.arg())));
            }
        });
    }

    /** validDnsxl - domain, or domain=d.d.d.d where each d is a number or a [n;n..m] pattern. */
    static boolean validDnsxl(String arg) {
        String domain = rblDomain(arg);
        return Hostnames.validHostname(domain)
                && (domain.length() == arg.length() || FILTER.matcher(arg.substring(domain.length() + 1)).matches());
    }

    /** filterMatches - does an A record value match a d.d.d.d reply filter (each octet a number or [list]). */
    static boolean filterMatches(String filter, String address) {
        String[] f = filter.split("\\.(?![^\\[]*\\])");
        String[] a = address.split("\\.");
        if (f.length != 4 || a.length != 4) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            int octet;
            try {
                octet = Integer.parseInt(a[i]);
            } catch (NumberFormatException e) {
                return false;
            }
            if (!octetMatches(f[i], octet)) {
                return false;
            }
        }
        return true;
    }

    private static boolean octetMatches(String pattern, int octet) {
        if (!pattern.startsWith("[")) {
            return Integer.parseInt(pattern) == octet;
        }
        for (String range : pattern.substring(1, pattern.length() - 1).split(";")) {
            int dots = range.indexOf("..");
            int low = Integer.parseInt(dots < 0 ? range : range.substring(0, dots));
            int high = dots < 0 ? low : Integer.parseInt(range.substring(dots + 2));
            if (octet >= low && octet <= high) {
                return true;
            }
        }
        return false;
    }

    /** rblDomain - "zen.example=127.0.0.2" without its filter. */
    static String rblDomain(String arg) {
        int eq = arg.indexOf('=');
        return eq < 0 ? arg : arg.substring(0, eq);
    }

    /** rblQuery - 4.3.2.1.domain, or the reversed nibbles of an IPv6 address; null for a non-address. */
    static String rblQuery(String address, String domain) {
        if (Hostnames.validIpv4(address)) {
            String[] o = address.split("\\.");
            return o[3] + "." + o[2] + "." + o[1] + "." + o[0] + "." + domain;
        }
        if (!Hostnames.validIpv6(address)) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = java.net.InetAddress.getByName(address).getAddress();
        } catch (java.net.UnknownHostException e) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (int i = bytes.length - 1; i >= 0; i--) {
            b.append(Character.forDigit(bytes[i] & 0xF, 16)).append('.')
                    .append(Character.forDigit((bytes[i] >> 4) & 0xF, 16)).append('.');
        }
        return b.append(domain).toString();
    }

    /**
     * rhsblQuery - Postfix find_dnsxl_domain(): the domain of an address (or a host name)
     * under the blocklist domain; null for an address literal, an empty or invalid name,
     * or a name that ends in a numeric label (some lists refuse "IP queries").
     */
    static String rhsblQuery(String what, String rblDomain) {
        int at = what.lastIndexOf('@');
        String domain = Hostnames.stripDot(at < 0 ? what : what.substring(at + 1));
        if (domain.isEmpty() || domain.startsWith("[")) {
            return null;
        }
        int dot = domain.lastIndexOf('.');
        String last = domain.substring(dot + 1);
        if (last.isEmpty() || last.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        if (!domain.chars().allMatch(c -> c < 128)) {
            try {
                domain = java.net.IDN.toASCII(domain, java.net.IDN.ALLOW_UNASSIGNED);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return Hostnames.validHostname(domain) ? domain.toLowerCase(Locale.ROOT) + "." + rblDomain : null;
    }

    /** reverseName - the client's first PTR name, unverified (Postfix reverse_name), or null when unknown. */
    static String reverseName(CheckContext ctx) {
        DnsLookup.Answer ptr = ctx.dnsAnswers().get(DnsLookup.Type.PTR, ctx.clientAddress());
        if (ptr == null || ptr.status() != DnsLookup.Status.FOUND || ptr.values().isEmpty()) {
            return null;
        }
        String name = Hostnames.stripDot(ptr.values().get(0));
        return Hostnames.validHostname(name) ? name.toLowerCase(Locale.ROOT) : null;
    }

    /** mapsRbl - reject_maps_rbl: reject_rbl_client for each maps_rbl_domains domain, the first listing decides. */
    private static Verdict mapsRbl(Request req, Restriction r) {
        for (String d : req.settings().mapsRblDomains()) {
            Verdict v = rbl(req, d);
            if (v.rejected()) {
                return v;
            }
        }
        return Verdict.DUNNO;
    }

    /** rbl - reject_rbl_client domain[=d.d.d.d]: listed when an A record (matching the filter) exists. */
    private static Verdict rbl(Request req, String arg) {
        String q = rblQuery(req.ctx.clientAddress(), rblDomain(arg));
        return listed(req, q, arg, req.ctx.clientAddress(), Request.CLIENT);
    }

    /** rhsbl - a reject_rhsbl_* lookup of what's domain. */
    private static Verdict rhsbl(Request req, String arg, String what, String replyClass) {
        return listed(req, rhsblQuery(what, rblDomain(arg)), arg, what, replyClass);
    }

    /**
     * listed - the reply when the entry q (null: nothing to look up) has an A record that
     * matches the filter of arg, else DUNNO (a list that does not answer included).
     */
    private static Verdict listed(Request req, String q, String arg, String what, String replyClass) {
        if (q == null) {
            return Verdict.DUNNO;
        }
        String domain = rblDomain(arg);
        String filter = arg.length() > domain.length() ? arg.substring(domain.length() + 1) : null;
        DnsLookup.Answer a = DnsQueries.answer(req.ctx, DnsLookup.Type.A, q);
        if (a.status() != DnsLookup.Status.FOUND
                || (filter != null && a.values().stream().noneMatch(v -> filterMatches(filter, v)))) {
            return Verdict.DUNNO;
        }
        return rblReply(req, q, domain, what, replyClass);
    }

    /**
     * rblReply - Postfix's default_rbl_reply: "$rbl_code Service unavailable; $rbl_class
     * [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}", the reason being
     * the TXT records joined with " / " (at most 500 characters).
     */
    private static Verdict rblReply(Request req, String query, String domain, String what, String replyClass) {
        DnsLookup.Answer txt = DnsQueries.answer(req.ctx, DnsLookup.Type.TXT, query);
        String reason = "";
        if (txt.status() == DnsLookup.Status.FOUND && !txt.values().isEmpty()) {
            String joined = String.join(" / ", txt.values());
            reason = "; " + Verdict.printable(joined.length() > 500 ? joined.substring(0, 500) : joined);
        }
        return Verdict.reject(req.settings().codes().mapsRbl(), "5.7.1", "Service unavailable; " + replyClass + " ["
                + what + "] blocked using " + domain + reason);
    }
}
