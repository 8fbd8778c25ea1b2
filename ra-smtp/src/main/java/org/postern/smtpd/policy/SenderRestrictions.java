package org.postern.smtpd.policy;

import static org.postern.smtpd.policy.RestrictionKind.of;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Logger;

import org.postern.config.maps.LookupTable;
import org.postern.mail.MailAddress;
import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * SenderRestrictions - the restrictions on the MAIL FROM address (Postfix postconf(5),
 * "Sender address restrictions"): check_sender_access, reject_non_fqdn_sender,
 * reject_unknown_sender_domain, reject_unlisted_sender and the
 * *_sender_login_mismatch restrictions. Each is DUNNO before MAIL FROM, and all but
 * check_sender_access for the null sender.
 *
 * <h2>DESCRIPTION</h2>
 * check_sender_access looks up user@domain, the domain and its parents, then user@
 * (smtpd_null_access_lookup_key for the null sender). reject_unknown_sender_domain:
 * "unknown_address_reject_code (450) 4.1.8 ... Domain not found", 550 5.7.27 for a null
 * MX. reject_unlisted_sender: the sender must be a valid recipient of its relay or
 * virtual mailbox domain (Postfix check_sender_rcpt_maps()), "5.1.0 ... User unknown in
 * relay recipient table".
 *
 * <p>reject_authenticated_sender_login_mismatch,
 * reject_unauthenticated_sender_login_mismatch, reject_known_sender_login_mismatch and
 * reject_sender_login_mismatch (the first two) compare the SASL login name with the
 * owners of the sender address in smtpd_sender_login_maps (user@domain, user for a
 * mydestination domain, then @domain; owners separated by comma or space, compared
 * without case): "553 5.7.1 &lt;a@b&gt;: Sender address rejected: not owned by user
 * NAME" or "... not logged in". With smtpd_sasl_auth_enable = no they are ignored with
 * a warning, as in Postfix.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_null_access_lookup_key (&lt;&gt;), non_fqdn_reject_code (504),
 * unknown_address_reject_code (450), smtpd_sender_login_maps, smtpd_sasl_auth_enable
 * (no), smtpd_reject_unlisted_sender (no, see {@link SmtpdCheck}).
 *
 * <h2>BUGS</h2>
 * reject_unlisted_sender does not consult canonical or virtual alias maps.
 * smtpd_sender_login_maps lookups do not strip address extensions, and the bare "user"
 * key is tried for mydestination domains only (not $myorigin or the interface
 * addresses).
 */
final class SenderRestrictions {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");

    static final List<RestrictionKind> KINDS = List.of(
            RestrictionKind.withArgument("check_sender_access", Argument.TABLE, (req, r) -> req.ctx.sender() == null
                    ? Verdict.DUNNO
                    : AccessMaps.mailAccess(req.as(req.ctx.sender(), Request.SENDER), r.table(), req.ctx.sender())),
            of("reject_non_fqdn_sender", (req, r) -> noSender(req) ? Verdict.DUNNO
                    : AddressChecks.nonFqdnAddress(req.settings(), req.ctx.sender(), Request.SENDER)),
            RestrictionKind.dns("reject_unknown_sender_domain", Argument.NONE, (req, r) -> noSender(req)
                    ? Verdict.DUNNO
                    : AddressChecks.unknownDomain(req.settings(), req.ctx, AddressChecks.split(req.ctx.sender()),
                            req.ctx.sender(), Request.SENDER, "4.1.8", "5.7.27"),
                    (q, r) -> q.domain(q.ctx.sender() == null || q.ctx.sender().isEmpty() ? null
                            : AddressChecks.split(q.ctx.sender()))),
            of("reject_unlisted_sender", SenderRestrictions::rejectUnlistedSender),
            of("reject_authenticated_sender_login_mismatch", SenderRestrictions::senderLogin),
            of("reject_known_sender_login_mismatch", SenderRestrictions::senderLogin),
            of("reject_unauthenticated_sender_login_mismatch", SenderRestrictions::senderLogin),
            RestrictionKind.expanding("reject_sender_login_mismatch", "reject_authenticated_sender_login_mismatch",
                    "reject_unauthenticated_sender_login_mismatch"));

    private SenderRestrictions() {
    }

    /** noSender - before MAIL FROM, or the null sender. */
    private static boolean noSender(Request req) {
        return req.ctx.sender() == null || req.ctx.sender().isEmpty();
    }

    /** rejectUnlistedSender - reject_unlisted_sender, once per evaluation (a warning does not count). */
    private static Verdict rejectUnlistedSender(Request req, Restriction r) {
        if (noSender(req) || req.eval().senderChecked) {
            return Verdict.DUNNO;
        }
        req.eval().senderChecked = !req.eval().warn; // a warning did not really validate it
        return unlistedSender(req.settings(), req.ctx.sender());
    }

    /**
     * unlistedSender - reject_unlisted_sender: the sender address must be a valid recipient
     * of its address class (Postfix check_sender_rcpt_maps()), as
     * {@link AddressChecks#unlisted} decides.
     */
    static Verdict unlistedSender(PolicySettings s, String sender) {
        MailAddress a = AddressChecks.split(sender);
        if (a.domain() == null) {
            return Verdict.DUNNO; // user@$myorigin: a local address
        }
        AddressChecks.Unlisted u = AddressChecks.unlisted(s, s.resolver().resolve(a.localPart(), a.domain()));
        return u == null ? Verdict.DUNNO : Verdict.reject(u.code(), "5.1.0", "<" + sender + ">: " + Request.SENDER
                + " rejected: User unknown in " + u.table());
    }

    /**
     * senderLogin - reject_authenticated_sender_login_mismatch (the logged-in client must
     * own the sender address), reject_unauthenticated_sender_login_mismatch (an owned
     * address needs a logged-in client) and reject_known_sender_login_mismatch (the first
     * for listed addresses when logged in, else the second). Owners come from
     * smtpd_sender_login_maps (Postfix reject_auth_sender_login_mismatch()).
     */
    private static Verdict senderLogin(Request req, Restriction r) {
        PolicySettings s = req.settings();
        String name = r.name();
        if (!s.saslEnabled()) {
            LOG.warning("PSTN1104: restriction `" + name + "' ignored: no SASL support"
                    + " (smtpd_sasl_auth_enable = no)");
            return Verdict.DUNNO;
        }
        String sender = req.ctx.sender();
        if (sender == null || sender.isEmpty() || s.senderLoginMaps().isEmpty()) {
            return Verdict.DUNNO;
        }
        String user = req.ctx.saslUsername();
        boolean authenticated = name.equals("reject_authenticated_sender_login_mismatch")
                || (name.equals("reject_known_sender_login_mismatch") && user != null);
        Optional<String> owners = senderOwners(s, sender);
        if (authenticated) {
            if (user == null || (owners.isEmpty() && !name.equals("reject_authenticated_sender_login_mismatch"))) {
                return Verdict.DUNNO;
            }
            if (owners.isPresent()) {
                for (String owner : owners.get().split("[,\\s]+")) {
                    if (!owner.isEmpty() && owner.equalsIgnoreCase(user)) {
                        return Verdict.DUNNO;
                    }
                }
            }
            return Verdict.reject(553, "5.7.1", "<" + sender + ">: " + Request.SENDER + " rejected: not owned by user "
                    + Verdict.printable(user));
        }
        if (user == null && owners.isPresent()) {
            return Verdict.reject(553, "5.7.1", "<" + sender + ">: " + Request.SENDER + " rejected: not logged in");
        }
        return Verdict.DUNNO;
    }

    /**
     * senderOwners - smtpd_sender_login_maps for user@domain, then user for a local domain,
     * then @domain (Postfix mail_addr_find()); the first table that knows a key decides.
     */
    private static Optional<String> senderOwners(PolicySettings s, String sender) {
        MailAddress a = AddressChecks.split(sender);
        String local = AddressResolver.unquote(a.localPart());
        String domain = a.domain() == null ? null : Hostnames.stripDot(a.domain()).toLowerCase(Locale.ROOT);
        boolean localDomain = domain == null || s.resolver().resolve(a.localPart(), a.domain()).addressClass()
                == AddressResolver.AddressClass.LOCAL;
        List<String> keys = new ArrayList<>();
        if (domain != null) {
            keys.add(local + "@" + domain);
        }
        if (localDomain) {
            keys.add(local);
        }
        if (domain != null) {
            keys.add("@" + domain);
        }
        for (String key : keys) {
            for (LookupTable t : s.senderLoginMaps()) {
                Optional<String> v = t.lookup(key);
                if (v.isPresent()) {
                    return v;
                }
            }
        }
        return Optional.empty();
    }
}
