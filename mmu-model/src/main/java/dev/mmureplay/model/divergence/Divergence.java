package dev.mmureplay.model.divergence;

import dev.mmureplay.model.event.EventKind;

import java.util.List;

/**
 * The first difference between two profiles' {@code ReplayStep}s for one event. Immutable.
 *
 * @param seq         seq of the event both models were fed (the stimulus, or the recorded effect being judged)
 * @param event       kind of that event
 * @param kind        tracepoint name of the effect where the sides first differ (the event's own tracepoint for
 *                    a verdict difference)
 * @param field       the first differing field: a {@link dev.mmureplay.model.Field} name (always EXACT),
 *                    {@code "effect"} when one side predicts an effect the other does not, {@code "kind"} when the
 *                    two predicted effects are of different kinds, {@code "outcome"} when the verdict on a recorded
 *                    effect differs
 * @param left        the left profile's value ({@code "-"} for "no such effect")
 * @param right       the right profile's value
 * @param leftEffect  the whole left effect as text, or {@code "-"}
 * @param rightEffect the whole right effect as text, or {@code "-"}
 * @param where       which part of the steps differed: {@code predicted}, {@code verdict} or {@code missed}
 * @param context     seqs of the events just before {@code seq}, oldest first
 */
public record Divergence(long seq, EventKind event, String kind, String field, String left, String right,
                         String leftEffect, String rightEffect, String where, List<Long> context) {

    public Divergence {
        context = List.copyOf(context);
    }

    /** The same divergence reported with {@code seqs} as its context. */
    public Divergence withContext(List<Long> seqs) {
        return new Divergence(seq, event, kind, field, left, right, leftEffect, rightEffect, where, seqs);
    }

    /** One line: {@code seq 12 kvm_mmu_get_page.created: new | existing (predicted; after 9,10,11)}. */
    @Override
    public String toString() {
        return "seq " + seq + " " + kind + "." + field + ": " + left + " | " + right + " (" + where
                + (context.isEmpty() ? "" : "; after " + context.toString().replaceAll("[\\[\\] ]", "")) + ")";
    }
}
