package dev.mmureplay.replayer.report;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link ReplaySummary} and its builder. */
class ReportSummaryTest {

    @Test
    void builderCountsEventsVmsAndEveryDivergenceByKindAndPair() {
        ReplaySummary s = ReportFixtures.small();
        assertEquals(15, s.events());
        assertEquals(2, s.vms());
        assertEquals("upstream", s.baseline());
        assertEquals(Map.of("PROFILE_VS_PROFILE", 2L), s.divergencesByKind());
        assertEquals(List.of("upstream vs x", "upstream vs y"), List.copyOf(s.divergencesByPair().keySet()));
        assertEquals(2, s.divergences());
        assertEquals(15, s.timeline().events());
        assertEquals(2, s.timeline().divergences());
        assertEquals(List.of("vm1/upstream", "vm1/x", "vm2/upstream"),
                s.digests().stream().map(d -> d.vm() + "/" + d.profile()).toList(), "sorted by (vm, profile)");
    }

    @Test
    void keepsTheFirstAlertsInReportOrderWhateverTheArrivalOrder() {
        List<DivergenceAlert> all = ReportFixtures.many(500, 1);
        ReplaySummary.Builder b = ReplaySummary.builder();
        all.forEach(b::alert);
        ReplaySummary s = b.build();
        List<DivergenceAlert> sorted = new ArrayList<>(all);
        sorted.sort(Alerts.ORDER);
        assertEquals(sorted.subList(0, ReplaySummary.DEFAULT_FIRST_ALERTS), s.firstAlerts());
        assertEquals(500, s.divergences());
        assertEquals(500 - 500 / 7 - 1, s.divergencesByKind().get("PROFILE_VS_PROFILE"));
        assertEquals(3, s.divergencesByPair().size());

        ReplaySummary.Builder reversed = ReplaySummary.builder();
        for (int i = all.size() - 1; i >= 0; i--) {
            reversed.alert(all.get(i));
        }
        assertEquals(s, reversed.build());
    }

    @Test
    void isImmutable() {
        ReplaySummary s = ReportFixtures.small();
        s.firstAlerts().get(0).setSeq(999);
        assertEquals(3, s.firstAlerts().get(0).getSeq(), "vm1 seq 3 comes first");
        assertThrows(UnsupportedOperationException.class, () -> s.divergencesByKind().put("X", 1L));
        assertThrows(UnsupportedOperationException.class, () -> s.inputs().add("x"));

        DivergenceAlert a = ReportFixtures.alert("vm", 1, DivergenceKind.SEQ_GAP, "l", "r", "f", "1", "2");
        ReplaySummary.Builder b = ReplaySummary.builder().alert(a);
        a.setSeq(77);
        assertEquals(1, b.build().firstAlerts().get(0).getSeq(), "the builder keeps a copy");
    }

    @Test
    void rejectsInconsistentParts() {
        ReplaySummary s = ReportFixtures.small();
        assertThrows(IllegalArgumentException.class, () -> new ReplaySummary(s.inputs(), s.profiles(), "x", s.mode(),
                0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), List.of(), Timeline.EMPTY, List.of(), 0));
        assertThrows(IllegalArgumentException.class, () -> new ReplaySummary(s.inputs(), s.profiles(), "upstream",
                s.mode(), 0, 0, 0, 0, 0, 0, 0, Map.of("SEQ_GAP", 1L), Map.of(), List.of(), Timeline.EMPTY, List.of(),
                0));
        assertThrows(IllegalArgumentException.class, () -> new ReplaySummary(s.inputs(), s.profiles(), "upstream",
                s.mode(), -1, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), List.of(), Timeline.EMPTY, List.of(), 0));
    }

    @Test
    void totalsCountedElsewhereReplaceTheBuildersCounts() {
        Timeline t = Timeline.builder().event(0, 0).event(9, 9).build();
        ReplaySummary s = ReplaySummary.builder().profiles(List.of("upstream", "x")).mode("cluster")
                .event("vm", 0, 0).events(1_000_000).vms(3).timeline(t).build();
        assertEquals(1_000_000, s.events());
        assertEquals(3, s.vms());
        assertEquals(t, s.timeline());
    }
}
