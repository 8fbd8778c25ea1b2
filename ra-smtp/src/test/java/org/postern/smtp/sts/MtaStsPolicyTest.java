package org.postern.smtp.sts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

/** MtaStsPolicy: the policy text (RFC 8461 3.2), the TXT record (3.1) and MX patterns (4.1). */
class MtaStsPolicyTest {

    @Test
    void aPolicyWithCrlfOrLfLinesAndWhiteSpace() {
        MtaStsPolicy p = MtaStsPolicy.parse("20240101", "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                + "mx:*.Example.NET.\r\nmax_age:  604800 \r\nfuture_ext: anything\r\n");
        assertEquals(new MtaStsPolicy("20240101", "enforce", List.of("mail.example.com", "*.example.net"),
                Duration.ofSeconds(604800)), p);
        assertTrue(p.enforce() && p.active());
        MtaStsPolicy lf = MtaStsPolicy.parse("1", "version: STSv1\nmode: testing\nmx: mx.example\nmax_age: 86400");
        assertTrue(lf.testing());
        assertFalse(MtaStsPolicy.parse("1", "version: STSv1\nmode: none\nmax_age: 86400\n").active());
        // the largest max_age RFC 8461 allows
        assertEquals(Duration.ofSeconds(31557600),
                MtaStsPolicy.parse("1", "version: STSv1\nmode: none\nmax_age: 9999999999\n").maxAge());
    }

    @Test
    void invalidPoliciesAreRefused() {
        for (String bad : List.of("mode: enforce\nmx: a.example\nmax_age: 1\n",              // no version
                "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n",               // values are case-sensitive
                "version: STSv1\nmode: enforce\nmax_age: 1\n",                             // enforce without mx
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
                "version: STSv1\nmode: enforce\nmx: a.example\n",
                "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n",
                "version: STSv1\nmode: enforce\nmx: foo.*.example\nmax_age: 1\n",
                "<html>version: STSv1</html>\n")) {
            assertThrows(IllegalArgumentException.class, () -> MtaStsPolicy.parse("1", bad), bad);
        }
    }

    @Test
    void exactlyOneStsV1TxtRecordWithAValidId() {
        assertEquals("abc123", MtaStsPolicy.policyId(List.of("v=STSv1; id=abc123;")));
        assertEquals("abc123", MtaStsPolicy.policyId(List.of("v=spf1 -all", "v=STSv1;id=abc123", "something else")));
        assertEquals("x1", MtaStsPolicy.policyId(List.of("v=STSv1; id=x1; ext-1=value")));
        assertNull(MtaStsPolicy.policyId(List.of()));
        assertNull(MtaStsPolicy.policyId(List.of("v=STSv1; id=a;", "v=STSv1; id=b;")));    // two: none
        assertNull(MtaStsPolicy.policyId(List.of("v=STSv1; id=not_alnum;")));
        assertNull(MtaStsPolicy.policyId(List.of("v=STSv1; id=" + "a".repeat(33) + ";")));
        assertNull(MtaStsPolicy.policyId(List.of("v=STSv1;")));                          // no id
        assertNull(MtaStsPolicy.policyId(List.of("v=STSv10; id=a;")));
    }

    @Test
    void aWildcardMatchesExactlyOneLeftmostLabel() {
        MtaStsPolicy p = new MtaStsPolicy("1", "enforce", List.of("mail.example.com", "*.example.net"), Duration.ZERO);
        assertTrue(p.mxMatches("MAIL.example.com."));
        assertTrue(p.mxMatches("mx1.example.net"));
        assertFalse(p.mxMatches("example.net"));
        assertFalse(p.mxMatches("a.mx1.example.net"));
        assertFalse(p.mxMatches("other.example.com"));
        assertFalse(p.mxMatches("xmail.example.com"));
    }
}
