package dev.mmureplay.benchmarks;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.HostSettings;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.divergence.VmReplay;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.parse.TraceInput;
import dev.mmureplay.replayer.synth.Synth;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Nanoseconds per event of what the replay job's {@code ReplayFunction} does per event on one thread:
 * {@link VmReplay#apply} with the bench's default options (profiles upstream, no-reset-on-pae-toggle,
 * mmio-gen-bit11; host {@code mmioCaching=true}; detailed steps; the baseline's noise replica; context 3). One JMH
 * operation = one event applied to the whole VmReplay (3 models + replica + comparisons).
 *
 * <ul>
 *   <li>{@link #synthScale}: one VM's synth {@code scale} trace ({@value #SCALE_EVENTS} events, seed 1), made and
 *       ingested with the product's tools and converted to {@link ModelEvent}s once at setup; each invocation
 *       replays it into a fresh VmReplay.</li>
 *   <li>{@link #synthMmioGen}: a synth {@code mmio-gen} VM ({@value #MMIO_GEN_EVENTS} events, seed 7), on which
 *       the profiles diverge (~0.24 findings per event): the findings path (digests, rendering, context).</li>
 *   <li>{@link #realTraces}: the six real traces (4,612 events), each into a fresh VmReplay per invocation.</li>
 *   <li>{@link #digests}: the three models' state digests after the synth scale VM (µs per set of digests).</li>
 * </ul>
 * Setup prints the number of findings and a fingerprint of them and of every model's final digest, so two builds
 * can be checked to replay identically.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class VmReplayBenchmark {

    /** The profiles the replay bench (and so the job) runs by default, baseline first. */
    static final List<String> PROFILES = List.of("upstream", "no-reset-on-pae-toggle", "mmio-gen-bit11");
    /** Events of the synth scale trace. */
    static final int SCALE_EVENTS = 300_000;
    /** Seqs of context carried by each finding (the job's default). */
    static final int CONTEXT = 3;

    static List<Profile> profiles() {
        List<Profile> out = new ArrayList<>();
        for (String p : PROFILES) {
            out.add(Profile.builtIn(p));
        }
        return out;
    }

    static ModelConfig config() {
        return HostSettings.apply(ModelConfig.DEFAULT, Map.of("mmioCaching", "true"));
    }

    static VmReplay fresh(List<Profile> profiles, ModelConfig config) {
        return VmReplay.create(profiles, config, CONTEXT, true);
    }

    /** One synth {@code scenario} VM through the real ingest and the Avro → model adapter. */
    static ModelEvent[] synth(String scenario, int events, long seed) {
        ByteArrayOutputStream text = new ByteArrayOutputStream(events * 120);
        Synth.generate(scenario, events, seed, text);
        List<ModelEvent> out = new ArrayList<>(events);
        EventSink sink = new EventSink() {
            @Override
            public void accept(TraceEvent e) {
                out.add(ModelEvents.of(e));
            }

            @Override
            public void close() {
            }
        };
        DeadLetterSink dead = new DeadLetterSink() {
            @Override
            public void accept(DeadLetter d) {
                throw new IllegalStateException("synth " + scenario + ": unexpected dead letter " + d.getReason());
            }

            @Override
            public void close() {
            }
        };
        try (TraceInput input = TraceInput.of(scenario, new ByteArrayInputStream(text.toByteArray()), text.size())) {
            new Ingest(IngestOptions.defaults().withVm(scenario + "-0"), sink, dead, ProgressListener.NONE)
                    .ingest(input);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out.toArray(ModelEvent[]::new);
    }

    /** Replays {@code trace} into a fresh VmReplay: {findings, a fingerprint of the findings and final digests}. */
    static long[] fingerprint(ModelEvent[] trace, List<Profile> profiles, ModelConfig config) {
        VmReplay r = fresh(profiles, config);
        long findings = 0;
        long h = 17;
        for (ModelEvent e : trace) {
            for (VmReplay.Finding f : r.apply(e)) {
                findings++;
                // the record's text (names, digests, noise, the divergence's one-line form) and the effects' text
                h = 31 * h + (f + " " + f.divergence().event() + " " + f.divergence().leftEffect() + " | "
                        + f.divergence().rightEffect()).hashCode();
            }
        }
        for (int i = 0; i < r.modelCount(); i++) {
            h = 31 * h + r.model(i).digest();
        }
        return new long[] {findings, h};
    }

    @State(Scope.Benchmark)
    public static class Scale {
        ModelEvent[] events;
        List<Profile> profiles;
        ModelConfig config;

        @Setup(Level.Trial)
        public void build() {
            events = synth("scale", SCALE_EVENTS, 1);
            if (events.length != SCALE_EVENTS) {
                throw new IllegalStateException(events.length + " events, expected " + SCALE_EVENTS);
            }
            profiles = profiles();
            config = config();
            long[] fp = fingerprint(events, profiles, config);
            System.err.println("synth scale: " + fp[0] + " findings, fingerprint " + Long.toHexString(fp[1]));
        }
    }

    /** Events of the synth mmio-gen trace. */
    static final int MMIO_GEN_EVENTS = 100_000;

    /** A VM on which the profiles diverge: one finding per ~4 events (digests, rendering, context). */
    @State(Scope.Benchmark)
    public static class MmioGen {
        ModelEvent[] events;
        List<Profile> profiles;
        ModelConfig config;

        @Setup(Level.Trial)
        public void build() {
            events = synth("mmio-gen", MMIO_GEN_EVENTS, 7);
            if (events.length != MMIO_GEN_EVENTS) {
                throw new IllegalStateException(events.length + " events, expected " + MMIO_GEN_EVENTS);
            }
            profiles = profiles();
            config = config();
            long[] fp = fingerprint(events, profiles, config);
            System.err.println("synth mmio-gen: " + fp[0] + " findings, fingerprint " + Long.toHexString(fp[1]));
        }
    }

    @State(Scope.Benchmark)
    public static class RealTraces {
        ModelEvent[][] traces;
        List<Profile> profiles;
        ModelConfig config;

        @Setup(Level.Trial)
        public void load() {
            traces = Workloads.realTraces();
            profiles = profiles();
            config = config();
            int n = 0;
            long findings = 0;
            long h = 17;
            for (ModelEvent[] t : traces) {
                n += t.length;
                long[] fp = fingerprint(t, profiles, config);
                findings += fp[0];
                h = 31 * h + fp[1];
            }
            if (n != ModelReplayBenchmark.REAL_EVENTS) {
                throw new IllegalStateException("real traces have " + n + " events, expected "
                        + ModelReplayBenchmark.REAL_EVENTS);
            }
            System.err.println("real traces: " + findings + " findings, fingerprint " + Long.toHexString(h));
        }
    }

    /** The synth scale VM replayed once: its models' state for {@link #digests}. */
    @State(Scope.Benchmark)
    public static class Replayed {
        VmReplay replay;

        @Setup(Level.Trial)
        public void replay() {
            replay = fresh(profiles(), config());
            for (ModelEvent e : synth("scale", SCALE_EVENTS, 1)) {
                replay.apply(e);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(SCALE_EVENTS)
    public long synthScale(Scale s, Blackhole bh) {
        VmReplay r = fresh(s.profiles, s.config);
        for (ModelEvent e : s.events) {
            bh.consume(r.apply(e));
        }
        return r.events();
    }

    @Benchmark
    @OperationsPerInvocation(MMIO_GEN_EVENTS)
    public long synthMmioGen(MmioGen s, Blackhole bh) {
        VmReplay r = fresh(s.profiles, s.config);
        for (ModelEvent e : s.events) {
            bh.consume(r.apply(e));
        }
        return r.events();
    }

    /**
     * Microseconds for every profile's state digest after the synth scale VM (what the job emits each
     * {@code digestEvery} events and attaches to each finding). One operation = the 3 models' digests.
     */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long digests(Replayed s) {
        long h = 0;
        for (int i = 0; i < s.replay.modelCount(); i++) {
            h += s.replay.model(i).digest();
        }
        return h;
    }

    @Benchmark
    @OperationsPerInvocation(ModelReplayBenchmark.REAL_EVENTS)
    public void realTraces(RealTraces s, Blackhole bh) {
        for (ModelEvent[] trace : s.traces) {
            VmReplay r = fresh(s.profiles, s.config);
            for (ModelEvent e : trace) {
                bh.consume(r.apply(e));
            }
            bh.consume(r);
        }
    }
}
