package dev.mmureplay.jobs;

import dev.mmureplay.model.divergence.VmReplay;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Flink serializer of {@link VmState} — hand-written, versioned, no Kryo, no Java serialization. Layout
 * (format {@value #VERSION}):
 * <pre>
 * byte    version
 * reorder int maxPending, long next, int n, n × (long seq, int len, len bytes: the TraceEvent in Avro single-object
 *         encoding, so events buffered by an older job version stay readable), int g, g × (long from, long to),
 *         long duplicates, long late, long gaps, long missing
 * replay  {@link VmReplay#writeSnapshot} (each model's own versioned snapshot)
 * counts  long records, map byKind, map byPair (int n, n × (utf key, long)), long lastDigestAt,
 *         long lastTimestampNs, boolean timerSet
 * </pre>
 * A reader refuses an unknown version with an {@link IOException} naming it. The serializer has no configuration,
 * so its {@link TypeSerializerSnapshot} is trivially compatible; the data carries its own version.
 */
public final class VmStateSerializer extends TypeSerializer<VmState> {

    private static final long serialVersionUID = 1L;
    static final int VERSION = 1;

    public static final VmStateSerializer INSTANCE = new VmStateSerializer();

    private transient EventIntake intake;

    private EventIntake intake() {
        if (intake == null) {
            intake = new EventIntake();
        }
        return intake;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<VmState> duplicate() {
        return new VmStateSerializer();   // the intake's decoder is not thread-safe: one per user
    }

    @Override
    public VmState createInstance() {
        return null;   // a VmState needs its profiles; the job creates them
    }

    /**
     * The heap state backend's copy-on-write: called on the task thread when it reads a state that a running
     * checkpoint still has to write. {@code from} is written once into bytes and frozen as them (the checkpoint,
     * which holds {@code from}, writes those bytes); the returned state owns {@code from}'s live parts
     * ({@link VmState#handOff}). So the task pays one write instead of a write and a read back of the whole state, and
     * the checkpoint's asynchronous part only copies bytes. Two cases give a real copy instead, read back from bytes:
     * a frozen {@code from} (from its bytes), and a {@code from} that a checkpoint thread is writing at this moment
     * (its lock is held): the task does not wait for that thread, which may be slow on a busy machine, and reading
     * {@code from} alongside it is safe because writing a state has no side effects on it.
     */
    @Override
    public VmState copy(VmState from) {
        try {
            if (!from.lock.tryLock()) {
                return readBack(from);
            }
            try {
                byte[] frozen = from.frozen();
                if (frozen != null) {
                    return deserialize(new DataInputDeserializer(frozen));
                }
                DataOutputSerializer out = new DataOutputSerializer(4096);
                write(from, out);
                return from.handOff(out.getCopyOfBuffer());
            } finally {
                from.lock.unlock();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A deep copy of a live state: written and read back; {@code from} is only read. */
    private VmState readBack(VmState from) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(4096);
        write(from, out);
        return deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
    }

    @Override
    public VmState copy(VmState from, VmState reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(VmState s, DataOutputView out) throws IOException {
        s.lock.lock();   // a checkpoint thread writes s while the task may hand it off (copy)
        try {
            byte[] frozen = s.frozen();
            if (frozen != null) {
                out.write(frozen);
            } else {
                write(s, out);
            }
        } finally {
            s.lock.unlock();
        }
    }

    void write(VmState s, DataOutput out) throws IOException {
        out.writeByte(VERSION);
        ReorderBuffer<EncodedEvent> r = s.reorder;
        out.writeInt(r.maxPending());
        out.writeLong(r.next());
        out.writeInt(r.pending().size());
        for (Map.Entry<Long, EncodedEvent> e : r.pending().entrySet()) {
            out.writeLong(e.getKey());
            byte[] b = e.getValue().singleObject();
            out.writeInt(b.length);
            out.write(b);
        }
        out.writeInt(r.gaps().size());
        for (long[] g : r.gaps()) {
            out.writeLong(g[0]);
            out.writeLong(g[1]);
        }
        out.writeLong(r.duplicates());
        out.writeLong(r.late());
        out.writeLong(r.gapCount());
        out.writeLong(r.missing());
        s.replay.writeSnapshot(out);
        out.writeLong(s.records);
        writeMap(s.byKind, out);
        writeMap(s.byPair, out);
        out.writeLong(s.lastDigestAt);
        out.writeLong(s.lastTimestampNs);
        out.writeBoolean(s.timerSet);
    }

    @Override
    public VmState deserialize(DataInputView in) throws IOException {
        return read(in);
    }

    VmState read(DataInput in) throws IOException {
        int v = in.readUnsignedByte();
        if (v != VERSION) {
            throw new IOException("unknown VmState format version " + v + " (this job reads " + VERSION + ")");
        }
        int maxPending = in.readInt();
        long next = in.readLong();
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("corrupt VmState: " + n + " pending events");
        }
        TreeMap<Long, EncodedEvent> pending = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            long seq = in.readLong();
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            try {
                pending.put(seq, intake().singleObject(b));
            } catch (RuntimeException e) {
                throw new IOException("VmState: pending event seq " + seq + " does not decode: " + e.getMessage(), e);
            }
        }
        int g = in.readInt();
        ArrayDeque<long[]> gaps = new ArrayDeque<>();
        for (int i = 0; i < g; i++) {
            gaps.addLast(new long[] {in.readLong(), in.readLong()});
        }
        ReorderBuffer<EncodedEvent> reorder = new ReorderBuffer<>(maxPending, next, pending, gaps, in.readLong(),
                in.readLong(), in.readLong(), in.readLong());
        VmReplay replay = VmReplay.readSnapshot(in);
        long records = in.readLong();
        TreeMap<String, Long> byKind = readMap(in);
        TreeMap<String, Long> byPair = readMap(in);
        return new VmState(reorder, replay, records, byKind, byPair, in.readLong(), in.readLong(), in.readBoolean());
    }

    private static void writeMap(TreeMap<String, Long> m, DataOutput out) throws IOException {
        out.writeInt(m.size());
        for (Map.Entry<String, Long> e : m.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
    }

    private static TreeMap<String, Long> readMap(DataInput in) throws IOException {
        int n = in.readInt();
        TreeMap<String, Long> m = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            m.put(in.readUTF(), in.readLong());
        }
        return m;
    }

    @Override
    public VmState deserialize(VmState reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof VmStateSerializer;
    }

    @Override
    public int hashCode() {
        return VmStateSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<VmState> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot: no configuration; the data carries its own format version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<VmState> {
        public Snapshot() {
            super(VmStateSerializer::new);
        }
    }
}
