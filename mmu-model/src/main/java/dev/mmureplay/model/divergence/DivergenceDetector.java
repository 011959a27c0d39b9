package dev.mmureplay.model.divergence;

import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.ReplayStep;
import dev.mmureplay.model.event.ModelEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * Two models of one VM — profile A (left) and profile B (right) — fed the same events; reports, per event, the
 * first difference of their steps ({@link Divergences#compare}). Deterministic; not thread-safe (one per VM).
 *
 * <pre>
 * DivergenceDetector d = new DivergenceDetector(Profile.UPSTREAM, Profile.of(Switch.NO_RESET_ON_PAE_TOGGLE),
 *         ModelConfig.DEFAULT, 3);
 * for (ModelEvent e : events) { Divergence x = d.apply(e); if (x != null) ... }
 * </pre>
 */
public final class DivergenceDetector {

    /** Preceding events reported with a divergence by default. */
    public static final int DEFAULT_CONTEXT = 3;

    private final MmuStateMachine left;
    private final MmuStateMachine right;
    private final SeqRing recent;
    private long divergences;

    /** Models for both profiles in detailed mode (predicted effects are compared), {@code context} seqs kept. */
    public DivergenceDetector(Profile a, Profile b, ModelConfig config, int context) {
        this(MmuStateMachine.create(a, config.withDetailedSteps(true)),
                MmuStateMachine.create(b, config.withDetailedSteps(true)), context);
    }

    /** Over existing models (both must be in detailed mode to compare predicted effects). */
    public DivergenceDetector(MmuStateMachine left, MmuStateMachine right, int context) {
        this.left = left;
        this.right = right;
        this.recent = new SeqRing(context);
    }

    /** Applies {@code e} to both models; the first difference of their steps, or null. */
    public Divergence apply(ModelEvent e) {
        ReplayStep l = left.apply(e);
        ReplayStep r = right.apply(e);
        Divergence d = Divergences.compare(e, l, r, context());
        if (d != null) {
            divergences++;
        }
        recent.add(e.seq());
        return d;
    }

    /** Every divergence of a whole event sequence, in order. */
    public static List<Divergence> diff(Profile a, Profile b, ModelConfig config, Iterable<ModelEvent> events,
                                        int context) {
        DivergenceDetector d = new DivergenceDetector(a, b, config, context);
        List<Divergence> out = new ArrayList<>();
        for (ModelEvent e : events) {
            Divergence x = d.apply(e);
            if (x != null) {
                out.add(x);
            }
        }
        return out;
    }

    /** Seqs of the last events applied, oldest first. */
    public List<Long> context() {
        return recent.toList();
    }

    public MmuStateMachine left() {
        return left;
    }

    public MmuStateMachine right() {
        return right;
    }

    /** Divergences reported so far. */
    public long divergences() {
        return divergences;
    }
}
