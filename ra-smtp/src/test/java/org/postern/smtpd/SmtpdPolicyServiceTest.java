package org.postern.smtpd;

import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** check_policy_service (Postfix SMTPD_POLICY_README) as conversations, against a policy server on loopback. */
class SmtpdPolicyServiceTest extends SessionConversation {
    private ServerSocket server;
    private final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();

    /** policyServer - answers each request with the action the function gives (null: never answer). */
    private int policyServer(Function<Map<String, String>, String> answer) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s, answer));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        return server.getLocalPort();
    }

    private void serve(Socket s, Function<Map<String, String>, String> answer) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            Map<String, String> attrs = new LinkedHashMap<>();
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.isEmpty()) {
                    int eq = line.indexOf('=');
                    attrs.put(line.substring(0, eq), line.substring(eq + 1));
                    continue;
                }
                requests.add(Map.copyOf(attrs));
                String action = answer.apply(attrs);
                attrs.clear();
                if (action == null) {
                    continue; // a server that does not answer
                }
                out.write(("action=" + action + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    @AfterEach
    void stopServer() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** sendWait - send a command and wait (the policy server answers on another thread) for n replies. */
    private void sendWait(String command, int n) throws InterruptedException {
        send(command);
        waitFor(n);
    }

    private void waitFor(int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (replies.size() < n && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(20);
    }

    private static String byRecipient(Map<String, String> a) {
        String r = a.getOrDefault("recipient", "");
        if (r.startsWith("bad@")) {
            return "REJECT go away";
        }
        if (r.startsWith("grey@")) {
            return "DEFER_IF_PERMIT greylisted";
        }
        if (r.startsWith("num@")) {
            return "451 4.7.1 try later";
        }
        if (r.startsWith("ok@")) {
            return "OK";
        }
        if (r.startsWith("defer@")) {
            return "DEFER";
        }
        return "DUNNO";
    }

    @Test
    void actionsAreAccessMapResultsAndOneConnectionServesEveryRequest() throws Exception {
        int port = policyServer(SmtpdPolicyServiceTest::byRecipient);
        open(settings("smtpd_relay_restrictions = check_policy_service inet:127.0.0.1:" + port
                + ", permit_mynetworks, reject_unauth_destination"), OUTSIDE);
        ehloMail("a@example.com");
        sendWait("RCPT TO:<x@mx.example.org>", 1);
        expect("250 2.1.5 Ok");
        sendWait("RCPT TO:<bad@mx.example.org>", 1);
        expect("554 5.7.1 <bad@mx.example.org>: Recipient address rejected: go away");
        expectQueueLog("reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <bad@mx.example.org>: Recipient address "
                + "rejected: go away; from=<a@example.com> to=<bad@mx.example.org> proto=ESMTP helo=<client.example>");
        sendWait("RCPT TO:<grey@mx.example.org>", 1);
        expect("450 4.7.1 <grey@mx.example.org>: Recipient address rejected: greylisted");
        sendWait("RCPT TO:<num@mx.example.org>", 1);
        expect("451 4.7.1 <num@mx.example.org>: Recipient address rejected: try later");
        sendWait("RCPT TO:<defer@mx.example.org>", 1);
        expect("450 4.7.1 <defer@mx.example.org>: Recipient address rejected: Access denied");
        // OK ends the list: the relay check after it is not reached
        sendWait("RCPT TO:<ok@elsewhere.example>", 1);
        expect("250 2.1.5 Ok");
        // DEFER_IF_PERMIT does not defer what a later restriction rejects
        sendWait("RCPT TO:<grey@elsewhere.example>", 1);
        expect("554 5.7.1 <grey@elsewhere.example>: Relay access denied");
        assertEquals(7, requests.size());
        assertEquals(1, connections.get(), "one connection for every request");
        Map<String, String> first = requests.get(0);
        assertEquals("smtpd_access_policy", first.get("request"));
        assertEquals("RCPT", first.get("protocol_state"));
        assertEquals("ESMTP", first.get("protocol_name"));
        assertEquals("client.example", first.get("helo_name"));
        assertEquals("a@example.com", first.get("sender"));
        assertEquals("x@mx.example.org", first.get("recipient"));
        assertEquals("0", first.get("recipient_count"));
        assertEquals("", first.get("queue_id"));
        assertEquals("192.0.2.1", first.get("client_address"));
        assertEquals("unknown", first.get("client_name"));
        assertEquals("unknown", first.get("reverse_client_name"));
        assertEquals("40000", first.get("client_port"));
        assertTrue(first.containsKey("instance") && !first.get("instance").isEmpty(), first::toString);
        Map<String, String> second = requests.get(1);
        assertEquals("1", second.get("recipient_count"));
        assertTrue(QueueIds.isValid(second.get("queue_id")), second::toString);
        assertEquals(first.get("instance"), second.get("instance"), "one instance per transaction");
        // the session goes on normally after the waits
        sendWait("DATA", 1);
        expect("354 End data with <CR><LF>.<CR><LF>");
        raw("Subject: x\r\n\r\nbody\r\n.\r\n");
        assertTrue(replies.get(0).startsWith("250 2.0.0 Ok: queued as "), replies::toString);
        assertEquals(List.of(new Envelope.Recipient("x@mx.example.org", null, null),
                new Envelope.Recipient("ok@elsewhere.example", null, null)), envelopes.get(0).recipients());
    }

    @Test
    void aServerThatDoesNotAnswerGetsTheDefaultAction() throws Exception {
        int port = policyServer(a -> null);
        open(settings("smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:" + port
                + ", timeout=1s, try_limit=1 }"), OUTSIDE);
        ehloMail("a@example.com");
        long start = System.currentTimeMillis();
        sendWait("RCPT TO:<x@mx.example.org>", 1);
        expect("451 4.3.5 <x@mx.example.org>: Recipient address rejected: Server configuration problem");
        assertTrue(System.currentTimeMillis() - start < 5000);
        expectLog("warning: problem talking to server inet:127.0.0.1:" + port + ": read timeout after 1s");
        // default_action per service
        replies.clear();
        open(settings("smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:" + port
                + ", timeout=1s, try_limit=2, retry_delay=0s, default_action=DUNNO }"), OUTSIDE);
        ehloMail("a@example.com");
        sendWait("RCPT TO:<x@mx.example.org>", 1);
        expect("250 2.1.5 Ok");
    }

    @Test
    void aServerThatIsNotThereGetsTheDefaultActionAfterTheTries() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        open(settings("smtpd_policy_service_retry_delay = 0s",
                "smtpd_policy_service_default_action = DEFER_IF_PERMIT Policy service unavailable",
                "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:" + port), OUTSIDE);
        ehloMail("a@example.com");
        sendWait("RCPT TO:<x@mx.example.org>", 1);
        expect("450 4.7.1 <x@mx.example.org>: Recipient address rejected: Policy service unavailable");
        assertEquals(2, maillog.stream().filter(l -> l.startsWith("warning: problem talking to server inet:127.0.0.1:"
                + port)).count(), maillog::toString);
    }

    @Test
    void endOfDataAndClientStagesAskToo() throws Exception {
        int port = policyServer(a -> a.get("protocol_state").equals("END-OF-MESSAGE") && !a.get("size").equals("0")
                ? "554 5.7.0 content refused" : a.get("protocol_state").equals("CONNECT") ? "WARN noted" : "DUNNO");
        connect(settings("smtpd_delay_reject = no",
                "smtpd_client_restrictions = check_policy_service inet:127.0.0.1:" + port,
                "smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:" + port), OUTSIDE);
        // with smtpd_delay_reject = no the greeting waits for the client check
        waitFor(1);
        expect("220 mx.example.org ESMTP Postern");
        expectLog("NOQUEUE: warn: CONNECT from unknown[192.0.2.1]: <unknown[192.0.2.1]>: Client host noted; "
                + "proto=SMTP");
        ehloMail("a@example.com");
        send("RCPT TO:<x@mx.example.org>");
        send("DATA");
        expect("250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>");
        raw("Subject: x\r\n\r\nbody\r\n.\r\nNOOP\r\n");
        waitFor(2);
        expect("554 5.7.0 <END-OF-MESSAGE>: End-of-data rejected: content refused", "250 2.0.0 Ok");
        assertEquals(0, envelopes.size());
        assertEquals(List.of("CONNECT", "END-OF-MESSAGE"), requests.stream().map(r -> r.get("protocol_state")).toList());
    }

    @Test
    void unixDomainSocketServer(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path path = dir.resolve("policy");
        try (java.nio.channels.ServerSocketChannel unix = java.nio.channels.ServerSocketChannel.open(
                java.net.StandardProtocolFamily.UNIX)) {
            unix.bind(java.net.UnixDomainSocketAddress.of(path));
            // a plain blocking exchange: read a request, answer REJECT, twice on one connection
            Thread server = new Thread(() -> {
                try (java.nio.channels.SocketChannel c = unix.accept()) {
                    connections.incrementAndGet();
                    BufferedReader in = new BufferedReader(new InputStreamReader(
                            java.nio.channels.Channels.newInputStream(c), StandardCharsets.UTF_8));
                    OutputStream out = java.nio.channels.Channels.newOutputStream(c);
                    Map<String, String> attrs = new LinkedHashMap<>();
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (!line.isEmpty()) {
                            attrs.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
                            continue;
                        }
                        requests.add(Map.copyOf(attrs));
                        out.write(("action=" + byRecipient(attrs) + "\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        attrs.clear();
                    }
                } catch (IOException e) {
                    // the client went away
                }
            });
            server.setDaemon(true);
            server.start();
            // written as in a Postfix main.cf: unix:private/policy, relative to queue_directory
            open(settings("queue_directory = " + path.getParent().getParent(),
                    "smtpd_recipient_restrictions = check_policy_service unix:" + path.getParent().getFileName() + "/"
                            + path.getFileName()), OUTSIDE);
            ehloMail("a@example.com");
            sendWait("RCPT TO:<bad@mx.example.org>", 1);
            expect("554 5.7.1 <bad@mx.example.org>: Recipient address rejected: go away");
            sendWait("RCPT TO:<x@mx.example.org>", 1);
            expect("250 2.1.5 Ok");
            assertEquals(2, requests.size());
            assertEquals(1, connections.get());
        }
    }
}
