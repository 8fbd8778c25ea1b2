package org.postern.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.config.ConfigException;

/** SenderPolicyTest - jms_sender_restrictions: what each restriction and access result does. */
class SenderPolicyTest {

    private static Config config(String restrictions) {
        return Config.parse("myhostname = mx.postern.test\njms_sender_restrictions = " + restrictions + "\n", "main.cf");
    }

    private static String rejected(String restrictions, String sender) {
        return assertThrows(Rejection.class, () -> SenderPolicy.check(config(restrictions), sender)).reply();
    }

    @Test
    void anEmptyListPermitsEverySender() throws Exception {
        SenderPolicy.Decision d = SenderPolicy.check(config(""), "anyone@anywhere.example");
        assertNull(d.hold());
        assertNull(d.discard());
        SenderPolicy.check(config(""), "");
    }

    @Test
    void theAccessTableDecidesByAddressThenDomainAndParentsThenLocalPart() throws Exception {
        String list = "check_sender_access inline:{ app@example.org=OK, example.com=OK, billing@=OK,"
                + " { bad.example.com=REJECT Not from this host } }, reject";
        SenderPolicy.check(config(list), "app@example.org");
        SenderPolicy.check(config(list), "app@sub.example.com");
        SenderPolicy.check(config(list), "billing@elsewhere.example");
        assertEquals("554 5.7.1 <other@example.org>: Sender address rejected: Access denied",
                rejected(list, "other@example.org"));
        assertEquals("554 5.7.1 <x@bad.example.com>: Sender address rejected: Not from this host",
                rejected(list, "x@bad.example.com"));
        assertEquals("554 5.7.1 <>: Sender address rejected: Access denied", rejected(list, ""));
    }

    @Test
    void theOtherAccessResults() throws Exception {
        String list = "check_sender_access inline:{ a@x.example=DEFER, { b@x.example=550 5.7.0 go away },"
                + " { c@x.example=451 later }, d@x.example=DUNNO, { e@x.example=HOLD review },"
                + " f@x.example=DISCARD, <>=REJECT, g@x.example=200 }, reject_non_fqdn_sender";
        assertEquals("450 4.7.1 <a@x.example>: Sender address rejected: Service unavailable", rejected(list, "a@x.example"));
        assertEquals("550 5.7.0 go away", rejected(list, "b@x.example"));
        assertEquals("451 4.7.1 <c@x.example>: Sender address rejected: later", rejected(list, "c@x.example"));
        SenderPolicy.check(config(list), "d@x.example");
        assertEquals("<e@x.example>: Sender address review", SenderPolicy.check(config(list), "e@x.example").hold());
        assertEquals("<f@x.example>: Sender address triggers DISCARD action",
                SenderPolicy.check(config(list), "f@x.example").discard());
        assertEquals("554 5.7.1 <>: Sender address rejected: Access denied", rejected(list, ""));
        SenderPolicy.check(config(list), "g@x.example");
        assertEquals("504 5.5.2 <h@localhost>: Sender address rejected: need fully-qualified address",
                rejected(list, "h@localhost"));
    }

    @Test
    void nullSenderAndFqdn() throws Exception {
        assertEquals("553 5.7.1 <>: Sender address rejected: null sender not allowed",
                rejected("reject_null_sender", ""));
        SenderPolicy.check(config("reject_null_sender"), "a@b.example");
        SenderPolicy.check(config("reject_non_fqdn_sender"), "");
        SenderPolicy.check(config("reject_non_fqdn_sender"), "a@[127.0.0.1]");
        assertEquals("554 5.7.1 <a@b.example>: Sender address rejected: Access denied",
                rejected("reject_null_sender, reject, permit", "a@b.example"));
        SenderPolicy.check(config("permit, reject"), "a@b.example");
    }

    @Test
    void aConfigurationErrorIsNotARejection() {
        assertThrows(ConfigException.class, () -> SenderPolicy.check(config("permit_mynetworks"), "a@b.example"));
        assertThrows(ConfigException.class, () -> SenderPolicy.check(config("check_sender_access"), "a@b.example"));
        assertThrows(ConfigException.class,
                () -> SenderPolicy.check(config("check_sender_access inline:{ a@b.example=FROB }"), "a@b.example"));
        assertThrows(ConfigException.class,
                () -> SenderPolicy.check(config("check_sender_access texthash:/nonexistent/table"), "a@b.example"));
    }
}
