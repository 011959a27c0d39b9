package dev.mmureplay.jobs;

import dev.mmureplay.replayer.model.TraceEventDecoder;

import java.util.Arrays;

/**
 * One input event on its way to the replay: its {@code vm} (the key), its {@code seq} (for the reorder buffer) and
 * the event itself as Avro binary of the <em>current</em> {@code TraceEvent} schema, undecoded. The sources check
 * the bytes' structure ({@link TraceEventDecoder#scan}) and bring events of older schemas to the current one, so
 * the replay task can decode them straight into model events ({@link TraceEventDecoder#decode}) and a dead letter
 * can carry the event exactly. Nothing else travels between the tasks: no strings but the vm, no object tree.
 *
 * <p>Immutable: the bytes are a slice {@code [offset, offset + length)} of an array that nobody writes after the
 * event is made (a source's decompressed block, a Kafka record's value, or the array of a deserialized event).
 */
public final class EncodedEvent {

    private final String vm;
    private final long seq;
    private final byte[] buf;
    private final int offset;
    private final int length;

    public EncodedEvent(String vm, long seq, byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > buf.length) {
            throw new IllegalArgumentException("slice [" + offset + ", " + (offset + length) + ") of "
                    + buf.length + " bytes");
        }
        this.vm = vm;
        this.seq = seq;
        this.buf = buf;
        this.offset = offset;
        this.length = length;
    }

    public String vm() {
        return vm;
    }

    public long seq() {
        return seq;
    }

    /** The array holding the Avro binary (read only: shared). */
    public byte[] buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    /** This event with its bytes in an array of their own (for records kept beyond the call that got them). */
    public EncodedEvent compact() {
        if (offset == 0 && length == buf.length) {
            return this;
        }
        return new EncodedEvent(vm, seq, Arrays.copyOfRange(buf, offset, offset + length), 0, length);
    }

    /** The event in Avro single-object encoding of the current schema (dead letters, the reorder buffer's state). */
    public byte[] singleObject() {
        byte[] out = new byte[TraceEventDecoder.HEADER + length];
        TraceEventDecoder.writeHeader(out);
        System.arraycopy(buf, offset, out, TraceEventDecoder.HEADER, length);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedEvent e && seq == e.seq && vm.equals(e.vm)
                && Arrays.equals(buf, offset, offset + length, e.buf, e.offset, e.offset + e.length);
    }

    @Override
    public int hashCode() {
        return vm.hashCode() * 31 + Long.hashCode(seq);
    }

    @Override
    public String toString() {
        return "EncodedEvent[vm=" + vm + ", seq=" + seq + ", " + length + " bytes]";
    }
}
