package dev.mmureplay.benchmarks;

import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.event.ModelEvent;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.concurrent.TimeUnit;

/**
 * Heap bytes per live SPTE of the MMU model after the synthetic first-touch workload (262,144 4 KiB pages mapped,
 * i.e. 262,144 live leaf SPTEs in 512 last-level shadow pages, plus the 3 upper pages' non-leaf SPTEs).
 *
 * <p>Two numbers, reported as JMH secondary results of one single-shot invocation per iteration:
 * <ul>
 *   <li>{@code heapBytesPerSpte}: measured — used heap after full GCs with the replayed model reachable, minus
 *       used heap after full GCs just before the model was created (the workload's event array exists in both),
 *       divided by the model's live SPTE count. Run with a compacting collector that honours System.gc (the
 *       fork uses ParallelGC).</li>
 *   <li>{@code accountedBytesPerSpte}: the model's own accounting ({@code MmuStateMachine.footprint()}: array sizes
 *       of shadow pages, hash/track maps, observed guest PTEs) divided by the same count — validated against the
 *       measured number.</li>
 * </ul>
 * The primary score (time of one whole replay of 1.8 M events into a fresh model) is a by-product.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class SpteFootprintBenchmark {

    @State(Scope.Benchmark)
    public static class Workload {
        ModelEvent[] events;

        @Setup(Level.Trial)
        public void build() {
            events = Workloads.firstTouch(ModelReplayBenchmark.PAGES);
            Workloads.requireExplained("firstTouch", events);
        }
    }

    /**
     * The secondary results. JMH adds EVENTS counters up over the measurement iterations, so each iteration
     * contributes its value divided by the number of measurement iterations: the printed score is the mean.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Bytes {
        public double heapBytesPerSpte;
        public double accountedBytesPerSpte;
        public double liveSptes;
        double share;

        @Setup(Level.Iteration)
        public void clear(BenchmarkParams params) {
            heapBytesPerSpte = 0;
            accountedBytesPerSpte = 0;
            liveSptes = 0;
            share = 1.0 / Math.max(1, params.getMeasurement().getCount());
        }
    }

    @Benchmark
    public long perLiveSpte(Workload w, Bytes out) {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long before = usedAfterGc(mem);
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT);
        for (ModelEvent e : w.events) {
            m.apply(e);
        }
        long after = usedAfterGc(mem);
        long[] fp = m.footprint();   // keeps m reachable through the second measurement
        out.liveSptes = fp[0] * out.share;
        out.heapBytesPerSpte = (double) (after - before) / fp[0] * out.share;
        out.accountedBytesPerSpte = (double) fp[1] / fp[0] * out.share;
        return fp[0];
    }

    static long usedAfterGc(MemoryMXBean mem) {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, mem.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
