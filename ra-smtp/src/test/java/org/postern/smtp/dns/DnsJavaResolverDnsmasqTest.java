package org.postern.smtp.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DnsJavaResolver against a real dnsmasq on a loopback port (skipped when dnsmasq is absent). */
class DnsJavaResolverDnsmasqTest {

    private static Dnsmasq dnsmasq;
    private static DnsJavaResolver resolver;

    @BeforeAll
    static void start() throws Exception {
        dnsmasq = Dnsmasq.start("nomx.test", "--mx-host=mx.test,mx1.mx.test,10", "--mx-host=mx.test,mx2.mx.test,20",
                "--host-record=mx1.mx.test,127.0.0.3", "--host-record=mx2.mx.test,127.0.0.4",
                "--mx-host=nullmx.test,.,0", "--host-record=nomx.test,127.0.0.5");
        resolver = new DnsJavaResolver(List.of(dnsmasq.server()), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    @Test
    void mxRecordsAndTheirAddresses() throws Exception {
        List<MxRecord> mx = resolver.lookupMx("mx.test");
        assertEquals(2, mx.size());
        assertEquals(java.util.Set.of(new MxRecord(10, "mx1.mx.test"), new MxRecord(20, "mx2.mx.test")), java.util.Set.copyOf(mx));
        assertEquals(List.of(InetAddress.getByName("127.0.0.3")), resolver.lookupAddresses("mx1.mx.test"));
    }

    @Test
    void nullMxNoMxAndNxdomain() throws Exception {
        List<MxRecord> nullMx = resolver.lookupMx("nullmx.test");
        assertEquals(1, nullMx.size());
        assertEquals(true, nullMx.get(0).isNull());
        assertEquals(List.of(), resolver.lookupMx("nomx.test"));
        assertEquals(List.of(InetAddress.getByName("127.0.0.5")), resolver.lookupAddresses("nomx.test"));
        DnsLookupException e = assertThrows(DnsLookupException.class, () -> resolver.lookupMx("nothere.test"));
        assertEquals(DnsLookupException.Kind.NOT_FOUND, e.kind());
    }

    @Test
    void anUnreachableServerIsATemporaryFailure() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        DnsJavaResolver dead = new DnsJavaResolver(List.of("127.0.0.1:" + port), Duration.ofMillis(300));
        DnsLookupException e = assertThrows(DnsLookupException.class, () -> dead.lookupMx("mx.test"));
        assertEquals(DnsLookupException.Kind.TEMPORARY, e.kind());
    }
}
