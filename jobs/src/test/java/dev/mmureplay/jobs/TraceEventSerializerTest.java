package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

/** {@link TraceEventSerializer}: every event of every real trace crosses a task boundary unchanged. */
class TraceEventSerializerTest {

    @Test
    void everyRealTraceEventRoundTripsBackToBackInOneBuffer() throws Exception {
        List<TraceEvent> all = new ArrayList<>();
        try (var files = Files.list(TestTraces.TRACES)) {
            for (Path p : files.sorted().toList()) {
                all.addAll(TestTraces.ingest(p));
            }
        }
        TraceEventSerializer s = new TraceEventSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        for (TraceEvent e : all) {
            s.serialize(e, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        TraceEventSerializer reader = (TraceEventSerializer) s.duplicate();
        for (TraceEvent e : all) {
            assertEquals(e, reader.deserialize(in));
        }
        assertEquals(0, in.available(), "each record read exactly");
    }

    @Test
    void copyIsADeepCopy() throws Exception {
        TraceEvent e = TestTraces.ingest(TestTraces.TRACES.resolve("real_io.trace")).get(0);
        TraceEvent c = new TraceEventSerializer().copy(e);
        assertEquals(e, c);
        assertNotSame(e.getSource(), c.getSource());
    }
}
