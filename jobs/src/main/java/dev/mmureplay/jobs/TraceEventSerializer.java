package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * How {@link TraceEvent}s travel between the job's tasks (the {@code keyBy(vm)} hop): Avro binary of the current
 * schema through the generated classes' own coders ({@link AvroCodec#fastModel}), length-prefixed so the decoder
 * can read from a byte array. Flink's generic {@code AvroSerializer} walks records reflectively and costs about twice
 * as much per event. Records are not kept in state (the reorder buffer stores them in single-object encoding), so
 * the format needs no schema evolution of its own; the serializer has no configuration.
 */
public final class TraceEventSerializer extends TypeSerializer<TraceEvent> {

    private static final long serialVersionUID = 1L;

    /** The Flink type of TraceEvent in this job. */
    public static final TypeInformation<TraceEvent> TYPE = new Type();

    private transient SpecificDatumWriter<TraceEvent> writer;
    private transient SpecificDatumReader<TraceEvent> reader;
    private transient Bytes bytes;
    private transient BinaryEncoder encoder;
    private transient BinaryDecoder decoder;
    private transient byte[] buffer;

    private void init() {
        if (writer == null) {
            SpecificData model = AvroCodec.fastModel();
            writer = new SpecificDatumWriter<>(TraceEvent.getClassSchema(), model);
            reader = new SpecificDatumReader<>(TraceEvent.getClassSchema(), TraceEvent.getClassSchema(), model);
            bytes = new Bytes();
            buffer = new byte[256];
        }
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<TraceEvent> duplicate() {
        return new TraceEventSerializer();   // buffers are per instance: one per thread
    }

    @Override
    public TraceEvent createInstance() {
        return new TraceEvent();
    }

    @Override
    public TraceEvent copy(TraceEvent from) {
        return TraceEvent.newBuilder(from).build();
    }

    @Override
    public TraceEvent copy(TraceEvent from, TraceEvent reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(TraceEvent record, DataOutputView target) throws IOException {
        init();
        bytes.reset();
        encoder = EncoderFactory.get().binaryEncoder(bytes, encoder);
        writer.write(record, encoder);
        encoder.flush();
        target.writeInt(bytes.size());
        target.write(bytes.array(), 0, bytes.size());
    }

    @Override
    public TraceEvent deserialize(DataInputView source) throws IOException {
        return deserialize(null, source);
    }

    @Override
    public TraceEvent deserialize(TraceEvent reuse, DataInputView source) throws IOException {
        init();
        int n = source.readInt();
        if (buffer.length < n) {
            buffer = new byte[Math.max(n, buffer.length * 2)];
        }
        source.readFully(buffer, 0, n);
        decoder = DecoderFactory.get().binaryDecoder(buffer, 0, n, decoder);
        return reader.read(null, decoder);   // a new record: the receiver may keep it
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof TraceEventSerializer;
    }

    @Override
    public int hashCode() {
        return TraceEventSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<TraceEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** A byte array stream whose array can be written without a copy. */
    private static final class Bytes extends ByteArrayOutputStream {
        Bytes() {
            super(256);
        }

        byte[] array() {
            return buf;
        }
    }

    /** Serializer snapshot: no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<TraceEvent> {
        public Snapshot() {
            super(TraceEventSerializer::new);
        }
    }

    /** Its {@link TypeInformation}. */
    private static final class Type extends TypeInformation<TraceEvent> {
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
        public Class<TraceEvent> getTypeClass() {
            return TraceEvent.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<TraceEvent> createSerializer(SerializerConfig config) {
            return new TraceEventSerializer();
        }

        @Override
        public String toString() {
            return "TraceEvent(avro, custom coders)";
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
