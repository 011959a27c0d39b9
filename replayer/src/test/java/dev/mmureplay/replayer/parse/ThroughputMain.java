package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.testutil.Traces;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A quick single-threaded throughput loop over the real traces repeated in memory (not a test, not a formal
 * benchmark): bare line reading, parsing, and the whole ingest with Avro binary encoding of every event.
 * Run: java -cp ... dev.mmureplay.replayer.parse.ThroughputMain [millionLines]
 */
public final class ThroughputMain {

    public static void main(String[] args) throws Exception {
        long target = (long) (Double.parseDouble(args.length > 0 ? args[0] : "3") * 1_000_000);
        ByteArrayOutputStream one = new ByteArrayOutputStream();
        long perCopy = 0;
        for (String name : Traces.NAMES) {
            for (String l : Traces.lines(name)) {
                if (!l.startsWith("#")) {
                    one.write((l + "\n").getBytes(StandardCharsets.UTF_8));
                    perCopy++;
                }
            }
        }
        byte[] chunk = one.toByteArray();
        int copies = (int) Math.max(1, target / perCopy);
        byte[] data = new byte[chunk.length * copies];
        for (int i = 0; i < copies; i++) {
            System.arraycopy(chunk, 0, data, i * chunk.length, chunk.length);
        }
        long lines = perCopy * copies;
        System.out.printf("%d lines, %.1f MB in memory%n", lines, data.length / 1e6);
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            LineReader r = new LineReader(new ByteArrayInputStream(data));
            long n = 0;
            while (r.next()) {
                n++;
            }
            long t1 = System.nanoTime();
            TraceLineParser p = new TraceLineParser();
            LineReader r2 = new LineReader(new ByteArrayInputStream(data));
            long ev = 0;
            while (r2.next()) {
                if (p.parse(r2.array(), r2.start(), r2.length()).kind() == ParsedLine.Kind.EVENT) {
                    ev++;
                }
            }
            long t2 = System.nanoTime();
            AvroNullSink sink = new AvroNullSink();
            Ingest ingest = new Ingest(IngestOptions.defaults(), sink, sink, ProgressListener.NONE);
            try (TraceInput in = TraceInput.of("bench.trace", new ByteArrayInputStream(data), data.length)) {
                ingest.ingest(in);
            }
            long t3 = System.nanoTime();
            CountingSink nul = new CountingSink();
            Ingest ingest2 = new Ingest(IngestOptions.defaults(), nul, nul, ProgressListener.NONE);
            try (TraceInput in = TraceInput.of("bench.trace", new ByteArrayInputStream(data), data.length)) {
                ingest2.ingest(in);
            }
            long t4 = System.nanoTime();
            System.out.printf("         ingest to a null sink %.2f M lines/s%n", lines / ((t4 - t3) / 1e3));
            HandEncodingSink hand = new HandEncodingSink();
            Ingest ingest3 = new Ingest(IngestOptions.defaults(), hand, hand, ProgressListener.NONE);
            try (TraceInput in = TraceInput.of("bench.trace", new ByteArrayInputStream(data), data.length)) {
                ingest3.ingest(in);
            }
            long t5 = System.nanoTime();
            System.out.printf("         ingest + hand-written envelope encoder (customEncode) %.2f M lines/s (%.1f MB)%n",
                    lines / ((t5 - t4) / 1e3), hand.sink.bytes / 1e6);
            System.out.printf("round %d: read %.2f M lines/s | read+parse %.2f M lines/s | ingest+avro %.2f M lines/s"
                            + " (%d events, %.1f MB avro)%n", round, n / ((t1 - t0) / 1e3), ev / ((t2 - t1) / 1e3),
                    lines / ((t3 - t2) / 1e3), ingest.report().events(), sink.bytes / 1e6);
        }
    }

    /** Encodes every event with Avro's binary encoder into nothing, counting bytes. */
    static final class AvroNullSink implements EventSink, DeadLetterSink {
        long bytes;
        final OutputStream out = new OutputStream() {
            @Override
            public void write(int b) {
                bytes++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                bytes += len;
            }
        };
        final SpecificDatumWriter<TraceEvent> writer = new SpecificDatumWriter<>(TraceEvent.class);
        final BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);

        @Override
        public void accept(TraceEvent event) throws IOException {
            writer.write(event, enc);
        }

        @Override
        public void accept(DeadLetter deadLetter) {
        }

        @Override
        public void flush() throws IOException {
            enc.flush();
        }

        @Override
        public void close() {
        }
    }

    static final class CountingSink implements EventSink, DeadLetterSink {
        long n;

        @Override
        public void accept(TraceEvent event) {
            n++;
        }

        @Override
        public void accept(DeadLetter deadLetter) {
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /**
     * The envelope written by hand (same bytes as SpecificDatumWriter): TraceEvent has no generated custom coder
     * because of its payload union, but every payload record and Source have one.
     */
    static final class HandEncodingSink implements EventSink, DeadLetterSink {
        final AvroNullSink sink = new AvroNullSink();
        final ClassValue<Integer> branch = new ClassValue<>() {
            @Override
            protected Integer computeValue(Class<?> type) {
                java.util.List<org.apache.avro.Schema> types = TraceEvent.getClassSchema().getField("payload").schema().getTypes();
                for (int i = 0; i < types.size(); i++) {
                    if (types.get(i).getFullName().equals(type.getName())) {
                        return i;
                    }
                }
                throw new IllegalArgumentException(type.getName());
            }
        };

        final java.util.IdentityHashMap<String, byte[]> utf8 = new java.util.IdentityHashMap<>();

        /** Strings repeat (vm, task, origin, flags): encode each String instance once. */
        void str(BinaryEncoder out, String v) throws IOException {
            byte[] b = utf8.get(v);
            if (b == null) {
                b = v.getBytes(StandardCharsets.UTF_8);
                if (utf8.size() < 10000) {
                    utf8.put(v, b);
                }
            }
            out.writeBytes(b);
        }

        @Override
        public void accept(TraceEvent e) throws IOException {
            BinaryEncoder out = sink.enc;
            str(out, e.getVm());
            out.writeInt(e.getVcpu());
            out.writeLong(e.getSeq());
            out.writeLong(e.getTimestampNs());
            dev.mmureplay.avro.Source s = e.getSource();
            str(out, s.getTask());
            out.writeInt(s.getPid());
            if (s.getTgid() == null) {
                out.writeIndex(0);
            } else {
                out.writeIndex(1);
                out.writeInt(s.getTgid());
            }
            out.writeInt(s.getCpu());
            if (s.getIrqFlags() == null) {
                out.writeIndex(0);
            } else {
                out.writeIndex(1);
                str(out, s.getIrqFlags());
            }
            str(out, s.getOrigin());
            out.writeLong(s.getLine());
            Object p = e.getPayload();
            out.writeIndex(branch.get(p.getClass()));
            ((org.apache.avro.specific.SpecificRecordBase) p).customEncode(out);
        }

        @Override
        public void accept(DeadLetter deadLetter) {
        }

        @Override
        public void flush() throws IOException {
            sink.flush();
        }

        @Override
        public void close() {
        }
    }

    private ThroughputMain() {
    }
}
