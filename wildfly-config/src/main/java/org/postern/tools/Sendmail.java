package org.postern.tools;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.MasterCf;
import org.postern.config.MasterService;
import org.postern.config.Parameters;

/**
 * Sendmail - the local submission command, sendmail(1) as Postfix has it, for cron jobs
 * and applications on the server's host.
 *
 * <pre>
 * sendmail [-i] [-t] [-f sender] [-F full_name] [-N dsn] [-R ret] [-V envid] [-B body] [--] [recipient ...]
 * sendmail -bp           the queue (mailq)
 * sendmail -q            deliver all deferred mail now (postqueue -f)
 * sendmail -qRsite       deliver the deferred mail of site now (postqueue -s site)
 * </pre>
 *
 * <p>The message is read from standard input (lines may end in LF or CRLF; without -i
 * a line with a single "." ends it, as in Sendmail and Postfix), and handed to the
 * server's own smtpd over SMTP on loopback: the first smtpd service of master.cf that
 * listens on loopback or on every address and does not demand TLS. So it goes through
 * the same cleanup as mail from the network: Received:, and the Message-Id:, Date: and
 * From: headers it lacks (local_header_rewrite_clients). Unqualified addresses get
 * {@code @$myorigin}, as Postfix's trivial-rewrite appends it. -t takes the recipients of
 * the To:, Cc: and Bcc: headers (Resent-To:, Resent-Cc:, Resent-Bcc: when the message
 * has Resent- headers) in addition to those of the command line; Bcc: headers are removed
 * from the message. -F adds {@code From: full_name <sender>} when the message has no
 * From:. -N, -R and -V become the DSN parameters NOTIFY, RET and ENVID; -B 8BITMIME (or a
 * message with 8-bit bytes) is sent with BODY=8BITMIME.
 *
 * <p>Nothing is sent unless every recipient is accepted: a refused recipient ends the
 * transaction (RSET), and the command fails with the server's reply, so that a caller
 * may correct it and send again without duplicates. Exit statuses: 0; 64 (usage); 65 a
 * refused message; 67 a refused recipient; 69 -bp/-q without a server; 75 a temporary
 * failure (the server cannot be reached or answered 4XX: try again later). Postfix's
 * other options (-o..., -v, -L, -C) are accepted and ignored; -bs and -bv are not
 * offered.
 */
public final class Sendmail {
    static final int EX_DATAERR = 65;
    static final int EX_NOUSER = 67;
    static final int EX_TEMPFAIL = 75;
    static final String USAGE = "usage: sendmail [-i] [-t] [-f sender] [-F full_name] [-N dsn] [-R ret] [-V envid]"
            + " [-B body] [--] [recipient ...] | sendmail -bp | sendmail -q | sendmail -qRsite";

    private Sendmail() {
    }

    public static void main(String[] args) {
        Server.run("sendmail", () -> run(args));
    }

    static int run(String[] args) {
        Server.quiet(java.util.logging.Level.OFF);
        String sender = null;
        String fullName = null;
        String notify = null;
        String ret = null;
        String envid = null;
        String body = null;
        boolean dotEnds = true;
        boolean extract = false;
        List<String> recipients = new ArrayList<>();
        Path dir = ConfigLocator.configDir();
        int i = 0;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.length() == 1) {
                break;
            }
            if (a.equals("-bp") || a.equals("-bq")) {
                return Postqueue.run(new String[] {"-p"}, System.out);
            }
            if (a.equals("-q") || a.startsWith("-q") && a.length() > 2 && Character.isDigit(a.charAt(2))) {
                // -q or -q30m (a queue run interval, which Postfix ignores too): flush now
                return Postqueue.run(new String[] {"-f"}, System.out);
            }
            if (a.startsWith("-qR")) {
                String site = a.length() > 3 ? a.substring(3) : next(args, ++i);
                return Postqueue.run(new String[] {"-s", site}, System.out);
            }
            if (a.startsWith("-q")) {
                throw new Server.Fatal(Server.EX_USAGE, "unsupported: " + a + " (" + USAGE + ")");
            }
            if (a.equals("-bm")) {
                continue;
            }
            if (a.startsWith("-b")) {
                throw new Server.Fatal(Server.EX_USAGE, "unsupported: " + a + " (" + USAGE + ")");
            }
            if (a.equals("-i") || a.equals("-oi")) {
                dotEnds = false;
                continue;
            }
            if (a.equals("-t")) {
                extract = true;
                continue;
            }
            char c = a.charAt(1);
            if ("fFrNRVBCL".indexOf(c) >= 0) {
                String value = a.length() > 2 ? a.substring(2) : next(args, ++i);
                switch (c) {
                    case 'f': case 'r': sender = value; break;
                    case 'F': fullName = value; break;
                    case 'N': notify = value.toUpperCase(Locale.ROOT); break;
                    case 'R': ret = value.toUpperCase(Locale.ROOT); break;
                    case 'V': envid = value; break;
                    case 'B': body = value.toUpperCase(Locale.ROOT); break;
                    case 'C': dir = configDir(Path.of(value)); break;
                    default: break;
                }
                continue;
            }
            // -v, -o..., -n, -m, -U and the like: accepted, as Postfix accepts them
        }
        for (; i < args.length; i++) {
            recipients.add(args[i]);
        }
        if (!extract && recipients.isEmpty()) {
            throw new Server.Fatal(Server.EX_USAGE, "Recipient addresses must be specified on the command line or via"
                    + " the -t option");
        }
        Config config;
        try {
            config = Config.load(dir);
        } catch (ConfigException e) {
            throw new Server.Fatal(EX_TEMPFAIL, e.getMessage());
        }
        String origin = config.get(Parameters.MYORIGIN);
        byte[] message = read(System.in, dotEnds);
        Message m = Message.parse(message);
        if (extract) {
            recipients.addAll(m.recipients());
        }
        if (sender == null) {
            sender = System.getProperty("user.name");
        }
        sender = qualify(sender, origin);
        Set<String> rcpts = new LinkedHashSet<>();
        for (String r : recipients) {
            for (String one : Message.addresses(r)) {
                rcpts.add(qualify(one, origin));
            }
        }
        if (rcpts.isEmpty()) {
            throw new Server.Fatal(Server.EX_USAGE, "No recipient addresses found in message header");
        }
        if (fullName != null && !m.has("From")) {
            m.prepend("From: " + Message.phrase(fullName) + " <" + sender + ">");
        }
        m.remove("Bcc");
        m.remove("Resent-Bcc");
        return submit(smtpd(dir, config), config.get(Parameters.MYHOSTNAME), sender, rcpts, m.bytes(), notify, ret,
                envid, body);
    }

    private static Path configDir(Path file) {
        // -C names a configuration file (Sendmail) or directory (Postfix): either way its directory
        Path parent = file.toAbsolutePath().getParent();
        return file.toFile().isDirectory() || parent == null ? file : parent;
    }

    private static String next(String[] args, int i) {
        if (i >= args.length) {
            throw new Server.Fatal(Server.EX_USAGE, USAGE);
        }
        return args[i];
    }

    /** qualify - an address without a domain gets @myorigin; the null sender stays empty. */
    static String qualify(String address, String origin) {
        String a = address.strip();
        if (a.startsWith("<") && a.endsWith(">")) {
            a = a.substring(1, a.length() - 1);
        }
        if (a.isEmpty() || a.contains("@")) {
            return a;
        }
        return a + "@" + origin;
    }

    /** read - standard input, lines ending in CRLF; without -i a "." line ends it. */
    static byte[] read(InputStream in, boolean dotEnds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (InputStream b = new BufferedInputStream(in)) {
            int c;
            boolean eof = false;
            while (!eof) {
                line.reset();
                while ((c = b.read()) != -1 && c != '\n') {
                    line.write(c);
                }
                eof = c == -1;
                byte[] l = line.toByteArray();
                int n = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
                if (eof && n == 0) {
                    break;
                }
                if (dotEnds && n == 1 && l[0] == '.') {
                    break;
                }
                out.write(l, 0, n);
                out.write('\r');
                out.write('\n');
            }
        } catch (IOException e) {
            throw new Server.Fatal(74, "read standard input: " + e.getMessage());
        }
        return out.toByteArray();
    }

    /** smtpd - host and port of the server's smtpd for local submission. */
    static InetSocketAddress smtpd(Path dir, Config config) {
        List<MasterService> services;
        try {
            services = MasterCf.smtpdServices(MasterCf.load(dir));
        } catch (ConfigException | IllegalArgumentException e) {
            throw new Server.Fatal(EX_TEMPFAIL, e.getMessage());
        }
        for (MasterService s : services) {
            Config c = s.settings(config);
            String host = s.bindHost().orElse("127.0.0.1");
            boolean local = host.equals("127.0.0.1") || host.equals("::1") || host.equals("localhost")
                    || !s.bindHost().isPresent() || host.equals("0.0.0.0") || host.equals("::");
            if (local && !c.get(Parameters.SMTPD_TLS_WRAPPERMODE)
                    && !"encrypt".equalsIgnoreCase(c.get(Parameters.SMTPD_TLS_SECURITY_LEVEL).trim())) {
                return new InetSocketAddress(host.equals("0.0.0.0") ? "127.0.0.1" : host.equals("::") ? "::1"
                        : host.equals("localhost") ? "127.0.0.1" : host, s.port());
            }
        }
        throw new Server.Fatal(EX_TEMPFAIL, dir.resolve("master.cf") + " has no smtpd service on loopback without"
                + " TLS for local submission");
    }

    /** submit - one SMTP transaction; the exit status. */
    static int submit(InetSocketAddress smtpd, String helo, String sender, Set<String> rcpts, byte[] message,
                      String notify, String ret, String envid, String body) {
        try (Socket s = new Socket()) {
            s.connect(smtpd, 10_000);
            s.setSoTimeout(300_000);
            Smtp smtp = new Smtp(s);
            smtp.expect(smtp.reply(), "greeting");
            smtp.send("EHLO " + helo);
            String ehlo = smtp.expect(smtp.reply(), "EHLO");
            Set<String> ext = new LinkedHashSet<>();
            for (String l : ehlo.split("\n")) {
                if (l.length() > 4) {
                    ext.add(l.substring(4).split(" ")[0].toUpperCase(Locale.ROOT));
                }
            }
            boolean eight = body != null && body.equals("8BITMIME");
            for (byte b : message) {
                eight |= b < 0;
            }
            StringBuilder mail = new StringBuilder("MAIL FROM:<" + sender + ">");
            if (eight && ext.contains("8BITMIME")) {
                mail.append(" BODY=8BITMIME");
            }
            if (ext.contains("DSN")) {
                if (ret != null) {
                    mail.append(" RET=").append(ret);
                }
                if (envid != null) {
                    mail.append(" ENVID=").append(org.postern.mail.Xtext.encode(envid));
                }
            }
            if (!ascii(sender) || rcpts.stream().anyMatch(r -> !ascii(r))) {
                mail.append(" SMTPUTF8");
            }
            smtp.send(mail.toString());
            smtp.expect(smtp.reply(), "MAIL FROM");
            for (String r : rcpts) {
                smtp.send("RCPT TO:<" + r + ">" + (notify != null && ext.contains("DSN") ? " NOTIFY=" + notify : ""));
                String reply = smtp.reply();
                if (!reply.startsWith("2")) {
                    smtp.send("RSET");
                    smtp.reply();
                    smtp.send("QUIT");
                    throw new Server.Fatal(reply.startsWith("4") ? EX_TEMPFAIL : EX_NOUSER, "<" + r + ">: " + last(reply)
                            + " (nothing was sent)");
                }
            }
            smtp.send("DATA");
            smtp.expect(smtp.reply(), "DATA", "3");
            smtp.data(message);
            smtp.expect(smtp.reply(), "end of data");
            smtp.send("QUIT");
            smtp.reply();
            return 0;
        } catch (IOException e) {
            throw new Server.Fatal(EX_TEMPFAIL, "cannot submit to Postern's smtpd at " + smtpd.getHostString() + ":"
                    + smtpd.getPort() + ": " + e.getMessage() + " (nothing was sent; is the server running?)");
        }
    }

    private static boolean ascii(String s) {
        return s.chars().allMatch(c -> c < 128);
    }

    private static String last(String reply) {
        String[] lines = reply.split("\n");
        return lines[lines.length - 1];
    }

    /** Smtp - the client side of one SMTP session, line by line. */
    static final class Smtp {
        private final InputStream in;
        private final OutputStream out;

        Smtp(Socket s) throws IOException {
            this.in = new BufferedInputStream(s.getInputStream());
            this.out = s.getOutputStream();
        }

        void send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** reply - a whole reply, its lines joined with "\n". */
        String reply() throws IOException {
            StringBuilder all = new StringBuilder();
            while (true) {
                ByteArrayOutputStream l = new ByteArrayOutputStream();
                int c;
                while ((c = in.read()) != -1 && c != '\n') {
                    if (c != '\r') {
                        l.write(c);
                    }
                }
                String line = l.toString(StandardCharsets.UTF_8);
                if (c == -1 && line.isEmpty()) {
                    throw new IOException("the server closed the connection" + (all.length() > 0 ? " after: " + all : ""));
                }
                if (all.length() > 0) {
                    all.append('\n');
                }
                all.append(line);
                if (line.length() < 4 || line.charAt(3) != '-') {
                    return all.toString();
                }
            }
        }

        /** expect - the reply when it is a success (2XX, or the given class), else Fatal. */
        String expect(String reply, String what, String... klass) {
            String want = klass.length > 0 ? klass[0] : "2";
            if (reply.startsWith(want)) {
                return reply;
            }
            try {
                send("QUIT");
            } catch (IOException e) {
                // the reply below says what went wrong
            }
            throw new Server.Fatal(reply.startsWith("4") ? EX_TEMPFAIL : EX_DATAERR, what + ": " + last(reply)
                    + " (nothing was sent)");
        }

        /** data - the message (CRLF lines), dot-stuffed, and the final dot. */
        void data(byte[] message) throws IOException {
            OutputStream o = new java.io.BufferedOutputStream(out, 65536);
            boolean lineStart = true;
            for (byte b : message) {
                if (lineStart && b == '.') {
                    o.write('.');
                }
                o.write(b);
                lineStart = b == '\n';
            }
            if (!lineStart) {
                o.write('\r');
                o.write('\n');
            }
            o.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
            o.flush();
        }
    }
}
