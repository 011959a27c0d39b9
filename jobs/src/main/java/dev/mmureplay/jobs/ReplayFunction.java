package dev.mmureplay.jobs;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.ReplayStep;
import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.divergence.Divergences;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.model.ModelEvents;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;

/**
 * Keyed by vm: one model per profile (left, right) in {@link ValueState} through {@link ModelSerializer}; each
 * {@link TraceEvent} is adapted with {@link ModelEvents}, applied to both models, and the two steps compared with
 * {@link Divergences#compare} — the same comparison as {@link DivergenceDetector} — emitting a
 * {@link DivergenceAlert} of kind {@code PROFILE_VS_PROFILE} for each difference.
 *
 * <p>Ordering: the input must already be in {@code seq} order per vm (one ordered source or one Kafka partition
 * per vm). The bounded reorder buffer (duplicates, gaps, {@code SEQ_GAP} alerts) comes in a later session.
 * The models run in detailed mode (predicted effects are compared), as {@code DivergenceDetector} does.
 */
public final class ReplayFunction extends KeyedProcessFunction<String, TraceEvent, DivergenceAlert> {

    private static final long serialVersionUID = 1L;

    private final String leftProfile;
    private final String rightProfile;
    private final int contextSize;

    private transient Profile left;
    private transient Profile right;
    private transient ModelConfig config;
    private transient ValueState<MmuStateMachine> leftModel;
    private transient ValueState<MmuStateMachine> rightModel;
    private transient ValueState<long[]> recent;

    /** Built-in profile names ({@link Profile#builtIn}); {@code context} = seqs of preceding events per alert. */
    public ReplayFunction(String leftProfile, String rightProfile, int context) {
        this.leftProfile = leftProfile;
        this.rightProfile = rightProfile;
        this.contextSize = context;
        Profile.builtIn(leftProfile);    // fail at job build time on an unknown name
        Profile.builtIn(rightProfile);
    }

    @Override
    public void open(OpenContext ctx) {
        left = Profile.builtIn(leftProfile);
        right = Profile.builtIn(rightProfile);
        config = ModelConfig.DEFAULT.withDetailedSteps(true);
        leftModel = getRuntimeContext().getState(new ValueStateDescriptor<>("model-left", ModelSerializer.INSTANCE));
        rightModel = getRuntimeContext().getState(new ValueStateDescriptor<>("model-right", ModelSerializer.INSTANCE));
        recent = getRuntimeContext().getState(new ValueStateDescriptor<long[]>("recent-seqs",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    public void processElement(TraceEvent event, Context ctx, Collector<DivergenceAlert> out) throws Exception {
        MmuStateMachine l = leftModel.value();
        if (l == null) {
            l = MmuStateMachine.create(left, config);
        }
        MmuStateMachine r = rightModel.value();
        if (r == null) {
            r = MmuStateMachine.create(right, config);
        }
        long[] seqs = recent.value();
        if (seqs == null) {
            seqs = new long[0];
        }
        ModelEvent e = ModelEvents.of(event);
        ReplayStep ls = l.apply(e);
        ReplayStep rs = r.apply(e);
        List<Long> context = new ArrayList<>(seqs.length);
        for (long s : seqs) {
            context.add(s);
        }
        Divergence d = Divergences.compare(e, ls, rs, context);
        if (d != null) {
            out.collect(alert(event.getVm(), d, l.digest(), r.digest()));
        }
        if (contextSize > 0) {
            int n = Math.min(seqs.length + 1, contextSize);
            long[] next = new long[n];
            System.arraycopy(seqs, seqs.length - (n - 1), next, 0, n - 1);
            next[n - 1] = e.seq();
            recent.update(next);
        }
        leftModel.update(l);
        rightModel.update(r);
    }

    private DivergenceAlert alert(String vm, Divergence d, long leftDigest, long rightDigest) {
        return DivergenceAlert.newBuilder()
                .setVm(vm)
                .setSeq(d.seq())
                .setKind(DivergenceKind.PROFILE_VS_PROFILE)
                .setLeft(leftProfile)
                .setRight(rightProfile)
                .setLeftEffects(List.of(d.leftEffect()))
                .setRightEffects(List.of(d.rightEffect()))
                .setField(d.kind() + "." + d.field())
                .setLeftValue(d.left())
                .setRightValue(d.right())
                .setLeftDigest(leftDigest)
                .setRightDigest(rightDigest)
                .setContext(new ArrayList<>(d.context()))
                .setDetail(d.event().name() + " (" + d.where() + ")")
                .build();
    }
}
