package dev.mmureplay.replayer.parse;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Streams lines out of an InputStream as byte slices of one reused buffer, with 1-based line numbers and the byte
 * offset of each line's start. Strips "\n" and "\r\n"; a final line without a newline (a file cut mid-line) is
 * still returned ({@link #endedWithNewline()} false); an empty input has no lines; any bytes (NUL, binary garbage)
 * pass through untouched.
 *
 * <p>Memory stays flat: the buffer never grows beyond {@code maxLineBytes} plus one read chunk. A longer line is
 * returned {@linkplain #truncated() truncated} to its first maxLineBytes bytes, the rest of it skipped while
 * counting, so {@link #fullLength()} tells its real length.
 *
 * <pre>
 *   while (r.next()) { use(r.array(), r.start(), r.length(), r.lineNumber()); }
 * </pre>
 */
public final class LineReader implements Closeable {

    /** Default cap of bytes held for one line: 4 MiB. */
    public static final int DEFAULT_MAX_LINE_BYTES = 4 << 20;

    /** Largest accepted cap: 1 GiB. */
    public static final int MAX_LINE_BYTES_LIMIT = 1 << 30;

    private static final int CHUNK = 64 << 10;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0a0a0a0a0a0a0a0aL;
    private static final int INITIAL = 256 << 10;

    private final InputStream in;
    private final int maxLineBytes;
    private byte[] buf;
    private int pos;        // start of unconsumed bytes
    private int limit;      // end of valid bytes
    private int scanned;    // bytes from pos already known to hold no '\n'
    private boolean eof;
    private long consumed;  // stream offset of buf[pos]

    private byte[] lineArray;
    private int lineStart;
    private int lineLength;
    private long lineNumber;
    private long lineOffset;
    private boolean truncated;
    private long fullLength;
    private boolean newline;
    private byte[] overflow;

    public LineReader(InputStream in) {
        this(in, DEFAULT_MAX_LINE_BYTES);
    }

    public LineReader(InputStream in, int maxLineBytes) {
        if (maxLineBytes < 1 || maxLineBytes > MAX_LINE_BYTES_LIMIT) {
            throw new IllegalArgumentException("maxLineBytes must be in 1.." + MAX_LINE_BYTES_LIMIT + ": " + maxLineBytes);
        }
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.buf = new byte[Math.min(INITIAL, maxLineBytes + 2 + CHUNK)];
    }

    /** Advances to the next line; false at the end of the input. */
    public boolean next() throws IOException {
        while (true) {
            int nl = indexOfNewline();
            if (nl >= 0) {
                emit(pos, nl - pos, true);
                consume(nl + 1 - pos);
                return true;
            }
            int held = limit - pos;
            if (held >= maxLineBytes + 2) {
                longLine();
                return true;
            }
            if (eof) {
                if (held == 0) {
                    lineArray = buf;
                    lineLength = 0;
                    return false;
                }
                emit(pos, held, false);
                consume(held);
                return true;
            }
            fill();
        }
    }

    /** SWAR search: eight bytes at a time, the classic has-zero-byte test on (word ^ 0x0a0a...). */
    private int indexOfNewline() {
        byte[] b = buf;
        int i = pos + scanned;
        int n = limit;
        for (; i + 8 <= n; i += 8) {
            long w = (long) LONGS.get(b, i) ^ NEWLINES;
            long t = (w - 0x0101010101010101L) & ~w & 0x8080808080808080L;
            if (t != 0) {
                return i + (Long.numberOfTrailingZeros(t) >>> 3);
            }
        }
        for (; i < n; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        scanned = limit - pos;
        return -1;
    }

    private void emit(int start, int len, boolean hadNewline) {
        int n = len;
        if (hadNewline && n > 0 && buf[start + n - 1] == '\r') {
            n--;
        }
        lineNumber++;
        lineOffset = consumed;
        newline = hadNewline;
        fullLength = n;
        if (n > maxLineBytes) {
            truncated = true;
            n = maxLineBytes;
        } else {
            truncated = false;
        }
        lineArray = buf;
        lineStart = start;
        lineLength = n;
    }

    private void consume(int n) {
        pos += n;
        consumed += n;
        scanned = 0;
    }

    /** Keeps the first maxLineBytes bytes in a side buffer and skips the rest of the line, counting it. */
    private void longLine() throws IOException {
        if (overflow == null) {
            overflow = new byte[maxLineBytes];
        }
        System.arraycopy(buf, pos, overflow, 0, maxLineBytes);
        lineNumber++;
        lineOffset = consumed;
        long length = 0;
        boolean sawNewline = false;
        byte last = 0;
        while (true) {
            int i = pos;
            while (i < limit && buf[i] != '\n') {
                i++;
            }
            length += i - pos;
            if (i > pos) {
                last = buf[i - 1];
            }
            if (i < limit) {
                consume(i + 1 - pos);
                sawNewline = true;
                break;
            }
            consume(i - pos);
            if (eof) {
                break;
            }
            fill();
            if (pos == limit && eof) {
                break;
            }
        }
        if (sawNewline && last == '\r') {
            length--;
        }
        newline = sawNewline;
        truncated = true;
        fullLength = length;
        lineArray = overflow;
        lineStart = 0;
        lineLength = maxLineBytes;
    }

    /** Reads more bytes, compacting or growing the buffer (never beyond maxLineBytes + 2 + CHUNK). */
    private void fill() throws IOException {
        if (pos > 0 && (limit == buf.length || pos > buf.length / 2)) {
            int held = limit - pos;
            System.arraycopy(buf, pos, buf, 0, held);
            pos = 0;
            limit = held;
        }
        if (limit == buf.length) {
            int cap = (int) Math.min((long) maxLineBytes + 2 + CHUNK, Math.max(buf.length * 2L, CHUNK));
            if (cap <= buf.length) {
                cap = buf.length + CHUNK;
            }
            byte[] nb = new byte[cap];
            System.arraycopy(buf, pos, nb, 0, limit - pos);
            limit -= pos;
            pos = 0;
            buf = nb;
        }
        int n = in.read(buf, limit, buf.length - limit);
        if (n < 0) {
            eof = true;
        } else {
            limit += n;
        }
    }

    /** The array holding the current line (the reader's buffer, valid until the next call). */
    public byte[] array() {
        return lineArray;
    }

    public int start() {
        return lineStart;
    }

    /** Length of the current line without its line terminator (at most maxLineBytes). */
    public int length() {
        return lineLength;
    }

    /** 1-based number of the current line. */
    public long lineNumber() {
        return lineNumber;
    }

    /** Byte offset of the current line's first byte in the (decompressed) stream. */
    public long offset() {
        return lineOffset;
    }

    /** The line was longer than maxLineBytes; only its first maxLineBytes bytes are held. */
    public boolean truncated() {
        return truncated;
    }

    /** The real length of the current line without its terminator, also when truncated. */
    public long fullLength() {
        return fullLength;
    }

    /** False for a last line that the input ended in the middle of. */
    public boolean endedWithNewline() {
        return newline;
    }

    public int maxLineBytes() {
        return maxLineBytes;
    }

    /** The line as a String (UTF-8; for messages and tests, not the hot path). */
    public String lineAsString() {
        return new String(lineArray, lineStart, lineLength, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Bytes held by the reader's buffers (for the flat-memory test). */
    int bufferCapacity() {
        return buf.length + (overflow == null ? 0 : overflow.length);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
