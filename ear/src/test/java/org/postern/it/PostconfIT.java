package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.test.Peers;

/**
 * PostconfIT - the postconf command the build installs in the server's bin/, against
 * Postfix's own postconf (the postfix package) on copies of the same main.cf: the same
 * edits, the same -n listing, the same defaults where Postern keeps Postfix's, the same
 * warnings. It reads files only, so no server is needed.
 */
class PostconfIT {
    private static final String POSTFIX = "/usr/sbin/postconf";
    private static final String MAIN_CF = String.join("\n",
            "# the administrator's notes stay",
            "message_size_limit = 100",
            "  # a comment that is not part of anything",
            "mynetworks = 127.0.0.0/8",
            "  # inside a definition",
            "    10.0.0.0/8",
            "",
            "# after",
            "relay_domains = a.example",
            "message_size_limit = 200",
            "smtpd_banner = $myhostname ESMTP",
            "");

    @BeforeAll
    static void postfix() {
        Peers.assume(Files.isExecutable(Path.of(POSTFIX)), "postfix (its postconf) is not installed");
    }

    @Test
    void editsLeaveMainCfAsPostfixsPostconfLeavesIt(@TempDir Path dir) throws Exception {
        Path theirs = Files.createDirectories(dir.resolve("postfix"));
        Path ours = Files.createDirectories(dir.resolve("postern"));
        Files.writeString(theirs.resolve("main.cf"), MAIN_CF);
        Files.writeString(ours.resolve("main.cf"), MAIN_CF);
        List<String> edits = List.of("-e", "mynetworks=192.0.2.0/24", "smtpd_recipient_limit = 50",
                "message_size_limit=300");
        exec(postfix(theirs, edits));
        Commands.Result r = exec(postern(ours, edits));
        assertEquals(0, r.status(), r.toString());
        assertEquals(Files.readString(theirs.resolve("main.cf")), Files.readString(ours.resolve("main.cf")));

        exec(postfix(theirs, List.of("-X", "relay_domains")));
        assertEquals(0, exec(postern(ours, List.of("-X", "relay_domains"))).status());
        assertEquals(Files.readString(theirs.resolve("main.cf")), Files.readString(ours.resolve("main.cf")));

        // -n lists the same settings (Postfix adds config_directory for -c)
        List<String> pn = new ArrayList<>(exec(postfix(theirs, List.of("-n"))).out().lines().toList());
        pn.removeIf(l -> l.startsWith("config_directory ="));
        assertEquals(pn, exec(postern(ours, List.of("-n"))).out().lines().toList());
        // and the values of names, unexpanded, alone with -h
        assertEquals(exec(postfix(theirs, List.of("smtpd_banner", "message_size_limit"))).out(),
                exec(postern(ours, List.of("smtpd_banner", "message_size_limit"))).out());
        assertEquals(exec(postfix(theirs, List.of("-h", "mynetworks"))).out(),
                exec(postern(ours, List.of("-h", "mynetworks"))).out());
    }

    @Test
    void aValueTheServerWouldRefuseIsRefusedAndMainCfStays(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("main.cf"), MAIN_CF);
        Commands.Result r = exec(postern(dir, List.of("-e", "message_size_limit=lots")));
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().startsWith("postconf: fatal: ") && r.err().contains("message_size_limit"), r.err());
        assertTrue(r.err().contains("is unchanged"), r.err());
        assertEquals(MAIN_CF, Files.readString(dir.resolve("main.cf")));
    }

    @Test
    void unknownNamesGetPostfixsWarning(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("main.cf"), MAIN_CF);
        Commands.Result theirs = exec(postfix(dir, List.of("no_such_parameter")));
        Commands.Result ours = exec(postern(dir, List.of("no_such_parameter")));
        assertEquals(theirs.status(), ours.status());
        assertEquals("postconf: warning: no_such_parameter: unknown parameter",
                ours.err().strip());
        assertTrue(theirs.err().contains("warning: no_such_parameter: unknown parameter"), theirs.err());
    }

    /**
     * Every default that Postern shares with Postfix is Postfix's (3.7, Debian 12), but for
     * the differences listed here, each for a reason.
     */
    @Test
    void defaultsArePostfixsButForTheKnownDifferences(@TempDir Path dir) throws Exception {
        Map<String, String> why = Map.ofEntries(
                Map.entry("compatibility_level", "Postern behaves as level 3.6"),
                Map.entry("mail_name", "Postern"),
                Map.entry("mail_version", "Postern's version"),
                Map.entry("syslog_name", "the mail log says postern/smtpd"),
                Map.entry("mynetworks", "Postfix derives it from this host's interfaces; Postern keeps loopback"),
                Map.entry("relay_domains", "the value of Postfix's compatibility-level expression at level 3.6"),
                Map.entry("smtpd_relay_restrictions", "the same, at level 3.6"),
                Map.entry("smtpd_client_event_limit_exceptions", "the value of Postfix's expression (the old name is not read)"),
                Map.entry("virtual_alias_maps", "the value of $virtual_maps (the old name is not read)"),
                Map.entry("smtpd_hard_error_limit", "no stress mode: the value without stress"),
                Map.entry("smtpd_junk_command_limit", "no stress mode: the value without stress"),
                Map.entry("smtpd_timeout", "no stress mode: the value without stress"),
                Map.entry("smtpd_forbid_bare_newline", "normalize, as Postfix 3.9 and later (SMTP smuggling)"),
                Map.entry("smtpd_sasl_type", "elytron: there is no Cyrus SASL on the JVM"),
                Map.entry("lmtp_connection_cache_time_limit", "$max_idle, as lmtp(8) documents for lmtp_cache_connection"),
                Map.entry("config_directory", "read-only: the server's configuration directory is not Postfix's"),
                Map.entry("process_id", "read-only: another process"),
                Map.entry("process_name", "read-only: postern, not postconf"),
                Map.entry("smtp_tls_dane_insecure_mx_policy", "empty: the value of Postfix's comparison expression "
                        + "(dane when smtp_tls_security_level is dane, else may), which Postern's expander lacks"),
                Map.entry("smtpd_per_record_deadline", "yes: Postfix has no under normal load and yes under "
                        + "overload; Postern has no overload mode and cuts a client that drips a record"));
        Files.writeString(dir.resolve("main.cf"), "");
        Map<String, String> theirs = values(exec(postfix(dir, List.of("-d"))).out());
        Map<String, String> ours = values(exec(postern(dir, List.of("-d"))).out());
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : ours.entrySet()) {
            String p = theirs.get(e.getKey());
            if (p != null && !p.equals(e.getValue()) && !why.containsKey(e.getKey())) {
                differ.add(e.getKey() + ": Postern " + e.getValue() + ", Postfix " + p);
            }
        }
        assertEquals(List.of(), differ);
        assertTrue(ours.size() > 200, "Postern's defaults: " + ours.size());
    }

    @Test
    void masterCfServicesInPostfixsColumns(@TempDir Path dir) throws Exception {
        String master = "127.0.0.1:2525 inet n - n - - smtpd\n"
                + "127.0.0.1:2587 inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n";
        Files.writeString(dir.resolve("master.cf"), master);
        Files.writeString(dir.resolve("main.cf"), "");
        Commands.Result theirs = exec(postfix(dir, List.of("-M")));
        Commands.Result ours = exec(postern(dir, List.of("-M")));
        assertEquals(0, ours.status(), ours.toString());
        assertEquals(theirs.out(), ours.out());
    }

    @Test
    void postfixCheckFindsWhatWouldStopTheServer(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("master.cf"), "127.0.0.1:2525 inet n - n - - smtpd\n");
        Files.writeString(dir.resolve("main.cf"), MAIN_CF);
        Commands.Result good = exec(postfixCommand(dir, "check"));
        assertEquals(0, good.status(), good.toString());
        Files.writeString(dir.resolve("main.cf"), "# fine\nmessage_size_limit = lots\n");
        Commands.Result bad = exec(postfixCommand(dir, "check"));
        assertEquals(1, bad.status(), bad.toString());
        assertTrue(bad.err().contains("postfix: fatal: ") && bad.err().contains("line 2") && bad.err().contains("message_size_limit"),
                bad.err());
        Files.writeString(dir.resolve("main.cf"), "transport_maps = texthash:" + dir.resolve("missing") + "\n");
        Commands.Result table = exec(postfixCommand(dir, "check"));
        assertEquals(1, table.status(), table.toString());
        assertTrue(table.err().contains("postfix: fatal: transport_maps: "), table.err());
    }

    private static List<String> postfixCommand(Path dir, String command) {
        return List.of(Commands.bin("postfix"), "-c", dir.toString(),
                command);
    }

    private static Map<String, String> values(String listing) {
        Map<String, String> out = new TreeMap<>();
        for (String l : listing.lines().toList()) {
            int eq = l.indexOf(" =");
            out.put(l.substring(0, eq), l.substring(eq + 2).strip());
        }
        return out;
    }

    private static List<String> postfix(Path dir, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(POSTFIX, "-c", dir.toString()));
        cmd.addAll(args);
        return cmd;
    }

    private static List<String> postern(Path dir, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Commands.bin("postconf"),
                "-c", dir.toString()));
        cmd.addAll(args);
        return cmd;
    }

    private static Commands.Result exec(List<String> command) throws Exception {
        return Commands.run(Map.of(), null, command);
    }
}
