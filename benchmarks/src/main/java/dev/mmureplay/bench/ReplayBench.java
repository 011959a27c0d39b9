package dev.mmureplay.bench;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.jobs.ReplayJob;
import dev.mmureplay.jobs.ReplayOptions;
import dev.mmureplay.jobs.ReplayRun;
import dev.mmureplay.jobs.ReplaySinks;
import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.divergence.VmReplay;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.sink.KafkaEventSink;
import dev.mmureplay.replayer.sink.KafkaSinkConfig;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.TreeMap;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The replay job's benchmarks (issue 5), side by side in one run, printed as one Markdown table on stdout (progress on
 * stderr). Not timed tests: a command whose numbers go to docs/benchmarks.md with the command line and the machine.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.mmureplay.bench.ReplayBench [--only file,kafka,latency,keying] ...
 * </pre>
 *
 * Parts: {@code file} (Avro file → alerts on an embedded MiniCluster: the fleet, one VM, noise replica off),
 * {@code kafka} (the job with the bounded Kafka source and exactly-once sinks against a bare consumer of the same
 * topic, embedded KRaft broker), {@code latency} (event → alert latency at a fixed input rate, exactly-once and
 * at-least-once alert sinks), {@code keying} (the data for keying by vm vs by (vm, profile)). See {@link #usage()}.
 */
public final class ReplayBench {

    static final List<String> PARTS = List.of("file", "kafka", "latency", "keying");
    static final List<String> FILE_CASES = List.of("reader", "fleet", "single", "noreplica");

    // ---- options ----
    Set<String> only = new LinkedHashSet<>(PARTS);
    long events = 16_000_000;
    int vms = 8;
    int parallelism = 4;
    List<String> profiles = List.of("upstream", "no-reset-on-pae-toggle", "mmio-gen-bit11");
    Map<String, String> host = new LinkedHashMap<>(Map.of("mmioCaching", "true"));
    long checkpointMs = 10_000;
    long kafkaEvents = -1;   // -1: --events
    int rate = 20_000;
    int durationS = 30;
    int warmupS = 10;
    int divergenceEvery = 1000;
    long latencyCheckpointMs = 200;
    int backgroundVms = 4;
    long keyingEvents = 300_000;
    int keyingRounds = 5;
    int fileRounds = 3;
    Set<String> fileCases = new LinkedHashSet<>(FILE_CASES);
    int interleave = Fleet.CHUNK;
    long seed = 1;
    long digestEvery = ReplayOptions.DEFAULT_DIGEST_EVERY;
    Path workDir;
    boolean keep;

    // ---- state ----
    private final List<String[]> rows = new ArrayList<>();
    private final long t0 = System.nanoTime();
    private final PrintStream err = System.err;
    private SharedMiniCluster cluster;
    private Path dir;
    private Path fleetFile;
    private final Map<String, Double> rates = new HashMap<>();

    public static void main(String[] args) {
        ReplayBench b = new ReplayBench();
        try {
            if (!b.parse(args)) {
                System.out.println(usage());
                System.exit(0);
            }
        } catch (IllegalArgumentException e) {
            System.err.println("replay-bench: " + e.getMessage());
            System.err.println("Try --help.");
            System.exit(2);
        }
        int code;
        try {
            b.run();
            code = 0;
        } catch (Exception e) {
            System.err.println("replay-bench: failed: " + e);
            e.printStackTrace(System.err);
            code = 1;
        }
        System.out.flush();
        System.setOut(System.err);   // stdout is the table: whatever logs during shutdown goes to stderr
        System.exit(code);   // the broker's and the clients' non-daemon threads: don't wait for them
    }

    static String usage() {
        return String.join("\n",
                "Usage: java -cp benchmarks/target/benchmarks.jar dev.mmureplay.bench.ReplayBench [options]",
                "",
                "Benchmarks of the Flink replay job (embedded MiniCluster, embedded KRaft broker, one JVM). Progress on",
                "stderr, one Markdown table on stdout. Exit codes: 0 done, 1 runtime failure, 2 usage error.",
                "",
                "Parts (all by default; a run of all takes ~8 min on 2 cores):",
                "  file     Avro file -> alerts: K VMs (synth scale), 3 profiles; also K=1 and noise replica off",
                "  kafka    bounded Kafka source + exactly-once Kafka sinks vs a bare KafkaConsumer on the same topic",
                "  latency  event -> alert latency through Kafka at a fixed input rate (exactly-once, at-least-once)",
                "  keying   keyBy(vm) vs keyBy(vm, profile): one model vs three per event, one serialization hop",
                "",
                "Options:",
                "  --only PARTS               comma-separated subset of: file,kafka,latency,keying",
                "  --events N                 events of the fleet (file part) [16e6: runs of ~8 s, so job start and the final checkpoint weigh little]",
                "  --vms K                    VMs in the fleet [8]",
                "  --parallelism P            job parallelism (= task slots used) [4: the replay command's default on 2 cores]",
                "  --profiles A,B,...         profiles, baseline first [upstream,no-reset-on-pae-toggle,mmio-gen-bit11]",
                "  --host k=v,...             model host settings [mmioCaching=true]",
                "  --checkpoint-ms MS         checkpoint interval of the file and kafka jobs [10000]",
                "  --kafka-events N           events produced for the kafka part [= --events]",
                "  --rate R                   latency part: input events per second [20000]",
                "  --duration-s S             latency part: seconds of input per variant [30]",
                "  --warmup-s S               latency part: seconds of input at the rate before those, whose alerts"
                        + " are not counted (the JIT compiles the job's code in its first seconds) [10]",
                "  --divergence-every N       latency part: one diverging VM (PAE-toggle scenario) per N events [1000]",
                "  --latency-checkpoint-ms MS latency part: checkpoint interval [200]",
                "  --background-vms B         latency part: synth scale VMs carrying the rest of the input [4]",
                "  --keying-events N          keying part: events of the one VM replayed in a loop [300000]",
                "  --keying-rounds R          keying part: rounds (all cases each), the best per case is reported [5]",
                "  --file-rounds R            file and kafka parts: rounds of their runs (interleaved), the best"
                        + " per case is reported [3]",
                "  --file-cases CASES         file part: comma-separated subset of: " + String.join(",", FILE_CASES)
                        + " (the reader alone, the fleet, one VM, the fleet without the noise replica) [all]",
                "  --interleave N             events of one VM in a row in the fleet's input, file and kafka parts"
                        + " [" + Fleet.CHUNK + "; 1: the VMs alternate event by event, every batch holds one event]",
                "  --seed S                   first synth seed [1]",
                "  --digest-every N           the job's periodic state digests, per VM [" + ReplayOptions.DEFAULT_DIGEST_EVERY
                        + " = the replay command's default]",
                "  --work-dir DIR             where the generated files go [a temp dir, deleted at the end]",
                "  --keep                     keep the work dir",
                "  -h, --help                 this help");
    }

    /** False for --help. */
    boolean parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "-h", "--help" -> {
                    return false;
                }
                case "--keep" -> keep = true;
                default -> {
                    if (v == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException("option " + a + " needs a value");
                        }
                        v = args[++i];
                    }
                    option(a, v);
                }
            }
        }
        if (vms < 1 || parallelism < 1 || events < vms || rate < 1 || durationS < 1 || warmupS < 0 || divergenceEvery < 20
                || keyingEvents < 1000 || keyingRounds < 1 || fileRounds < 1 || backgroundVms < 1
                || interleave < 1) {
            throw new IllegalArgumentException("out of range: need --vms >= 1, --parallelism >= 1, --events >= --vms,"
                    + " --rate >= 1, --duration-s >= 1, --warmup-s >= 0, --divergence-every >= 20, --keying-events >= 1000,"
                    + " --keying-rounds >= 1, --file-rounds >= 1, --background-vms >= 1, --interleave >= 1");
        }
        options().validate();
        return true;
    }

    private void option(String name, String v) {
        switch (name) {
            case "--file-cases" -> {
                fileCases = new LinkedHashSet<>();
                for (String p : v.split(",")) {
                    String t = p.trim();
                    if (!FILE_CASES.contains(t)) {
                        throw new IllegalArgumentException("unknown file case '" + t + "' (one of " + FILE_CASES
                                + ")");
                    }
                    fileCases.add(t);
                }
            }
            case "--only" -> {
                only = new LinkedHashSet<>();
                for (String p : v.split(",")) {
                    String t = p.trim();
                    if (!PARTS.contains(t)) {
                        throw new IllegalArgumentException("unknown part '" + t + "' (one of " + PARTS + ")");
                    }
                    only.add(t);
                }
            }
            case "--events" -> events = count(name, v);
            case "--vms" -> vms = (int) count(name, v);
            case "--parallelism" -> parallelism = (int) count(name, v);
            case "--profiles" -> profiles = Arrays.stream(v.split(",")).map(String::trim).toList();
            case "--host" -> {
                host = new LinkedHashMap<>();
                for (String kv : v.split(",")) {
                    if (kv.isBlank()) {
                        continue;
                    }
                    int e = kv.indexOf('=');
                    if (e <= 0) {
                        throw new IllegalArgumentException("--host wants key=value, got '" + kv + "'");
                    }
                    host.put(kv.substring(0, e).trim(), kv.substring(e + 1).trim());
                }
            }
            case "--checkpoint-ms" -> checkpointMs = count(name, v);
            case "--kafka-events" -> kafkaEvents = count(name, v);
            case "--rate" -> rate = (int) count(name, v);
            case "--duration-s" -> durationS = (int) count(name, v);
            case "--warmup-s" -> warmupS = (int) count(name, v);
            case "--divergence-every" -> divergenceEvery = (int) count(name, v);
            case "--latency-checkpoint-ms" -> latencyCheckpointMs = count(name, v);
            case "--background-vms" -> backgroundVms = (int) count(name, v);
            case "--keying-events" -> keyingEvents = count(name, v);
            case "--keying-rounds" -> keyingRounds = (int) count(name, v);
            case "--file-rounds" -> fileRounds = (int) count(name, v);
            case "--interleave" -> interleave = (int) count(name, v);
            case "--seed" -> seed = count(name, v);
            case "--digest-every" -> digestEvery = count(name, v);
            case "--work-dir" -> workDir = Path.of(v);
            default -> throw new IllegalArgumentException("unknown option " + name);
        }
    }

    /** 4000000, 4e6, 4m, 300k. */
    static long count(String name, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT).replace("_", "");
        try {
            double mult = 1;
            if (s.endsWith("k")) {
                mult = 1e3;
                s = s.substring(0, s.length() - 1);
            } else if (s.endsWith("m")) {
                mult = 1e6;
                s = s.substring(0, s.length() - 1);
            }
            double d = Double.parseDouble(s) * mult;
            if (d < 0 || d > Long.MAX_VALUE || d != Math.rint(d)) {
                throw new NumberFormatException();
            }
            return (long) d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not a count: '" + v + "'");
        }
    }

    ReplayOptions options() {
        return ReplayOptions.of(profiles.toArray(String[]::new)).withHost(host).withDigestEvery(digestEvery);
    }

    // ------------------------------------------------------------------------------------------------------------

    void run() throws Exception {
        dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("replay-bench");
        log("work dir " + dir + "; parts " + only);
        try {
            if (only.contains("file") || only.contains("kafka") || only.contains("latency")) {
                log("starting the MiniCluster (1 TaskManager, " + Math.max(parallelism, 2) + " slots)");
                cluster = new SharedMiniCluster(Math.max(parallelism, 2));
            }
            if (only.contains("file")) {
                fileBench();
            }
            if (only.contains("kafka")) {
                kafkaBench();
            }
            if (only.contains("latency")) {
                latencyBench();
            }
            if (only.contains("keying")) {
                keyingBench();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
            if (!keep && workDir == null) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
        printTable();
    }

    // ---- part 1: file → alerts ---------------------------------------------------------------------------------

    private Path fleet() throws IOException {
        if (fleetFile == null) {
            log("generating the fleet: " + vms + " VMs, " + events + " events (synth scale, ingest, interleave)");
            fleetFile = Fleet.write(dir, "fleet", "vm-", vms, events, seed, interleave, this::log);
            log("fleet file " + fleetFile + ": " + Files.size(fleetFile) / 1_000_000 + " MB");
        }
        return fleetFile;
    }

    void fileBench() throws Exception {
        Path fleet = fleet();
        Path single = null;
        if (fileCases.contains("single")) {
            log("generating one VM with " + events + " events");
            single = Fleet.write(dir, "single", "solo-", 1, events, seed + 1000, this::log);
        }
        Path warm = Fleet.write(dir, "warmup", "warm-", 2, Math.min(events, 200_000), seed + 2000, s -> { });

        if (fileCases.contains("reader")) {
            double c = cpuSeconds();
            long t = System.nanoTime();
            long n = Fleet.readAsTheJob(fleet);
            double s = secs(System.nanoTime() - t);
            add("file", "the job's file reader alone (AvroTraceFileFormat: blocks, zstd, scan), 1 thread, no Flink",
                    n, s, rate(n, s), "what the one source task of a one-file input can deliver at most; "
                            + cpuNote(cpuSeconds() - c, n));
            c = cpuSeconds();
            t = System.nanoTime();
            n = Fleet.forEach(fleet, e -> { });
            s = secs(System.nanoTime() - t);
            add("file", "for comparison: Avro's DataFileStream + SpecificDatumReader (custom coders) decoding every "
                    + "TraceEvent, 1 thread", n, s, rate(n, s), "what the source did before it only scanned; "
                    + cpuNote(cpuSeconds() - c, n));
        }

        log("warm-up job (not reported)");
        runFileJob(warm, options(), "warm-up");

        String prof = String.join(",", profiles);
        // the cases run interleaved, fileRounds times; each reports its best round (the JIT keeps compiling the
        // model's paths during the first jobs, and other load comes and goes): the range goes in the notes
        List<List<JobStats>> runs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int round = 1; round <= fileRounds; round++) {
            log("file: round " + round + " of " + fileRounds);
            if (fileCases.contains("fleet")) {
                runs.get(0).add(runFileJob(fleet, options(), "fleet K=" + vms));
            }
            if (single != null) {
                runs.get(1).add(runFileJob(single, options(), "one VM"));
            }
            if (fileCases.contains("noreplica")) {
                runs.get(2).add(runFileJob(fleet, options().withNoiseReplica(false), "fleet no replica"));
            }
        }
        if (!runs.get(0).isEmpty()) {
            fileRow("fleet, K=" + vms + " VMs, " + profiles.size() + " profiles + noise replica", runs.get(0),
                    "fleet");
        }
        if (!runs.get(1).isEmpty()) {
            fileRow("one VM (K=1: keyBy(vm) leaves one task busy), " + profiles.size() + " profiles + replica",
                    runs.get(1), "single");
        }
        if (!runs.get(2).isEmpty()) {
            fileRow("fleet, K=" + vms + ", noise replica off", runs.get(2), "noReplica");
        }
        rows.add(new String[] {"file", "(settings)", "", "", "",
                "profiles " + prof + "; host " + host + "; parallelism " + parallelism + "; the fleet's VMs "
                        + interleave + " events at a time; digests every "
                        + digestEvery + " events per VM; checkpoints every " + checkpointMs
                        + " ms (filesystem storage); target >= 2 M events/s for the fleet"});
    }

    /** The row of a case: its best round (by wall-clock rate), with the range of all rounds. */
    private void fileRow(String name, List<JobStats> rounds, String key) {
        JobStats st = rounds.stream().max(java.util.Comparator.comparingDouble(r -> r.processed / r.wallS))
                .orElseThrow();
        String range = range(rounds.stream().mapToDouble(r -> r.processed / r.wallS).toArray());
        rates.put(key, rate(st.processed, st.wallS));
        add("file", name, st.processed, st.wallS, rate(st.processed, st.wallS),
                String.format(Locale.ROOT, "%s%s; %s to the last output (%.2f s, excludes the wait for the final "
                        + "checkpoint); %d alerts; %s", range, st.cpuPerEvent(),
                        mps(rate(st.processed, st.lastOutputS)), st.lastOutputS, st.alerts, st.checkpoints));
    }

    /** Last arrival time of a job's summaries (same JVM as the MiniCluster: a static is shared). */
    static final Map<String, AtomicLong> LAST_OUTPUT = new ConcurrentHashMap<>();

    static final class MarkLast implements MapFunction<VmSummary, Long> {
        private static final long serialVersionUID = 1L;
        private final String id;

        MarkLast(String id) {
            this.id = id;
        }

        @Override
        public Long map(VmSummary s) {
            long now = System.nanoTime();
            LAST_OUTPUT.computeIfAbsent(id, k -> new AtomicLong()).accumulateAndGet(now, Math::max);
            return now;
        }
    }

    record JobStats(long processed, long records, long alerts, long deadLetters, double wallS, double lastOutputS,
                    String checkpoints, double cpuS) {

        /** CPU of the whole process (all threads: tasks, GC, JIT, the broker when there is one) per event. */
        String cpuPerEvent() {
            return cpuNote(cpuS, processed);
        }
    }

    /** CPU seconds of the whole process so far (every thread). */
    static double cpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean x) {
            return x.getProcessCpuTime() / 1e9;
        }
        return Double.NaN;
    }

    static String cpuNote(double cpuS, long n) {
        return String.format(Locale.ROOT, "%.2f µs process CPU per event (%.1f CPU-s: %s per CPU-second)",
                cpuS * 1e6 / n, cpuS, mps(n / cpuS));
    }

    private StreamExecutionEnvironment env(long checkpointInterval) {
        StreamExecutionEnvironment env = cluster.env(parallelism);
        env.enableCheckpointing(checkpointInterval);
        // VM state is MBs per VM (models' shadow pages): the JobManager's in-memory storage caps a state at 5 MB
        env.configure(checkpointConfig());
        return env;
    }

    private org.apache.flink.configuration.Configuration checkpointConfig() {
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("checkpoints").toUri().toString());
        return c;
    }

    private JobStats runFileJob(Path file, ReplayOptions o, String name) throws Exception {
        StreamExecutionEnvironment env = env(checkpointMs);
        ReplayJob.Streams s = ReplayJob.replay(ReplayJob.fromAvroFiles(env, List.of(file)), o);
        return collect(env, s, name);
    }

    private JobStats collect(StreamExecutionEnvironment env, ReplayJob.Streams s, String name) throws Exception {
        String id = name + "-" + System.nanoTime();
        s.summaries().map(new MarkLast(id)).returns(Types.LONG).name("mark last output")
                .sinkTo(new DiscardingSink<>()).name("discard");
        log("job '" + name + "' running");
        double cpu0 = cpuSeconds();
        long start = System.nanoTime();
        ReplayRun.Result r = ReplayRun.collect(env, s, "replay-bench " + name);
        long end = System.nanoTime();
        double cpu = cpuSeconds() - cpu0;
        AtomicLong last = LAST_OUTPUT.remove(id);
        long processed = r.summaries().stream().mapToLong(VmSummary::getProcessed).sum();
        long records = r.summaries().stream().mapToLong(VmSummary::getRecords).sum();
        String cp = checkpointSummary(JobID.fromHexString(r.jobId()));
        JobStats st = new JobStats(processed, records, r.alerts().size(), r.deadLetters().size(), secs(end - start),
                last == null ? Double.NaN : secs(last.get() - start), cp, cpu);
        log(String.format(Locale.ROOT, "job '%s': %d events in %.2f s = %s; %d alerts, %d dead letters; %s", name,
                processed, st.wallS, mps(rate(processed, st.wallS)), st.alerts, st.deadLetters, cp));
        if (st.deadLetters > 0) {
            log("WARNING: dead letters: " + r.deadLetters().get(0).getReason());
        }
        return st;
    }

    private String checkpointSummary(JobID job) {
        try {
            CheckpointStatsSnapshot c = cluster.cluster().getArchivedExecutionGraph(job).get(30, TimeUnit.SECONDS)
                    .getCheckpointStatsSnapshot();
            if (c == null || c.getCounts().getNumberOfCompletedCheckpoints() == 0) {
                return "0 checkpoints";
            }
            var sum = c.getSummaryStats();
            return String.format(Locale.ROOT, "%d checkpoints (max %d ms, state up to %.1f MB)",
                    c.getCounts().getNumberOfCompletedCheckpoints(), sum.getEndToEndDurationStats().getMaximum(),
                    sum.getStateSizeStats().getMaximum() / 1e6);
        } catch (Exception e) {
            return "checkpoint stats unavailable";
        }
    }

    // ---- part 2: Kafka → alerts vs a bare consumer -----------------------------------------------------------------

    /** The JVM's broker; its storage formatter prints to stdout, which carries only the table: sent to stderr. */
    private EmbeddedKafka kafka() {
        PrintStream out = System.out;
        System.setOut(err);
        try {
            log("starting the embedded Kafka broker (if not yet started)");
            return EmbeddedKafka.get();
        } finally {
            System.setOut(out);
        }
    }

    void kafkaBench() throws Exception {
        long n = kafkaEvents < 0 ? events : kafkaEvents;
        Path file = n == events ? fleet()
                : Fleet.write(dir, "kafka-fleet", "vm-", vms, n, seed, interleave, this::log);
        EmbeddedKafka kafka = kafka();
        String topic = EmbeddedKafka.uniqueTopic("bench-trace");
        kafka.createTopic(topic, 4);
        log("producing " + n + " events to " + topic + " (4 partitions, key = vm)");
        long t = System.nanoTime();
        long produced;
        try (KafkaEventSink sink = new KafkaEventSink(KafkaSinkConfig.of(kafka.bootstrapServers(), topic)
                .withCreateTopic(false))) {
            produced = Fleet.forEach(file, e -> {
                try {
                    sink.accept(e);
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            });
            sink.flush();
        }
        double ps = secs(System.nanoTime() - t);
        add("kafka", "produce the fleet (KafkaEventSink: lz4, acks=all, idempotent; not part of the ratio)",
                produced, ps, rate(produced, ps), "includes decoding the Avro file");

        // (a) and (b) interleaved, fileRounds times (the same rounds as the file part): each reports its best round —
        // the bare consumer's rate alone moved 0.9–2.0 M/s between single runs on this machine
        List<double[]> bareRuns = new ArrayList<>();   // {consumed, seconds, cpu seconds, bytes}
        List<JobStats> jobRuns = new ArrayList<>();
        for (int round = 1; round <= fileRounds; round++) {
            log("kafka: round " + round + " of " + fileRounds);
            bareRuns.add(bareConsumer(kafka, topic));
            String alerts = EmbeddedKafka.uniqueTopic("bench-alerts");
            String dead = EmbeddedKafka.uniqueTopic("bench-dead");
            kafka.createTopic(alerts, 1);
            kafka.createTopic(dead, 1);
            StreamExecutionEnvironment env = env(checkpointMs);
            String group = "bench-" + topic + "-" + round;
            ReplayJob.Streams s = ReplayJob.replay(ReplayJob.fromKafka(env, kafka.bootstrapServers(), topic,
                    group, true, new Properties()), options());
            new ReplaySinks(kafka.bootstrapServers(), alerts, dead, null, group, new Properties()).attach(s);
            jobRuns.add(collect(env, s, "kafka"));
        }
        double[] a = bareRuns.stream().max(java.util.Comparator.comparingDouble(r -> r[0] / r[1])).orElseThrow();
        long consumed = (long) a[0];
        double bare = rate(consumed, a[1]);
        double bareCpu = a[2];
        add("kafka", "(a) bare KafkaConsumer, byte[] deserializers, no decode, to the end offsets", consumed, a[1],
                bare, String.format(Locale.ROOT, "%s%.1f bytes/record; %s (broker included)",
                        range(bareRuns.stream().mapToDouble(r -> r[0] / r[1]).toArray()), a[3] / consumed,
                        cpuNote(bareCpu, consumed)));
        JobStats st = jobRuns.stream().max(java.util.Comparator.comparingDouble(r -> r.processed / r.wallS))
                .orElseThrow();
        double job = rate(st.processed, st.wallS);
        double jobLast = rate(st.processed, st.lastOutputS);
        add("kafka", "(b) replay job: bounded Kafka source, exactly-once Kafka sinks (alerts, dead letters)",
                st.processed, st.wallS, job, String.format(Locale.ROOT,
                        "**(b)/(a) = %.2f** (best rounds; to the last output: %s, ratio %.2f; per CPU-second: %.2f); "
                                + "%s%s (broker included); %d alerts; %s; target >= 0.6",
                        job / bare, mps(jobLast), jobLast / bare, (st.processed / st.cpuS) / (consumed / bareCpu),
                        range(jobRuns.stream().mapToDouble(r -> r.processed / r.wallS).toArray()),
                        st.cpuPerEvent(), st.alerts, st.checkpoints));
    }

    /** "best of N rounds (min … max); " for more than one round, else "". */
    private static String range(double[] rates) {
        if (rates.length < 2) {
            return "";
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        int m = sorted.length / 2;
        double median = sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
        return String.format(Locale.ROOT, "best of %d rounds (%s … %s, median %s); ", rates.length,
                mps(sorted[0]), mps(sorted[sorted.length - 1]), mps(median));
    }

    /** A bare consumer reads the whole topic: {records, seconds, process CPU seconds, value bytes}. */
    private double[] bareConsumer(EmbeddedKafka kafka, String topic) {
        log("bare consumer reading " + topic);
        double cpu0 = cpuSeconds();
        long t = System.nanoTime();
        long consumed = 0;
        long bytes = 0;
        Properties p = kafka.clientProperties();
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (var info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, info.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (true) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    consumed++;
                    bytes += r.value().length;
                }
                boolean done = true;
                for (TopicPartition tp : parts) {
                    done &= c.position(tp) >= end.get(tp);
                }
                if (done) {
                    break;
                }
            }
        }
        return new double[] {consumed, secs(System.nanoTime() - t), cpuSeconds() - cpu0, bytes};
    }

    // ---- part 3: event → alert latency ------------------------------------------------------------------------------

    void latencyBench() throws Exception {
        EmbeddedKafka kafka = kafka();
        long total = (long) rate * (warmupS + durationS);
        // the diverging VM: the PAE-toggle scenario; which of its seqs alert, from a local replay with the same options
        List<TraceEvent> pae = Fleet.events("pae", Fleet.resource("/scenarios/no_reset_on_pae_toggle.trace"), dir);
        VmReplay local = VmReplay.create(options().resolveProfiles(), options().modelConfig(),
                ReplayOptions.DEFAULT_CONTEXT, true);
        TreeSet<Long> triggers = new TreeSet<>();
        for (TraceEvent e : pae) {
            for (VmReplay.Finding f : local.apply(ModelEvents.of(e))) {
                if (!f.noise()) {
                    triggers.add(e.getSeq());
                }
            }
        }
        if (triggers.isEmpty()) {
            throw new IllegalStateException("the PAE-toggle scenario does not diverge under " + profiles
                    + " (the latency part needs no-reset-on-pae-toggle among the profiles)");
        }
        log("PAE-toggle VM: " + pae.size() + " events, alerts at seq " + triggers);
        // the rest of the input: synth scale VMs, encoded once
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        long diverging = total / divergenceEvery + 1;
        long background = total - diverging * pae.size() + 1000;
        List<byte[][]> bg = new ArrayList<>();
        for (int i = 0; i < backgroundVms; i++) {
            String vm = "bg-" + i;
            List<TraceEvent> evs = Fleet.synth("scale", vm, Fleet.share(background, backgroundVms, i),
                    seed + 500 + i, dir);
            byte[][] enc = new byte[evs.size()][];
            for (int j = 0; j < enc.length; j++) {
                enc[j] = codec.encode(evs.get(j));
            }
            bg.add(enc);
        }
        log("latency input: " + total + " events at " + rate + "/s, one PAE-toggle VM per " + divergenceEvery
                + " events, the rest from " + backgroundVms + " synth scale VMs");
        for (boolean exactlyOnce : new boolean[] {true, false}) {
            latencyRun(kafka, exactlyOnce, pae, triggers, bg, total);
        }
    }

    private void latencyRun(EmbeddedKafka kafka, boolean exactlyOnce, List<TraceEvent> pae, Set<Long> triggers,
                            List<byte[][]> bg, long total) throws Exception {
        String variant = exactlyOnce ? "exactly-once" : "at-least-once";
        String in = EmbeddedKafka.uniqueTopic("lat-trace");
        String alerts = EmbeddedKafka.uniqueTopic("lat-alerts");
        String dead = EmbeddedKafka.uniqueTopic("lat-dead");
        kafka.createTopic(in, 4);
        kafka.createTopic(alerts, 1);
        kafka.createTopic(dead, 1);
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();

        ConcurrentHashMap<String, Long> sent = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, Long> received = new ConcurrentHashMap<>();
        // alerts of the diverging VMs sent during the warm-up seconds: expected, not counted
        ConcurrentHashMap<String, Long> warm = new ConcurrentHashMap<>();
        // wall clock (ms) of the alert's Kafka record (the sink's producer stamps it when the job writes it) and of
        // its receipt: splits each latency into "until written" and "written until visible" (the transaction)
        ConcurrentHashMap<String, long[]> wall = new ConcurrentHashMap<>();
        AtomicLong otherAlerts = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            Properties p = kafka.clientProperties();
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            AvroCodec<DivergenceAlert> ac = AvroCodec.alerts();
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                TopicPartition tp = new TopicPartition(alerts, 0);
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                while (!stop.get()) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(5))) {
                        long now = System.nanoTime();
                        DivergenceAlert a = ac.decode(r.value());
                        String key = a.getVm() + "@" + a.getSeq();
                        if (sent.containsKey(key)) {
                            if (received.putIfAbsent(key, now) == null) {
                                wall.put(key, new long[] {r.timestamp(), System.currentTimeMillis()});
                            }
                        } else if (!warm.containsKey(key)) {
                            otherAlerts.incrementAndGet();
                        }
                    }
                }
            }
        }, "latency-alert-reader");
        reader.setDaemon(true);
        reader.start();

        StreamExecutionEnvironment env = env(latencyCheckpointMs);
        ReplayJob.Streams s = ReplayJob.replay(ReplayJob.fromKafka(env, kafka.bootstrapServers(), in,
                "lat-" + in, false, new Properties()), options());
        if (exactlyOnce) {
            new ReplaySinks(kafka.bootstrapServers(), alerts, dead, null, "lat-" + in, new Properties()).attach(s);
        } else {
            s.alerts().sinkTo(KafkaSink.<DivergenceAlert>builder()
                    .setBootstrapServers(kafka.bootstrapServers())
                    .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                    .setRecordSerializer(new AlertSerializer(alerts))
                    .build()).name("kafka " + alerts + " (at-least-once)");
        }
        JobClient job = env.executeAsync("replay-bench latency " + variant);
        log("latency job (" + variant + ") submitted");

        Properties pp = kafka.clientProperties();
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        pp.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        String[] stats;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            // warm-up: one diverging VM, wait for its alert (job running, source assigned, first commit done)
            String warmKey = sendPae(producer, codec, in, pae, "pae-warm", triggers, sent);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!received.containsKey(warmKey)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no alert for the warm-up VM within 120 s (" + variant + ")");
                }
                Thread.sleep(20);
            }
            log("warm-up alert received after " + ms(received.get(warmKey) - sent.get(warmKey))
                    + " ms; feeding " + total + " events at " + rate + "/s for " + warmupS + " s of warm-up and "
                    + durationS + " s measured");
            sent.remove(warmKey);
            received.remove(warmKey);

            // the fixed-rate feed
            int[] bgNext = new int[bg.size()];
            int bgTurn = 0;
            long paeVms = 0;
            long n = 0;
            long warmEvents = (long) rate * warmupS;
            double measuredCpu0 = Double.NaN;
            long measuredStart = 0;
            long start = System.nanoTime();
            long nextLog = start + TimeUnit.SECONDS.toNanos(10);
            while (n < total) {
                long now = System.nanoTime();
                long due = Math.min(total, (now - start) * rate / 1_000_000_000L);
                while (n < due) {
                    if (measuredStart == 0 && n >= warmEvents) {
                        measuredCpu0 = cpuSeconds();
                        measuredStart = System.nanoTime();
                    }
                    if (n % divergenceEvery == 0) {
                        sendPae(producer, codec, in, pae, "pae-" + variant.charAt(0) + "-" + paeVms++, triggers,
                                n < warmEvents ? warm : sent);
                        n += pae.size();
                    } else {
                        int vm = bgTurn++ % bg.size();
                        byte[][] evs = bg.get(vm);
                        if (bgNext[vm] >= evs.length) {
                            throw new IllegalStateException("background input exhausted");
                        }
                        producer.send(new ProducerRecord<>(in, ("bg-" + vm).getBytes(StandardCharsets.UTF_8),
                                evs[bgNext[vm]++]));
                        n++;
                    }
                }
                if (now > nextLog) {
                    log("  " + variant + ": " + n + " events sent, " + received.size() + "/" + sent.size()
                            + " alerts received");
                    nextLog += TimeUnit.SECONDS.toNanos(10);
                }
                LockSupport.parkNanos(500_000);
            }
            double feedS = secs(System.nanoTime() - start);
            double cpuPerS = (cpuSeconds() - measuredCpu0) / secs(System.nanoTime() - measuredStart);
            producer.flush();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.size() < sent.size() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            String cp = checkpointSummaryRunning(job.getJobID());
            writeLatencyDump(variant, job.getJobID(), sent, received, wall);
            job.cancel().get(60, TimeUnit.SECONDS);
            stop.set(true);
            reader.join(5000);

            long[] lat = new long[received.size()];
            int i = 0;
            for (Map.Entry<String, Long> e : received.entrySet()) {
                lat[i++] = e.getValue() - sent.get(e.getKey());
            }
            Arrays.sort(lat);
            long missing = sent.size() - received.size();
            String res = lat.length == 0 ? "no alerts" : String.format(Locale.ROOT,
                    "p50 **%d ms**, p99 **%d ms**, max %d ms", ms(pct(lat, 0.50)), ms(pct(lat, 0.99)),
                    ms(lat[lat.length - 1]));
            stats = new String[] {"latency",
                    "event → alert, " + variant + " alert sink" + (exactlyOnce ? " (ReplaySinks)" : " (bench-built KafkaSink)")
                            + ", checkpoint " + latencyCheckpointMs + " ms",
                    String.valueOf(lat.length), String.format(Locale.ROOT, "%.1f", feedS), res,
                    String.format(Locale.ROOT, "%d events at %s/s (%.0f/s achieved; the first " + warmupS
                                    + " s a warm-up whose alerts are not counted), %d diverging VMs, %d alerts "
                                    + "missing after 30 s, %d other alerts; read_committed consumer, send() → "
                                    + "receipt in one JVM; process CPU while measured %.2f cores (broker, producer "
                                    + "and reader included); %s; target p99 < 1 s",
                            total, rate, total / feedS, sent.size(), missing, otherAlerts.get(), cpuPerS, cp)};
        } finally {
            stop.set(true);
        }
        rows.add(stats);
        log("latency (" + variant + "): " + stats[4]);
    }

    /** Sends one PAE-toggle VM as {@code vm}; records the send time of each alerting event; returns the first key. */
    private String sendPae(KafkaProducer<byte[], byte[]> producer, AvroCodec<TraceEvent> codec, String topic,
                                  List<TraceEvent> pae, String vm, Set<Long> triggers, Map<String, Long> sent) {
        byte[] key = vm.getBytes(StandardCharsets.UTF_8);
        String first = null;
        for (TraceEvent e : pae) {
            TraceEvent x = TraceEvent.newBuilder(e).setVm(vm).build();
            byte[] value = codec.encode(x);
            if (triggers.contains(e.getSeq())) {
                String k = vm + "@" + e.getSeq();
                sent.put(k, System.nanoTime());
                sentWall.put(k, System.currentTimeMillis());
                if (first == null) {
                    first = k;
                }
            }
            producer.send(new ProducerRecord<>(topic, key, value));
        }
        return first;
    }

    /** Wall clock (ms) at which each alerting event was sent (see {@link #writeLatencyDump}). */
    private final Map<String, Long> sentWall = new ConcurrentHashMap<>();

    /**
     * Writes {@code latency-VARIANT.csv} (per alert: sent, written by the job's sink, visible to the read_committed
     * reader; wall clock ms and latency ms) and {@code checkpoints-VARIANT.csv} (id, trigger, end-to-end duration,
     * status) into the work dir, and logs the split of the latency.
     */
    private void writeLatencyDump(String variant, JobID job, Map<String, Long> sent, Map<String, Long> received,
                                  Map<String, long[]> wall) {
        List<String> lines = new ArrayList<>();
        lines.add("key,sent_ms,written_ms,visible_ms,latency_ms");
        List<Long> written = new ArrayList<>();
        List<Long> toVisible = new ArrayList<>();
        for (Map.Entry<String, Long> e : new TreeMap<>(received).entrySet()) {
            long[] w = wall.get(e.getKey());
            Long s = sentWall.get(e.getKey());
            if (w == null || s == null) {
                continue;
            }
            lines.add(e.getKey() + "," + s + "," + w[0] + "," + w[1] + "," + ms(e.getValue() - sent.get(e.getKey())));
            written.add(w[0] - s);
            toVisible.add(w[1] - w[0]);
        }
        List<String> cps = new ArrayList<>();
        cps.add("id,trigger_ms,duration_ms,status,tasks (name: max over subtasks of end-to-end/sync/async/"
                + "alignment/start delay ms)");
        try {
            var graph = cluster.cluster().getExecutionGraph(job).get(30, TimeUnit.SECONDS);
            CheckpointStatsSnapshot c = graph.getCheckpointStatsSnapshot();
            for (var cs : c.getHistory().getCheckpoints()) {
                StringBuilder tasks = new StringBuilder();
                for (var ts : cs.getAllTaskStateStats()) {
                    var v = graph.getJobVertex(ts.getJobVertexId());
                    var sum = ts.getSummaryStats();
                    String name = v == null ? ts.getJobVertexId().toString() : v.getName();
                    tasks.append(' ').append(name.replaceAll("[,\\s]+", "_").substring(0, Math.min(24,
                                    name.length())))
                            .append(':').append(ts.getEndToEndDuration(cs.getTriggerTimestamp()))
                            .append('/').append(sum.getSyncCheckpointDurationStats().getMaximum())
                            .append('/').append(sum.getAsyncCheckpointDurationStats().getMaximum())
                            .append('/').append(sum.getAlignmentDurationStats().getMaximum())
                            .append('/').append(sum.getCheckpointStartDelayStats().getMaximum());
                }
                cps.add(cs.getCheckpointId() + "," + cs.getTriggerTimestamp() + "," + cs.getEndToEndDuration() + ","
                        + cs.getStatus() + "," + tasks.toString().trim());
            }
        } catch (Exception e) {
            cps.add("# checkpoint stats unavailable: " + e);
        }
        try {
            Files.write(dir.resolve("latency-" + variant + ".csv"), lines);
            Files.write(dir.resolve("checkpoints-" + variant + ".csv"), cps);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long[] a = written.stream().mapToLong(Long::longValue).sorted().toArray();
        long[] b = toVisible.stream().mapToLong(Long::longValue).sorted().toArray();
        if (a.length > 0) {
            log(String.format(Locale.ROOT, "latency (%s) split: sent → written by the sink p50 %d / p99 %d ms; "
                    + "written → visible p50 %d / p99 %d ms (%s)", variant, pct(a, 0.5), pct(a, 0.99), pct(b, 0.5),
                    pct(b, 0.99), dir));
        }
    }

    private String checkpointSummaryRunning(JobID job) {
        try {
            CheckpointStatsSnapshot c = cluster.cluster().getExecutionGraph(job).get(30, TimeUnit.SECONDS)
                    .getCheckpointStatsSnapshot();
            var sum = c.getSummaryStats();
            return String.format(Locale.ROOT, "%d checkpoints, duration p50 %.0f ms / max %d ms, state up to %.1f MB",
                    c.getCounts().getNumberOfCompletedCheckpoints(),
                    sum.getEndToEndDurationStats().getQuantile(0.5), sum.getEndToEndDurationStats().getMaximum(),
                    sum.getStateSizeStats().getMaximum() / 1e6);
        } catch (Exception e) {
            return "checkpoint stats unavailable";
        }
    }

    /** Alerts to Kafka without transactions (the bench's at-least-once variant; same key and encoding). */
    static final class AlertSerializer implements KafkaRecordSerializationSchema<DivergenceAlert> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private transient AvroCodec<DivergenceAlert> codec;

        AlertSerializer(String topic) {
            this.topic = topic;
        }

        @Override
        public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
            codec = AvroCodec.alerts();
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(DivergenceAlert a, KafkaSinkContext context, Long ts) {
            if (codec == null) {
                codec = AvroCodec.alerts();
            }
            return new ProducerRecord<>(topic, a.getVm().getBytes(StandardCharsets.UTF_8), codec.encode(a));
        }
    }

    // ---- part 4: keying ------------------------------------------------------------------------------------------------

    void keyingBench() throws Exception {
        log("keying: generating one VM with " + keyingEvents + " events");
        List<TraceEvent> evs = Fleet.synth("scale", "key-0", keyingEvents, seed + 3000, dir);
        ModelEvent[] model = new ModelEvent[evs.size()];
        for (int i = 0; i < model.length; i++) {
            model[i] = ModelEvents.of(evs.get(i));
        }
        ReplayOptions o = options();
        List<Profile> ps = o.resolveProfiles();
        ModelConfig detailed = o.modelConfig().withDetailedSteps(true);
        int n = model.length;
        dev.mmureplay.jobs.EventIntake intake = new dev.mmureplay.jobs.EventIntake();
        List<dev.mmureplay.jobs.EncodedEvent> encoded = evs.stream().map(intake::of).toList();
        dev.mmureplay.replayer.model.TraceEventDecoder decoder = new dev.mmureplay.replayer.model.TraceEventDecoder();
        dev.mmureplay.replayer.model.TraceEventDecoder.Envelope env =
                new dev.mmureplay.replayer.model.TraceEventDecoder.Envelope();

        Pass pconv = () -> {   // what the replay task does per event before the models: bytes → ModelEvent
            long h = 0;
            for (dev.mmureplay.jobs.EncodedEvent e : encoded) {
                h += decoder.decode(e.buffer(), e.offset(), e.offset() + e.length(), env).seq();
            }
            return h;
        };
        Pass pone = () -> {
            MmuStateMachine m = MmuStateMachine.create(ps.get(0), detailed);
            long h = 0;
            for (ModelEvent e : model) {
                h += m.apply(e) == null ? 0 : 1;   // (not hashCode: a record's hashes its lists)
            }
            return h + m.digest();
        };
        Pass pplain = () -> {
            MmuStateMachine m = MmuStateMachine.create(ps.get(0), o.modelConfig().withDetailedSteps(false));
            long h = 0;
            for (ModelEvent e : model) {
                h += m.apply(e) == null ? 0 : 1;
            }
            return h + m.digest();
        };
        Pass pthree = () -> {
            MmuStateMachine[] ms = new MmuStateMachine[ps.size()];
            for (int i = 0; i < ms.length; i++) {
                ms[i] = MmuStateMachine.create(ps.get(i), detailed);
            }
            long h = 0;
            for (ModelEvent e : model) {
                for (MmuStateMachine m : ms) {
                    h += m.apply(e) == null ? 0 : 1;   // (not hashCode: a record's hashes its lists)
                }
            }
            return h;
        };
        Pass pvmNoRep = () -> {
            VmReplay r = VmReplay.create(ps, o.modelConfig(), o.context(), false);
            long h = 0;
            for (ModelEvent e : model) {
                h += r.apply(e).size();
            }
            return h;
        };
        Pass pvmRep = () -> {
            VmReplay r = VmReplay.create(ps, o.modelConfig(), o.context(), true);
            long h = 0;
            for (ModelEvent e : model) {
                h += r.apply(e).size();
            }
            return h;
        };
        // the job's keyBy hop, in batches as the sources make them (one VM's run, <= MAX_EVENTS and MAX_BYTES)
        List<dev.mmureplay.jobs.EventBatch> batches = new ArrayList<>();
        dev.mmureplay.jobs.EventBatcher batcher = new dev.mmureplay.jobs.EventBatcher(
                dev.mmureplay.jobs.EventBatch.MAX_EVENTS, x -> batches.add(x.left()));
        encoded.forEach(batcher::add);
        batcher.flush();
        TypeSerializer<dev.mmureplay.jobs.EventBatch> ser = new dev.mmureplay.jobs.EventBatchSerializer();
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        DataInputDeserializer in = new DataInputDeserializer();
        long[] bytes = new long[1];
        Pass phop = () -> {
            long h = 0;
            bytes[0] = 0;
            for (dev.mmureplay.jobs.EventBatch e : batches) {
                out.clear();
                ser.serialize(e, out);
                bytes[0] += out.length();
                in.setBuffer(out.getSharedBuffer(), 0, out.length());
                h += ser.deserialize(in).seq(0);
            }
            return h;
        };

        double[] b = best(pconv, pone, pplain, pthree, pvmNoRep, pvmRep, phop);
        double conv = b[0] / n;
        double one = b[1] / n;
        double plain = b[2] / n;
        double three = b[3] / n;
        double vmNoRep = b[4] / n;
        double vmRep = b[5] / n;
        double hop = b[6] / n;

        int p = ps.size();
        String sp = p + " profiles";
        add("keying", "Avro bytes → ModelEvent (TraceEventDecoder.decode, as the replay task), 1 thread", n,
                conv * n / 1e9, 1e9 / conv,
                ns(conv) + " per event");
        add("keying", "1 model (" + ps.get(0).name() + "), no detailed steps (the JMH benchmarks' mode), 1 thread",
                n, plain * n / 1e9, 1e9 / plain, ns(plain) + " per event");
        add("keying", "1 model (" + ps.get(0).name() + "), detailed steps (as in the job), 1 thread", n,
                one * n / 1e9, 1e9 / one, ns(one) + " per event = " + fmt(one / plain) + " × without details");
        add("keying", p + " models (" + String.join(", ", profiles) + ") in one task, 1 thread", n,
                three * n / 1e9, 1e9 / three, ns(three) + " per event = " + fmt(three / one) + " × one model");
        add("keying", "VmReplay, " + sp + ", no replica (models + comparisons), 1 thread", n, vmNoRep * n / 1e9,
                1e9 / vmNoRep, ns(vmNoRep) + " per event");
        add("keying", "VmReplay, " + sp + " + replica (what ReplayFunction applies per event), 1 thread", n,
                vmRep * n / 1e9, 1e9 / vmRep, ns(vmRep) + " per event");
        add("keying", "one hop between tasks: the job's EventBatchSerializer serialize + deserialize, batches of "
                + dev.mmureplay.jobs.EventBatch.MAX_BYTES + " bytes at most", n,
                hop * n / 1e9, 1e9 / hop, ns(hop) + " per event, " + fmt((double) bytes[0] / n)
                        + " bytes (no network, no buffer handling: a lower bound)");
        // the two keyings, per event, on one core
        double byVm = conv + vmRep;
        // (vm, profile): the event fans out to p + 1 tasks (the profiles and the baseline's replica), each converts
        // it and runs one model, and ships its step (about a TraceEvent's size) to a per-vm task that compares
        double compare = Math.max(0, vmRep - (p + 1) * one);
        double byVmProfile = (p + 1) * (hop + conv + one + hop) + compare;
        add("keying", "estimate: keyBy(vm), per event (convert + VmReplay with replica)", n, byVm * n / 1e9,
                1e9 / byVm, ns(byVm) + " CPU per event; parallelism ≤ number of VMs");
        add("keying", "estimate: keyBy(vm, profile), per event", n, byVmProfile * n / 1e9, 1e9 / byVmProfile,
                ns(byVmProfile) + " CPU per event = " + (p + 1) + " tasks (profiles + replica) × (hop + convert +"
                        + " one model + a step hop ≈ a TraceEvent to a per-vm compare) + compare (" + ns(compare)
                        + ", VmReplay − " + (p + 1) + " models) = " + fmt(byVmProfile / byVm)
                        + " × keyBy(vm); parallelism ≤ VMs × " + (p + 1) + " instead of ≤ VMs");
        if (rates.containsKey("fleet") && rates.containsKey("single")) {
            add("keying", "measured (file part): K=1 vs K=" + vms + " at parallelism " + parallelism, 0, 0,
                    rates.get("single"), String.format(Locale.ROOT, "K=1 %s vs K=%d %s: %.2f × ",
                            mps(rates.get("single")), vms, mps(rates.get("fleet")),
                            rates.get("single") / rates.get("fleet")));
        }
    }

    interface Pass {
        long run() throws Exception;
    }

    /**
     * Each pass's best time in ns over {@link #keyingRounds} rounds (+1 not counted, the JIT's); the rounds run the
     * passes interleaved, so a burst of load on this shared machine does not hit one case only.
     */
    private double[] best(Pass... passes) throws Exception {
        long sink = 0;
        double[] best = new double[passes.length];
        Arrays.fill(best, Double.MAX_VALUE);
        for (int r = 0; r <= keyingRounds; r++) {
            for (int i = 0; i < passes.length; i++) {
                long t = System.nanoTime();
                sink += passes[i].run();
                long d = System.nanoTime() - t;
                if (r > 0) {
                    best[i] = Math.min(best[i], d);
                }
            }
        }
        if (sink == 42) {
            log("");
        }
        return best;
    }

    // ---- output --------------------------------------------------------------------------------------------------

    private void add(String part, String name, long n, double s, double perS, String notes) {
        String r = perS <= 0 || Double.isNaN(perS) ? "" : "**" + mps(perS) + "**";
        rows.add(new String[] {part, name, n == 0 ? "" : String.format(Locale.ROOT, "%,d", n),
                s == 0 ? "" : String.format(Locale.ROOT, "%.2f", s), r, notes});
        log(part + ": " + name + ": " + r + " " + notes);
    }

    private void printTable() {
        PrintStream out = System.out;
        var os = ManagementFactory.getOperatingSystemMXBean();
        out.printf(Locale.ROOT, "replay-bench %s — %d CPUs, load average %.2f, %s %s, max heap %d MB%n%n",
                Instant.now().toString().substring(0, 19) + "Z", Runtime.getRuntime().availableProcessors(),
                os.getSystemLoadAverage(), System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20);
        out.println("| part | case | events | wall s | result | notes |");
        out.println("|---|---|---:|---:|---|---|");
        for (String[] r : rows) {
            out.println("| " + String.join(" | ", r) + " |");
        }
    }

    void log(String msg) {
        err.printf(Locale.ROOT, "[%6.1f s] %s%n", secs(System.nanoTime() - t0), msg);
    }

    static double secs(long ns) {
        return ns / 1e9;
    }

    static long ms(long ns) {
        return Math.round(ns / 1e6);
    }

    static double rate(long n, double s) {
        return s > 0 ? n / s : Double.NaN;
    }

    static String mps(double perS) {
        return perS >= 1e6 ? String.format(Locale.ROOT, "%.2f M/s", perS / 1e6)
                : String.format(Locale.ROOT, "%.0f k/s", perS / 1e3);
    }

    static String ns(double ns) {
        return String.format(Locale.ROOT, "%.0f ns", ns);
    }

    static String fmt(double d) {
        return String.format(Locale.ROOT, "%.2f", d);
    }

    static long pct(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
