package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.testing.SampleEvents;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Measures the Avro container writer per codec, block size and encoder on events shaped like the real traces
 * (the four long traces repeated with shifted timestamps, seqs, gfns, pfns and sptep addresses, so blocks do not
 * compress unrealistically well). Not a test (a benchmark main, run with the test classpath), e.g.
 * {@code mvn -q -pl replayer test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.mmureplay.replayer.sink.AvroCodecBench}; prints a table and writes it to
 * {@code target/bench-avro-codecs.txt}.
 */
public final class AvroCodecBench {

    public static void main(String[] args) throws IOException {
        new AvroCodecBench().codecs();
    }


    private static final int EVENTS = Integer.getInteger("bench.events", 400_000);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);

    void codecs() throws IOException {
        List<TraceEvent> events = realisticEvents(EVENTS);
        Path dir = Paths.get("target", "bench");
        Files.createDirectories(dir);
        List<String> rows = new ArrayList<>();
        rows.add("Encoding only (codec none, output discarded), Avro's writers vs TraceEventDatumWriter:");
        rows.add(String.format("  %-22s %12s", "datum writer", "cpu ns/event"));
        for (String w : List.of("avro-stock", "avro-custom-coders", "fast")) {
            rows.add(String.format("  %-22s %12.1f", w, encodeOnly(events, w)));
        }
        rows.add("");
        rows.add("AvroFileEventSink to a file, synchronous (everything on the calling thread):");
        rows.add(String.format("  %-10s %-7s %12s %10s %9s", "codec", "block", "cpu ns/event", "Mevents/s", "B/event"));
        for (String codec : List.of("none", "snappy", "deflate:1", "zstd:-1", "zstd:1", "zstd:3")) {
            for (int block : new int[] {64 * 1024, 1 << 20}) {
                AvroFileOptions o = AvroFileOptions.defaults().withCompression(AvroCompression.parse(codec))
                        .withSyncInterval(block).withBackgroundWriter(false);
                rows.add(row(codec, block, sink(events, dir.resolve("b.avro"), o)));
            }
        }
        rows.add("");
        rows.add("AvroFileEventSink with the background writer thread (cpu = calling thread only; wall = to close):");
        rows.add(String.format("  %-10s %-7s %12s %10s %9s", "codec", "block", "cpu ns/event", "Mevents/s", "B/event"));
        for (String codec : List.of("snappy", "zstd:1", "zstd:3")) {
            AvroFileOptions o = AvroFileOptions.defaults().withCompression(AvroCompression.parse(codec))
                    .withBackgroundWriter(true);
            rows.add(row(codec, o.syncIntervalBytes(), sink(events, dir.resolve("b.avro"), o)));
        }
        rows.add("");
        rows.add("events/round " + events.size() + ", best of " + ROUNDS + " rounds after 2 warm-up, JVM "
                + System.getProperty("java.vm.version") + ", cores " + Runtime.getRuntime().availableProcessors());
        String table = String.join("\n", rows);
        System.out.println(table);
        Files.writeString(Paths.get("target", "bench-avro-codecs.txt"), table + "\n");
    }

    private static String row(String codec, int block, double[] r) {
        return String.format("  %-10s %-7s %12.1f %10.2f %9.1f", codec,
                block >= 1 << 20 ? (block >> 20) + "MiB" : (block >> 10) + "KiB", r[0], r[1], r[2]);
    }

    /** {cpu ns/event of this thread, wall Mevents/s, bytes/event}, best round. */
    private static double[] sink(List<TraceEvent> events, Path file, AvroFileOptions options) throws IOException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long bestCpu = Long.MAX_VALUE;
        long bestWall = Long.MAX_VALUE;
        for (int r = 0; r < ROUNDS + 2; r++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            try (AvroFileEventSink sink = new AvroFileEventSink(file, options)) {
                for (TraceEvent e : events) {
                    sink.accept(e);
                }
            }
            long wall = System.nanoTime() - t0;
            long cpu = mx.getCurrentThreadCpuTime() - c0;
            if (r >= 2) {
                bestCpu = Math.min(bestCpu, cpu);
                bestWall = Math.min(bestWall, wall);
            }
        }
        return new double[] {(double) bestCpu / events.size(), events.size() * 1000.0 / bestWall,
                (double) Files.size(file) / events.size()};
    }

    private static double encodeOnly(List<TraceEvent> events, String writer) throws IOException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long best = Long.MAX_VALUE;
        for (int r = 0; r < ROUNDS + 2; r++) {
            DatumWriter<TraceEvent> dw = writer.equals("avro-stock") ? new SpecificDatumWriter<>(TraceEvent.class)
                    : writer.equals("avro-custom-coders") ? TraceEventDatumWriter.specificWriter()
                    : TraceEventDatumWriter.create();
            long c0 = mx.getCurrentThreadCpuTime();
            try (DataFileWriter<TraceEvent> w = new DataFileWriter<>(dw)) {
                w.setCodec(AvroCompression.NONE.codecFactory());
                w.setSyncInterval(1 << 20);
                w.setEncoder(s -> EncoderFactory.get().binaryEncoder(s, null));
                w.create(TraceEvent.getClassSchema(), OutputStream.nullOutputStream());
                for (TraceEvent e : events) {
                    w.append(e);
                }
            }
            long t = mx.getCurrentThreadCpuTime() - c0;
            if (r >= 2) {
                best = Math.min(best, t);
            }
        }
        return (double) best / events.size();
    }

    /** The real traces' events, repeated with shifted values until {@code n} events. */
    static List<TraceEvent> realisticEvents(int n) {
        List<TraceEvent> base = new ArrayList<>();
        for (String t : List.of("long_user_basic.trace", "long_user_many_pages.trace", "long_user_memslot.trace",
                "long_kernel_emulated.trace")) {
            base.addAll(SampleEvents.fromTrace(t, t.replace(".trace", "")));
        }
        long span = base.get(base.size() - 1).getTimestampNs() - base.get(0).getTimestampNs() + 1000;
        List<TraceEvent> out = new ArrayList<>(n);
        Map<String, Long> seqs = new java.util.HashMap<>();
        for (int r = 0; out.size() < n; r++) {
            long shift = (long) r * 0x1234000L;   // new pages, new host frames, new sptep each repetition
            for (TraceEvent e : base) {
                if (out.size() == n) {
                    break;
                }
                TraceEvent c = TraceEvent.newBuilder(e).build();   // deep copy
                c.setSeq(seqs.merge(c.getVm(), 1L, Long::sum) - 1);
                c.setTimestampNs(e.getTimestampNs() + r * span);
                c.getSource().setLine(e.getSource().getLine() + (long) r * 2000);
                Object p = c.getPayload();
                if (p instanceof KvmMmuSetSpte) {
                    KvmMmuSetSpte s = (KvmMmuSetSpte) p;
                    s.setGfn(s.getGfn() + (shift >> 12));
                    s.setSpte(s.getSpte() + shift);
                    s.setSptep(s.getSptep() + shift * 7 + (r * 8L & 0xff8));
                } else if (p instanceof KvmMmuSpteRequested) {
                    KvmMmuSpteRequested s = (KvmMmuSpteRequested) p;
                    s.setGfn(s.getGfn() + (shift >> 12));
                    s.setPfn(s.getPfn() + (shift >> 12));
                } else if (p instanceof KvmMmuPagingElement) {
                    KvmMmuPagingElement s = (KvmMmuPagingElement) p;
                    s.setPte(s.getPte() + shift);
                } else if (p instanceof KvmMmuPagetableWalk) {
                    KvmMmuPagetableWalk s = (KvmMmuPagetableWalk) p;
                    s.setAddr(s.getAddr() + shift);
                } else if (p instanceof KvmMmuSetAccessedBit) {
                    KvmMmuSetAccessedBit s = (KvmMmuSetAccessedBit) p;
                    s.setGpa(s.getGpa() + shift);
                } else if (p instanceof KvmEmulateInsn) {
                    KvmEmulateInsn s = (KvmEmulateInsn) p;
                    s.setRip(s.getRip() + (r & 0xfff));
                }
                out.add(c);
            }
        }
        return out;
    }
}
