package dev.mmureplay.replayer.model;

import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.replayer.parse.InternTable;
import dev.mmureplay.schemas.AvroCodec.CorruptRecordException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Decodes the Avro binary encoding of a {@link TraceEvent} straight into the model's {@link ModelEvent}, without
 * building the generated Avro objects.
 *
 * <h2>Why</h2>
 * The Flink replay job moves each event as its raw Avro bytes and decodes it only in the replay task. Going through
 * the generated classes ({@code SpecificDatumReader} → {@link TraceEvent} → {@link ModelEvents#of(TraceEvent)})
 * costs ~240-430 ns per event (strings, nested records, reflective construction); this decoder reads the bytes
 * once, keeps numbers in reusable slot arrays, materialises only the strings the model reads and allocates just the
 * {@link ModelEvent} (and its {@link ShadowPageInfo}): ~80 ns per event to decode, ~60 ns to scan (benchmarks
 * module, {@code dev.mmureplay.bench.DecodeBench}: real traces, one core). The generated-class path stays the
 * reference: the decoder's result equals {@code ModelEvents.of} of what {@code SpecificDatumReader} decodes from the
 * same bytes, and {@link ModelEvents} owns the mapping rules (letter groups, shadow-page rules, printed symbols,
 * hex), which this class calls rather than restates.
 *
 * <h2>How</h2>
 * The constructor compiles the schema: nested records are flattened into one flat program of primitive reads per
 * {@code payload} branch (and one for the envelope), each read with a slot; the model mapping of each branch finds
 * its fields by name path ({@code "pferr.value"}, {@code "sp.gen"}) and checks their types, so reordering fields or
 * adding fields to the schema needs no change here. A program is interpreted into {@code long[]} values and
 * {@code boolean[]} null flags; strings and bytes are kept as (offset, length) into the caller's buffer, so those
 * the model does not need (task, irq flags, the exception symbol, ...) are never materialised.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>Input is plain Avro binary of the schema, no single-object header (see {@link #HEADER},
 *       {@link #hasCurrentHeader}); one record from {@code off}, never reading at or beyond {@code limit}.</li>
 *   <li>Bytes that are not a well-formed record throw {@link CorruptRecordException}, never another exception, an
 *       endless loop or a large allocation: a read past {@code limit}; a union branch or enum ordinal out of range;
 *       a negative length or one longer than what is left; a varint longer than 10 bytes (5 for an int) or out of
 *       its type's range; a boolean byte other than 0 or 1 (stricter than Avro, which reads it as false). Invalid
 *       UTF-8 is not detected (nor by Avro: both decode it with replacement characters).</li>
 *   <li>{@link #scan} runs the very same program as {@link #decode}, so it accepts exactly the same records: a
 *       record that passed {@code scan} at the source decodes later. {@code decode} may still throw
 *       {@link IllegalArgumentException} where {@code ModelEvents.of} would (a payload branch with no model
 *       mapping; none in the current schema).</li>
 *   <li>The vm, the source origin, and the kvm_exit / userspace-exit reasons and generic event names are interned
 *       in a bounded cache (cleared when it holds {@value #INTERN_MAX} strings): equal bytes give the same
 *       {@code String} instance, memory stays flat whatever the number of distinct values.</li>
 *   <li>One instance per thread: it is not thread-safe (reusable slots and caches).</li>
 * </ul>
 */
public final class TraceEventDecoder {

    /** Length of the Avro single-object header: marker C3 01, then the 8-byte schema fingerprint (little-endian). */
    public static final int HEADER = 10;

    /** Strings interned before the cache is cleared (the replay job sees a few VMs and a few dozen reasons). */
    static final int INTERN_MAX = 4096;

    private static final byte[] CURRENT_HEADER = header(TraceEvent.getClassSchema());

    /** Reused result holder for the envelope. */
    public static final class Envelope {
        /** Interned: the same instance for equal bytes. */
        public String vm;
        public int vcpu;
        public long seq;
        public long timestampNs;
        /** Source.origin, interned (decode only; scan leaves it unchanged). */
        public String origin;
        /** Source.line (decode only). */
        public long line;
        /** Exclusive end offset of the record in the buffer. */
        public int end;
    }

    // ------------------------------------------------------------------------------------------- program

    // An op is three ints: code, slot, arg (run reads them). Every field has a slot in vals (numbers; booleans 0/1;
    // enum ordinals; strings, bytes and fixed as offset << 32 | length) and nulls (null flag of a nullable field).
    private static final int LONG = 0;
    private static final int INT = 1;
    /** arg consecutive booleans (their slots are consecutive too): PfErrorCode has 16 in a row. */
    private static final int BOOLEANS = 2;
    private static final int FLOAT = 3;
    private static final int DOUBLE = 4;
    private static final int STRING = 5;
    private static final int BYTES = 6;
    /** arg = number of symbols. */
    private static final int ENUM = 7;
    /** arg = size. */
    private static final int FIXED = 8;
    private static final int NULL = 9;
    /** A nullable record: only its null flag; when null, the arg ops of its fields that follow are skipped. */
    private static final int RECORD = 10;
    /** The payload union: arg = number of branches; the branch's program runs there. */
    private static final int PAYLOAD = 11;
    /** Flag: the field is union {null, T} (NULL_SECOND: {T, null}); its branch index is read first. */
    private static final int NULLABLE = 0x10;
    private static final int NULL_SECOND = 0x20;
    private static final int TYPE = 0x0f;
    private static final String[] TYPE_NAMES = {"long", "int", "boolean", "float", "double", "string", "bytes",
            "enum", "fixed", "null", "record", "payload union"};

    /** Makes the model event of the current payload branch from the slots. */
    @FunctionalInterface
    private interface Builder {
        ModelEvent build(long seq, int vcpu);
    }

    private final int[] envelope;
    private final String[] envelopeNames;
    private final int[][] branches;
    private final String[][] branchFieldNames;
    private final String[] branchNames;
    private final Builder[] builders;
    private final int vmSlot;
    private final int vcpuSlot;
    private final int seqSlot;
    private final int timestampSlot;
    private final int originSlot;
    private final int lineSlot;
    /** The envelope ops up to and including the last of vm, vcpu, seq, timestampNs ({@link #head}). */
    private final int headOps;
    /** The envelope's slots, op by op, when its ops are {@link #FAST_ENVELOPE} ({@link #envelopeFast}); else null. */
    private final int[] fastSlots;

    // ------------------------------------------------------------------------------------------- state

    private final long[] vals;
    private final boolean[] nulls;
    private final InternTable<String> strings = new InternTable<>(INTERN_MAX);
    private static final InternTable.Factory<String> UTF8 =
            (b, from, to) -> new String(b, from, to - from, StandardCharsets.UTF_8);
    /** Per interned slot, the last key and its string: a repeated vm or origin skips the table (bounded keys). */
    private final byte[][] lastKeys;
    private final int[] lastLengths;
    private final String[] lastStrings;
    private static final int LAST_KEY_MAX = 256;
    private byte[] buf;
    /** Where the read that failed started (set before anything that can throw); the slow readers' cursor. */
    private int pos;
    private int start;
    private int limit;
    private int branch;

    /** A decoder of the current {@link TraceEvent} schema. */
    public TraceEventDecoder() {
        this(TraceEvent.getClassSchema());
    }

    /** A decoder of {@code schema}: the TraceEvent schema, its fields in any order (tests reorder them). */
    TraceEventDecoder(Schema schema) {
        Program env = new Program(0, "");
        env.record("", schema);
        if (env.payload == null) {
            throw new IllegalStateException(schema.getFullName() + " has no payload union");
        }
        envelope = env.ops();
        envelopeNames = env.names();
        vmSlot = env.slot("vm", STRING, false);
        vcpuSlot = env.slot("vcpu", INT, false);
        seqSlot = env.slot("seq", LONG, false);
        timestampSlot = env.slot("timestampNs", LONG, false);
        headOps = opsThrough(envelope, vmSlot, vcpuSlot, seqSlot, timestampSlot);
        fastSlots = fastSlots(envelope);
        originSlot = env.slot("source.origin", STRING, false);
        lineSlot = env.slot("source.line", LONG, false);

        Map<String, Function<Program, Builder>> mappings = mappings();
        List<Schema> types = env.payload.getTypes();
        branches = new int[types.size()][];
        branchFieldNames = new String[types.size()][];
        branchNames = new String[types.size()];
        builders = new Builder[types.size()];
        int slots = env.slots;
        for (int i = 0; i < types.size(); i++) {
            Schema t = types.get(i);
            if (t.getType() != Schema.Type.RECORD) {
                throw new IllegalStateException("payload branch " + i + " is not a record: " + t);
            }
            Program p = new Program(env.slots, "payload." + t.getName() + ".");
            p.record("", t);
            branches[i] = p.ops();
            branchFieldNames[i] = p.names();
            branchNames[i] = t.getName();
            Function<Program, Builder> m = mappings.get(t.getName());
            builders[i] = m == null ? null : m.apply(p);   // none: decode throws, as ModelEvents.of would
            slots = Math.max(slots, p.slots);
        }
        vals = new long[slots];
        nulls = new boolean[slots];
        lastKeys = new byte[slots][];
        lastLengths = new int[slots];
        lastStrings = new String[slots];
    }

    // ------------------------------------------------------------------------------------------- API

    /**
     * Validates one record's structure starting at {@code buf[off]} (not reading at or beyond {@code limit}) and
     * fills {@code vm}, {@code vcpu}, {@code seq}, {@code timestampNs} and {@code end}.
     *
     * @throws CorruptRecordException when the bytes are not a well-formed record of the schema
     */
    public void scan(byte[] buf, int off, int limit, Envelope out) {
        try {
            read(buf, off, limit);
            envelope(out);
        } finally {
            this.buf = null;
        }
    }

    /**
     * Decodes one record: fills the whole envelope and returns the model event, equal to {@code ModelEvents.of} of
     * the {@link TraceEvent} Avro decodes from the same bytes.
     *
     * @throws CorruptRecordException   when the bytes are not a well-formed record of the schema
     * @throws IllegalArgumentException when the payload branch has no model event (as {@code ModelEvents.of})
     */
    public ModelEvent decode(byte[] buf, int off, int limit, Envelope out) {
        try {
            read(buf, off, limit);
            envelope(out);
            out.origin = string(originSlot, true);
            out.line = vals[lineSlot];
            return modelEvent(out);
        } finally {
            this.buf = null;
        }
    }

    /**
     * As {@link #decode}, but fills only {@code vcpu}, {@code seq}, {@code timestampNs} and {@code end} of the
     * envelope, leaving {@code vm}, {@code origin} and {@code line} as they were: no string of the envelope is made
     * or looked up (the replay job knows the vm, its key, and needs the origin only for a dead letter, which decodes
     * again).
     */
    public ModelEvent decodeEvent(byte[] buf, int off, int limit, Envelope out) {
        try {
            read(buf, off, limit);
            numbers(out);
            return modelEvent(out);
        } finally {
            this.buf = null;
        }
    }

    /** The model event of the record just read (its payload branch's builder). */
    private ModelEvent modelEvent(Envelope out) {
        Builder b = builders[branch];
        if (b == null) {
            throw new IllegalArgumentException("not a TraceEvent payload with a model event: " + branchNames[branch]);
        }
        return b.build(out.seq, out.vcpu);
    }

    /**
     * Reads only the envelope's leading fields — {@code vm}, {@code vcpu}, {@code seq}, {@code timestampNs} — of a
     * record that was {@link #scan scanned} before (the replay job's keyBy hop: the key and the seq of bytes a source
     * checked). Leaves {@code end}, {@code origin} and {@code line} as they were.
     *
     * @throws CorruptRecordException when the leading fields are not well formed
     */
    public void head(byte[] buf, int off, int limit, Envelope out) {
        Objects.checkFromToIndex(off, limit, buf.length);
        this.buf = buf;
        this.start = off;
        this.limit = limit;
        try {
            this.pos = run(envelope, envelopeNames, off, headOps);
            out.vm = string(vmSlot, true);
            out.vcpu = (int) vals[vcpuSlot];
            out.seq = vals[seqSlot];
            out.timestampNs = vals[timestampSlot];
        } finally {
            this.buf = null;
        }
    }

    /** Writes the single-object header of the current {@link TraceEvent} schema into {@code b[0..HEADER)}. */
    public static void writeHeader(byte[] b) {
        System.arraycopy(CURRENT_HEADER, 0, b, 0, HEADER);
    }

    /** True when {@code b} starts with the single-object header of the current {@link TraceEvent} schema. */
    public static boolean hasCurrentHeader(byte[] b) {
        return b != null && b.length >= HEADER && Arrays.equals(b, 0, HEADER, CURRENT_HEADER, 0, HEADER);
    }

    /** Whether the envelope is read by {@link #envelopeFast} (the current schema's is: a test holds it so). */
    boolean hasFastEnvelope() {
        return fastSlots != null;
    }

    /** Strings held by the intern cache (bounded by {@link #INTERN_MAX}). */
    int internedCount() {
        return strings.size();
    }

    /** The length of the prefix of {@code prog} that reads every one of {@code slots}. */
    private static int opsThrough(int[] prog, int... slots) {
        int end = 0;
        for (int slot : slots) {
            for (int i = 0; i < prog.length; i += 3) {
                if (prog[i + 1] == slot && (prog[i] & TYPE) != RECORD) {
                    end = Math.max(end, i + 3);
                    break;
                }
            }
        }
        return end;
    }

    private static byte[] header(Schema schema) {
        long fp = SchemaNormalization.parsingFingerprint64(schema);
        byte[] h = new byte[HEADER];
        h[0] = (byte) 0xC3;
        h[1] = 0x01;
        for (int i = 0; i < 8; i++) {
            h[2 + i] = (byte) (fp >>> (8 * i));
        }
        return h;
    }

    // ------------------------------------------------------------------------------------------- interpreter

    private void read(byte[] buf, int off, int limit) {
        Objects.checkFromToIndex(off, limit, buf.length);
        this.buf = buf;
        this.start = off;
        this.limit = limit;
        this.pos = run(off);
    }

    private void envelope(Envelope out) {
        out.vm = string(vmSlot, true);
        numbers(out);
    }

    /** The envelope's numbers of the record just read, and its end. */
    private void numbers(Envelope out) {
        out.vcpu = (int) vals[vcpuSlot];
        out.seq = vals[seqSlot];
        out.timestampNs = vals[timestampSlot];
        out.end = pos;
    }

    /** Runs the envelope's program (and, at its payload, the branch's) from byte p; the position after the record. */
    private int run(int p) {
        if (fastSlots != null) {
            int end = envelopeFast(p);
            if (end >= 0) {
                return end;
            }
        }
        return run(envelope, envelopeNames, p);   // also every record the fast path leaves: it reports what is wrong
    }

    // ------------------------------------------------------------------------------------------- envelope fast path

    /**
     * The envelope ops of the current {@link TraceEvent} schema, in order: vm, vcpu, seq, timestampNs, then
     * source.task, .pid, .tgid (nullable), .cpu, .irqFlags (nullable), .origin, .line, then the payload union.
     */
    private static final int[] FAST_ENVELOPE = {STRING, INT, LONG, LONG, STRING, INT, NULLABLE | INT, INT,
            NULLABLE | STRING, STRING, LONG, PAYLOAD};

    /** The slots of {@code prog}'s ops when its codes are {@link #FAST_ENVELOPE}, else null. */
    private static int[] fastSlots(int[] prog) {
        if (prog.length != 3 * FAST_ENVELOPE.length) {
            return null;
        }
        int[] slots = new int[FAST_ENVELOPE.length];
        for (int i = 0; i < FAST_ENVELOPE.length; i++) {
            if (prog[3 * i] != FAST_ENVELOPE[i]) {
                return null;
            }
            slots[i] = prog[3 * i + 1];
        }
        return slots;
    }

    /**
     * Reads the envelope of the current schema with its ops unrolled (the interpreter's per-op dispatch is most of
     * its cost: the envelope is 11 of a record's ~14 ops, and every event is read twice, scanned by its source and
     * decoded by its replay task), then the payload branch through the interpreter. It takes only the common forms —
     * varints of at most 8 bytes (ints: 4) with 8 bytes readable, union indexes of one byte — and gives up on
     * anything else, returning -1 before it could throw: {@link #run(int)} then reads the record again with the
     * interpreter, which reads the same values from every record this accepts, and reports what is wrong with the
     * others. Errors inside the payload branch come from the interpreter already.
     */
    private int envelopeFast(int p) {
        final byte[] b = buf;
        final int lim = limit;
        final long[] v = vals;
        final int[] s = fastSlots;
        if ((p = bytes(b, p, lim, v, s[0])) < 0
                || (p = varint(b, p, lim, v, s[1], 4)) < 0
                || (p = varint(b, p, lim, v, s[2], 8)) < 0
                || (p = varint(b, p, lim, v, s[3], 8)) < 0
                || (p = bytes(b, p, lim, v, s[4])) < 0
                || (p = varint(b, p, lim, v, s[5], 4)) < 0
                || (p = nullable(b, p, lim, v, s[6], 4)) < 0
                || (p = varint(b, p, lim, v, s[7], 4)) < 0
                || (p = nullable(b, p, lim, v, s[8], 0)) < 0
                || (p = bytes(b, p, lim, v, s[9])) < 0
                || (p = varint(b, p, lim, v, s[10], 8)) < 0
                || p >= lim) {
            return -1;
        }
        int x = b[p];
        int br = (x >>> 1) ^ -(x & 1);
        if (x < 0 || br < 0 || br >= branches.length) {
            return -1;
        }
        branch = br;
        return run(branches[br], branchFieldNames[br], p + 1);
    }

    /**
     * A {@code [null, T]} union at {@code b[p]} into {@code slot} (its null flag, and its value when present): T is an
     * int or long of at most {@code maxVarintBytes} bytes, or bytes/string when that is 0. The position after it, or -1.
     */
    private int nullable(byte[] b, int p, int lim, long[] v, int slot, int maxVarintBytes) {
        int index = nullIndex(b, p, lim);
        if (index < 0) {
            return -1;
        }
        nulls[slot] = index == 0;
        if (index == 0) {
            return p + 1;
        }
        return maxVarintBytes == 0 ? bytes(b, p + 1, lim, v, slot) : varint(b, p + 1, lim, v, slot, maxVarintBytes);
    }

    /**
     * A zigzag varint at {@code b[p]} of at most {@code maxBytes} (≤ 8) bytes into {@code v[slot]}: the position
     * after it, or -1 (longer, or fewer than 8 bytes readable and not one byte long). Values as readLong/readInt.
     */
    private static int varint(byte[] b, int p, int lim, long[] v, int slot, int maxBytes) {
        int x;
        if (p < lim && (x = b[p]) >= 0) {
            v[slot] = (x >>> 1) ^ -(x & 1);
            return p + 1;
        }
        if (lim - p < 8) {
            return -1;
        }
        long w = (long) LONGS.get(b, p);
        int last = Long.numberOfTrailingZeros(~w & STOP_BITS);   // 8 * (length - 1) + 7; 64 when longer than 8
        if (last >= 8 * maxBytes) {
            return -1;
        }
        long u = gather(w & (-1L >>> (63 - last)));
        v[slot] = (u >>> 1) ^ -(u & 1);
        return p + (last >>> 3) + 1;
    }

    /** A string or bytes at {@code b[p]} as (offset, length) into {@code v[slot]}: the position after, or -1. */
    private static int bytes(byte[] b, int p, int lim, long[] v, int slot) {
        int q = varint(b, p, lim, v, slot, 4);
        if (q < 0) {
            return -1;
        }
        long n = v[slot];
        if (n < 0 || n > lim - q) {
            return -1;
        }
        v[slot] = (long) q << 32 | n;
        return q + (int) n;
    }

    /** The branch index (0 or 1) of a two-branch union at {@code b[p]}, or -1. */
    private static int nullIndex(byte[] b, int p, int lim) {
        if (p >= lim) {
            return -1;
        }
        int x = b[p];
        return x == 0 ? 0 : x == 2 ? 1 : -1;   // zigzag 0 and 1, one byte
    }

    /**
     * Runs a program from byte p; returns the position after it. The cursor is the local p and one-byte varints
     * (most of them) are read inline; longer ones, and every error, go through the readers on the field
     * {@link #pos}, which is set to the start of a read before anything that can throw. The ops are tested by
     * frequency: long, int, string, then a switch for the rest.
     */
    private int run(int[] prog, String[] names, int p) {
        return run(prog, names, p, prog.length);
    }

    /** {@link #run(int[], String[], int)} of the ops before index {@code to} only. */
    private int run(int[] prog, String[] names, int p, int to) {
        final byte[] b = buf;
        final int lim = limit;
        final long[] v = vals;
        int i = 0;
        int element = 0;
        try {
            for (; i < to; i += 3) {
                int code = prog[i];
                int slot = prog[i + 1];
                int x;
                if (code >= NULLABLE) {
                    int at = p;
                    int index;
                    if (p < lim && (x = b[p]) >= 0) {
                        index = (x >>> 1) ^ -(x & 1);
                        p++;
                    } else {
                        pos = p;
                        index = readInt();
                        p = pos;
                    }
                    if (index >>> 1 != 0) {
                        pos = at;
                        throw new Malformed("union branch index " + index + " out of range (2 branches)");
                    }
                    boolean isNull = index == ((code & NULL_SECOND) != 0 ? 1 : 0);
                    nulls[slot] = isNull;
                    code &= TYPE;
                    if (isNull) {
                        if (code == RECORD) {
                            i += 3 * prog[i + 2];
                        }
                        continue;
                    }
                }
                if (code == LONG) {
                    if (p < lim && (x = b[p]) >= 0) {
                        v[slot] = (x >>> 1) ^ -(x & 1);
                        p++;
                    } else {
                        pos = p;
                        v[slot] = readLong();
                        p = pos;
                    }
                } else if (code == INT) {
                    if (p < lim && (x = b[p]) >= 0) {
                        v[slot] = (x >>> 1) ^ -(x & 1);
                        p++;
                    } else {
                        pos = p;
                        v[slot] = readInt();
                        p = pos;
                    }
                } else if (code == STRING || code == BYTES) {
                    int at = p;
                    long n;
                    if (p < lim && (x = b[p]) >= 0) {
                        n = (x >>> 1) ^ -(x & 1);
                        p++;
                    } else {
                        pos = p;
                        n = readLong();
                        p = pos;
                    }
                    if (n < 0 || n > lim - p) {
                        pos = at;
                        throw badLength(n, lim - p);
                    }
                    v[slot] = (long) p << 32 | n;
                    p += (int) n;
                } else {
                    switch (code) {
                        case BOOLEANS -> {
                            int n = prog[i + 2];
                            pos = p;
                            if (n > lim - p) {
                                throw truncated();
                            }
                            int any = 0;
                            for (int k = 0; k < n; k++) {
                                x = b[p + k];
                                any |= x;
                                v[slot + k] = x;
                            }
                            if ((any & ~1) != 0) {
                                while ((b[p + element] & ~1) == 0) {
                                    element++;
                                }
                                pos = p + element;
                                throw new Malformed("boolean byte " + (b[pos] & 0xff) + " is neither 0 nor 1");
                            }
                            p += n;
                        }
                        case PAYLOAD -> {
                            pos = p;
                            int br = readIndex(prog[i + 2], "union branch index", "branches");
                            branch = br;
                            p = run(branches[br], branchFieldNames[br], pos);
                        }
                        case ENUM -> {
                            pos = p;
                            v[slot] = readIndex(prog[i + 2], "enum ordinal", "symbols");
                            p = pos;
                        }
                        case FLOAT, DOUBLE, FIXED -> {
                            int n = code == FLOAT ? 4 : code == DOUBLE ? 8 : prog[i + 2];
                            if (n > lim - p) {
                                pos = p;
                                throw truncated();
                            }
                            v[slot] = (long) p << 32 | n;
                            p += n;
                        }
                        default -> {
                            // NULL: nothing to read; RECORD (not null): its fields follow
                        }
                    }
                }
            }
        } catch (Malformed m) {
            throw new CorruptRecordException("corrupt TraceEvent at byte " + (pos - start) + " of the record, field "
                    + names[prog[i + 1] + element] + ": " + m.getMessage());
        }
        return p;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long STOP_BITS = 0x8080808080808080L;

    /** The 7-bit groups of the (up to 8) varint bytes of w, little-endian, packed into the low 56 bits. */
    private static long gather(long w) {
        w &= ~STOP_BITS;
        w = (w & 0x007f007f007f007fL) | (w & 0x7f007f007f007f00L) >>> 1;
        w = (w & 0x00003fff00003fffL) | (w & 0x3fff00003fff0000L) >>> 2;
        return (w & 0x000000000fffffffL) | (w & 0x0fffffff00000000L) >>> 4;
    }

    /**
     * Zigzag varint at {@link #pos} of at most 10 bytes whose value fits 64 bits. With 8 bytes left they are read
     * at once and the last byte found from their high bits (9 and 10 bytes: two more reads); near the limit, and
     * for every error, byte by byte.
     */
    private long readLong() {
        int p = pos;
        if (limit - p >= 8) {
            long w = (long) LONGS.get(buf, p);
            long stops = ~w & STOP_BITS;
            if (stops != 0) {
                int last = Long.numberOfTrailingZeros(stops);   // 8 * (length - 1) + 7
                long v = gather(w & (-1L >>> (63 - last)));
                pos = p + (last >>> 3) + 1;
                return (v >>> 1) ^ -(v & 1);
            }
            if (limit - p >= 10) {
                int x8 = buf[p + 8];
                long v = gather(w) | (long) (x8 & 0x7f) << 56;
                if (x8 >= 0) {
                    pos = p + 9;
                    return (v >>> 1) ^ -(v & 1);
                }
                int x9 = buf[p + 9];
                if ((x9 & ~1) == 0) {
                    v |= (long) x9 << 63;
                    pos = p + 10;
                    return (v >>> 1) ^ -(v & 1);
                }
            }
        }
        return readLongByBytes();
    }

    private long readLongByBytes() {
        byte[] b = buf;
        int p = pos;
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            if (p >= limit) {
                throw truncated();
            }
            int x = b[p++];
            if (shift == 63) {
                if ((x & 0xff) > 1) {
                    throw new Malformed(x < 0 ? "long varint longer than 10 bytes" : "varint out of the long range");
                }
                v |= (long) x << 63;
                break;
            }
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) {
                break;
            }
        }
        pos = p;
        return (v >>> 1) ^ -(v & 1);
    }

    /** Zigzag varint at {@link #pos} of at most 5 bytes whose value fits 32 bits (as {@link #readLong}). */
    private int readInt() {
        int p = pos;
        if (limit - p >= 8) {
            long w = (long) LONGS.get(buf, p);
            int last = Long.numberOfTrailingZeros(~w & STOP_BITS);
            // at most 4 bytes, or 5 whose last has no bit above bit 31 of the value
            if (last < 32 || last == 39 && (w & 0x0000007000000000L) == 0) {
                int v = (int) gather(w & (-1L >>> (63 - last)));
                pos = p + (last >>> 3) + 1;
                return (v >>> 1) ^ -(v & 1);
            }
        }
        return readIntByBytes();
    }

    private int readIntByBytes() {
        byte[] b = buf;
        int p = pos;
        int v = 0;
        for (int shift = 0; ; shift += 7) {
            if (p >= limit) {
                throw truncated();
            }
            int x = b[p++];
            if (shift == 28) {
                if ((x & 0xf0) != 0) {
                    throw new Malformed(x < 0 ? "int varint longer than 5 bytes" : "varint out of the int range");
                }
                v |= x << 28;
                break;
            }
            v |= (x & 0x7f) << shift;
            if (x >= 0) {
                break;
            }
        }
        pos = p;
        return (v >>> 1) ^ -(v & 1);
    }

    /** An int at {@link #pos} in [0, count). */
    private int readIndex(int count, String what, String of) {
        int at = pos;
        int x = readInt();
        if (x < 0 || x >= count) {
            pos = at;
            throw new Malformed(what + " " + x + " out of range (" + count + " " + of + ")");
        }
        return x;
    }

    /** A length read at {@link #pos} that is negative or longer than the bytes left after it. */
    private Malformed badLength(long n, int left) {
        return new Malformed(n < 0 ? "negative length " + n
                : "length " + n + " beyond the limit (" + left + " bytes left)");
    }

    private Malformed truncated() {
        return new Malformed("truncated (reads past the limit, " + (limit - start) + " bytes)");
    }

    /** A structural error, turned into a {@link CorruptRecordException} naming the field by {@link #run}. */
    private static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    // ------------------------------------------------------------------------------------------- slot readers

    private int i32(int slot) {
        return (int) vals[slot];
    }

    private boolean bool(int slot) {
        return vals[slot] != 0;
    }

    /** A nullable long: null → {@link ModelEvent#UNKNOWN}. */
    private long orUnknown(int slot) {
        return nulls[slot] ? ModelEvent.UNKNOWN : vals[slot];
    }

    /** A nullable boolean, boxed without allocating (the Boolean constants). */
    private Boolean optBool(int slot) {
        return nulls[slot] ? null : Boolean.valueOf(vals[slot] != 0);
    }

    /** The string of a slot: a new one, or the interned one (the slot's last, or the intern cache's). */
    private String string(int slot, boolean intern) {
        long range = vals[slot];
        int from = (int) (range >>> 32);
        int n = (int) range;
        if (!intern) {
            return UTF8.create(buf, from, from + n);
        }
        byte[] last = lastKeys[slot];
        if (last != null && lastLengths[slot] == n && Arrays.equals(buf, from, from + n, last, 0, n)) {
            return lastStrings[slot];
        }
        if (strings.full()) {
            strings.clear();
            Arrays.fill(lastKeys, null);
        }
        String s = strings.get(buf, from, from + n, UTF8);
        if (n <= LAST_KEY_MAX) {
            if (last == null || last.length < n) {
                last = new byte[Math.max(n, 32)];
                lastKeys[slot] = last;
            }
            System.arraycopy(buf, from, last, 0, n);
            lastLengths[slot] = n;
            lastStrings[slot] = s;
        }
        return s;
    }

    private String hex(int slot) {
        long range = vals[slot];
        return ModelEvents.hex(buf, (int) (range >>> 32), (int) range);
    }

    /** The slots of a flattened ShadowPage record. */
    private record Sp(int gen, int gfn, int level, int fourByte, int quadrant, int direct, int access, int invalid,
                      int nxe, int adDisabled, int cr0Wp, int rootCount, int unsync) {
        static Sp of(Program p, String path) {
            String s = path + ".";
            return new Sp(p.optLong(s + "gen"), p.optLong(s + "gfn"), p.i32(s + "level"), p.bool(s + "has4ByteGpte"),
                    p.i32(s + "quadrant"), p.bool(s + "direct"), p.i32(s + "access"), p.bool(s + "invalid"),
                    p.bool(s + "eferNx"), p.optBool(s + "adDisabled"), p.optBool(s + "cr0Wp"), p.i32(s + "rootCount"),
                    p.bool(s + "unsync"));
        }
    }

    /** {@link ModelEvents#shadowPage} of the slots. */
    private ShadowPageInfo shadowPage(Sp s) {
        return new ShadowPageInfo(orUnknown(s.gen), orUnknown(s.gfn), i32(s.level), bool(s.fourByte),
                i32(s.quadrant), bool(s.direct), i32(s.access), bool(s.invalid), bool(s.nxe),
                ModelEvents.adDisabled(optBool(s.adDisabled)), ModelEvents.cr0Wp(optBool(s.cr0Wp)), i32(s.rootCount),
                bool(s.unsync));
    }

    // ------------------------------------------------------------------------------------------- model mapping

    /**
     * The model event of each payload record, by record name: {@link ModelEvents#of(long, int, Object)} in slot
     * terms. Each entry looks its fields up by name (checking their types) once, at construction.
     */
    private Map<String, Function<Program, Builder>> mappings() {
        Map<String, Function<Program, Builder>> m = new HashMap<>();
        m.put("KvmMmuPagingElement", p -> {
            int pte = p.lng("pte");
            int level = p.i32("level");
            return (seq, vcpu) -> new ModelEvent.PagingElement(seq, vcpu, vals[pte], i32(level));
        });
        m.put("KvmMmuPagetableWalk", p -> {
            int addr = p.lng("addr");
            int pferr = p.lng("pferr.value");
            return (seq, vcpu) -> new ModelEvent.PageTableWalk(seq, vcpu, vals[addr], vals[pferr]);
        });
        m.put("KvmMmuSetAccessedBit", p -> {
            int gpa = p.lng("gpa");
            return (seq, vcpu) -> new ModelEvent.SetAccessedBit(seq, vcpu, vals[gpa]);
        });
        m.put("KvmMmuSetDirtyBit", p -> {
            int gpa = p.lng("gpa");
            return (seq, vcpu) -> new ModelEvent.SetDirtyBit(seq, vcpu, vals[gpa]);
        });
        m.put("KvmMmuSpteRequested", p -> {
            int gfn = p.lng("gfn");
            int pfn = p.lng("pfn");
            int level = p.i32("level");
            return (seq, vcpu) -> new ModelEvent.SpteRequested(seq, vcpu, vals[gfn], vals[pfn], i32(level));
        });
        m.put("KvmMmuSetSpte", p -> {
            int gfn = p.lng("gfn");
            int spte = p.lng("spte");
            int r = p.bool("r");
            int w = p.bool("w");
            int x = p.bool("x");
            int u = p.optBool("u");
            int level = p.i32("level");
            int sptep = p.lng("sptep");
            return (seq, vcpu) -> new ModelEvent.SetSpte(seq, vcpu, vals[gfn], vals[spte],
                    ModelEvents.perms(bool(r), bool(w), bool(x), optBool(u)), i32(level), vals[sptep]);
        });
        m.put("KvmMmuGetPage", p -> {
            Sp sp = Sp.of(p, "sp");
            int created = p.bool("created");
            return (seq, vcpu) -> new ModelEvent.GetPage(seq, vcpu, shadowPage(sp), bool(created));
        });
        m.put("KvmMmuWalkerError", p -> {
            int pferr = p.lng("pferr.value");
            return (seq, vcpu) -> new ModelEvent.WalkerError(seq, vcpu, vals[pferr]);
        });
        m.put("KvmMmuSyncPage", p -> {
            Sp sp = Sp.of(p, "sp");
            return (seq, vcpu) -> new ModelEvent.SyncPage(seq, vcpu, shadowPage(sp));
        });
        m.put("KvmMmuUnsyncPage", p -> {
            Sp sp = Sp.of(p, "sp");
            return (seq, vcpu) -> new ModelEvent.UnsyncPage(seq, vcpu, shadowPage(sp));
        });
        m.put("KvmMmuPrepareZapPage", p -> {
            Sp sp = Sp.of(p, "sp");
            return (seq, vcpu) -> new ModelEvent.PrepareZapPage(seq, vcpu, shadowPage(sp));
        });
        m.put("KvmMmuZapAllFast", p -> {
            int gen = p.lng("validGen");
            int used = p.lng("usedPages");
            return (seq, vcpu) -> new ModelEvent.ZapAllFast(seq, vcpu, vals[gen], vals[used]);
        });
        m.put("MarkMmioSpte", p -> {
            int sptep = p.optLong("sptep");
            int gfn = p.lng("gfn");
            int access = p.i32("access");
            int gen = p.lng("gen");
            return (seq, vcpu) -> new ModelEvent.MarkMmioSpte(seq, vcpu, orUnknown(sptep), vals[gfn], i32(access),
                    vals[gen]);
        });
        m.put("HandleMmioPageFault", p -> {
            int addr = p.lng("addr");
            int gfn = p.lng("gfn");
            int access = p.i32("access");
            return (seq, vcpu) -> new ModelEvent.HandleMmioPageFault(seq, vcpu, vals[addr], vals[gfn], i32(access));
        });
        m.put("CheckMmioSpte", p -> {
            int spte = p.lng("spte");
            int kvmGen = p.lng("kvmGen");
            int spteGen = p.lng("spteGen");
            int valid = p.bool("valid");
            return (seq, vcpu) -> new ModelEvent.CheckMmioSpte(seq, vcpu, vals[spte], vals[kvmGen], vals[spteGen],
                    bool(valid));
        });
        m.put("FastPageFault", p -> {
            int gva = p.lng("gva");
            int errorCode = p.lng("errorCode.value");
            int sptep = p.optLong("sptep");
            int oldSpte = p.lng("oldSpte");
            int newSpte = p.lng("newSpte");
            int spurious = p.bool("spurious");
            int fixed = p.bool("fixed");
            return (seq, vcpu) -> new ModelEvent.FastPageFault(seq, vcpu, vals[gva], vals[errorCode],
                    orUnknown(sptep), vals[oldSpte], vals[newSpte], bool(spurious), bool(fixed));
        });
        m.put("KvmTdpMmuSpteChanged", p -> {
            int asId = p.i32("asId");
            int gfn = p.lng("gfn");
            int level = p.i32("level");
            int oldSpte = p.lng("oldSpte");
            int newSpte = p.lng("newSpte");
            return (seq, vcpu) -> new ModelEvent.TdpMmuSpteChanged(seq, vcpu, i32(asId), vals[gfn], i32(level),
                    vals[oldSpte], vals[newSpte]);
        });
        m.put("KvmMmuSplitHugePage", p -> {
            int gfn = p.lng("gfn");
            int spte = p.lng("spte");
            int level = p.i32("level");
            int errno = p.i32("errno");
            return (seq, vcpu) -> new ModelEvent.SplitHugePage(seq, vcpu, vals[gfn], vals[spte], i32(level),
                    i32(errno));
        });
        m.put("KvmPageFault", p -> {
            int address = p.lng("address");
            int errorCode = p.lng("errorCode.value");
            int rip = p.optLong("rip");
            return (seq, vcpu) -> new ModelEvent.KvmPageFault(seq, vcpu, vals[address], vals[errorCode],
                    orUnknown(rip));
        });
        m.put("KvmCr", p -> {
            int write = p.bool("write");
            int cr = p.i32("cr");
            int value = p.lng("value");
            return (seq, vcpu) -> new ModelEvent.KvmCr(seq, vcpu, bool(write), i32(cr), vals[value]);
        });
        m.put("KvmExit", p -> {
            int reason = p.string("reason");
            int rip = p.lng("rip");
            int info1 = p.lng("info1");
            int info2 = p.lng("info2");
            return (seq, vcpu) -> new ModelEvent.KvmExit(seq, vcpu, string(reason, true), vals[rip], vals[info1],
                    vals[info2]);
        });
        m.put("KvmMmio", p -> {
            int type = p.enumeration("type", false);
            String[] text = p.symbols("type", s -> ModelEvents.mmioType(MmioType.valueOf(s)));
            int len = p.i32("len");
            int gpa = p.lng("gpa");
            int val = p.lng("val");
            return (seq, vcpu) -> new ModelEvent.Mmio(seq, vcpu, text[i32(type)], i32(len), vals[gpa], vals[val]);
        });
        m.put("KvmEmulateInsn", p -> {
            int csBase = p.lng("csBase");
            int rip = p.lng("rip");
            int insn = p.bytes("insn");
            int mode = p.enumeration("mode", true);
            String[] text = p.symbols("mode", s -> ModelEvents.emulationMode(EmulationMode.valueOf(s)));
            int failed = p.bool("failed");
            return (seq, vcpu) -> new ModelEvent.EmulateInsn(seq, vcpu, vals[csBase], vals[rip], hex(insn),
                    nulls[mode] ? null : text[i32(mode)], bool(failed));
        });
        m.put("KvmUnmapHvaRange", p -> {
            int start = p.lng("start");
            int end = p.lng("end");
            return (seq, vcpu) -> new ModelEvent.UnmapHvaRange(seq, vcpu, vals[start], vals[end]);
        });
        m.put("KvmInjException", p -> {
            int vector = p.i32("vector");
            int errorCode = p.optLong("errorCode");
            return (seq, vcpu) -> new ModelEvent.InjectedException(seq, vcpu, i32(vector), orUnknown(errorCode));
        });
        m.put("KvmPio", p -> {
            int write = p.bool("write");
            int port = p.i32("port");
            int size = p.i32("size");
            int count = p.i32("count");
            int val = p.lng("val");
            return (seq, vcpu) -> new ModelEvent.Pio(seq, vcpu, bool(write), i32(port), i32(size), i32(count),
                    vals[val]);
        });
        m.put("KvmUserspaceExit", p -> {
            int reason = p.string("reason");
            int code = p.i32("code");
            return (seq, vcpu) -> new ModelEvent.UserspaceExit(seq, vcpu, string(reason, true), i32(code));
        });
        m.put("Marker", p -> {
            int text = p.string("text");
            return (seq, vcpu) -> new ModelEvent.Marker(seq, vcpu, string(text, false));
        });
        m.put("GenericEvent", p -> {
            int name = p.string("name");
            int text = p.string("text");
            return (seq, vcpu) -> new ModelEvent.Other(seq, vcpu, string(name, true), string(text, false));
        });
        return m;
    }


    // ------------------------------------------------------------------------------------------- compiler

    /** One flat program being compiled: its ops, the path of each slot, and the leaf of each path. */
    private static final class Program {
        private record Leaf(int type, int slot, boolean nullable, Schema schema) {
        }

        private final List<int[]> ops = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final Map<String, Leaf> leaves = new HashMap<>();
        private final String prefix;
        private final int firstSlot;
        private int slots;
        private Schema payload;
        /** Ops before this index are not extended into a run of booleans (they may be skipped as null). */
        private int runStart;

        Program(int firstSlot, String prefix) {
            this.firstSlot = firstSlot;
            this.slots = firstSlot;
            this.prefix = prefix;
        }

        int[] ops() {
            int[] out = new int[ops.size() * 3];
            for (int i = 0; i < ops.size(); i++) {
                System.arraycopy(ops.get(i), 0, out, i * 3, 3);
            }
            return out;
        }

        /** Field paths by slot (for messages). */
        String[] names() {
            String[] out = new String[slots];
            for (int i = 0; i < names.size(); i++) {
                out[firstSlot + i] = names.get(i);
            }
            return out;
        }

        void record(String path, Schema record) {
            for (Schema.Field f : record.getFields()) {
                field(path.isEmpty() ? f.name() : path + "." + f.name(), f.schema());
            }
        }

        private void field(String path, Schema s) {
            switch (s.getType()) {
                case RECORD -> record(path, s);
                case UNION -> union(path, s);
                default -> {
                    int type = type(path, s);
                    emit(type, slot(path, type, false, s), arg(type, s));
                }
            }
        }

        private void union(String path, Schema s) {
            List<Schema> t = s.getTypes();
            if (path.equals("payload") && prefix.isEmpty()) {
                payload = s;
                emit(PAYLOAD, slot(path, PAYLOAD, false, s), t.size());
                return;
            }
            int nullIndex = t.size() != 2 ? -1 : t.get(0).getType() == Schema.Type.NULL ? 0
                    : t.get(1).getType() == Schema.Type.NULL ? 1 : -1;
            Schema inner = nullIndex < 0 ? null : t.get(1 - nullIndex);
            if (inner == null || inner.getType() == Schema.Type.NULL || inner.getType() == Schema.Type.UNION) {
                throw new IllegalStateException("unsupported union at " + path + ": " + s);
            }
            int type = inner.getType() == Schema.Type.RECORD ? RECORD : type(path, inner);
            int slot = slot(path, type, true, inner);
            int flags = NULLABLE | (nullIndex == 1 ? NULL_SECOND : 0);
            if (type == RECORD) {
                int[] check = emit(RECORD | flags, slot, 0);
                int first = ops.size();
                record(path, inner);
                check[2] = ops.size() - first;
            } else {
                emit(type | flags, slot, arg(type, inner));
            }
            runStart = ops.size();
        }

        private static int type(String path, Schema s) {
            return switch (s.getType()) {
                case LONG -> LONG;
                case INT -> INT;
                case BOOLEAN -> BOOLEANS;
                case FLOAT -> FLOAT;
                case DOUBLE -> DOUBLE;
                case STRING -> STRING;
                case BYTES -> BYTES;
                case ENUM -> ENUM;
                case FIXED -> FIXED;
                case NULL -> NULL;
                default -> throw new IllegalStateException("unsupported " + s.getType() + " at " + path);
            };
        }

        private static int arg(int type, Schema s) {
            return type == ENUM ? s.getEnumSymbols().size() : type == FIXED ? s.getFixedSize()
                    : type == BOOLEANS ? 1 : 0;
        }

        private int slot(String path, int type, boolean nullable, Schema s) {
            int slot = slots++;
            names.add(prefix + path);
            leaves.put(path, new Leaf(type, slot, nullable, s));
            return slot;
        }

        private int[] emit(int code, int slot, int arg) {
            int[] last = ops.size() > runStart ? ops.get(ops.size() - 1) : null;
            if (code == BOOLEANS && last != null && last[0] == BOOLEANS && last[1] + last[2] == slot) {
                last[2]++;   // consecutive booleans (16 in PfErrorCode) are one op
                return last;
            }
            int[] op = {code, slot, arg};
            ops.add(op);
            return op;
        }

        /** The slot of a field, checking its type and whether it is nullable. */
        int slot(String path, int type, boolean nullable) {
            Leaf l = leaves.get(path);
            if (l == null) {
                throw new IllegalStateException("no field " + prefix + path + " in the schema");
            }
            if (l.type != type || l.nullable != nullable) {
                throw new IllegalStateException("field " + prefix + path + " is " + (l.nullable ? "nullable " : "")
                        + TYPE_NAMES[l.type] + ", the model mapping reads it as " + (nullable ? "nullable " : "")
                        + TYPE_NAMES[type]);
            }
            return l.slot;
        }

        int lng(String path) {
            return slot(path, LONG, false);
        }

        int optLong(String path) {
            return slot(path, LONG, true);
        }

        int i32(String path) {
            return slot(path, INT, false);
        }

        int bool(String path) {
            return slot(path, BOOLEANS, false);
        }

        int optBool(String path) {
            return slot(path, BOOLEANS, true);
        }

        int string(String path) {
            return slot(path, STRING, false);
        }

        int bytes(String path) {
            return slot(path, BYTES, false);
        }

        int enumeration(String path, boolean nullable) {
            return slot(path, ENUM, nullable);
        }

        /** What each symbol of an enum field maps to, by ordinal. */
        String[] symbols(String path, Function<String, String> text) {
            return leaves.get(path).schema.getEnumSymbols().stream().map(text).toArray(String[]::new);
        }
    }
}
