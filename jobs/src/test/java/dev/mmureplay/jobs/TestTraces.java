package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.synth.Synth;
import dev.mmureplay.replayer.testutil.MemorySinks;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test inputs: the shared traces and scenarios, ingested with the real {@link Ingest}; the local reference diff. */
public final class TestTraces {

    public static final Path SCENARIOS = Path.of("../replayer/src/test/resources/scenarios");
    public static final Path TRACES = Path.of("../mmu-model/src/test/resources/traces");
    /** The profiles the job tests replay: a baseline and two modelled seed profiles. */
    public static final List<String> PROFILES = List.of("upstream", "no-reset-on-pae-toggle", "mmio-gen-bit11");
    /** MMIO caching on, so the mmio-gen scenario's MMIO SPTEs exist (as in the diff CLI test). */
    public static final Map<String, String> HOST = Map.of("mmioCaching", "true");

    private TestTraces() {
    }

    /** The job tests' replay options: {@link #PROFILES} on {@link #HOST}, defaults otherwise. */
    public static ReplayOptions options() {
        return ReplayOptions.of(PROFILES.toArray(String[]::new)).withHost(HOST);
    }

    public static List<TraceEvent> ingest(Path file) throws Exception {
        assertTrue(Files.isRegularFile(file), file + " missing");
        return ingest(file.getFileName().toString(), Files.readAllBytes(file));
    }

    /** The events of trace text named {@code name} (the vm id is the name's base). */
    public static List<TraceEvent> ingest(String name, byte[] text) throws Exception {
        Path tmp = Files.createTempDirectory("trace").resolve(name);
        Files.write(tmp, text);
        MemorySinks sinks = new MemorySinks();
        new Ingest(IngestOptions.defaults(), sinks, sinks, ProgressListener.NONE).run(List.of(tmp.toString()));
        List<TraceEvent> events = sinks.events;
        List<DeadLetter> dead = sinks.deadLetters;
        assertTrue(dead.isEmpty(), name + ": dead letters " + dead);
        assertTrue(!events.isEmpty(), name + ": no events");
        return events;
    }

    /** A synthetic scenario's events (vm = scenario name). */
    public static List<TraceEvent> synth(String scenario, long events, long seed) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Synth.generate(scenario, events, seed, b);
        return ingest(scenario + ".trace", b.toByteArray());
    }

    /**
     * Several VMs, interleaved round-robin (each keeps its seq order): every real trace, the PAE-toggle scenario and
     * the MMIO-generation scenario — so both modelled seed profiles diverge somewhere.
     */
    public static List<TraceEvent> fleet() throws Exception {
        List<List<TraceEvent>> vms = new ArrayList<>();
        try (var files = Files.list(TRACES)) {
            for (Path p : files.sorted().toList()) {
                vms.add(ingest(p));
            }
        }
        vms.add(ingest(SCENARIOS.resolve("no_reset_on_pae_toggle.trace")));
        vms.add(synth("mmio-gen", 8000, 7));   // the generation reaches bit 8 (0x100) near event 7,600
        return interleave(vms);
    }

    public static List<TraceEvent> interleave(List<List<TraceEvent>> vms) {
        List<TraceEvent> out = new ArrayList<>();
        int max = vms.stream().mapToInt(List::size).max().orElse(0);
        for (int i = 0; i < max; i++) {
            for (List<TraceEvent> vm : vms) {
                if (i < vm.size()) {
                    out.add(vm.get(i));
                }
            }
        }
        return out;
    }

    /**
     * What {@code mmu-replay diff --profiles baseline,other} finds locally, per vm, as alert keys
     * ({@link #key}), for every pair (baseline, other) of {@code profiles}.
     */
    public static List<String> localDiff(List<String> profiles, ModelConfig config, List<TraceEvent> events) {
        TreeMap<String, List<TraceEvent>> byVm = new TreeMap<>();
        for (TraceEvent e : events) {
            byVm.computeIfAbsent(e.getVm(), k -> new ArrayList<>()).add(e);
        }
        List<String> out = new ArrayList<>();
        var resolved = ReplayOptions.of(profiles.toArray(String[]::new)).resolveProfiles();
        for (var vm : byVm.entrySet()) {
            for (int i = 1; i < resolved.size(); i++) {
                List<Divergence> ds = DivergenceDetector.diff(resolved.get(0), resolved.get(i), config,
                        vm.getValue().stream().map(ModelEvents::of).toList(), DivergenceDetector.DEFAULT_CONTEXT);
                for (Divergence d : ds) {
                    out.add(key(vm.getKey(), d.seq(), resolved.get(0).name(), resolved.get(i).name(),
                            d.kind() + "." + d.field(), d.left(), d.right(), d.leftEffect(), d.rightEffect(),
                            d.context()));
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** The comparable content of one divergence. */
    public static String key(String vm, long seq, String left, String right, String field, String lv, String rv,
                      String le, String re, List<Long> context) {
        return String.format("%s %08d %s vs %s %s: %s | %s [%s | %s] after %s", vm, seq, left, right, field, lv,
                rv, le, re, context);
    }

    public static String key(dev.mmureplay.avro.DivergenceAlert a) {
        return key(a.getVm(), a.getSeq(), a.getLeft(), a.getRight(), a.getField(), a.getLeftValue(),
                a.getRightValue(), a.getLeftEffects().get(0), a.getRightEffects().get(0), a.getContext());
    }

    /** A Flink MiniCluster for a test class: one TaskManager with {@code slots} slots. */
    public static org.apache.flink.test.junit5.MiniClusterExtension miniCluster(int slots) {
        return new org.apache.flink.test.junit5.MiniClusterExtension(
                new org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(slots)
                        .build());
    }
}
