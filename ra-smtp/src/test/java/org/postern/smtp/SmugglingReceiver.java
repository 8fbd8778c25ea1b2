package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * SmugglingReceiver - a real Postfix (a {@link PostfixInstance}) as the receiver that an
 * SMTP smuggling attempt relayed by Postern would fool, with what the smuggling tests
 * check on it: PostfixSmugglingInteropTest (Postern's client) and the ear module's HostileIT
 * (the deployed server relaying to it) share it.
 *
 * <p>Postfix (Debian's 3.7) receives on one smtpd listener per smtpd_forbid_bare_newline
 * value asked for and known to it: "no" (its default before 3.9, the most permissive: a
 * bare &lt;LF&gt; ends a line, so "&lt;LF&gt;.&lt;LF&gt;" ends DATA), "normalize" and
 * "reject" (a bare &lt;LF&gt; refuses the message); smtpd_forbid_bare_newline_exclusions
 * is empty, or loopback would be exempt. An older Postfix without the parameter gets one
 * listener, "default". virtual(8) delivers to two real mailboxes, bob and the victim, under
 * the test's directory: a smuggled message to the victim would be delivered, and seen.
 *
 * <p>{@link #VARIANTS} are the published end-of-data look-alikes (SEC Consult 2023;
 * Postfix's smuggling page), {@link #attempt} a message that carries one followed by a
 * forged second transaction (MAIL FROM:&lt;forged@evil.example&gt;, RCPT TO the victim).
 * {@link #assertNothingSmuggled}: Postfix logged as many transactions ("client=" lines) as
 * the caller made deliveries, and neither the forged sender nor the victim appears.
 */
public final class SmugglingReceiver implements AutoCloseable {

    /** the end-of-data look-alikes, as a client or stored content may hold them (the standard one last) */
    public static final Map<String, String> VARIANTS;

    static {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("LF.LF", "\n.\n");
        v.put("CR.CR", "\r.\r");
        v.put("LF.CRLF", "\n.\r\n");
        v.put("CRLF.LF", "\r\n.\n");
        v.put("CRLF.CR", "\r\n.\r");
        v.put("CR.LF", "\r.\n");
        v.put("CRLF.CRLF", "\r\n.\r\n");
        VARIANTS = Collections.unmodifiableMap(v);
    }

    private final Path dir;
    private final Path mail;
    private final PostfixInstance postfix;
    private final Map<String, Integer> listeners;

    private SmugglingReceiver(Path dir, Path mail, PostfixInstance postfix, Map<String, Integer> listeners) {
        this.dir = dir;
        this.mail = mail;
        this.postfix = postfix;
        this.listeners = listeners;
    }

    /**
     * start - a receiver in a new temporary directory with a listener for each of these
     * smtpd_forbid_bare_newline values that this Postfix knows (with none known, one
     * listener "default"). Skips (a failure under CI) without Postfix or root.
     */
    public static SmugglingReceiver start(String prefix, List<String> modes) throws Exception {
        PostfixInstance.assumeAvailable();
        Path dir = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path mail = Files.createDirectories(dir.resolve("mail"));
        Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
        // the values this Postfix knows (postconf -d): Debian's 3.7.11 has the parameter, older ones do not
        Process p = new ProcessBuilder("/usr/sbin/postconf", "-d", "smtpd_forbid_bare_newline")
                .redirectErrorStream(true).start();
        String known = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        Map<String, Integer> ports = new LinkedHashMap<>();
        List<String> master = new ArrayList<>();
        if (known.startsWith("smtpd_forbid_bare_newline =")) {
            for (String mode : modes) {
                int port = PostfixInstance.freePort();
                ports.put(mode, port);
                master.add("127.0.0.1:" + port + " inet n - n - - smtpd -o smtpd_forbid_bare_newline=" + mode);
            }
        } else {
            int port = PostfixInstance.freePort();
            ports.put("default", port);
            master.add("127.0.0.1:" + port + " inet n - n - - smtpd");
        }
        System.out.println("SmugglingReceiver: " + known.trim() + "; listeners " + ports);
        List<String> main = new ArrayList<>(List.of(
                "myhostname = mx.postfix.test",
                "virtual_mailbox_domains = postfix.test",
                "virtual_mailbox_base = " + mail,
                "virtual_mailbox_maps = inline:{bob@postfix.test=bob/, victim@postfix.test=victim/}",
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534"));
        if (!ports.containsKey("default")) {
            main.add("smtpd_forbid_bare_newline_exclusions ="); // loopback is in $mynetworks, the default
        }
        return new SmugglingReceiver(dir, mail, PostfixInstance.start(dir.resolve("receiver"), main, master), ports);
    }

    /** listeners - smtpd_forbid_bare_newline value (or "default") -> the port of the listener with it. */
    public Map<String, Integer> listeners() {
        return listeners;
    }

    /** log - Postfix's mail log so far. */
    public String log() throws IOException {
        return postfix.log();
    }

    /*
     * attempt - a message whose body carries the variant, then a whole forged transaction up
     * to the forged message's last line: a client that tries to smuggle sends ".\r\n" after it
     */
    public static String attempt(String tag, String variant) {
        return "From: Sender <sender@client.postern.test>\r\n"
                + "To: Bob <bob@postfix.test>\r\n"
                + "Subject: smuggle " + tag + "\r\n"
                + "Date: Sat, 21 Nov 2026 12:00:00 +0000\r\n"
                + "Message-ID: <" + tag.replaceAll("[^A-Za-z0-9.-]", "-") + "@client.postern.test>\r\n"
                + "\r\n"
                + "first part" + variant
                + "MAIL FROM:<forged@evil.example>\r\n"
                + "RCPT TO:<victim@postfix.test>\r\n"
                + "DATA\r\n"
                + "From: <forged@evil.example>\r\n"
                + "To: <victim@postfix.test>\r\n"
                + "Subject: smuggled " + tag + "\r\n"
                + "\r\n"
                + "second part\r\n";
    }

    /** stored - the maildir file of the message Postfix queued as queueId, once virtual(8) delivered it to bob. */
    public String stored(String queueId) throws IOException, InterruptedException {
        String log = postfix.awaitLog(queueId + ": to=<bob@postfix.test>, relay=virtual", Duration.ofSeconds(20));
        assertTrue(log.contains(queueId + ": to=<bob@postfix.test>, relay=virtual"), "not delivered: " + queueId
                + "\n" + log);
        Path inbox = mail.resolve("bob").resolve("new");
        try (Stream<Path> s = Files.list(inbox)) {
            for (Path p : s.toList()) {
                String text = Files.readString(p, StandardCharsets.ISO_8859_1);
                if (text.contains(" id " + queueId + "\n") || text.contains(" id " + queueId + ";")) {
                    return text;
                }
            }
        }
        throw new AssertionError("no message " + queueId + " in " + inbox + "\n" + postfix.log());
    }

    /** deliveredToBob - the messages virtual(8) has delivered to bob so far (its log lines). */
    public int deliveredToBob() throws IOException {
        Matcher m = Pattern.compile(": to=<bob@postfix.test>, relay=virtual, .*status=sent").matcher(postfix.log());
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * assertNothingSmuggled - Postfix's log holds one transaction per delivery the caller made
     * (a smuggled one would log its own "client=" line in the same session), no forged
     * sender and no victim; the victim's mailbox does not exist
     */
    public void assertNothingSmuggled(int deliveries) throws Exception {
        Thread.sleep(500); // a smuggled transaction of the last session would be logged by now
        String log = postfix.log();
        Matcher clients = Pattern.compile("postfix/smtpd\\[\\d+\\]: \\w+: client=").matcher(log);
        int transactions = 0;
        while (clients.find()) {
            transactions++;
        }
        assertEquals(deliveries, transactions, "transactions in Postfix's log:\n" + log);
        assertFalse(log.contains("forged@evil.example"), "the forged sender reached Postfix:\n" + log);
        assertFalse(log.contains("victim@postfix.test"), "a message for the victim:\n" + log);
        assertFalse(Files.exists(mail.resolve("victim")), "the victim's mailbox exists");
    }

    /** close - Postfix stopped, its directory removed (kept with -Dkeep.postfix). */
    @Override
    public void close() throws Exception {
        postfix.close();
        if (System.getProperty("keep.postfix") == null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }
}
