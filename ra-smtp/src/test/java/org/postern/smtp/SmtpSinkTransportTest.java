package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.postern.smtp.SmtpTestSupport.message;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.Config;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.config.ServiceParameters;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientParameters;
import org.postern.test.Peers;

/**
 * A master.cf delivery service seen from a peer nobody here wrote (Postfix's smtp-sink, skipped
 * when absent): the client settings of {@code slow ... smtp -o smtp_helo_name=slow.example}
 * are main.cf plus that override, so the sink behind slow hears HELO slow.example while the
 * one behind smtp hears $myhostname; and {@code slow_destination_recipient_limit = 1} from
 * main.cf makes three recipients three transactions (the split the queue manager does with
 * it, here done as DeliveryAgent does it: batches of the limit).
 */
class SmtpSinkTransportTest {

    private static final String SINK = "/usr/sbin/smtp-sink";
    private final List<Process> sinks = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeEach
    void requireSink() {
        Peers.assume(new File(SINK).canExecute(), "Postfix smtp-sink is not installed at " + SINK);
        Peers.assume("root".equals(System.getProperty("user.name")), "smtp-sink -u nobody needs root");
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : sinks) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /* sink - smtp-sink on a free port, dumping each transaction into a file of its own in dumps (X-Helo-Args, X-Rcpt-Args...) */
    private int sink(Path dumps) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        sinks.add(new ProcessBuilder(SINK, "-u", "nobody", "-d", dumps.resolve("m.").toString(), "127.0.0.1:" + port, "10")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        for (int i = 0; i < 50; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return port;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IOException("smtp-sink did not start on port " + port);
    }

    private static Path dumpDirectory(Path dir, String name) throws IOException {
        Path d = Files.createDirectory(dir.resolve(name));
        // smtp-sink writes as nobody
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        return d;
    }

    /* headers - the values of one smtp-sink header in every dump of a directory */
    private static List<String> headers(Path dumps, String name, int expected) throws Exception {
        List<String> out = new ArrayList<>();
        Pattern header = Pattern.compile("(?m)^" + name + ": (.*)$");
        for (int i = 0; i < 50 && out.size() < expected; i++) {
            out.clear();
            try (java.util.stream.Stream<Path> files = Files.list(dumps)) {
                for (Path f : files.sorted().toList()) {
                    Matcher m = header.matcher(Files.readString(f));
                    while (m.find()) {
                        out.add(m.group(1).strip());
                    }
                }
            }
            if (out.size() < expected) {
                Thread.sleep(100);
            }
        }
        return out;
    }

    /* deliver - the recipients in batches of the transport's recipient limit, one session each batch */
    private static int deliver(NextHop hop, Config transport, int limit, String... rcpts) throws Exception {
        int step = limit == 0 ? rcpts.length : limit;
        int transactions = 0;
        for (int i = 0; i < rcpts.length; i += step) {
            String[] batch = java.util.Arrays.copyOfRange(rcpts, i, Math.min(rcpts.length, i + step));
            try (SmtpClientSession s = new SmtpClientSession(hop, SmtpClientParameters.SMTP.cachedSettings(transport, hop))) {
                DeliveryOutcome o = s.deliver(message("Subject: t\r\n\r\nx\r\n", batch));
                o.recipients().forEach(r -> assertEquals(DeliveryOutcome.Status.SENT, r.status(), r.toString()));
                transactions += s.transactions();
            }
        }
        return transactions;
    }

    @Test
    void aMasterCfTransportSendsItsOwnHeloAndItsOwnRecipientLimitToARealPeer() throws Exception {
        // nobody reaches the dump directories through it
        dir.toFile().setExecutable(true, false);
        Path slowDump = dumpDirectory(dir, "slow");
        Path smtpDump = dumpDirectory(dir, "smtp");
        int slowPort = sink(slowDump);
        int smtpPort = sink(smtpDump);

        List<MasterService> master = MasterCf.parse("""
                127.0.0.1:2525 inet n - n - - smtpd
                slow unix - - n - - smtp -o smtp_helo_name=slow.example
                """, "master.cf");
        Config main = Config.parse("""
                myhostname = mx.example.org
                inet_interfaces = 127.0.0.1
                slow_destination_recipient_limit = 1
                """, "main.cf", ServiceParameters.of(master));
        assertEquals(List.of(), main.warnings(), "slow_destination_recipient_limit is known from master.cf");
        Config slow = master.get(1).settings(main);
        int slowLimit = main.value(ServiceParameters.destinationRecipientLimit("slow"));
        int smtpLimit = main.value(ServiceParameters.destinationRecipientLimit("smtp"));

        String[] rcpts = {"a@x.test", "b@x.test", "c@x.test"};
        assertEquals(3, deliver(NextHop.smtp("127.0.0.1", slowPort, false), slow, slowLimit, rcpts));
        assertEquals(1, deliver(NextHop.smtp("127.0.0.1", smtpPort, false), main, smtpLimit, rcpts));

        // what the peers heard: one dump per transaction
        assertEquals(List.of("slow.example", "slow.example", "slow.example"), headers(slowDump, "X-Helo-Args", 3));
        assertEquals(3, headers(slowDump, "X-Rcpt-Args", 3).size());
        assertEquals(List.of("mx.example.org"), headers(smtpDump, "X-Helo-Args", 1));
        assertEquals(3, headers(smtpDump, "X-Rcpt-Args", 3).size(), "three RCPT TO in the one transaction");
    }
}
