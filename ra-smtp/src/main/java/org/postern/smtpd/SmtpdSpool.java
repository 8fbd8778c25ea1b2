package org.postern.smtpd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * SmtpdSpool - the content of one message while it is received: in memory, and in a
 * spool file once it grows past smtpd_spool_memory_limit.
 *
 * <h2>DESCRIPTION</h2>
 * Ordinary mail never touches the file system on the event loop: the content goes into a
 * byte array that starts small ({@value #INITIAL} bytes) and doubles as needed, never
 * past the memory limit, so that a short message costs a few kilobytes and no zeroed
 * large buffer. The first write that would pass the limit creates
 * {@code <spool directory>/<queue id>.spool} (CREATE_NEW), copies what is in memory
 * there, drops the array and goes on in the file. {@link #content} gives the listener a
 * ByteArrayInputStream over the array (no copy) or a buffered stream of the file.
 * {@link #delete} drops the array and removes the file; the owner calls it in every case.
 *
 * <h2>SECURITY</h2>
 * The memory a message can take is bounded by the limit, and the session stops writing
 * at message_size_limit; a client cannot make smtpd hold more than
 * min(message_size_limit, smtpd_spool_memory_limit) bytes per connection in DATA.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * smtpd_spool_memory_limit (Postern; 0: every message goes to a file, as before).
 *
 * <h2>BUGS</h2>
 * A message past the limit is written to its file on the calling thread (the event
 * loop), buffered and not synced; so are the copy of the first bytes and the file's
 * creation. Not thread-safe: one session uses it, the listener reads it after the
 * session has stopped writing.
 */
final class SmtpdSpool {
    /** The first array: a short message without headers added fits, and growth is by doubling. */
    static final int INITIAL = 8192;
    /** Arrays beyond this are not allocated (the JVM's practical array limit, with headroom). */
    static final long MAX_MEMORY = Integer.MAX_VALUE - 64;

    private final Path directory;
    private final String name;
    private final int memoryLimit;
    private byte[] buf;
    private int count;
    private Path file;
    private OutputStream out;

    /**
     * @param directory   where the file goes when the content passes memoryLimit
     * @param queueId     names the file: {@code queueId.spool}
     * @param memoryLimit bytes kept in memory at most; 0 for a file from the start
     */
    SmtpdSpool(Path directory, String queueId, long memoryLimit) throws IOException {
        this.directory = directory;
        this.name = queueId + ".spool";
        this.memoryLimit = (int) Math.max(0, Math.min(memoryLimit, MAX_MEMORY));
        if (this.memoryLimit == 0) {
            spill();
        } else {
            buf = new byte[Math.min(INITIAL, this.memoryLimit)];
        }
    }

    /** write - append len bytes; past the memory limit the content moves to the file. */
    void write(byte[] bytes, int off, int len) throws IOException {
        if (out == null && (long) count + len > memoryLimit) {
            spill();
        }
        if (out != null) {
            out.write(bytes, off, len);
            return;
        }
        if (count + len > buf.length) {
            // double, at least what is needed, at most the limit
            int size = (int) Math.min(memoryLimit, Math.max((long) count + len, 2L * buf.length));
            buf = Arrays.copyOf(buf, size);
        }
        System.arraycopy(bytes, off, buf, count, len);
        count += len;
    }

    /** spill - create the spool file and move the content written so far into it. */
    private void spill() throws IOException {
        Files.createDirectories(directory);
        file = directory.resolve(name);
        out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), 65536);
        if (count > 0) {
            out.write(buf, 0, count);
        }
        buf = null;
        count = 0;
    }

    /** close - the content is complete: flush and close the file, if any. */
    void close() throws IOException {
        if (out != null) {
            OutputStream o = out;
            out = null;
            o.close();
        }
    }

    /** content - the content for the listener: the array as is, or the file. */
    InputStream content() throws IOException {
        if (file != null) {
            return new BufferedInputStream(Files.newInputStream(file), 65536);
        }
        return new ByteArrayInputStream(buf == null ? new byte[0] : buf, 0, count);
    }

    /** inMemory - true while the content has not gone to a file. */
    boolean inMemory() {
        return file == null;
    }

    /** where - for log lines: the file, or "memory". */
    String where() {
        return file != null ? file.toString() : "memory";
    }

    /** delete - drop the content: the array, and the file (closed first). */
    void delete() throws IOException {
        buf = null;
        count = 0;
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                // the file goes anyway
            }
            out = null;
        }
        if (file != null) {
            Path f = file;
            file = null;
            Files.deleteIfExists(f);
        }
    }
}
