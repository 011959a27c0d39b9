package dev.mmureplay.schemas;

import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The schemas evolve compatibly: data of every released version stays readable, and readers of it read ours. */
class SchemaEvolutionTest {

    private static Schema testSchema(String name) throws IOException {
        try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("/" + name)) {
            return new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static SchemaCompatibilityType compat(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType();
    }

    @Test
    void everyReleasedSchemaIsFullyCompatibleWithTheCurrentOne() {
        for (Schema current : List.of(TraceEvent.getClassSchema(),
                dev.mmureplay.avro.DeadLetter.getClassSchema(), dev.mmureplay.avro.DivergenceAlert.getClassSchema())) {
            List<Schema> released = AvroCodec.releasedSchemas(current.getName());
            assertFalse(released.isEmpty(), "no released schema kept for " + current.getName());
            for (Schema old : released) {
                assertEquals(SchemaCompatibilityType.COMPATIBLE, compat(current, old),
                        "current " + current.getName() + " cannot read data of a released version");
                assertEquals(SchemaCompatibilityType.COMPATIBLE, compat(old, current),
                        "a released reader of " + current.getName() + " cannot read current data");
            }
        }
    }

    @Test
    void aFutureVersionWithAnAddedFieldAndEventKindCanReadTodaysData() throws IOException {
        Schema future = testSchema("TraceEvent-future.avsc");
        assertEquals(SchemaCompatibilityType.COMPATIBLE, compat(future, TraceEvent.getClassSchema()));
    }

    @Test
    void todaysReaderRejectsAFutureVersionOnlyForItsNewEventKind() throws IOException {
        // Avro resolves unions per datum: only records of the new kind are unreadable, which is why readers
        // upgrade first and why a job dead-letters records whose schema fingerprint it does not know.
        Schema future = testSchema("TraceEvent-future.avsc");
        var result = SchemaCompatibility.checkReaderWriterCompatibility(TraceEvent.getClassSchema(), future).getResult();
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE, result.getCompatibility());
        assertEquals(1, result.getIncompatibilities().size());
        assertEquals("/fields/5/type/29", result.getIncompatibilities().get(0).getLocation());
    }

    @Test
    void theCompatibilityCheckRejectsARemovedFieldAndAMandatoryNewField() throws IOException {
        Schema broken = testSchema("TraceEvent-broken.avsc");
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE, compat(broken, TraceEvent.getClassSchema()));
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE, compat(TraceEvent.getClassSchema(), broken));
    }

    @Test
    void dataWrittenWithTheFirstReleasedSchemaDecodesIntoTodaysClasses() {
        Schema v1 = AvroCodec.releasedSchemas("TraceEvent").get(0);
        GenericRecord source = new GenericData.Record(v1.getField("source").schema());
        source.put("task", "CPU 0/KVM");
        source.put("pid", 8839);
        source.put("cpu", 0);
        source.put("origin", "basic.trace");
        source.put("line", 29L);
        Schema setSpte = v1.getField("payload").schema().getTypes().stream()
                .filter(s -> s.getName().equals("KvmMmuSetSpte")).findFirst().orElseThrow();
        GenericRecord payload = new GenericData.Record(setSpte);
        payload.put("gfn", 0x10L);
        payload.put("spte", 0x123b48a25L);
        payload.put("r", true);
        payload.put("w", false);
        payload.put("x", true);
        payload.put("u", true);
        payload.put("level", 1);
        payload.put("sptep", 0x12b9a9080L);
        GenericRecord event = new GenericData.Record(v1);
        event.put("vm", "basic");
        event.put("vcpu", 0);
        event.put("seq", 16L);
        event.put("timestampNs", 569_264_868_000L);
        event.put("source", source);
        event.put("payload", payload);
        ByteBuffer bytes;
        try {
            bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(event);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        byte[] raw = new byte[bytes.remaining()];
        bytes.get(raw);

        TraceEvent decoded = AvroCodec.traceEvents().decode(raw);

        assertEquals("basic", decoded.getVm());
        assertEquals(16L, decoded.getSeq());
        assertEquals("CPU 0/KVM", decoded.getSource().getTask());
        KvmMmuSetSpte p = (KvmMmuSetSpte) decoded.getPayload();
        assertEquals(0x123b48a25L, p.getSpte());
        assertEquals(Boolean.TRUE, p.getU());
        assertEquals(0x12b9a9080L, p.getSptep());
    }

    @Test
    void aRecordOfAnUnknownSchemaFingerprintIsRejectedAsUnknownNotAsCorrupt() throws IOException {
        Schema future = testSchema("TraceEvent-future.avsc");
        GenericRecord e = new GenericData.Record(future);
        e.put("vm", "x");
        e.put("vcpu", -1);
        e.put("seq", 0L);
        e.put("timestampNs", 0L);
        GenericRecord src = new GenericData.Record(future.getField("source").schema());
        src.put("task", "t");
        src.put("pid", 1);
        src.put("cpu", 0);
        src.put("origin", "o");
        src.put("line", 1L);
        e.put("source", src);
        Schema newKind = future.getField("payload").schema().getTypes().stream()
                .filter(s -> s.getName().equals("KvmFutureEvent")).findFirst().orElseThrow();
        GenericRecord p = new GenericData.Record(newKind);
        p.put("x", 1L);
        e.put("payload", p);
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), future).encode(e);
        byte[] raw = new byte[buf.remaining()];
        buf.get(raw);

        AvroCodec.UnknownSchemaException ex = assertThrows(AvroCodec.UnknownSchemaException.class,
                () -> AvroCodec.traceEvents().decode(raw));
        assertFalse(ex.getMessage().isEmpty());
    }

    @Test
    void singleObjectEncodingCarriesTheMarkerAndTheSchemaFingerprint() {
        TraceEvent e = TraceEvent.newBuilder()
                .setVm("vm").setSeq(1).setTimestampNs(2)
                .setSource(Source.newBuilder().setTask("kvmrec").setPid(1).setCpu(0).setOrigin("f").setLine(3).build())
                .setPayload(dev.mmureplay.avro.Marker.newBuilder().setText("kvmrec start 0").build())
                .build();
        byte[] bytes = AvroCodec.traceEvents().encode(e);
        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals((byte) 0x01, bytes[1]);
        long fp = ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(org.apache.avro.SchemaNormalization.parsingFingerprint64(TraceEvent.getClassSchema()), fp);
        assertEquals(e, AvroCodec.traceEvents().decode(bytes));
    }

    @Test
    void corruptBytesAreRejectedAsCorrupt() {
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        assertThrows(AvroCodec.CorruptRecordException.class, () -> codec.decode(new byte[] {1, 2, 3}));
        assertThrows(AvroCodec.CorruptRecordException.class, () -> codec.decode(new byte[0]));
        byte[] good = codec.encode(TraceEvent.newBuilder()
                .setVm("vm").setSeq(1).setTimestampNs(2)
                .setSource(Source.newBuilder().setTask("t").setPid(1).setCpu(0).setOrigin("f").setLine(3).build())
                .setPayload(dev.mmureplay.avro.Marker.newBuilder().setText("hello").build())
                .build());
        byte[] cut = java.util.Arrays.copyOf(good, good.length - 4);
        assertThrows(AvroCodec.CorruptRecordException.class, () -> codec.decode(cut));
    }
}
