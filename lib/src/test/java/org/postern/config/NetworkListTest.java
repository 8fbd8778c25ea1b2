package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NetworkListTest {

    @Test
    void matchesIpv4AndIpv6NetworksAsMynetworksWritesThem() {
        NetworkList n = NetworkList.parse(List.of("127.0.0.0/8", "[::1]/128", "192.0.2.17", "[2001:db8::]/32",
                "10.1.0.0/23"), "mynetworks");
        assertTrue(n.test("127.0.0.1"));
        assertTrue(n.test("127.255.0.9"));
        assertTrue(n.test("::1"));
        assertTrue(n.test("192.0.2.17"));
        assertFalse(n.test("192.0.2.18"));
        assertTrue(n.test("2001:db8:ffff::1"));
        assertFalse(n.test("2001:db9::1"));
        assertTrue(n.test("10.1.1.200"));
        assertFalse(n.test("10.1.2.1"));
        assertFalse(n.test("128.0.0.1"));
    }

    @Test
    void neverResolvesNamesAndRejectsBadElements() {
        NetworkList n = NetworkList.parse(List.of("127.0.0.0/8"), "mynetworks");
        assertFalse(n.test("localhost"));
        assertFalse(n.test(null));
        assertThrows(ConfigException.class, () -> NetworkList.parse(List.of("example.com"), "mynetworks"));
        assertThrows(ConfigException.class, () -> NetworkList.parse(List.of("10.0.0.0/33"), "mynetworks"));
        assertThrows(ConfigException.class, () -> NetworkList.parse(List.of("[::1]/129"), "mynetworks"));
    }

    @Test
    void debiansDefaultMynetworksWithAnIpv4MappedNetwork() {
        // what Debian's postfix package writes into main.cf
        NetworkList n = NetworkList.parse(List.of("127.0.0.0/8", "[::ffff:127.0.0.0]/104", "[::1]/128"), "mynetworks");
        assertTrue(n.test("127.0.0.1"));
        assertTrue(n.test("::ffff:127.0.0.2"));
        assertTrue(n.test("[::1]"));
        assertFalse(n.test("::ffff:10.0.0.1"));
        assertFalse(n.test("10.0.0.1"));
        NetworkList mappedOnly = NetworkList.parse(List.of("[::ffff:192.0.2.0]/120"), "mynetworks");
        assertTrue(mappedOnly.test("192.0.2.77"));
        assertTrue(mappedOnly.test("::ffff:192.0.2.77"));
        assertFalse(mappedOnly.test("192.0.3.1"));
        assertThrows(ConfigException.class, () -> NetworkList.parse(List.of("[::ffff:127.0.0.0]/129"), "mynetworks"));
        // below 96 the ::ffff: bits are host bits: refused as Postfix refuses it (found by the cidr fuzz target)
        ConfigException e = assertThrows(ConfigException.class,
                () -> NetworkList.parse(List.of("[::ffff:10.0.0.0]/14"), "mynetworks"));
        assertTrue(e.getMessage().contains("non-null host address bits"), e.getMessage());
    }
}
