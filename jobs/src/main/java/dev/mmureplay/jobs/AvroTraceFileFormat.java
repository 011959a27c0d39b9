package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Place;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.IteratorResultIterator;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.types.Either;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Avro object container files of {@code TraceEvent} (what {@code mmu-replay ingest -o} writes) as a Flink
 * {@link BulkFormat}: one split per file (not splittable), records in file order. A file that stops decoding (cut,
 * corrupt block, not Avro) yields one {@link DeadLetter} naming the file and the index of the first record that could
 * not be read, and ends there; the job goes on. Restores by skipping the records already emitted.
 */
public final class AvroTraceFileFormat implements BulkFormat<Either<TraceEvent, DeadLetter>, FileSourceSplit> {

    private static final long serialVersionUID = 1L;
    private static final int BATCH = 1024;

    @Override
    public Reader<Either<TraceEvent, DeadLetter>> createReader(Configuration config, FileSourceSplit split)
            throws IOException {
        return new FileReader(split, 0);
    }

    @Override
    public Reader<Either<TraceEvent, DeadLetter>> restoreReader(Configuration config, FileSourceSplit split)
            throws IOException {
        long skip = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        return new FileReader(split, skip);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<Either<TraceEvent, DeadLetter>> getProducedType() {
        return ReplayJob.INPUT_TYPE;
    }

    private static final class FileReader implements Reader<Either<TraceEvent, DeadLetter>> {
        private final FileSourceSplit split;
        private final String path;
        private final FSDataInputStream in;
        private DataFileStream<TraceEvent> avro;
        private long index;   // records emitted from this file so far (incl. a dead letter)
        private boolean done;

        FileReader(FileSourceSplit split, long skip) throws IOException {
            this.split = split;
            this.path = split.path().toString();
            this.in = FileSystem.get(split.path().toUri()).open(split.path());
            try {
                this.avro = new DataFileStream<>(in, new SpecificDatumReader<>(TraceEvent.getClassSchema(),
                        TraceEvent.getClassSchema(), AvroCodec.fastModel()));
            } catch (IOException | AvroRuntimeException e) {
                this.avro = null;
            }
            while (index < skip && !done) {
                next();
            }
        }

        private Either<TraceEvent, DeadLetter> next() throws IOException {
            try {
                if (avro == null) {
                    done = true;
                    index++;
                    return Either.Right(dead("not an Avro object container file of TraceEvent"));
                }
                if (!avro.hasNext()) {
                    done = true;
                    if (!endsWithSyncMarker()) {   // Avro's reader ends silently at a cut block
                        index++;
                        return Either.Right(dead("cut short: the file does not end with its sync marker; "
                                + (index - 1) + " records read before the cut"));
                    }
                    return null;
                }
                TraceEvent e = avro.next();
                index++;
                return Either.Left(e);
            } catch (AvroRuntimeException e) {
                done = true;
                index++;
                return Either.Right(dead("unreadable from record " + (index - 1) + " on: " + e.getMessage()));
            }
        }

        /**
         * A complete container file ends with the 16-byte sync marker written at the end of its header (and after
         * every block); a file cut inside a block ends with record bytes instead. (Avro's stream reader takes an
         * end of file inside a block for a clean end.)
         */
        private boolean endsWithSyncMarker() throws IOException {
            FileSystem fs = split.path().getFileSystem();
            long len = fs.getFileStatus(split.path()).getLen();
            byte[] tail = new byte[16];
            byte[] sync = new byte[16];
            try (FSDataInputStream f = fs.open(split.path())) {
                // header: magic "Obj" 1, metadata map<bytes>, sync marker
                org.apache.avro.io.BinaryDecoder d = org.apache.avro.io.DecoderFactory.get().binaryDecoder(f, null);
                d.readFixed(new byte[4]);
                for (long n = d.readMapStart(); n != 0; n = d.mapNext()) {
                    for (long i = 0; i < n; i++) {
                        d.skipString();
                        d.skipBytes();
                    }
                }
                d.readFixed(sync);
            }
            if (len < 16) {
                return false;
            }
            try (FSDataInputStream f = fs.open(split.path())) {
                f.seek(len - 16);
                readFully(f, tail);
            }
            return java.util.Arrays.equals(sync, tail);
        }

        private static void readFully(FSDataInputStream f, byte[] b) throws IOException {
            int n = 0;
            while (n < b.length) {
                int r = f.read(b, n, b.length - n);
                if (r < 0) {
                    throw new java.io.EOFException();
                }
                n += r;
            }
        }

        private DeadLetter dead(String reason) {
            return DeadLetter.newBuilder()
                    .setPlace(Place.newBuilder().setOrigin(path + "#" + index).setLine(index).build())
                    .setRaw(ByteBuffer.wrap(new byte[0]))
                    .setReason(reason)
                    .setStage(TraceRecordDeserializer.STAGE)
                    .build();
        }

        @Override
        public RecordIterator<Either<TraceEvent, DeadLetter>> readBatch() throws IOException {
            if (done) {
                return null;
            }
            long before = index;
            List<Either<TraceEvent, DeadLetter>> batch = new ArrayList<>(BATCH);
            while (batch.size() < BATCH && !done) {
                Either<TraceEvent, DeadLetter> r = next();
                if (r != null) {
                    batch.add(r);
                }
            }
            if (batch.isEmpty()) {
                return null;
            }
            return new IteratorResultIterator<>(batch.iterator(), CheckpointedPosition.NO_OFFSET, before);
        }

        @Override
        public void close() throws IOException {
            if (avro != null) {
                avro.close();
            } else {
                in.close();
            }
        }
    }
}
