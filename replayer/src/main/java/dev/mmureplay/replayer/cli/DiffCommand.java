package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.HostConfig;
import dev.mmureplay.model.HostSettings;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.ingest.TooManyErrorsException;
import dev.mmureplay.replayer.json.Json;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.report.Alerts;
import dev.mmureplay.replayer.report.HtmlReport;
import dev.mmureplay.replayer.report.ReplaySummary;
import dev.mmureplay.replayer.report.SummaryJson;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code mmu-replay diff TRACE... --profiles A,B}: replays each trace locally under two profiles (two models per VM
 * fed the same events, {@link DivergenceDetector}) and lists where their steps part: seq, effect kind, the first
 * differing field (EXACT fields only — host-learned values never count), each side's value, and the seqs of the
 * events just before.
 */
@Command(name = "diff", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Replay traces under two behaviour profiles and list the divergences: per event, the first effect and"
                + " field where the two models' steps differ (seq, kind, field, left, right, preceding seqs).",
            "Only EXACT fields are compared (field classification of the model); learned host values (pfns) and"
                + " ignored ones (sptep) never diverge. 'upstream' against itself never diverges.",
            "Inputs as for 'conformance': trace text (raw tracefs or trace-cmd report, plain or .gz) or Avro files"
                + " from 'ingest'. Profiles: see './mmu-replay profiles'."},
        footer = {"", "Examples:",
            "  ./mmu-replay diff examples/traces/long_user_basic.trace --profiles upstream,no-reset-on-pae-toggle",
            "  ./mmu-replay diff host.trace --profiles upstream,mine --profile-file my.profiles --json",
            "  ./mmu-replay diff out/pae.trace --profiles upstream,no-reset-on-pae-toggle --out out/pae-report",
            "", "Exit codes: 0 done, 1 runtime failure, 2 usage error (unknown profile, bad profile file), 3 more"
                + " bad lines than --max-errors, 4 divergences found and --fail-on-divergence given."})
final class DiffCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "TRACE",
            description = "Trace text files (.gz detected by content), '-' for stdin, or Avro files from ingest.")
    List<String> inputs;

    @Option(names = "--profiles", paramLabel = "A,B", required = true, split = ",",
            description = "The two profiles to compare (left,right).")
    List<String> profiles;

    @Option(names = "--profile-file", paramLabel = "FILE", description = "User profiles (see 'profiles --help').")
    Path profileFile;

    @Option(names = "--json", description = "Print one JSON object on stdout: {divergences: [{seq, kind, field,"
            + " left, right, ...}], ...}.")
    boolean json;

    @Option(names = "--context", paramLabel = "N", defaultValue = "" + DivergenceDetector.DEFAULT_CONTEXT,
            description = "Preceding events listed per divergence (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "1000",
            description = "Divergences listed at most (all are counted; default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--host", paramLabel = "KEY=VALUE",
            description = "Host configuration (model input, never guessed): tdp=true|false, tdpEncoding=EPT|NPT,"
                    + " mmioCaching=true|false, nxHugePages=true|false, nxRecoveryRatio=N, nxRecoveryPeriodMs=N,"
                    + " hostMaxPhyAddr=N, kernel=X.Y. Per setting: --host > the traces' '# mmu-replay host: k=v ...'"
                    + " header line > inferred from the first events (what they prove, with evidence) > default (the"
                    + " recording host of the shared traces). Settings the model does not act on yet are reported on"
                    + " stderr.")
    Map<String, String> host = new LinkedHashMap<>();

    @Option(names = "--fail-on-divergence", description = "Exit 4 when any divergence is found.")
    boolean failOnDivergence;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Also write a report to DIR (created if missing): summary.json (counts, divergences by kind"
                    + " and pair, digests, timeline), report.html (one self-contained page: timeline plot and the"
                    + " first " + ReplaySummary.DEFAULT_FIRST_ALERTS + " divergences with both sides) and"
                    + " alerts.jsonl (every divergence as a DivergenceAlert, one JSON object per line).")
    Path outDir;


    @Option(names = "--dead-letters", paramLabel = "FILE", defaultValue = "mmu-replay-deadletters.jsonl",
            description = "Where bad trace lines go; created only when a line is bad (default: ${DEFAULT-VALUE}).")
    Path deadLetters;


    @CommandLine.Mixin
    TraceInputOptions input = new TraceInputOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        long started = System.nanoTime();
        Profile[] lr = resolveProfiles();
        IngestOptions options = options();
        hostConfig();   // checks --host
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HostConfig hostConfig = HostResolution.resolve("diff", inputs, host, options, spec.commandLine(), err);
        ModelConfig config = hostConfig.config();
        for (ModelConfig.Setting s : hostConfig.settings()) {
            if (!s.source().equals(HostConfig.DEFAULT) && !s.modelled()) {
                err.println("mmu-replay diff: host " + s.name() + "=" + s.value() + " is not yet modelled ("
                        + s.note() + ")");
            }
        }
        for (Profile p : lr) {
            for (Profile.Switch s : p.notModelled()) {
                err.println("mmu-replay diff: profile " + p.name() + ": switch " + s.id()
                        + " is not yet modelled (" + s.status() + "); it changes nothing in this replay");
            }
        }

        ReplaySummary.Builder summary = outDir == null ? null : ReplaySummary.builder()
                .inputs(inputs).profiles(List.of(lr[0].name(), lr[1].name())).mode("local");
        List<TraceDiff> results = new ArrayList<>();
        boolean tooMany = false;
        try (IngestCommand.LazyFileDeadLetterSink dead = new IngestCommand.LazyFileDeadLetterSink(deadLetters)) {
            for (String in : inputs) {
                Detectors d = new Detectors(lr[0], lr[1], config, context, summary);
                long deadLines = 0;
                long records;
                if (ConformanceCommand.isAvro(in)) {
                    replayAvro(in, d);
                    records = d.events;
                } else {
                    Ingest ingest = new Ingest(options, d, dead, ProgressListener.NONE);
                    IngestReport report;
                    try {
                        report = ingest.run(List.of(in));
                    } catch (TooManyErrorsException e) {
                        report = e.report();
                        tooMany = true;
                    }
                    deadLines = report.deadLetters();
                    records = report.linesRead();
                }
                results.add(new TraceDiff(in, d, deadLines, records));
            }
        }

        long total = 0;
        for (TraceDiff r : results) {
            total += r.detectors.found.size();
        }
        if (json) {
            out.println(Json.write(toJson(lr, hostConfig, results, total)));
        } else {
            out.print(toText(lr, hostConfig, results, total));
        }
        out.flush();
        if (outDir != null) {
            writeReport(summary, lr, results, (System.nanoTime() - started) / 1_000_000);
        }
        if (tooMany) {
            err.println("mmu-replay diff: a trace had more than " + input.maxErrors + " bad lines (--max-errors)");
            return MmuReplayCli.EXIT_TOO_MANY_ERRORS;
        }
        if (failOnDivergence && total > 0) {
            return MmuReplayCli.EXIT_CHECK_FAILED;
        }
        return MmuReplayCli.EXIT_OK;
    }

    private Profile[] resolveProfiles() {
        if (profiles.size() != 2) {
            throw usage("--profiles needs exactly two profiles (A,B), got " + profiles.size());
        }
        List<Profile> fromFile = ProfilesCommand.load(spec, profileFile);
        Profile[] out = new Profile[2];
        for (int i = 0; i < 2; i++) {
            String name = profiles.get(i).trim();
            Profile p = Profile.builtIn(name);
            for (Profile f : fromFile) {
                if (f.name().equals(name)) {
                    p = f;
                }
            }
            if (p == null) {
                List<String> known = new ArrayList<>();
                Profile.BUILT_IN.forEach(b -> known.add(b.name()));
                fromFile.forEach(f -> known.add(f.name()));
                throw usage("--profiles: unknown profile '" + name + "' (known: " + String.join(", ", known) + ")");
            }
            out[i] = p;
        }
        return out;
    }

    /** ModelConfig.DEFAULT with the --host settings applied ({@link HostSettings}); a bad one is a usage error. */
    private ModelConfig hostConfig() {
        try {
            return HostSettings.apply(ModelConfig.DEFAULT, host);
        } catch (IllegalArgumentException e) {
            throw usage("--host: " + e.getMessage());
        }
    }

    private IngestOptions options() {
        if (context < 0 || context > 100) {
            throw usage("--context must be between 0 and 100");
        }
        if (limit < 0) {
            throw usage("--limit must be >= 0");
        }
        return input.toIngestOptions(spec.commandLine(), inputs);
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static void replayAvro(String in, Detectors d) {
        try (DataFileReader<TraceEvent> reader =
                     new DataFileReader<>(Path.of(in).toFile(), new SpecificDatumReader<>(TraceEvent.class))) {
            TraceEvent e = null;
            while (reader.hasNext()) {
                e = reader.next(e);
                d.accept(e);
            }
        } catch (IOException | org.apache.avro.AvroRuntimeException e) {
            throw new MmuReplayCli.CliFailure(MmuReplayCli.EXIT_FAILURE,
                    in + ": not a readable TraceEvent Avro file (" + e.getMessage() + ")");
        }
    }

    /**
     * One detector (two models) per VM; divergences in event order. With a {@code report} builder, also what the
     * report needs: every event and an alert per divergence (with both models' digests after the event) go to the
     * builder, and the events per VM and the alerts are kept here.
     */
    static final class Detectors implements EventSink {
        final Map<String, DivergenceDetector> byVm = new TreeMap<>();
        final List<Map.Entry<String, Divergence>> found = new ArrayList<>();
        final List<DivergenceAlert> alerts = new ArrayList<>();
        final Map<String, long[]> eventsByVm = new TreeMap<>();
        private final ReplaySummary.Builder report;
        private final Profile left;
        private final Profile right;
        private final ModelConfig config;
        private final int context;
        long events;

        Detectors(Profile left, Profile right, ModelConfig config, int context, ReplaySummary.Builder report) {
            this.left = left;
            this.right = right;
            this.config = config;
            this.context = context;
            this.report = report;
        }

        @Override
        public void accept(TraceEvent e) {
            DivergenceDetector d = byVm.computeIfAbsent(e.getVm(),
                    k -> new DivergenceDetector(left, right, config, context));
            events++;
            Divergence x = d.apply(ModelEvents.of(e));
            if (x != null) {
                found.add(Map.entry(e.getVm(), x));
            }
            if (report != null) {
                report.event(e.getVm(), e.getSeq(), e.getTimestampNs());
                eventsByVm.computeIfAbsent(e.getVm(), k -> new long[1])[0]++;
                if (x != null) {
                    DivergenceAlert a = Alerts.profileVsProfile(e.getVm(), x, left.name(), right.name(),
                            d.left().digest(), d.right().digest());
                    alerts.add(a);
                    report.alert(a);
                }
            }
        }

        @Override
        public void close() {
        }
    }

    private record TraceDiff(String name, Detectors detectors, long deadLetters, long inputRecords) {
    }

    // ------------------------------------------------------------------------------------------------- --out

    /** summary.json, report.html and alerts.jsonl in {@link #outDir}; digests are the models' final states. */
    private void writeReport(ReplaySummary.Builder report, Profile[] lr, List<TraceDiff> results, long wallMillis)
            throws IOException {
        long records = 0;
        long dead = 0;
        List<DivergenceAlert> all = new ArrayList<>();
        for (TraceDiff r : results) {
            Detectors d = r.detectors;
            records += r.inputRecords;
            dead += r.deadLetters;
            all.addAll(d.alerts);
            d.byVm.forEach((vm, x) -> {
                long n = d.eventsByVm.get(vm)[0];
                report.digest(vm, lr[0].name(), n, x.left().digest());
                report.digest(vm, lr[1].name(), n, x.right().digest());
            });
        }
        ReplaySummary summary = report.inputRecords(records).deadLetters(dead).wallMillis(wallMillis).build();
        all.sort(Alerts.ORDER);
        Files.createDirectories(outDir);
        try (Writer w = Files.newBufferedWriter(outDir.resolve("summary.json"), StandardCharsets.UTF_8)) {
            SummaryJson.write(summary, w);
            w.write('\n');
        }
        try (Writer w = Files.newBufferedWriter(outDir.resolve("report.html"), StandardCharsets.UTF_8)) {
            HtmlReport.write(summary, w);
        }
        try (Writer w = Files.newBufferedWriter(outDir.resolve("alerts.jsonl"), StandardCharsets.UTF_8)) {
            Alerts.writeJsonLines(all, w);
        }
    }

    // ------------------------------------------------------------------------------------------------- output

    private Map<String, Object> toJson(Profile[] lr, HostConfig config, List<TraceDiff> results, long total) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("left", ProfilesCommand.profileJson(lr[0]));
        m.put("right", ProfilesCommand.profileJson(lr[1]));
        m.put("hostConfig", HostResolution.json(config));
        long events = 0;
        for (TraceDiff r : results) {
            events += r.detectors.events;
        }
        m.put("events", events);
        m.put("divergenceCount", total);
        List<Object> divs = new ArrayList<>();
        List<Object> traces = new ArrayList<>();
        for (TraceDiff r : results) {
            for (Map.Entry<String, Divergence> e : r.detectors.found) {
                if (divs.size() < limit) {
                    divs.add(divergenceJson(r.name, e.getKey(), e.getValue()));
                }
            }
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("trace", r.name);
            t.put("events", r.detectors.events);
            t.put("divergences", r.detectors.found.size());
            t.put("deadLetters", r.deadLetters);
            Map<String, Object> digests = new LinkedHashMap<>();
            r.detectors.byVm.forEach((vmId, d) -> digests.put(vmId,
                    Map.of("left", Long.toHexString(d.left().digest()), "right", Long.toHexString(d.right().digest()))));
            t.put("digests", digests);
            traces.add(t);
        }
        m.put("divergences", divs);
        m.put("traces", traces);
        return m;
    }

    private static Map<String, Object> divergenceJson(String trace, String vmId, Divergence d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trace", trace);
        m.put("vm", vmId);
        m.put("seq", d.seq());
        m.put("event", d.event().tracepoint());
        m.put("kind", d.kind());
        m.put("field", d.field());
        m.put("left", d.left());
        m.put("right", d.right());
        m.put("where", d.where());
        m.put("leftEffect", d.leftEffect());
        m.put("rightEffect", d.rightEffect());
        m.put("context", d.context());
        return m;
    }

    private String toText(Profile[] lr, HostConfig host, List<TraceDiff> results, long total) {
        StringBuilder sb = new StringBuilder();
        sb.append("diff ").append(lr[0].name()).append(" (left) vs ").append(lr[1].name()).append(" (right): ")
                .append(total).append(" divergence(s)\n");
        sb.append(HostResolution.text(host));
        int shown = 0;
        for (TraceDiff r : results) {
            sb.append('\n').append(r.name).append(": ").append(r.detectors.events).append(" events, ")
                    .append(r.detectors.found.size()).append(" divergence(s)\n");
            for (Map.Entry<String, Divergence> e : r.detectors.found) {
                if (shown++ >= limit) {
                    break;
                }
                Divergence d = e.getValue();
                sb.append(String.format("  seq %-8d %-26s %-10s left %-12s right %-12s after %s%n", d.seq(),
                        d.kind(), d.field(), d.left(), d.right(),
                        d.context().isEmpty() ? "-" : d.context().toString().replaceAll("[\\[\\] ]", "")));
                sb.append("      left:  ").append(d.leftEffect()).append('\n');
                sb.append("      right: ").append(d.rightEffect()).append('\n');
            }
        }
        if (shown > limit) {
            sb.append("(first ").append(limit).append(" listed; --limit)\n");
        }
        return sb.toString();
    }
}
