package org.postern.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.SimpleResolver;

/** DnsServersTest - the postern.dns.servers forms, read alike by the SMTP client and smtpd's DNS checks. */
class DnsServersTest {

    @Test
    void hostPortBracketedAndBareIpv6() {
        ExtendedResolver r = (ExtendedResolver) DnsServers.resolver(
                List.of("127.0.0.1", "127.0.0.1:5353", "[::1]:5300", "[::1]", "::1"), Duration.ofSeconds(1));
        List<InetSocketAddress> got = Arrays.stream(r.getResolvers())
                .map(x -> ((SimpleResolver) x).getAddress()).toList();
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 53), new InetSocketAddress("127.0.0.1", 5353),
                new InetSocketAddress("::1", 5300), new InetSocketAddress("::1", 53), new InetSocketAddress("::1", 53)),
                got);
        assertThrows(IllegalArgumentException.class,
                () -> DnsServers.resolver(List.of("127.0.0.1:notaport"), Duration.ofSeconds(1)));
    }

    @Test
    void thePropertyIsACommaSeparatedListAndBlankMeansResolvConf() {
        assertEquals(List.of(), DnsServers.parseList(null));
        assertEquals(List.of(), DnsServers.parseList("  "));
        assertEquals(List.of("127.0.0.1:5353", "[::1]"), DnsServers.parseList(" 127.0.0.1:5353 , [::1] "));
        assertEquals("postern.dns.servers", DnsServers.PROPERTY, "the name that bench/ and the tests pass");
    }
}
