package org.postern.qmgr;

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

    private boolean fill() {
        while (pos >= current.length) {
            if (next >= chunks) {
                return false;
            }
            current = store.chunk(queueId, next++);
            pos = 0;
        }
        return true;
    }

    @Override
    public int read() {
        return fill() ? current[pos++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
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
