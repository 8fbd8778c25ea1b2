package org.postern.smtp;

import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.dns.DnsJavaResolver;
import org.postern.smtp.dns.Dnsmasq;

/**
 * Whole deliveries against a real dnsmasq on a loopback port (skipped when dnsmasq is absent):
 * MX of two preferences, a dead MX, a null MX, a domain without MX, NXDOMAIN, an MX that is
 * ourselves, and a name server that does not answer.
 */
class SmtpDnsmasqDeliveryTest {

    private static Dnsmasq dnsmasq;
    private static DnsJavaResolver dns;
    private static int port;
    private static FakeSmtpServer mx1;
    private static FakeSmtpServer mx2;

    @BeforeAll
    static void start() throws Exception {
        dnsmasq = Dnsmasq.start("nomx.test", "--mx-host=mx.test,mx1.mx.test,10", "--mx-host=mx.test,mx2.mx.test,20",
                "--host-record=mx1.mx.test,127.0.0.3", "--host-record=mx2.mx.test,127.0.0.4",
                "--mx-host=deadmx.test,dead.deadmx.test,10", "--host-record=dead.deadmx.test,127.0.0.6",
                "--mx-host=self.test,mx.self.test,10", "--host-record=mx.self.test,127.0.0.1",
                "--mx-host=nullmx.test,.,0", "--host-record=nomx.test,127.0.0.4");
        dns = new DnsJavaResolver(List.of(dnsmasq.server()), Duration.ofSeconds(2));
        for (int attempt = 0; attempt < 50 && mx2 == null; attempt++) {
            int p = 21100 + new Random().nextInt(800);
            try {
                mx1 = new FakeSmtpServer(false, new InetSocketAddress("127.0.0.3", p));
                mx2 = new FakeSmtpServer(false, new InetSocketAddress("127.0.0.4", p));
                port = p;
            } catch (IOException e) {
                if (mx1 != null) {
                    mx1.close();
                    mx1 = null;
                }
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (mx1 != null) {
            mx1.close();
        }
        if (mx2 != null) {
            mx2.close();
        }
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    private static DeliveryOutcome deliver(String domain, int toPort, SmtpClientSettings settings, String... rcpts) {
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp(domain, toPort, true), settings, dns)) {
            return s.deliver(message("Subject: dnsmasq\r\n\r\nx\r\n", rcpts));
        }
    }

    @Test
    void theBestMxTakesTheMail() {
        DeliveryOutcome o = deliver("mx.test", port, fast(), "a@mx.test");
        assertEquals("mx1.mx.test[127.0.0.3]:" + port, o.relay());
        assertEquals(Status.SENT, o.recipients().get(0).status());
    }

    @Test
    void aDeadMxDefersWithTheConnectError() {
        RecipientOutcome r = deliver("deadmx.test", port, fast(), "a@deadmx.test").recipients().get(0);
        assertEquals(Status.DEFERRED, r.status());
        assertEquals("connect to dead.deadmx.test[127.0.0.6]:" + port + ": Connection refused", r.reply());
    }

    @Test
    void aDomainWithoutMxGetsMailAtItsAddress() {
        DeliveryOutcome o = deliver("nomx.test", port, fast(), "a@nomx.test");
        assertEquals("nomx.test[127.0.0.4]:" + port, o.relay());
        assertEquals(Status.SENT, o.recipients().get(0).status());
    }

    @Test
    void aNullMxAndANonexistentDomainBounceAtOnce() {
        RecipientOutcome nullMx = deliver("nullmx.test", port, fast(), "a@nullmx.test").recipients().get(0);
        assertEquals(new RecipientOutcome("a@nullmx.test", Status.BOUNCED, "5.1.10",
                "Domain nullmx.test does not accept mail (nullMX)"), nullMx);
        RecipientOutcome nx = deliver("nothere.test", port, fast(), "a@nothere.test").recipients().get(0);
        assertEquals(Status.BOUNCED, nx.status());
        assertEquals("5.4.4", nx.dsn());
    }

    @Test
    void anMxThatIsOurselvesLoopsBack() {
        SmtpClientSettings me = fast().withRouting(SmtpClientSettings.Routing.defaults()
                .withOwn(List.of("127.0.0.1"), List.of("me.test")));
        RecipientOutcome r = deliver("self.test", 25, me, "a@self.test").recipients().get(0);
        assertEquals(new RecipientOutcome("a@self.test", Status.BOUNCED, "5.4.6", "mail for self.test loops back to myself"), r);
    }

    @Test
    void aSilentNameServerDefersAndNeverBounces() throws IOException {
        DnsJavaResolver silent = new DnsJavaResolver(List.of("127.0.0.1:" + silentPort()), Duration.ofMillis(300));
        try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("mx.test", port, true), fast(), silent)) {
            DeliveryOutcome o = s.deliver(message("x\r\n", "a@mx.test", "b@mx.test"));
            for (RecipientOutcome r : o.recipients()) {
                assertEquals(Status.DEFERRED, r.status(), r.toString());
                assertTrue(r.reply().endsWith("Host not found, try again"), r.reply());
            }
        }
    }

    /** silentPort - a loopback UDP port where no name server answers. */
    private static int silentPort() throws IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
