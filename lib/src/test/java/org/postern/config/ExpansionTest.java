package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExpansionTest {
    private static final String F = "main.cf";

    /** banner - the expanded smtpd_banner after the given main.cf lines. */
    private static String banner(String lines) {
        return Config.parse("myhostname = mx.example.com\n" + lines + "\n", F).get(Parameters.SMTPD_BANNER);
    }

    @Test
    void threeReferenceForms() {
        assertEquals("mx.example.com|mx.example.com|mx.example.com",
                banner("smtpd_banner = $myhostname|${myhostname}|$(myhostname)"));
    }

    @Test
    void nameEndsAtTheFirstNonNameCharacter() {
        assertEquals("mx.example.com.x mx.example.comx", banner("smtpd_banner = $myhostname.x ${myhostname}x"));
    }

    @Test
    void expansionIsRecursiveAndLazy() {
        // a value may refer to a name defined later in the file
        assertEquals("<c>", banner("smtpd_banner = <$a>\na = $b\nb = c"));
        assertEquals("mx.example.com ESMTP Postern", banner(""));
    }

    @Test
    void dollarDollarIsALiteralDollar() {
        assertEquals("cost: $5 $myhostname", banner("smtpd_banner = cost: $$5 $$myhostname"));
        // a $ that starts no reference is kept
        assertEquals("a $ b $", banner("smtpd_banner = a $ b $"));
    }

    @Test
    void undefinedNamesExpandToNothing() {
        assertEquals("[]", banner("smtpd_banner = [$no_such_name]"));
    }

    @Test
    void conditionalQuestionMark() {
        assertEquals("set", banner("smtpd_banner = ${relayhost?set}\nrelayhost = mx"));
        assertEquals("", banner("smtpd_banner = ${relayhost?set}"));
        assertEquals("via mx", banner("smtpd_banner = ${relayhost?via $relayhost}\nrelayhost = mx"));
        assertEquals("", banner("smtpd_banner = ${undefined_name?x}"));
    }

    @Test
    void conditionalColon() {
        assertEquals("direct", banner("smtpd_banner = ${relayhost:direct}"));
        assertEquals("", banner("smtpd_banner = ${relayhost:direct}\nrelayhost = mx"));
        assertEquals("mx.example.com", banner("smtpd_banner = ${undefined_name:$myhostname}"));
    }

    @Test
    void postfix3BraceForms() {
        assertEquals("yes", banner("smtpd_banner = ${relayhost?{yes}:{no}}\nrelayhost = mx"));
        assertEquals("no", banner("smtpd_banner = ${relayhost?{yes}:{no}}"));
        assertEquals("a, b", banner("smtpd_banner = ${relayhost?{a, b}}\nrelayhost = mx"));
        assertEquals("x y", banner("smtpd_banner = ${relayhost:{x y}}"));
        assertEquals("mx.example.com", banner("smtpd_banner = ${relayhost?{$relayhost}:{$myhostname}}"));
    }

    @Test
    void parenthesisForms() {
        assertEquals("d", banner("smtpd_banner = $(relayhost:d)"));
    }

    @Test
    void nonEmptyIsDecidedOnTheUnexpandedValueAsInPostfix() {
        // relayhost = $empty is not empty before expansion
        assertEquals("set", banner("smtpd_banner = ${relayhost?set}\nrelayhost = $empty\nempty ="));
    }

    @Test
    void directLoopIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.parse("mail_name = x\nmyorigin = $myorigin\n", F));
        assertEquals("main.cf, line 2: parameter expansion loop: myorigin -> myorigin", e.getMessage());
    }

    @Test
    void indirectLoopIsAnErrorNamingThePath() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.parse("myhostname = $a\na = ${b}\nb = $(myhostname)\n", F));
        assertEquals(1, e.line());
        assertEquals("main.cf, line 1: parameter expansion loop: myhostname -> a -> b -> myhostname", e.getMessage());
    }

    @Test
    void loopThroughADefaultIsFound() {
        // myorigin's default is $myhostname
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.parse("myhostname = $myorigin\n", F));
        assertTrue(e.getMessage().contains("loop"), e.getMessage());
    }

    @Test
    void loopInAConditionalThatIsTakenIsFound() {
        assertThrows(ConfigException.class, () -> Config.parse("smtpd_banner = ${mail_name?$smtpd_banner}\n", F));
        // not taken: no loop
        assertEquals("", banner("smtpd_banner = ${relayhost?$smtpd_banner}"));
    }

    @Test
    void unbalancedBracketsAreErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> Config.parse("smtpd_banner = ${myhostname\n", F));
        assertEquals("main.cf, line 1: missing '}' in: \"${myhostname\"", e.getMessage());
        assertThrows(ConfigException.class, () -> Config.parse("smtpd_banner = $(myhostname\n", F));
        assertThrows(ConfigException.class, () -> Config.parse("smtpd_banner = ${}\n", F));
        assertThrows(ConfigException.class, () -> Config.parse("smtpd_banner = ${a b}\n", F));
        assertThrows(ConfigException.class, () -> Config.parse("smtpd_banner = ${a?{x}junk}\n", F));
    }

    @Test
    void exponentialExpansionIsBounded() {
        StringBuilder sb = new StringBuilder("smtpd_banner = $p0\n");
        for (int i = 0; i < 30; i++) {
            sb.append("p").append(i).append(" = $p").append(i + 1).append("$p").append(i + 1).append('\n');
        }
        sb.append("p30 = xxxxxxxx\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.parse(sb.toString(), F));
        assertTrue(e.getMessage().contains("longer than"), e.getMessage());
    }

    @Test
    void deepChainsAreBounded() {
        StringBuilder sb = new StringBuilder("smtpd_banner = $p0\n");
        for (int i = 0; i < 5000; i++) {
            sb.append("p").append(i).append(" = $p").append(i + 1).append('\n');
        }
        ConfigException e = assertThrows(ConfigException.class, () -> Config.parse(sb.toString(), F));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
    }

    @Test
    void typedValuesAreCheckedAfterExpansion() {
        Config c = Config.parse("default_destination_recipient_limit = 7\n", F);
        assertEquals(7, c.get(Parameters.LMTP_DESTINATION_RECIPIENT_LIMIT));
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.parse("default_destination_recipient_limit = $mail_name\n", F));
        assertEquals("main.cf, line 1: bad numerical configuration: default_destination_recipient_limit = Postern",
                e.getMessage());
    }
}
