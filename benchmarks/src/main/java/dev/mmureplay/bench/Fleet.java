package dev.mmureplay.bench;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.parse.TraceInput;
import dev.mmureplay.replayer.sink.AvroFileEventSink;
import dev.mmureplay.replayer.synth.Synth;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Bench inputs, made with the product's own tools (not timed): synth {@code scale} traces, one per VM, ingested with
 * the real {@link Ingest} (vm id, dense seq from 0) into Avro container files, and a fleet file in which the VMs'
 * events are interleaved in chunks (each VM keeps its seq order), as a host recording many guests would be.
 */
final class Fleet {

    /** Events of one VM taken from its file before moving to the next VM when interleaving (the default). */
    static final int CHUNK = 256;

    private Fleet() {
    }

    /** Events of VM {@code i} out of {@code k} sharing {@code total}. */
    static long share(long total, int k, int i) {
        return total / k + (i < total % k ? 1 : 0);
    }

    /**
     * Writes {@code k} VMs ({@code prefix0..prefix(k-1)}, synth scale with seeds {@code seed + i}) sharing
     * {@code total} events into one Avro container file (zstd, as {@code ingest -o} writes it), {@link #CHUNK}
     * events of a VM at a time.
     */
    static Path write(Path dir, String name, String prefix, int k, long total, long seed, Consumer<String> log)
            throws IOException {
        return write(dir, name, prefix, k, total, seed, CHUNK, log);
    }

    /** As above, {@code chunk} events of a VM at a time (1: the VMs alternate event by event). */
    static Path write(Path dir, String name, String prefix, int k, long total, long seed, int chunk,
                      Consumer<String> log) throws IOException {
        List<Path> parts = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            String vm = prefix + i;
            Path p = dir.resolve(name + "." + vm + ".avro");
            try (AvroFileEventSink sink = new AvroFileEventSink(p)) {
                scale(vm, share(total, k, i), seed + i, dir, sink);
            }
            parts.add(p);
            log.accept("  generated " + vm + " (" + share(total, k, i) + " events)");
        }
        Path out = dir.resolve(name + ".avro");
        if (k == 1) {
            Files.move(parts.get(0), out);
            return out;
        }
        List<DataFileStream<TraceEvent>> in = new ArrayList<>();
        try (AvroFileEventSink sink = new AvroFileEventSink(out)) {
            for (Path p : parts) {
                in.add(new DataFileStream<>(new BufferedInputStream(Files.newInputStream(p), 1 << 16),
                        new SpecificDatumReader<>(TraceEvent.class)));
            }
            TraceEvent[] reuse = new TraceEvent[k];
            boolean any = true;
            while (any) {
                any = false;
                for (int i = 0; i < k; i++) {
                    DataFileStream<TraceEvent> s = in.get(i);
                    for (int n = 0; n < chunk && s.hasNext(); n++) {
                        reuse[i] = s.next(reuse[i]);
                        sink.accept(reuse[i]);   // encoded on this thread, so the reused record is safe
                        any = true;
                    }
                }
            }
        } finally {
            for (DataFileStream<TraceEvent> s : in) {
                s.close();
            }
            for (Path p : parts) {
                Files.deleteIfExists(p);
            }
        }
        return out;
    }

    /** One VM's synth scale trace (text in a temp file, then the real ingest) into {@code sink}. */
    static void scale(String vm, long events, long seed, Path dir, EventSink sink) throws IOException {
        Path text = dir.resolve(vm + ".trace");
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(text), 1 << 16)) {
            Synth.generate("scale", events, seed, o);
        }
        try {
            ingest(vm, text, sink);
        } finally {
            Files.deleteIfExists(text);
        }
    }

    /** Trace text through the real ingest; any dead letter fails (the inputs are generated, so have none). */
    static void ingest(String vm, Path text, EventSink sink) throws IOException {
        DeadLetterSink dead = new DeadLetterSink() {
            @Override
            public void accept(DeadLetter d) {
                throw new IllegalStateException(vm + ": unexpected dead letter " + d.getReason());
            }

            @Override
            public void close() {
            }
        };
        try (TraceInput input = TraceInput.open(text.toString())) {
            Ingest ingest = new Ingest(IngestOptions.defaults().withVm(vm), sink, dead, ProgressListener.NONE);
            ingest.ingest(input);
            sink.flush();
        } catch (dev.mmureplay.replayer.ingest.TooManyErrorsException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Trace text (a resource or generated bytes) → events in memory (small inputs only). */
    static List<TraceEvent> events(String vm, byte[] text, Path dir) throws IOException {
        Path tmp = dir.resolve(vm + ".trace");
        Files.write(tmp, text);
        List<TraceEvent> out = new ArrayList<>();
        try {
            ingest(vm, tmp, new EventSink() {
                @Override
                public void accept(TraceEvent e) {
                    out.add(e);
                }

                @Override
                public void close() {
                }
            });
        } finally {
            Files.deleteIfExists(tmp);
        }
        return out;
    }

    /** A synth scenario's events in memory. */
    static List<TraceEvent> synth(String scenario, String vm, long events, long seed, Path dir) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Synth.generate(scenario, events, seed, b);
        return events(vm, b.toByteArray(), dir);
    }

    /** A classpath resource's bytes (the scenario traces of the replayer's test-jar). */
    static byte[] resource(String name) {
        try (InputStream in = Fleet.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads an Avro container file with the job's own file reader (no Flink runtime); the count of events. */
    static long readAsTheJob(Path file) throws IOException {
        long len = Files.size(file);
        var split = new org.apache.flink.connector.file.src.FileSourceSplit("0",
                new org.apache.flink.core.fs.Path(file.toUri()), 0, len, 0, len);
        long n = 0;
        try (var reader = new dev.mmureplay.jobs.AvroTraceFileFormat()
                .createReader(new org.apache.flink.configuration.Configuration(), split)) {
            for (var batch = reader.readBatch(); batch != null; batch = reader.readBatch()) {
                for (var r = batch.next(); r != null; r = batch.next()) {
                    if (r.getRecord().isLeft()) {
                        n += r.getRecord().left().size();   // a batch: a run of one VM's events
                    }
                }
                batch.releaseBatch();
            }
        }
        return n;
    }

    /** Reads an Avro container file of events, calling {@code each} per event (a reused record). */
    static long forEach(Path file, Consumer<TraceEvent> each) throws IOException {
        long n = 0;
        try (DataFileStream<TraceEvent> s = new DataFileStream<>(
                new BufferedInputStream(Files.newInputStream(file), 1 << 16),
                new SpecificDatumReader<>(TraceEvent.getClassSchema(), TraceEvent.getClassSchema(),
                        dev.mmureplay.schemas.AvroCodec.fastModel()))) {   // as the job's file source reads
            TraceEvent r = null;
            while (s.hasNext()) {
                r = s.next(r);
                each.accept(r);
                n++;
            }
        }
        return n;
    }
}
