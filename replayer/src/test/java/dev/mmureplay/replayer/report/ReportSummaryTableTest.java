package dev.mmureplay.replayer.report;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SummaryTable}: the terminal summary. */
class ReportSummaryTableTest {

    private static String print(ReplaySummary s, int maxVms) {
        StringWriter w = new StringWriter();
        PrintWriter p = new PrintWriter(w);
        SummaryTable.print(s, p, maxVms);
        p.flush();
        return w.toString();
    }

    @Test
    void printsTheCounts() {
        String t = print(ReportFixtures.small(), SummaryTable.DEFAULT_MAX_VMS);
        assertTrue(t.startsWith("replay (embedded): 2 inputs, profiles upstream (baseline), x, y\n"), t);
        assertTrue(t.matches("(?s).*\n  input records +20\n.*"), t);
        assertTrue(t.matches("(?s).*\n  events +15\n.*"), t);
        assertTrue(t.matches("(?s).*\n  VMs +2\n.*"), t);
        assertTrue(t.matches("(?s).*\n  divergences +2\n.*"), t);
        assertTrue(t.matches("(?s).*\n    PROFILE_VS_PROFILE +2\n.*"), t);
        assertTrue(t.matches("(?s).*\n    upstream vs x +1\n.*"), t);
        assertTrue(t.matches("(?s).*\n  dead letters +2\n.*"), t);
        assertTrue(t.matches("(?s).*\n  duplicates dropped +1\n.*"), t);
        assertTrue(t.matches("(?s).*\n  seq gaps +3\n.*"), t);
        assertTrue(t.matches("(?s).*\n  noise +4\n.*"), t);
        assertTrue(t.matches("(?s).*\n  vm1 +x +10  00000000deadbeef\n.*"), t);
    }

    @Test
    void listsTheDigestsOfTheFirstVmsAndCountsTheRest() {
        ReplaySummary.Builder b = ReplaySummary.builder().profiles(List.of("upstream", "x"));
        for (int v = 0; v < 30; v++) {
            b.digest(String.format("vm%02d", v), "upstream", 1_234_567, v).digest(String.format("vm%02d", v), "x",
                    1_234_567, v);
        }
        String t = print(b.build(), 20);
        assertTrue(t.contains("  vm19  x         1,234,567  0000000000000013\n"), t);
        assertFalse(t.contains("vm20"), t);
        assertTrue(t.contains("  ... and 10 more VMs (all digests: summary.json)\n"), t);
    }
}
