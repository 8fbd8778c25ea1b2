package org.postern.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * XtextFuzzTest - RFC 3461 xtext (ENVID, ORCPT, the AUTH= of MAIL FROM, XFORWARD values).
 *
 * <p>Invariants: the encoding of any text is valid xtext of printable ASCII without "+"
 * or "=" outside the hexchars and decodes to the same text; decoding any input either
 * answers null or a text whose encoding is valid xtext, never throws. Seeds and
 * regression inputs: XtextFuzzTestInputs/roundTrip/.
 */
class XtextFuzzTest {

    @FuzzTest
    void roundTrip(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        String encoded = Xtext.encode(text);
        assertTrue(encoded.chars().allMatch(c -> c >= '!' && c <= '~' && c != '='), encoded);
        assertTrue(Xtext.isValid(encoded), encoded);
        assertEquals(text, Xtext.decode(encoded), () -> "encoded as " + encoded);

        String decoded = Xtext.decode(text);
        if (decoded != null) {
            assertTrue(Xtext.isValid(Xtext.encode(decoded)), decoded);
        }
    }
}
