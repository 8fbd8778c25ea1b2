package org.postern.smtp;

import org.postern.test.Peers;


import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * PostfixInstance - a private Postfix (Debian's package) for interop tests: its own
 * main.cf, master.cf, queue, data directory and mail log under one directory, listening
 * on 127.0.0.1 only, started with "postfix -c DIR start" and stopped on {@link #close}.
 *
 * <p>What makes a private instance run without syslog and without touching the system's
 * Postfix: {@code maillog_file} with {@code maillog_file_prefixes} set to the test
 * directory (postlogd writes the log), a data_directory owned by postfix, directories
 * that the postfix user can traverse, and a master.cf of the services needed with the
 * chroot column "n". Needs root (Postfix drops privileges to mail_owner itself).
 */
public final class PostfixInstance implements AutoCloseable {

    private static final String POSTFIX = "/usr/sbin/postfix";
    /* the internal services of a complete instance (master.cf of Debian's package, chroot off) */
    private static final List<String> SERVICES = List.of("pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr", "tlsmgr unix - - n 1000? 1 tlsmgr",
            "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap", "proxywrite unix - - n - 1 proxymap", "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp", "showq unix n - n - - showq", "error unix - - n - - error",
            "retry unix - - n - - error", "discard unix - - n - - discard", "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd",
            "virtual unix - n n - - virtual");

    private final Path conf;
    private final Path log;
    private boolean running;

    private PostfixInstance(Path conf, Path log) {
        this.conf = conf;
        this.log = log;
    }

    /** assumeAvailable - skip the calling test without Postfix or without root. */
    public static void assumeAvailable() {
        Peers.assume(new File(POSTFIX).canExecute(), "postfix is not installed");
        Peers.assume("root".equals(System.getProperty("user.name")), "a private Postfix instance needs root");
    }

    /** freePort - a TCP port on 127.0.0.1 nobody listens on now (probed). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /**
     * start - an instance in {@code dir} with these main.cf lines added to the common ones
     * and these smtpd listeners (master.cf lines such as "127.0.0.1:2525 inet n - n - - smtpd");
     * returns when the first listener accepts connections.
     */
    public static PostfixInstance start(Path dir, List<String> mainCf, List<String> listeners)
            throws IOException, InterruptedException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path queue = Files.createDirectories(dir.resolve("queue"));
        Path data = Files.createDirectories(dir.resolve("data"));
        for (Path p : List.of(dir, conf, queue)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setOwner(data, data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postfix"));
        Path log = dir.resolve("postfix.log");
        List<String> main = new ArrayList<>(List.of("compatibility_level = 3.6", "queue_directory = " + queue,
                "data_directory = " + data, "inet_interfaces = 127.0.0.1", "inet_protocols = ipv4",
                "mydestination =", "alias_maps =", "alias_database =", "local_recipient_maps =",
                "maillog_file = " + log, "maillog_file_prefixes = " + dir));
        // a line of the caller's replaces a common one of the same name: Postfix warns about a
        // name set twice, and a private postlogd logging that warning to itself can deadlock
        for (String line : mainCf) {
            String name = line.split("=", 2)[0].trim();
            main.removeIf(l -> l.split("=", 2)[0].trim().equals(name));
            main.add(line);
        }
        Files.writeString(conf.resolve("main.cf"), String.join("\n", main) + "\n");
        List<String> master = new ArrayList<>(listeners);
        master.addAll(SERVICES);
        Files.writeString(conf.resolve("master.cf"), String.join("\n", master) + "\n");
        PostfixInstance p = new PostfixInstance(conf, log);
        p.postfix("start");
        p.running = true;
        String first = listeners.get(0).split("\\s+")[0];
        int port = Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
        for (int i = 0; i < 100; i++) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return p;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        p.close();
        throw new IOException("Postfix does not listen on " + port + "; log:\n" + p.log());
    }

    /** log - the instance's mail log so far. */
    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** awaitLog - the mail log once it contains {@code needle}, or what it holds after {@code limit}. */
    public String awaitLog(String needle, Duration limit) throws IOException, InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        String text = log();
        while (!text.contains(needle) && System.nanoTime() < end) {
            Thread.sleep(100);
            text = log();
        }
        return text;
    }

    private void postfix(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(POSTFIX, "-c", conf.toString(), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("postfix -c " + conf + " " + command + " failed: " + out);
        }
    }

    /** close - postfix stop. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (running) {
            running = false;
            postfix("stop");
        }
    }
}
