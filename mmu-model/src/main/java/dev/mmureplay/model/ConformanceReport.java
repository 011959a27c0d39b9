package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a {@link Conformance} run. Immutable.
 *
 * @param name            trace name
 * @param events          events applied
 * @param kinds           counters per effect kind (enum order)
 * @param mismatches      the first mismatch examples
 * @param missedExamples  the first predictions that never appeared
 * @param missed          total predictions that never appeared
 * @param digest          the model's state digest at the end
 */
public record ConformanceReport(String name, long events, Map<EventKind, KindCounts> kinds, List<Example> mismatches,
                                List<Example> missedExamples, long missed, long digest) {

    static final int EFFECTS = 0;
    static final int EXPLAINED = 1;
    static final int MISMATCHED = 2;
    static final int LEARNED = 3;
    static final int UNMODELLED = 4;
    static final int MISSED = 5;
    static final int COUNTERS = 6;

    public ConformanceReport {
        Map<EventKind, KindCounts> m = new EnumMap<>(EventKind.class);
        m.putAll(kinds);
        kinds = Collections.unmodifiableMap(m);
        mismatches = List.copyOf(mismatches);
        missedExamples = List.copyOf(missedExamples);
    }

    /**
     * Counters of one effect kind.
     *
     * @param effects    recorded effects of this kind
     * @param explained  exactly predicted (every EXACT field equal)
     * @param mismatched differing or unpredicted
     * @param learned    not predictable from the trace, adopted
     * @param unmodelled of a kind the model does not predict
     * @param missed     predicted but never recorded
     */
    public record KindCounts(long effects, long explained, long mismatched, long learned, long unmodelled,
                             long missed) {
    }

    /**
     * One example: the recorded effect (null for a missed prediction), the prediction, the differing fields.
     *
     * @param seq       seq of the recorded effect (or of the event at which a prediction lapsed)
     * @param kind      effect kind
     * @param recorded  the recorded effect, or null
     * @param expected  the prediction, or null when nothing predicted it
     * @param diffs     the differing EXACT fields
     * @param note      explanation
     */
    public record Example(long seq, EventKind kind, ModelEvent recorded, ModelEvent expected, List<FieldDiff> diffs,
                          String note) {
        public Example {
            diffs = List.copyOf(diffs);
        }
    }

    private long sum(int which) {
        long s = 0;
        for (KindCounts c : kinds.values()) {
            s += switch (which) {
                case EFFECTS -> c.effects();
                case EXPLAINED -> c.explained();
                case MISMATCHED -> c.mismatched();
                case LEARNED -> c.learned();
                case UNMODELLED -> c.unmodelled();
                default -> c.missed();
            };
        }
        return s;
    }

    public long effects() {
        return sum(EFFECTS);
    }

    public long explained() {
        return sum(EXPLAINED);
    }

    public long mismatched() {
        return sum(MISMATCHED);
    }

    public long learned() {
        return sum(LEARNED);
    }

    public long unmodelled() {
        return sum(UNMODELLED);
    }

    /** explained / (effects − learned); 1.0 when there is nothing to explain. */
    public double explainedRatio() {
        long denom = effects() - learned();
        return denom <= 0 ? 1.0 : (double) explained() / denom;
    }

    /** Sums several reports (per-kind counters added, examples concatenated up to the limit). */
    public static ConformanceReport total(String name, List<ConformanceReport> reports) {
        Map<EventKind, KindCounts> m = new EnumMap<>(EventKind.class);
        List<Example> mis = new ArrayList<>();
        List<Example> missedEx = new ArrayList<>();
        long events = 0;
        long missed = 0;
        long digest = 0;
        for (ConformanceReport r : reports) {
            events += r.events();
            missed += r.missed();
            digest = digest * 31 + r.digest();
            for (Map.Entry<EventKind, KindCounts> e : r.kinds().entrySet()) {
                KindCounts a = m.get(e.getKey());
                KindCounts b = e.getValue();
                m.put(e.getKey(), a == null ? b : new KindCounts(a.effects() + b.effects(),
                        a.explained() + b.explained(), a.mismatched() + b.mismatched(), a.learned() + b.learned(),
                        a.unmodelled() + b.unmodelled(), a.missed() + b.missed()));
            }
            for (Example x : r.mismatches()) {
                if (mis.size() < Conformance.MAX_EXAMPLES) {
                    mis.add(x);
                }
            }
            for (Example x : r.missedExamples()) {
                if (missedEx.size() < Conformance.MAX_EXAMPLES) {
                    missedEx.add(x);
                }
            }
        }
        return new ConformanceReport(name, events, m, mis, missedEx, missed, digest);
    }

    /** A human-readable summary. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(name).append(": ").append(events).append(" events, ").append(effects()).append(" effects, ")
                .append(explained()).append(" explained, ").append(mismatched()).append(" mismatched, ")
                .append(learned()).append(" learned, ").append(unmodelled()).append(" unmodelled, ").append(missed)
                .append(" missed; explainedRatio ").append(String.format(java.util.Locale.ROOT, "%.4f",
                        explainedRatio())).append('\n');
        for (Map.Entry<EventKind, KindCounts> e : kinds.entrySet()) {
            KindCounts c = e.getValue();
            sb.append(String.format(java.util.Locale.ROOT, "  %-28s effects %6d explained %6d mismatched %5d "
                            + "learned %5d unmodelled %4d missed %4d%n", e.getKey().tracepoint(), c.effects(),
                    c.explained(), c.mismatched(), c.learned(), c.unmodelled(), c.missed()));
        }
        for (Example x : mismatches) {
            sb.append("  mismatch seq ").append(x.seq()).append(' ').append(x.kind().tracepoint()).append(": ")
                    .append(x.diffs().isEmpty() ? "" : x.diffs().toString()).append(x.note() == null ? ""
                            : " (" + x.note() + ")").append("\n    recorded ").append(x.recorded())
                    .append("\n    expected ").append(x.expected()).append('\n');
        }
        for (Example x : missedExamples) {
            sb.append("  missed at seq ").append(x.seq()).append(": ").append(x.expected()).append('\n');
        }
        return sb.toString();
    }

    /** One JSON object with at least effects, explained, mismatched, learned and explainedRatio. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"name\":").append(str(name)).append(",\"events\":").append(events).append(",\"effects\":")
                .append(effects()).append(",\"explained\":").append(explained()).append(",\"mismatched\":")
                .append(mismatched()).append(",\"learned\":").append(learned()).append(",\"unmodelled\":")
                .append(unmodelled()).append(",\"missed\":").append(missed).append(",\"explainedRatio\":")
                .append(String.format(java.util.Locale.ROOT, "%.6f", explainedRatio())).append(",\"digest\":")
                .append(str(Long.toHexString(digest))).append(",\"kinds\":{");
        boolean first = true;
        for (Map.Entry<EventKind, KindCounts> e : kinds.entrySet()) {
            KindCounts c = e.getValue();
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(str(e.getKey().tracepoint())).append(":{\"effects\":").append(c.effects())
                    .append(",\"explained\":").append(c.explained()).append(",\"mismatched\":").append(c.mismatched())
                    .append(",\"learned\":").append(c.learned()).append(",\"unmodelled\":").append(c.unmodelled())
                    .append(",\"missed\":").append(c.missed()).append('}');
        }
        sb.append("},\"mismatches\":[");
        first = true;
        for (Example x : mismatches) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append("{\"seq\":").append(x.seq()).append(",\"kind\":").append(str(x.kind().tracepoint()))
                    .append(",\"recorded\":").append(str(String.valueOf(x.recorded()))).append(",\"expected\":")
                    .append(str(String.valueOf(x.expected()))).append(",\"fields\":[");
            boolean f2 = true;
            for (FieldDiff d : x.diffs()) {
                if (!f2) {
                    sb.append(',');
                }
                f2 = false;
                sb.append("{\"field\":").append(str(d.field().fieldName())).append(",\"class\":")
                        .append(str(d.field().cls().name())).append(",\"expected\":").append(str(d.expected()))
                        .append(",\"recorded\":").append(str(d.actual())).append('}');
            }
            sb.append("],\"note\":").append(x.note() == null ? "null" : str(x.note())).append('}');
        }
        sb.append("]}");
        return sb.toString();
    }

    private static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
