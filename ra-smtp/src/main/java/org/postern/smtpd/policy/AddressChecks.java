package org.postern.smtpd.policy;

import java.util.List;
import java.util.Locale;

import org.postern.config.maps.LookupTable;
import org.postern.mail.AddressSyntaxException;
import org.postern.mail.MailAddress;

/**
 * AddressChecks - the checks that the sender and the recipient restrictions share: the
 * syntax of the domain, its existence in DNS, and whether the address is listed where its
 * address class keeps its users (Postfix smtpd_check.c check_*_rcpt_maps()).
 */
final class AddressChecks {

    private AddressChecks() {
    }

    /** Unlisted - the reply code and the table of an address that its table does not list. */
    record Unlisted(int code, String table) {
    }

    /** split - an address into local part and domain, leniently when it does not parse. */
    static MailAddress split(String address) {
        try {
            return MailAddress.parse(address);
        } catch (AddressSyntaxException e) {
            int at = address.lastIndexOf('@');
            return at < 0 ? new MailAddress(address, null)
                    : new MailAddress(address.substring(0, at), address.substring(at + 1));
        }
    }

    /** dnsDomain - the domain of an address when DNS decides about it: not local, not a literal; else null. */
    static String dnsDomain(PolicySettings s, MailAddress address) {
        if (address == null || address.domain() == null || address.domain().startsWith("[")) {
            return null;
        }
        AddressResolver.Resolved r = s.resolver().resolve(address.localPart(), address.domain());
        return r.addressClass() == AddressResolver.AddressClass.LOCAL ? null
                : Hostnames.stripDot(address.domain()).toLowerCase(Locale.ROOT);
    }

    /** nonFqdnAddress - reject_non_fqdn_sender/recipient: the domain must be a literal or a dotted name. */
    static Verdict nonFqdnAddress(PolicySettings s, String address, String replyClass) {
        MailAddress a = split(address);
        String domain = a.domain() == null ? "" : Hostnames.stripDot(a.domain());
        boolean fqdn = domain.startsWith("[") || (domain.indexOf('.') > 0 && Hostnames.validHostname(domain));
        return fqdn ? Verdict.DUNNO : Verdict.reject(s.codes().nonFqdn(), "5.5.2", "<" + address + ">: " + replyClass
                + " rejected: need fully-qualified address");
    }

    /**
     * unknownDomain - reject_unknown_sender/recipient_domain: a non-local domain without MX
     * and without A/AAAA, or with a null MX (RFC 7505).
     */
    static Verdict unknownDomain(PolicySettings s, CheckContext ctx, MailAddress address, String replyName,
                                 String replyClass, String dsn, String nullMxDsn) {
        String domain = dnsDomain(s, address);
        if (domain == null) {
            return Verdict.DUNNO;
        }
        DnsLookup.Answer mx = DnsQueries.answer(ctx, DnsLookup.Type.MX, domain);
        if (mx.status() == DnsLookup.Status.FOUND) {
            if (mx.values().size() == 1 && mx.values().get(0).isEmpty()) {
                return Verdict.reject(replyClass.equals(Request.SENDER) ? 550 : 556, nullMxDsn, "<" + replyName
                        + ">: " + replyClass + " rejected: Domain " + domain + " does not accept mail (nullMX)");
            }
            return Verdict.DUNNO;
        }
        DnsLookup.Answer a = DnsQueries.answer(ctx, DnsLookup.Type.A, domain);
        DnsLookup.Answer aaaa = DnsQueries.answer(ctx, DnsLookup.Type.AAAA, domain);
        if (a.status() == DnsLookup.Status.FOUND || aaaa.status() == DnsLookup.Status.FOUND) {
            return Verdict.DUNNO;
        }
        boolean temp = mx.status() == DnsLookup.Status.TEMP_FAIL || a.status() == DnsLookup.Status.TEMP_FAIL
                || aaaa.status() == DnsLookup.Status.TEMP_FAIL;
        return Verdict.reject(temp ? s.codes().defer() : s.codes().unknownAddress(), dsn, "<" + replyName + ">: "
                + replyClass + " rejected: Domain not found");
    }

    /**
     * unlisted - why an address is unknown, or null when it is listed or nothing lists
     * its class: an address in virtual_alias_maps exists whatever its domain;
     * virtual_alias_domains know no other users; relay_recipient_maps list those of
     * relay_domains and virtual_mailbox_maps those of virtual_mailbox_domains (an empty
     * list knows everybody); local domains have no recipient list in Postern.
     */
    static Unlisted unlisted(PolicySettings s, AddressResolver.Resolved r) {
        String address = r.address().toLowerCase(Locale.ROOT);
        if (r.addressClass() != AddressResolver.AddressClass.REMOTE
                && listed(s.virtualAliasMaps(), address, r.domain())) {
            return null;
        }
        List<LookupTable> maps;
        Unlisted why;
        switch (r.addressClass()) {
            case VIRTUAL_ALIAS -> {
                return new Unlisted(s.codes().unknownVirtualAlias(), "virtual alias table");
            }
            case RELAY -> {
                maps = s.relayRecipientMaps();
                why = new Unlisted(s.codes().unknownRelayRecipient(), "relay recipient table");
            }
            case VIRTUAL -> {
                maps = s.virtualMailboxMaps();
                why = new Unlisted(s.codes().unknownVirtualMailbox(), "virtual mailbox table");
            }
            default -> {
                return null;
            }
        }
        return maps.isEmpty() || listed(maps, address, r.domain()) ? null : why;
    }

    /** listed - the address, or its @domain, is a key of one of the tables. */
    private static boolean listed(List<LookupTable> maps, String address, String domain) {
        for (LookupTable t : maps) {
            if (t.lookup(address).isPresent() || t.lookup("@" + domain).isPresent()) {
                return true;
            }
        }
        return false;
    }
}
