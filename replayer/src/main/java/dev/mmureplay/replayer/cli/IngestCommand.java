package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.ingest.TooManyErrorsException;
import dev.mmureplay.replayer.json.Json;
import dev.mmureplay.replayer.sink.AvroCompression;
import dev.mmureplay.replayer.sink.AvroFileDeadLetterSink;
import dev.mmureplay.replayer.sink.AvroFileEventSink;
import dev.mmureplay.replayer.sink.JsonLinesDeadLetterSink;
import dev.mmureplay.replayer.sink.KafkaDeadLetterSink;
import dev.mmureplay.replayer.sink.KafkaEventSink;
import dev.mmureplay.replayer.sink.KafkaSinkConfig;
import dev.mmureplay.replayer.sink.TeeDeadLetterSink;
import dev.mmureplay.replayer.sink.TeeEventSink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code mmu-replay ingest TRACE...}: parse kvm/kvmmmu trace text into Avro TraceEvents, to a file and/or a Kafka
 * topic; bad lines become dead letters; prints the reconciliation (lines read = events + dead letters + skipped).
 */
@Command(name = "ingest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Parse kvm/kvmmmu trace text (raw tracefs 'trace'/'trace_pipe' or 'trace-cmd report' output, plain or"
                + " .gz, or '-' for stdin) into Avro TraceEvents: to an Avro container file (-o) and/or a Kafka"
                + " topic (--kafka). Without either, the input is only checked and counted.",
            "Every line is an event, a dead letter (file:line, the raw text and the reason) or skipped"
                + " (headers, blank lines); the summary reconciles the three."},
        footer = {"", "Examples:",
            "  ./mmu-replay ingest examples/traces/long_user_basic.trace -o out/basic.avro",
            "  ./mmu-replay ingest host1.trace.gz --split-by tgid --kafka localhost:9092 --json",
            "  cat /sys/kernel/tracing/trace_pipe | ./mmu-replay ingest - --vm guest1 --kafka localhost:9092",
            "", "Exit codes: 0 done, 1 runtime failure, 2 usage error, 3 more bad lines than --max-errors."})
final class IngestCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "TRACE", description = "Trace files (.gz detected by content), or - for stdin.")
    List<String> inputs;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE.avro", description = "Write events to this Avro container file.")
    Path output;

    @Option(names = "--codec", paramLabel = "CODEC", defaultValue = "zstd:1",
            description = "Avro file compression: zstd[:LEVEL], snappy, deflate[:LEVEL], null (default: ${DEFAULT-VALUE}).")
    String codec;

    @Option(names = "--dead-letters", paramLabel = "FILE",
            description = "Dead-letter file (JSON lines; Avro if it ends in .avro). Default: OUT.deadletters.jsonl"
                    + " beside -o, else mmu-replay-deadletters.jsonl; created only when a line is bad.")
    Path deadLetters;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP", description = "Kafka bootstrap servers: also write events to a topic.")
    String kafka;

    @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = "mmu.trace",
            description = "Event topic (key = vm; default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--dead-letter-topic", paramLabel = "TOPIC", defaultValue = "mmu.deadletter",
            description = "With --kafka, dead letters go to this topic (default: ${DEFAULT-VALUE}).")
    String deadLetterTopic;

    @Option(names = "--producer-config", paramLabel = "FILE",
            description = "Kafka client properties file (security, tuning); -X settings override it.")
    Path producerConfig;

    @Option(names = {"-X", "--producer-property"}, paramLabel = "KEY=VALUE",
            description = "A Kafka client setting, e.g. -X security.protocol=SSL (repeatable).")
    Map<String, String> producerProperties = new LinkedHashMap<>();

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "" + KafkaSinkConfig.DEFAULT_PARTITIONS,
            description = "Partitions of topics that ingest creates (default: ${DEFAULT-VALUE}).")
    int partitions;





    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "Progress bar on stderr: auto (when stderr is a terminal), always, never.")
    String progress;

    @Option(names = "--json", description = "Print the summary as one JSON object on stdout.")
    boolean json;

    @CommandLine.Mixin
    TraceInputOptions input = new TraceInputOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        IngestOptions options = options();
        AvroCompression compression = parseCodec();
        ProgressBar.Mode progressMode = enumOption("--progress", progress, ProgressBar.Mode.class);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();

        ProgressListener bar = ProgressBar.create(progressMode, err);
        List<EventSink> eventSinks = new ArrayList<>();
        List<DeadLetterSink> deadLetterSinks = new ArrayList<>();
        IngestReport report;
        boolean tooMany = false;
        try {
            openSinks(compression, eventSinks, deadLetterSinks);
            EventSink events = eventSinks.isEmpty() ? NO_EVENTS
                    : eventSinks.size() == 1 ? eventSinks.get(0) : new TeeEventSink(eventSinks);
            DeadLetterSink dead = deadLetterSinks.size() == 1 ? deadLetterSinks.get(0) : new TeeDeadLetterSink(deadLetterSinks);
            Ingest ingest = new Ingest(options, events, dead, bar);
            try {
                report = ingest.run(inputs);
            } catch (TooManyErrorsException e) {
                report = e.report();
                tooMany = true;
            } catch (NoSuchFileException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no such trace file: " + e.getMessage());
            }
        } finally {
            ProgressBar.finish(bar);
            closeAll(eventSinks, deadLetterSinks);
        }

        if (json) {
            out.println(Json.write(toJson(report)));
        } else {
            out.println(table(report));
        }
        out.flush();
        if (report.deadLetters() > 0) {
            err.println("mmu-replay ingest: " + report.deadLetters() + " bad line(s) kept as dead letters in "
                    + deadLetterPlace());
        }
        if (tooMany) {
            err.println("mmu-replay ingest: stopped after more than " + input.maxErrors
                    + " bad lines (--max-errors); events before that point were written");
            return MmuReplayCli.EXIT_TOO_MANY_ERRORS;
        }
        return MmuReplayCli.EXIT_OK;
    }

    private IngestOptions options() {
        return input.toIngestOptions(spec.commandLine(), inputs);
    }

    private AvroCompression parseCodec() {
        try {
            return AvroCompression.parse(codec);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--codec: " + e.getMessage());
        }
    }

    private <E extends Enum<E>> E enumOption(String name, String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        throw new CommandLine.ParameterException(spec.commandLine(),
                name + ": '" + value + "' is not one of " + List.of(type.getEnumConstants()).toString().toLowerCase(Locale.ROOT));
    }

    private void openSinks(AvroCompression compression, List<EventSink> eventSinks,
                           List<DeadLetterSink> deadLetterSinks) throws IOException {
        if (output != null) {
            createParent(output);
            eventSinks.add(new AvroFileEventSink(output, compression));
        }
        if (kafka != null) {
            KafkaSinkConfig base = kafkaConfig();
            eventSinks.add(new KafkaEventSink(base.withTopic(topic)));
            deadLetterSinks.add(new KafkaDeadLetterSink(base.withTopic(deadLetterTopic)));
        }
        if (kafka == null || deadLetters != null) {
            deadLetterSinks.add(new LazyFileDeadLetterSink(deadLetterFile()));
        }
    }

    private KafkaSinkConfig kafkaConfig() throws IOException {
        KafkaSinkConfig config = KafkaSinkConfig.of(kafka, topic).withPartitions(partitions);
        if (producerConfig != null) {
            config = config.withProperties(KafkaSinkConfig.loadProperties(producerConfig));
        }
        for (Map.Entry<String, String> e : producerProperties.entrySet()) {
            config = config.withProperty(e.getKey(), e.getValue());
        }
        return config;
    }

    private Path deadLetterFile() {
        if (deadLetters != null) {
            return deadLetters;
        }
        if (output != null) {
            String name = output.getFileName().toString().replaceFirst("\\.avro$", "");
            return output.resolveSibling(name + ".deadletters.jsonl");
        }
        return Path.of("mmu-replay-deadletters.jsonl");
    }

    private String deadLetterPlace() {
        List<String> places = new ArrayList<>();
        if (kafka != null) {
            places.add("topic " + deadLetterTopic);
        }
        if (kafka == null || deadLetters != null) {
            places.add(deadLetterFile().toString());
        }
        return String.join(" and ", places);
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }

    private static void closeAll(List<EventSink> events, List<DeadLetterSink> deadLetters) throws IOException {
        IOException first = null;
        for (java.io.Closeable c : concat(events, deadLetters)) {
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static List<java.io.Closeable> concat(List<? extends java.io.Closeable> a, List<? extends java.io.Closeable> b) {
        List<java.io.Closeable> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static Map<String, Object> toJson(IngestReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("linesRead", r.linesRead());
        m.put("events", r.events());
        m.put("deadLetters", r.deadLetters());
        m.put("skipped", r.skipped());
        m.put("reconciled", r.reconciles());
        m.put("generic", r.generic());
        m.put("byType", r.byType());
        m.put("byVm", r.byVm());
        m.put("firstTimestampNs", r.firstTimestampNs());
        m.put("lastTimestampNs", r.lastTimestampNs());
        m.put("bytesRead", r.bytesRead());
        m.put("lostEvents", r.lostEvents());
        m.put("warnings", r.warnings());
        return m;
    }

    static String table(IngestReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "lines read %,d = events %,d + dead letters %,d + skipped %,d  (%s)%n",
                r.linesRead(), r.events(), r.deadLetters(), r.skipped(), r.reconciles() ? "reconciled" : "NOT RECONCILED"));
        sb.append(String.format(Locale.ROOT, "%,d VM(s), %,d generic event(s), span %s%n", r.byVm().size(), r.generic(),
                r.firstTimestampNs() == null ? "-" : StatsCommand.formatSpan(r.timeSpanNs())));
        if (r.lostEvents() > 0) {
            sb.append(String.format(Locale.ROOT, "the kernel reported %,d lost event(s) in the input%n", r.lostEvents()));
        }
        sb.append(String.format(Locale.ROOT, "%n%-28s %12s%n", "event", "count"));
        r.byType().forEach((t, n) -> sb.append(String.format(Locale.ROOT, "%-28s %,12d%n", t, n)));
        if (r.byVm().size() > 1) {
            sb.append(String.format(Locale.ROOT, "%n%-28s %12s%n", "vm", "events"));
            r.byVm().forEach((v, n) -> sb.append(String.format(Locale.ROOT, "%-28s %,12d%n", v, n)));
        }
        for (String w : r.warnings()) {
            sb.append("warning: ").append(w).append(System.lineSeparator());
        }
        return sb.toString().stripTrailing();
    }

    /** Ingest without outputs: events are only counted. */
    private static final EventSink NO_EVENTS = new EventSink() {
        @Override
        public void accept(TraceEvent event) {
        }

        @Override
        public void accept(dev.mmureplay.replayer.ingest.EventView event) {
            // counted by Ingest; no TraceEvent is built when nothing is written
        }

        @Override
        public void close() {
        }
    };

    /** A dead-letter file created on the first bad line, so clean runs leave no empty file behind. */
    static final class LazyFileDeadLetterSink implements DeadLetterSink {
        private final Path file;
        private DeadLetterSink delegate;

        LazyFileDeadLetterSink(Path file) {
            this.file = file;
        }

        @Override
        public void accept(DeadLetter deadLetter) throws IOException {
            if (delegate == null) {
                createParent(file);
                delegate = file.toString().endsWith(".avro")
                        ? new AvroFileDeadLetterSink(file) : new JsonLinesDeadLetterSink(file);
            }
            delegate.accept(deadLetter);
        }

        @Override
        public void flush() throws IOException {
            if (delegate != null) {
                delegate.flush();
            }
        }

        @Override
        public void close() throws IOException {
            if (delegate != null) {
                delegate.close();
            }
        }
    }
}
