package org.postern.queue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.postern.smtpd.api.Envelope;

/** TestMessages - envelopes and contents for the queue tests. */
public final class TestMessages {
    /** a time with milliseconds, which every database keeps exactly */
    public static final Instant T0 = Instant.parse("2025-03-14T09:26:53.589Z");

    private TestMessages() {
    }

    /** envelope - a message from sender@example.org to the recipients, with ENVID, RET and BODY. */
    public static Envelope envelope(String queueId, Instant arrival, Envelope.Recipient... recipients) {
        return new Envelope(queueId, "sender@example.org",
                Map.of("ENVID", "env-1", "RET", "HDRS", "BODY", "8BITMIME", "SIZE", "1000"),
                List.of(recipients), "client.example.net", "192.0.2.10", 49152, "client.example.net",
                "ESMTP", "smtpd", arrival, 0);
    }

    /** rcpt - a recipient without DSN parameters. */
    public static Envelope.Recipient rcpt(String address) {
        return new Envelope.Recipient(address, null, null);
    }

    /**
     * content - exactly size bytes: a header with a Message-ID (when it fits), then every
     * byte value in a random order, CR, LF and NUL among them, so a lost or changed byte shows.
     */
    public static byte[] content(int size, long seed) {
        byte[] head = ("Message-ID: <" + seed + "@example.org>\r\nSubject: test\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        System.arraycopy(head, 0, data, 0, Math.min(head.length, size));
        return data;
    }

    /** concat - the pieces one after the other. */
    public static byte[] concat(List<byte[]> pieces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pieces.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /**
     * FailingStream - serves the data up to failAt, then throws IOException, as a client
     * connection that drops in the middle of DATA.
     */
    public static final class FailingStream extends InputStream {
        private final byte[] data;
        private final int failAt;
        private int pos;

        public FailingStream(byte[] data, int failAt) {
            this.data = data;
            this.failAt = failAt;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos >= failAt) {
                throw new IOException("connection reset by peer");
            }
            int n = Math.min(len, failAt - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }

        /** served - how many bytes were read before the failure. */
        public int served() {
            return pos;
        }
    }

    /** UnreadableStream - content that must not be read at all. */
    public static final class UnreadableStream extends InputStream {
        private boolean touched;

        @Override
        public int read() {
            touched = true;
            throw new UncheckedIOException(new IOException("content read although the store was refused"));
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return read();
        }

        public boolean touched() {
            return touched;
        }
    }
}
