package dev.mmureplay.replayer.parse;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * One trace input: a file, a gzip file (detected by its magic bytes 1f 8b, whatever its name), or standard input
 * ("-"). Counts the raw bytes consumed for progress reporting. A gzip stream that ends early or is corrupt ends the
 * input where the damage starts instead of failing it; {@link #damage()} says what happened.
 */
public final class TraceInput implements Closeable {

    /** The name that means standard input. */
    public static final String STDIN = "-";

    private final String name;
    private final long totalBytes;
    private final CountingStream counting;
    private final InputStream stream;
    private final boolean gzip;
    private final boolean closeUnderlying;
    private String damage;

    private TraceInput(String name, InputStream raw, long totalBytes, boolean closeUnderlying) throws IOException {
        this.name = name;
        this.totalBytes = totalBytes;
        this.closeUnderlying = closeUnderlying;
        this.counting = new CountingStream(raw);
        BufferedInputStream buffered = new BufferedInputStream(counting, 64 << 10);
        buffered.mark(2);
        int b0 = buffered.read();
        int b1 = b0 < 0 ? -1 : buffered.read();
        buffered.reset();
        this.gzip = b0 == 0x1f && b1 == 0x8b;
        InputStream s = buffered;
        if (gzip) {
            try {
                s = new DamageTolerant(new GZIPInputStream(buffered, 64 << 10));
            } catch (EOFException | ZipException e) {
                damage = "gzip header is damaged (" + e.getMessage() + ")";
                s = InputStream.nullInputStream();
            }
        }
        this.stream = s;
    }

    /** Opens a path, or standard input for "-". */
    public static TraceInput open(String nameOrDash) throws IOException {
        if (STDIN.equals(nameOrDash)) {
            return new TraceInput(STDIN, System.in, -1, false);
        }
        Path p = Path.of(nameOrDash);
        if (!Files.isRegularFile(p) && !Files.exists(p)) {
            throw new NoSuchFileException(nameOrDash);
        }
        long size = Files.isRegularFile(p) ? Files.size(p) : -1;
        return new TraceInput(nameOrDash, Files.newInputStream(p), size, true);
    }

    /** Wraps a stream (tests, embedding); gzip is still detected. */
    public static TraceInput of(String name, InputStream in, long totalBytes) throws IOException {
        return new TraceInput(name, in, totalBytes, true);
    }

    /** The name as given ("-" for standard input). */
    public String name() {
        return name;
    }

    /** The decompressed bytes. */
    public InputStream stream() {
        return stream;
    }

    /** Raw (compressed, for .gz) bytes consumed so far. */
    public long bytesRead() {
        return counting.count;
    }

    /** Size of the raw input, or -1 when unknown (standard input, pipes). */
    public long totalBytes() {
        return totalBytes;
    }

    public boolean gzip() {
        return gzip;
    }

    /** Why the input ended early (corrupt or truncated gzip), or null. */
    public String damage() {
        return damage;
    }

    @Override
    public void close() throws IOException {
        if (closeUnderlying) {
            try {
                stream.close();
            } finally {
                counting.close();
            }
        }
    }

    private static final class CountingStream extends FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            if (c >= 0) {
                count++;
            }
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    /** Turns "Unexpected end of ZLIB input stream" and corrupt-data errors into the end of the input. */
    private final class DamageTolerant extends FilterInputStream {
        DamageTolerant(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (damage != null) {
                return -1;
            }
            try {
                return super.read(b, off, len);
            } catch (EOFException | ZipException e) {
                damage = "gzip data " + (e instanceof EOFException ? "ends early" : "is corrupt") + " after "
                        + counting.count + " compressed bytes (" + e.getMessage() + ")";
                return -1;
            }
        }
    }
}
