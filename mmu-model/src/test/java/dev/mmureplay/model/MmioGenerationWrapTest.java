package dev.mmureplay.model;

import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.MemslotGeneration;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.mmureplay.model.MmioSpteTest.MMIO_ON;
import static dev.mmureplay.model.MmioSpteTest.START;
import static dev.mmureplay.model.MmioSpteTest.markAt;
import static dev.mmureplay.model.ReplayStep.Outcome.EXPLAINED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memslot generation carried by {@code mmu-replay: memslot-update} markers and its wraparound
 * (kvm_mmu_invalidate_mmio_sptes → kvm_mmu_zap_all_fast), in both MMIO generation layouts (snippets of synth
 * mmio-gen-wrap).
 */
class MmioGenerationWrapTest {

    static final String UPDATE = "tracing_mark_write: mmu-replay: memslot-update\n";

    /** kvm_mmu_zap_all_fast after the wrap: every page (5 after markAt) zapped oldest first, the root kept. */
    static final String ZAP = """
            kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 5
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 1 sync
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 5 l1 8-byte q0 wux nxe ad root 0 sync
            """;

    /** The vCPU's next entry: the obsolete root freed (zapped again, now invalid, root 0), a new root loaded. */
    static final String RELOAD = """
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux invalid nxe ad root 0 sync
            kvm_mmu_get_page: sp gen 1 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
            kvm_page_fault: vcpu 0 rip 0x1002b address 0x000000000001002b error_code 0x14
            kvm_mmu_pagetable_walk: addr 1002b pferr 14 U|F
            kvm_mmu_paging_element: pte 2027 level 4
            kvm_mmu_paging_element: pte 3027 level 3
            kvm_mmu_paging_element: pte 4027 level 2
            kvm_mmu_paging_element: pte 10025 level 1
            kvm_mmu_get_page: sp gen 1 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 1 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 1 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_spte_requested: gfn 10 pfn 179b10 level 1
            kvm_mmu_set_spte: gfn 10 spte 179b10a25 (r-xu) level 1 at 10a4c3080
            """;

    private static List<ReplayStep> run(Profile p, String... snippets) {
        return TraceLines.replay(p, MMIO_ON, snippets);
    }

    private static ReplayStep last(List<ReplayStep> steps) {
        return steps.get(steps.size() - 1);
    }

    private static boolean predictsZapAllFast(ReplayStep s) {
        return s.predicted().stream().anyMatch(e -> e instanceof ModelEvent.ZapAllFast);
    }

    @Test
    void updateWhoseMaskedGenerationIsZeroPredictsZapAllFastAtTheMarker() {
        // generation 0x7fffe + 2 = 0x80000; & MMIO_SPTE_GEN_MASK (19 bits) = 0 → wrapped → kvm_mmu_zap_all_fast
        ReplayStep marker = last(run(Profile.UPSTREAM, START, markAt("7fffe"), UPDATE));
        assertTrue(predictsZapAllFast(marker), marker.toString());
        assertEquals("kvm-mmu-valid-gen 0", "kvm-mmu-valid-gen "
                + marker.predicted().stream().filter(e -> e instanceof ModelEvent.ZapAllFast)
                .map(e -> ((ModelEvent.ZapAllFast) e).gen()).findFirst().orElseThrow());
    }

    @Test
    void updateBelowTheWrapPredictsNothing() {
        ReplayStep marker = last(run(Profile.UPSTREAM, START, markAt("7fffc"), UPDATE));
        assertTrue(marker.predicted().isEmpty(), marker.toString());
    }

    @Test
    void updateBeforeAnyMmioSpteLeavesTheGenerationUnknown() {
        ReplayStep marker = last(run(Profile.UPSTREAM, START, UPDATE));
        assertTrue(marker.predicted().isEmpty(), marker.toString());
        assertTrue(marker.note().contains("generation unknown"), marker.note());
    }

    @Test
    void generationIsCarriedAcrossUpdatesUntilTheWrap() {
        // 0x7fffa → 0x7fffc → 0x7fffe → 0: only the third update wraps
        List<ReplayStep> steps = run(Profile.UPSTREAM, START, markAt("7fffa"), UPDATE, UPDATE);
        assertFalse(predictsZapAllFast(steps.get(steps.size() - 1)));
        assertFalse(predictsZapAllFast(steps.get(steps.size() - 2)));
        steps = run(Profile.UPSTREAM, START, markAt("7fffa"), UPDATE, UPDATE, UPDATE);
        assertTrue(predictsZapAllFast(last(steps)));
    }

    @Test
    void wrapZapsEveryShadowPageThenTheVcpuFreesTheInvalidRootAndReloads() {
        List<ReplayStep> steps = run(Profile.UPSTREAM, START, markAt("7fffe"), UPDATE, ZAP, RELOAD, """
                kvm_page_fault: vcpu 0 rip 0x1002b address 0x0000000000400024 error_code 0x4
                kvm_mmu_pagetable_walk: addr 400024 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 5027 level 2
                kvm_mmu_paging_element: pte 80000000febf0077 level 1
                kvm_mmu_get_page: sp gen 1 gfn 5 l1 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_spte_requested: gfn febf0 pfn 8000000000000000 level 1
                mark_mmio_spte: sptep:00000000d5b1e1c5 gfn febf0 access 7 gen 0
                """);
        List<ReplayStep.Outcome> v = new ArrayList<>();
        for (ReplayStep s : steps) {
            if (s.isEffectVerdict()) {
                v.add(s.outcome());
            }
        }
        for (int i = 1; i < v.size(); i++) {
            assertEquals(EXPLAINED, v.get(i), "effect #" + i + " " + steps);
        }
        for (ReplayStep s : steps) {
            assertTrue(s.missed().isEmpty(), "nothing missed: " + s);
        }
    }

    @Test
    void bit11LayoutDoesNotWrapAtNineteenBits() {
        // mmio-gen-bit11: MMIO_SPTE_GEN_MASK has 20 bits (SPTE bits 3-11 + 52-62): 0x80000 is a valid generation
        ReplayStep marker = last(run(Profile.builtIn("mmio-gen-bit11"), START, markAt("7fffe"), UPDATE));
        assertTrue(marker.predicted().isEmpty(), marker.toString());
    }

    @Test
    void bit11LayoutWrapsAtTwentyBits() {
        ReplayStep marker = last(run(Profile.builtIn("mmio-gen-bit11"), START, markAt("ffffe"), UPDATE));
        assertTrue(predictsZapAllFast(marker), marker.toString());
    }

    @Test
    void upstreamAndBit11PartAtTheWrappingUpdate() {
        List<ModelEvent> ev = TraceLines.parse(START + markAt("7fffe") + UPDATE + ZAP + RELOAD);
        List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, Profile.builtIn("mmio-gen-bit11"), MMIO_ON,
                ev, 3);
        // upstream predicts kvm_mmu_zap_all_fast at the marker (0x80000 & 0x7ffff = 0); the bit-11 layout does not
        // (0x80000 & 0xfffff)
        assertFalse(d.isEmpty());
        Divergence x = d.get(0);
        assertEquals(EventKind.MARKER, x.event(), x.toString());   // the marker is the stimulus that parts
        assertEquals(ev.get(27).seq(), x.seq(), x.toString());
        assertEquals("kvm_mmu_zap_all_fast", x.left(), x.toString());
        assertEquals("-", x.right(), x.toString());
        assertTrue(DivergenceDetector.diff(Profile.UPSTREAM, Profile.UPSTREAM, MMIO_ON, ev, 3).isEmpty());
    }

    @Test
    void markerSyntaxIsTheMemslotUpdateCommandOnly() {
        assertTrue(MemslotGeneration.isUpdate("mmu-replay: memslot-update"));
        assertTrue(MemslotGeneration.isUpdate("mmu-replay: memslot-update slot=2\n"));
        assertFalse(MemslotGeneration.isUpdate("mmu-replay: memslot-updates"));
        assertFalse(MemslotGeneration.isUpdate("mmu-replay: memslot gfn=0x100 npages=1"));
        assertFalse(MemslotGeneration.isUpdate("kvmrec vmm: memslot update 3 (slot 2 flags)"));
    }

    @Test
    void addressSpaceBitsAreStrippedBeforeTheWrapCheck() {
        // two address spaces: generation 1 (address space 1's first) counts as wrapped, as in the kernel
        assertTrue(MemslotGeneration.wrapped(0, false));
        assertTrue(MemslotGeneration.wrapped(1, false));
        assertFalse(MemslotGeneration.wrapped(2, false));
        assertEquals(0, MemslotGeneration.advance(0x7fffe, false));
        assertEquals(0x80000, MemslotGeneration.advance(0x7fffe, true));
        assertEquals(0, MemslotGeneration.advance(0xffffe, true));
    }
}
