package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@link EncodedEventSerializer}: every event of every real trace crosses the keyBy hop unchanged. */
class EncodedEventSerializerTest {

    static List<TraceEvent> allRealEvents() throws Exception {
        List<TraceEvent> all = new ArrayList<>();
        try (var files = Files.list(TestTraces.TRACES)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".trace")).sorted().toList()) {
                all.addAll(TestTraces.ingest(p));
            }
        }
        return all;
    }

    @Test
    void everyRealTraceEventRoundTripsBackToBackInOneBufferAndDecodesToItsModelEvent() throws Exception {
        List<TraceEvent> all = allRealEvents();
        EventIntake intake = new EventIntake();
        EncodedEventSerializer s = new EncodedEventSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        List<EncodedEvent> sent = new ArrayList<>();
        for (TraceEvent e : all) {
            EncodedEvent x = intake.of(e);
            sent.add(x);
            s.serialize(x, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        EncodedEventSerializer reader = (EncodedEventSerializer) s.duplicate();
        TraceEventDecoder decoder = new TraceEventDecoder();
        for (int i = 0; i < all.size(); i++) {
            EncodedEvent got = reader.deserialize(in);
            assertEquals(sent.get(i), got);
            assertEquals(all.get(i).getVm(), got.vm());
            assertEquals(all.get(i).getSeq(), got.seq());
            assertEquals(ModelEvents.of(all.get(i)), decoder.decode(got.buffer(), got.offset(),
                    got.offset() + got.length(), new TraceEventDecoder.Envelope()));
        }
        assertEquals(0, in.available(), "each record read exactly");
    }

    @Test
    void theVmOfEveryRecordOfOneVmIsOneStringInstance() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace")).subList(0, 100);
        EventIntake intake = new EventIntake();
        EncodedEventSerializer s = new EncodedEventSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 12);
        for (TraceEvent e : events) {
            s.serialize(intake.of(e), out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        String first = s.deserialize(in).vm();
        for (int i = 1; i < events.size(); i++) {
            assertSame(first, s.deserialize(in).vm(), "the key's hash is computed once per vm");
        }
    }
}
