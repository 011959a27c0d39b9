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
        EventBatcher b = new EventBatcher(max, 1 << 20, x -> out.add(x.left()));   // bounded by events here
        events.forEach(b::add);
        b.flush();
        return out;
    }

    /** The events of each vm, in the order given (what a VM's replay sees). */
    static java.util.Map<String, List<EncodedEvent>> perVm(List<EncodedEvent> list) {
        java.util.Map<String, List<EncodedEvent>> out = new java.util.TreeMap<>();
        for (EncodedEvent e : list) {
            out.computeIfAbsent(e.vm(), v -> new java.util.ArrayList<>()).add(e);
        }
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
    void theBatcherBoundsTheBytesOfABatchAndCopiesOnlyEventsFromSeparateArrays() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace")).subList(0, 200);
        EventIntake intake = new EventIntake();
        List<EncodedEvent> separate = events.stream().map(intake::of).toList();   // one array per event (Kafka)
        java.io.ByteArrayOutputStream block = new java.io.ByteArrayOutputStream();
        for (EncodedEvent e : separate) {
            block.write(e.buffer(), e.offset(), e.length());
        }
        byte[] blockBytes = block.toByteArray();   // back to back in one array (an Avro block)
        List<EncodedEvent> sliced = new ArrayList<>();
        for (int off = 0; off < blockBytes.length; ) {
            EncodedEvent e = intake.binary(blockBytes, off, blockBytes.length);
            sliced.add(e);
            off = intake.end();
        }
        assertEquals(separate, sliced);
        for (List<EncodedEvent> in : List.of(separate, sliced)) {
            List<EventBatch> out = new ArrayList<>();
            EventBatcher b = new EventBatcher(1000, 1000, x -> out.add(x.left()));
            in.forEach(b::add);
            b.flush();
            assertEquals(in, flatten(out));
            for (int i = 0; i < out.size(); i++) {
                EventBatch batch = out.get(i);
                assertTrue(batch.bytes() <= 1000, batch.toString());
                if (i + 1 < out.size()) {
                    assertTrue(batch.bytes() + out.get(i + 1).end(0) - out.get(i + 1).start(0) > 1000,
                            "a batch ends only when the next event would not fit");
                }
                if (in == sliced) {
                    assertSame(blockBytes, batch.buffer(), "slices of one array are not copied");
                }
            }
        }
        List<EventBatch> big = new ArrayList<>();
        EventBatcher one = new EventBatcher(10, 8, x -> big.add(x.left()));
        separate.subList(0, 3).forEach(one::add);
        one.flush();
        assertEquals(3, big.size(), "an event larger than the bound is a batch of its own");
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
