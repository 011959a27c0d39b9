package dev.mmureplay.replayer.report;

import dev.mmureplay.avro.DivergenceAlert;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HtmlReport}: one self-contained page. */
class ReportHtmlTest {

    private static String html(ReplaySummary s) throws IOException {
        StringWriter w = new StringWriter();
        HtmlReport.write(s, w);
        return w.toString();
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void isSelfContained() throws IOException {
        String h = html(ReportFixtures.withAlerts(ReportFixtures.many(250, 3)));
        for (String external : List.of("http://", "https://", "src=", "<script", "<link", "@import", "url(",
                "<iframe", "<img", "<object", "<embed")) {
            assertFalse(h.toLowerCase().contains(external), external);
        }
        assertTrue(h.startsWith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
        assertTrue(h.contains("<style>"));
        assertTrue(h.endsWith("</html>\n"));
    }

    @Test
    void escapesHostileText() throws IOException {
        String h = html(ReportFixtures.small());
        assertFalse(h.contains(ReportFixtures.HOSTILE));
        assertFalse(h.contains("<script"));
        assertTrue(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "in the table and the marker tooltip");
        assertTrue(h.contains("<td class=\"v\">a &amp; &quot;b&quot;</td><td class=\"v\">&#39;c&#39; &gt; d</td>"));
        assertTrue(h.contains("topic&lt;b&gt;"), "inputs too");
    }

    @Test
    void hasOneTableRowPerListedAlertWithBothSides() throws IOException {
        ReplaySummary s = ReportFixtures.withAlerts(ReportFixtures.many(250, 3));
        String h = html(s);
        assertEquals(ReplaySummary.DEFAULT_FIRST_ALERTS, count(h, "<tr class=\"alert\""));
        assertTrue(h.contains("The first 200 of 250"));
        DivergenceAlert first = s.firstAlerts().get(0);
        assertTrue(h.contains("<tr class=\"alert\" id=\"a1\"><td class=\"n\">1</td><td class=\"n\">" + first.getSeq()
                + "</td><td class=\"mono\">" + first.getVm() + "</td>"), "seq and vm of the first alert");
        String row = h.substring(h.indexOf("id=\"a1\""), h.indexOf("</tr>", h.indexOf("id=\"a1\"")));
        for (String part : List.of(first.getLeft(), first.getRight(), first.getField(), first.getLeftValue(),
                first.getRightValue(), first.getLeftEffects().get(1), first.getRightEffects().get(0),
                first.getContext().get(0) + ", " + first.getContext().get(1))) {
            assertTrue(row.contains(part), part + " in " + row);
        }
    }

    @Test
    void hasAnSvgTimelineWithOneMarkerPerListedAlert() throws IOException {
        ReplaySummary s = ReportFixtures.withAlerts(ReportFixtures.many(250, 3));
        String h = html(s);
        assertEquals(1, count(h, "<svg"));
        assertEquals(200, count(h, "<circle class=\"mark\""));
        assertTrue(h.contains("fill=\"#1f77b4\""), "MODEL_VS_RECORDING markers have their own colour");
        DivergenceAlert first = s.firstAlerts().get(0);
        assertTrue(h.contains("<title>#1 vm " + first.getVm() + " seq " + first.getSeq()), "tooltip with vm and seq");

        String small = html(ReportFixtures.small());
        assertEquals(2, count(small, "<circle class=\"mark\""));
        assertTrue(small.contains("<title>#1 vm vm1 seq 3 PROFILE_VS_PROFILE upstream vs x\nfield:"
                + " kvm_mmu_get_page.outcome\nupstream: EXPLAINED\nx: LEARNED</title>"));
    }

    @Test
    void isByteIdenticalForTheSameSummary() throws IOException {
        List<DivergenceAlert> alerts = ReportFixtures.many(300, 5);
        String once = html(ReportFixtures.withAlerts(alerts));
        assertEquals(once, html(ReportFixtures.withAlerts(alerts)));
        Collections.reverse(alerts);
        assertEquals(once, html(ReportFixtures.withAlerts(alerts)), "alert arrival order does not matter");
    }

    @Test
    void staysWellUnderOneMegabyteFor200Alerts() throws IOException {
        String page = html(ReportFixtures.withAlerts(ReportFixtures.many(200, 11)));
        int size = page.getBytes(StandardCharsets.UTF_8).length;
        System.out.println("report.html with 200 alerts: " + size + " bytes");
        assertTrue(size < 300_000, size + " bytes");

        List<DivergenceAlert> huge = ReportFixtures.many(200, 11);
        for (DivergenceAlert a : huge) {
            a.setLeftValue("&".repeat(100_000));
            a.setLeftEffects(Collections.nCopies(1_000, "<effect with \"quotes\" & more>"));
        }
        int worst = html(ReportFixtures.withAlerts(huge)).getBytes(StandardCharsets.UTF_8).length;
        System.out.println("report.html with 200 alerts of huge values: " + worst + " bytes");
        assertTrue(worst < 1_000_000, worst + " bytes: values are cut");
    }

    @Test
    void tagsAreBalanced() throws IOException {
        for (ReplaySummary s : List.of(ReportFixtures.small(), ReportFixtures.withAlerts(ReportFixtures.many(250, 3)),
                ReplaySummary.builder().build())) {
            String h = html(s);
            Set<String> voids = Set.of("meta", "br");
            Deque<String> open = new ArrayDeque<>();
            Matcher m = Pattern.compile("<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*?(/?)>").matcher(h);
            while (m.find()) {
                String tag = m.group(2);
                if (voids.contains(tag) || m.group(3).equals("/")) {
                    continue;
                }
                if (m.group(1).isEmpty()) {
                    open.push(tag);
                } else {
                    assertEquals(open.isEmpty() ? "(none)" : open.peek(), tag, "closing tag at " + m.start());
                    open.pop();
                }
            }
            assertTrue(open.isEmpty(), "unclosed: " + open);
        }
    }
}
