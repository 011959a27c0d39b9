package dev.mmureplay.replayer.model;

import dev.mmureplay.avro.CheckMmioSpte;
import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.FastPageFault;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.HandleMmioPageFault;
import dev.mmureplay.avro.KvmCr;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmInjException;
import dev.mmureplay.avro.KvmMmio;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetDirtyBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSplitHugePage;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.KvmMmuSyncPage;
import dev.mmureplay.avro.KvmMmuUnsyncPage;
import dev.mmureplay.avro.KvmMmuWalkerError;
import dev.mmureplay.avro.KvmMmuZapAllFast;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmTdpMmuSpteChanged;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.MarkMmioSpte;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.PfErrorCode;
import dev.mmureplay.avro.ShadowPage;
import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.synth.Synth;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.schemas.AvroCodec.CorruptRecordException;
import dev.mmureplay.testing.SampleEvents;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The byte-level decoder against the reference path (Avro's SpecificDatumReader → {@link TraceEvent} →
 * {@link ModelEvents#of}): every event of every real, scenario, fixture and synthetic trace, hand-made events for
 * the payload kinds (and null variants) no trace has, and corrupt input.
 */
class TraceEventDecoderTest {

    private static final Schema SCHEMA = TraceEvent.getClassSchema();
    /** Events per synthetic scenario: each scenario's default, at most this many (scale's default is 1M). */
    private static final int SYNTH_EVENTS = 10_000;

    private final TraceEventDecoder decoder = new TraceEventDecoder();
    private final TraceEventDecoder.Envelope env = new TraceEventDecoder.Envelope();

    // ------------------------------------------------------------------------------------------- corpora

    private static final Map<String, List<TraceEvent>> CORPORA = new ConcurrentHashMap<>();

    /** Every trace the tests can ingest: real traces, scenario traces, hand-written fixtures, synth scenarios. */
    static List<String> corpora() {
        List<String> out = new ArrayList<>();
        Path traces = SampleEvents.tracesDir();
        for (Path dir : List.of(traces, traces.resolveSibling("scenarios"))) {
            out.addAll(list(dir, ".trace").stream().map(p -> dir.getFileName() + "/" + p.getFileName()).toList());
        }
        out.addAll(Traces.fixtureFiles().stream().map(p -> "fixtures/" + p.getFileName()).toList());
        out.addAll(Synth.scenarios().stream().map(s -> "synth/" + s).toList());
        return out;
    }

    private static List<Path> list(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The TraceEvents of one corpus, through the real parser and ingest (cached). */
    static List<TraceEvent> events(String corpus) {
        return CORPORA.computeIfAbsent(corpus, c -> {
            try {
                IngestOptions options = IngestOptions.defaults().withUnlimitedErrors();
                MemorySinks.Run run;
                if (c.startsWith("synth/")) {
                    String scenario = c.substring("synth/".length());
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    Synth.generate(scenario, Math.min(SYNTH_EVENTS, Synth.defaultEvents(scenario)), 42, out);
                    run = MemorySinks.ingestBytes(options, c, out.toByteArray());
                } else if (c.startsWith("fixtures/")) {
                    run = MemorySinks.ingest(options, List.of(Traces.dir().resolveSibling(c).toString()));
                } else {
                    run = MemorySinks.ingest(options, List.of(SampleEvents.tracesDir().resolveSibling(c).toString()));
                }
                assertFalse(run.events().isEmpty(), c + " has no events");
                return run.events();
            } catch (Exception e) {
                throw new IllegalStateException(c, e);
            }
        });
    }

    private static List<TraceEvent> allCorpusEvents() {
        return corpora().stream().flatMap(c -> events(c).stream()).toList();
    }

    private static Source src(String origin, long line) {
        return new Source("CPU 1/KVM", 8839, 8830, 3, "d..1.", origin, line);
    }

    private static TraceEvent ev(long seq, Object payload) {
        return new TraceEvent("vm-hand", 1, seq, 569_264_868_000L + seq, src("hand.trace", seq + 1), payload);
    }

    private static PfErrorCode pf(long value) {
        return SampleEvents.pferr(value);
    }

    private static ShadowPage rawSp(Long gen, Long gfn, Boolean adDisabled) {
        return new ShadowPage(gen, gfn, 4, false, 0, false, 7, true, true, true, false, true, adDisabled, null, null,
                null, null, 0, false);
    }

    /**
     * Events of the payload kinds no trace has, and the null / edge variants of the mapping rules (values of
     * ModelEventsTest, i.e. real lines and TP_printk fixtures): unknown sentinels, letter groups, trace-cmd shadow
     * pages, printed symbols, hex, extreme numbers, non-ASCII text.
     */
    static List<TraceEvent> handMade() {
        List<Object> p = List.of(
                new KvmMmuPagingElement(Long.MIN_VALUE, Integer.MAX_VALUE),
                new KvmMmuPagetableWalk(-1L, pf(0x80000067L)),
                new KvmMmuSetAccessedBit(0L),
                new KvmMmuSetDirtyBit(Long.MAX_VALUE),
                new KvmMmuWalkerError(pf(0x3_0000_0000_000fL)),
                new KvmMmuGetPage(new ShadowPage(0L, 0x8a4L, 1, true, 3, true, 4, false, false, true, true, false,
                        true, null, null, null, null, 2, true), false),
                new KvmMmuGetPage(rawSp(1L, 0x7fL, null), true),
                new KvmMmuSyncPage(new ShadowPage(null, null, 1, false, 0, false, 7, true, true, true, false, true,
                        null, true, false, false, false, 0, false)),
                new KvmMmuUnsyncPage(new ShadowPage(null, 0x10L, 4, false, 0, false, 7, true, true, true, false, true,
                        false, false, true, true, true, 1, true)),
                new KvmMmuPrepareZapPage(rawSp(0L, 1L, false)),
                new MarkMmioSpte(0xd5b1e1c5L, 0xfee00L, 6, 0x2aL),
                new MarkMmioSpte(null, 0xfee00L, 6, 0L),
                new HandleMmioPageFault(0xfee00030L, 0xfee00L, 6),
                new FastPageFault(1, 0x1000L, pf(0), null, 0L, 0L, true, false),
                new FastPageFault(2, 0x2000L, pf(3), 0xffff888012345678L, 0x8000000000000000L, 7L, false, true),
                new KvmMmuZapAllFast(1L, 0x7L),
                new CheckMmioSpte(0x8000000fee00a53L, 0x2aL, 0x29L, false),
                new KvmMmuSetSpte(0x10L, 0x123b48a25L, true, false, true, true, 1, 0x12b9a9080L),
                new KvmMmuSetSpte(1L, 0L, true, true, false, false, 1, 0L),
                new KvmMmuSetSpte(1L, 0L, false, true, true, null, 5, 0L),
                new KvmMmuSpteRequested(0x10L, 0x123b48L, 1),
                new KvmTdpMmuSpteChanged(1, 0x100L, 2, 0x8000000000000000L, 0x600000123456bf7L),
                new KvmMmuSplitHugePage(0x200L, 0x6000001234560bf7L, 2, -12),
                new KvmPageFault(1, 0xffffffff81234567L, 0x7f1234560000L, pf(0x200000006L)),
                new KvmPageFault(null, null, 0x7f0000001000L, pf(6)),
                new KvmCr(true, 4, 0x3506f0L),
                new KvmExit(0, "npf", "FAILED_VMENTRY", 0xffffffff81000000L, 0x100000014L, 0xfee00030L, 0x80000b0eL,
                        4L),
                new KvmExit(null, "EPT_VIOLATION", null, 0L, 0L, 0L, null, null),
                new KvmMmio(MmioType.UNSATISFIED_READ, 4, 0xfee00030L, 0L),
                new KvmMmio(MmioType.READ, 8, 1L, 2L),
                new KvmMmio(MmioType.WRITE, 1, 1L, -1L),
                new KvmMmio(MmioType.UNKNOWN, 2, 3L, 4L),
                new KvmEmulateInsn(0L, 0xffffffff8100abcdL, ByteBuffer.wrap(new byte[] {0x0f, 0x01, (byte) 0xd9}),
                        EmulationMode.PROT64, true),
                new KvmEmulateInsn(0xf0000L, 0xfff0L, ByteBuffer.allocate(0), null, false),
                new KvmEmulateInsn(0L, 0L, ByteBuffer.wrap(new byte[15]), EmulationMode.UNKNOWN, false),
                new KvmEmulateInsn(0L, 0L, ByteBuffer.wrap(new byte[] {(byte) 0xff}), EmulationMode.REAL, false),
                new KvmEmulateInsn(0L, 0L, ByteBuffer.wrap(new byte[] {1, 2}), EmulationMode.VM16, false),
                new KvmEmulateInsn(0L, 0L, ByteBuffer.wrap(new byte[] {1}), EmulationMode.PROT16, false),
                new KvmEmulateInsn(0L, 0L, ByteBuffer.wrap(new byte[] {1}), EmulationMode.PROT32, false),
                new KvmUnmapHvaRange(0L, 0x1000L),
                new KvmInjException("#PF", 14, 4L, pf(4), false),
                new KvmInjException("#UD", 6, null, null, true),
                new KvmInjException("#GP", 13, 0L, null, true),
                new KvmPio(false, 0x1f0, 2, 256, 0x4b4dL, true),
                new KvmUserspaceExit("KVM_EXIT_IO", 2),
                new KvmUserspaceExit("error", -4),
                new Marker("phase=fault-start é ✓"),
                new Marker(""),
                new GenericEvent("kvm_entry", "vcpu 0, rip 0xffffffff8100abcd"),
                new GenericEvent("", ""));
        List<TraceEvent> out = new ArrayList<>();
        for (Object payload : p) {
            out.add(ev(out.size(), payload));
        }
        // envelope variants: unknown vcpu, nulls in Source, extreme numbers, a long non-ASCII vm
        out.add(new TraceEvent("vm-ü-" + "x".repeat(300), -1, Long.MAX_VALUE, Long.MIN_VALUE,
                new Source("<...>", 0, null, 0, null, "-", 0L), new KvmMmuSetAccessedBit(1L)));
        out.add(new TraceEvent("", Integer.MIN_VALUE, 0L, -1L,
                new Source("", Integer.MAX_VALUE, Integer.MIN_VALUE, -1, "", "", Long.MAX_VALUE),
                new KvmCr(false, 0, 0L)));
        return out;
    }

    // ------------------------------------------------------------------------------------------- Avro reference

    static byte[] encode(TraceEvent e) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
            new SpecificDatumWriter<TraceEvent>(SCHEMA).write(e, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** What SpecificDatumReader decodes from buf[0, len), and how many bytes it read. */
    private record Reference(TraceEvent event, int end) {
        static Reference read(byte[] buf, int len) throws IOException {
            BinaryDecoder d = DecoderFactory.get().binaryDecoder(buf, 0, len, null);
            TraceEvent e = new SpecificDatumReader<TraceEvent>(SCHEMA, SCHEMA, AvroCodec.fastModel()).read(null, d);
            return new Reference(e, len - d.inputStream().available());
        }
    }

    private static String payloadName(TraceEvent e) {
        return e.getPayload().getClass().getSimpleName();
    }

    private static Set<String> allBranches() {
        return SCHEMA.getField("payload").schema().getTypes().stream().map(Schema::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Decodes and scans the encoding of e and checks everything against the reference. */
    private void assertDecodesLikeReference(TraceEvent e, String where) {
        byte[] b = encode(e);
        ModelEvent m = decoder.decode(b, 0, b.length, env);
        assertEquals(ModelEvents.of(e), m, where);
        assertEquals(e.getVm(), env.vm, where);
        assertEquals(e.getVcpu(), env.vcpu, where);
        assertEquals(e.getSeq(), env.seq, where);
        assertEquals(e.getTimestampNs(), env.timestampNs, where);
        assertEquals(e.getSource().getOrigin(), env.origin, where);
        assertEquals(e.getSource().getLine(), env.line, where);
        assertEquals(b.length, env.end, where);

        TraceEventDecoder.Envelope s = new TraceEventDecoder.Envelope();
        decoder.scan(b, 0, b.length, s);
        assertEquals(e.getVm(), s.vm, where);
        assertEquals(e.getVcpu(), s.vcpu, where);
        assertEquals(e.getSeq(), s.seq, where);
        assertEquals(e.getTimestampNs(), s.timestampNs, where);
        assertEquals(b.length, s.end, where);
    }

    // ------------------------------------------------------------------------------------------- equivalence

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpora")
    void everyEventOfTheTraceDecodesToModelEventsOfItsTraceEvent(String corpus) {
        List<TraceEvent> events = events(corpus);
        for (TraceEvent e : events) {
            assertDecodesLikeReference(e, corpus + " seq " + e.getSeq() + " " + e);
        }
    }

    @Test
    void everyHandMadeEventDecodesToModelEventsOfItsTraceEvent() {
        for (TraceEvent e : handMade()) {
            assertDecodesLikeReference(e, e.toString());
        }
    }

    @Test
    void headReadsTheEnvelopesLeadingFieldsAsScanDoesAndLeavesTheRestAlone() {
        TraceEventDecoder d = new TraceEventDecoder();
        List<TraceEvent> all = new java.util.ArrayList<>(allCorpusEvents());
        all.addAll(handMade());
        for (TraceEvent e : all) {
            byte[] b = encode(e);
            TraceEventDecoder.Envelope scanned = new TraceEventDecoder.Envelope();
            d.scan(b, 0, b.length, scanned);
            TraceEventDecoder.Envelope head = new TraceEventDecoder.Envelope();
            head.end = -7;
            d.head(b, 0, b.length, head);
            assertSame(scanned.vm, head.vm, e.toString());
            assertEquals(e.getVcpu(), head.vcpu);
            assertEquals(e.getSeq(), head.seq);
            assertEquals(e.getTimestampNs(), head.timestampNs);
            assertEquals(-7, head.end, "head does not read to the end");
            assertNull(head.origin);
        }
    }

    @Test
    void decodeEventGivesDecodesModelEventAndNumbersAndLeavesTheEnvelopesStringsAlone() {
        TraceEventDecoder d = new TraceEventDecoder();
        List<TraceEvent> all = new java.util.ArrayList<>(allCorpusEvents());
        all.addAll(handMade());
        for (TraceEvent e : all) {
            byte[] b = encode(e);
            TraceEventDecoder.Envelope full = new TraceEventDecoder.Envelope();
            Object expected;
            try {
                expected = d.decode(b, 0, b.length, full);
            } catch (IllegalArgumentException noModelEvent) {
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> d.decodeEvent(b, 0, b.length, new TraceEventDecoder.Envelope()), e.toString());
                continue;
            }
            TraceEventDecoder.Envelope lean = new TraceEventDecoder.Envelope();
            lean.line = -3;
            assertEquals(expected, d.decodeEvent(b, 0, b.length, lean), e.toString());
            assertEquals(full.vcpu, lean.vcpu);
            assertEquals(full.seq, lean.seq);
            assertEquals(full.timestampNs, lean.timestampNs);
            assertEquals(full.end, lean.end);
            assertNull(lean.vm);
            assertNull(lean.origin);
            assertEquals(-3, lean.line);
        }
    }

    @Test
    void theHeaderWrittenIsTheOneRecognised() {
        byte[] b = new byte[TraceEventDecoder.HEADER + 3];
        TraceEventDecoder.writeHeader(b);
        assertTrue(TraceEventDecoder.hasCurrentHeader(b));
        b[5] ^= 1;
        assertFalse(TraceEventDecoder.hasCurrentHeader(b));
    }

    @Test
    void everyPayloadBranchIsCoveredByATraceOrAHandMadeEvent() {
        Set<String> fromTraces = allCorpusEvents().stream().map(TraceEventDecoderTest::payloadName)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> covered = new TreeSet<>(fromTraces);
        handMade().forEach(e -> covered.add(payloadName(e)));
        assertEquals(29, allBranches().size());
        assertEquals(allBranches(), covered, "payload branches covered (from traces: " + fromTraces + ")");
    }

    @Test
    void recordsBackToBackInOneBufferDecodeOneAfterTheOther() {
        List<TraceEvent> events = new ArrayList<>(allCorpusEvents());
        events.addAll(handMade());
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        List<Integer> ends = new ArrayList<>();
        for (TraceEvent e : events) {
            all.writeBytes(encode(e));
            ends.add(all.size());
        }
        byte[] buf = all.toByteArray();
        int off = 0;
        for (int i = 0; i < events.size(); i++) {
            assertEquals(ModelEvents.of(events.get(i)), decoder.decode(buf, off, buf.length, env), "record " + i);
            assertEquals(ends.get(i), env.end, "record " + i);
            off = env.end;
        }
        off = 0;
        for (int i = 0; i < events.size(); i++) {
            decoder.scan(buf, off, buf.length, env);
            assertEquals(ends.get(i), env.end, "record " + i);
            assertEquals(events.get(i).getSeq(), env.seq, "record " + i);
            off = env.end;
        }
        assertEquals(buf.length, off);
    }

    @Test
    void aRecordInsideALargerBufferIsReadBetweenOffAndLimitOnly() {
        TraceEvent e = handMade().get(0);
        byte[] rec = encode(e);
        byte[] buf = new byte[5 + rec.length + 7];
        Arrays.fill(buf, (byte) 0xff);   // garbage around it: a continuation byte forever
        System.arraycopy(rec, 0, buf, 5, rec.length);
        assertEquals(ModelEvents.of(e), decoder.decode(buf, 5, 5 + rec.length, env));
        assertEquals(5 + rec.length, env.end);
        decoder.scan(buf, 5, 5 + rec.length, env);
        assertEquals(5 + rec.length, env.end);
    }

    @Test
    void fieldsAreFoundByNameSoARecordOfReorderedFieldsDecodesTheSame() throws IOException {
        Schema reversed = reverseFields(SCHEMA, new HashMap<>());
        TraceEventDecoder reorderedDecoder = new TraceEventDecoder(reversed);
        GenericDatumReader<GenericRecord> toReversed = new GenericDatumReader<>(SCHEMA, reversed);
        GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(reversed);
        List<TraceEvent> events = new ArrayList<>(handMade());
        events.addAll(events("traces/long_user_basic.trace"));
        for (TraceEvent e : events) {
            byte[] b = encode(e);
            GenericRecord g = toReversed.read(null, DecoderFactory.get().binaryDecoder(b, null));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
            writer.write(g, enc);
            enc.flush();
            byte[] r = out.toByteArray();
            assertEquals(ModelEvents.of(e), reorderedDecoder.decode(r, 0, r.length, env), e.toString());
            assertEquals(e.getSource().getOrigin(), env.origin);
            assertEquals(e.getSource().getLine(), env.line);
            assertEquals(r.length, env.end);
        }
    }

    @Test
    void theCurrentSchemasEnvelopeIsReadUnrolledAndAnyOtherLayoutByTheInterpreter() {
        // the unrolled path is what the tests above exercise for the current schema (every varint length, every
        // truncation, random mutations: it gives up and the interpreter reads the record again); a schema change
        // that moves the envelope's fields makes this fail, so FAST_ENVELOPE is updated with it
        assertTrue(new TraceEventDecoder().hasFastEnvelope());
        assertFalse(new TraceEventDecoder(reverseFields(SCHEMA, new HashMap<>())).hasFastEnvelope());
    }

    /** The schema with the fields of every record in reverse order (named types defined once). */
    private static Schema reverseFields(Schema s, Map<String, Schema> done) {
        switch (s.getType()) {
            case RECORD: {
                Schema known = done.get(s.getFullName());
                if (known != null) {
                    return known;
                }
                Schema r = Schema.createRecord(s.getName(), s.getDoc(), s.getNamespace(), false);
                done.put(s.getFullName(), r);
                List<Schema.Field> fields = new ArrayList<>();
                for (Schema.Field f : s.getFields()) {
                    fields.add(0, new Schema.Field(f.name(), reverseFields(f.schema(), done), f.doc(), f.defaultVal()));
                }
                r.setFields(fields);
                return r;
            }
            case UNION:
                return Schema.createUnion(s.getTypes().stream().map(t -> reverseFields(t, done)).toList());
            case ENUM: {
                return done.computeIfAbsent(s.getFullName(), n -> s);
            }
            default:
                return s;
        }
    }

    // ------------------------------------------------------------------------------------------- interning

    @Test
    void equalVmBytesGiveTheSameStringInstance() {
        TraceEvent a = ev(1, new KvmMmuSetAccessedBit(1L));
        TraceEvent b = ev(2, new KvmCr(true, 0, 1L));
        a.setVm(new String("vm-0123456789abcdef"));
        b.setVm(new String("vm-0123456789abcdef"));
        byte[] ba = encode(a);
        byte[] bb = encode(b);
        byte[] padded = new byte[bb.length + 3];
        System.arraycopy(bb, 0, padded, 3, bb.length);

        decoder.decode(ba, 0, ba.length, env);
        String first = env.vm;
        decoder.decode(padded, 3, padded.length, env);
        assertSame(first, env.vm);
        decoder.scan(ba, 0, ba.length, env);
        assertSame(first, env.vm);
        assertNotSame(a.getVm(), first);
    }

    @Test
    void originsExitReasonsAndGenericNamesAreInternedToo() {
        TraceEvent x1 = ev(1, new KvmExit(0, "EPT_VIOLATION", null, 0L, 0L, 0L, null, null));
        TraceEvent x2 = ev(2, new KvmExit(0, "EPT_VIOLATION", null, 1L, 1L, 1L, null, null));
        TraceEvent u1 = ev(3, new KvmUserspaceExit("KVM_EXIT_MMIO", 6));
        TraceEvent u2 = ev(4, new KvmUserspaceExit("KVM_EXIT_MMIO", 6));
        TraceEvent g1 = ev(5, new GenericEvent("kvm_entry", "vcpu 0"));
        TraceEvent g2 = ev(6, new GenericEvent("kvm_entry", "vcpu 0"));
        assertSame(((ModelEvent.KvmExit) decode(x1)).reason(), ((ModelEvent.KvmExit) decode(x2)).reason());
        String origin = env.origin;
        assertSame(((ModelEvent.UserspaceExit) decode(u1)).reason(), ((ModelEvent.UserspaceExit) decode(u2)).reason());
        ModelEvent.Other o1 = (ModelEvent.Other) decode(g1);
        ModelEvent.Other o2 = (ModelEvent.Other) decode(g2);
        assertSame(o1.name(), o2.name());
        assertNotSame(o1.text(), o2.text());   // free text is not interned
        assertSame(origin, env.origin);
    }

    private ModelEvent decode(TraceEvent e) {
        byte[] b = encode(e);
        return decoder.decode(b, 0, b.length, env);
    }

    @Test
    void theInternCacheStaysBoundedWith100kDistinctVms() {
        TraceEvent e = ev(1, new KvmMmuSetAccessedBit(1L));
        int max = 0;
        for (int i = 0; i < 100_000; i++) {
            e.setVm("vm-" + i);
            byte[] b = encode(e);
            decoder.scan(b, 0, b.length, env);
            assertEquals("vm-" + i, env.vm);
            max = Math.max(max, decoder.internedCount());
        }
        assertTrue(max <= TraceEventDecoder.INTERN_MAX, "intern cache grew to " + max);
        // still interning the recent ones
        byte[] b = encode(e);
        decoder.scan(b, 0, b.length, env);
        String last = env.vm;
        decoder.decode(b, 0, b.length, env);
        assertSame(last, env.vm);
    }

    // ------------------------------------------------------------------------------------------- header

    @Test
    void theSingleObjectHeaderOfTheCurrentSchemaIsRecognisedAndSkipped() {
        TraceEvent e = handMade().get(5);
        byte[] single = AvroCodec.traceEvents().encode(e);
        assertTrue(TraceEventDecoder.hasCurrentHeader(single));
        assertEquals(ModelEvents.of(e), decoder.decode(single, TraceEventDecoder.HEADER, single.length, env));
        assertEquals(single.length, env.end);

        byte[] otherFingerprint = single.clone();
        otherFingerprint[9] ^= 1;
        assertFalse(TraceEventDecoder.hasCurrentHeader(otherFingerprint));
        assertFalse(TraceEventDecoder.hasCurrentHeader(Arrays.copyOf(single, TraceEventDecoder.HEADER - 1)));
        assertFalse(TraceEventDecoder.hasCurrentHeader(encode(e)));
        assertFalse(TraceEventDecoder.hasCurrentHeader(null));
    }

    // ------------------------------------------------------------------------------------------- corrupt input

    /** Both entry points reject the bytes as corrupt; the message names the problem. */
    private void assertCorrupt(byte[] b, String messagePart) {
        CorruptRecordException d = assertThrows(CorruptRecordException.class,
                () -> decoder.decode(b, 0, b.length, env));
        assertTrue(d.getMessage().contains(messagePart), d.getMessage());
        CorruptRecordException s = assertThrows(CorruptRecordException.class, () -> decoder.scan(b, 0, b.length, env));
        assertEquals(d.getMessage(), s.getMessage());
    }

    /**
     * {@link #assertCorrupt} of the bytes as they are (the bad value near the limit: read byte by byte) and followed
     * by 16 more bytes (the bad value read on the fast path, 8 bytes at once).
     */
    private void assertCorruptNearAndFarFromTheLimit(byte[] b, String messagePart) {
        assertCorrupt(b, messagePart);
        assertCorrupt(Arrays.copyOf(b, b.length + 16), messagePart);
    }

    /** A record written field by field, so that tests can write what no Avro writer would. */
    private static final class Raw {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);

        Raw with(IoStep step) {
            try {
                step.write(enc);
                enc.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Raw bytes(int... raw) {
            for (int r : raw) {
                out.write(r);
            }
            return this;
        }

        /** vm, vcpu, seq, timestampNs and a Source with null tgid / irqFlags (as written by Avro). */
        Raw envelope(String vm) {
            return with(e -> {
                e.writeString(vm);
                e.writeInt(1);
                e.writeLong(7);
                e.writeLong(1000);
            }).source();
        }

        Raw source() {
            return with(e -> {
                e.writeString("CPU 1/KVM");
                e.writeInt(8839);
                e.writeIndex(0);
                e.writeInt(0);
                e.writeIndex(0);
                e.writeString("t.trace");
                e.writeLong(1);
            });
        }

        byte[] get() {
            return out.toByteArray();
        }

        interface IoStep {
            void write(BinaryEncoder e) throws IOException;
        }
    }

    private static int branch(String name) {
        List<Schema> types = SCHEMA.getField("payload").schema().getTypes();
        for (int i = 0; i < types.size(); i++) {
            if (types.get(i).getName().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(name);
    }

    @Test
    void theRawWriterOfTheseTestsWritesWhatAvroWrites() {
        byte[] raw = new Raw().envelope("vm").with(e -> {
            e.writeIndex(branch("KvmMmuSetAccessedBit"));
            e.writeLong(0x1000);
        }).get();
        TraceEvent e = new TraceEvent("vm", 1, 7L, 1000L, new Source("CPU 1/KVM", 8839, null, 0, null, "t.trace", 1L),
                new KvmMmuSetAccessedBit(0x1000L));
        assertArrayEquals(encode(e), raw);
    }

    @Test
    void aRecordTruncatedAtAnyByteIsCorrupt() {
        List<TraceEvent> samples = handMade();
        for (TraceEvent e : List.of(samples.get(1), samples.get(5), samples.get(8), samples.get(17), samples.get(26),
                samples.get(32), samples.get(40), samples.get(48), samples.get(samples.size() - 2))) {
            byte[] b = encode(e);
            for (int cut = 0; cut < b.length; cut++) {
                int n = cut;
                CorruptRecordException d = assertThrows(CorruptRecordException.class,
                        () -> decoder.decode(b, 0, n, env), e + " cut at " + n);
                assertTrue(d.getMessage().contains("truncated") || d.getMessage().contains("beyond the limit"),
                        d.getMessage());
                assertThrows(CorruptRecordException.class, () -> decoder.scan(b, 0, n, env));
                byte[] exact = Arrays.copyOf(b, n);   // nothing after the limit to read by mistake
                assertThrows(CorruptRecordException.class, () -> decoder.decode(exact, 0, n, env));
                assertThrows(CorruptRecordException.class, () -> decoder.scan(exact, 0, n, env));
            }
        }
    }

    @Test
    void anEmptyRecordIsCorrupt() {
        assertCorrupt(new byte[0], "truncated");
    }

    @Test
    void aPayloadBranchIndexOutOfRangeIsCorrupt() {
        assertCorruptNearAndFarFromTheLimit(new Raw().envelope("vm").with(e -> e.writeIndex(29)).bytes(0).get(),
                "union branch index 29 out of range (29 branches)");
        assertCorruptNearAndFarFromTheLimit(new Raw().envelope("vm").with(e -> e.writeIndex(-1)).bytes(0).get(),
                "union branch index -1 out of range");
    }

    @Test
    void aNullableUnionIndexOutOfRangeIsCorrupt() {
        byte[] b = new Raw().with(e -> {
            e.writeString("vm");
            e.writeInt(1);
            e.writeLong(7);
            e.writeLong(1000);
            e.writeString("task");
            e.writeInt(1);
            e.writeIndex(2);   // tgid: union {null, int}
            e.writeInt(5);
        }).get();
        assertCorruptNearAndFarFromTheLimit(b, "field source.tgid: union branch index 2 out of range (2 branches)");
    }

    @Test
    void aNegativeLengthIsCorrupt() {
        assertCorrupt(new Raw().with(e -> e.writeLong(-1)).bytes('v', 'm').get(), "field vm: negative length -1");
        byte[] b = new Raw().envelope("vm").with(e -> {
            e.writeIndex(branch("KvmEmulateInsn"));
            e.writeLong(0);
            e.writeLong(0);
            e.writeLong(-3);
        }).get();
        assertCorrupt(b, "field payload.KvmEmulateInsn.insn: negative length -3");
    }

    @Test
    void aLengthBeyondTheBufferIsCorruptWithoutAllocatingIt() {
        assertCorrupt(new Raw().with(e -> e.writeLong(1L << 40)).bytes('v', 'm').get(),
                "length 1099511627776 beyond the limit (2 bytes left)");
        assertCorrupt(new Raw().with(e -> e.writeLong(Integer.MAX_VALUE)).get(), "beyond the limit");
        byte[] b = new Raw().envelope("vm").with(e -> {
            e.writeIndex(branch("Marker"));
            e.writeLong(5);
        }).bytes('a', 'b', 'c').get();
        assertCorrupt(b, "field payload.Marker.text: length 5 beyond the limit (3 bytes left)");
    }

    @Test
    void anEnumOrdinalOutOfRangeIsCorrupt() {
        for (int ordinal : new int[] {4, -1}) {
            byte[] b = new Raw().envelope("vm").with(e -> {
                e.writeIndex(branch("KvmMmio"));
                e.writeInt(ordinal);
                e.writeInt(4);
                e.writeLong(0);
                e.writeLong(0);
            }).get();
            assertCorruptNearAndFarFromTheLimit(b, "field payload.KvmMmio.type: enum ordinal " + ordinal + " out of range (4 symbols)");
        }
        byte[] mode = new Raw().envelope("vm").with(e -> {
            e.writeIndex(branch("KvmEmulateInsn"));
            e.writeLong(0);
            e.writeLong(0);
            e.writeLong(0);
            e.writeIndex(1);
            e.writeEnum(6);
            e.writeBoolean(false);
        }).get();
        assertCorruptNearAndFarFromTheLimit(mode, "field payload.KvmEmulateInsn.mode: enum ordinal 6 out of range (6 symbols)");
    }

    @Test
    void aLongVarintOfMoreThan10BytesIsCorrupt() {
        byte[] b = new Raw().with(e -> e.writeString("vm")).with(e -> e.writeInt(1))
                .bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).get();
        assertCorruptNearAndFarFromTheLimit(b, "field seq: long varint longer than 10 bytes");
    }

    @Test
    void aLongVarintBeyond64BitsIsCorrupt() {
        byte[] b = new Raw().with(e -> e.writeString("vm")).with(e -> e.writeInt(1))
                .bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02).get();
        assertCorruptNearAndFarFromTheLimit(b, "field seq: varint out of the long range");
    }

    @Test
    void anIntVarintOfMoreThan5BytesOrBeyond32BitsIsCorrupt() {
        assertCorruptNearAndFarFromTheLimit(new Raw().with(e -> e.writeString("vm")).bytes(0xff, 0xff, 0xff, 0xff, 0x8f, 0x01).get(),
                "field vcpu: int varint longer than 5 bytes");
        assertCorruptNearAndFarFromTheLimit(new Raw().with(e -> e.writeString("vm")).bytes(0xff, 0xff, 0xff, 0xff, 0x1f).get(),
                "field vcpu: varint out of the int range");
    }

    @Test
    void theLargestIntAndLongVarintsAreNotCorrupt() {
        TraceEvent e = new TraceEvent("vm", Integer.MIN_VALUE, Long.MIN_VALUE, Long.MAX_VALUE,
                new Source("t", Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE, null, "o", Long.MIN_VALUE),
                new KvmMmuPagingElement(-1L, Integer.MIN_VALUE));
        assertDecodesLikeReference(e, e.toString());
    }

    @Test
    void varintsOfEveryLengthDecodeTheSameNearTheLimitAndFarFromIt() {
        List<Long> longs = new ArrayList<>(List.of(0L, Long.MIN_VALUE, Long.MAX_VALUE));
        for (int bit = 0; bit < 64; bit++) {
            for (long d = -1; d <= 1; d++) {
                longs.add((1L << bit) + d);
                longs.add(-(1L << bit) + d);
            }
        }
        for (long x : longs) {
            int i = (int) x;
            // seq and timestampNs are read with many bytes after them, gpa (the last field) right at the limit
            TraceEvent e = new TraceEvent("vm", i, x, ~x, new Source("t", i, i, -i, null, "o", x),
                    new KvmMmuSetAccessedBit(x));
            byte[] b = encode(e);
            byte[] padded = Arrays.copyOf(b, b.length + 16);
            assertDecodesLikeReference(e, Long.toHexString(x));
            assertEquals(ModelEvents.of(e), decoder.decode(padded, 0, padded.length, env), Long.toHexString(x));
            assertEquals(b.length, env.end);
            assertEquals(x, env.seq);
            assertEquals(~x, env.timestampNs);
            assertEquals(i, env.vcpu);
        }
    }

    @Test
    void theMessageOfACorruptRecordNamesTheByteOffsetAndTheField() {
        byte[] b = new Raw().envelope("vm").with(e -> e.writeIndex(branch("KvmMmuSetAccessedBit"))).get();
        CorruptRecordException ex = assertThrows(CorruptRecordException.class,
                () -> decoder.decode(b, 0, b.length, env));
        assertEquals("corrupt TraceEvent at byte " + b.length + " of the record, field payload.KvmMmuSetAccessedBit.gpa:"
                + " truncated (reads past the limit, " + b.length + " bytes)", ex.getMessage());
    }

    @Test
    void aBooleanByteOtherThan0Or1IsCorrupt() {
        byte[] b = new Raw().envelope("vm").with(e -> {
            e.writeIndex(branch("KvmCr"));
        }).bytes(2).with(e -> {
            e.writeInt(4);
            e.writeLong(0);
        }).get();
        assertCorruptNearAndFarFromTheLimit(b, "field payload.KvmCr.write: boolean byte 2 is neither 0 nor 1");
        byte[] walk = new Raw().envelope("vm").with(e -> {
            e.writeIndex(branch("KvmMmuPagetableWalk"));
            e.writeLong(0x401000);
            e.writeLong(0x14);
        }).bytes(0, 0, 1, 0, 1, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0).get();   // 16 PFERR bits, the 8th (sgx) bad
        assertCorruptNearAndFarFromTheLimit(walk, "field payload.KvmMmuPagetableWalk.pferr.sgx: boolean byte 255 is neither 0 nor 1");
    }

    @Test
    void aPayloadBranchWithoutAModelEventScansButDecodeThrowsIllegalArgumentLikeModelEventsOf() {
        Schema extra = Schema.createRecord("FutureEvent", null, "dev.mmureplay.avro", false,
                List.of(new Schema.Field("x", Schema.create(Schema.Type.LONG))));
        List<Schema> branches = new ArrayList<>(SCHEMA.getField("payload").schema().getTypes());
        branches.add(extra);
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : SCHEMA.getFields()) {
            Schema s = f.name().equals("payload") ? Schema.createUnion(branches) : f.schema();
            fields.add(new Schema.Field(f.name(), s, f.doc(), f.defaultVal()));
        }
        Schema future = Schema.createRecord(SCHEMA.getName(), null, SCHEMA.getNamespace(), false, fields);
        TraceEventDecoder d = new TraceEventDecoder(future);
        byte[] b = new Raw().envelope("vm").with(e -> {
            e.writeIndex(29);
            e.writeLong(5);
        }).get();
        d.scan(b, 0, b.length, env);
        assertEquals(b.length, env.end);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> d.decode(b, 0, b.length, env));
        assertTrue(ex.getMessage().contains("FutureEvent"), ex.getMessage());
    }

    @Test
    void randomlyMutatedRecordsDecodeLikeAvroOrAreCorrupt() throws IOException {
        List<TraceEvent> pool = new ArrayList<>(handMade());
        List<TraceEvent> traced = allCorpusEvents();
        for (int i = 0; i < traced.size(); i += 97) {
            pool.add(traced.get(i));
        }
        SplittableRandom rnd = new SplittableRandom(20261213L);
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        for (int round = 0; round < 5_000; round++) {
            byte[] b = mutate(encode(pool.get(rnd.nextInt(pool.size()))), rnd);
            String scanned = outcome(() -> decoder.scan(b, 0, b.length, env));
            int scanEnd = env.end;
            ModelEvent[] decoded = new ModelEvent[1];
            String result = outcome(() -> decoded[0] = decoder.decode(b, 0, b.length, env));
            outcomes.merge(result, 1, Integer::sum);
            if (scanned.equals("ok")) {
                assertEquals("ok", result, "scan accepted what decode rejects: " + hex(b));
                assertEquals(scanEnd, env.end);
            } else {
                assertEquals("corrupt", scanned);
                assertEquals("corrupt", result, "decode accepted what scan rejects: " + hex(b));
            }
            if (result.equals("ok")) {
                // whatever the decoder accepts, Avro reads the same way (the decoder is at least as strict)
                Reference ref = Reference.read(b, b.length);
                assertEquals(ModelEvents.of(ref.event()), decoded[0], hex(b));
                assertEquals(ref.end(), env.end, hex(b));
                assertEquals(ref.event().getVm(), env.vm);
                assertEquals(ref.event().getSource().getOrigin(), env.origin);
            }
        }
        assertTrue(outcomes.getOrDefault("ok", 0) > 100, "too few mutants decode: " + outcomes);
        assertTrue(outcomes.getOrDefault("corrupt", 0) > 100, "too few mutants are corrupt: " + outcomes);
    }

    /** "ok", "corrupt", or a failure for any other exception. */
    private static String outcome(Runnable r) {
        try {
            r.run();
            return "ok";
        } catch (CorruptRecordException e) {
            return "corrupt";
        } catch (RuntimeException e) {
            return fail("neither a result nor CorruptRecordException", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** One to three random edits: a bit flip, a random byte, an inserted or deleted byte, a cut, a duplicated run. */
    private static byte[] mutate(byte[] b, SplittableRandom rnd) {
        int edits = 1 + rnd.nextInt(3);
        for (int k = 0; k < edits && b.length > 0; k++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(6)) {
                case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> b[at] = (byte) rnd.nextInt(256);
                case 2 -> {
                    byte[] c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, c, at + 1, b.length - at);
                    b = c;
                }
                case 3 -> {
                    byte[] c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    b = c;
                }
                case 4 -> b = Arrays.copyOf(b, at);
                default -> {
                    int n = 1 + rnd.nextInt(Math.min(8, b.length - at));
                    byte[] c = new byte[b.length + n];
                    System.arraycopy(b, 0, c, 0, at + n);
                    System.arraycopy(b, at, c, at + n, b.length - at);
                    b = c;
                }
            }
        }
        return b;
    }
}
