package dev.mmureplay.model.divergence;

import dev.mmureplay.model.ReplayStep;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;

import java.util.List;

/**
 * Compares two profiles' {@link ReplayStep}s for the same event (pure functions; no state). The order of the
 * comparison, and so which difference is "first":
 * <ol>
 *   <li>{@code predicted}: the effects each side predicted while applying the event, pairwise in kernel order
 *       (needs {@code ModelConfig.detailedSteps}); a missing effect on one side is field {@code effect}, effects of
 *       different kinds field {@code kind}, else the first differing EXACT field ({@link EffectFields});</li>
 *   <li>{@code verdict}: for a recorded effect, the outcome (EXPLAINED / MISMATCH / LEARNED / UNMODELLED), then
 *       the EXACT fields of the prediction each side compared it with;</li>
 *   <li>{@code missed}: predictions that lapsed on this event, pairwise as in 1.</li>
 * </ol>
 * LEARNED and IGNORED fields never take part, so host choices (pfns, sptep addresses) cannot diverge.
 */
public final class Divergences {

    /** The text of "no such effect". */
    public static final String NONE = "-";

    private Divergences() {
    }

    /**
     * The first difference between {@code left} and {@code right}, or null when the steps agree.
     *
     * @param event   the event both models were fed
     * @param left    the left profile's step for it
     * @param right   the right profile's step for it
     * @param context seqs of the events just before it, oldest first
     */
    public static Divergence compare(ModelEvent event, ReplayStep left, ReplayStep right, List<Long> context) {
        if (left == right) {
            return null;   // the same step (the machines' shared constant steps: most stimuli): nothing can differ
        }
        long seq = event.seq();
        EventKind ek = event.kind();
        Divergence d = compareLists(seq, ek, "predicted", left.predicted(), right.predicted(), context);
        if (d != null) {
            return d;
        }
        if (left.outcome() != right.outcome()) {
            return new Divergence(seq, ek, ek.tracepoint(), "outcome", left.outcome().name(),
                    right.outcome().name(), render(left.expected()), render(right.expected()), "verdict", context);
        }
        if (left.expected() != null || right.expected() != null) {
            d = compareEffects(seq, ek, "verdict", left.expected(), right.expected(), context);
            if (d != null) {
                return d;
            }
        }
        return compareLists(seq, ek, "missed", left.missed(), right.missed(), context);
    }

    private static Divergence compareLists(long seq, EventKind ek, String where, List<ModelEvent> l,
                                           List<ModelEvent> r, List<Long> context) {
        if (l == r) {
            return null;   // the same list (both empty: List.of() is a singleton): no effect to compare
        }
        int n = Math.max(l.size(), r.size());
        for (int i = 0; i < n; i++) {
            Divergence d = compareEffects(seq, ek, where, i < l.size() ? l.get(i) : null,
                    i < r.size() ? r.get(i) : null, context);
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    /** The first difference between two effects (either may be null = absent), or null. */
    static Divergence compareEffects(long seq, EventKind ek, String where, ModelEvent l, ModelEvent r,
                                     List<Long> context) {
        if (l == null && r == null) {
            return null;
        }
        if (l == null || r == null) {
            ModelEvent present = l != null ? l : r;
            return new Divergence(seq, ek, present.kind().tracepoint(), "effect",
                    l == null ? NONE : l.kind().tracepoint(), r == null ? NONE : r.kind().tracepoint(),
                    render(l), render(r), where, context);
        }
        if (l.equals(r)) {
            return null;   // equal records: no EXACT field can differ (the common case; formatting costs ~100 ns)
        }
        if (l.kind() != r.kind()) {
            return new Divergence(seq, ek, l.kind().tracepoint(), "kind", l.kind().tracepoint(),
                    r.kind().tracepoint(), render(l), render(r), where, context);
        }
        List<EffectFields.Value> lv = EffectFields.exact(l);
        List<EffectFields.Value> rv = EffectFields.exact(r);
        for (int i = 0; i < lv.size(); i++) {   // same kind → same fields in the same order
            if (!lv.get(i).value().equals(rv.get(i).value())) {
                return new Divergence(seq, ek, l.kind().tracepoint(), lv.get(i).field().fieldName(),
                        lv.get(i).value(), rv.get(i).value(), render(l), render(r), where, context);
            }
        }
        return null;
    }

    /** An effect as {@code tracepoint field=value ...} over its EXACT fields; {@link #NONE} for null. */
    public static String render(ModelEvent e) {
        if (e == null) {
            return NONE;
        }
        StringBuilder sb = new StringBuilder(e.kind().tracepoint());
        for (EffectFields.Value v : EffectFields.exact(e)) {
            sb.append(' ').append(v.field().fieldName()).append('=').append(v.value());
        }
        return sb.toString();
    }
}
