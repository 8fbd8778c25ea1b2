package org.postern.smtp.dns;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import org.postern.test.Peers;
import org.xbill.DNS.Type;

/**
 * Unbound - the tests' validating resolver: unbound (Debian package unbound) on a free
 * loopback port, serving a zone signed here with ldns-signzone (package ldnsutils) as an
 * auth-zone it validates against that zone's KSK as trust anchor, and unsigned zones
 * beside it (insecure: no trust anchor covers them). Nothing is asked of other servers.
 * A test is skipped when unbound or the ldns tools are missing (fails under CI=true).
 */
public final class Unbound implements AutoCloseable {
    private static final String UNBOUND = "/usr/sbin/unbound";
    private static final String KEYGEN = "/usr/bin/ldns-keygen";
    private static final String SIGNZONE = "/usr/bin/ldns-signzone";

    private final Process process;
    private final int port;

    private Unbound(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * start - sign {@code signedText} (the zone file of {@code signedZone}) with a new KSK and
     * ZSK, pass the signed text through {@code afterSigning} (a test may break a signature),
     * and serve it with the {@code unsigned} zones (name to zone file text); ready once the
     * signed zone's SOA comes back validated.
     */
    public static Unbound start(Path dir, String signedZone, String signedText, UnaryOperator<String> afterSigning,
                                Map<String, String> unsigned) throws IOException, InterruptedException {
        for (String tool : List.of(UNBOUND, KEYGEN, SIGNZONE)) {
            Peers.assume(new File(tool).canExecute(), tool + " is not installed (unbound, ldnsutils)");
        }
        String ksk = run(dir, KEYGEN, "-a", "ECDSAP256SHA256", "-k", signedZone).trim();
        String zsk = run(dir, KEYGEN, "-a", "ECDSAP256SHA256", signedZone).trim();
        Path zone = dir.resolve(signedZone + ".zone");
        Files.writeString(zone, signedText);
        run(dir, SIGNZONE, "-n", zone.toString(), ksk, zsk);
        Path signed = dir.resolve(signedZone + ".zone.signed");
        Files.writeString(signed, afterSigning.apply(Files.readString(signed)));
        StringBuilder zones = new StringBuilder();
        zones.append(authZone(signedZone, signed));
        for (Map.Entry<String, String> z : unsigned.entrySet()) {
            Path f = dir.resolve(z.getKey() + ".zone");
            Files.writeString(f, z.getValue());
            zones.append(authZone(z.getKey(), f));
        }
        StringBuilder failures = new StringBuilder();
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
                port = s.getLocalPort();
            }
            Path conf = dir.resolve("unbound.conf");
            Path log = dir.resolve("unbound.log");
            Files.writeString(conf, String.join("\n",
                    "server:",
                    "  interface: 127.0.0.1",
                    "  port: " + port,
                    "  do-daemonize: no",
                    "  username: \"\"",
                    "  chroot: \"\"",
                    "  directory: \"" + dir + "\"",
                    "  pidfile: \"\"",
                    "  use-syslog: no",
                    "  logfile: \"" + log + "\"",
                    "  access-control: 127.0.0.0/8 allow",
                    "  module-config: \"validator iterator\"",
                    "  trust-anchor-file: \"" + dir.resolve(ksk + ".ds") + "\"",
                    // RFC 6761 names are local zones of unbound by default: let these through
                    "  local-zone: \"test.\" nodefault",
                    "  val-log-level: 2",
                    zones.toString()));
            Process p = new ProcessBuilder(UNBOUND, "-d", "-c", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            DnsJavaResolver probe = new DnsJavaResolver(List.of("127.0.0.1:" + port), Duration.ofSeconds(1));
            for (int i = 0; i < 100 && p.isAlive(); i++) {
                try {
                    if (probe.lookupSecure(signedZone, Type.SOA).authenticated()) {
                        return new Unbound(p, port);
                    }
                } catch (DnsLookupException e) {
                    // not up yet
                }
                Thread.sleep(100);
            }
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
            failures.append("\nport ").append(port).append(": ")
                    .append(Files.exists(log) ? Files.readString(log) : "no log");
        }
        throw new IllegalStateException("unbound does not validate " + signedZone + ":" + failures);
    }

    private static String authZone(String name, Path file) {
        return "\nauth-zone:\n  name: \"" + name + "\"\n  zonefile: \"" + file + "\"\n  for-downstream: no\n"
                + "  for-upstream: yes\n  fallback-enabled: no\n";
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out);
        }
        return out;
    }

    /** server - "127.0.0.1:port", as the resolvers take it. */
    public String server() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
    }
}
