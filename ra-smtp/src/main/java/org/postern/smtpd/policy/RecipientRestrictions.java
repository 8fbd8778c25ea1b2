package org.postern.smtpd.policy;

import static org.postern.smtpd.policy.RestrictionKind.of;

import java.util.List;

import org.postern.mail.MailAddress;
import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * RecipientRestrictions - the restrictions on the RCPT TO address (Postfix
 * postconf(5), "Recipient address restrictions"): check_recipient_access,
 * permit_auth_destination, reject_unauth_destination, defer_unauth_destination,
 * reject_non_fqdn_recipient, reject_unknown_recipient_domain and
 * reject_unlisted_recipient. Each is DUNNO outside RCPT TO.
 *
 * <h2>DESCRIPTION</h2>
 * Relay control follows Postfix: only mydestination, the virtual domains and
 * relay_domains are authorized destinations (permit_auth_destination), and an address
 * with routing operators in its local part is not, for clients that are not trusted
 * (allow_untrusted_routing = no). reject_unauth_destination replies
 * "relay_domains_reject_code (554) 5.7.1 &lt;rcpt&gt;: Relay access denied",
 * defer_unauth_destination the same with defer_code (450).
 *
 * <p>check_recipient_access looks up user@domain, the domain and its parents, then
 * user@; a non-local address with sender-specified routing is not looked up unless
 * allow_untrusted_routing = yes (postconf(5)): "relay.example OK" must not let
 * user%other@relay.example through. reject_unlisted_recipient: "5.1.1 ... User unknown
 * in relay recipient table" (or virtual mailbox or virtual alias table).
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * mydestination, relay_domains, virtual_mailbox_domains, virtual_alias_domains,
 * relay_recipient_maps, virtual_mailbox_maps, virtual_alias_maps,
 * allow_untrusted_routing (no), relay_domains_reject_code (554), defer_code (450),
 * non_fqdn_reject_code (504), unknown_address_reject_code (450),
 * unknown_relay_recipient_reject_code (550), unknown_virtual_mailbox_reject_code (550),
 * unknown_virtual_alias_reject_code (550).
 *
 * <h2>BUGS</h2>
 * No local_recipient_maps: every local-part of a mydestination domain passes
 * reject_unlisted_recipient. Address literals are never local destinations.
 */
final class RecipientRestrictions {

    static final List<RestrictionKind> KINDS = List.of(
            RestrictionKind.withArgument("check_recipient_access", Argument.TABLE, RecipientRestrictions::access),
            of("permit_auth_destination", (req, r) -> req.recipient == null ? Verdict.DUNNO
                    : authDestination(req.settings(), req.recipient)),
            of("reject_unauth_destination", RecipientRestrictions::unauthDestination),
            of("defer_unauth_destination", RecipientRestrictions::unauthDestination),
            of("reject_non_fqdn_recipient", (req, r) -> req.recipient == null ? Verdict.DUNNO
                    : AddressChecks.nonFqdnAddress(req.settings(), req.recipient.toString(), Request.RECIPIENT)),
            RestrictionKind.dns("reject_unknown_recipient_domain", Argument.NONE, (req, r) -> req.recipient == null
                    ? Verdict.DUNNO
                    : AddressChecks.unknownDomain(req.settings(), req.ctx, req.recipient, req.recipient.toString(),
                            Request.RECIPIENT, "4.1.2", "5.1.10"),
                    (q, r) -> q.domain(q.recipient)),
            of("reject_unlisted_recipient", (req, r) -> {
                if (req.recipient == null) {
                    return Verdict.DUNNO;
                }
                req.unlistedChecked = true;
                return unlistedRecipient(req);
            }));

    private RecipientRestrictions() {
    }

    /** access - check_recipient_access, unless the address is routed (see suspicious). */
    private static Verdict access(Request req, Restriction r) {
        if (req.recipient == null || suspicious(req.settings(), req.recipient)) {
            return Verdict.DUNNO;
        }
        String rcpt = req.recipient.toString();
        return AccessMaps.mailAccess(req.as(rcpt, Request.RECIPIENT), r.table(), rcpt);
    }

    /** unauthDestination - reject_ and defer_unauth_destination. */
    private static Verdict unauthDestination(Request req, Restriction r) {
        if (req.recipient == null || authDestination(req.settings(), req.recipient).kind() == Verdict.Kind.OK) {
            return Verdict.DUNNO;
        }
        PolicySettings.Codes codes = req.settings().codes();
        return Verdict.reject(r.name().startsWith("reject") ? codes.relayDomainsReject() : codes.defer(), "5.7.1",
                "<" + req.recipient + ">: Relay access denied");
    }

    /**
     * authDestination - permit_auth_destination: OK for mydestination and relay_domains,
     * unless the address is routed and allow_untrusted_routing = no.
     */
    private static Verdict authDestination(PolicySettings s, MailAddress recipient) {
        AddressResolver.Resolved r = s.resolver().resolve(recipient.localPart(), recipient.domain());
        if (r.routed() && !s.allowUntrustedRouting()) {
            return Verdict.DUNNO;
        }
        return r.addressClass() == AddressResolver.AddressClass.REMOTE ? Verdict.DUNNO : Verdict.OK;
    }

    /**
     * suspicious - a non-local recipient with sender-specified routing cannot match an access
     * table unless allow_untrusted_routing = yes.
     */
    private static boolean suspicious(PolicySettings s, MailAddress recipient) {
        if (s.allowUntrustedRouting()) {
            return false;
        }
        AddressResolver.Resolved r = s.resolver().resolve(recipient.localPart(), recipient.domain());
        return r.routed() && r.addressClass() != AddressResolver.AddressClass.LOCAL;
    }

    /**
     * unlistedRecipient - reject_unlisted_recipient: the recipient must be listed where its
     * address class keeps its users ({@link AddressChecks#unlisted}).
     */
    static Verdict unlistedRecipient(Request req) {
        PolicySettings s = req.settings();
        AddressChecks.Unlisted u = AddressChecks.unlisted(s, s.resolver().resolve(req.recipient.localPart(),
                req.recipient.domain()));
        return u == null ? Verdict.DUNNO : Verdict.reject(u.code(), "5.1.1", "<" + req.recipient
                + ">: Recipient address rejected: User unknown in " + u.table());
    }
}
