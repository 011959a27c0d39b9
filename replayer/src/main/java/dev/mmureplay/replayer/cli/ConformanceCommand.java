package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.Conformance;
import dev.mmureplay.model.ConformanceReport;
import dev.mmureplay.model.FieldDiff;
import dev.mmureplay.model.HostConfig;
import dev.mmureplay.model.HostSettings;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.ingest.TooManyErrorsException;
import dev.mmureplay.replayer.json.Json;
import dev.mmureplay.replayer.model.ModelEvents;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code mmu-replay conformance TRACE...}: replays recorded traces through the MMU model (one model per VM) and
 * reports how many of the recorded effects it predicted exactly — per trace and in total.
 *
 * <p>Trace text goes through the real ingest path ({@link Ingest}: parser, VM identity, seq, dead letters); Avro
 * files written by {@code ingest} (recognised by the Avro magic {@code Obj\1}) are read as they are. Each event is
 * adapted by {@link ModelEvents} and fed to the {@link Conformance} of its VM, in seq order.
 */
@Command(name = "conformance", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Replay recorded traces through the MMU model (upstream profile, one model per VM) and check every"
                + " recorded kvmmmu effect against the model's prediction.",
            "Reports per trace and in total: recorded effects by type, exactly predicted (explained), mismatched"
                + " (first examples with seq and the differing fields), learned (host choices the trace cannot"
                + " predict, adopted), unmodelled, missed; explainedRatio = explained / (effects - learned); and the"
                + " model's state digest per VM (equal across runs for the same input).",
            "Inputs: trace text (raw tracefs or trace-cmd report, plain or .gz, '-' for stdin) or Avro files"
                + " written by 'ingest'. Bad text lines are dead letters, as in ingest."},
        footer = {"", "Examples:",
            "  ./mmu-replay conformance examples/traces/*.trace",
            "  ./mmu-replay conformance examples/traces/long_user_basic.trace --json",
            "  ./mmu-replay conformance host1.trace.gz --split-by tgid --min-explained 0.999",
            "  ./mmu-replay conformance out/basic.avro --examples 20",
            "", "Exit codes: 0 done, 1 runtime failure, 2 usage error, 3 more bad lines than --max-errors,"
                + " 4 explainedRatio below --min-explained."})
final class ConformanceCommand implements Callable<Integer> {

    /** The Avro object container magic: 'O' 'b' 'j' 1. */
    static final byte[] AVRO_MAGIC = {'O', 'b', 'j', 1};

    @Parameters(arity = "1..*", paramLabel = "TRACE",
            description = "Trace text files (.gz detected by content), '-' for stdin, or Avro files from ingest.")
    List<String> inputs;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of tables.")
    boolean json;

    @Option(names = "--host", paramLabel = "KEY=VALUE",
            description = "Host configuration of the recording (model input, never guessed), as for diff: tdp,"
                    + " tdpEncoding, mmioCaching, nxHugePages, nxRecoveryRatio, nxRecoveryPeriodMs, hostMaxPhyAddr,"
                    + " kernel. Per setting: --host > the traces' '# mmu-replay host:' header line > inferred from the"
                    + " first events > default (the recording host of the shared traces).")
    Map<String, String> host = new LinkedHashMap<>();

    @Option(names = "--min-explained", paramLabel = "R",
            description = "Exit 4 when the explainedRatio of any trace, or of the total, is below R (0..1).")
    Double minExplained;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "5",
            description = "Mismatch / missed examples shown per trace, at most " + Conformance.MAX_EXAMPLES
                    + " (default: ${DEFAULT-VALUE}).")
    int examples;



    @Option(names = "--dead-letters", paramLabel = "FILE", defaultValue = "mmu-replay-deadletters.jsonl",
            description = "Where bad trace lines go (JSON lines; Avro if it ends in .avro); created only when a"
                    + " line is bad (default: ${DEFAULT-VALUE}).")
    Path deadLetters;



    @CommandLine.Mixin
    TraceInputOptions input = new TraceInputOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        IngestOptions options = options();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HostConfig hostConfig = HostResolution.resolve("conformance", inputs, host, options, spec.commandLine(), err);
        config = hostConfig.config();

        List<TraceResult> results = new ArrayList<>();
        boolean tooMany = false;
        try (IngestCommand.LazyFileDeadLetterSink dead = new IngestCommand.LazyFileDeadLetterSink(deadLetters)) {
            for (String in : inputs) {
                TraceResult r = isAvro(in) ? replayAvro(in) : replayText(in, options, dead);
                tooMany |= r.stopped;
                results.add(r);
            }
        }

        List<ConformanceReport> all = new ArrayList<>();
        long deadTotal = 0;
        for (TraceResult r : results) {
            all.addAll(r.perVm.values());
            deadTotal += r.deadLetters;
        }
        ConformanceReport total = ConformanceReport.total("total", all);

        if (json) {
            Map<String, Object> j = toJson(total, deadTotal, results);
            j.put("hostConfig", HostResolution.json(hostConfig));
            out.println(Json.write(j));
        } else {
            out.print(HostResolution.text(hostConfig) + toText(total, deadTotal, results));
        }
        out.flush();
        if (deadTotal > 0) {
            err.println("mmu-replay conformance: " + deadTotal + " bad line(s) kept as dead letters in " + deadLetters);
        }
        if (tooMany) {
            err.println("mmu-replay conformance: a trace had more than " + input.maxErrors
                    + " bad lines (--max-errors); its report covers the lines before that point");
            return MmuReplayCli.EXIT_TOO_MANY_ERRORS;
        }
        if (minExplained != null) {
            List<String> below = new ArrayList<>();
            for (TraceResult r : results) {
                if (r.report.explainedRatio() < minExplained) {
                    below.add(r.name + " " + ratio(r.report.explainedRatio()));
                }
            }
            if (total.explainedRatio() < minExplained) {
                below.add("total " + ratio(total.explainedRatio()));
            }
            if (!below.isEmpty()) {
                err.println("mmu-replay conformance: explainedRatio below " + minExplained + ": "
                        + String.join(", ", below));
                return MmuReplayCli.EXIT_CHECK_FAILED;
            }
        }
        return MmuReplayCli.EXIT_OK;
    }

    private IngestOptions options() {
        if (examples < 0 || examples > Conformance.MAX_EXAMPLES) {
            throw usage("--examples must be between 0 and " + Conformance.MAX_EXAMPLES);
        }
        if (minExplained != null && (minExplained.isNaN() || minExplained < 0)) {
            throw usage("--min-explained must be a ratio >= 0");
        }
        try {
            config = HostSettings.apply(ModelConfig.DEFAULT, host);
        } catch (IllegalArgumentException e) {
            throw usage("--host: " + e.getMessage());
        }
        return input.toIngestOptions(spec.commandLine(), inputs);
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** Whether a path is an Avro object container file (stdin is always text). */
    static boolean isAvro(String in) throws IOException {
        if (in.equals("-")) {
            return false;
        }
        try (InputStream s = Files.newInputStream(Path.of(in))) {
            byte[] head = s.readNBytes(AVRO_MAGIC.length);
            return java.util.Arrays.equals(head, AVRO_MAGIC);
        }
    }

    /** One model per VM, in order of first appearance; VMs reported sorted by id. */
    /** The run's host configuration (--host checked with the options, then resolved with headers, inference). */
    ModelConfig config = ModelConfig.DEFAULT;

    static final class Models implements EventSink {
        final Map<String, Conformance> byVm = new TreeMap<>();
        private final ModelConfig config;

        Models(ModelConfig config) {
            this.config = config;
        }
        private String lastVm;
        private Conformance last;

        @Override
        public void accept(TraceEvent e) {
            String id = e.getVm();
            if (!id.equals(lastVm)) {
                last = byVm.computeIfAbsent(id, k -> new Conformance(k, Profile.UPSTREAM, config));
                lastVm = id;
            }
            last.accept(ModelEvents.of(e));
        }

        @Override
        public void close() {
        }

        Map<String, ConformanceReport> reports() {
            Map<String, ConformanceReport> m = new TreeMap<>();
            byVm.forEach((k, c) -> m.put(k, c.report()));
            return m;
        }
    }

    private TraceResult replayText(String in, IngestOptions options, IngestCommand.LazyFileDeadLetterSink dead)
            throws IOException {
        Models models = new Models(config);
        Ingest ingest = new Ingest(options, models, dead, ProgressListener.NONE);
        IngestReport report;
        boolean stopped = false;
        try {
            report = ingest.run(List.of(in));
        } catch (TooManyErrorsException e) {
            report = e.report();
            stopped = true;
        }
        return new TraceResult(in, models.reports(), report.deadLetters(), stopped);
    }

    private TraceResult replayAvro(String in) {
        Models models = new Models(config);
        try (DataFileReader<TraceEvent> reader =
                     new DataFileReader<>(Path.of(in).toFile(), new SpecificDatumReader<>(TraceEvent.class))) {
            TraceEvent e = null;
            while (reader.hasNext()) {
                e = reader.next(e);
                models.accept(e);
            }
        } catch (IOException | org.apache.avro.AvroRuntimeException e) {
            throw new MmuReplayCli.CliFailure(MmuReplayCli.EXIT_FAILURE,
                    in + ": not a readable TraceEvent Avro file (" + e.getMessage() + ")");
        }
        return new TraceResult(in, models.reports(), 0, false);
    }

    /** The reports of one input. */
    static final class TraceResult {
        final String name;
        final Map<String, ConformanceReport> perVm;
        final ConformanceReport report;
        final long deadLetters;
        final boolean stopped;

        TraceResult(String name, Map<String, ConformanceReport> perVm, long deadLetters, boolean stopped) {
            this.name = name;
            this.perVm = perVm;
            this.report = ConformanceReport.total(name, List.copyOf(perVm.values()));
            this.deadLetters = deadLetters;
            this.stopped = stopped;
        }
    }

    // ------------------------------------------------------------------------------------------------- output

    private Map<String, Object> toJson(ConformanceReport total, long deadTotal, List<TraceResult> results) {
        Map<String, Object> m = counts(total);
        m.put("deadLetters", deadTotal);
        m.put("kinds", kinds(total));
        List<Object> traces = new ArrayList<>();
        for (TraceResult r : results) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("trace", r.name);
            t.putAll(counts(r.report));
            t.put("deadLetters", r.deadLetters);
            t.put("stopped", r.stopped);
            Map<String, String> digests = new LinkedHashMap<>();
            r.perVm.forEach((vmId, rep) -> digests.put(vmId, hex(rep.digest())));
            t.put("digests", digests);
            t.put("kinds", kinds(r.report));
            t.put("mismatches", examples(r.report.mismatches()));
            t.put("missedExamples", examples(r.report.missedExamples()));
            traces.add(t);
        }
        m.put("traces", traces);
        return m;
    }

    private static Map<String, Object> counts(ConformanceReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("events", r.events());
        m.put("effects", r.effects());
        m.put("explained", r.explained());
        m.put("mismatched", r.mismatched());
        m.put("learned", r.learned());
        m.put("unmodelled", r.unmodelled());
        m.put("missed", r.missed());
        m.put("explainedRatio", r.explainedRatio());
        return m;
    }

    private static Map<String, Object> kinds(ConformanceReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<EventKind, ConformanceReport.KindCounts> e : r.kinds().entrySet()) {
            ConformanceReport.KindCounts c = e.getValue();
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("effects", c.effects());
            k.put("explained", c.explained());
            k.put("mismatched", c.mismatched());
            k.put("learned", c.learned());
            k.put("unmodelled", c.unmodelled());
            k.put("missed", c.missed());
            m.put(e.getKey().tracepoint(), k);
        }
        return m;
    }

    private List<Object> examples(List<ConformanceReport.Example> list) {
        List<Object> out = new ArrayList<>();
        for (ConformanceReport.Example x : list.subList(0, Math.min(examples, list.size()))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seq", x.seq());
            m.put("kind", x.kind().tracepoint());
            m.put("recorded", x.recorded() == null ? null : ModelEvents.text(x.recorded()));
            m.put("expected", x.expected() == null ? null : ModelEvents.text(x.expected()));
            List<Object> fields = new ArrayList<>();
            for (FieldDiff d : x.diffs()) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("field", d.field().fieldName());
                f.put("class", d.field().cls().name());
                f.put("expected", d.expected());
                f.put("recorded", d.actual());
                fields.add(f);
            }
            m.put("fields", fields);
            m.put("note", x.note());
            out.add(m);
        }
        return out;
    }

    private String toText(ConformanceReport total, long deadTotal, List<TraceResult> results) {
        StringBuilder sb = new StringBuilder();
        for (TraceResult r : results) {
            sb.append(String.format(Locale.ROOT, "%s: %,d events in %d VM(s), %,d dead letter(s)%s%n", r.name,
                    r.report.events(), r.perVm.size(), r.deadLetters, r.stopped ? " (stopped: --max-errors)" : ""));
            table(sb, r.report);
            r.perVm.forEach((vmId, rep) -> sb.append(String.format(Locale.ROOT, "  digest %s %s%n", vmId,
                    hex(rep.digest()))));
            exampleText(sb, r.report);
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "total: %d trace(s), %,d events, %,d dead letter(s)%n", results.size(),
                total.events(), deadTotal));
        table(sb, total);
        int w = "trace".length();
        for (TraceResult r : results) {
            w = Math.max(w, r.name.length());
        }
        sb.append(String.format(Locale.ROOT, "%n%-" + w + "s %8s %9s %10s %7s %10s %6s %9s%n", "trace", "effects",
                "explained", "mismatched", "learned", "unmodelled", "missed", "ratio"));
        for (TraceResult r : results) {
            row(sb, w, r.name, r.report);
        }
        row(sb, w, "total", total);
        return sb.toString();
    }

    private static void table(StringBuilder sb, ConformanceReport r) {
        sb.append(String.format(Locale.ROOT, "  %-26s %8s %9s %10s %7s %10s %6s%n", "effect", "effects", "explained",
                "mismatched", "learned", "unmodelled", "missed"));
        for (Map.Entry<EventKind, ConformanceReport.KindCounts> e : r.kinds().entrySet()) {
            ConformanceReport.KindCounts c = e.getValue();
            sb.append(String.format(Locale.ROOT, "  %-26s %,8d %,9d %,10d %,7d %,10d %,6d%n", e.getKey().tracepoint(),
                    c.effects(), c.explained(), c.mismatched(), c.learned(), c.unmodelled(), c.missed()));
        }
        sb.append(String.format(Locale.ROOT, "  %-26s %,8d %,9d %,10d %,7d %,10d %,6d  explainedRatio %s%n", "all",
                r.effects(), r.explained(), r.mismatched(), r.learned(), r.unmodelled(), r.missed(),
                ratio(r.explainedRatio())));
    }

    private static void row(StringBuilder sb, int width, String name, ConformanceReport r) {
        sb.append(String.format(Locale.ROOT, "%-" + width + "s %,8d %,9d %,10d %,7d %,10d %,6d %9s%n", name, r.effects(),
                r.explained(), r.mismatched(), r.learned(), r.unmodelled(), r.missed(), ratio(r.explainedRatio())));
    }

    private void exampleText(StringBuilder sb, ConformanceReport r) {
        List<ConformanceReport.Example> mis = r.mismatches();
        for (ConformanceReport.Example x : mis.subList(0, Math.min(examples, mis.size()))) {
            sb.append("  mismatch at seq ").append(x.seq()).append(' ').append(x.kind().tracepoint())
                    .append(x.note() == null ? "" : " (" + x.note() + ")").append('\n');
            sb.append("    recorded  ").append(ModelEvents.text(x.recorded())).append('\n');
            sb.append("    predicted ").append(ModelEvents.text(x.expected())).append('\n');
            for (FieldDiff d : x.diffs()) {
                sb.append(String.format(Locale.ROOT, "    %-24s expected %-20s recorded %s%n", d.field().fieldName(),
                        d.expected(), d.actual()));
            }
        }
        if (r.mismatched() > Math.min(examples, mis.size())) {
            sb.append(String.format(Locale.ROOT, "  ... %,d mismatch(es) in all (--examples N, --json)%n",
                    r.mismatched()));
        }
        List<ConformanceReport.Example> missed = r.missedExamples();
        for (ConformanceReport.Example x : missed.subList(0, Math.min(examples, missed.size()))) {
            sb.append("  missed at seq ").append(x.seq()).append(": predicted ").append(ModelEvents.text(x.expected()))
                    .append(", never recorded\n");
        }
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.4f", r);
    }

    static String hex(long digest) {
        return String.format(Locale.ROOT, "%016x", digest);
    }
}
