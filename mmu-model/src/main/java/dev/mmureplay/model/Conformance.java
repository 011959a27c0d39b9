package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Replays one recorded trace (one VM) through a fresh {@link MmuStateMachine} and tallies how well the model
 * explains the recorded effects: per effect kind, how many were exactly predicted, mismatched, learned (not
 * predictable from the trace) or of a kind the model does not predict; predictions the recording never showed
 * (missed); the first mismatch examples with their seq and the differing fields.
 *
 * <pre>
 * Conformance c = new Conformance("long_user_basic", Profile.UPSTREAM, ModelConfig.DEFAULT);
 * for (ModelEvent e : events) c.accept(e);
 * ConformanceReport r = c.report();   // r.explainedRatio() = explained / (effects - learned)
 * </pre>
 */
public final class Conformance {

    /** Mismatch and missed examples kept per report. */
    public static final int MAX_EXAMPLES = 20;

    private final String name;
    private final MmuStateMachine machine;
    private final Map<EventKind, long[]> perKind = new EnumMap<>(EventKind.class);
    private final List<ConformanceReport.Example> mismatches = new ArrayList<>();
    private final List<ConformanceReport.Example> missedExamples = new ArrayList<>();
    private long events;
    private long missed;

    public Conformance(String name, Profile profile, ModelConfig config) {
        this.name = name;
        this.machine = MmuStateMachine.create(profile, config);
    }

    public Conformance(String name) {
        this(name, Profile.UPSTREAM, ModelConfig.DEFAULT);
    }

    public MmuStateMachine machine() {
        return machine;
    }

    /** Applies one event (in seq order) and tallies its verdict. */
    public ReplayStep accept(ModelEvent e) {
        events++;
        ReplayStep step = machine.apply(e);
        // a stimulus kind answering a prediction (kvm_userspace_exit after a fault the model ends in -EFAULT) is
        // tallied as an effect; every other stimulus step is STIMULUS / CONTEXT
        if (e.kind().isEffect() || step.isEffectVerdict()) {
            long[] c = perKind.computeIfAbsent(e.kind(), k -> new long[ConformanceReport.COUNTERS]);
            c[ConformanceReport.EFFECTS]++;
            switch (step.outcome()) {
                case EXPLAINED -> c[ConformanceReport.EXPLAINED]++;
                case LEARNED -> c[ConformanceReport.LEARNED]++;
                case UNMODELLED -> c[ConformanceReport.UNMODELLED]++;
                default -> {
                    c[ConformanceReport.MISMATCHED]++;
                    if (mismatches.size() < MAX_EXAMPLES) {
                        mismatches.add(new ConformanceReport.Example(e.seq(), e.kind(), e, step.expected(),
                                step.diffs(), step.note()));
                    }
                }
            }
        }
        for (ModelEvent m : step.missed()) {
            missed++;
            long[] c = perKind.computeIfAbsent(m.kind(), k -> new long[ConformanceReport.COUNTERS]);
            c[ConformanceReport.MISSED]++;
            if (missedExamples.size() < MAX_EXAMPLES) {
                missedExamples.add(new ConformanceReport.Example(e.seq(), m.kind(), null, m, List.of(),
                        "predicted, never recorded (lapsed at seq " + e.seq() + ")"));
            }
        }
        return step;
    }

    /** Applies every event. */
    public Conformance acceptAll(Iterable<? extends ModelEvent> events) {
        for (ModelEvent e : events) {
            accept(e);
        }
        return this;
    }

    /** The tallies so far. */
    public ConformanceReport report() {
        Map<EventKind, ConformanceReport.KindCounts> kinds = new EnumMap<>(EventKind.class);
        for (Map.Entry<EventKind, long[]> en : perKind.entrySet()) {
            long[] c = en.getValue();
            kinds.put(en.getKey(), new ConformanceReport.KindCounts(c[ConformanceReport.EFFECTS],
                    c[ConformanceReport.EXPLAINED], c[ConformanceReport.MISMATCHED], c[ConformanceReport.LEARNED],
                    c[ConformanceReport.UNMODELLED], c[ConformanceReport.MISSED]));
        }
        return new ConformanceReport(name, events, kinds, mismatches, missedExamples, missed, machine.digest());
    }
}
