package dev.mmureplay.replayer.sink;

import org.apache.avro.io.BinaryData;
import org.apache.avro.io.BinaryEncoder;

import java.util.Arrays;

/**
 * An Avro binary encoder into a growable byte array, with no stream behind it: the caller takes the bytes
 * ({@link #array()}, {@link #position()}) and {@link #reset()}s. Cheaper per field than Avro's buffered encoder
 * (no flush checks, one concrete class on the hot path), and it knows where each datum ends.
 */
final class ByteArrayEncoder extends BinaryEncoder {

    private byte[] buf;
    private int pos;

    ByteArrayEncoder(int initialCapacity) {
        this.buf = new byte[Math.max(64, initialCapacity)];
    }

    byte[] array() {
        return buf;
    }

    int position() {
        return pos;
    }

    void reset() {
        pos = 0;
    }

    /** Drops everything written after position mark (mark &lt;= position). */
    void truncate(int mark) {
        pos = mark;
    }

    /** Replaces the backing array (e.g. with a recycled one); position 0. */
    void reset(byte[] newBuffer) {
        buf = newBuffer;
        pos = 0;
    }

    // ---- unchecked writes for callers that reserved room first (TraceEventDatumWriter's envelope): one capacity
    // check per event instead of one per field

    /** Makes room for n more bytes. */
    void reserve(int n) {
        ensure(n);
    }

    /** An Avro int (zigzag varint, at most 5 bytes) into reserved room. */
    void putInt(int n) {
        pos += BinaryData.encodeInt(n, buf, pos);
    }

    /** An Avro long (zigzag varint, at most 10 bytes) into reserved room. */
    void putLong(long n) {
        pos += BinaryData.encodeLong(n, buf, pos);
    }

    /** An Avro string or bytes value (length, then the bytes) into reserved room. */
    void putBytes(byte[] bytes) {
        pos += BinaryData.encodeInt(bytes.length, buf, pos);
        System.arraycopy(bytes, 0, buf, pos, bytes.length);
        pos += bytes.length;
    }

    /** bytes[0, length) as they are, into reserved room. */
    void putRaw(byte[] bytes, int length) {
        System.arraycopy(bytes, 0, buf, pos, length);
        pos += length;
    }

    private void ensure(int n) {
        if (buf.length - pos < n) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }

    @Override
    public void writeBoolean(boolean b) {
        ensure(1);
        buf[pos++] = (byte) (b ? 1 : 0);
    }

    @Override
    public void writeInt(int n) {
        ensure(5);
        pos += BinaryData.encodeInt(n, buf, pos);
    }

    @Override
    public void writeLong(long n) {
        ensure(10);
        pos += BinaryData.encodeLong(n, buf, pos);
    }

    @Override
    public void writeFloat(float f) {
        ensure(4);
        pos += BinaryData.encodeFloat(f, buf, pos);
    }

    @Override
    public void writeDouble(double d) {
        ensure(8);
        pos += BinaryData.encodeDouble(d, buf, pos);
    }

    @Override
    public void writeFixed(byte[] bytes, int start, int len) {
        ensure(len);
        System.arraycopy(bytes, start, buf, pos, len);
        pos += len;
    }

    @Override
    protected void writeZero() {
        ensure(1);
        buf[pos++] = 0;
    }

    @Override
    public int bytesBuffered() {
        return 0;
    }

    @Override
    public void flush() {
    }
}
