package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventView;
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
    private final Class<?>[] seenClasses = new Class<?>[64];
    private final Branch[] seenBranches = new Branch[64];
    private int seen;
    private ByteArrayEncoder scratch;

    /** Most bytes of the envelope besides vm's and Source's bytes: 3 ints (vm length, vcpu, union index) and 3 longs. */
    private static final int ENVELOPE_MAX = 3 * 5 + 3 * 10;
    /** Most bytes of Source's fields from task to origin besides the strings': 8 ints (lengths, numbers, indexes). */
    private static final int SOURCE_MAX = 8 * 5;

    // Source's fields but line of the last event, and their bytes (see encodeSource)
    private final ByteArrayEncoder sourceEncoder = new ByteArrayEncoder(256);
    private byte[] srcBytes;
    private int srcLength;
    private String srcTask;
    private int srcPid;
    private boolean srcHasTgid;
    private int srcTgid;
    private int srcCpu;
    private String srcFlags;
    private String srcOrigin;

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
        Source s = e.getSource();
        Integer tgid = s.getTgid();
        ByteArrayEncoder to = into(out);
        writeEvent(to, e.getVm(), e.getVcpu(), e.getSeq(), e.getTimestampNs(), s.getTask(), s.getPid(),
                tgid != null, tgid == null ? 0 : tgid, s.getCpu(), s.getIrqFlags(), s.getOrigin(), s.getLine(),
                e.getPayload());
        copyOut(to, out);
    }

    /** The same bytes as for {@code view.toTraceEvent()}, without making it (ingest's hot path). */
    public void write(EventView v, Encoder out) throws IOException {
        ByteArrayEncoder to = into(out);
        writeEvent(to, v.vm(), v.vcpu(), v.seq(), v.timestampNs(), v.task(), v.pid(), v.hasTgid(), v.tgid(), v.cpu(),
                v.irqFlags(), v.origin(), v.line(), v.payload());
        copyOut(to, out);
    }

    /**
     * The encoder to write into: the caller's when it is a {@link ByteArrayEncoder} (the file and Kafka sinks), else
     * a scratch one copied out afterwards, so that every caller runs the one code path below.
     */
    private ByteArrayEncoder into(Encoder out) {
        if (out instanceof ByteArrayEncoder) {
            return (ByteArrayEncoder) out;
        }
        if (scratch == null) {
            scratch = new ByteArrayEncoder(1024);
        }
        scratch.reset();
        return scratch;
    }

    private void copyOut(ByteArrayEncoder from, Encoder out) throws IOException {
        if (from != out) {
            out.writeFixed(from.array(), 0, from.position());
            if (from.array().length > 64 * 1024) {
                scratch = null;   // do not keep a buffer grown by one huge event
            }
        }
    }

    /**
     * TraceEvent's fields in schema order, Source's inlined (the layout checked by {@link #layoutMatches()}): the
     * envelope goes straight into the array after one capacity check (it is at most {@value #ENVELOPE_MAX} bytes
     * plus its strings), then the union index and the payload's generated encoder.
     */
    private void writeEvent(ByteArrayEncoder out, String vmId, int vcpu, long seq, long timestampNs, String taskName,
                            int pid, boolean hasTgid, int tgid, int cpu, String flags, String originName, long line,
                            Object payload) throws IOException {
        byte[] vmBytes = vm.utf8(vmId);   // NPE for a null required string, as Avro's writer
        if (taskName != srcTask || pid != srcPid || hasTgid != srcHasTgid || tgid != srcTgid || cpu != srcCpu
                || flags != srcFlags || originName != srcOrigin || srcBytes == null) {
            encodeSource(taskName, pid, hasTgid, tgid, cpu, flags, originName);
        }
        if (payload == null) {
            throw new NullPointerException("TraceEvent " + vmId + " seq " + seq + " has no payload");
        }
        Branch b = branch(payload.getClass());
        out.reserve(ENVELOPE_MAX + vmBytes.length + srcLength);
        out.putBytes(vmBytes);
        out.putInt(vcpu);
        out.putLong(seq);
        out.putLong(timestampNs);
        out.putRaw(srcBytes, srcLength);
        out.putLong(line);
        out.putInt(b.index);
        b.write((SpecificRecord) payload, out);
    }

    /**
     * Encodes Source's fields from task to origin (all but line) into srcBytes and remembers them. Why: consecutive
     * events mostly come from the same task, cpu and input, so these ~50 bytes are the same from event to event and
     * one copy replaces four string writes and five numbers. Strings are compared by identity (ingest passes the
     * same instances; other callers only make this cache miss, never wrong).
     */
    private void encodeSource(String taskName, int pid, boolean hasTgid, int tgid, int cpu, String flags,
                              String originName) {
        byte[] taskBytes = task.utf8(taskName);   // NPE for a null required string, as Avro's writer
        byte[] originBytes = origin.utf8(originName);
        byte[] flagBytes = flags == null ? null : irqFlags.utf8(flags);
        ByteArrayEncoder e = sourceEncoder;
        e.reset();
        e.reserve(SOURCE_MAX + taskBytes.length + originBytes.length + (flagBytes == null ? 0 : flagBytes.length));
        e.putBytes(taskBytes);
        e.putInt(pid);
        if (!hasTgid) {
            e.putInt(0);   // union branch 0: null (no bytes)
        } else {
            e.putInt(1);
            e.putInt(tgid);
        }
        e.putInt(cpu);
        if (flagBytes == null) {
            e.putInt(0);
        } else {
            e.putInt(1);
            e.putBytes(flagBytes);
        }
        e.putBytes(originBytes);
        if (e.array().length > 64 * 1024) {   // a huge string: do not keep it
            srcBytes = java.util.Arrays.copyOf(e.array(), e.position());
            sourceEncoder.reset(new byte[256]);
        } else {
            srcBytes = e.array();
        }
        srcLength = e.position();
        srcTask = taskName;
        srcPid = pid;
        srcHasTgid = hasTgid;
        srcTgid = tgid;
        srcCpu = cpu;
        srcFlags = flags;
        srcOrigin = originName;
    }

    /**
     * The union branch of a payload class. Why not only the ClassValue: a linear scan of the few classes seen so far
     * (most frequent first, as they appear early) costs a few identity compares, the ClassValue lookup several loads.
     */
    private Branch branch(Class<?> type) {
        Class<?>[] cs = seenClasses;
        for (int i = 0; i < seen; i++) {
            if (cs[i] == type) {
                return seenBranches[i];
            }
        }
        Branch b = BRANCHES.get(type);
        if (b == null) {
            throw new IllegalArgumentException("not a TraceEvent payload: " + type.getName());
        }
        if (seen < cs.length) {
            cs[seen] = type;
            seenBranches[seen++] = b;
        }
        return b;
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

        byte[] utf8(String s) {
            if (s != last && !s.equals(last)) {   // NPE for a null required string, as Avro's writer
                bytes = s.getBytes(StandardCharsets.UTF_8);
                last = s;
            }
            return bytes;
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
