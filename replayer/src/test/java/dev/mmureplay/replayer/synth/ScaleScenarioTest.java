package dev.mmureplay.replayer.synth;

import dev.mmureplay.model.ConformanceReport;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scale scenario is internally consistent and the upstream model explains what it records. */
class ScaleScenarioTest {

    private static final Pattern EVENT = Pattern.compile("^.{16}-\\d+ +\\[\\d{3}\\] \\S{5} +\\d+\\.\\d{6}: ([a-z_]+): (.*)$");

    private static List<String> lines(long n, long seed) {
        List<String> all = SynthTestSupport.lines(SynthTestSupport.bytes("scale", n, seed));
        return all.subList(13, all.size());   // 12 tracefs header lines + the host header line
    }

    @Test
    void everySetSpteFollowsItsSpteRequestedAndEveryFaultWalksFourLevels() {
        List<String> lines = lines(60_000, 9);
        String prevEvent = null;
        String prevPayload = null;
        int walks = 0;
        int sets = 0;
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = EVENT.matcher(lines.get(i));
            assertTrue(m.matches(), lines.get(i));
            String ev = m.group(1);
            String payload = m.group(2);
            if (ev.equals("kvm_mmu_set_spte")) {
                sets++;
                // first-touch faults: no prefetch, so the request is the line right before, for the same gfn
                final int at = i;
                assertEquals("kvm_mmu_spte_requested", prevEvent, () -> "line " + lines.get(at));
                String gfn = payload.split(" ")[1];
                assertTrue(prevPayload.startsWith("gfn " + gfn + " pfn "), prevPayload + " / " + payload);
                String pfn = prevPayload.split(" ")[3];
                String spte = payload.split(" ")[3];
                long v = Long.parseUnsignedLong(spte, 16);
                assertEquals(Long.parseLong(pfn, 16), (v >>> 12) & ((1L << 40) - 1), payload);
                assertEquals(0x800, v & 0x800, "MMU-present bit 11: " + payload);
                assertEquals(0x25, v & 0x25, "present, user, accessed: " + payload);
                boolean w = (v & 2) != 0;
                assertEquals(w ? 0x440 : 0, v & 0x440, "W comes with MMU-writable and dirty: " + payload);
                assertTrue(payload.contains("(r" + (w ? "w" : "-") + (v < 0 ? "-" : "x") + "u)"), payload);
            }
            if (ev.equals("kvm_mmu_pagetable_walk")) {
                walks++;
                for (int lvl = 4; lvl >= 1; lvl--) {
                    Matcher e = EVENT.matcher(lines.get(i + 5 - lvl));
                    assertTrue(e.matches());
                    assertEquals("kvm_mmu_paging_element", e.group(1));
                    assertTrue(e.group(2).endsWith(" level " + lvl), e.group(2));
                }
            }
            prevEvent = ev;
            prevPayload = payload;
        }
        assertTrue(walks > 5_000, "walks " + walks);
        assertTrue(sets > 5_000, "sets " + sets);
    }

    @Test
    void containsCr3SwitchesMemslotChurnMmioAndRootReuse() {
        List<String> lines = lines(200_000, 4);
        Set<String> events = new HashSet<>();
        int existingRoots = 0;
        int gen1 = 0;
        int zapAll = 0;
        for (String l : lines) {
            Matcher m = EVENT.matcher(l);
            assertTrue(m.matches(), l);
            events.add(m.group(1));
            if (m.group(1).equals("kvm_mmu_get_page") && m.group(2).contains(" l4 ") && m.group(2).endsWith(" existing")) {
                existingRoots++;
            }
            if (m.group(1).equals("kvm_mmu_get_page") && m.group(2).startsWith("sp gen 1 ")) {
                gen1++;
            }
            if (m.group(1).equals("kvm_mmu_zap_all_fast")) {
                zapAll++;
            }
        }
        assertTrue(events.containsAll(Set.of("kvm_cr", "kvm_mmio", "kvm_emulate_insn", "kvm_mmu_zap_all_fast",
                "kvm_mmu_prepare_zap_page", "kvm_mmu_set_dirty_bit", "tracing_mark_write")), events.toString());
        assertTrue(existingRoots > 0, "a root evicted from the previous-roots cache is reused");
        assertTrue(gen1 > 0, "pages created after a zap-all-fast print sp gen 1");
        assertTrue(zapAll >= 3, "memslot churn " + zapAll);
    }

    @Test
    void upstreamModelExplainsTheScaleScenario() throws Exception {
        byte[] trace = SynthTestSupport.bytes("scale", 50_000, 1);
        ConformanceReport r = SynthTestSupport.conformance("scale", trace);

        assertTrue(r.effects() > 15_000, "effects " + r.effects());
        assertTrue(r.explainedRatio() >= 0.99, "explainedRatio " + r.explainedRatio() + " mismatches "
                + r.mismatches());
        assertEquals(0, r.mismatched(), () -> "mismatches " + r.mismatches());
    }

    @Test
    void upstreamModelExplainsTheScaleScenarioAcrossSeedsAndChurn() throws Exception {
        for (long seed : new long[] {2, 3}) {
            ConformanceReport r = SynthTestSupport.conformance("scale", SynthTestSupport.bytes("scale", 150_000, seed));
            assertTrue(r.explainedRatio() >= 0.99, "seed " + seed + ": " + r.explainedRatio());
        }
    }
}
