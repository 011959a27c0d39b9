package dev.mmureplay.model.snapshot;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The payload of one section of a model snapshot being written (see {@code ModelSnapshot} for the format): a growable
 * byte buffer with the primitive encodings every state class uses. Encodings, all little-endian base-128 varints
 * unless noted:
 * <ul>
 *   <li>{@link #uvarint}: unsigned (counts, ids known to be non-negative, gfns);</li>
 *   <li>{@link #svarint}: zig-zag signed (fields that may be -1 or any sign);</li>
 *   <li>{@link #bits64}: a 64-bit pattern (PTE/SPTE values) rotated left by one before the unsigned varint, so the
 *       NX bit 63 costs one bit instead of making the value 10 bytes long;</li>
 *   <li>{@link #word}: a 64-bit value of no particular shape (a small count, a -1 sentinel, or an SPTE with NX): the
 *       zig-zag varint of the value rotated left by one — all three stay short;</li>
 *   <li>{@link #bool}: one byte 0/1; {@link #fixed64}: 8 bytes big-endian; {@link #string}: UTF-8 length + bytes;</li>
 *   <li>{@link #sparse}: a {@code long} array of known length as (count of non-zero entries, then per entry: index
 *       delta from the previous non-zero entry, value XOR previous non-zero value as {@link #bits64}) — SPTE tables
 *       are mostly empty and neighbouring entries differ in few bits.</li>
 * </ul>
 * Writing never fails (memory only); {@link SnapshotInput} is the reading side.
 */
public final class SnapshotOutput {

    private byte[] buf = new byte[256];
    private int size;

    /** Empties the buffer for the next section. */
    public void reset() {
        size = 0;
    }

    public int size() {
        return size;
    }

    /** Writes the bytes of this buffer to {@code out}. */
    public void copyTo(java.io.DataOutput out) throws java.io.IOException {
        out.write(buf, 0, size);
    }

    /** Feeds the bytes of this buffer to a checksum. */
    public void updateChecksum(java.util.zip.Checksum c) {
        c.update(buf, 0, size);
    }

    /** The bytes written so far. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    public SnapshotOutput u8(int b) {
        if (size == buf.length) {
            buf = Arrays.copyOf(buf, buf.length * 2);
        }
        buf[size++] = (byte) b;
        return this;
    }

    public SnapshotOutput uvarint(long v) {
        while ((v & ~0x7fL) != 0) {
            u8((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        return u8((int) v);
    }

    public SnapshotOutput svarint(long v) {
        return uvarint((v << 1) ^ (v >> 63));
    }

    public SnapshotOutput bits64(long v) {
        return uvarint(Long.rotateLeft(v, 1));
    }

    public SnapshotOutput word(long v) {
        return svarint(Long.rotateLeft(v, 1));
    }

    public SnapshotOutput bool(boolean b) {
        return u8(b ? 1 : 0);
    }

    public SnapshotOutput fixed64(long v) {
        for (int s = 56; s >= 0; s -= 8) {
            u8((int) (v >>> s));
        }
        return this;
    }

    public SnapshotOutput string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        uvarint(b.length);
        for (byte x : b) {
            u8(x);
        }
        return this;
    }

    /** A string that may be null: a presence byte, then {@link #string}. */
    public SnapshotOutput nullableString(String s) {
        bool(s != null);
        return s == null ? this : string(s);
    }

    /** The non-zero entries of {@code a} (its length is known to the reader); see the class comment. */
    public SnapshotOutput sparse(long[] a) {
        int n = 0;
        for (long x : a) {
            if (x != 0) {
                n++;
            }
        }
        uvarint(n);
        int prevIndex = -1;
        long prev = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] != 0) {
                uvarint(i - prevIndex - 1);
                bits64(a[i] ^ prev);
                prevIndex = i;
                prev = a[i];
            }
        }
        return this;
    }
}
