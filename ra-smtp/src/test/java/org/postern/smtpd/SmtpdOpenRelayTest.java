package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The open-relay test: a client outside mynetworks, not authenticated, tries every
 * address form that has tricked relays into forwarding mail to a third party.
 *
 * <p>relay.example is in relay_domains, mx.example.org (myhostname) in mydestination,
 * other.example is the third party. Forms with routing operators in the local part
 * (percent hack, bang path, quoted local part with "@") are ROUTED: Postfix does not
 * relay them for untrusted clients (allow_untrusted_routing = no), even to
 * relay_domains, because the next hop may honour the operator (postconf(5)); through a
 * local domain they are resolved (swap_bangpath, allow_percent_hack) and end at the
 * third party. Source routes are dropped (RFC 5321 3.3, as Postfix's trivial-rewrite),
 * which leaves the real destination. Forms that Postern's address parser refuses
 * (user@domain@other, a trailing dot) get 501 instead of Postfix's 554: rejected either way.
 */
class SmtpdOpenRelayTest extends SessionConversation {
    private static final String STRICT = "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination";

    /** rcpt - one RCPT TO in a fresh transaction; the reply. */
    private String rcpt(String path) {
        send("RSET");
        send("MAIL FROM:<a@example.com>");
        replies.clear();
        send("RCPT TO:" + path);
        assertEquals(1, replies.size(), replies::toString);
        String reply = replies.get(0);
        replies.clear();
        return reply;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "<user@other.example>                      | 554 5.7.1 <user@other.example>: Relay access denied",
        "<USER@OTHER.EXAMPLE>                      | 554 5.7.1 <USER@OTHER.EXAMPLE>: Relay access denied",
        "<user%other.example@relay.example>        | 554 5.7.1 <user%other.example@relay.example>: Relay access denied",
        "<user%other.example@mx.example.org>       | 554 5.7.1 <user%other.example@mx.example.org>: Relay access denied",
        "<user%other.example%relay.example@mx.example.org> | 554 5.7.1 <user%other.example%relay.example@mx.example.org>: Relay access denied",
        "<@relay.example:user@other.example>       | 554 5.7.1 <user@other.example>: Relay access denied",
        "<@mx.example.org,@relay.example:user@other.example> | 554 5.7.1 <user@other.example>: Relay access denied",
        "<\"user@other.example\"@relay.example>    | 554 5.7.1 <\"user@other.example\"@relay.example>: Relay access denied",
        "<\"user@other.example\"@mx.example.org>   | 554 5.7.1 <\"user@other.example\"@mx.example.org>: Relay access denied",
        "<\"user%other.example\"@relay.example>    | 554 5.7.1 <\"user%other.example\"@relay.example>: Relay access denied",
        "<\"other.example!user\"@relay.example>    | 554 5.7.1 <\"other.example!user\"@relay.example>: Relay access denied",
        "<other.example!user@relay.example>        | 554 5.7.1 <other.example!user@relay.example>: Relay access denied",
        "<other.example!user@mx.example.org>       | 554 5.7.1 <other.example!user@mx.example.org>: Relay access denied",
        "<relay.example!other.example!user@mx.example.org> | 554 5.7.1 <relay.example!other.example!user@mx.example.org>: Relay access denied",
        "<user@other.example@relay.example>        | 501 5.1.3 Bad recipient address syntax",
        "<user@relay.example@other.example>        | 501 5.1.3 Bad recipient address syntax",
        "<user@other.example.>                     | 501 5.1.3 Bad recipient address syntax",
        "<user@relay.example.other.example>        | 554 5.7.1 <user@relay.example.other.example>: Relay access denied",
        "<user@notrelay.example>                   | 554 5.7.1 <user@notrelay.example>: Relay access denied",
        "<user@[192.0.2.99]>                       | 554 5.7.1 <user@[192.0.2.99]>: Relay access denied",
        "<user@[IPv6:2001:db8::1]>                 | 554 5.7.1 <user@[IPv6:2001:db8::1]>: Relay access denied",
        "user@other.example                        | 554 5.7.1 <user@other.example>: Relay access denied",
    })
    void outsiderCannotRelay(String path, String reply) {
        open(settings("relay_domains = relay.example", STRICT), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        assertEquals(reply, rcpt(path));
        // and not through an access table that trusts the relay domain either
        open(settings("relay_domains = relay.example", STRICT,
                "smtpd_recipient_restrictions = check_recipient_access inline:{relay.example=OK}"), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        assertEquals(reply, rcpt(path));
    }

    @Test
    void defaultPolicyDefersEveryForm() {
        open(settings("relay_domains = relay.example"), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        List<String> got = new ArrayList<>();
        for (String path : List.of("<user@other.example>", "<user%other.example@relay.example>",
                "<@relay.example:user@other.example>", "<\"user@other.example\"@relay.example>",
                "<other.example!user@relay.example>")) {
            got.add(rcpt(path));
        }
        assertEquals(List.of("450 4.7.1 <user@other.example>: Relay access denied",
                "450 4.7.1 <user%other.example@relay.example>: Relay access denied",
                "450 4.7.1 <user@other.example>: Relay access denied",
                "450 4.7.1 <\"user@other.example\"@relay.example>: Relay access denied",
                "450 4.7.1 <other.example!user@relay.example>: Relay access denied"), got);
    }

    @Test
    void relayDomainsAndLocalMailAreAccepted() {
        open(settings("relay_domains = relay.example", STRICT), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        for (String path : List.of("<user@relay.example>", "<User@Relay.Example>", "<user@sub.relay.example>",
                "<user@mx.example.org>", "<postmaster>", "<@other.example:user@relay.example>",
                "<\"first last\"@relay.example>", "<user%mx.example.org@localhost>")) {
            assertEquals("250 2.1.5 Ok", rcpt(path), path);
        }
    }

    @Test
    void trustedClientsMayRoute() {
        open(settings("relay_domains = relay.example", STRICT), "127.0.0.1");
        send("EHLO client.example");
        replies.clear();
        assertEquals("250 2.1.5 Ok", rcpt("<user%other.example@relay.example>"));
        assertEquals("250 2.1.5 Ok", rcpt("<user@other.example>"));
    }

    @Test
    void allowUntrustedRoutingOpensRoutedRelayDomainsOnly() {
        open(settings("relay_domains = relay.example", STRICT, "allow_untrusted_routing = yes"), OUTSIDE);
        send("EHLO client.example");
        replies.clear();
        assertEquals("250 2.1.5 Ok", rcpt("<user%other.example@relay.example>"));
        assertEquals("554 5.7.1 <user%other.example@mx.example.org>: Relay access denied",
                rcpt("<user%other.example@mx.example.org>"));
    }
}
