package org.postern.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MailPathTest {

    private static MailPath parse(String s) throws AddressSyntaxException {
        return MailPath.parse(s);
    }

    private static AddressSyntaxException.Kind failure(String s) {
        return assertThrows(AddressSyntaxException.class, () -> MailPath.parse(s)).kind();
    }

    @Test
    void plainPath() throws Exception {
        MailPath p = parse("<user@example.com>");
        assertEquals("user", p.address().localPart());
        assertEquals("example.com", p.address().domain());
        assertEquals("user@example.com", p.address().toString());
        assertTrue(p.params().isEmpty());
    }

    @Test
    void nullPath() throws Exception {
        MailPath p = parse("<>");
        assertTrue(p.isNull());
        assertNull(p.address());
    }

    @Test
    void bareAddressAndSpacesAfterColonAreTolerated() throws Exception {
        assertEquals("user@example.com", parse("user@example.com").address().toString());
        assertEquals("user@example.com", parse("   <user@example.com>").address().toString());
        assertEquals(Map.of("SIZE", "10"), parse("user@example.com SIZE=10").params());
    }

    @Test
    void quotedLocalPartKeepsItsQuotes() throws Exception {
        MailPath p = parse("<\"a b\"@x.example>");
        assertEquals("\"a b\"", p.address().localPart());
        assertEquals("\"a b\"@x.example", p.address().toString());
        assertEquals("\"a>b\\\"c\"@x", parse("<\"a>b\\\"c\"@x>").address().toString());
    }

    @Test
    void addressLiterals() throws Exception {
        assertEquals("[1.2.3.4]", parse("<u@[1.2.3.4]>").address().domain());
        assertEquals("[IPv6:2001:db8::1]", parse("<u@[IPv6:2001:db8::1]>").address().domain());
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure("<u@[1.2.3.400]>"));
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure("<u@[1.2.3]>"));
    }

    @Test
    void sourceRouteIsStripped() throws Exception {
        assertEquals("user@c.example", parse("<@a.example,@b.example:user@c.example>").address().toString());
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure("<@a.example,b.example:user@c>"));
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure("<@a.example:>"));
    }

    @Test
    void unqualifiedAddressIsAccepted() throws Exception {
        MailPath p = parse("<postmaster>");
        assertEquals("postmaster", p.address().localPart());
        assertNull(p.address().domain());
    }

    @Test
    void parametersAreUpperCasedAndKeptInOrder() throws Exception {
        MailPath p = parse("<a@b> size=123 BODY=8BITMIME ret=HDRS ENVID=x+2By NOTIFY=SUCCESS,FAILURE "
                + "ORCPT=rfc822;a@b SMTPUTF8");
        assertEquals(java.util.List.of("SIZE", "BODY", "RET", "ENVID", "NOTIFY", "ORCPT", "SMTPUTF8"),
                java.util.List.copyOf(p.params().keySet()));
        assertEquals("123", p.params().get("SIZE"));
        assertEquals("x+2By", p.params().get("ENVID"));
        assertNull(p.params().get("SMTPUTF8"));
        assertTrue(p.params().containsKey("SMTPUTF8"));
    }

    @Test
    void badParameters() {
        assertEquals(AddressSyntaxException.Kind.COMMAND_SYNTAX, failure("<a@b> SIZE="));
        assertEquals(AddressSyntaxException.Kind.COMMAND_SYNTAX, failure("<a@b> =x"));
        assertEquals(AddressSyntaxException.Kind.COMMAND_SYNTAX, failure("<a@b> SIZE=1 SIZE=2"));
    }

    @Test
    void nonAsciiIsParsedButFlagged() throws Exception {
        MailPath p = parse("<用户@例子.广告>");
        assertFalse(p.address().isAscii());
        assertTrue(parse("<a@b>").address().isAscii());
    }

    @Test
    void noPathIsCommandSyntax() {
        assertEquals(AddressSyntaxException.Kind.COMMAND_SYNTAX, failure(""));
        assertEquals(AddressSyntaxException.Kind.COMMAND_SYNTAX, failure("   "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"<a@b", "<<a@b>>", "<a@b>>", "<a@b>x", "<a\u0000b@c>", "<a b@c>", "<a@b c>",
        "<a@>", "<@b>", "<\"unterminated@b>", "<a@b..c>", "<a@-\u0001>", "a@b>", "<a(b)@c>", "<a@b@c>",
        "<a@[IPv6:zz]>"})
    void hostileOrBrokenPathsAreBadAddresses(String text) {
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure(text));
    }

    @Test
    void overLongPartsAreRejected() {
        String local65 = "a".repeat(65);
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure("<" + local65 + "@b>"));
        String label = "d".repeat(60);
        String domain = String.join(".", label, label, label, label, label);
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure("<a@" + domain + ">"));
        String longLine = "<" + "a".repeat(10_000) + "@b>";
        assertEquals(AddressSyntaxException.Kind.BAD_ADDRESS, failure(longLine));
    }

    @Test
    void xtext() {
        assertEquals("a+b=c", Xtext.decode("a+2Bb+3Dc"));
        assertNull(Xtext.decode("a+2b"));       // lower-case hex is not xtext
        assertNull(Xtext.decode("a+2"));        // truncated
        assertNull(Xtext.decode("a=b"));        // '=' must be encoded
        assertNull(Xtext.decode("a b"));        // space must be encoded
        assertTrue(Xtext.isValid("rfc822+3Bx"));
    }
}
