package org.postern.smtp.dns;

import org.postern.test.Peers;


import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Dnsmasq - the tests' name server: dnsmasq (Debian package dnsmasq-base) on a free
 * loopback port, serving only the records given, authoritative for {@code .test}. A test
 * is skipped when dnsmasq is not installed; a dnsmasq that dies at once (another build on
 * the machine may end dnsmasq processes) is started again on another port, up to three
 * times.
 */
public final class Dnsmasq implements AutoCloseable {
    private static final String DNSMASQ = "/usr/sbin/dnsmasq";

    private final Process process;
    private final int port;

    private Dnsmasq(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * start - dnsmasq with these extra options (records, --local= zones); ready once
     * probeName has an address.
     */
    public static Dnsmasq start(String probeName, String... options) throws IOException, InterruptedException {
        Peers.assume(new File(DNSMASQ).canExecute(), "dnsmasq is not installed at " + DNSMASQ);
        StringBuilder failures = new StringBuilder();
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
                port = s.getLocalPort();
            }
            Path output = Files.createTempFile("dnsmasq", ".out");
            output.toFile().deleteOnExit();
            List<String> command = new ArrayList<>(List.of(DNSMASQ, "--pid-file=", "--log-facility=-",
                    "--keep-in-foreground", "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces",
                    "--no-resolv", "--no-hosts", "--local=/test/"));
            command.addAll(List.of(options));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            DnsJavaResolver probe = new DnsJavaResolver(List.of("127.0.0.1:" + port), Duration.ofSeconds(1));
            for (int i = 0; i < 100 && p.isAlive(); i++) {
                try {
                    probe.lookupAddresses(probeName);
                    return new Dnsmasq(p, port);
                } catch (DnsLookupException e) {
                    Thread.sleep(100);
                }
            }
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
            failures.append("\nport ").append(port).append(": ").append(Files.readString(output));
        }
        throw new IllegalStateException("dnsmasq does not answer:" + failures);
    }

    /** port - the UDP and TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** server - "127.0.0.1:port", as postern.dns.servers and the resolvers take it. */
    public String server() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
    }
}
