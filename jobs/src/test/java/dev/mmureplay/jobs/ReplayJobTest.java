package dev.mmureplay.jobs;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.model.ModelEvents;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The replay job on a MiniCluster (parallelism 2) finds exactly what {@link DivergenceDetector#diff} finds locally. */
class ReplayJobTest {

    static final int PARALLELISM = 2;

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(PARALLELISM)
                    .build());

    /** The comparable content of an alert / a local divergence: vm, seq, effect.field, values, effects, context. */
    static String line(String vm, long seq, String field, String left, String right, String le, String re,
                       List<Long> context) {
        return vm + " seq " + seq + " " + field + ": " + left + " | " + right + " [" + le + " | " + re + "] after "
                + context;
    }

    static List<String> local(String left, String right, List<TraceEvent> events) {
        List<String> out = new ArrayList<>();
        List<String> vms = events.stream().map(TraceEvent::getVm).distinct().sorted().toList();
        for (String vm : vms) {
            List<ModelEvent> mine = events.stream().filter(e -> e.getVm().equals(vm)).map(ModelEvents::of).toList();
            DivergenceDetector det = new DivergenceDetector(Profile.builtIn(left), Profile.builtIn(right),
                    ModelConfig.DEFAULT, DivergenceDetector.DEFAULT_CONTEXT);
            List<Divergence> all = new ArrayList<>();
            for (ModelEvent e : mine) {
                Divergence d = det.apply(e);
                if (d != null) {
                    all.add(d);
                    out.add(line(vm, d.seq(), d.kind() + "." + d.field(), d.left(), d.right(), d.leftEffect(),
                            d.rightEffect(), d.context()) + " digests " + det.left().digest() + "/"
                            + det.right().digest());
                }
            }
            // the library's own entry point agrees with the detector loop above
            assertEquals(all, DivergenceDetector.diff(Profile.builtIn(left), Profile.builtIn(right),
                    ModelConfig.DEFAULT, mine, DivergenceDetector.DEFAULT_CONTEXT));
        }
        return out;
    }

    static List<String> onFlink(String left, String right, List<TraceEvent> events) throws Exception {
        return onFlink(left, right, events, false);
    }

    /**
     * With {@code failOnce}: checkpoints every 30 ms, events slowed down, and one induced failure after a
     * checkpoint completed — the models come back from the checkpoint through {@link ModelSerializer}.
     */
    static List<String> onFlink(String left, String right, List<TraceEvent> events, boolean failOnce)
            throws Exception {
        Configuration conf = new Configuration();
        if (failOnce) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(10));
        }
        conf.set(PipelineOptions.GENERIC_TYPES, false);   // anything falling back to Kryo fails the job
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        DataStream<TraceEvent> source = ReplayJob.fromEvents(env, events);
        if (failOnce) {
            env.enableCheckpointing(30);
            // parallelism 1 like the source: a rebalance to 2 subtasks would reorder a vm's events (no reorder
            // buffer yet)
            source = source.map(new FailOnceAfterCheckpoint()).returns(new AvroTypeInfo<>(TraceEvent.class))
                    .setParallelism(1);
        }
        List<DivergenceAlert> alerts = ReplayJob.collect(ReplayJob.alerts(source, left, right));
        alerts.sort(Comparator.comparing(DivergenceAlert::getVm).thenComparingLong(DivergenceAlert::getSeq));
        List<String> out = new ArrayList<>();
        for (DivergenceAlert a : alerts) {
            assertEquals(DivergenceKind.PROFILE_VS_PROFILE, a.getKind());
            assertEquals(left, a.getLeft());
            assertEquals(right, a.getRight());
            out.add(line(a.getVm(), a.getSeq(), a.getField(), a.getLeftValue(), a.getRightValue(),
                    a.getLeftEffects().get(0), a.getRightEffects().get(0), a.getContext()) + " digests "
                    + a.getLeftDigest() + "/" + a.getRightDigest());
        }
        return out;
    }

    /** Two VMs (keys) with the same events, interleaved in one stream: each keeps its seq order. */
    static List<TraceEvent> twoVms(List<TraceEvent> events) {
        List<TraceEvent> out = new ArrayList<>();
        for (TraceEvent e : events) {
            TraceEvent a = TraceEvent.newBuilder(e).setVm("vm-a").build();
            TraceEvent b = TraceEvent.newBuilder(e).setVm("vm-b").build();
            out.add(a);
            out.add(b);
        }
        return out;
    }

    @Test
    void paeToggleScenarioDivergesExactlyAsLocally() throws Exception {
        List<TraceEvent> events = twoVms(TestTraces.ingest(
                TestTraces.SCENARIOS.resolve("no_reset_on_pae_toggle.trace")));
        List<String> expected = local("upstream", "no-reset-on-pae-toggle", events);
        assertFalse(expected.isEmpty(), "the scenario diverges locally");
        System.out.println(String.join("\n", expected));
        assertEquals(expected, onFlink("upstream", "no-reset-on-pae-toggle", events));
    }

    @Test
    void upstreamVsUpstreamFindsNothingOnARealTrace() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_many_pages.trace"));
        assertEquals(List.of(), local("upstream", "upstream", events));
        assertEquals(List.of(), onFlink("upstream", "upstream", events));
    }

    @Test
    void failureAfterACheckpointRestoresTheModelsExactly() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.SCENARIOS.resolve("no_reset_on_pae_toggle.trace"));
        List<String> expected = local("upstream", "no-reset-on-pae-toggle", events);
        FailOnceAfterCheckpoint.FAILED.set(false);
        assertEquals(expected, onFlink("upstream", "no-reset-on-pae-toggle", events, true),
                "no alert lost or duplicated, same digests");
        assertTrue(FailOnceAfterCheckpoint.FAILED.get(), "the failure was induced");
        // before the divergence at seq 7: its alert came from models restored from the checkpoint
        assertTrue(FailOnceAfterCheckpoint.failedAtSeq >= 3 && FailOnceAfterCheckpoint.failedAtSeq <= 7,
                "failed at seq " + FailOnceAfterCheckpoint.failedAtSeq);
    }

    /** Slows events down and fails once, from the 4th event on, after a checkpoint holding >= 3 events completed. */
    static final class FailOnceAfterCheckpoint extends RichMapFunction<TraceEvent, TraceEvent>
            implements CheckpointListener {
        static final AtomicBoolean FAILED = new AtomicBoolean();
        static volatile long failedAtSeq = -1;
        private transient volatile int seenAtCheckpoint;
        private transient volatile int seen;

        @Override
        public TraceEvent map(TraceEvent e) throws Exception {
            // slow from the 4th event on, so a checkpoint completes before the divergence at seq 7
            Thread.sleep(seen >= 3 && !FAILED.get() ? 200 : 10);
            // fail only once a completed checkpoint holds models that applied >= 3 events (aligned checkpoints:
            // the events before the barrier reached the replay function first)
            if (++seen >= 4 && seenAtCheckpoint >= 3 && FAILED.compareAndSet(false, true)) {
                failedAtSeq = e.getSeq();
                throw new IllegalStateException("induced failure after a checkpoint, before seq " + e.getSeq());
            }
            return e;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            seenAtCheckpoint = Math.max(seenAtCheckpoint, seen);
        }
    }
}
