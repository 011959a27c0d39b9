package dev.mmureplay.benchmarks;

import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.event.ModelEvent;
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

import java.util.concurrent.TimeUnit;

/**
 * Events per second of the MMU model on one thread ({@code MmuStateMachine.apply}, upstream profile, default
 * config, no detailed steps). Every result is in events/s: one JMH "operation" = one applied event.
 *
 * <ul>
 *   <li>{@link #realTraces}: the six real traces (4,612 events), parsed once at setup through the real parser,
 *       ingest and the Avro → model adapter; each invocation replays all of them, each into a <em>fresh</em> model
 *       (creation included — the traces are short, so this is the pessimistic, honest number).</li>
 *   <li>{@link #firstTouch}: a synthetic 4-level guest touching 262,144 distinct 4 KiB pages for the first time
 *       (walk + 4 elements + spte_requested + set_spte per page, a new shadow page every 512); each invocation
 *       replays the whole workload into a fresh model, so it measures a model growing to 262,144 live SPTEs.</li>
 * </ul>
 * Setup checks that each workload replays the explained path (no mismatch, nothing missed).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class ModelReplayBenchmark {

    /** Total events of the six real traces (checked at setup). */
    static final int REAL_EVENTS = 4612;

    @State(Scope.Benchmark)
    public static class RealTraces {
        ModelEvent[][] traces;

        @Setup(Level.Trial)
        public void load() {
            traces = Workloads.realTraces();
            int n = 0;
            for (int i = 0; i < traces.length; i++) {
                Workloads.requireExplained(Workloads.TRACES.get(i), traces[i]);
                n += traces[i].length;
            }
            if (n != REAL_EVENTS) {
                throw new IllegalStateException("real traces have " + n + " events, expected " + REAL_EVENTS);
            }
        }
    }

    /** Pages of the synthetic workload: 256 Ki first-touch 4 KiB faults (1 GiB of guest memory). */
    static final int PAGES = 262_144;
    /** Its events: the root get_page, 7 per page, the two upper get_pages, one get_page per 512 pages. */
    static final int FIRST_TOUCH_EVENTS = 1 + 7 * PAGES + 2 + PAGES / 512;

    @State(Scope.Benchmark)
    public static class FirstTouch {
        ModelEvent[] events;

        @Setup(Level.Trial)
        public void build() {
            events = Workloads.firstTouch(PAGES);
            if (events.length != FIRST_TOUCH_EVENTS) {
                throw new IllegalStateException(events.length + " events, expected " + FIRST_TOUCH_EVENTS);
            }
            Workloads.requireExplained("firstTouch", events);
        }
    }

    @Benchmark
    @OperationsPerInvocation(REAL_EVENTS)
    public void realTraces(RealTraces s, Blackhole bh) {
        for (ModelEvent[] trace : s.traces) {
            MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT);
            for (ModelEvent e : trace) {
                bh.consume(m.apply(e));
            }
            bh.consume(m);
        }
    }

    @Benchmark
    @OperationsPerInvocation(FIRST_TOUCH_EVENTS)
    public long firstTouch(FirstTouch s, Blackhole bh) {
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT);
        for (ModelEvent e : s.events) {
            bh.consume(m.apply(e));
        }
        return m.eventCount();
    }
}
