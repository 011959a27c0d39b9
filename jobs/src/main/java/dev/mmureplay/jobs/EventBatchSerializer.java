package dev.mmureplay.jobs;

import dev.mmureplay.replayer.model.TraceEventDecoder;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * How {@link EventBatch}es cross the {@code keyBy(vm)} hop: {@code int n}; the seqs — {@code byte 0, long first} when
 * they are dense ({@code first, first + 1, ...}: the common case), else {@code byte 1} and n longs; n {@code int}
 * lengths; then the events' Avro binary back to back, in one write. The vm is not sent: the receiver reads it from the
 * first event's bytes, interned (the key of every batch of a VM is one String instance, whose hash is computed once).
 * Batches are never kept in Flink state in this form (the reorder buffer's state has its own versioned format,
 * {@link VmStateSerializer}), so the format needs no evolution of its own; the serializer has no configuration.
 */
public final class EventBatchSerializer extends TypeSerializer<EventBatch> {

    private static final long serialVersionUID = 1L;

    /** The Flink type of EventBatch. */
    public static final TypeInformation<EventBatch> TYPE = new Type();

    private static final byte DENSE = 0;
    private static final byte EXPLICIT = 1;

    private transient TraceEventDecoder decoder;
    private transient TraceEventDecoder.Envelope head;

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<EventBatch> duplicate() {
        return new EventBatchSerializer();   // the decoder's intern cache is per instance: one per thread
    }

    @Override
    public EventBatch createInstance() {
        return null;
    }

    @Override
    public EventBatch copy(EventBatch from) {
        return from;   // immutable
    }

    @Override
    public EventBatch copy(EventBatch from, EventBatch reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(EventBatch b, DataOutputView target) throws IOException {
        int n = b.size();
        target.writeInt(n);
        long first = b.seq(0);
        boolean dense = true;
        for (int i = 1; i < n && dense; i++) {
            dense = b.seq(i) == first + i;
        }
        if (dense) {
            target.writeByte(DENSE);
            target.writeLong(first);
        } else {
            target.writeByte(EXPLICIT);
            for (int i = 0; i < n; i++) {
                target.writeLong(b.seq(i));
            }
        }
        for (int i = 0; i < n; i++) {
            target.writeInt(b.end(i) - b.start(i));
        }
        target.write(b.buffer(), b.start(0), b.bytes());   // back to back by construction
    }

    @Override
    public EventBatch deserialize(DataInputView source) throws IOException {
        if (decoder == null) {
            decoder = new TraceEventDecoder();
            head = new TraceEventDecoder.Envelope();
        }
        int n = source.readInt();
        if (n < 1 || n > 1 << 24) {
            throw new IOException("corrupt EventBatch: " + n + " events");
        }
        long[] seqs = new long[n];
        byte kind = source.readByte();
        if (kind == DENSE) {
            long first = source.readLong();
            for (int i = 0; i < n; i++) {
                seqs[i] = first + i;
            }
        } else if (kind == EXPLICIT) {
            for (int i = 0; i < n; i++) {
                seqs[i] = source.readLong();
            }
        } else {
            throw new IOException("corrupt EventBatch: seq encoding " + kind);
        }
        int[] bounds = new int[n + 1];
        for (int i = 0; i < n; i++) {
            int len = source.readInt();
            if (len < 0 || bounds[i] + (long) len > Integer.MAX_VALUE) {
                throw new IOException("corrupt EventBatch: event " + i + " of " + len + " bytes");
            }
            bounds[i + 1] = bounds[i] + len;
        }
        byte[] buf = new byte[bounds[n]];
        source.readFully(buf);
        decoder.head(buf, 0, bounds[1], head);
        return new EventBatch(head.vm, seqs, buf, bounds);
    }

    @Override
    public EventBatch deserialize(EventBatch reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        byte kind = source.readByte();
        target.writeByte(kind);
        target.write(source, kind == DENSE ? 8 : 8 * n);
        long total = 0;
        for (int i = 0; i < n; i++) {
            int len = source.readInt();
            target.writeInt(len);
            total += len;
        }
        target.write(source, (int) total);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof EventBatchSerializer;
    }

    @Override
    public int hashCode() {
        return EventBatchSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<EventBatch> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot: no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<EventBatch> {
        public Snapshot() {
            super(EventBatchSerializer::new);
        }
    }

    /** Its {@link TypeInformation}. */
    private static final class Type extends TypeInformation<EventBatch> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<EventBatch> getTypeClass() {
            return EventBatch.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<EventBatch> createSerializer(SerializerConfig config) {
            return new EventBatchSerializer();
        }

        @Override
        public String toString() {
            return "EventBatch(avro binary)";
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof Type;
        }

        @Override
        public int hashCode() {
            return Type.class.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof Type;
        }
    }
}
