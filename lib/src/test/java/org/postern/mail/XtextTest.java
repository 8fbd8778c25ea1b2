package org.postern.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class XtextTest {

    @Test
    void encodeEscapesPlusEqualsSpaceAndNonAscii() {
        assertEquals("a+2Bb+3Dc+20d", Xtext.encode("a+b=c d"));
        assertEquals("rfc822;user@example.org", Xtext.encode("rfc822;user@example.org"));
        assertEquals("+C3+A9", Xtext.encode("\u00e9"));
    }

    @Test
    void encodedAsciiDecodesBackAndIsValid() {
        String text = "id+1 = \"x\"\t;";
        String encoded = Xtext.encode(text);
        assertTrue(Xtext.isValid(encoded), encoded);
        assertEquals(text, Xtext.decode(encoded));
    }

    @Test
    void decodedOctetsAreUtf8AsEncodeWritesThem() {
        // found by XtextFuzzTest: decode gave one char per octet, "+C3+A9" became "\u00c3\u00a9"
        assertEquals("\u00e9", Xtext.decode("+C3+A9"));
        assertEquals("J\ufffd", Xtext.decode(Xtext.encode("J\ufffd")));
    }
}
