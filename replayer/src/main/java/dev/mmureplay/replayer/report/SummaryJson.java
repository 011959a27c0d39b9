package dev.mmureplay.replayer.report;

import dev.mmureplay.replayer.json.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code summary.json}: a {@link ReplaySummary} as one JSON object, keys always in this order:
 *
 * <pre>
 * {"mode", "inputs": [..], "profiles": [..], "baseline",
 *  "inputRecords", "events", "vms", "deadLetters", "duplicatesDropped", "gaps", "noise",
 *  "divergences": {KIND: n, ..., "total": n}, "byPair": {"left vs right": n, ...},
 *  "digests": [{"vm", "profile", "events", "digest": "16 hex digits"}],
 *  "timeline": {"minSeq", "maxSeq", "minTimeNs", "maxTimeNs", "origin", "bucketWidth", "eventCounts": [..],
 *               "divergenceCounts": [..]},
 *  "alertsListed", "wallMillis"}
 * </pre>
 *
 * Maps are written sorted by key, so the same summary gives the same bytes.
 */
public final class SummaryJson {

    private SummaryJson() {
    }

    /** Appends the summary as one JSON object (no trailing newline). */
    public static void write(ReplaySummary s, Appendable out) throws IOException {
        out.append(Json.write(toJson(s)));
    }

    /** The summary as JSON text. */
    public static String toString(ReplaySummary s) {
        return Json.write(toJson(s));
    }

    /** The object {@link #write} renders (insertion-ordered maps, lists, strings and numbers). */
    public static Map<String, Object> toJson(ReplaySummary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", s.mode());
        m.put("inputs", s.inputs());
        m.put("profiles", s.profiles());
        m.put("baseline", s.baseline());
        m.put("inputRecords", s.inputRecords());
        m.put("events", s.events());
        m.put("vms", s.vms());
        m.put("deadLetters", s.deadLetters());
        m.put("duplicatesDropped", s.duplicatesDropped());
        m.put("gaps", s.gaps());
        m.put("noise", s.noise());
        Map<String, Object> kinds = new LinkedHashMap<>(s.divergencesByKind());
        kinds.put("total", s.divergences());
        m.put("divergences", kinds);
        m.put("byPair", new LinkedHashMap<>(s.divergencesByPair()));
        List<Object> digests = new ArrayList<>(s.digests().size());
        for (ReplaySummary.VmDigest d : s.digests()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("vm", d.vm());
            x.put("profile", d.profile());
            x.put("events", d.events());
            x.put("digest", Alerts.hex(d.digest()));
            digests.add(x);
        }
        m.put("digests", digests);
        Timeline t = s.timeline();
        Map<String, Object> tl = new LinkedHashMap<>();
        tl.put("minSeq", t.minSeq());
        tl.put("maxSeq", t.maxSeq());
        tl.put("minTimeNs", t.minTimeNs());
        tl.put("maxTimeNs", t.maxTimeNs());
        tl.put("origin", t.origin());
        tl.put("bucketWidth", t.bucketWidth());
        tl.put("eventCounts", t.eventCounts());
        tl.put("divergenceCounts", t.divergenceCounts());
        m.put("timeline", tl);
        m.put("alertsListed", s.firstAlerts().size());
        m.put("wallMillis", s.wallMillis());
        return m;
    }
}
