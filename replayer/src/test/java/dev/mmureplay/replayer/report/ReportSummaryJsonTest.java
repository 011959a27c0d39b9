package dev.mmureplay.replayer.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link SummaryJson}: {@code summary.json}. */
class ReportSummaryJsonTest {

    private static JsonNode parse(ReplaySummary s) throws IOException {
        StringBuilder sb = new StringBuilder();
        SummaryJson.write(s, sb);
        return new ObjectMapper().readTree(sb.toString());
    }

    @Test
    void hasTheRequiredKeysAndValues() throws IOException {
        JsonNode j = parse(ReportFixtures.small());
        assertEquals(15, j.get("events").asLong());
        assertEquals(2, j.get("vms").asInt());
        assertEquals(2, j.get("deadLetters").asLong());
        assertEquals(1, j.get("duplicatesDropped").asLong());
        assertEquals(3, j.get("gaps").asLong());
        assertEquals(4, j.get("noise").asLong());
        assertEquals(20, j.get("inputRecords").asLong());
        assertEquals("embedded", j.get("mode").asText());
        assertEquals("upstream", j.get("baseline").asText());
        assertEquals("[\"upstream\",\"x\",\"y\"]", j.get("profiles").toString());
        assertEquals("[\"a.trace\",\"topic<b>\"]", j.get("inputs").toString());
        assertEquals("{\"PROFILE_VS_PROFILE\":2,\"total\":2}", j.get("divergences").toString());
        assertEquals("{\"upstream vs x\":1,\"upstream vs y\":1}", j.get("byPair").toString());
        assertEquals("[{\"vm\":\"vm1\",\"profile\":\"upstream\",\"events\":10,\"digest\":\"0000000000000001\"},"
                + "{\"vm\":\"vm1\",\"profile\":\"x\",\"events\":10,\"digest\":\"00000000deadbeef\"},"
                + "{\"vm\":\"vm2\",\"profile\":\"upstream\",\"events\":5,\"digest\":\"0000000000000002\"}]",
                j.get("digests").toString());
        assertEquals(15, sum(j.get("timeline").get("eventCounts")));
        assertEquals(2, j.get("alertsListed").asInt());
        assertEquals(1234, j.get("wallMillis").asLong());
    }

    @Test
    void keysComeInAStableOrderAndTheSameSummaryGivesTheSameText() throws IOException {
        List<String> keys = new ArrayList<>();
        parse(ReportFixtures.small()).fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("mode", "inputs", "profiles", "baseline", "inputRecords", "events", "vms", "deadLetters",
                "duplicatesDropped", "gaps", "noise", "divergences", "byPair", "digests", "timeline", "alertsListed",
                "wallMillis"), keys);
        assertEquals(SummaryJson.toString(ReportFixtures.small()), SummaryJson.toString(ReportFixtures.small()));
    }

    @Test
    void alertsJsonLinesCarryEveryAlertField() throws IOException {
        StringBuilder sb = new StringBuilder();
        Alerts.writeJsonLines(ReportFixtures.small().firstAlerts(), sb);
        String[] lines = sb.toString().split("\n");
        assertEquals(2, lines.length);
        JsonNode a = new ObjectMapper().readTree(lines[0]);
        List<String> keys = new ArrayList<>();
        a.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("vm", "seq", "kind", "left", "right", "leftEffects", "rightEffects", "field",
                "leftValue", "rightValue", "leftDigest", "rightDigest", "context", "detail"), keys);
        assertEquals("vm1", a.get("vm").asText());
        assertEquals(3, a.get("seq").asLong());
        assertEquals("PROFILE_VS_PROFILE", a.get("kind").asText());
        assertEquals("0000000000001234", a.get("leftDigest").asText());
        assertEquals("ffffffffffffffff", a.get("rightDigest").asText());
        assertEquals("[1,2]", a.get("context").toString());
    }

    private static long sum(JsonNode array) {
        long s = 0;
        for (JsonNode n : array) {
            s += n.asLong();
        }
        return s;
    }
}
