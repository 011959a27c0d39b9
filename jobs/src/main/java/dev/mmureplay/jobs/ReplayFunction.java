package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import dev.mmureplay.avro.Place;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.divergence.VmReplay;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import dev.mmureplay.replayer.report.Alerts;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The replay, keyed by vm: each event of a record (an {@link EventBatch}: consecutive events of the vm, one Flink
 * record) goes through the VM's {@link ReorderBuffer}, in batch order; every event it delivers (in dense
 * seq order) is decoded straight into a model event ({@link TraceEventDecoder}) and applied to the VM's {@link VmReplay} (one model per profile, plus the baseline's noise replica), and
 * each finding that is not noise becomes a {@link DivergenceAlert}. State: one {@link VmState} per vm through
 * {@link VmStateSerializer}.
 *
 * <p>Side outputs: {@link #DEAD_LETTERS} (late records, events the model cannot take), {@link #DIGESTS} (every
 * model's digest each {@code digestEvery} events and at the end), {@link #SUMMARIES} (per-VM totals at the end).
 * The end of a bounded input is the event-time timer at {@code Long.MAX_VALUE}, which fires on the final watermark:
 * it flushes the reorder buffer (declaring the remaining gaps) and emits final digests and the summary.
 *
 * <p>Deterministic: what is emitted for a vm depends only on that vm's records in arrival order per partition, not
 * on timing; the reorder bound counts records.
 */
public final class ReplayFunction extends KeyedProcessFunction<String, EventBatch, DivergenceAlert> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));
    public static final OutputTag<ReplayDigest> DIGESTS =
            new OutputTag<>("digests", new AvroTypeInfo<>(ReplayDigest.class));
    public static final OutputTag<VmSummary> SUMMARIES =
            new OutputTag<>("summaries", new AvroTypeInfo<>(VmSummary.class));

    /** The stage name of dead letters written here. */
    public static final String STAGE = "replay";

    private final ReplayOptions options;

    private transient List<Profile> profiles;
    private transient ModelConfig config;
    private transient ValueState<VmState> state;
    private transient TraceEventDecoder decoder;
    private transient TraceEventDecoder.Envelope envelope;
    private transient Metrics metrics;

    public ReplayFunction(ReplayOptions options) {
        this.options = options.validate();
    }

    @Override
    public void open(OpenContext ctx) {
        profiles = options.resolveProfiles();
        config = options.modelConfig();
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("vm", VmStateSerializer.INSTANCE));
        decoder = new TraceEventDecoder();
        envelope = new TraceEventDecoder.Envelope();
        metrics = new Metrics(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(EventBatch batch, Context ctx, Collector<DivergenceAlert> out) throws Exception {
        VmState st = state.value();
        if (st == null) {
            st = VmState.fresh(VmReplay.create(profiles, config, options.context(), options.noiseReplica()),
                    options.maxPending());
        }
        if (!st.timerSet) {
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
            st.timerSet = true;
        }
        int n = batch.size();
        st.records += n;
        metrics.records.inc(n);
        int depthBefore = st.reorder.depth();
        Apply apply = new Apply(st, ctx, out);
        for (int i = 0; i < n; i++) {
            EncodedEvent event = batch.event(i);
            if (event.seq() > st.reorder.next()) {
                event = event.compact();   // it will wait in the buffer: bytes of its own, not a slice of the batch
            }
            switch (st.reorder.offer(event.seq(), event, apply)) {
                case DUPLICATE -> metrics.duplicates.inc();
                case LATE -> {
                    metrics.late.inc();
                    ctx.output(DEAD_LETTERS, deadLetter(event, "late: seq " + event.seq() + " of vm "
                            + event.vm() + " arrived after its gap was declared (reorder bound "
                            + options.maxPending() + ")"));
                }
                default -> {
                }
            }
        }
        metrics.pending += st.reorder.depth() - depthBefore;
        metrics.lastVm(st, newestPendingNs(st));
        state.update(st);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<DivergenceAlert> out) throws Exception {
        VmState st = state.value();
        if (st == null) {
            return;
        }
        int depthBefore = st.reorder.depth();
        st.reorder.flush(new Apply(st, ctx, out));
        metrics.pending -= depthBefore;
        emitDigests(st, ctx.getCurrentKey(), st.reorder.next() - 1, true, ctx);
        ctx.output(SUMMARIES, summary(ctx.getCurrentKey(), st));
        state.update(st);
    }

    /** Applies delivered events and declares gaps for one vm. */
    private final class Apply implements ReorderBuffer.Output<EncodedEvent> {
        final VmState st;
        final Context ctx;
        final Collector<DivergenceAlert> out;

        Apply(VmState st, Context ctx, Collector<DivergenceAlert> out) {
            this.st = st;
            this.ctx = ctx;
            this.out = out;
        }

        @Override
        public void deliver(long seq, EncodedEvent event) {
            ModelEvent e;
            try {
                e = decoder.decodeEvent(event.buffer(), event.offset(), event.offset() + event.length(), envelope);
            } catch (RuntimeException ex) {   // checked at the source; only what ModelEvents.of refuses
                ctx.output(DEAD_LETTERS, deadLetter(event, "the model cannot take this event: " + ex.getMessage()));
                return;
            }
            List<VmReplay.Finding> findings = st.replay.apply(e);
            metrics.steps.inc();
            st.lastTimestampNs = envelope.timestampNs;
            for (VmReplay.Finding f : findings) {
                if (f.noise()) {
                    metrics.noise.inc();
                    continue;
                }
                DivergenceAlert a = alert(event.vm(), f);
                st.count(a.getKind().name(), a.getLeft() + " vs " + a.getRight());
                metrics.divergence(a.getKind().name(), a.getLeft() + " vs " + a.getRight());
                out.collect(a);
            }
            if (st.replay.events() % options.digestEvery() == 0) {
                emitDigests(st, event.vm(), seq, false, ctx);
            }
        }

        @Override
        public void gap(long from, long to) {
            String vm = (String) ctx.getCurrentKey();
            MmuStateMachine base = st.replay.model(0);
            DivergenceAlert a = DivergenceAlert.newBuilder()
                    .setVm(vm)
                    .setSeq(from)
                    .setKind(DivergenceKind.SEQ_GAP)
                    .setLeft("expected")
                    .setRight("received")
                    .setLeftEffects(List.of())
                    .setRightEffects(List.of())
                    .setField("seq")
                    .setLeftValue(Long.toString(from))
                    .setRightValue(Long.toString(to + 1))
                    .setLeftDigest(base.digest())
                    .setRightDigest(base.digest())
                    .setContext(new ArrayList<>(st.replay.context()))
                    .setDetail("seqs " + from + ".." + to + " never arrived (" + (to - from + 1) + " missing); "
                            + "replay went on at seq " + (to + 1))
                    .build();
            st.count(DivergenceKind.SEQ_GAP.name(), "expected vs received");
            metrics.gaps.inc();
            metrics.divergence(DivergenceKind.SEQ_GAP.name(), "expected vs received");
            out.collect(a);
        }
    }

    /** Every model's digest after the event {@code seq} (the last applied: -1 before any). */
    private void emitDigests(VmState st, Object vm, long seq, boolean atEnd, Context ctx) {
        if (!atEnd) {
            st.lastDigestAt = st.replay.events();
        }
        for (int i = 0; i < st.replay.modelCount(); i++) {
            MmuStateMachine m = st.replay.model(i);
            ctx.output(DIGESTS, ReplayDigest.newBuilder()
                    .setVm((String) vm)
                    .setProfile(m.profile().name())
                    .setSeq(seq)
                    .setEvents(st.replay.events())
                    .setDigest(m.digest())
                    .setAtEnd(atEnd)
                    .build());
        }
    }

    private static VmSummary summary(String vm, VmState st) {
        List<ReplayDigest> digests = new ArrayList<>();
        for (int i = 0; i < st.replay.modelCount(); i++) {
            MmuStateMachine m = st.replay.model(i);
            digests.add(new ReplayDigest(vm, m.profile().name(), st.reorder.next() - 1, st.replay.events(),
                    m.digest(), true));
        }
        return VmSummary.newBuilder()
                .setVm(vm)
                .setRecords(st.records)
                .setProcessed(st.replay.events())
                .setDuplicates(st.reorder.duplicates())
                .setLate(st.reorder.late())
                .setGaps(st.reorder.gapCount())
                .setMissingSeqs(st.reorder.missing())
                .setNoise(st.replay.noise())
                .setDivergencesByKind(new HashMap<>(st.byKind))
                .setDivergencesByPair(new HashMap<>(st.byPair))
                .setDigests(digests)
                .build();
    }

    /** The alert of one finding (the same record {@code diff} writes: {@link Alerts#of}). */
    static DivergenceAlert alert(String vm, VmReplay.Finding f) {
        DivergenceKind kind = switch (f.kind()) {
            case PROFILE_VS_PROFILE -> DivergenceKind.PROFILE_VS_PROFILE;
            case MODEL_VS_RECORDING -> DivergenceKind.MODEL_VS_RECORDING;
            case REPLAY_VS_REPLAY -> DivergenceKind.REPLAY_VS_REPLAY;
        };
        return Alerts.of(vm, kind, f.divergence(), f.left(), f.right(), f.leftDigest(), f.rightDigest());
    }

    /** The timestamp of the newest event waiting in the vm's reorder buffer, or Long.MIN_VALUE when none waits. */
    private long newestPendingNs(VmState st) {
        var p = st.reorder.pending();
        if (p.isEmpty()) {
            return Long.MIN_VALUE;
        }
        EncodedEvent e = p.lastEntry().getValue();
        TraceEventDecoder.Envelope head = new TraceEventDecoder.Envelope();
        decoder.head(e.buffer(), e.offset(), e.offset() + e.length(), head);
        return head.timestampNs;
    }

    /** The dead letter of an event, placed where ingest read it (origin:line), with its single-object bytes. */
    private DeadLetter deadLetter(EncodedEvent event, String reason) {
        Place.Builder place = Place.newBuilder().setOrigin(event.vm() + "@" + event.seq());
        TraceEventDecoder.Envelope where = new TraceEventDecoder.Envelope();
        try {
            decoder.decode(event.buffer(), event.offset(), event.offset() + event.length(), where);
            place.setOrigin(where.origin + ":" + where.line).setLine(where.line);
        } catch (RuntimeException undecodable) {
            // the place stays vm@seq
        }
        return DeadLetter.newBuilder()
                .setPlace(place.build())
                .setRaw(ByteBuffer.wrap(event.singleObject()))
                .setReason(reason)
                .setStage(STAGE)
                .build();
    }

    /** The function's metrics (Flink metric system; the Prometheus reporter exports them on clusters). */
    private static final class Metrics {
        final MetricGroup group;
        final Counter records;
        final Counter steps;
        final Counter duplicates;
        final Counter late;
        final Counter gaps;
        final Counter noise;
        final Map<String, Counter> divergences = new HashMap<>();
        /** Records waiting in this task's reorder buffers (all its vms). */
        long pending;
        /** Shadow pages of the last vm's baseline model (state-size indicator) and its reorder lag. */
        long modelPages;
        long lagNs;

        Metrics(MetricGroup g) {
            group = g.addGroup("mmureplay");
            records = group.counter("recordsIn");
            steps = group.counter("steps");
            duplicates = group.counter("duplicatesDropped");
            late = group.counter("lateRecords");
            gaps = group.counter("seqGaps");
            noise = group.counter("noise");
            group.gauge("reorderBufferDepth", () -> pending);
            group.gauge("modelShadowPages", () -> modelPages);
            group.gauge("eventTimeLagNs", () -> lagNs);
        }

        void divergence(String kind, String pair) {
            divergences.computeIfAbsent(kind + "\u0000" + pair,
                    k -> group.addGroup("kind", kind).addGroup("pair", pair).counter("divergences")).inc();
        }

        void lastVm(VmState st, long newestPendingNs) {
            modelPages = st.replay.model(0).mmu().usedPages();
            lagNs = newestPendingNs == Long.MIN_VALUE || st.lastTimestampNs == Long.MIN_VALUE ? 0
                    : Math.max(0, newestPendingNs - st.lastTimestampNs);
        }
    }
}
