package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.sink.AvroCompression;
import dev.mmureplay.replayer.sink.AvroFileEventSink;
import dev.mmureplay.replayer.sink.AvroFileOptions;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.Schema;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AvroTraceFileFormat}: the job's file source reads Avro container files block by block into
 * {@link EventBatch}es of {@link EncodedEvent}s — the same events whatever the codec or the writer's (released) schema, one dead letter where a
 * file stops being readable, and a restore that goes on exactly after the checkpointed record.
 */
class AvroTraceFileFormatTest {

    static List<TraceEvent> events;
    static List<EncodedEvent> expected;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws Exception {
        events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace"));
        EventIntake intake = new EventIntake();
        expected = events.stream().map(intake::of).toList();
    }

    /** A read of one file: what it emitted, and the checkpoint position after each record. */
    record Read(List<Either<EventBatch, DeadLetter>> records, List<CheckpointedPosition> positions) {
        List<EncodedEvent> events() {
            List<EncodedEvent> out = new ArrayList<>();
            for (Either<EventBatch, DeadLetter> r : records) {
                if (r.isLeft()) {
                    for (int i = 0; i < r.left().size(); i++) {
                        out.add(r.left().event(i));
                    }
                }
            }
            return out;
        }

        List<DeadLetter> deadLetters() {
            return records.stream().filter(Either::isRight).map(Either::right).toList();
        }
    }

    static FileSourceSplit split(Path file) throws IOException {
        long len = Files.size(file);
        return new FileSourceSplit("0", new org.apache.flink.core.fs.Path(file.toUri()), 0, len, 0, len);
    }

    static Read read(BulkFormat.Reader<Either<EventBatch, DeadLetter>> reader) throws IOException {
        List<Either<EventBatch, DeadLetter>> out = new ArrayList<>();
        List<CheckpointedPosition> pos = new ArrayList<>();
        try (reader) {
            for (var batch = reader.readBatch(); batch != null; batch = reader.readBatch()) {
                for (RecordAndPosition<Either<EventBatch, DeadLetter>> r = batch.next(); r != null;
                     r = batch.next()) {
                    out.add(r.getRecord());
                    pos.add(new CheckpointedPosition(r.getOffset(), r.getRecordSkipCount()));
                }
                batch.releaseBatch();
            }
        }
        return new Read(out, pos);
    }

    static Read read(Path file) throws IOException {
        return read(new AvroTraceFileFormat().createReader(new Configuration(), split(file)));
    }

    /** A file as {@code mmu-replay ingest -o} writes it, in small blocks. */
    Path ingested(String name, AvroCompression compression) throws IOException {
        Path f = dir.resolve(name);
        try (var sink = new AvroFileEventSink(f, AvroFileOptions.defaults().withSyncInterval(8 * 1024)
                .withCompression(compression))) {
            for (TraceEvent e : events) {
                sink.accept(e);
            }
        }
        return f;
    }

    @Test
    void aFileIngestWroteGivesEveryEventAsItsCurrentSchemaBytes() throws Exception {
        Read r = read(ingested("ingest.avro", AvroCompression.DEFAULT));
        assertEquals(List.of(), r.deadLetters());
        assertEquals(expected, r.events());
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "deflate", "snappy", "zstandard"})
    void avrosOwnWriterWithAnyCodecGivesTheSameEvents(String codec) throws Exception {
        Path f = dir.resolve(codec + ".avro");
        try (var w = new DataFileWriter<>(new SpecificDatumWriter<>(TraceEvent.class))) {
            w.setCodec(CodecFactory.fromString(codec));
            w.setSyncInterval(4096);
            w.create(TraceEvent.getClassSchema(), f.toFile());
            for (TraceEvent e : events) {
                w.append(e);
            }
        }
        Read r = read(f);
        assertEquals(List.of(), r.deadLetters());
        assertEquals(expected, r.events());
    }

    @Test
    void aFileOfAnOlderSchemaIsResolvedAndReEncodedInTheCurrentOne() throws Exception {
        // an older writer: TraceEvent without the vcpu field (the reader's default, -1, fills it in)
        Schema current = TraceEvent.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : current.getFields()) {
            if (!f.name().equals("vcpu")) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        Schema older = Schema.createRecord(current.getName(), null, current.getNamespace(), false, fields);
        Path f = dir.resolve("older.avro");
        try (var w = new DataFileWriter<GenericRecord>(new GenericDatumWriter<>(older))) {
            w.create(older, f.toFile());
            for (TraceEvent e : events) {
                GenericData.Record g = new GenericData.Record(older);
                for (Schema.Field field : fields) {
                    g.put(field.name(), e.get(field.name()));
                }
                w.append(g);
            }
        }
        Read r = read(f);
        assertEquals(List.of(), r.deadLetters());
        EventIntake intake = new EventIntake();
        List<EncodedEvent> withoutVcpu = events.stream()
                .map(e -> intake.of(TraceEvent.newBuilder(e).setVcpu(-1).build())).toList();
        assertEquals(withoutVcpu, r.events());
    }

    @Test
    void aFileCutInsideABlockGivesTheCompleteBlocksThenOneDeadLetterWithTheRecordIndex() throws Exception {
        byte[] whole = Files.readAllBytes(ingested("whole.avro", AvroCompression.NONE));
        Path cut = dir.resolve("cut.avro");
        Files.write(cut, Arrays.copyOf(whole, whole.length * 2 / 3));
        Read r = read(cut);
        assertEquals(1, r.deadLetters().size());
        DeadLetter d = r.deadLetters().get(0);
        int before = r.events().size();
        assertTrue(before > 0 && before < events.size(), before + " of " + events.size());
        assertEquals(expected.subList(0, before), r.events(), "the blocks before the cut, exactly");
        assertTrue(d.getReason().startsWith("cut short"), d.getReason());
        assertEquals(split(cut).path() + "#" + before, d.getPlace().getOrigin());
        assertEquals(before, d.getPlace().getLine());
        assertEquals(TraceRecordDeserializer.STAGE, d.getStage());
    }

    @Test
    void aBlockWithAWrongSyncMarkerEndsTheFileWithADeadLetter() throws Exception {
        byte[] b = Files.readAllBytes(ingested("sync.avro", AvroCompression.NONE));
        b[b.length - 1] ^= 0x55;   // the last block's sync marker
        Path f = dir.resolve("badsync.avro");
        Files.write(f, b);
        Read r = read(f);
        assertEquals(1, r.deadLetters().size());
        assertTrue(r.deadLetters().get(0).getReason().contains("sync marker"), r.deadLetters().toString());
        assertEquals(expected.subList(0, r.events().size()), r.events());
    }

    @Test
    void aFileThatIsNotAvroIsOneDeadLetter() throws Exception {
        Path f = dir.resolve("text.avro");
        Files.writeString(f, "# tracer: nop\n");
        Read r = read(f);
        assertEquals(0, r.events().size());
        assertEquals(1, r.deadLetters().size());
        assertTrue(r.deadLetters().get(0).getReason().contains("not an Avro object container file"));
    }

    @Test
    void aFileWithACodecTheReaderDoesNotHaveIsOneDeadLetterNamingTheCodec() throws Exception {
        Path f = dir.resolve("bzip2.avro");
        try (var w = new DataFileWriter<>(new SpecificDatumWriter<>(TraceEvent.class))) {
            w.setCodec(CodecFactory.bzip2Codec());
            w.create(TraceEvent.getClassSchema(), f.toFile());
            w.append(events.get(0));
        }
        Read r = read(f);
        assertEquals(0, r.events().size());
        assertEquals(1, r.deadLetters().size());
        String reason = r.deadLetters().get(0).getReason();
        assertTrue(reason.contains("not an Avro object container file of TraceEvent")
                && reason.contains("'bzip2' is not supported"), reason);
    }

    @Test
    void aRecordThatDoesNotScanIsADeadLetterAndTheRestOfTheFileIsNotTrusted() throws Exception {
        Path f = ingested("corrupt.avro", AvroCompression.NONE);
        byte[] b = Files.readAllBytes(f);
        // the sync marker ends the header (and the file); the first block follows: count, size, then the first
        // record, which starts with the vm's length — made negative (zig-zag 0x01 = -1)
        byte[] sync = Arrays.copyOfRange(b, b.length - 16, b.length);
        int at = indexOf(b, sync) + 16;
        while ((b[at] & 0x80) != 0) {
            at++;
        }
        at++;   // past the count
        while ((b[at] & 0x80) != 0) {
            at++;
        }
        at++;   // past the size
        assertEquals(2 * events.get(0).getVm().length(), b[at], "the vm's length, zig-zag encoded");
        b[at] = 0x01;
        Files.write(f, b);
        Read r = read(f);
        assertEquals(1, r.deadLetters().size(), r.deadLetters().toString());
        assertTrue(r.deadLetters().get(0).getReason().startsWith("unreadable from record 0"),
                r.deadLetters().get(0).getReason());
        assertEquals(0, r.events().size());
    }

    @Test
    void aRestoreGoesOnExactlyAfterTheCheckpointedRecordWithoutReReadingTheBlocksBefore() throws Exception {
        Path f = ingested("restore.avro", AvroCompression.DEFAULT);
        Read all = read(f);
        int n = all.records().size();
        assertTrue(n > 4, n + " batches");
        for (int k : new int[] {0, 1, n / 2, n - 2, n - 1}) {
            FileSourceSplit resumed = split(f).updateWithCheckpointedPosition(all.positions().get(k));
            Read rest = read(new AvroTraceFileFormat().restoreReader(new Configuration(), resumed));
            assertEquals(all.records().subList(k + 1, n), rest.records(), "after batch " + k);
        }
    }

    @Test
    void aRestoreInsideABlockGoesOnAtTheNextEvent() throws Exception {
        // positions count events: a checkpoint can fall between two batches of one block (a block of two VMs' runs)
        Path f = ingested("restore-mid.avro", AvroCompression.DEFAULT);
        for (int n : new int[] {1, 5, 137, expected.size() / 2, expected.size() - 1}) {
            FileSourceSplit resumed = split(f).updateWithCheckpointedPosition(
                    new CheckpointedPosition(CheckpointedPosition.NO_OFFSET, n));
            Read rest = read(new AvroTraceFileFormat().restoreReader(new Configuration(), resumed));
            assertEquals(expected.subList(n, expected.size()), rest.events(), "after event " + n);
            assertEquals(List.of(), rest.deadLetters());
        }
    }

    /** {@code k} VMs' events (the trace's, renamed vm-0..) alternating {@code run} at a time, in file order. */
    static List<TraceEvent> interleaved(int k, int run) {
        List<List<TraceEvent>> vms = new ArrayList<>();
        int per = events.size() / k;
        for (int v = 0; v < k; v++) {
            String vm = "vm-" + v;
            vms.add(events.subList(v * per, (v + 1) * per).stream()
                    .map(e -> TraceEvent.newBuilder(e).setVm(vm).build()).toList());
        }
        List<TraceEvent> mixed = new ArrayList<>();
        for (int i = 0; i < per; i += run) {
            for (List<TraceEvent> vm : vms) {
                mixed.addAll(vm.subList(i, Math.min(per, i + run)));
            }
        }
        return mixed;
    }

    Path write(String name, List<TraceEvent> list, int syncInterval) throws IOException {
        Path f = dir.resolve(name);
        try (var sink = new AvroFileEventSink(f, AvroFileOptions.defaults().withSyncInterval(syncInterval))) {
            for (TraceEvent e : list) {
                sink.accept(e);
            }
        }
        return f;
    }

    @Test
    void aBlocksEventsAreBatchedVmByVmInTheOrderOfTheirFirstEventEachVmInFileOrder() throws Exception {
        // two VMs alternating event by event in one block (a host recording two busy guests): one batch per VM, not
        // one per event; the position counts the events emitted
        List<TraceEvent> mixed = interleaved(2, 1).subList(0, 60);
        Read r = read(write("two-vms.avro", mixed, 1 << 20));
        EventIntake intake = new EventIntake();
        List<EncodedEvent> fileOrder = mixed.stream().map(intake::of).toList();
        List<EncodedEvent> vmByVm = new ArrayList<>(EventBatchSerializerTest.perVm(fileOrder).get("vm-0"));
        vmByVm.addAll(EventBatchSerializerTest.perVm(fileOrder).get("vm-1"));
        assertEquals(vmByVm, r.events());
        assertEquals(2, r.records().size(), "one batch per VM");
        assertEquals("vm-0", r.records().get(0).left().vm());
        assertEquals(List.of(new CheckpointedPosition(AvroTraceFileFormat.BY_VM, 30),
                new CheckpointedPosition(AvroTraceFileFormat.BY_VM, 60)), r.positions());
    }

    @Test
    void theVmsOfABlockTakeTurnsOfOneFullBatchEach() throws Exception {
        // not each VM's whole share at once: that would fill one replay task's buffers while the others wait
        List<TraceEvent> mixed = interleaved(3, 1);
        Read r = read(write("turns.avro", mixed, 1 << 20));   // one block
        List<EventBatch> batches = r.records().stream().map(Either::left).toList();
        Map<String, Integer> perVm = new TreeMap<>();
        batches.forEach(b -> perVm.merge(b.vm(), 1, Integer::sum));
        int full = perVm.values().stream().min(Integer::compare).orElseThrow() - 1;
        assertTrue(full >= 2, perVm + " batches per VM");
        for (int i = 0; i < 3 * full; i++) {
            EventBatch b = batches.get(i);
            assertEquals("vm-" + (i % 3), b.vm(), "batch " + i);
            assertTrue(b.size() == EventBatch.MAX_EVENTS || b.bytes() > EventBatch.MAX_BYTES - 200,
                    "a turn is a full batch: " + b);
        }
    }

    @Test
    void batchesStillHoldAtMostMaxEventsAndMaxBytes() throws Exception {
        List<TraceEvent> mixed = interleaved(3, 1);
        Read r = read(write("three-vms.avro", mixed, 1 << 20));
        for (Either<EventBatch, DeadLetter> x : r.records()) {
            assertTrue(x.left().size() <= EventBatch.MAX_EVENTS, x.left().toString());
            assertTrue(x.left().size() == 1 || x.left().bytes() <= EventBatch.MAX_BYTES, x.left().toString());
        }
        EventIntake intake = new EventIntake();
        assertEquals(EventBatchSerializerTest.perVm(mixed.stream().map(intake::of).toList()), EventBatchSerializerTest.perVm(r.events()), "every VM's events, in order");
        assertTrue(r.records().size() < mixed.size() / 20, r.records().size() + " batches for " + mixed.size());
    }

    @Test
    void aRestoreInsideAnInterleavedBlockGoesOnAtTheNextEventOfTheEmissionOrder() throws Exception {
        Path f = write("restore-interleaved.avro", interleaved(3, 2), 8 * 1024);
        List<EncodedEvent> all = read(f).events();
        for (int n : new int[] {1, 7, 150, all.size() / 2, all.size() - 1}) {
            FileSourceSplit resumed = split(f).updateWithCheckpointedPosition(
                    new CheckpointedPosition(AvroTraceFileFormat.BY_VM, n));
            Read rest = read(new AvroTraceFileFormat().restoreReader(new Configuration(), resumed));
            assertEquals(all.subList(n, all.size()), rest.events(), "after event " + n);
        }
    }

    @Test
    void aPositionOfAnEarlierVersionCountsInFileOrderAndTheRestoreLosesAndRepeatsNothing() throws Exception {
        // (NO_OFFSET, n): the first n records in file order were emitted (the job before VM-by-VM blocks); the block
        // it falls in goes on in file order, the next ones VM by VM
        List<TraceEvent> mixed = interleaved(3, 2);
        Path f = write("restore-earlier.avro", mixed, 8 * 1024);
        EventIntake intake = new EventIntake();
        List<EncodedEvent> fileOrder = mixed.stream().map(intake::of).toList();
        for (int n : new int[] {1, 7, 150, fileOrder.size() / 2, fileOrder.size() - 1}) {
            FileSourceSplit resumed = split(f).updateWithCheckpointedPosition(
                    new CheckpointedPosition(CheckpointedPosition.NO_OFFSET, n));
            Read rest = read(new AvroTraceFileFormat().restoreReader(new Configuration(), resumed));
            List<EncodedEvent> expectedRest = fileOrder.subList(n, fileOrder.size());
            assertEquals(EventBatchSerializerTest.perVm(expectedRest), EventBatchSerializerTest.perVm(rest.events()), "after event " + n);
            assertEquals(expectedRest.get(0), rest.events().get(0), "the block goes on in file order");
            assertEquals(CheckpointedPosition.NO_OFFSET, rest.positions().get(0).getOffset());
            if (n <= fileOrder.size() / 2) {   // not in the last block: the blocks after it are emitted VM by VM
                assertEquals(AvroTraceFileFormat.BY_VM, rest.positions().get(rest.positions().size() - 1).getOffset());
            }
        }
    }

    @Test
    void aSingleObjectValueOfAnUnknownSchemaIsRefusedWithItsFingerprint() {
        byte[] value = AvroCodec.traceEvents().encode(events.get(0));
        value[5] ^= 1;   // another fingerprint
        var e = org.junit.jupiter.api.Assertions.assertThrows(AvroCodec.UnknownSchemaException.class,
                () -> new EventIntake().singleObject(value));
        assertTrue(e.getMessage().contains("unknown schema fingerprint"), e.getMessage());
    }

    @Test
    void aSingleObjectValueWithBytesAfterItsRecordIsCorrupt() {
        byte[] value = AvroCodec.traceEvents().encode(events.get(0));
        byte[] longer = Arrays.copyOf(value, value.length + 3);
        var e = org.junit.jupiter.api.Assertions.assertThrows(AvroCodec.CorruptRecordException.class,
                () -> new EventIntake().singleObject(longer));
        assertTrue(e.getMessage().contains("3 bytes after the end of the record"), e.getMessage());
        assertEquals(expected.get(0), new EventIntake().singleObject(value));
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
