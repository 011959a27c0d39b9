package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Place;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import dev.mmureplay.replayer.sink.BlockDecompressor;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.MutableRecordAndPosition;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.types.Either;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Avro object container files of {@code TraceEvent} (what {@code mmu-replay ingest -o} writes) as a Flink
 * {@link BulkFormat}: one split per file (not splittable), one batch per Avro block, in {@link EventBatch}es. The
 * container is read block by block here (the format: header with the writer schema and codec, then blocks of
 * {@code count, size, data, sync marker}); a block of the current schema is decompressed and its records only
 * checked ({@link TraceEventDecoder#scan}), never decoded, then emitted VM by VM — the VMs taking turns of one batch
 * each, each VM's records in file order — so that a block of many VMs' interleaved records (a host recording several
 * guests) still gives batches of many events, not one per record (a VM's run that is contiguous in the block is a
 * slice of it, not a copy). A VM's replay sees its events in file order; the order between VMs never mattered
 * ({@code keyBy(vm)}). A file of an older released schema is decoded with schema resolution, re-encoded and emitted
 * in file order.
 *
 * <p>A file that stops being readable (cut inside a block, a wrong sync marker, a record that does not scan, not
 * an Avro container of TraceEvent) yields one {@link DeadLetter} naming the file and the index of the first record
 * that could not be read, and ends there; the job goes on. Checkpoints record how many
 * of the file's records were emitted ({@link #BY_VM}); a restore skips whole blocks by their record counts without
 * decompressing them, then the first records of its block in the order of emission (a pure function of the block).
 */
public final class AvroTraceFileFormat implements BulkFormat<Either<EventBatch, DeadLetter>, FileSourceSplit> {

    private static final long serialVersionUID = 1L;

    /**
     * The offset of this version's checkpoint positions: {@code (BY_VM, n)} = the first n records of the file in the
     * order they are emitted (each block VM by VM). The reader never seeks (it skips blocks by their counts), so the
     * offset only tells the orders apart: an earlier version's {@code (NO_OFFSET, n)} counts in file order.
     */
    static final long BY_VM = 0;

    @Override
    public Reader<Either<EventBatch, DeadLetter>> createReader(Configuration config, FileSourceSplit split)
            throws IOException {
        return new FileReader(split, 0, false);
    }

    @Override
    public Reader<Either<EventBatch, DeadLetter>> restoreReader(Configuration config, FileSourceSplit split)
            throws IOException {
        CheckpointedPosition at = split.getReaderPosition().orElse(null);
        if (at == null) {
            return new FileReader(split, 0, false);
        }
        // NO_OFFSET: a position of a job version that emitted every block in file order (before 2026-12-06)
        return new FileReader(split, at.getRecordsAfterOffset(), at.getOffset() == CheckpointedPosition.NO_OFFSET);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<Either<EventBatch, DeadLetter>> getProducedType() {
        return ReplayJob.INPUT_TYPE;
    }

    private static final class FileReader implements Reader<Either<EventBatch, DeadLetter>> {
        private static final byte[] MAGIC = {'O', 'b', 'j', 1};
        private static final int SYNC = 16;
        private static final byte[] NO_BYTES = new byte[0];

        private final String path;
        private final FSDataInputStream raw;
        private final VarintStream in;
        private final EventIntake intake = new EventIntake();
        private final byte[] sync = new byte[SYNC];
        private final byte[] syncRead = new byte[SYNC];
        /** The compressed data of the current block (reused: blocks are decompressed into new arrays). */
        private byte[] compressed = NO_BYTES;
        private Blocks blocks;
        /** Why the header did not read, when it did not (blocks is null then): the dead letter says it. */
        private String unreadable;
        /** Records emitted from this file so far (incl. a dead letter): the index a dead letter names. */
        private long index;
        private boolean done;
        /** Records of the first block to skip (a restore). */
        private long skip;
        /** The block a restore goes on inside is emitted in file order (an earlier version's position). */
        private final boolean fileOrderSkip;

        FileReader(FileSourceSplit split, long skip, boolean fileOrderSkip) throws IOException {
            this.path = split.path().toString();
            this.raw = FileSystem.get(split.path().toUri()).open(split.path());
            this.in = new VarintStream(new BufferedInputStream(raw, 1 << 16));
            this.skip = skip;
            this.fileOrderSkip = fileOrderSkip;
            try {
                readHeader();
            } catch (IOException | RuntimeException e) {
                blocks = null;
                unreadable = e instanceof EOFException ? "the file ends inside its header" : e.getMessage();
            }
        }

        /** Magic, metadata (writer schema, codec), sync marker. */
        private void readHeader() throws IOException {
            byte[] magic = new byte[4];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException("no Avro magic");
            }
            Map<String, byte[]> meta = new HashMap<>();
            for (long n = in.readLong(); n != 0; n = in.readLong()) {
                if (n < 0) {
                    n = -n;
                    in.readLong();   // the block's byte size
                }
                for (long i = 0; i < n; i++) {
                    String key = new String(in.readBytes(), StandardCharsets.UTF_8);
                    meta.put(key, in.readBytes());
                }
            }
            in.readFully(sync);
            byte[] schema = meta.get("avro.schema");
            if (schema == null) {
                throw new IOException("no avro.schema");
            }
            Schema writer = new Schema.Parser().parse(new String(schema, StandardCharsets.UTF_8));
            byte[] codecName = meta.get("avro.codec");
            String codec = codecName == null ? "null" : new String(codecName, StandardCharsets.UTF_8);
            boolean current = SchemaNormalization.parsingFingerprint64(writer)
                    == SchemaNormalization.parsingFingerprint64(TraceEvent.getClassSchema());
            blocks = new Blocks(BlockDecompressor.of(codec), current ? null : new SpecificDatumReader<>(writer,
                    TraceEvent.getClassSchema(), AvroCodec.fastModel()));
        }

        @Override
        public RecordIterator<Either<EventBatch, DeadLetter>> readBatch() throws IOException {
            while (!done) {
                if (blocks == null) {
                    done = true;
                    return single(dead("not an Avro object container file of TraceEvent: " + unreadable, index));
                }
                int blockSize;
                long count;
                try {
                    count = in.readLongOrEnd();
                    if (count == Long.MIN_VALUE) {   // a clean end: the last block ended with its sync marker
                        done = true;
                        return null;
                    }
                    long size = in.readLong();
                    if (count < 0 || size < 0 || size > Integer.MAX_VALUE - 16) {
                        throw new CorruptBlock("corrupt block header (count " + count + ", size " + size + ")");
                    }
                    if (skip >= count) {   // a restore: this block was emitted before the checkpoint
                        in.skipFully(size);
                        checkSync();
                        skip -= count;
                        index += count;
                        continue;
                    }
                    blockSize = (int) size;
                    if (compressed.length < blockSize) {   // one array for the file's compressed blocks
                        compressed = new byte[blockSize];
                    }
                    in.readFully(compressed, blockSize);
                    checkSync();
                } catch (EOFException e) {
                    done = true;
                    return single(dead("cut short: the file ends inside a block; " + index
                            + " records read before the cut", index));
                } catch (CorruptBlock | AvroRuntimeException e) {
                    done = true;
                    return single(dead("unreadable from record " + index + " on: " + e.getMessage(), index));
                }
                // position = records of the file emitted: a restore skips whole blocks by their counts, then the
                // first records of the block in the order they are emitted (by VM; in file order for a position
                // of an earlier version, whose block goes on in file order)
                boolean fileOrder = skip > 0 && fileOrderSkip;
                Emitted batch = new Emitted(index + skip, fileOrder ? CheckpointedPosition.NO_OFFSET : BY_VM);
                try {
                    // a record that did not read ends the file
                    done = !blocks.records(compressed, blockSize, count, (int) skip, fileOrder, batch);
                } catch (CorruptBlock | AvroRuntimeException e) {
                    done = true;
                    batch.add(Either.Right(dead("unreadable from record " + index + " on: " + e.getMessage(),
                            index)));
                }
                skip = 0;
                index = batch.after();
                if (batch.size() > 0) {
                    return batch;
                }
            }
            return null;
        }

        private void checkSync() throws IOException {
            in.readFully(syncRead);
            if (!Arrays.equals(sync, syncRead)) {
                throw new CorruptBlock("corrupt block: its sync marker does not match the header's");
            }
        }

        /** The block's records; a record that does not scan becomes the last entry, a dead letter. */
        private final class Blocks {
            private final BlockDecompressor codec;
            private final SpecificDatumReader<TraceEvent> older;
            private BinaryDecoder decoder;
            // per-block scratch (not state): where each record starts (and the end after the last), its seq and vm
            private int[] starts = new int[1];
            private long[] seqs = new long[0];
            private String[] vms = new String[0];
            private int[] lengths = new int[0];

            Blocks(BlockDecompressor codec, SpecificDatumReader<TraceEvent> older) {
                this.codec = codec;
                this.older = older;
            }

            /**
             * The block's records from the {@code from}-th on, batched into {@code out}; false when one of them did
             * not read (its dead letter, naming it, is then the last entry: the rest of the file is not trusted).
             * The records of the current schema are emitted VM by VM ({@link EventBatcher#turns}; in file order when
             * {@code fileOrder}), so that a block of many VMs' interleaved records still gives batches of many
             * events; {@code from} counts in the order of emission.
             */
            boolean records(byte[] data, int size, long count, int from, boolean fileOrder, Emitted out)
                    throws IOException {
                byte[] block;
                try {
                    block = codec.decompress(data, size);
                } catch (IOException e) {
                    throw new CorruptBlock(e.getMessage());
                }
                if (block == compressed) {   // codec null: the batches will be slices of it, so it is theirs now
                    compressed = NO_BYTES;
                }
                EventBatcher batcher = new EventBatcher(EventBatch.MAX_EVENTS, out::add);
                if (older != null) {
                    return olderRecords(block, count, from, batcher);
                }
                // every record takes a byte at least: a count beyond that fails at the scan of record length + 1
                int n = (int) Math.min(count, block.length + 1L);
                if (starts.length < n + 1) {
                    starts = new int[n + 1];
                    seqs = new long[n];
                    vms = new String[n];
                }
                int pos = 0;
                int good = 0;
                String bad = null;
                for (; good < n; good++) {
                    try {
                        TraceEventDecoder.Envelope head = intake.scan(block, pos, block.length);
                        starts[good] = pos;
                        seqs[good] = head.seq;
                        vms[good] = head.vm;
                        pos = head.end;
                    } catch (AvroCodec.CorruptRecordException e) {
                        bad = e.getMessage();
                        break;
                    }
                }
                starts[good] = pos;
                int[] order = fileOrder ? null : byVm(good);
                for (int k = from; k < good; k++) {
                    int i = order == null ? k : order[k];
                    batcher.add(vms[i], seqs[i], block, starts[i], starts[i + 1] - starts[i]);
                }
                Arrays.fill(vms, 0, good, null);
                if (bad != null) {
                    long at = index + good;
                    batcher.dead(dead("unreadable from record " + at + " on: " + bad, at));
                    return false;
                }
                if (pos != block.length) {
                    long at = index + count;
                    batcher.dead(dead("corrupt block: bytes after its " + count + " records", at));
                    return false;
                }
                batcher.flush();
                return true;
            }

            /** The emission order of the block's first {@code n} records ({@link EventBatcher#turns}). */
            private int[] byVm(int n) {
                if (lengths.length < n) {
                    lengths = new int[n];
                }
                for (int i = 0; i < n; i++) {
                    lengths[i] = starts[i + 1] - starts[i];
                }
                return EventBatcher.turns(vms, lengths, n);
            }

            /** A block of an older schema: decoded with resolution, re-encoded, emitted in file order. */
            private boolean olderRecords(byte[] block, long count, int from, EventBatcher batcher) throws IOException {
                decoder = DecoderFactory.get().binaryDecoder(block, decoder);
                for (long i = 0; i < count; i++) {
                    try {
                        EncodedEvent e = intake.of(older.read(null, decoder));
                        if (i >= from) {
                            batcher.add(e);
                        }
                    } catch (AvroCodec.CorruptRecordException | AvroRuntimeException | IOException e) {
                        long at = index + i;
                        batcher.dead(dead("unreadable from record " + at + " on: " + e.getMessage(), at));
                        return false;
                    }
                }
                if (!decoder.isEnd()) {
                    long at = index + count;
                    batcher.dead(dead("corrupt block: bytes after its " + count + " records", at));
                    return false;
                }
                batcher.flush();
                return true;
            }
        }

        private RecordIterator<Either<EventBatch, DeadLetter>> single(DeadLetter d) {
            Emitted one = new Emitted(index, BY_VM);
            one.add(Either.Right(d));
            index = one.after();
            return one;
        }

        /** The dead letter of record {@code at} (0-based index in the file). */
        private DeadLetter dead(String reason, long at) {
            return DeadLetter.newBuilder()
                    .setPlace(Place.newBuilder().setOrigin(path + "#" + at).setLine(at).build())
                    .setRaw(ByteBuffer.wrap(new byte[0]))
                    .setReason(reason)
                    .setStage(TraceRecordDeserializer.STAGE)
                    .build();
        }

        @Override
        public void close() throws IOException {
            if (blocks != null) {
                blocks.codec.close();
            }
            raw.close();
        }
    }

    /**
     * One block's output: batches and dead letters in file order, each with its checkpoint position = the records of
     * the file emitted once it is (a batch counts its events, a dead letter one).
     */
    private static final class Emitted implements BulkFormat.RecordIterator<Either<EventBatch, DeadLetter>> {
        private final List<Either<EventBatch, DeadLetter>> items = new ArrayList<>();
        private long[] after = new long[8];
        private final long first;
        private final long offset;
        private final MutableRecordAndPosition<Either<EventBatch, DeadLetter>> current =
                new MutableRecordAndPosition<>();
        private int next;

        /** {@code offset}: the positions' marker of the emission order ({@link #BY_VM} or NO_OFFSET: file order). */
        Emitted(long first, long offset) {
            this.first = first;
            this.offset = offset;
        }

        void add(Either<EventBatch, DeadLetter> item) {
            if (items.size() == after.length) {
                after = Arrays.copyOf(after, after.length * 2);
            }
            after[items.size()] = after() + (item.isLeft() ? item.left().size() : 1);
            items.add(item);
        }

        int size() {
            return items.size();
        }

        /** The position after the last item. */
        long after() {
            return items.isEmpty() ? first : after[items.size() - 1];
        }

        @Override
        public RecordAndPosition<Either<EventBatch, DeadLetter>> next() {
            if (next == items.size()) {
                return null;
            }
            current.set(items.get(next), offset, after[next]);
            next++;
            return current;
        }

        @Override
        public void releaseBatch() {
        }
    }

    private static final class CorruptBlock extends IOException {
        CorruptBlock(String message) {
            super(message);
        }
    }

    /** An input stream that reads Avro's zig-zag varints. */
    private static final class VarintStream {
        private final InputStream in;

        VarintStream(InputStream in) {
            this.in = in;
        }

        void skipFully(long n) throws IOException {
            for (long left = n; left > 0; ) {
                long k = in.skip(left);
                if (k <= 0) {
                    read();   // at the end: EOFException; else one byte on
                    k = 1;
                }
                left -= k;
            }
        }

        int read() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            return b;
        }

        void readFully(byte[] b) throws IOException {
            readFully(b, b.length);
        }

        /** Reads {@code b[0, len)}. */
        void readFully(byte[] b, int len) throws IOException {
            int n = 0;
            while (n < len) {
                int r = in.read(b, n, len - n);
                if (r < 0) {
                    throw new EOFException();
                }
                n += r;
            }
        }

        long readLong() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = read();
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return (v >>> 1) ^ -(v & 1);
                }
            }
            throw new CorruptBlock("varint longer than 10 bytes");
        }

        /** A varint, or {@link Long#MIN_VALUE} at a clean end of the stream (before its first byte). */
        long readLongOrEnd() throws IOException {
            int b = in.read();
            if (b < 0) {
                return Long.MIN_VALUE;
            }
            long v = b & 0x7f;
            for (int shift = 7; (b & 0x80) != 0; shift += 7) {
                if (shift >= 64) {
                    throw new CorruptBlock("varint longer than 10 bytes");
                }
                b = read();
                v |= (long) (b & 0x7f) << shift;
            }
            return (v >>> 1) ^ -(v & 1);
        }

        byte[] readBytes() throws IOException {
            long n = readLong();
            if (n < 0 || n > 1 << 24) {
                throw new CorruptBlock("corrupt header: a value of " + n + " bytes");
            }
            byte[] b = new byte[(int) n];
            readFully(b);
            return b;
        }
    }
}
