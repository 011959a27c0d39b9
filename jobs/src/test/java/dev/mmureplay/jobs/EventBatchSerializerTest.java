package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link EventBatchSerializer} and {@link EventBatcher}: every event of every real trace crosses the keyBy hop in
 * batches unchanged, in order, and decodes to its model event.
 */
class EventBatchSerializerTest {

    static List<TraceEvent> allRealEvents() throws Exception {
        List<TraceEvent> all = new ArrayList<>();
        try (var files = Files.list(TestTraces.TRACES)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".trace")).sorted().toList()) {
                all.addAll(TestTraces.ingest(p));
            }
        }
        return all;
    }

    static List<EventBatch> batches(List<EncodedEvent> events, int max) {
        List<EventBatch> out = new ArrayList<>();
        EventBatcher b = new EventBatcher(max, x -> out.add(x.left()));
        events.forEach(b::add);
        b.flush();
        return out;
    }

    static List<EncodedEvent> flatten(List<EventBatch> batches) {
        List<EncodedEvent> out = new ArrayList<>();
        for (EventBatch b : batches) {
            for (int i = 0; i < b.size(); i++) {
                out.add(b.event(i));
            }
        }
        return out;
    }

    @Test
    void everyRealTraceEventRoundTripsInBatchesAndDecodesToItsModelEvent() throws Exception {
        List<TraceEvent> all = allRealEvents();
        EventIntake intake = new EventIntake();
        List<EncodedEvent> sent = all.stream().map(intake::of).toList();
        List<EventBatch> batches = batches(sent, 100);
        EventBatchSerializer s = new EventBatchSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        for (EventBatch b : batches) {
            s.serialize(b, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        EventBatchSerializer reader = (EventBatchSerializer) s.duplicate();
        List<EventBatch> got = new ArrayList<>();
        for (int i = 0; i < batches.size(); i++) {
            got.add(reader.deserialize(in));
        }
        assertEquals(0, in.available(), "each batch read exactly");
        assertEquals(batches, got);
        List<EncodedEvent> events = flatten(got);
        assertEquals(sent, events);
        TraceEventDecoder decoder = new TraceEventDecoder();
        for (int i = 0; i < all.size(); i++) {
            EncodedEvent e = events.get(i);
            assertEquals(all.get(i).getVm(), e.vm());
            assertEquals(all.get(i).getSeq(), e.seq());
            assertEquals(ModelEvents.of(all.get(i)), decoder.decode(e.buffer(), e.offset(),
                    e.offset() + e.length(), new TraceEventDecoder.Envelope()));
        }
    }

    @Test
    void seqsThatAreNotDenseCrossUnchanged() throws Exception {
        // shuffled and duplicated input: the batch carries every seq as it came
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace")).subList(0, 40);
        List<TraceEvent> odd = new ArrayList<>(events);
        java.util.Collections.shuffle(odd, new java.util.Random(7));
        odd.add(5, odd.get(3));
        EventIntake intake = new EventIntake();
        List<EventBatch> batches = batches(odd.stream().map(intake::of).toList(), EventBatch.MAX_EVENTS);
        assertEquals(1, batches.size(), "one VM's run");
        EventBatchSerializer s = new EventBatchSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 12);
        s.serialize(batches.get(0), out);
        EventBatch got = s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertEquals(batches.get(0), got);
        for (int i = 0; i < odd.size(); i++) {
            assertEquals(odd.get(i).getSeq(), got.seq(i));
        }
    }

    @Test
    void copyBetweenViewsGivesTheSameBytes() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace")).subList(0, 50);
        EventIntake intake = new EventIntake();
        List<EncodedEvent> enc = new ArrayList<>(events.stream().map(intake::of).toList());
        enc.add(enc.get(0));   // not dense: the explicit seq encoding
        EventBatchSerializer s = new EventBatchSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 12);
        for (EventBatch b : batches(enc, 16)) {
            s.serialize(b, out);
        }
        byte[] original = out.getCopyOfBuffer();
        DataInputDeserializer in = new DataInputDeserializer(original);
        DataOutputSerializer copy = new DataOutputSerializer(original.length);   // Flink's copy does not grow it
        while (in.available() > 0) {
            s.copy(in, copy);
        }
        assertEquals(java.util.Arrays.toString(original), java.util.Arrays.toString(copy.getCopyOfBuffer()));
    }

    @Test
    void theVmOfEveryBatchOfOneVmIsOneStringInstance() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace")).subList(0, 100);
        EventIntake intake = new EventIntake();
        EventBatchSerializer s = new EventBatchSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 12);
        List<EventBatch> batches = batches(events.stream().map(intake::of).toList(), 10);
        for (EventBatch b : batches) {
            s.serialize(b, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        String first = s.deserialize(in).vm();
        for (int i = 1; i < batches.size(); i++) {
            assertSame(first, s.deserialize(in).vm(), "the key's hash is computed once per vm");
        }
    }

    @Test
    void theBatcherKeepsOrderAcrossVmsDeadLettersAndTheSizeBound() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace")).subList(0, 30);
        EventIntake intake = new EventIntake();
        List<Object> in = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            TraceEvent e = events.get(i);
            in.add(intake.of(i % 7 < 4 ? e : TraceEvent.newBuilder(e).setVm("vm-b").build()));
            if (i == 12) {
                in.add(DeadLetter.newBuilder().setPlace(dev.mmureplay.avro.Place.newBuilder().setOrigin("x#12")
                        .build()).setRaw(java.nio.ByteBuffer.wrap(new byte[0])).setReason("bad").setStage("decode")
                        .build());
            }
        }
        List<Either<EventBatch, DeadLetter>> out = new ArrayList<>();
        EventBatcher b = new EventBatcher(3, out::add);
        for (Object o : in) {
            if (o instanceof EncodedEvent e) {
                b.add(e);
            } else {
                b.dead((DeadLetter) o);
            }
        }
        b.flush();
        List<Object> back = new ArrayList<>();
        for (Either<EventBatch, DeadLetter> x : out) {
            if (x.isRight()) {
                back.add(x.right());
                continue;
            }
            EventBatch batch = x.left();
            assertTrue(batch.size() <= 3, batch.toString());
            for (int i = 0; i < batch.size(); i++) {
                assertEquals(batch.vm(), batch.event(i).vm(), "one vm per batch");
                back.add(batch.event(i));
            }
        }
        assertEquals(in, back, "every record, in order");
        assertThrows(IllegalArgumentException.class, () -> new EventBatcher(0, x -> { }));
    }
}
