package dev.mmureplay.model.snapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The payload of one section of a model snapshot being read: bounds-checked decoding of the encodings of
 * {@link SnapshotOutput}. Every malformed input (a read past the section's end, an overlong varint, a value out of
 * its range, a count larger than the bytes left could hold) is an {@link IOException} naming the section; nothing
 * here allocates more than the section's own size.
 */
public final class SnapshotInput {

    private final byte[] buf;
    private final String section;
    private int pos;

    public SnapshotInput(byte[] payload, String section) {
        this.buf = payload;
        this.section = section;
    }

    public String section() {
        return section;
    }

    /** Bytes not read yet (a future format version reads optional trailing fields only when this is non-zero). */
    public int remaining() {
        return buf.length - pos;
    }

    /** An IOException naming this section. */
    public IOException corrupt(String what) {
        return new IOException("corrupt snapshot: section " + section + ": " + what);
    }

    /** Checks that the whole section was consumed. */
    public void end() throws IOException {
        if (pos != buf.length) {
            throw corrupt((buf.length - pos) + " unexpected trailing bytes");
        }
    }

    public int u8() throws IOException {
        if (pos >= buf.length) {
            throw corrupt("truncated (read past the end of the section)");
        }
        return buf[pos++] & 0xff;
    }

    public long uvarint() throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = u8();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (shift == 63 && b > 1) {
                    break;
                }
                return v;
            }
        }
        throw corrupt("malformed varint");
    }

    public long svarint() throws IOException {
        long u = uvarint();
        return (u >>> 1) ^ -(u & 1);
    }

    public long bits64() throws IOException {
        return Long.rotateRight(uvarint(), 1);
    }

    public long word() throws IOException {
        return Long.rotateRight(svarint(), 1);
    }

    public boolean bool() throws IOException {
        int b = u8();
        if (b > 1) {
            throw corrupt("boolean byte " + b);
        }
        return b == 1;
    }

    public long fixed64() throws IOException {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | u8();
        }
        return v;
    }

    /** A signed (zig-zag) value that must lie in [min, max]. */
    public int sint(int min, int max, String what) throws IOException {
        long v = svarint();
        if (v < min || v > max) {
            throw corrupt(what + " " + v + " out of range [" + min + ", " + max + "]");
        }
        return (int) v;
    }

    /** An unsigned value that must lie in [0, max]. */
    public int uint(int max, String what) throws IOException {
        long v = uvarint();
        if (v < 0 || v > max) {
            throw corrupt(what + " " + Long.toUnsignedString(v) + " out of range [0, " + max + "]");
        }
        return (int) v;
    }

    /** An unsigned long that must be non-negative as a Java long. */
    public long ulong(String what) throws IOException {
        long v = uvarint();
        if (v < 0) {
            throw corrupt(what + " " + Long.toUnsignedString(v) + " out of range");
        }
        return v;
    }

    /**
     * A count of following elements each at least {@code minBytes} long: bounded by what is left of the section, so
     * a corrupt count cannot make the reader allocate or loop far beyond the data.
     */
    public int count(int minBytes, String what) throws IOException {
        long v = uvarint();
        if (v < 0 || v > (long) remaining() / Math.max(1, minBytes)) {
            throw corrupt(what + " count " + Long.toUnsignedString(v) + " exceeds the " + remaining()
                    + " bytes left");
        }
        return (int) v;
    }

    public String string() throws IOException {
        int n = count(1, "string length");
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    public String nullableString() throws IOException {
        return bool() ? string() : null;
    }

    /** Reads a {@link SnapshotOutput#sparse} array into {@code a} (whose length the caller knows); zeros elsewhere. */
    public void sparse(long[] a, String what) throws IOException {
        int n = count(2, what + " entries");
        int index = -1;
        long prev = 0;
        for (int k = 0; k < n; k++) {
            long next = index + 1 + uvarint();
            if (next < 0 || next >= a.length) {
                throw corrupt(what + ": index " + next + " outside [0, " + a.length + ")");
            }
            index = (int) next;
            prev ^= bits64();
            if (prev == 0) {
                throw corrupt(what + ": zero value stored at index " + index);
            }
            a[index] = prev;
        }
    }
}
