package org.postern.smtpd.policy;

import org.postern.config.maps.DomainList;
import java.util.Locale;

/**
 * AddressResolver - where a recipient address goes, as far as relay control needs to know
 * (Postfix trivial-rewrite resolve_addr(), without transports).
 *
 * <p>The local part is taken unquoted ({@code "user@other"@example.com} has the local part
 * {@code user@other}: resolve_dequoted_address = yes). While the domain is local
 * (mydestination), it is stripped and routing operators in the local part are honoured:
 * {@code user@other} always, {@code site!user} with swap_bangpath, {@code user%other} with
 * allow_percent_hack; the result is resolved again. An address without domain gets
 * $myorigin. The final domain is LOCAL (mydestination), VIRTUAL_ALIAS
 * (virtual_alias_domains), VIRTUAL (virtual_mailbox_domains), RELAY (relay_domains) or
 * REMOTE, in Postfix's order.
 *
 * <p>The address is ROUTED when its final local part still contains a routing operator
 * ({@code @ ! %}), whatever swap_bangpath and allow_percent_hack say: the next hop may
 * honour them even when we do not. Postfix refuses to relay such addresses for untrusted
 * clients (allow_untrusted_routing = no), which closes the classic open-relay tricks
 * {@code user%other@relay.example}, {@code other!user@relay.example} and
 * {@code "user@other"@relay.example} through a backup MX or a relay_domains gateway.
 */
final class AddressResolver {
    /** The class of a destination. */
    enum AddressClass { LOCAL, VIRTUAL_ALIAS, VIRTUAL, RELAY, REMOTE }

    /** Resolved - the final local part and domain, its class and the ROUTED flag. */
    record Resolved(String localPart, String domain, AddressClass addressClass, boolean routed) {
        String address() {
            return localPart + "@" + domain;
        }
    }

    /** Bound the rewriting loop: user@a@b@c@... must not spin. */
    private static final int MAX_HOPS = 20;

    private final DomainList mydestination;
    private final DomainList aliasDomains;
    private final DomainList virtualDomains;
    private final DomainList relayDomains;
    private final String myorigin;
    private final boolean swapBangpath;
    private final boolean percentHack;

    AddressResolver(DomainList mydestination, DomainList aliasDomains, DomainList virtualDomains,
                    DomainList relayDomains, String myorigin, boolean swapBangpath, boolean percentHack) {
        this.mydestination = mydestination;
        this.aliasDomains = aliasDomains;
        this.virtualDomains = virtualDomains;
        this.relayDomains = relayDomains;
        this.myorigin = myorigin;
        this.swapBangpath = swapBangpath;
        this.percentHack = percentHack;
    }

    /** resolve - localPart as written (quoted or not), domain or null for an unqualified address. */
    Resolved resolve(String localPart, String domain) {
        String local = unquote(localPart);
        String dom = domain == null ? myorigin : domain;
        for (int hop = 0; hop < MAX_HOPS && isLocal(dom); hop++) {
            int at = local.lastIndexOf('@');
            int bang = local.indexOf('!');
            int percent = local.lastIndexOf('%');
            if (at >= 0) {
                dom = local.substring(at + 1);
                local = local.substring(0, at);
            } else if (swapBangpath && bang > 0) {
                dom = local.substring(0, bang);
                local = local.substring(bang + 1);
            } else if (percentHack && percent >= 0) {
                dom = local.substring(percent + 1);
                local = local.substring(0, percent);
            } else {
                break;
            }
            if (dom.isEmpty()) {
                dom = myorigin;
            }
        }
        dom = stripTrailingDot(dom);
        boolean routed = local.indexOf('@') >= 0 || local.indexOf('!') >= 0 || local.indexOf('%') >= 0;
        AddressClass c = isLocal(dom) ? AddressClass.LOCAL
                : !dom.startsWith("[") && aliasDomains.matches(dom) ? AddressClass.VIRTUAL_ALIAS
                : !dom.startsWith("[") && virtualDomains.matches(dom) ? AddressClass.VIRTUAL
                : !dom.startsWith("[") && relayDomains.matches(dom) ? AddressClass.RELAY : AddressClass.REMOTE;
        return new Resolved(local, dom.toLowerCase(Locale.ROOT), c, routed);
    }

    private boolean isLocal(String domain) {
        // address literals are never local here: Postern does not know its interface addresses
        return !domain.startsWith("[") && mydestination.matches(stripTrailingDot(domain));
    }

    private static String stripTrailingDot(String domain) {
        return domain.length() > 1 && domain.endsWith(".") && !domain.endsWith("..")
                ? domain.substring(0, domain.length() - 1) : domain;
    }

    /** unquote - the local part without its quotes and quoted-pair backslashes. */
    static String unquote(String localPart) {
        if (localPart.length() < 2 || localPart.charAt(0) != '"' || localPart.charAt(localPart.length() - 1) != '"') {
            return localPart;
        }
        StringBuilder b = new StringBuilder(localPart.length());
        for (int i = 1; i < localPart.length() - 1; i++) {
            char c = localPart.charAt(i);
            if (c == '\\' && i + 1 < localPart.length() - 1) {
                c = localPart.charAt(++i);
            }
            b.append(c);
        }
        return b.toString();
    }
}
