package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ReplayStep;
import dev.mmureplay.replayer.model.ModelEvents;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ModelSerializer}: round trips through Flink's memory views, deep copies, its serializer snapshot. */
class ModelSerializerTest {

    static byte[] bytes(TypeSerializer<MmuStateMachine> s, MmuStateMachine m) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(256);
        s.serialize(m, out);
        return Arrays.copyOf(out.getSharedBuffer(), out.length());
    }

    @Test
    void roundTripMidTraceContinuesExactly() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace"));
        MmuStateMachine whole = MmuStateMachine.create();
        List<ReplayStep> expected = new ArrayList<>();
        for (TraceEvent e : events) {
            expected.add(whole.apply(ModelEvents.of(e)));
        }
        ModelSerializer s = ModelSerializer.INSTANCE;
        MmuStateMachine m = MmuStateMachine.create();
        int half = events.size() / 2;
        for (int i = 0; i < half; i++) {
            m.apply(ModelEvents.of(events.get(i)));
        }
        // two records back to back in one buffer: each is self-delimiting
        DataOutputSerializer out = new DataOutputSerializer(256);
        s.serialize(m, out);
        s.serialize(m, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getSharedBuffer(), 0, out.length());
        MmuStateMachine a = s.deserialize(in);
        MmuStateMachine b = s.deserialize(in);
        assertEquals(0, in.available());
        assertEquals(m.digest(), a.digest());
        assertEquals(m.digest(), b.digest());
        for (int i = half; i < events.size(); i++) {
            assertEquals(expected.get(i), a.apply(ModelEvents.of(events.get(i))), "event " + i);
        }
        assertEquals(whole.digest(), a.digest());

        MmuStateMachine copy = s.copy(m);
        assertNotSame(m, copy);
        assertArrayEquals(bytes(s, m), bytes(s, copy));
        copy.apply(ModelEvents.of(events.get(half)));
        assertTrue(!Arrays.equals(bytes(s, m), bytes(s, copy)), "deep copy: the original is unchanged");

        DataOutputSerializer copied = new DataOutputSerializer(256);
        s.copy(new DataInputDeserializer(bytes(s, m)), copied);
        assertArrayEquals(bytes(s, m), Arrays.copyOf(copied.getSharedBuffer(), copied.length()));
    }

    @Test
    void serializerAndItsSnapshotRestoreCompatible() throws Exception {
        ModelSerializer s = ModelSerializer.INSTANCE;
        assertEquals(s, InstantiationUtil.clone(s));
        assertEquals(s, s.duplicate());
        TypeSerializerSnapshot<MmuStateMachine> snap = s.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
        TypeSerializerSnapshot<MmuStateMachine> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()), getClass().getClassLoader());
        assertEquals(s, read.restoreSerializer());
        TypeSerializerSchemaCompatibility<MmuStateMachine> c =
                s.snapshotConfiguration().resolveSchemaCompatibility(read);
        assertTrue(c.isCompatibleAsIs(), c.toString());
    }

    @Test
    void unknownFormatVersionIsAClearError() throws Exception {
        byte[] b = bytes(ModelSerializer.INSTANCE, MmuStateMachine.create());
        b[0] = 42;
        Exception e = assertThrows(java.io.IOException.class,
                () -> ModelSerializer.INSTANCE.deserialize(new DataInputDeserializer(b)));
        assertTrue(e.getMessage().contains("version 42"), e.getMessage());
    }
}
