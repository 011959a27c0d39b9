package dev.mmureplay.replayer.report;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code report.html}: a {@link ReplaySummary} as one self-contained HTML page — inline CSS and an inline SVG, no
 * script, no external font, style sheet, image or link (it works offline, from a file, with JavaScript disabled and
 * as a CI artifact). It shows:
 * <ul>
 *   <li>what was replayed and the counts (events, VMs, dead letters, duplicates, gaps, noise, divergences by kind
 *       and by profile pair);</li>
 *   <li>the timeline: x = seq; grey bars = events per seq bucket; a dark strip under the axis where divergences
 *       are (all of them, per bucket); one marker per listed divergence, coloured by kind, one lane per profile
 *       pair, with a tooltip ({@code <title>}: vm, seq, field, both values) and a link to its table row;</li>
 *   <li>the final state digests per VM and profile (the first {@link #MAX_DIGEST_ROWS} rows);</li>
 *   <li>the first divergences with both sides: seq, vm, kind, profiles, field, values, effects, context seqs.</li>
 * </ul>
 * All text from the summary is HTML-escaped; long values are cut (with the number of characters left out) so that
 * 200 alerts stay well under 1 MB. The same summary gives the same bytes (nothing depends on the clock, the locale
 * or hash order).
 */
public final class HtmlReport {

    /** Digest rows shown at most; the rest are counted ({@code summary.json} has them all). */
    public static final int MAX_DIGEST_ROWS = 500;
    /** Characters shown of a field or value. */
    static final int MAX_VALUE_CHARS = 200;
    /** Characters shown of a value in a marker's tooltip. */
    static final int MAX_TOOLTIP_CHARS = 80;
    /** Characters shown of one side's effects. */
    static final int MAX_EFFECTS_CHARS = 600;

    /** Marker colour per {@link DivergenceKind} (by ordinal); unknown kinds are grey. */
    private static final List<String> KIND_COLOURS = List.of(
            "#7f7f7f",   // UNKNOWN
            "#d62728",   // PROFILE_VS_PROFILE
            "#1f77b4",   // MODEL_VS_RECORDING
            "#9467bd",   // REPLAY_VS_REPLAY
            "#ff7f0e");  // SEQ_GAP
    private static final int MAX_LANES = 8;

    // SVG geometry
    private static final int WIDTH = 960;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 10;
    private static final int BARS = 150;
    private static final int STRIP = 8;
    private static final int LANE = 24;
    private static final int MARK_Y = 16;

    private static final String CSS = """
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#222;\
            background:#fff}
            h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.5em 0 .5em}
            table{border-collapse:collapse;margin:.3em 0}
            th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
            th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .mono,td.v{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
            td.v{max-width:28em;overflow-wrap:anywhere}
            .sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border-radius:50%;\
            vertical-align:middle}
            .note{color:#666}.grid{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
            svg{max-width:100%;height:auto;border:1px solid #ddd;background:#fcfcfc}
            svg text{font:11px system-ui,sans-serif;fill:#444}
            tr.alert:target{background:#fff3c4}
            """;

    private HtmlReport() {
    }

    /** Writes the page. Does not flush or close {@code out}. */
    public static void write(ReplaySummary s, Writer out) throws IOException {
        out.write(render(s));
    }

    /** The page as a string. */
    public static String render(ReplaySummary s) {
        StringBuilder h = new StringBuilder(64 * 1024);
        List<DivergenceAlert> alerts = s.firstAlerts();
        String title = "mmu-replay report: " + String.join(" vs ", s.profiles());
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(esc(title)).append("</title>\n<style>\n").append(CSS)
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        h.append("<p>Mode <b>").append(esc(s.mode())).append("</b>; baseline <b>").append(esc(s.baseline()))
                .append("</b>; profiles ");
        for (int i = 0; i < s.profiles().size(); i++) {
            h.append(i == 0 ? "" : ", ").append("<span class=\"mono\">").append(esc(s.profiles().get(i)))
                    .append("</span>");
        }
        h.append("; wall time ").append(SummaryTable.number(s.wallMillis())).append(" ms.</p>\n");
        h.append("<p>Inputs: ");
        for (int i = 0; i < s.inputs().size(); i++) {
            h.append(i == 0 ? "" : ", ").append("<span class=\"mono\">").append(esc(s.inputs().get(i)))
                    .append("</span>");
        }
        h.append(s.inputs().isEmpty() ? "none" : "").append("</p>\n");

        counts(h, s);
        timeline(h, s, alerts);
        digests(h, s);
        alertTable(h, s, alerts);
        h.append("<p class=\"note\">Generated by mmu-replay. Only fields the model predicts exactly are compared;"
                + " values cut for length say how many characters were left out.</p>\n</body>\n</html>\n");
        return h.toString();
    }

    // ------------------------------------------------------------------------------------------------ sections

    private static void counts(StringBuilder h, ReplaySummary s) {
        h.append("<h2>Counts</h2>\n<div class=\"grid\">\n<table id=\"counts\">\n");
        countRow(h, "input records", s.inputRecords());
        countRow(h, "events", s.events());
        countRow(h, "VMs", s.vms());
        countRow(h, "divergences", s.divergences());
        countRow(h, "dead letters", s.deadLetters());
        countRow(h, "duplicates dropped", s.duplicatesDropped());
        countRow(h, "seq gaps", s.gaps());
        countRow(h, "noise", s.noise());
        h.append("</table>\n<table id=\"by-kind\">\n<tr><th>divergence kind</th><th>count</th></tr>\n");
        for (Map.Entry<String, Long> e : s.divergencesByKind().entrySet()) {
            h.append("<tr><td>").append(swatch(e.getKey())).append(esc(e.getKey())).append("</td><td class=\"n\">")
                    .append(SummaryTable.number(e.getValue())).append("</td></tr>\n");
        }
        if (s.divergencesByKind().isEmpty()) {
            h.append("<tr><td colspan=\"2\" class=\"note\">no divergences</td></tr>\n");
        }
        h.append("</table>\n<table id=\"by-pair\">\n<tr><th>profile pair</th><th>count</th></tr>\n");
        for (Map.Entry<String, Long> e : s.divergencesByPair().entrySet()) {
            h.append("<tr><td class=\"mono\">").append(esc(e.getKey())).append("</td><td class=\"n\">")
                    .append(SummaryTable.number(e.getValue())).append("</td></tr>\n");
        }
        if (s.divergencesByPair().isEmpty()) {
            h.append("<tr><td colspan=\"2\" class=\"note\">no divergences</td></tr>\n");
        }
        h.append("</table>\n</div>\n");
    }

    private static void countRow(StringBuilder h, String label, long n) {
        h.append("<tr><th>").append(label).append("</th><td class=\"n\">").append(SummaryTable.number(n))
                .append("</td></tr>\n");
    }

    private static void timeline(StringBuilder h, ReplaySummary s, List<DivergenceAlert> alerts) {
        Timeline t = s.timeline();
        h.append("<h2>Timeline</h2>\n");
        if (t.isEmpty()) {
            h.append("<p class=\"note\">No events.</p>\n");
            return;
        }
        List<String> lanes = new ArrayList<>();
        Set<String> pairs = new LinkedHashSet<>(s.divergencesByPair().keySet());
        for (DivergenceAlert a : alerts) {
            pairs.add(Alerts.pair(a));
        }
        lanes.addAll(pairs);
        int laneCount = Math.max(1, Math.min(lanes.size(), MAX_LANES));
        int plot = WIDTH - LEFT - RIGHT;
        int axis = TOP + BARS;
        int laneTop = axis + STRIP + 22;
        int height = laneTop + laneCount * LANE + 6;
        double span = (double) (t.end() - t.origin());
        long max = 1;
        for (long c : t.eventCounts()) {
            max = Math.max(max, c);
        }

        h.append("<p>x = seq (per VM, all VMs overlaid), ").append(SummaryTable.number(t.minSeq())).append(" to ")
                .append(SummaryTable.number(t.maxSeq())).append(" in ").append(t.buckets()).append(" bucket")
                .append(t.buckets() == 1 ? "" : "s").append(" of ").append(SummaryTable.number(t.bucketWidth()))
                .append(t.bucketWidth() == 1 ? " seq" : " seqs");
        if (t.maxTimeNs() > 0 || t.minTimeNs() > 0) {
            h.append("; trace time ").append(seconds(t.minTimeNs())).append(" s to ").append(seconds(t.maxTimeNs()))
                    .append(" s");
        }
        h.append(". Bars: events per bucket (tallest ").append(SummaryTable.number(max))
                .append("). Dark strip under the axis: buckets with divergences. Markers: the listed divergences"
                        + " (hover for details, click for the table row).</p>\n");

        h.append("<svg width=\"").append(WIDTH).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" role=\"img\" aria-label=\"events and divergences by seq\">\n");
        // y axis: 0 and max
        h.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(TOP).append("\" x2=\"").append(LEFT)
                .append("\" y2=\"").append(axis).append("\" stroke=\"#999\"/>\n");
        h.append("<text x=\"").append(LEFT - 4).append("\" y=\"").append(TOP + 9)
                .append("\" text-anchor=\"end\">").append(SummaryTable.number(max)).append("</text>\n");
        h.append("<text x=\"").append(LEFT - 4).append("\" y=\"").append(axis)
                .append("\" text-anchor=\"end\">0</text>\n");
        // bars
        double bw = plot / (double) t.buckets();
        long[] events = t.eventCounts();
        long[] divs = t.divergenceCounts();
        h.append("<g fill=\"#9aa5b1\">\n");
        for (int i = 0; i < events.length; i++) {
            if (events[i] == 0) {
                continue;
            }
            double bh = Math.max(1, events[i] * (double) BARS / max);
            h.append("<rect x=\"").append(fmt(LEFT + i * bw)).append("\" y=\"").append(fmt(axis - bh))
                    .append("\" width=\"").append(fmt(Math.max(bw - (bw > 3 ? 1 : 0), 0.5))).append("\" height=\"")
                    .append(fmt(bh)).append("\"><title>").append(range(t, i)).append(": ")
                    .append(SummaryTable.number(events[i])).append(events[i] == 1 ? " event" : " events")
                    .append("</title></rect>\n");
        }
        h.append("</g>\n");
        // x axis and divergence strip
        h.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(axis).append("\" x2=\"")
                .append(WIDTH - RIGHT).append("\" y2=\"").append(axis).append("\" stroke=\"#999\"/>\n");
        h.append("<g fill=\"#555\">\n");
        for (int i = 0; i < divs.length; i++) {
            if (divs[i] == 0) {
                continue;
            }
            h.append("<rect x=\"").append(fmt(LEFT + i * bw)).append("\" y=\"").append(axis + 1)
                    .append("\" width=\"").append(fmt(Math.max(bw, 1.5))).append("\" height=\"").append(STRIP - 2)
                    .append("\"><title>").append(range(t, i)).append(": ").append(SummaryTable.number(divs[i]))
                    .append(divs[i] == 1 ? " divergence" : " divergences").append("</title></rect>\n");
        }
        h.append("</g>\n");
        int labelY = axis + STRIP + 12;
        h.append("<text x=\"").append(LEFT).append("\" y=\"").append(labelY).append("\">seq ")
                .append(SummaryTable.number(t.origin())).append("</text>\n");
        h.append("<text x=\"").append(LEFT + plot / 2).append("\" y=\"").append(labelY)
                .append("\" text-anchor=\"middle\">")
                .append(SummaryTable.number(t.origin() + (t.end() - t.origin()) / 2)).append("</text>\n");
        h.append("<text x=\"").append(WIDTH - RIGHT).append("\" y=\"").append(labelY)
                .append("\" text-anchor=\"end\">").append(SummaryTable.number(t.end() - 1)).append("</text>\n");
        // lanes: one per profile pair
        for (int l = 0; l < laneCount; l++) {
            int y = laneTop + l * LANE + MARK_Y;
            String name = l < lanes.size() ? lanes.get(l) : "";
            if (lanes.size() > MAX_LANES && l == MAX_LANES - 1) {
                name = "other pairs";
            }
            h.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(y).append("\" x2=\"")
                    .append(WIDTH - RIGHT).append("\" y2=\"").append(y).append("\" stroke=\"#e4e4e4\"/>\n");
            h.append("<text x=\"").append(LEFT + 2).append("\" y=\"").append(laneTop + l * LANE + 8)
                    .append("\">").append(esc(cut(name, 120))).append("</text>\n");
        }
        // markers: one per listed alert
        int n = 0;
        for (DivergenceAlert a : alerts) {
            n++;
            int lane = Math.min(lanes.indexOf(Alerts.pair(a)), MAX_LANES - 1);
            double x = LEFT + (a.getSeq() - t.origin() + 0.5) / span * plot;
            x = Math.max(LEFT, Math.min(WIDTH - RIGHT, x));
            int y = laneTop + lane * LANE + MARK_Y;
            h.append("<a href=\"#a").append(n).append("\"><circle class=\"mark\" cx=\"").append(fmt(x))
                    .append("\" cy=\"").append(y).append("\" r=\"4.5\" fill=\"").append(colour(Alerts.kind(a)))
                    .append("\" stroke=\"#fff\" stroke-width=\"0.8\"><title>")
                    .append(esc("#" + n + " vm " + cut(a.getVm(), MAX_TOOLTIP_CHARS) + " seq " + a.getSeq() + " "
                            + Alerts.kind(a) + " " + cut(Alerts.pair(a), MAX_TOOLTIP_CHARS)
                            + "\nfield: " + cut(nz(a.getField()), MAX_TOOLTIP_CHARS)
                            + "\n" + cut(a.getLeft(), MAX_TOOLTIP_CHARS) + ": "
                            + cut(nz(a.getLeftValue()), MAX_TOOLTIP_CHARS)
                            + "\n" + cut(a.getRight(), MAX_TOOLTIP_CHARS) + ": "
                            + cut(nz(a.getRightValue()), MAX_TOOLTIP_CHARS)))
                    .append("</title></circle></a>\n");
        }
        h.append("</svg>\n");
        // legend
        h.append("<p class=\"legend\"><span class=\"sw\" style=\"background:#9aa5b1;border-radius:0\"></span>events"
                + " per bucket &#160; <span class=\"sw\" style=\"background:#555;border-radius:0\"></span>buckets"
                + " with divergences");
        for (DivergenceKind k : DivergenceKind.values()) {
            h.append(" &#160; ").append(swatch(k.name())).append(k.name());
        }
        h.append("</p>\n");
    }

    private static void digests(StringBuilder h, ReplaySummary s) {
        h.append("<h2>Final state digests</h2>\n");
        if (s.digests().isEmpty()) {
            h.append("<p class=\"note\">None reported.</p>\n");
            return;
        }
        h.append("<table id=\"digests\">\n<tr><th>vm</th><th>profile</th><th>events</th><th>digest</th></tr>\n");
        int rows = 0;
        for (ReplaySummary.VmDigest d : s.digests()) {
            if (rows++ >= MAX_DIGEST_ROWS) {
                break;
            }
            h.append("<tr class=\"digest\"><td class=\"mono\">").append(esc(d.vm())).append("</td><td class=\"mono\">")
                    .append(esc(d.profile())).append("</td><td class=\"n\">").append(SummaryTable.number(d.events()))
                    .append("</td><td class=\"mono\">").append(Alerts.hex(d.digest())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (s.digests().size() > MAX_DIGEST_ROWS) {
            h.append("<p class=\"note\">First ").append(MAX_DIGEST_ROWS).append(" of ")
                    .append(SummaryTable.number(s.digests().size()))
                    .append(" shown; all are in the JSON summary.</p>\n");
        }
    }

    private static void alertTable(StringBuilder h, ReplaySummary s, List<DivergenceAlert> alerts) {
        h.append("<h2>First divergences</h2>\n");
        if (alerts.isEmpty()) {
            h.append("<p class=\"note\">").append(s.divergences() == 0 ? "No divergences." : "None listed.")
                    .append("</p>\n");
            return;
        }
        h.append("<p>").append(alerts.size() < s.divergences()
                ? "The first " + SummaryTable.number(alerts.size()) + " of " + SummaryTable.number(s.divergences())
                : "All " + SummaryTable.number(alerts.size()))
                .append(", by vm, seq, kind and profiles.</p>\n");
        h.append("<table id=\"alerts\">\n<tr><th>#</th><th>seq</th><th>vm</th><th>kind</th><th>left</th>"
                + "<th>right</th><th>field</th><th>left value</th><th>right value</th><th>left effects</th>"
                + "<th>right effects</th><th>context seqs</th><th>detail</th></tr>\n");
        int n = 0;
        for (DivergenceAlert a : alerts) {
            n++;
            List<String> context = new ArrayList<>();
            for (Long c : a.getContext()) {
                context.add(String.valueOf(c));
            }
            h.append("<tr class=\"alert\" id=\"a").append(n).append("\"><td class=\"n\">").append(n)
                    .append("</td><td class=\"n\">").append(a.getSeq())
                    .append("</td><td class=\"mono\">").append(esc(cut(a.getVm(), MAX_VALUE_CHARS)))
                    .append("</td><td>").append(swatch(Alerts.kind(a))).append(esc(Alerts.kind(a)))
                    .append("</td><td class=\"mono\">").append(esc(cut(a.getLeft(), MAX_VALUE_CHARS)))
                    .append("</td><td class=\"mono\">").append(esc(cut(a.getRight(), MAX_VALUE_CHARS)))
                    .append("</td><td class=\"v\">").append(esc(cut(nz(a.getField()), MAX_VALUE_CHARS)))
                    .append("</td><td class=\"v\">").append(esc(cut(nz(a.getLeftValue()), MAX_VALUE_CHARS)))
                    .append("</td><td class=\"v\">").append(esc(cut(nz(a.getRightValue()), MAX_VALUE_CHARS)))
                    .append("</td><td class=\"v\">").append(effects(a.getLeftEffects()))
                    .append("</td><td class=\"v\">").append(effects(a.getRightEffects()))
                    .append("</td><td class=\"mono\">").append(esc(cut(String.join(", ", context), MAX_VALUE_CHARS)))
                    .append("</td><td>").append(esc(cut(nz(a.getDetail()), MAX_VALUE_CHARS)))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Effects, one per line, cut at {@link #MAX_EFFECTS_CHARS} in all. */
    private static String effects(List<String> effects) {
        if (effects == null || effects.isEmpty()) {
            return "";
        }
        return esc(cut(String.join("\n", effects), MAX_EFFECTS_CHARS)).replace("\n", "<br>");
    }

    private static String swatch(String kind) {
        return "<span class=\"sw\" style=\"background:" + colour(kind) + "\"></span>";
    }

    private static String colour(String kind) {
        for (DivergenceKind k : DivergenceKind.values()) {
            if (k.name().equals(kind) && k.ordinal() < KIND_COLOURS.size()) {
                return KIND_COLOURS.get(k.ordinal());
            }
        }
        return KIND_COLOURS.get(0);
    }

    private static String range(Timeline t, int bucket) {
        long from = t.origin() + bucket * t.bucketWidth();
        return t.bucketWidth() == 1 ? "seq " + from : "seq " + from + ".." + (from + t.bucketWidth() - 1);
    }

    /** ns as seconds with 9 decimals. */
    static String seconds(long ns) {
        String sign = ns < 0 ? "-" : "";
        long a = Math.abs(ns);
        return sign + (a / 1_000_000_000L) + "." + String.format(Locale.ROOT, "%09d", a % 1_000_000_000L);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** {@code s} cut to {@code max} characters (never inside a surrogate pair), saying how much was left out. */
    static String cut(String s, int max) {
        if (s == null || s.length() <= max) {
            return s == null ? "" : s;
        }
        int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
        return s.substring(0, end) + "\u2026 (+" + (s.length() - end) + " chars)";
    }

    /** HTML text and attribute escaping; control characters other than tab and newline become U+FFFD. */
    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String r = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? "\uFFFD" : null;
            };
            if (r != null && b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (b != null) {
                if (r != null) {
                    b.append(r);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? s : b.toString();
    }
}
