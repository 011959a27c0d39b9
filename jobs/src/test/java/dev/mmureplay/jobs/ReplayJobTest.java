package dev.mmureplay.jobs;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.Profile;
import dev.mmureplay.replayer.model.ModelEvents;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replay job on a MiniCluster: the same alerts as the local {@code diff}, whatever the parallelism, arrival
 * order, duplicates or an induced failure.
 */
class ReplayJobTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = TestTraces.miniCluster(4);

    static List<TraceEvent> fleet;
    static ReplayOptions options;

    @BeforeAll
    static void inputs() throws Exception {
        fleet = TestTraces.fleet();
        options = TestTraces.options();
    }

    static StreamExecutionEnvironment env(int parallelism) {
        Configuration conf = ReplayJob.configure(new Configuration());   // no Kryo, object reuse
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        return env;
    }

    static ReplayRun.Result run(int parallelism, List<TraceEvent> events, ReplayOptions o) throws Exception {
        StreamExecutionEnvironment env = env(parallelism);
        return ReplayRun.collect(env, ReplayJob.replay(ReplayJob.fromEvents(env, events), o), "test");
    }

    static List<String> keys(List<DivergenceAlert> alerts, DivergenceKind kind) {
        List<String> out = new ArrayList<>();
        for (DivergenceAlert a : alerts) {
            if (a.getKind() == kind) {
                out.add(TestTraces.key(a));
            }
        }
        out.sort(null);
        return out;
    }

    @Test
    void profileAlertsEqualTheLocalDiffOfEveryPair() throws Exception {
        List<String> expected = TestTraces.localDiff(TestTraces.PROFILES, options.modelConfig(), fleet);
        assertTrue(expected.stream().anyMatch(k -> k.contains("vs no-reset-on-pae-toggle")), "pae scenario diverges");
        assertTrue(expected.stream().anyMatch(k -> k.contains("vs mmio-gen-bit11")), "mmio scenario diverges");
        ReplayRun.Result r = run(2, fleet, options);
        assertEquals(expected, keys(r.alerts(), DivergenceKind.PROFILE_VS_PROFILE));
        assertTrue(r.deadLetters().isEmpty(), "no dead letters: " + r.deadLetters());
    }

    @Test
    void aPeriodicDigestIsTheStateAfterItsEventAndNamesThatEventsSeq() throws Exception {
        ReplayOptions every = options.withDigestEvery(100);
        ReplayRun.Result r = run(2, fleet, every);
        Profile base = every.resolveProfiles().get(0);
        int checked = 0;
        for (String vm : fleet.stream().map(TraceEvent::getVm).distinct().sorted().toList()) {
            List<TraceEvent> events = fleet.stream().filter(e -> e.getVm().equals(vm))
                    .sorted(java.util.Comparator.comparingLong(TraceEvent::getSeq)).toList();
            MmuStateMachine m = MmuStateMachine.create(base, every.modelConfig().withDetailedSteps(true));
            java.util.Map<Long, String> expected = new java.util.TreeMap<>();
            for (TraceEvent e : events) {
                m.apply(ModelEvents.of(e));
                if (m.eventCount() % 100 == 0) {
                    expected.put(m.eventCount(), e.getSeq() + " " + Long.toHexString(m.digest()));
                }
            }
            java.util.Map<Long, String> got = new java.util.TreeMap<>();
            for (ReplayDigest d : r.digests()) {
                if (d.getVm().equals(vm) && d.getProfile().equals(base.name()) && !d.getAtEnd()) {
                    got.put(d.getEvents(), d.getSeq() + " " + Long.toHexString(d.getDigest()));
                }
            }
            assertEquals(expected, got, vm);
            checked += got.size();
        }
        assertTrue(checked > 0, "some VM has 100 events");
    }

    @Test
    void finalDigestsAreThoseOfAPlainLocalReplay() throws Exception {
        ReplayRun.Result r = run(2, fleet, options);
        List<String> expected = new ArrayList<>();
        for (String vm : fleet.stream().map(TraceEvent::getVm).distinct().sorted().toList()) {
            for (Profile p : options.resolveProfiles()) {
                MmuStateMachine m = MmuStateMachine.create(p, options.modelConfig().withDetailedSteps(true));
                fleet.stream().filter(e -> e.getVm().equals(vm)).forEach(e -> m.apply(ModelEvents.of(e)));
                expected.add(vm + "/" + p.name() + " " + m.eventCount() + " " + Long.toHexString(m.digest()));
            }
        }
        expected.sort(null);
        List<String> got = new ArrayList<>();
        for (ReplayDigest d : r.finalDigests()) {
            got.add(d.getVm() + "/" + d.getProfile() + " " + d.getEvents() + " " + Long.toHexString(d.getDigest()));
        }
        got.sort(null);
        assertEquals(expected, got);
    }

    @Test
    void upstreamAgreesWithTheRecordingOnEveryRealTrace() throws Exception {
        List<TraceEvent> real = fleet.stream().filter(e -> e.getVm().startsWith("long_") || e.getVm()
                .startsWith("pae32") || e.getVm().startsWith("real_")).toList();
        ReplayRun.Result r = run(2, real, ReplayOptions.of("upstream", "no-reset-on-pae-toggle"));
        assertEquals(List.of(), r.alerts().stream().filter(a -> a.getKind() == DivergenceKind.MODEL_VS_RECORDING
                && a.getLeft().equals("upstream")).map(TestTraces::key).toList());
        assertEquals(0, r.summaries().stream().mapToLong(VmSummary::getNoise).sum(), "no noise: deterministic");
    }

    @Test
    void sameAlertsDigestsAndSummariesForParallelism1_2And4() throws Exception {
        ReplayRun.Result p1 = run(1, fleet, options);
        assertFalse(p1.alerts().isEmpty());
        for (int p : new int[] {2, 4}) {
            ReplayRun.Result other = run(p, fleet, options);
            assertEquals(p1.alerts(), other.alerts(), "alerts at parallelism " + p);
            assertEquals(p1.digests(), other.digests(), "digests at parallelism " + p);
            assertEquals(p1.summaries(), other.summaries(), "summaries at parallelism " + p);
        }
    }

    @Test
    void shuffledAndDuplicatedRecordsGiveTheSameAlertsAndAreCounted() throws Exception {
        ReplayRun.Result clean = run(2, fleet, options);
        List<TraceEvent> messy = new ArrayList<>(fleet);
        SplittableRandom rnd = new SplittableRandom(42);
        // swap neighbours within small windows (well inside the reorder bound) and repeat every 50th record
        for (int i = 0; i + 8 < messy.size(); i += 8) {
            int j = i + rnd.nextInt(8);
            TraceEvent t = messy.get(i);
            messy.set(i, messy.get(j));
            messy.set(j, t);
        }
        int dups = 0;
        for (int i = messy.size() - 1; i >= 0; i -= 50) {
            messy.add(i, messy.get(i));
            dups++;
        }
        ReplayRun.Result r = run(2, messy, options);
        assertEquals(clean.alerts(), r.alerts());
        assertEquals(clean.finalDigests(), r.finalDigests());
        long duplicates = r.summaries().stream().mapToLong(VmSummary::getDuplicates).sum();
        long processed = r.summaries().stream().mapToLong(VmSummary::getProcessed).sum();
        assertEquals(dups, duplicates);
        assertEquals(messy.size(), processed + duplicates, "input records = processed + duplicates dropped");
    }

    @Test
    void aRecordArrivingAfterItsGapWasDeclaredIsALateDeadLetterWithItsPlaceAndItsBytes() throws Exception {
        List<TraceEvent> pae = TestTraces.ingest(TestTraces.SCENARIOS.resolve("no_reset_on_pae_toggle.trace"));
        List<TraceEvent> late = new ArrayList<>(pae);
        List<TraceEvent> moved = late.stream().filter(e -> e.getSeq() == 3 || e.getSeq() == 4).toList();
        late.removeAll(moved);
        late.addAll(moved);   // seqs 3 and 4 come last, after the gap 3..4 was declared
        ReplayRun.Result r = run(1, late, options.withMaxPending(2));
        assertEquals(2, r.deadLetters().size(), r.deadLetters().toString());
        for (int i = 0; i < 2; i++) {
            dev.mmureplay.avro.DeadLetter d = r.deadLetters().get(i);
            TraceEvent original = moved.get(i);
            assertEquals(ReplayFunction.STAGE, d.getStage());
            assertTrue(d.getReason().startsWith("late: seq " + original.getSeq() + " of vm " + original.getVm()),
                    d.getReason());
            assertEquals(original.getSource().getOrigin() + ":" + original.getSource().getLine(),
                    d.getPlace().getOrigin());
            assertEquals(original.getSource().getLine(), d.getPlace().getLine());
            byte[] raw = new byte[d.getRaw().remaining()];
            d.getRaw().duplicate().get(raw);
            assertEquals(original, dev.mmureplay.schemas.AvroCodec.traceEvents().decode(raw),
                    "the dead letter carries the event exactly (single-object encoding)");
        }
        VmSummary s = r.summaries().get(0);
        assertEquals(2, s.getLate());
        assertEquals(late.size(), s.getProcessed() + s.getLate() + s.getDuplicates(),
                "records = processed + late dead letters + duplicates");
    }

    @Test
    void missingSeqsRaiseOneGapAlertAndTheReplayGoesOn() throws Exception {
        List<TraceEvent> pae = TestTraces.ingest(TestTraces.SCENARIOS.resolve("no_reset_on_pae_toggle.trace"));
        List<TraceEvent> holed = new ArrayList<>(pae);
        holed.removeIf(e -> e.getSeq() == 3 || e.getSeq() == 4);
        ReplayRun.Result r = run(1, holed, options.withMaxPending(2));
        List<DivergenceAlert> gaps = r.alerts().stream().filter(a -> a.getKind() == DivergenceKind.SEQ_GAP).toList();
        assertEquals(1, gaps.size(), gaps + " " + r.summaries() + " alerts " + r.alerts().size());
        assertEquals(3, gaps.get(0).getSeq());
        assertEquals("3", gaps.get(0).getLeftValue());
        assertEquals("5", gaps.get(0).getRightValue());
        VmSummary s = r.summaries().get(0);
        assertEquals(1, s.getGaps());
        assertEquals(2, s.getMissingSeqs());
        assertEquals(pae.size() - 2, s.getProcessed());
    }

    @Test
    void aFailureAfterACheckpointRestoresTheStateExactly() throws Exception {
        ReplayRun.Result clean = run(2, fleet, options);
        StreamExecutionEnvironment env = failOnceEnv();
        DataStream<Either<EventBatch, dev.mmureplay.avro.DeadLetter>> src = ReplayJob.fromEvents(env, fleet)
                .map(new FailOnceAfterCheckpoint(fleet.size() / 2)).returns(ReplayJob.INPUT_TYPE)
                .setParallelism(1);
        ReplayRun.Result r = ReplayRun.collect(env, ReplayJob.replay(src, options), "fail-once");
        assertTrue(FailOnceAfterCheckpoint.FAILED.get(), "the failure was induced");
        assertEquals(clean.alerts(), r.alerts(), "no alert lost or duplicated");
        assertEquals(clean.digests(), r.digests(), "same digests");
        assertEquals(clean.summaries(), r.summaries(), "same summaries");
    }

    @Test
    void aFailureAfterACheckpointRestoresAFileSourceInsideABlockExactly(@org.junit.jupiter.api.io.TempDir
                                                                       java.nio.file.Path dir) throws Exception {
        // the fleet's 8 VMs alternate event by event; each block is emitted VM by VM, in turns, and the checkpoint
        // falls inside a block: the restore must skip exactly the events emitted in that order
        java.nio.file.Path file = dir.resolve("fleet.avro");
        try (var sink = new dev.mmureplay.replayer.sink.AvroFileEventSink(file,
                dev.mmureplay.replayer.sink.AvroFileOptions.defaults().withSyncInterval(256 * 1024))) {
            for (TraceEvent e : fleet) {
                sink.accept(e);
            }
        }
        StreamExecutionEnvironment cleanEnv = env(2);
        ReplayRun.Result clean = ReplayRun.collect(cleanEnv,
                ReplayJob.replay(ReplayJob.fromAvroFiles(cleanEnv, List.of(file)), options), "file-clean");
        assertEquals(run(2, fleet, options).alerts(), clean.alerts(), "the file gives what the events give");

        StreamExecutionEnvironment env = failOnceEnv();
        DataStream<Either<EventBatch, dev.mmureplay.avro.DeadLetter>> src = ReplayJob.fromAvroFiles(env, List.of(file))
                .map(new FailOnceAfterCheckpoint(fleet.size() / 2)).returns(ReplayJob.INPUT_TYPE);
        ReplayRun.Result r = ReplayRun.collect(env, ReplayJob.replay(src, options), "file-fail-once");
        assertTrue(FailOnceAfterCheckpoint.FAILED.get(), "the failure was induced");
        assertEquals(clean.alerts(), r.alerts(), "no alert lost or duplicated");
        assertEquals(clean.digests(), r.digests(), "same digests");
        assertEquals(clean.summaries(), r.summaries(), "same summaries: no event read twice, none skipped");
    }

    /**
     * The environment of an induced-failure run: parallelism 2, checkpoints every 50 ms, two quick restarts, and
     * {@link FailOnceAfterCheckpoint} armed.
     */
    static StreamExecutionEnvironment failOnceEnv() {
        FailOnceAfterCheckpoint.FAILED.set(false);
        Configuration conf = ReplayJob.configure(new Configuration());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(10));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(50);
        return env;
    }

    /**
     * Passes records on and fails once past {@code failAfter} events, once a checkpoint holding more than half of
     * them has completed (records are held back until one has, by the events they hold): the restart restores from
     * it.
     */
    static final class FailOnceAfterCheckpoint
            extends RichMapFunction<Either<EventBatch, dev.mmureplay.avro.DeadLetter>,
            Either<EventBatch, dev.mmureplay.avro.DeadLetter>>
            implements CheckpointListener {
        static final AtomicBoolean FAILED = new AtomicBoolean();
        private final int failAfter;
        private transient volatile int seenAtCheckpoint;
        private transient int seen;

        FailOnceAfterCheckpoint(int failAfter) {
            this.failAfter = failAfter;
        }

        @Override
        public Either<EventBatch, dev.mmureplay.avro.DeadLetter> map(
                Either<EventBatch, dev.mmureplay.avro.DeadLetter> e) throws Exception {
            int events = e.isLeft() ? e.left().size() : 1;
            seen += events;
            if (!FAILED.get() && seen > failAfter / 2 && seenAtCheckpoint <= failAfter / 2) {
                // hold the stream back, a record at a time (barriers pass between records), about 1 ms per event
                // (a big batch must not rush the rest of the input past the checkpoint), until a checkpoint past the
                // first half has completed: however fast the job, the failure comes after it
                Thread.sleep(events);
            }
            if (seen > failAfter && seenAtCheckpoint > failAfter / 2 && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("induced failure after a checkpoint, at record " + seen);
            }
            return e;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            seenAtCheckpoint = Math.max(seenAtCheckpoint, seen);
        }
    }

    @Test
    void aCutAvroFileGivesItsEventsThenOneDeadLetterNamingTheFile(@org.junit.jupiter.api.io.TempDir
                                                                  java.nio.file.Path dir) throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_many_pages.trace"));
        java.nio.file.Path whole = dir.resolve("whole.avro");
        try (var sink = new dev.mmureplay.replayer.sink.AvroFileEventSink(whole,
                dev.mmureplay.replayer.sink.AvroFileOptions.defaults().withSyncInterval(8 * 1024)
                        .withCompression(dev.mmureplay.replayer.sink.AvroCompression.NONE))) {   // many blocks
            for (TraceEvent e : events) {
                sink.accept(e);
            }
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(whole);
        java.nio.file.Path cut = dir.resolve("cut.avro");
        java.nio.file.Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));
        java.nio.file.Path notAvro = dir.resolve("not.avro");
        java.nio.file.Files.writeString(notAvro, "# tracer: nop\n");

        StreamExecutionEnvironment env = env(2);
        ReplayRun.Result r = ReplayRun.collect(env, ReplayJob.replay(
                ReplayJob.fromAvroFiles(env, List.of(whole, cut, notAvro)), options), "files");
        assertEquals(2, r.deadLetters().size(), r.deadLetters().toString());
        assertTrue(r.deadLetters().stream().anyMatch(d -> d.getPlace().getOrigin().contains("cut.avro")
                && d.getReason().startsWith("cut short")), r.deadLetters().toString());
        assertTrue(r.deadLetters().stream().anyMatch(d -> d.getPlace().getOrigin().contains("not.avro")
                && d.getReason().contains("not an Avro object container file")), r.deadLetters().toString());
        // both files hold the same vm: the cut copy's events are duplicates of the whole file's
        VmSummary s = r.summaries().get(0);
        assertEquals(events.size(), s.getProcessed());
        assertTrue(s.getDuplicates() > 0 && s.getDuplicates() < events.size(), "some of the cut file was read");
    }
}
