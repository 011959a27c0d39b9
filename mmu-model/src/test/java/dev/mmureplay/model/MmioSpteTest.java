package dev.mmureplay.model;

import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.mmureplay.model.ReplayStep.Outcome.EXPLAINED;
import static dev.mmureplay.model.ReplayStep.Outcome.LEARNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MMIO SPTEs with kvm.mmio_caching=Y (snippets of synth mmio-gen): mark, check, handle, and the bit-11 layout. */
class MmioSpteTest {

    static final ModelConfig MMIO_ON = ModelConfig.DEFAULT.withMmioCaching(true).withDetailedSteps(true);

    /** Root + the code page (first fetch), as synth mmio-gen starts. */
    static final String START = """
            kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
            kvm_page_fault: vcpu 0 rip 0x10000 address 0x0000000000010000 error_code 0x14
            kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F
            kvm_mmu_paging_element: pte 2007 level 4
            kvm_mmu_paging_element: pte 3007 level 3
            kvm_mmu_paging_element: pte 4007 level 2
            kvm_mmu_paging_element: pte 10005 level 1
            kvm_mmu_set_accessed_bit: gpa 1000
            kvm_mmu_set_accessed_bit: gpa 2000
            kvm_mmu_set_accessed_bit: gpa 3000
            kvm_mmu_set_accessed_bit: gpa 4080
            kvm_mmu_get_page: sp gen 0 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_spte_requested: gfn 10 pfn 179b10 level 1
            kvm_mmu_set_spte: gfn 10 spte 179b10a25 (r-xu) level 1 at 10a4c3080
            """;

    /** A read of device gfn febf0 (no memslot): the fault path installs an MMIO SPTE in memslot generation G. */
    static String markAt(String gen) {
        return """
                kvm_page_fault: vcpu 0 rip 0x10347 address 0x000000000040004c error_code 0x4
                kvm_mmu_pagetable_walk: addr 40004c pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 5007 level 2
                kvm_mmu_paging_element: pte 80000000febf0057 level 1
                kvm_mmu_set_accessed_bit: gpa 3010
                kvm_mmu_set_accessed_bit: gpa 5000
                kvm_mmu_get_page: sp gen 0 gfn 5 l1 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_spte_requested: gfn febf0 pfn 8000000000000000 level 1
                mark_mmio_spte: sptep:00000000d5b1e1c5 gfn febf0 access 7 gen GEN
                """.replace("GEN", gen);
    }

    /** The next access: RSVD fault on the MMIO SPTE, generation still valid. */
    static final String HIT_2 = """
            kvm_page_fault: vcpu 0 rip 0x10010 address 0x0000000000400084 error_code 0xd
            check_mmio_spte: spte 80000febf0017 kvm_gen 2 spte-gen 2 valid 1
            handle_mmio_page_fault: addr:400084 gfn febf0 access 6
            """;

    private static List<ReplayStep> run(Profile p, String... snippets) {
        return TraceLines.replay(p, MMIO_ON, snippets);
    }

    private static List<ReplayStep.Outcome> verdicts(List<ReplayStep> steps) {
        List<ReplayStep.Outcome> out = new ArrayList<>();
        for (ReplayStep s : steps) {
            if (s.isEffectVerdict()) {
                out.add(s.outcome());
            }
        }
        return out;
    }

    @Test
    void markedMmioSpteIsCheckedAndHandledInItsGeneration() {
        // mark_mmio_spte (gen learned: memslot ioctls untraced), then a RSVD fault: get_mmio_spte finds the MMIO
        // SPTE (bit 51 | P | W|U | gpa | gen 2 in bits 3-10) → check_mmio_spte valid → handle_mmio_page_fault
        List<ReplayStep> steps = run(Profile.UPSTREAM, START, markAt("2"), HIT_2);
        List<ReplayStep.Outcome> v = verdicts(steps);
        assertEquals(LEARNED, v.get(0), "first root");
        for (int i = 1; i < v.size(); i++) {
            assertEquals(EXPLAINED, v.get(i), "effect #" + i + " " + steps);
        }
        assertEquals(17, v.size(), "10 start + 5 mark + check + handle");
    }

    @Test
    void staleGenerationFailsTheCheckAndTakesTheFullFaultPath() {
        // after an (untraced) memslot update the generation differs → valid 0 → RET_PF_INVALID → walk + re-mark
        List<ReplayStep> steps = run(Profile.UPSTREAM, START, markAt("2"), """
                kvm_page_fault: vcpu 0 rip 0x10065 address 0x00000000004000b0 error_code 0xd
                check_mmio_spte: spte 80000febf0017 kvm_gen 4 spte-gen 2 valid 0
                kvm_mmu_pagetable_walk: addr 4000b0 pferr 5 P|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 5027 level 2
                kvm_mmu_paging_element: pte 80000000febf0077 level 1
                kvm_mmu_spte_requested: gfn febf0 pfn 8000000000000000 level 1
                mark_mmio_spte: sptep:00000000d5b1e1c5 gfn febf0 access 7 gen 4
                """);
        List<ReplayStep.Outcome> v = verdicts(steps);
        for (int i = 1; i < v.size(); i++) {
            assertEquals(EXPLAINED, v.get(i), "effect #" + i + " " + steps);
        }
        for (ReplayStep s : steps) {
            assertTrue(s.missed().isEmpty(), "no handle_mmio_page_fault after a stale check: " + s.missed());
        }
    }

    @Test
    void generationBit8InSpteBit11LooksShadowPresentUnderMmioGenBit11() {
        // generation 0x100 (128 memslot updates with two address spaces). Upstream (fixed layout: gen bits 0-7 in
        // SPTE bits 3-10, 8-18 in 52-62) stores 0x180000febf0007: not MMU-present, an MMIO SPTE → check_mmio_spte.
        // mmio-gen-bit11 (first MMU_PRESENT version: gen bits 0-8 in SPTE bits 3-11) stores 0x80000febf0807: bit 11 =
        // MMU-present, so get_mmio_spte sees a present SPTE with reserved bit 51 ("detect reserved bits") → -EINVAL,
        // nothing traced — the seed crash. The kvm_page_fault is the first event whose predictions part.
        String hit = """
                kvm_page_fault: vcpu 0 rip 0x10010 address 0x0000000000400084 error_code 0xd
                check_mmio_spte: spte 180000febf0007 kvm_gen 100 spte-gen 100 valid 1
                handle_mmio_page_fault: addr:400084 gfn febf0 access 6
                """;
        List<ModelEvent> ev = TraceLines.parse(START + markAt("100") + hit);
        List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, Profile.builtIn("mmio-gen-bit11"), MMIO_ON,
                ev, 3);
        Divergence x = d.get(0);
        assertEquals(28, x.seq());
        assertEquals(EventKind.KVM_PAGE_FAULT, x.event());
        assertEquals("check_mmio_spte", x.kind());
        assertEquals("effect", x.field());
        assertEquals("check_mmio_spte", x.left());
        assertEquals("-", x.right());
        assertEquals("check_mmio_spte spte=180000febf0007 spteGen=100", x.leftEffect());
        // the recorded upstream events are explained by upstream only
        List<ReplayStep.Outcome> up = verdicts(run(Profile.UPSTREAM, START, markAt("100"), hit));
        assertEquals(List.of(EXPLAINED, EXPLAINED), up.subList(up.size() - 2, up.size()));
    }
}
