package dev.mmureplay.replayer.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.replayer.cli.MmuReplayCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mmu-replay diff ... --out DIR}: the report files of a local replay. */
class ReportDiffOutTest {

    /**
     * The divergence of the bundled PAE-toggle scenario (as in DiffCommandTest): the first kvm_mmu_get_page after
     * CR4.PAE is cleared, the 8th event, seq 7.
     */
    private static final long SEQ_OF_RELOAD = 7;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static String scenario(String name) {
        try {
            return Path.of(ReportDiffOutTest.class.getResource("/scenarios/" + name).toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private String[] run(String... args) {
        List<String> all = new ArrayList<>(List.of("diff", "--dead-letters", tmp.resolve("dead.jsonl").toString()));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = MmuReplayCli.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new String[] {String.valueOf(exit), out.toString(), err.toString()};
    }

    @Test
    void diffWithOutWritesSummaryHtmlAndAlertsAndKeepsStdoutAsItWas() throws IOException {
        String trace = scenario("no_reset_on_pae_toggle.trace");
        Path dir = tmp.resolve("report");
        String[] plain = run(trace, "--profiles", "upstream,no-reset-on-pae-toggle", "--json");
        String[] withOut = run(trace, "--profiles", "upstream,no-reset-on-pae-toggle", "--json", "--out",
                dir.toString());
        assertEquals("0", withOut[0], withOut[2]);
        assertEquals(plain[1], withOut[1], "stdout unchanged by --out");
        assertEquals(plain[2], withOut[2], "stderr unchanged by --out");

        JsonNode stdout = JSON.readTree(withOut[1]);
        JsonNode summary = JSON.readTree(Files.readString(dir.resolve("summary.json")));
        assertEquals("local", summary.get("mode").asText());
        assertEquals(stdout.get("events").asLong(), summary.get("events").asLong());
        assertEquals(1, summary.get("vms").asInt());
        assertEquals("{\"PROFILE_VS_PROFILE\":1,\"total\":1}", summary.get("divergences").toString());
        assertEquals("{\"upstream vs no-reset-on-pae-toggle\":1}", summary.get("byPair").toString());
        assertEquals(0, summary.get("deadLetters").asLong());
        assertEquals(0, summary.get("noise").asLong() + summary.get("gaps").asLong()
                + summary.get("duplicatesDropped").asLong());
        assertTrue(summary.get("inputRecords").asLong() > summary.get("events").asLong(), "header lines are read");
        JsonNode digests = summary.get("digests");
        assertEquals(2, digests.size());
        JsonNode vmDigests = stdout.get("traces").get(0).get("digests").elements().next();
        assertEquals(Long.parseUnsignedLong(vmDigests.get("left").asText(), 16),
                Long.parseUnsignedLong(digests.get(1).get("digest").asText(), 16), "upstream = left, final state");
        assertEquals("upstream", digests.get(1).get("profile").asText());
        assertEquals(stdout.get("events").asLong(), digests.get(0).get("events").asLong());

        List<String> alerts = Files.readAllLines(dir.resolve("alerts.jsonl"));
        assertEquals(1, alerts.size());
        JsonNode a = JSON.readTree(alerts.get(0));
        assertEquals(SEQ_OF_RELOAD, a.get("seq").asLong());
        assertEquals("kvm_mmu_get_page.outcome", a.get("field").asText());
        assertEquals("EXPLAINED", a.get("leftValue").asText());
        assertEquals("LEARNED", a.get("rightValue").asText());
        assertEquals("upstream", a.get("left").asText());
        assertEquals("no-reset-on-pae-toggle", a.get("right").asText());
        assertEquals(SEQ_OF_RELOAD - 1, a.get("context").get(2).asLong());

        String html = Files.readString(dir.resolve("report.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("<tr class=\"alert\" id=\"a1\"><td class=\"n\">1</td><td class=\"n\">"
                + SEQ_OF_RELOAD + "</td>"), "the divergence at seq " + SEQ_OF_RELOAD + " in the table");
        String row = html.substring(html.indexOf("id=\"a1\""), html.indexOf("</tr>", html.indexOf("id=\"a1\"")));
        assertTrue(row.contains("kvm_mmu_get_page.outcome") && row.contains("EXPLAINED") && row.contains("LEARNED"),
                row);
        assertTrue(row.contains("role=l2 4-byte q0"), "the left effect: " + row);
        assertEquals(1, html.split("<circle class=\"mark\"", -1).length - 1);
        assertFalse(html.contains("http://") || html.contains("https://"));
    }

    @Test
    void diffWithOutOnAnAgreeingReplayWritesAnEmptyAlertsFile() throws IOException {
        Path dir = tmp.resolve("nested/dir");
        String[] r = run(scenario("no_reset_on_pae_toggle.trace"), "--profiles", "upstream,upstream", "--out",
                dir.toString());
        assertEquals("0", r[0], r[2]);
        assertEquals("", Files.readString(dir.resolve("alerts.jsonl")));
        assertEquals(0, JSON.readTree(Files.readString(dir.resolve("summary.json"))).get("divergences").get("total")
                .asLong());
        assertTrue(Files.readString(dir.resolve("report.html")).contains("No divergences."));
    }
}
