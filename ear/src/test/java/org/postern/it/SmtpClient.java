package org.postern.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** SmtpClient - a test client that speaks to Postern as a conversation: send, expect. */
final class SmtpClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    SmtpClient(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(60_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
    }

    /** reply - the next complete reply, lines joined with \n. */
    String reply() throws IOException {
        StringBuilder sb = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            sb.append(sb.length() == 0 ? "" : "\n").append(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                break;
            }
        }
        return sb.toString();
    }

    void send(String line) throws IOException {
        write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * message - one message in a session of its own (EHLO, MAIL, RCPT, DATA, QUIT), with
     * "Message-ID: &lt;id@test&gt;" and a body of {@code bodySize} bytes; the reply to its
     * final dot.
     */
    static String message(String host, int port, String id, int bodySize) throws IOException {
        return message(host, port, id, bodySize, "sink@remote.test");
    }

    /** message - the same to the recipient {@code rcpt}. */
    static String message(String host, int port, String id, int bodySize, String rcpt) throws IOException {
        try (SmtpClient c = new SmtpClient(host, port)) {
            c.reply();
            c.send("EHLO client.test");
            c.reply();
            c.send("MAIL FROM:<load@client.test>");
            c.reply();
            c.send("RCPT TO:<" + rcpt + ">");
            c.reply();
            c.send("DATA");
            c.reply();
            c.write(("Message-ID: <" + id + "@test>\r\nSubject: " + id + "\r\n\r\n"
                    + "x".repeat(bodySize) + "\r\n.\r\n").getBytes(StandardCharsets.US_ASCII));
            String reply = c.reply();
            try {
                c.send("QUIT");
            } catch (IOException e) {
                // the reply counts, whatever becomes of the session after it
            }
            return reply;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
