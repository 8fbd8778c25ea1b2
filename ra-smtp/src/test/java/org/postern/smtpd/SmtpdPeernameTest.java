package org.postern.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.postern.config.Config;
import org.postern.config.Parameters;
import org.postern.smtpd.policy.DnsJavaLookup;
import org.postern.smtpd.policy.DnsLookup;
import org.postern.smtpd.policy.HostsFile;
import org.postern.smtpd.policy.PolicySettings;
import org.postern.smtpd.policy.SmtpdCheck;

/** smtpd_peername_lookup = yes (Postfix's default): the hosts file first, then DNS, bounded in time. */
class SmtpdPeernameTest extends SessionConversation {
    private final List<String> queries = new ArrayList<>();

    private SmtpdSettings lookup(DnsLookup dns, HostsFile hosts) {
        SmtpdSettings.Builder b = settings().toBuilder();
        b.check = new SmtpdCheck(PolicySettings.from(Config.parse("myhostname = mx.example.org", "main.cf")), dns,
                hosts);
        b.peernameLookup = true;
        b.headerRewriteClients = HeaderRewriteClients.NONE;
        return b.build();
    }

    @Test
    void postfixDefaultIsYes() {
        assertEquals("yes", Parameters.find("smtpd_peername_lookup").orElseThrow().defaultValue());
    }

    @Test
    void loopbackIsLocalhostFromTheHostsFileWithoutAnyDnsQuery() {
        DnsLookup dns = (name, type) -> {
            queries.add(type + " " + name);
            return CompletableFuture.completedFuture(new DnsLookup.Answer(DnsLookup.Status.TEMP_FAIL, List.of()));
        };
        HostsFile hosts = HostsFile.parse("# comment\n127.0.0.1\tlocalhost runsc vm\n::1 localhost ip6-localhost\n");
        connect(lookup(dns, hosts), "127.0.0.1");
        expect("220 mx.example.org ESMTP Postern");
        expectLog("connect from localhost[127.0.0.1]");
        assertEquals(List.of(), queries);
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertTrue(contents.get(0).startsWith("Received: from client.example (localhost [127.0.0.1])"),
                contents.get(0));
        // IPv6 loopback: the name is in the file for both families
        connect(lookup(dns, hosts), "0:0:0:0:0:0:0:1");
        expectLog("connect from localhost[0:0:0:0:0:0:0:1]");
    }

    @Test
    void addressesNotInTheFileAskDns() {
        DnsLookup dns = (name, type) -> {
            queries.add(type + " " + name);
            return CompletableFuture.completedFuture(new DnsLookup.Answer(DnsLookup.Status.NOT_FOUND, List.of()));
        };
        HostsFile hosts = HostsFile.parse("192.0.2.9 a.example\n192.0.2.10 a.example\n");
        connect(lookup(dns, hosts), "192.0.2.9");
        expectLog("connect from a.example[192.0.2.9]"); // a name with several addresses
        assertEquals(List.of(), queries);
        connect(lookup(dns, hosts), "192.0.2.11");
        expectLog("connect from unknown[192.0.2.11]");
        assertEquals(List.of("PTR 192.0.2.11"), queries);
    }

    @Test
    void anUnreachableResolverGivesUnknownWithinTheTimeout() throws Exception {
        // a name server on loopback that never answers (as this machine's resolv.conf one)
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            DnsLookup dns = new DnsJavaLookup(List.of("127.0.0.1:" + silent.getLocalPort()), Duration.ofSeconds(2));
            long start = System.nanoTime();
            connect(lookup(dns, HostsFile.EMPTY), "8.8.8.8");
            assertTrue(replies.isEmpty(), replies::toString); // the greeting waits for the name, nothing blocks
            long deadline = start + Duration.ofSeconds(20).toNanos();
            while (replies.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            long took = Duration.ofNanos(System.nanoTime() - start).toMillis();
            expectLog("connect from unknown[8.8.8.8]");
            assertTrue(took <= 11_000, "peer name lookup took " + took + " ms");
            assertEquals(List.of("220 mx.example.org ESMTP Postern"), List.copyOf(replies));
        }
    }
}
