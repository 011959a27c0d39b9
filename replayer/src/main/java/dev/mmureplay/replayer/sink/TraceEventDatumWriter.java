package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import org.apache.avro.Schema;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.Encoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A fast {@link DatumWriter} for {@link TraceEvent}: the same bytes as Avro's {@code SpecificDatumWriter}, at a
 * fraction of the cost. It is the hot path of ingest (every event is encoded once for the file and once for Kafka).
 *
 * <p>Why: Avro 1.12 leaves the generated classes' hand-written coders off by default
 * ({@code org.apache.avro.specific.use_custom_coders}), and {@code TraceEvent} has none at all (its payload is a
 * union of records), so the stock writer walks the schema reflectively for every field and resolves the union by
 * name. This writer encodes the envelope and {@link Source} directly, picks the union branch by class, encodes the
 * payload with the generated {@code customEncode}, and caches the UTF-8 bytes of the strings that repeat from event to
 * event (vm, task, flags, origin).
 *
 * <p>Safety: {@link #create()} checks that the compiled schema still has the field layout this class writes; if the
 * schema evolved (a field added to the envelope or to {@code Source}), it returns Avro's own writer instead, so the
 * output is never wrong, only slower. A test checks byte equality with the stock writer on the real traces.
 *
 * <p>Not thread-safe (string caches): one instance per writer thread.
 */
public final class TraceEventDatumWriter implements DatumWriter<TraceEvent> {

    private static final Schema SCHEMA = TraceEvent.getClassSchema();
    private static final boolean LAYOUT_OK = layoutMatches();

    /** Union index and encoder of each payload class. */
    private static final ClassValue<Branch> BRANCHES = new ClassValue<>() {
        @Override
        protected Branch computeValue(Class<?> type) {
            List<Schema> branches = SCHEMA.getField("payload").schema().getTypes();
            for (int i = 0; i < branches.size(); i++) {
                if (branches.get(i).getFullName().equals(type.getName())) {
                    return new Branch(i, branches.get(i), hasCustomCoders(type));
                }
            }
            return null;
        }
    };

    private final StringCache vm = new StringCache();
    private final StringCache task = new StringCache();
    private final StringCache irqFlags = new StringCache();
    private final StringCache origin = new StringCache();

    private TraceEventDatumWriter() {
    }

    /** The fast writer, or Avro's (with the generated coders enabled) if the schema no longer has the known layout. */
    public static DatumWriter<TraceEvent> create() {
        return LAYOUT_OK ? new TraceEventDatumWriter() : specificWriter();
    }

    /** Avro's own writer for TraceEvent, with the generated coders of the nested records enabled. */
    public static DatumWriter<TraceEvent> specificWriter() {
        SpecificData model = new SpecificData();
        model.setCustomCoders(true);
        return new SpecificDatumWriter<>(SCHEMA, model);
    }

    /** Whether {@link #create()} returns the fast writer. */
    public static boolean fastPathAvailable() {
        return LAYOUT_OK;
    }

    @Override
    public void setSchema(Schema schema) {
        if (!schema.equals(SCHEMA)) {
            throw new IllegalArgumentException("TraceEventDatumWriter writes only the compiled TraceEvent schema");
        }
    }

    @Override
    public void write(TraceEvent e, Encoder out) throws IOException {
        vm.write(e.getVm(), out);
        out.writeInt(e.getVcpu());
        out.writeLong(e.getSeq());
        out.writeLong(e.getTimestampNs());
        Source s = e.getSource();
        task.write(s.getTask(), out);
        out.writeInt(s.getPid());
        Integer tgid = s.getTgid();
        if (tgid == null) {
            out.writeIndex(0);
            out.writeNull();
        } else {
            out.writeIndex(1);
            out.writeInt(tgid);
        }
        out.writeInt(s.getCpu());
        String flags = s.getIrqFlags();
        if (flags == null) {
            out.writeIndex(0);
            out.writeNull();
        } else {
            out.writeIndex(1);
            irqFlags.write(flags, out);
        }
        origin.write(s.getOrigin(), out);
        out.writeLong(s.getLine());
        Object payload = e.getPayload();
        if (payload == null) {
            throw new NullPointerException("TraceEvent " + e.getVm() + " seq " + e.getSeq() + " has no payload");
        }
        Branch b = BRANCHES.get(payload.getClass());
        if (b == null) {
            throw new IllegalArgumentException("not a TraceEvent payload: " + payload.getClass().getName());
        }
        out.writeIndex(b.index);
        b.write((SpecificRecord) payload, out);
    }

    private static final class Branch {
        final int index;
        final boolean custom;
        final DatumWriter<SpecificRecord> fallback;

        Branch(int index, Schema schema, boolean custom) {
            this.index = index;
            this.custom = custom;
            SpecificData model = new SpecificData();
            model.setCustomCoders(true);
            this.fallback = custom ? null : new SpecificDatumWriter<>(schema, model);
        }

        void write(SpecificRecord payload, Encoder out) throws IOException {
            if (custom) {
                ((SpecificRecordBase) payload).customEncode(out);
            } else {
                fallback.write(payload, out);
            }
        }
    }

    /** The UTF-8 bytes of the last string written in one field (these repeat: vm, task, origin, flags). */
    private static final class StringCache {
        private String last;
        private byte[] bytes;

        void write(String s, Encoder out) throws IOException {
            if (s != last && !s.equals(last)) {   // NPE for a null required string, as Avro's writer
                bytes = s.getBytes(StandardCharsets.UTF_8);
                last = s;
            }
            out.writeInt(bytes.length);
            out.writeFixed(bytes, 0, bytes.length);
        }
    }

    private static boolean hasCustomCoders(Class<?> type) {
        if (!SpecificRecordBase.class.isAssignableFrom(type)) {
            return false;
        }
        try {
            Method m = type.getDeclaredMethod("hasCustomCoders");
            m.setAccessible(true);
            return (Boolean) m.invoke(type.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** The envelope and Source field layout this class writes, checked against the compiled schema. */
    private static boolean layoutMatches() {
        return fields(SCHEMA, "vm:STRING", "vcpu:INT", "seq:LONG", "timestampNs:LONG", "source:RECORD",
                "payload:UNION")
                && SCHEMA.getField("source").schema().getFullName().equals(Source.class.getName())
                && fields(Source.getClassSchema(), "task:STRING", "pid:INT", "tgid:null|INT", "cpu:INT",
                "irqFlags:null|STRING", "origin:STRING", "line:LONG");
    }

    private static boolean fields(Schema record, String... expected) {
        List<Schema.Field> fields = record.getFields();
        if (fields.size() != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            Schema.Field f = fields.get(i);
            String type;
            if (f.schema().getType() == Schema.Type.UNION && f.name().equals("payload")) {
                type = "UNION";
            } else if (f.schema().getType() == Schema.Type.UNION) {
                List<Schema> t = f.schema().getTypes();
                type = t.size() == 2 && t.get(0).getType() == Schema.Type.NULL ? "null|" + t.get(1).getType() : "?";
            } else {
                type = f.schema().getType().name();
            }
            if (!(f.name() + ":" + type).equals(expected[i])) {
                return false;
            }
        }
        return true;
    }
}
