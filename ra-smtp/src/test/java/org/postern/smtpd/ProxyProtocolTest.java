package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The PROXY protocol header parser, v1 and v2. */
class ProxyProtocolTest {

    private static ProxyProtocol.Result parse(byte[] b) {
        return ProxyProtocol.parse(b, b.length);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** v2 - a PROXY v2 header for TCP4 src:sport, with extra TLV octets. */
    static byte[] v2(int[] src, int sport, int extra) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(ProxyProtocol.V2_SIGNATURE);
        b.write(0x21);
        b.write(0x11);
        int len = 12 + extra;
        b.write(len >> 8);
        b.write(len & 0xFF);
        for (int o : src) {
            b.write(o);
        }
        b.write(new byte[] {(byte) 198, 51, 100, 1});
        b.write(sport >> 8);
        b.write(sport & 0xFF);
        b.write(0);
        b.write(25);
        b.write(new byte[extra]);
        return b.toByteArray();
    }

    @Test
    void version1() {
        ProxyProtocol.Result r = parse(ascii("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\r\nEHLO"));
        assertEquals(new ProxyProtocol.Result(44, "192.0.2.1", 56324, null), r);
        ProxyProtocol.Result v6 = parse(ascii("PROXY TCP6 2001:db8::1 2001:db8::2 1000 25\r\n"));
        assertEquals("2001:db8:0:0:0:0:0:1", v6.address());
        ProxyProtocol.Result unknown = parse(ascii("PROXY UNKNOWN\r\n"));
        assertTrue(unknown.complete());
        assertNull(unknown.address());
        assertFalse(parse(ascii("PROXY TCP4 192.0.2.1")).complete());
        assertNull(parse(ascii("PROXY TCP4 192.0.2.1")).error());
        assertEquals("not a PROXY protocol header", parse(ascii("EHLO x\r\n")).error());
        assertEquals("bad PROXY v1 address or port", parse(ascii("PROXY TCP4 example.com 198.51.100.1 1 25\r\n"))
                .error());
        assertEquals("bad PROXY v1 address or port", parse(ascii("PROXY TCP4 192.0.2.1 198.51.100.1 99999 25\r\n"))
                .error());
        assertEquals("PROXY v1 header too long", parse(ascii("PROXY TCP4 " + "1".repeat(120))).error());
    }

    @Test
    void version2() throws IOException {
        byte[] h = v2(new int[] {192, 0, 2, 9}, 40000, 5);
        assertEquals(new ProxyProtocol.Result(16 + 12 + 5, "192.0.2.9", 40000, null), parse(h));
        assertFalse(ProxyProtocol.parse(h, 20).complete());
        assertNull(ProxyProtocol.parse(h, 20).error());
        byte[] local = v2(new int[] {192, 0, 2, 9}, 40000, 0);
        local[12] = 0x20;
        assertNull(parse(local).address());
        assertTrue(parse(local).complete());
        byte[] v3 = v2(new int[] {192, 0, 2, 9}, 40000, 0);
        v3[12] = 0x31;
        assertEquals("bad PROXY v2 version or command", parse(v3).error());
        byte[] huge = v2(new int[] {192, 0, 2, 9}, 40000, 0);
        huge[14] = 0x10;
        assertEquals("PROXY v2 header too long", parse(huge).error());
    }
}
