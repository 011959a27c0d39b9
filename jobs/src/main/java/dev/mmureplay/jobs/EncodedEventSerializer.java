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
 * How {@link EncodedEvent}s cross the {@code keyBy(vm)} hop: {@code int length, length bytes} — the event's Avro
 * binary and nothing else. The receiver reads vm and seq back from the bytes' first fields (vm interned: the key of
 * every record of a VM is one String instance, whose hash is computed once). Events are never kept in Flink state in
 * this form (the reorder buffer's state has its own versioned format, {@link VmStateSerializer}), so the format needs
 * no evolution of its own; the serializer has no configuration.
 */
public final class EncodedEventSerializer extends TypeSerializer<EncodedEvent> {

    private static final long serialVersionUID = 1L;

    /** The Flink type of EncodedEvent. */
    public static final TypeInformation<EncodedEvent> TYPE = new Type();

    private transient TraceEventDecoder decoder;
    private transient TraceEventDecoder.Envelope head;

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<EncodedEvent> duplicate() {
        return new EncodedEventSerializer();   // the decoder's intern cache is per instance: one per thread
    }

    @Override
    public EncodedEvent createInstance() {
        return null;
    }

    @Override
    public EncodedEvent copy(EncodedEvent from) {
        return from;   // immutable
    }

    @Override
    public EncodedEvent copy(EncodedEvent from, EncodedEvent reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(EncodedEvent e, DataOutputView target) throws IOException {
        target.writeInt(e.length());
        target.write(e.buffer(), e.offset(), e.length());
    }

    @Override
    public EncodedEvent deserialize(DataInputView source) throws IOException {
        if (decoder == null) {
            decoder = new TraceEventDecoder();
            head = new TraceEventDecoder.Envelope();
        }
        int n = source.readInt();
        if (n < 0) {
            throw new IOException("corrupt EncodedEvent: length " + n);
        }
        byte[] b = new byte[n];
        source.readFully(b);
        decoder.head(b, 0, n, head);
        return new EncodedEvent(head.vm, head.seq, b, 0, n);
    }

    @Override
    public EncodedEvent deserialize(EncodedEvent reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof EncodedEventSerializer;
    }

    @Override
    public int hashCode() {
        return EncodedEventSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<EncodedEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot: no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<EncodedEvent> {
        public Snapshot() {
            super(EncodedEventSerializer::new);
        }
    }

    /** Its {@link TypeInformation}. */
    private static final class Type extends TypeInformation<EncodedEvent> {
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
        public Class<EncodedEvent> getTypeClass() {
            return EncodedEvent.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<EncodedEvent> createSerializer(SerializerConfig config) {
            return new EncodedEventSerializer();
        }

        @Override
        public String toString() {
            return "EncodedEvent(avro binary)";
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
