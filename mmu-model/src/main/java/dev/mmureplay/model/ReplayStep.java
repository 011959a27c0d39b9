package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;

import java.util.List;

/**
 * What one {@link MmuStateMachine#apply(ModelEvent)} did. Immutable.
 *
 * <ul>
 *   <li>{@link Outcome#STIMULUS} / {@link Outcome#CONTEXT}: the event changed or bounded the state;
 *       {@link #predicted()} lists the effects the model now expects (detailed mode only).</li>
 *   <li>{@link Outcome#EXPLAINED}: a recorded effect whose EXACT fields all equal the prediction.</li>
 *   <li>{@link Outcome#MISMATCH}: a recorded effect that differs ({@link #diffs()}) or that nothing predicted
 *       ({@link #expected()} null).</li>
 *   <li>{@link Outcome#LEARNED}: a recorded effect the trace gives the model no way to predict (e.g. a prefetch of a
 *       guest PTE never observed); the model adopted it.</li>
 *   <li>{@link Outcome#UNMODELLED}: an effect kind this model does not predict (see {@link Field#UNMODELLED}).</li>
 * </ul>
 *
 * {@link #missed()} lists predictions that lapsed when this event arrived (the recording never showed them).
 *
 * @param outcome   the verdict
 * @param expected  the prediction a recorded effect was compared with (seq = -1), or null
 * @param diffs     differing EXACT fields (empty unless MISMATCH)
 * @param predicted effects predicted while applying this event (empty unless the machine is in detailed mode)
 * @param missed    predictions that lapsed without a recorded counterpart
 * @param note      a short explanation (what was learned, which rule fired), or null
 */
public record ReplayStep(Outcome outcome, ModelEvent expected, List<FieldDiff> diffs, List<ModelEvent> predicted,
                         List<ModelEvent> missed, String note) {

    /** The verdict of one step. */
    public enum Outcome { STIMULUS, CONTEXT, EXPLAINED, MISMATCH, LEARNED, UNMODELLED }

    static final ReplayStep STIMULUS = new ReplayStep(Outcome.STIMULUS, null, List.of(), List.of(), List.of(), null);
    static final ReplayStep CONTEXT = new ReplayStep(Outcome.CONTEXT, null, List.of(), List.of(), List.of(), null);
    static final ReplayStep EXPLAINED = new ReplayStep(Outcome.EXPLAINED, null, List.of(), List.of(), List.of(), null);
    static final ReplayStep UNMODELLED = new ReplayStep(Outcome.UNMODELLED, null, List.of(), List.of(), List.of(),
            null);

    public ReplayStep {
        diffs = List.copyOf(diffs);
        predicted = List.copyOf(predicted);
        missed = List.copyOf(missed);
    }

    public boolean isEffectVerdict() {
        return outcome == Outcome.EXPLAINED || outcome == Outcome.MISMATCH || outcome == Outcome.LEARNED
                || outcome == Outcome.UNMODELLED;
    }
}
