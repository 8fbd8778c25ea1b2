package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;

/**
 * ProxyProtocolFuzzTest - the HAProxy PROXY header, v1 (text) and v2 (binary), that a
 * listener with smtpd_upstream_proxy_protocol = haproxy reads before SMTP.
 *
 * <p>Invariants: {@link ProxyProtocol#parse} never throws; it answers NEED_MORE, an error
 * with a reason, or a header that consumed between 1 and len octets (at most
 * MAX_HEADER) naming an address that is an IP literal and a port in 0..65535, or no
 * address (LOCAL, UNKNOWN); it never asks for more once MAX_HEADER octets are there; and
 * what it decided does not change when more octets arrive: every shorter prefix of a
 * complete header needs more, every longer buffer gives the same header. Seeds:
 * ProxyProtocolFuzzTestInputs/parse/.
 */
class ProxyProtocolFuzzTest {

    @FuzzTest
    @DictionaryEntries({"PROXY ", "TCP4 ", "TCP6 ", "UNKNOWN", "192.0.2.1 ", "2001:db8::1 ", "::ffff:",
            " 25 ", "65535", "QUIT"})
    void parse(byte[] input) {
        ProxyProtocol.Result r = ProxyProtocol.parse(input, input.length);
        if (r.error() != null) {
            assertEquals(0, r.consumed(), r::toString);
            assertTrue(!r.error().isEmpty());
            return;
        }
        if (!r.complete()) {
            assertEquals(ProxyProtocol.Result.NEED_MORE, r);
            assertTrue(input.length < ProxyProtocol.MAX_HEADER, "NEED_MORE after MAX_HEADER octets");
            return;
        }
        assertTrue(r.consumed() >= 1 && r.consumed() <= input.length && r.consumed() <= ProxyProtocol.MAX_HEADER,
                r::toString);
        if (r.address() != null) {
            assertTrue(org.postern.smtpd.policy.Hostnames.validIpv4(r.address())
                    || org.postern.smtpd.policy.Hostnames.validIpv6(r.address()), r::toString);
            assertTrue(r.port() >= 0 && r.port() <= 65535, r::toString);
        } else {
            assertEquals(0, r.port(), r::toString);
        }
        for (int len = 0; len < r.consumed(); len++) {
            ProxyProtocol.Result shorter = ProxyProtocol.parse(Arrays.copyOf(input, len), len);
            int n = len;
            assertEquals(ProxyProtocol.Result.NEED_MORE, shorter, () -> "a prefix of " + n + " octets: " + shorter);
        }
        byte[] longer = Arrays.copyOf(input, input.length + 100);
        assertEquals(r, ProxyProtocol.parse(longer, longer.length), "more octets changed the header");
        assertNull(r.error());
    }
}
