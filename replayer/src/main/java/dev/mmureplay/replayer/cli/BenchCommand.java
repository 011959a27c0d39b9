package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.bench.TraceRepeater;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.EventView;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.json.Json;
import dev.mmureplay.replayer.parse.LineReader;
import dev.mmureplay.replayer.parse.ParsedLine;
import dev.mmureplay.replayer.parse.TraceLineParser;
import dev.mmureplay.replayer.sink.AvroCompression;
import dev.mmureplay.replayer.sink.AvroFileEventSink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code mmu-replay bench}: builds a large trace by repeating the real traces with shifted timestamps, then
 * measures in one run, on the same file: bare line reading, the whole ingest to an Avro file, and its parts.
 *
 * <p>Each case reports two rates: per core (lines per CPU-second of the whole process, which other load on the
 * machine hardly changes and which counts every thread the case uses) and wall-clock; the ratio to bare line
 * reading is taken on the per-core rates.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Ingest benchmark: generate a large trace from the real ones (repeated, timestamps shifted),"
                + " then measure bare line reading, parsing, ingest and ingest to Avro (per codec) on it and print a"
                + " table: lines per CPU-second of the process (per core) and per elapsed second (wall).",
            "Pin it to one core for a clean per-core number: taskset -c 0 ./mmu-replay bench"})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--size", paramLabel = "SIZE", defaultValue = "1g",
            description = "Size of the generated trace, e.g. 200m, 1g (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--traces", paramLabel = "DIR", defaultValue = "examples/traces",
            description = "Directory of real .trace files to repeat (default: ${DEFAULT-VALUE}).")
    Path traces;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "out/bench",
            description = "Where the generated trace and the Avro output go (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
            description = "Measure each case N times and report the best (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--codec", paramLabel = "CODEC", defaultValue = "zstd:1",
            description = "Avro compression of the main ingest case (default: ${DEFAULT-VALUE}).")
    String codec;

    @Option(names = "--codecs", paramLabel = "LIST", split = ",", defaultValue = "none,snappy,zstd:-1,zstd:3",
            description = "Other codecs to measure ingest to Avro with, for the size/speed trade-off; --codecs="
                    + " (empty) for none (default: ${DEFAULT-VALUE}).")
    List<String> codecs;

    @Option(names = "--keep", description = "Keep the generated trace and Avro output (default: delete them).")
    boolean keep;

    @Option(names = "--json", description = "Print the results as one JSON object on stdout.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * One measured case over N rounds: the best wall time and, separately, the least process CPU time (each the best
     * of its own kind: outside load only ever adds to either), and the Avro bytes written (0 when none).
     */
    record Result(String name, long lines, long bestWallNanos, long bestCpuNanos, long outputBytes) {
        /** Wall-clock rate: what a user waits for on this machine as loaded now. */
        double linesPerSec() {
            return lines / (bestWallNanos / 1e9);
        }

        /**
         * Lines per CPU-second of the whole process (all its threads: background writer, GC, JIT): the per-core
         * rate, independent of other load on the machine and of how many cores the case could use.
         */
        double linesPerCpuSec() {
            return lines / (bestCpuNanos / 1e9);
        }
    }

    @Override
    public Integer call() throws IOException {
        long bytes;
        AvroCompression compression;
        List<AvroCompression> others = new ArrayList<>();
        try {
            bytes = parseSize(size);
            compression = AvroCompression.parse(codec);
            for (String c : codecs == null ? List.<String>of() : codecs) {
                if (!c.isBlank()) {
                    AvroCompression o = AvroCompression.parse(c);
                    if (!o.equals(compression) && !others.contains(o)) {
                        others.add(o);
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (rounds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rounds must be at least 1");
        }
        PrintWriter err = spec.commandLine().getErr();
        List<Path> templates;
        try (Stream<Path> s = Files.list(traces)) {
            templates = s.filter(p -> p.toString().endsWith(".trace")).sorted().toList();
        } catch (IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--traces: cannot list " + traces);
        }
        if (templates.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--traces: no .trace files in " + traces);
        }
        Files.createDirectories(work);
        Path trace = work.resolve("bench.trace");
        Path avro = work.resolve("bench.avro");
        try {
            err.printf(Locale.ROOT, "generating %s (>= %,d bytes) from %d real traces ...%n", trace, bytes, templates.size());
            long t0 = System.nanoTime();
            long lines = TraceRepeater.fromTraces(templates).write(trace, bytes);
            long fileBytes = Files.size(trace);
            err.printf(Locale.ROOT, "  %,d lines, %,d bytes in %.1f s%n", lines, fileBytes, (System.nanoTime() - t0) / 1e9);

            List<Result> results = new ArrayList<>();
            results.add(measure("bare line reading (LineReader)", err, () -> bareLines(trace), null));
            results.add(measure("bare line reading (BufferedReader.readLine)", err, () -> readLines(trace), null));
            results.add(measure("parse (LineReader + TraceLineParser)", err, () -> parseLines(trace), null));
            results.add(measure("ingest, no output (parse, VM, seq, counts)", err, () -> ingest(trace, null, compression), null));
            results.add(measure("ingest to Avro file (" + compression + ", default)", err,
                    () -> ingest(trace, avro, compression), avro));
            for (AvroCompression o : others) {
                results.add(measure("ingest to Avro file (" + o + ")", err, () -> ingest(trace, avro, o), avro));
            }
            print(results, lines, fileBytes);
        } finally {
            if (!keep) {
                Files.deleteIfExists(trace);
                Files.deleteIfExists(avro);
            }
        }
        return MmuReplayCli.EXIT_OK;
    }

    private interface Case {
        long run() throws IOException;
    }

    private Result measure(String name, PrintWriter err, Case c, Path output) throws IOException {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long bestWall = Long.MAX_VALUE;
        long bestCpu = Long.MAX_VALUE;
        long lines = 0;
        long outputBytes = 0;
        for (int i = 0; i < rounds; i++) {
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            lines = c.run();
            long wall = System.nanoTime() - t0;
            long cpu = os.getProcessCpuTime() - cpu0;
            err.printf(Locale.ROOT, "  %-48s round %d: %.2f s wall, %.2f s CPU: %.2f M lines/s, %.2f M lines/CPU-s%n",
                    name, i + 1, wall / 1e9, cpu / 1e9, lines / (wall / 1e3), lines / (cpu / 1e3));
            bestWall = Math.min(bestWall, wall);
            bestCpu = Math.min(bestCpu, Math.max(cpu, 1));
            if (output != null) {
                outputBytes = Files.size(output);
            }
        }
        return new Result(name, lines, bestWall, bestCpu, outputBytes);
    }

    private static long bareLines(Path trace) throws IOException {
        long n = 0;
        try (InputStream in = Files.newInputStream(trace); LineReader r = new LineReader(in)) {
            while (r.next()) {
                n++;
            }
        }
        return n;
    }

    private static long readLines(Path trace) throws IOException {
        long n = 0;
        try (BufferedReader r = Files.newBufferedReader(trace, StandardCharsets.ISO_8859_1)) {
            while (r.readLine() != null) {
                n++;
            }
        }
        return n;
    }

    /** Reading and parsing only: no TraceEvent, no VM/seq, no counts. */
    private static long parseLines(Path trace) throws IOException {
        long n = 0;
        long errors = 0;
        TraceLineParser parser = new TraceLineParser();
        try (InputStream in = Files.newInputStream(trace); LineReader r = new LineReader(in)) {
            while (r.next()) {
                n++;
                if (parser.parse(r.array(), r.start(), r.length()).kind() == ParsedLine.Kind.ERROR) {
                    errors++;
                }
            }
        }
        if (errors != 0) {
            throw new IllegalStateException("benchmark input did not parse cleanly: " + errors + " bad lines");
        }
        return n;
    }

    private static long ingest(Path trace, Path avro, AvroCompression compression) throws IOException {
        CountingDeadLetters dead = new CountingDeadLetters();
        try (EventSink sink = avro == null ? new CountingEvents() : new AvroFileEventSink(avro, compression)) {
            IngestReport report;
            try {
                report = new Ingest(IngestOptions.defaults().withUnlimitedErrors(), sink, dead, ProgressListener.NONE)
                        .run(List.of(trace.toString()));
            } catch (dev.mmureplay.replayer.ingest.TooManyErrorsException e) {
                throw new IllegalStateException(e);
            }
            if (report.deadLetters() != 0 || !report.reconciles()) {
                throw new IllegalStateException("benchmark input did not ingest cleanly: " + report);
            }
            return report.linesRead();
        }
    }

    private void print(List<Result> results, long lines, long fileBytes) {
        PrintWriter out = spec.commandLine().getOut();
        Result bare = results.get(0);
        Result readLine = results.get(1);   // the JDK's line reader: the ingest target's baseline (docs/benchmarks.md)
        int cpus = Runtime.getRuntime().availableProcessors();
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lines", lines);
            m.put("traceBytes", fileBytes);
            m.put("cpus", cpus);
            m.put("loadAverage", load);
            m.put("rounds", rounds);
            List<Map<String, Object>> rs = new ArrayList<>();
            for (Result r : results) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("case", r.name());
                x.put("wallSeconds", r.bestWallNanos() / 1e9);
                x.put("linesPerSec", r.linesPerSec());
                x.put("processCpuSeconds", r.bestCpuNanos() / 1e9);
                x.put("linesPerCpuSec", r.linesPerCpuSec());
                x.put("ratioToBareLineReadingPerCore", r.linesPerCpuSec() / bare.linesPerCpuSec());
                x.put("ratioToReadLinePerCore", r.linesPerCpuSec() / readLine.linesPerCpuSec());
                if (r.outputBytes() > 0) {
                    x.put("avroBytes", r.outputBytes());
                    x.put("avroBytesPerEvent", (double) r.outputBytes() / r.lines());
                }
                rs.add(x);
            }
            m.put("results", rs);
            out.println(Json.write(m));
        } else {
            out.printf(Locale.ROOT, "trace: %,d lines, %.1f MB; %d CPUs visible, load average %.2f; best of %d rounds%n",
                    lines, fileBytes / 1e6, cpus, load, rounds);
            out.printf(Locale.ROOT, "per core = lines per CPU-second of the whole process (all threads, GC, JIT);"
                    + " wall = lines per elapsed second; vs bare / vs readLine = per-core rate / the per-core rate of"
                    + " bare LineReader / BufferedReader.readLine%n");
            out.printf(Locale.ROOT, "%-48s %7s %7s %12s %10s %8s %11s %9s%n", "case", "CPU s", "wall s",
                    "M/s per core", "M/s wall", "vs bare", "vs readLine", "B/event");
            for (Result r : results) {
                out.printf(Locale.ROOT, "%-48s %7.2f %7.2f %12.2f %10.2f %8.3f %11.3f %9s%n", r.name(),
                        r.bestCpuNanos() / 1e9, r.bestWallNanos() / 1e9, r.linesPerCpuSec() / 1e6,
                        r.linesPerSec() / 1e6, r.linesPerCpuSec() / bare.linesPerCpuSec(),
                        r.linesPerCpuSec() / readLine.linesPerCpuSec(),
                        r.outputBytes() > 0 ? String.format(Locale.ROOT, "%.2f", (double) r.outputBytes() / r.lines())
                                : "");
            }
        }
        out.flush();
    }

    static long parseSize(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        if (t.endsWith("g")) {
            mult = 1L << 30;
        } else if (t.endsWith("m")) {
            mult = 1L << 20;
        } else if (t.endsWith("k")) {
            mult = 1L << 10;
        }
        if (mult != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t) * mult;
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: " + s + " (e.g. 200m, 1g)");
        }
    }

    private static final class CountingEvents implements EventSink {
        long n;

        @Override
        public void accept(TraceEvent event) {
            n++;
        }

        @Override
        public void accept(EventView event) {
            n++;   // no output: not even a TraceEvent (the Avro sink makes none either)
        }

        @Override
        public void close() {
        }
    }

    private static final class CountingDeadLetters implements DeadLetterSink {
        long n;

        @Override
        public void accept(DeadLetter deadLetter) {
            n++;
        }

        @Override
        public void close() {
        }
    }
}
