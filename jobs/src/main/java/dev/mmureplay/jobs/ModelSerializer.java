package dev.mmureplay.jobs;

import dev.mmureplay.model.MmuStateMachine;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Flink serializer for a whole {@link MmuStateMachine} in keyed state: delegates to the model's own versioned binary
 * snapshot ({@link MmuStateMachine#writeSnapshot} / {@link MmuStateMachine#readSnapshot}) — not Kryo, not Java
 * serialization. Each record starts with the snapshot's format version byte, so the data is self-describing; the
 * serializer itself has no configuration, hence a {@link SimpleTypeSerializerSnapshot} (compatible as is).
 *
 * <p>Limit (snapshot format v1): a model snapshot restores only into the same model code; savepoints across job
 * versions need the layout-independent v2 format (issue 5 follow-up).
 */
public final class ModelSerializer extends TypeSerializer<MmuStateMachine> {

    private static final long serialVersionUID = 1L;

    public static final ModelSerializer INSTANCE = new ModelSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<MmuStateMachine> duplicate() {
        return this;   // stateless
    }

    @Override
    public MmuStateMachine createInstance() {
        return MmuStateMachine.create();
    }

    @Override
    public MmuStateMachine copy(MmuStateMachine from) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(4096);
            from.writeSnapshot(out);
            return MmuStateMachine.readSnapshot(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public MmuStateMachine copy(MmuStateMachine from, MmuStateMachine reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(MmuStateMachine record, DataOutputView target) throws IOException {
        record.writeSnapshot(target);
    }

    @Override
    public MmuStateMachine deserialize(DataInputView source) throws IOException {
        return MmuStateMachine.readSnapshot(source);
    }

    @Override
    public MmuStateMachine deserialize(MmuStateMachine reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof ModelSerializer;
    }

    @Override
    public int hashCode() {
        return ModelSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<MmuStateMachine> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot (no configuration; the data carries its own format version). */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<MmuStateMachine> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
