package org.postern.smtpd.policy;

import static org.postern.smtpd.policy.RestrictionKind.of;

import java.util.List;

import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * ClientRestrictions - the restrictions on the SMTP client (Postfix postconf(5),
 * "Client hostname/address restrictions"): permit_mynetworks,
 * permit_sasl_authenticated, check_client_access, reject_unknown_client_hostname and
 * reject_unknown_reverse_client_hostname.
 *
 * <h2>DESCRIPTION</h2>
 * check_client_access looks up the client name and its parent domains, then the address
 * and its networks ({@link AccessMaps#clientAccess}).
 * reject_unknown_reverse_client_hostname rejects a client address without a PTR record;
 * reject_unknown_client_hostname one without a PTR name whose A/AAAA records contain the
 * address: "unknown_client_reject_code (450) 4.7.1 Client host rejected: cannot find
 * your (reverse) hostname, [address]", defer_code (450) when DNS failed.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * mynetworks, unknown_client_reject_code (450), defer_code (450).
 */
final class ClientRestrictions {

    static final List<RestrictionKind> KINDS = List.of(
            of("permit_mynetworks", (req, r) -> req.settings().mynetworks().test(req.ctx.clientAddress())
                    ? Verdict.OK : Verdict.DUNNO),
            of("permit_sasl_authenticated", (req, r) -> req.ctx.saslAuthenticated() ? Verdict.OK : Verdict.DUNNO),
            RestrictionKind.withArgument("check_client_access", Argument.TABLE,
                    (req, r) -> AccessMaps.clientAccess(req.as(req.ctx.namaddr(), Request.CLIENT), r.table())),
            RestrictionKind.dns("reject_unknown_client_hostname", Argument.NONE, ClientRestrictions::unknownClient,
                    (q, r) -> q.add(q.clientHostname())),
            RestrictionKind.dns("reject_unknown_reverse_client_hostname", Argument.NONE,
                    ClientRestrictions::unknownReverseClient,
                    (q, r) -> q.clientQuery(DnsLookup.Type.PTR, q.ctx.clientAddress())));

    private ClientRestrictions() {
    }

    /** unknownReverseClient - reject_unknown_reverse_client_hostname: no PTR record. */
    private static Verdict unknownReverseClient(Request req, Restriction r) {
        CheckContext ctx = req.ctx;
        DnsLookup.Answer ptr = DnsQueries.answer(ctx, DnsLookup.Type.PTR, ctx.clientAddress());
        if (ptr.status() == DnsLookup.Status.FOUND) {
            return Verdict.DUNNO;
        }
        PolicySettings.Codes codes = req.settings().codes();
        int code = ptr.status() == DnsLookup.Status.TEMP_FAIL ? codes.defer() : codes.unknownClient();
        return Verdict.reject(code, "4.7.1",
                Request.CLIENT + " rejected: cannot find your reverse hostname, [" + ctx.clientAddress() + "]");
    }

    /**
     * unknownClient - reject_unknown_client_hostname: no PTR record, or no PTR name whose
     * A/AAAA records contain the client address.
     */
    private static Verdict unknownClient(Request req, Restriction r) {
        CheckContext ctx = req.ctx;
        String address = ctx.clientAddress();
        DnsLookup.Answer ptr = DnsQueries.answer(ctx, DnsLookup.Type.PTR, address);
        boolean temp = ptr.status() == DnsLookup.Status.TEMP_FAIL;
        if (ptr.status() == DnsLookup.Status.FOUND) {
            String canonical = Hostnames.canonical(address);
            for (String name : ptr.values().subList(0, Math.min(DnsQueries.MAX_PTR_NAMES, ptr.values().size()))) {
                for (DnsLookup.Type t : List.of(DnsLookup.Type.A, DnsLookup.Type.AAAA)) {
                    DnsLookup.Answer a = DnsQueries.answer(ctx, t, name);
                    temp |= a.status() == DnsLookup.Status.TEMP_FAIL;
                    if (a.values().stream().map(Hostnames::canonical).anyMatch(canonical::equals)) {
                        return Verdict.DUNNO;
                    }
                }
            }
        }
        PolicySettings.Codes codes = req.settings().codes();
        return Verdict.reject(temp ? codes.defer() : codes.unknownClient(), "4.7.1",
                Request.CLIENT + " rejected: cannot find your hostname, [" + address + "]");
    }
}
