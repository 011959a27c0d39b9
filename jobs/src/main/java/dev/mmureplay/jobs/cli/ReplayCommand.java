package dev.mmureplay.jobs.cli;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.jobs.EventBatch;
import dev.mmureplay.jobs.ReplayJob;
import dev.mmureplay.jobs.ReplayOptions;
import dev.mmureplay.jobs.ReplayRun;
import dev.mmureplay.jobs.ReplaySinks;
import dev.mmureplay.model.HostConfig;
import dev.mmureplay.model.HostInference;
import dev.mmureplay.model.HostSettings;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.replayer.cli.HostResolution;
import dev.mmureplay.replayer.cli.MmuReplayCli;
import dev.mmureplay.replayer.cli.ProgressBar;
import dev.mmureplay.replayer.cli.TraceInputOptions;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.EventView;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.ingest.TooManyErrorsException;
import dev.mmureplay.replayer.report.Alerts;
import dev.mmureplay.replayer.report.HtmlReport;
import dev.mmureplay.replayer.report.ReplaySummary;
import dev.mmureplay.replayer.report.SummaryJson;
import dev.mmureplay.replayer.report.SummaryTable;
import dev.mmureplay.replayer.sink.AvroFileEventSink;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code mmu-replay replay}: the replay job (jobs module) on an embedded Flink MiniCluster, or submitted to a running
 * cluster; inputs are trace text (ingested on the client with the same parser as {@code ingest}), Avro files, or a
 * Kafka topic. At the end of a bounded input: a summary table, and in {@code --out} the alerts, dead letters,
 * digests, a JSON summary and a self-contained HTML report.
 */
@Command(name = "replay",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Replay traces under several behaviour profiles on Flink (embedded MiniCluster by default) and report"
                + " where they diverge: profile vs profile (baseline = first profile), model vs recording, and"
                + " seq gaps. Noise (a difference that also shows between two replays of the baseline) is counted,"
                + " never alerted.",
            "Inputs: trace text (raw tracefs or trace-cmd report, .gz, '-' for stdin), Avro files from 'ingest -o',"
                + " or a Kafka topic from 'ingest --kafka'."},
        footer = {"", "Examples:",
            "  ./mmu-replay replay examples/traces/long_user_basic.trace",
            "  ./mmu-replay replay host.trace --profiles upstream,mmio-gen-bit11 --host mmioCaching=true --out out/x",
            "  ./mmu-replay replay --kafka localhost:9092 --topic mmu.trace --kafka-out",
            "",
            "Outputs in --out: alerts.jsonl, alerts.avro, deadletters.jsonl, digests.jsonl, summary.json, report.html.",
            "Exit codes: 0 done (divergences are results, not errors), 1 runtime failure, 2 usage error,"
                + " 3 too many bad input lines, 4 --fail-on-divergence and divergences were found."})
public final class ReplayCommand implements Callable<Integer> {

    static final String DEFAULT_PROFILES = "upstream,no-reset-on-pae-toggle,mmio-gen-bit11";

    @Parameters(paramLabel = "TRACE", arity = "0..*",
            description = "Trace text files ('-' = stdin, .gz ok) or Avro files (.avro) of TraceEvents.")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--profiles", paramLabel = "A,B,...", split = ",", defaultValue = DEFAULT_PROFILES,
            description = "Profiles to replay, baseline first (default: ${DEFAULT-VALUE}). See 'profiles'.")
    List<String> profiles;

    @Option(names = "--profile-file", paramLabel = "FILE", description = "User profiles (see 'profiles --help').")
    Path profileFile;

    @Option(names = "--host", paramLabel = "KEY=VALUE",
            description = "Host configuration, as for 'diff' (tdp, tdpEncoding, mmioCaching, nxHugePages,"
                    + " nxRecoveryRatio, nxRecoveryPeriodMs, hostMaxPhyAddr, kernel). Per setting: --host > the"
                    + " trace texts' '# mmu-replay host:' header line > inferred on the client from the first ingested"
                    + " events (not for --kafka) > default; the result is printed on stderr.")
    Map<String, String> host = new LinkedHashMap<>();

    @Option(names = {"-p", "--parallelism"}, paramLabel = "N",
            description = "Parallelism of the job (default: twice the number of cores, at most 8: VMs are spread over"
                    + " the replay tasks by the hash of their id, unevenly when they are few, so two tasks per core keep"
                    + " the cores busy).")
    Integer parallelism;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/replay",
            description = "Directory for the results (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--json", description = "Print the summary as one JSON object on stdout.")
    boolean json;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP", description = "Read TraceEvents from Kafka.")
    String kafka;

    @Option(names = "--topic", paramLabel = "T", defaultValue = "mmu.trace",
            description = "Input topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--group", paramLabel = "ID", defaultValue = "mmu-replay",
            description = "Consumer group id (default: ${DEFAULT-VALUE}).")
    String group;

    @Option(names = "--follow", description = "Keep reading the topic (continuous replay; needs --kafka-out).")
    boolean follow;

    @Option(names = "--kafka-out", description = "Also write alerts, dead letters and digests to Kafka, exactly-once"
            + " (topics below; on the --kafka cluster).")
    boolean kafkaOut;

    @Option(names = "--alerts-topic", paramLabel = "T", defaultValue = ReplaySinks.DEFAULT_ALERTS,
            description = "Default: ${DEFAULT-VALUE}.")
    String alertsTopic;

    @Option(names = "--dead-letter-topic", paramLabel = "T", defaultValue = ReplaySinks.DEFAULT_DEAD_LETTERS,
            description = "Default: ${DEFAULT-VALUE}.")
    String deadLetterTopic;

    @Option(names = "--digest-topic", paramLabel = "T", defaultValue = ReplaySinks.DEFAULT_DIGESTS,
            description = "Digests; VmSummaries go to T.summary (default: ${DEFAULT-VALUE}).")
    String digestTopic;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Client properties (security etc.) for the consumer and the producers.")
    Path kafkaConfig;

    @Option(names = "--cluster", paramLabel = "HOST:PORT",
            description = "Submit to a running Flink cluster (its REST address) instead of the embedded one.")
    String cluster;

    @Option(names = "--job-jar", paramLabel = "JAR",
            description = "Job jar shipped to --cluster (default: the jar this command runs from).")
    Path jobJar;

    @Option(names = "--checkpoint-interval", paramLabel = "MS", defaultValue = "10000",
            description = "Checkpoint interval in ms, 0 = off (default: ${DEFAULT-VALUE}). With --kafka-out, "
                    + "alerts become visible to read_committed readers when the checkpoint after them completes: "
                    + "for live alerts in a --follow replay choose e.g. 200-1000.")
    long checkpointInterval;

    @Option(names = "--max-pending", paramLabel = "N", defaultValue = "" + ReplayOptions.DEFAULT_MAX_PENDING,
            description = "Reorder bound per VM: records waiting for an earlier seq before a gap is declared"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxPending;

    @Option(names = "--digest-every", paramLabel = "N", defaultValue = "" + ReplayOptions.DEFAULT_DIGEST_EVERY,
            description = "Emit every model's digest each N events per VM (default: ${DEFAULT-VALUE}).")
    long digestEvery;

    @Option(names = "--context", paramLabel = "N", defaultValue = "" + ReplayOptions.DEFAULT_CONTEXT,
            description = "Preceding seqs carried by each alert (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--no-noise-replica", negatable = false,
            description = "Do not replay the baseline twice (no noise detection; a little faster).")
    boolean noNoiseReplica;

    @Option(names = "--fail-on-divergence", description = "Exit with 4 when any divergence is alerted.")
    boolean failOnDivergence;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "Progress bar while ingesting trace text: auto (stderr is a terminal), always, never.")
    String progress;

    @CommandLine.Mixin
    TraceInputOptions input = new TraceInputOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ReplayOptions options = options();
        if (inputs.isEmpty() == (kafka == null)) {
            throw usage("give trace files or --kafka BOOTSTRAP (one of the two)");
        }
        if (follow && (kafka == null || !kafkaOut)) {
            throw usage("--follow needs --kafka and --kafka-out (a continuous replay has no end to summarize)");
        }
        if (kafkaOut && kafka == null) {
            throw usage("--kafka-out needs --kafka BOOTSTRAP");
        }
        int p = parallelism != null ? parallelism : defaultParallelism(Runtime.getRuntime().availableProcessors());
        if (p < 1) {
            throw usage("--parallelism must be >= 1");
        }
        Files.createDirectories(out);
        Properties clientProps = kafkaProperties();

        ReplaySummary.Builder summary = ReplaySummary.builder()
                .profiles(options.profiles())
                .mode(cluster != null ? "cluster" : "embedded");
        List<DeadLetter> ingestDead = new ArrayList<>();
        List<java.nio.file.Path> avroInputs = new ArrayList<>();
        boolean tooMany = false;
        HostResolution.Headers headers = null;
        if (kafka == null) {
            summary.inputs(inputs);
            List<String> text = new ArrayList<>();
            for (String in : inputs) {
                if (in.endsWith(".avro")) {
                    Path f = Path.of(in);
                    if (!Files.isRegularFile(f)) {
                        throw usage("no such Avro file: " + in);
                    }
                    avroInputs.add(f);
                } else {
                    text.add(in);
                }
            }
            try {
                headers = HostResolution.readHeaders(text);
            } catch (NoSuchFileException e) {
                throw usage("no such trace file: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
            if (!text.isEmpty()) {
                Path avro = out.resolve("input.avro");
                IngestResult r = ingest(text, avro, summary, ingestDead, err);
                tooMany = r.tooMany;
                avroInputs.add(avro);
                err.println("mmu-replay replay: " + r.report.events() + " events from " + text.size()
                        + " trace(s)" + (ingestDead.isEmpty() ? "" : ", " + ingestDead.size() + " bad line(s)"));
            }
        } else {
            summary.inputs(List.of(kafka + "/" + topic));
        }
        options = resolveHost(options, headers, avroInputs, err);

        StreamExecutionEnvironment env = environment(p);
        DataStream<Either<EventBatch, DeadLetter>> source = kafka != null
                ? ReplayJob.fromKafka(env, kafka, topic, group, !follow, clientProps)
                : ReplayJob.fromAvroFiles(env, avroInputs);
        ReplayJob.Streams streams = ReplayJob.replay(source, options);
        if (kafkaOut) {
            new ReplaySinks(kafka, alertsTopic, deadLetterTopic, digestTopic, "mmu-replay-" + group, clientProps)
                    .attach(streams);
        }
        String name = "mmu-replay " + String.join(",", options.profiles());
        err.println("mmu-replay replay: replaying under " + String.join(", ", options.profiles()) + " on "
                + (cluster != null ? "cluster " + cluster : "an embedded Flink MiniCluster") + ", parallelism " + p
                + " ...");
        if (follow) {
            env.execute(name);   // runs until cancelled
            return MmuReplayCli.EXIT_OK;
        }
        ReplayRun.Result r = ReplayRun.collect(env, streams, name);

        long processed = 0;
        long duplicates = 0;
        long gaps = 0;
        long noise = 0;
        long records = 0;
        for (VmSummary s : r.summaries()) {
            processed += s.getProcessed();
            duplicates += s.getDuplicates();
            gaps += s.getGaps();
            noise += s.getNoise();
            records += s.getRecords();
        }
        // every input record is processed, a duplicate dropped, or a dead letter: a bad trace line (ingest, on this
        // client), an undecodable record (the job's source), a late record or one the model cannot take (replay)
        long decodeDead = r.deadLetters().stream().filter(d -> !d.getStage().equals("replay")).count();
        long inputRecords = ingestDead.size() + records + decodeDead;
        long deadLetters = ingestDead.size() + r.deadLetters().size();
        summary.inputRecords(inputRecords)
                .events(processed)
                .vms(r.summaries().size())
                .deadLetters(deadLetters)
                .duplicatesDropped(duplicates)
                .gaps(gaps)
                .noise(noise)
                .wallMillis(r.wallMillis());
        for (DivergenceAlert a : r.alerts()) {
            summary.alert(a);
        }
        for (ReplayDigest d : r.finalDigests()) {
            summary.digest(d.getVm(), d.getProfile(), d.getEvents(), d.getDigest());
        }
        ReplaySummary s = summary.build();
        List<DeadLetter> allDead = new ArrayList<>(ingestDead);
        allDead.addAll(r.deadLetters());
        writeOutputs(s, r, allDead);

        if (json) {
            stdout.println(SummaryJson.toString(s));
        } else {
            SummaryTable.print(s, stdout);
            stdout.println("reconciliation: " + inputRecords + " records = " + processed + " processed + "
                    + deadLetters + " dead letters + " + duplicates + " duplicates dropped");
            stdout.println("results in " + out + "/ (report.html, summary.json, alerts.jsonl, ...)");
        }
        stdout.flush();
        if (inputRecords != processed + deadLetters + duplicates) {
            err.println("mmu-replay replay: counts do not reconcile (" + inputRecords + " != " + processed + " + "
                    + deadLetters + " + " + duplicates + ")");
            return MmuReplayCli.EXIT_FAILURE;
        }
        if (tooMany) {
            err.println("mmu-replay replay: input stopped after more than " + input.maxErrors()
                    + " bad lines (--max-errors); the events before that point were replayed");
            return MmuReplayCli.EXIT_TOO_MANY_ERRORS;
        }
        if (failOnDivergence && s.divergences() > 0) {
            return MmuReplayCli.EXIT_CHECK_FAILED;
        }
        return MmuReplayCli.EXIT_OK;
    }

    private ReplayOptions options() throws IOException {
        for (String k : host.keySet()) {
            if (!HostSettings.KEYS.contains(k)) {
                throw usage("--host: unknown setting '" + k + "' (" + String.join(", ", HostSettings.KEYS) + ")");
            }
        }
        ReplayOptions o = new ReplayOptions(profiles, null, List.of(), host, context, !noNoiseReplica, maxPending,
                digestEvery);
        if (profileFile != null) {
            if (!Files.isRegularFile(profileFile)) {
                throw usage("--profile-file: no such file " + profileFile);
            }
            o = o.withProfileFile(profileFile.toString(), Files.readAllLines(profileFile, StandardCharsets.UTF_8));
        }
        try {
            return o.validate();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /**
     * --host over the trace texts' host headers over what the first ingested events prove (inferred here, on the
     * client) over the defaults; Kafka input: --host only. The result goes to stderr and into the job's options.
     */
    private ReplayOptions resolveHost(ReplayOptions options, HostResolution.Headers headers, List<Path> avroInputs,
                                      PrintWriter err) throws IOException {
        HostInference.Result inferred = HostInference.Result.NONE;
        if (headers == null) {
            err.println("mmu-replay replay: --kafka input: host header and inference skipped (only --host applies)");
        } else {
            inferred = HostResolution.inferAvro(avroInputs, HostInference.DEFAULT_PREFIX);
        }
        HostConfig hc;
        try {
            hc = HostConfig.resolve(ModelConfig.DEFAULT, host, headers == null ? Map.of() : headers.settings(),
                    inferred);
        } catch (IllegalArgumentException e) {
            throw usage("--host: " + e.getMessage());
        }
        for (String w : HostResolution.warnings(hc, headers)) {
            err.println("mmu-replay replay: " + w);
        }
        for (String line : HostResolution.text(hc).split("\n")) {
            if (!line.isEmpty()) {
                err.println("mmu-replay replay: " + line.strip());
            }
        }
        return options.withHost(hc.explicitSettings());
    }

    private record IngestResult(IngestReport report, boolean tooMany) {
    }

    /**
     * Two replay tasks per core, at most 8. keyBy(vm) spreads VMs by their key's hash: eight VMs on two tasks went
     * 6 + 2 (vm-0..vm-7), leaving one core mostly idle; on four tasks the busiest holds half of them, and the two
     * tasks sharing a core keep it busy (docs/benchmarks.md, replay job).
     */
    static int defaultParallelism(int cores) {
        return Math.max(1, Math.min(8, 2 * cores));
    }

    /** Trace text → {@code avro} through the ingest parser; events also go on the summary's timeline. */
    private IngestResult ingest(List<String> text, Path avro, ReplaySummary.Builder summary,
                                List<DeadLetter> dead, PrintWriter err) throws IOException {
        ProgressListener bar = ProgressBar.create(progressMode(), err);
        try (AvroFileEventSink file = new AvroFileEventSink(avro)) {
            EventSink events = new EventSink() {
                @Override
                public void accept(EventView e) throws IOException {
                    summary.event(e.vm(), e.seq(), e.timestampNs());
                    file.accept(e);
                }

                @Override
                public void accept(TraceEvent e) throws IOException {
                    summary.event(e.getVm(), e.getSeq(), e.getTimestampNs());
                    file.accept(e);
                }

                @Override
                public void flush() throws IOException {
                    file.flush();
                }

                @Override
                public void close() {
                }
            };
            DeadLetterSink deadSink = new DeadLetterSink() {
                @Override
                public void accept(DeadLetter d) {
                    dead.add(d);
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            Ingest ingest = new Ingest(input.toIngestOptions(spec.commandLine(), text), events, deadSink, bar);
            try {
                return new IngestResult(ingest.run(text), false);
            } catch (TooManyErrorsException e) {
                return new IngestResult(e.report(), true);
            } catch (NoSuchFileException e) {
                throw usage("no such trace file: " + e.getMessage());
            }
        } finally {
            ProgressBar.finish(bar);
        }
    }

    private ProgressBar.Mode progressMode() {
        try {
            return ProgressBar.Mode.valueOf(progress.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw usage("--progress: '" + progress + "' is not one of auto, always, never");
        }
    }

    private StreamExecutionEnvironment environment(int p) {
        Configuration conf = ReplayJob.configure(new Configuration());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        // a lost TaskManager can cost a few attempts before the cluster notices it (redeploys to its slots fail)
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(2));
        StreamExecutionEnvironment env;
        if (cluster != null) {
            int colon = cluster.lastIndexOf(':');
            if (colon <= 0) {
                throw usage("--cluster: expected HOST:PORT, got '" + cluster + "'");
            }
            int port;
            try {
                port = Integer.parseInt(cluster.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw usage("--cluster: bad port in '" + cluster + "'");
            }
            env = StreamExecutionEnvironment.createRemoteEnvironment(cluster.substring(0, colon), port, conf,
                    jobJar().toString());
        } else {
            env = StreamExecutionEnvironment.createLocalEnvironment(p, conf);
        }
        env.setParallelism(p);
        if (checkpointInterval > 0) {
            env.enableCheckpointing(checkpointInterval);
        }
        return env;
    }

    private Path jobJar() {
        if (jobJar != null) {
            return jobJar;
        }
        try {
            Path self = Path.of(ReplayCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(self)) {
                return self;
            }
        } catch (Exception e) {
            // fall through
        }
        throw usage("--cluster needs --job-jar (not running from a jar)");
    }

    private Properties kafkaProperties() throws IOException {
        Properties props = new Properties();
        if (kafkaConfig != null) {
            if (!Files.isRegularFile(kafkaConfig)) {
                throw usage("--kafka-config: no such file " + kafkaConfig);
            }
            try (InputStream in = Files.newInputStream(kafkaConfig)) {
                props.load(in);
            }
        }
        return props;
    }

    private void writeOutputs(ReplaySummary s, ReplayRun.Result r, List<DeadLetter> dead) throws IOException {
        try (Writer w = Files.newBufferedWriter(out.resolve("alerts.jsonl"))) {
            Alerts.writeJsonLines(r.alerts(), w);
        }
        try (DataFileWriter<DivergenceAlert> w = new DataFileWriter<>(new SpecificDatumWriter<>(DivergenceAlert.class))) {
            w.create(DivergenceAlert.getClassSchema(), out.resolve("alerts.avro").toFile());
            for (DivergenceAlert a : r.alerts()) {
                w.append(a);
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(out.resolve("deadletters.jsonl"))) {
            for (DeadLetter d : dead) {
                w.write(d.toString());
                w.newLine();
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(out.resolve("digests.jsonl"))) {
            for (ReplayDigest d : r.digests()) {
                w.write(d.toString());
                w.newLine();
            }
        }
        try (Writer w = Files.newBufferedWriter(out.resolve("summary.json"))) {
            SummaryJson.write(s, w);
            w.write('\n');
        }
        try (Writer w = Files.newBufferedWriter(out.resolve("report.html"))) {
            HtmlReport.write(s, w);
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
