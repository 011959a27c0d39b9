package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventView;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.SampleEvents;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fast encoders write exactly what Avro's own writers write. */
class TraceEventEncodingTest {

    @Test
    void fastPathIsActiveForTheCompiledSchema() {
        assertTrue(TraceEventDatumWriter.fastPathAvailable());
        assertTrue(TraceEventDatumWriter.create() instanceof TraceEventDatumWriter);
    }

    @Test
    void fastDatumWriterWritesTheSameBytesAsAvro() throws IOException {
        List<TraceEvent> events = samples();
        var fast = TraceEventDatumWriter.create();
        var stock = new SpecificDatumWriter<TraceEvent>(TraceEvent.class);
        for (TraceEvent e : events) {
            assertArrayEquals(encode(stock, e), encode(fast, e), () -> "event " + e);
        }
        // one encoder instance over many events (the string caches) equals the concatenation
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        BinaryEncoder ea = EncoderFactory.get().binaryEncoder(a, null);
        BinaryEncoder eb = EncoderFactory.get().binaryEncoder(b, null);
        for (TraceEvent e : events) {
            stock.write(e, ea);
            fast.write(e, eb);
        }
        ea.flush();
        eb.flush();
        assertArrayEquals(a.toByteArray(), b.toByteArray());
    }

    @Test
    void eventViewsEncodeToTheBytesOfTheirEvents() throws IOException {
        List<TraceEvent> events = samples();
        TraceEventDatumWriter fast = (TraceEventDatumWriter) TraceEventDatumWriter.create();
        var stock = new SpecificDatumWriter<TraceEvent>(TraceEvent.class);
        ByteArrayEncoder one = new ByteArrayEncoder(16);
        for (TraceEvent e : events) {
            one.reset();
            fast.write(EventView.of(e), one);
            assertArrayEquals(encode(stock, e), Arrays.copyOf(one.array(), one.position()), () -> "event " + e);
        }
        // one writer and one block over many events (the cached Source bytes, the growing array), and views whose
        // strings are equal but not the same instances, alternating with TraceEvents
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        BinaryEncoder ea = EncoderFactory.get().binaryEncoder(expected, null);
        ByteArrayEncoder block = new ByteArrayEncoder(16);
        for (int i = 0; i < events.size(); i++) {
            TraceEvent e = events.get(i);
            stock.write(e, ea);
            if (i % 3 == 0) {
                fast.write(e, block);
            } else {
                EventView v = EventView.of(i % 3 == 1 ? e : copyStrings(e));
                fast.write(v, block);
            }
        }
        ea.flush();
        assertArrayEquals(expected.toByteArray(), Arrays.copyOf(block.array(), block.position()));
    }

    @Test
    void singleObjectEncodingOfViewsEqualsAvroCodec() {
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        SingleObjectEventEncoder fast = new SingleObjectEventEncoder();
        for (TraceEvent e : samples()) {
            assertArrayEquals(codec.encode(e), fast.encode(EventView.of(e)));
        }
    }

    /** The same event with new String instances (equal content). */
    private static TraceEvent copyStrings(TraceEvent e) {
        Source s = e.getSource();
        return TraceEvent.newBuilder(e).setVm(new String(e.getVm()))
                .setSource(new Source(new String(s.getTask()), s.getPid(), s.getTgid(), s.getCpu(),
                        s.getIrqFlags() == null ? null : new String(s.getIrqFlags()), new String(s.getOrigin()),
                        s.getLine()))
                .build();
    }

    @Test
    void singleObjectEncodingEqualsAvroCodec() {
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        SingleObjectEventEncoder fast = new SingleObjectEventEncoder();
        for (TraceEvent e : samples()) {
            byte[] bytes = fast.encode(e);
            assertArrayEquals(codec.encode(e), bytes);
            assertEquals(e, codec.decode(bytes));
        }
    }

    @Test
    void missingRequiredValuesFailAsInAvro() {
        TraceEvent noPayload = TraceEvent.newBuilder(samples().get(0)).build();
        noPayload.setPayload(null);
        assertThrows(NullPointerException.class, () -> new SingleObjectEventEncoder().encode(noPayload));
        TraceEvent notAPayload = TraceEvent.newBuilder(samples().get(0)).build();
        notAPayload.setPayload(new Source());
        assertThrows(IllegalArgumentException.class, () -> new SingleObjectEventEncoder().encode(notAPayload));
    }

    /** Real events plus the corners: tgid set, no irq flags, non-ASCII, empty strings, nullable payload fields. */
    static List<TraceEvent> samples() {
        List<TraceEvent> out = new ArrayList<>(SampleEvents.allRealTraces());
        TraceEvent base = out.get(0);
        out.add(TraceEvent.newBuilder(base).setVm("vm-é✓").setVcpu(3)
                .setSource(new Source("CPU 0/KVM", 4242, 4240, 1, null, "ünïcode.trace", 7L))
                .setPayload(new Marker("")).build());
        out.add(TraceEvent.newBuilder(base).setVm("").setSeq(Long.MAX_VALUE).setTimestampNs(-1)
                .setSource(new Source("", 0, null, 0, "", "", 0L))
                .setPayload(new GenericEvent("kvm_new_thing", "a=1 b=\u0000")).build());
        out.add(TraceEvent.newBuilder(base).setPayload(new KvmPageFault(null, null, 0xdeadbeefL,
                SampleEvents.pferr(0x200000006L))).build());
        out.add(TraceEvent.newBuilder(base).setPayload(new KvmPageFault(2, 0xffffffff81000000L, -1L,
                SampleEvents.pferr(-1L))).build());
        return out;
    }

    private static byte[] encode(org.apache.avro.io.DatumWriter<TraceEvent> w, TraceEvent e) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        w.write(e, enc);
        enc.flush();
        return out.toByteArray();
    }
}
