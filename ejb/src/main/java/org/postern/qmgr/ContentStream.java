package org.postern.qmgr;

import java.io.IOException;
import java.io.InputStream;

/**
 * ContentStream - the stored content of a message, read chunk by chunk from the queue,
 * so that a delivery holds one chunk in memory whatever the message size.
 */
final class ContentStream extends InputStream {
    private final QueueStore store;
    private final String queueId;
    private final int chunks;
    private int next;
    private byte[] current = new byte[0];
    private int pos;

    ContentStream(QueueStore store, String queueId, int chunks) {
        this.store = store;
        this.queueId = queueId;
        this.chunks = chunks;
    }

    /**
     * fill - the next chunk when the current one is used up. A chunk that cannot be read is
     * an IOException, which the SMTP client treats as a failed transmission (it aborts the
     * session instead of ending DATA), never a half-sent message that looks complete.
     */
    private boolean fill() throws IOException {
        while (pos >= current.length) {
            if (next >= chunks) {
                return false;
            }
            try {
                current = store.chunk(queueId, next++);
            } catch (RuntimeException e) {
                throw new IOException(queueId + ": cannot read content chunk " + (next - 1) + ": " + e.getMessage(), e);
            }
            pos = 0;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        return fill() ? current[pos++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }
}
