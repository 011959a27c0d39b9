package dev.mmureplay.replayer.report;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.replayer.json.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link DivergenceAlert} helpers shared by the report and the commands that write alerts: the report order, the
 * profile pair, the alert for a profile-vs-profile {@link Divergence}, and the {@code alerts.jsonl} form.
 */
public final class Alerts {

    /**
     * The report order: vm, seq, kind, left, right, then every other field (Avro's record order), so that any two
     * different alerts are ordered and the "first N" are the same whatever order the alerts arrived in.
     */
    public static final Comparator<DivergenceAlert> ORDER = Comparator
            .comparing(DivergenceAlert::getVm)
            .thenComparingLong(DivergenceAlert::getSeq)
            .thenComparing(Alerts::kind)
            .thenComparing(DivergenceAlert::getLeft)
            .thenComparing(DivergenceAlert::getRight)
            .thenComparing((a, b) -> a.compareTo(b));

    private Alerts() {
    }

    /** The alert's kind name ({@code UNKNOWN} when unset). */
    public static String kind(DivergenceAlert a) {
        return (a.getKind() == null ? DivergenceKind.UNKNOWN : a.getKind()).name();
    }

    /** {@code "left vs right"}, the key of {@link ReplaySummary#divergencesByPair()}. */
    public static String pair(DivergenceAlert a) {
        return pair(a.getLeft(), a.getRight());
    }

    /** {@code "left vs right"}. */
    public static String pair(String left, String right) {
        return left + " vs " + right;
    }

    /**
     * The alert for a divergence between two profiles' models of one VM: kind {@code PROFILE_VS_PROFILE},
     * {@code field} = effect tracepoint + "." + field (e.g. {@code kvm_mmu_get_page.outcome}), one effect per side,
     * {@code detail} = the stimulus kind and which part of the steps differed.
     *
     * @param leftDigest  the left model's {@code digest()} after the event
     * @param rightDigest the right model's {@code digest()} after the event
     */
    public static DivergenceAlert profileVsProfile(String vm, Divergence d, String left, String right,
                                                   long leftDigest, long rightDigest) {
        return of(vm, DivergenceKind.PROFILE_VS_PROFILE, d, left, right, leftDigest, rightDigest);
    }

    /** As {@link #profileVsProfile}, of any kind (model vs recording: right = "recording"; replay vs replay). */
    public static DivergenceAlert of(String vm, DivergenceKind kind, Divergence d, String left, String right,
                                     long leftDigest, long rightDigest) {
        return DivergenceAlert.newBuilder()
                .setVm(vm)
                .setSeq(d.seq())
                .setKind(kind)
                .setLeft(left)
                .setRight(right)
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

    /**
     * The alert as one JSON object with the schema's fields in schema order; absent optional fields are
     * {@code null}, the digests are 16-hex-digit strings (as in {@code summary.json}; a JSON number would lose
     * precision in JavaScript readers).
     */
    public static Map<String, Object> toJson(DivergenceAlert a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vm", a.getVm());
        m.put("seq", a.getSeq());
        m.put("kind", kind(a));
        m.put("left", a.getLeft());
        m.put("right", a.getRight());
        m.put("leftEffects", a.getLeftEffects());
        m.put("rightEffects", a.getRightEffects());
        m.put("field", a.getField());
        m.put("leftValue", a.getLeftValue());
        m.put("rightValue", a.getRightValue());
        m.put("leftDigest", hex(a.getLeftDigest()));
        m.put("rightDigest", hex(a.getRightDigest()));
        m.put("context", a.getContext());
        m.put("detail", a.getDetail());
        return m;
    }

    /** {@code alerts.jsonl}: one {@link #toJson} object per line, in the order given. */
    public static void writeJsonLines(Iterable<? extends DivergenceAlert> alerts, Appendable out) throws IOException {
        for (DivergenceAlert a : alerts) {
            out.append(Json.write(toJson(a))).append('\n');
        }
    }

    /** 16 lower-case hex digits. */
    public static String hex(long v) {
        String s = Long.toHexString(v);
        return "0".repeat(16 - s.length()) + s;
    }
}
