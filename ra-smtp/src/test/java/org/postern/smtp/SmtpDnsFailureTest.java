package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.smtp.SmtpTestSupport.fast;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.DeliveryOutcome.RecipientOutcome;
import org.postern.smtp.api.DeliveryOutcome.Status;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.dns.DnsJavaResolver;

/**
 * A name server that fails defers the mail and never bounces it, within a bounded time:
 * a loopback UDP socket that reads every query and never answers (a real timeout, not
 * the ICMP "port unreachable" of a closed port), and a responder that answers every
 * query with SERVFAIL. The MX lookup of the recipient's domain fails temporarily; the
 * recipient is DEFERRED with Postfix smtp(8)'s words, "Host or domain name not found.
 * Name service error for name=example.test type=MX: Host not found, try again", and
 * 4.4.3. The queries are counted, so that a test that never reached its server fails.
 */
class SmtpDnsFailureTest {

    private static final String POSTFIX_TEMPFAIL =
            "Host or domain name not found. Name service error for name=example.test type=MX: Host not found, try again";

    /** NameServer - a UDP socket on 127.0.0.1 that counts queries and answers SERVFAIL or nothing. */
    private static final class NameServer implements AutoCloseable {
        final DatagramSocket socket;
        final AtomicInteger queries = new AtomicInteger();
        final Thread thread;

        NameServer(boolean servfail) throws SocketException, IOException {
            socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"));
            thread = new Thread(() -> serve(servfail), "dns-" + (servfail ? "servfail" : "silent"));
            thread.setDaemon(true);
            thread.start();
        }

        String address() {
            return "127.0.0.1:" + socket.getLocalPort();
        }

        private void serve(boolean servfail) {
            byte[] buf = new byte[4096];
            while (!socket.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (IOException closed) {
                    return;
                }
                queries.incrementAndGet();
                if (!servfail || p.getLength() < 12) {
                    continue;
                }
                byte[] reply = servfail(buf, p.getLength());
                try {
                    socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        /* servfail - the query's header and question, as a response (QR, RA) with RCODE 2 and nothing else */
        private static byte[] servfail(byte[] q, int len) {
            int i = 12;
            while (i < len && q[i] != 0) {
                i += (q[i] & 0xff) + 1;   // a label (the queries here are never compressed)
            }
            int end = Math.min(len, i + 1 + 4);   // the root label, QTYPE, QCLASS
            byte[] r = java.util.Arrays.copyOf(q, end);
            r[2] = (byte) (0x80 | (q[2] & 0x79));   // QR, the query's opcode and RD
            r[3] = (byte) 0x82;                      // RA, RCODE 2 = SERVFAIL
            r[4] = 0;
            r[5] = 1;                                // QDCOUNT 1
            for (int k = 6; k < 12; k++) {
                r[k] = 0;                            // no answer, authority or additional records
            }
            return r;
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(5000);
        }
    }

    /* deliver - a message to two recipients at example.test, its MX looked up through dns; the elapsed time in ms first */
    private static DeliveryOutcome deliver(DnsJavaResolver dns, long[] elapsedMillis) {
        return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            long start = System.nanoTime();
            try (SmtpClientSession s = new SmtpClientSession(NextHop.smtp("example.test", 25, true), fast(), dns)) {
                DeliveryOutcome o = s.deliver(message("Subject: dns\r\n\r\nx\r\n", "a@example.test", "b@example.test"));
                elapsedMillis[0] = (System.nanoTime() - start) / 1_000_000;
                return o;
            }
        });
    }

    private static void assertDeferredInPostfixWords(DeliveryOutcome o) {
        assertEquals(2, o.recipients().size(), o.toString());
        for (RecipientOutcome r : o.recipients()) {
            assertEquals(Status.DEFERRED, r.status(), r.toString());
            assertEquals("4.4.3", r.dsn(), r.toString());
            assertEquals(POSTFIX_TEMPFAIL, r.reply(), r.toString());
        }
    }

    @Test
    void aNameServerThatNeverAnswersDefersWithinTheResolverTimeout() throws Exception {
        Duration timeout = Duration.ofSeconds(2);
        try (NameServer silent = new NameServer(false)) {
            DnsJavaResolver dns = new DnsJavaResolver(List.of(silent.address()), timeout);
            long[] elapsed = new long[1];
            DeliveryOutcome o = deliver(dns, elapsed);
            System.out.println("SmtpDnsFailureTest: silent server, timeout " + timeout.toMillis() + " ms: "
                    + silent.queries.get() + " queries, " + elapsed[0] + " ms; " + o.recipients().get(0).reply());
            assertDeferredInPostfixWords(o);
            assertTrue(silent.queries.get() >= 1, "the query reached the silent server");
            // the lookup waited for the server (a real timeout), and no longer than the resolver's timeout allows
            assertTrue(elapsed[0] >= timeout.toMillis() - 100, "gave up before the timeout: " + elapsed[0] + " ms");
            assertTrue(elapsed[0] <= timeout.toMillis() + 1500, "bounded by the resolver timeout: " + elapsed[0] + " ms");
        }
    }

    @Test
    void aNameServerThatAnswersServfailDefersAtOnce() throws Exception {
        try (NameServer servfail = new NameServer(true)) {
            DnsJavaResolver dns = new DnsJavaResolver(List.of(servfail.address()), Duration.ofSeconds(5));
            long[] elapsed = new long[1];
            DeliveryOutcome o = deliver(dns, elapsed);
            System.out.println("SmtpDnsFailureTest: SERVFAIL server: " + servfail.queries.get() + " queries, "
                    + elapsed[0] + " ms; " + o.recipients().get(0).reply());
            assertDeferredInPostfixWords(o);
            assertTrue(servfail.queries.get() >= 1, "the query reached the server");
            assertTrue(elapsed[0] < 5000, "an answer, not a timeout: " + elapsed[0] + " ms");

            // asked again (the next delivery attempt): a temporary failure is not cached as an answer
            int before = servfail.queries.get();
            assertDeferredInPostfixWords(deliver(dns, elapsed));
            assertTrue(servfail.queries.get() > before, "the second attempt asked the server again");
        }
    }
}
