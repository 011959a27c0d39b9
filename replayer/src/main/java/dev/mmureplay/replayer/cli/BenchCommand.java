package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.bench.TraceRepeater;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.parse.LineReader;
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
 * {@code mmu-replay bench ingest}: builds a large trace by repeating the real traces with shifted timestamps, then
 * measures in one run, on the same file: bare line reading, the whole ingest to an Avro file, and its parts.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Ingest benchmark: generate a large trace from the real ones (repeated, timestamps shifted),"
                + " then measure bare line reading and ingest to Avro on it, single-threaded, and print a table.",
            "Run it on one core for the per-core number: taskset -c 0 ./mmu-replay bench"})
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
            description = "Avro compression of the ingest output (default: ${DEFAULT-VALUE}).")
    String codec;

    @Option(names = "--keep", description = "Keep the generated trace and Avro output (default: delete them).")
    boolean keep;

    @Option(names = "--json", description = "Print the results as one JSON object on stdout.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One measured case: lines, best wall time and the process CPU time of that best round. */
    record Result(String name, long lines, long bestNanos, long cpuNanos) {
        double linesPerSec() {
            return lines / (bestNanos / 1e9);
        }
    }

    @Override
    public Integer call() throws IOException {
        long bytes;
        AvroCompression compression;
        try {
            bytes = parseSize(size);
            compression = AvroCompression.parse(codec);
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
            results.add(measure("bare line reading (LineReader)", err, () -> bareLines(trace)));
            results.add(measure("bare line reading (BufferedReader.readLine)", err, () -> readLines(trace)));
            results.add(measure("ingest, no output (parse + TraceEvent)", err, () -> ingest(trace, null, compression)));
            results.add(measure("ingest to Avro file (" + compression + ")", err, () -> ingest(trace, avro, compression)));
            long avroBytes = Files.size(avro);
            print(results, lines, fileBytes, avroBytes);
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

    private Result measure(String name, PrintWriter err, Case c) throws IOException {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long best = Long.MAX_VALUE;
        long bestCpu = 0;
        long lines = 0;
        for (int i = 0; i < rounds; i++) {
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            lines = c.run();
            long wall = System.nanoTime() - t0;
            long cpu = os.getProcessCpuTime() - cpu0;
            err.printf(Locale.ROOT, "  %-48s round %d: %.2f s, %.2f M lines/s%n", name, i + 1, wall / 1e9, lines / (wall / 1e3));
            if (wall < best) {
                best = wall;
                bestCpu = cpu;
            }
        }
        return new Result(name, lines, best, bestCpu);
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

    private void print(List<Result> results, long lines, long fileBytes, long avroBytes) {
        PrintWriter out = spec.commandLine().getOut();
        double bare = results.get(0).linesPerSec();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lines", lines);
            m.put("traceBytes", fileBytes);
            m.put("avroBytes", avroBytes);
            m.put("cpus", Runtime.getRuntime().availableProcessors());
            List<Map<String, Object>> rs = new ArrayList<>();
            for (Result r : results) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("case", r.name());
                x.put("seconds", r.bestNanos() / 1e9);
                x.put("linesPerSec", r.linesPerSec());
                x.put("processCpuSeconds", r.cpuNanos() / 1e9);
                x.put("ratioToBareLineReading", r.linesPerSec() / bare);
                rs.add(x);
            }
            m.put("results", rs);
            out.println(Json.write(m));
        } else {
            out.printf(Locale.ROOT, "trace: %,d lines, %.1f MB; Avro output %.1f MB (%.1f bytes/event); %d CPUs visible%n",
                    lines, fileBytes / 1e6, avroBytes / 1e6, (double) avroBytes / lines,
                    Runtime.getRuntime().availableProcessors());
            out.printf(Locale.ROOT, "%-48s %9s %13s %9s %8s%n", "case (best of " + rounds + ")", "seconds",
                    "M lines/s", "CPU s", "vs bare");
            for (Result r : results) {
                out.printf(Locale.ROOT, "%-48s %9.2f %13.2f %9.2f %8.2f%n", r.name(), r.bestNanos() / 1e9,
                        r.linesPerSec() / 1e6, r.cpuNanos() / 1e9, r.linesPerSec() / bare);
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
