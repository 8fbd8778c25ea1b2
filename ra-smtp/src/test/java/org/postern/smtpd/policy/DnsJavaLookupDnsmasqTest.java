package org.postern.smtpd.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.dns.Dnsmasq;
import org.postern.smtpd.policy.DnsLookup.Answer;
import org.postern.smtpd.policy.DnsLookup.Status;
import org.postern.smtpd.policy.DnsLookup.Type;

/** DnsJavaLookup against dnsmasq serving a test zone on a loopback port (skipped without dnsmasq). */
class DnsJavaLookupDnsmasqTest {
    private static Dnsmasq dnsmasq;
    private static DnsJavaLookup lookup;

    @BeforeAll
    static void start() throws Exception {
        dnsmasq = Dnsmasq.start("mail.sender.test", "--local=/2.0.192.in-addr.arpa/", "--local=/0.0.127.in-addr.arpa/",
                "--host-record=mail.sender.test,192.0.2.5", "--mx-host=sender.test,mail.sender.test,10",
                "--mx-host=nullmx.test,.,0", "--host-record=1.2.0.192.zen.test,127.0.0.2",
                "--txt-record=1.2.0.192.zen.test,listed by zen", "--host-record=1.0.0.127.zen.test,127.0.0.2");
        lookup = new DnsJavaLookup(List.of(dnsmasq.server()), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    private static Answer get(String name, Type type) throws Exception {
        return lookup.lookup(name, type).get(10, TimeUnit.SECONDS);
    }

    @Test
    void answers() throws Exception {
        assertEquals(new Answer(Status.FOUND, List.of("192.0.2.5")), get("mail.sender.test", Type.A));
        assertEquals(new Answer(Status.FOUND, List.of("mail.sender.test")), get("sender.test", Type.MX));
        assertEquals(new Answer(Status.FOUND, List.of("")), get("nullmx.test", Type.MX));
        assertEquals(Status.NOT_FOUND, get("nowhere.test", Type.MX).status());
        assertEquals(Status.NOT_FOUND, get("nowhere.test", Type.A).status());
        assertEquals(new Answer(Status.FOUND, List.of("mail.sender.test")), get("192.0.2.5", Type.PTR));
        assertEquals(Status.NOT_FOUND, get("192.0.2.99", Type.PTR).status());
        assertEquals(new Answer(Status.FOUND, List.of("127.0.0.2")), get("1.2.0.192.zen.test", Type.A));
        assertEquals(new Answer(Status.FOUND, List.of("listed by zen")), get("1.2.0.192.zen.test", Type.TXT));
        assertEquals(Status.NOT_FOUND, get("not an address", Type.PTR).status());
    }

    @Test
    void unreachableServerIsATemporaryFailure() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        DnsJavaLookup dead = new DnsJavaLookup(List.of("127.0.0.1:" + port), Duration.ofMillis(500));
        assertEquals(Status.TEMP_FAIL, dead.lookup("mail.sender.test", Type.A).get(10, TimeUnit.SECONDS).status());
    }

    @Test
    void serverWaitsForTheBlocklistWithoutBlocking(@org.junit.jupiter.api.io.TempDir java.nio.file.Path spool)
            throws Exception {
        io.netty.channel.nio.NioEventLoopGroup group = new io.netty.channel.nio.NioEventLoopGroup(1);
        java.util.concurrent.ExecutorService blocking = java.util.concurrent.Executors.newSingleThreadExecutor();
        org.postern.smtpd.SmtpdSettings settings = org.postern.smtpd.SmtpdSettings.defaults("smtpd", "mx.example.org",
                spool).withPolicy("smtpd_client_restrictions = reject_rbl_client zen.test, "
                + "reject_unknown_reverse_client_hostname", lookup);
        org.postern.smtpd.SmtpdServer server = new org.postern.smtpd.SmtpdServer("smtpd", settings,
                (envelope, content) -> envelope.queueId(), group, blocking);
        try {
            server.start("127.0.0.1", 0);
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
                s.setSoTimeout(10_000);
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                        s.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII));
                assertEquals("220 mx.example.org ESMTP Postern", in.readLine());
                s.getOutputStream().write(("HELO client.example\r\nMAIL FROM:<a@example.com>\r\n"
                        + "RCPT TO:<x@mx.example.org>\r\nQUIT\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                assertEquals("250 mx.example.org", in.readLine());
                assertEquals("250 2.1.0 Ok", in.readLine());
                assertEquals("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.test",
                        in.readLine());
                assertEquals("221 2.0.0 Bye", in.readLine());
            }
        } finally {
            server.stop();
            blocking.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
