package org.postern.smtpd.policy;

import static org.postern.smtpd.policy.RestrictionKind.of;

import java.util.List;
import java.util.Locale;

import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * HeloRestrictions - the restrictions on the HELO/EHLO argument (Postfix postconf(5),
 * "Restrictions on the HELO hostname"): check_helo_access,
 * reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname and
 * reject_unknown_helo_hostname. Each is DUNNO before HELO.
 *
 * <h2>DESCRIPTION</h2>
 * reject_invalid_helo_hostname: "invalid_hostname_reject_code (501) 5.5.2 &lt;helo&gt;:
 * Helo command rejected: Invalid name" for a name that is neither a host name nor an
 * address (literal). reject_non_fqdn_helo_hostname: "non_fqdn_reject_code (504) 5.5.2
 * ... need fully-qualified hostname". reject_unknown_helo_hostname: a host name without
 * MX, A or AAAA record, "unknown_hostname_reject_code (450) 4.7.1 ... Host not found"
 * (defer_code when DNS failed); addresses and literals are not looked up.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * invalid_hostname_reject_code (501), non_fqdn_reject_code (504),
 * unknown_hostname_reject_code (450), defer_code (450).
 */
final class HeloRestrictions {

    static final List<RestrictionKind> KINDS = List.of(
            RestrictionKind.withArgument("check_helo_access", Argument.TABLE, (req, r) -> req.ctx.helo() == null
                    ? Verdict.DUNNO
                    : AccessMaps.domainAccess(req.as(req.ctx.helo(), Request.HELO), r.table(), req.ctx.helo())
                            .orElse(Verdict.DUNNO)),
            of("reject_invalid_helo_hostname", HeloRestrictions::invalidHelo),
            of("reject_non_fqdn_helo_hostname", HeloRestrictions::nonFqdnHelo),
            RestrictionKind.dns("reject_unknown_helo_hostname", Argument.NONE, HeloRestrictions::unknownHelo,
                    (q, r) -> q.host(heloDnsName(q.ctx.helo()))));

    private HeloRestrictions() {
    }

    private static Verdict invalidHelo(Request req, Restriction r) {
        String helo = req.ctx.helo();
        if (helo == null) {
            return Verdict.DUNNO;
        }
        String name = Hostnames.stripDot(helo);
        boolean valid = name.startsWith("[")
                ? name.endsWith("]") && Hostnames.validHostaddr(Hostnames.stripLiteral(name))
                : Hostnames.validHostname(name) || Hostnames.validHostaddr(name);
        return valid ? Verdict.DUNNO : Verdict.reject(req.settings().codes().invalidHostname(), "5.5.2",
                "<" + helo + ">: " + Request.HELO + " rejected: Invalid name");
    }

    private static Verdict nonFqdnHelo(Request req, Restriction r) {
        String helo = req.ctx.helo();
        if (helo == null) {
            return Verdict.DUNNO;
        }
        String name = Hostnames.stripDot(helo);
        if (name.startsWith("[") && name.endsWith("]") && Hostnames.validHostaddr(Hostnames.stripLiteral(name))) {
            return Verdict.DUNNO;
        }
        if (Hostnames.validHostname(name) && name.indexOf('.') > 0) {
            return Verdict.DUNNO;
        }
        return Verdict.reject(req.settings().codes().nonFqdn(), "5.5.2", "<" + helo + ">: " + Request.HELO
                + " rejected: need fully-qualified hostname");
    }

    /** heloDnsName - the HELO name when DNS decides about it: a host name, not an address or literal. */
    private static String heloDnsName(String helo) {
        if (helo == null || helo.startsWith("[")) {
            return null;
        }
        String name = Hostnames.stripDot(helo);
        return Hostnames.validHostname(name) ? name.toLowerCase(Locale.ROOT) : null;
    }

    /** unknownHelo - reject_unknown_helo_hostname: the HELO host name has no MX, A or AAAA record. */
    private static Verdict unknownHelo(Request req, Restriction r) {
        String name = heloDnsName(req.ctx.helo());
        if (name == null) {
            return Verdict.DUNNO;
        }
        boolean temp = false;
        for (DnsLookup.Type t : List.of(DnsLookup.Type.MX, DnsLookup.Type.A, DnsLookup.Type.AAAA)) {
            DnsLookup.Answer a = DnsQueries.answer(req.ctx, t, name);
            if (a.status() == DnsLookup.Status.FOUND) {
                return Verdict.DUNNO;
            }
            temp |= a.status() == DnsLookup.Status.TEMP_FAIL;
        }
        PolicySettings.Codes codes = req.settings().codes();
        return Verdict.reject(temp ? codes.defer() : codes.unknownHostname(), "4.7.1", "<" + req.ctx.helo() + ">: "
                + Request.HELO + " rejected: Host not found");
    }
}
