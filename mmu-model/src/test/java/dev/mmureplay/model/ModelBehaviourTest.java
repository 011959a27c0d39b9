package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.ShadowPage;
import dev.mmureplay.model.mmu.VcpuMmu;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.mmureplay.model.ReplayStep.Outcome.EXPLAINED;
import static dev.mmureplay.model.ReplayStep.Outcome.LEARNED;
import static dev.mmureplay.model.ReplayStep.Outcome.MISMATCH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One model behaviour per test, each a snippet of a real trace (synthetic only where noted). */
class ModelBehaviourTest {

    /** The start of long_user_basic.trace: root load, then the first fault at 0x10000 (user fetch). */
    static final String FIRST_TOUCH = """
            kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F
            kvm_mmu_paging_element: pte 2007 level 4
            kvm_mmu_paging_element: pte 3007 level 3
            kvm_mmu_paging_element: pte 4007 level 2
            kvm_mmu_paging_element: pte 10007 level 1
            kvm_mmu_set_accessed_bit: gpa 1000
            kvm_mmu_set_accessed_bit: gpa 2000
            kvm_mmu_set_accessed_bit: gpa 3000
            kvm_mmu_set_accessed_bit: gpa 4080
            kvm_mmu_get_page: sp gen 0 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_spte_requested: gfn 10 pfn 123b48 level 1
            kvm_mmu_set_spte: gfn 10 spte 123b48a25 (r-xu) level 1 at 12b9a9080
            """;

    private MmuStateMachine machine;

    private List<ReplayStep> run(String... snippets) {
        machine = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT.withDetailedSteps(true));
        List<ReplayStep> steps = new ArrayList<>();
        for (String s : snippets) {
            for (ModelEvent e : TraceLines.parse(s)) {
                steps.add(machine.apply(e));
            }
        }
        return steps;
    }

    private static List<ReplayStep.Outcome> effectOutcomes(List<ReplayStep> steps) {
        List<ReplayStep.Outcome> out = new ArrayList<>();
        for (ReplayStep s : steps) {
            if (s.isEffectVerdict()) {
                out.add(s.outcome());
            }
        }
        return out;
    }

    private static void assertAllExplainedAfterFirst(List<ReplayStep> steps) {
        List<ReplayStep.Outcome> o = effectOutcomes(steps);
        assertEquals(LEARNED, o.get(0), "the first root load is learned");
        for (int i = 1; i < o.size(); i++) {
            assertEquals(EXPLAINED, o.get(i), "effect #" + i + " " + steps);
        }
        for (ReplayStep s : steps) {
            assertTrue(s.missed().isEmpty(), "missed " + s.missed());
        }
    }

    @Test
    void firstTouchFaultBuildsTheShadowChainAndLeafSpte() {
        List<ReplayStep> steps = run(FIRST_TOUCH);
        assertAllExplainedAfterFirst(steps);
        assertEquals(10, effectOutcomes(steps).size(), "root + 9 predicted effects");
        VcpuMmu v = machine.mmu().vcpu(0);
        assertEquals(1, v.cr3Gfn(), "CR3 learned from the root page");
        assertEquals(4, machine.mmu().usedPages());
    }

    @Test
    void secondFaultThroughExistingTablesNeedsNoGetPage() {
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 100000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 8000000000100007 level 1
                kvm_mmu_set_accessed_bit: gpa 4800
                kvm_mmu_spte_requested: gfn 100 pfn 3b32 level 1
                kvm_mmu_set_spte: gfn 100 spte 8000000003b32825 (r--u) level 1 at 12b9a9800
                """);
        assertAllExplainedAfterFirst(steps);
    }

    @Test
    void existingShadowPageIsReusedUnderANewRoot() {
        // synthetic: an untraced CR3 switch to gfn 7, whose PML4 points at the same PDPT (gfn 2)
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_get_page: sp gen 0 gfn 7 l4 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 10027 level 1
                kvm_mmu_get_page: sp gen 0 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync existing
                kvm_mmu_spte_requested: gfn 10 pfn 123b48 level 1
                """);
        List<ReplayStep.Outcome> o = effectOutcomes(steps);
        assertEquals(LEARNED, o.get(10), "the untraced CR3 switch is learned");
        for (int i = 11; i < o.size(); i++) {
            assertEquals(EXPLAINED, o.get(i), steps.toString());
        }
        assertEquals(7, machine.mmu().vcpu(0).cr3Gfn());
    }

    @Test
    void zeroPageReadMapsReadOnlyThenWriteRefaultGetsWritableSpte() {
        // long_user_memslot.trace: read of untouched memory, host write (COW) → unmap + read refault, then write
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 140000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 8000000000140007 level 1
                kvm_mmu_set_accessed_bit: gpa 4a00
                kvm_mmu_spte_requested: gfn 140 pfn 3b32 level 1
                kvm_mmu_set_spte: gfn 140 spte 8000000003b32825 (r--u) level 1 at 106229a00
                kvm_unmap_hva_range: mmu notifier unmap range: 0x007f117a740000 -- 0x007f117a741000
                kvm_mmu_pagetable_walk: addr 140000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 8000000000140027 level 1
                kvm_mmu_spte_requested: gfn 140 pfn 14d0e6 level 1
                kvm_mmu_set_spte: gfn 140 spte 800000014d0e6a25 (r--u) level 1 at 106229a00
                kvm_mmu_pagetable_walk: addr 140000 pferr 7 P|W|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 8000000000140027 level 1
                kvm_mmu_set_dirty_bit: gpa 4a00
                kvm_mmu_spte_requested: gfn 140 pfn 14d0e6 level 1
                kvm_mmu_set_spte: gfn 140 spte 800000014d0e6e67 (rw-u) level 1 at 106229a00
                """);
        assertAllExplainedAfterFirst(steps);
        ShadowPage pt = machine.mmu().page(machine.mmu().validPagesFor(4)[0]);
        assertEquals(0x800000014d0e6e67L, pt.spte(0x140));
    }

    @Test
    void hugeGuestPageIsShadowedByDirectPagesPerAccess() {
        // long_user_basic.trace marker 4: a 2 MiB guest page read (direct -ux), then written (new direct wux)
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 600000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 200087 level 2
                kvm_mmu_set_accessed_bit: gpa 3018
                kvm_mmu_spte_requested: gfn 200 pfn 3b32 level 1
                kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct -ux nxe ad root 0 sync new
                kvm_mmu_set_spte: gfn 200 spte 3b32825 (r-xu) level 1 at 10953d000
                kvm_mmu_pagetable_walk: addr 601000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 2000a7 level 2
                kvm_mmu_spte_requested: gfn 201 pfn 3b32 level 1
                kvm_mmu_set_spte: gfn 201 spte 3b32825 (r-xu) level 1 at 10953d008
                kvm_mmu_pagetable_walk: addr 602000 pferr 6 W|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 2000a7 level 2
                kvm_mmu_set_dirty_bit: gpa 3018
                kvm_mmu_spte_requested: gfn 202 pfn 138813 level 1
                kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_set_spte: gfn 202 spte 138813e67 (rwxu) level 1 at 10a2cb010
                """);
        assertAllExplainedAfterFirst(steps);
        assertEquals(2, machine.mmu().validPagesFor(0x200).length, "-ux and wux direct pages coexist");
    }

    @Test
    void directPagePrefetchInstallsNeighboursWithAccessedClear() {
        // long_user_many_pages.trace: host pages resident → 7 neighbours prefetched (a05, A clear)
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 600000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 200087 level 2
                kvm_mmu_set_accessed_bit: gpa 3018
                kvm_mmu_spte_requested: gfn 200 pfn 139869 level 1
                kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct -ux nxe ad root 0 sync new
                kvm_mmu_set_spte: gfn 200 spte 139869a25 (r-xu) level 1 at 148333000
                kvm_mmu_set_spte: gfn 201 spte 138813a05 (r-xu) level 1 at 148333008
                kvm_mmu_set_spte: gfn 202 spte 13983ca05 (r-xu) level 1 at 148333010
                kvm_mmu_set_spte: gfn 203 spte 1560f0a05 (r-xu) level 1 at 148333018
                """);
        assertAllExplainedAfterFirst(steps);
    }

    @Test
    void guestWriteToItsPageTableUnsyncsItAndCr3ReloadSyncsIt() {
        // long_user_basic.trace marker 5 (unsync), then a CR3 reload (kvm_cr, as hosts that emit it show it)
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 4a80 pferr 6 W|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 4007 level 1
                kvm_mmu_set_accessed_bit: gpa 4020
                kvm_mmu_set_dirty_bit: gpa 4020
                kvm_mmu_spte_requested: gfn 4 pfn 139838 level 1
                kvm_mmu_unsync_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_set_spte: gfn 4 spte 139838e67 (rwxu) level 1 at 12b9a9020
                kvm_cr: cr_write 3 = 0x1000
                kvm_mmu_sync_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 unsync
                """);
        assertAllExplainedAfterFirst(steps);
        ShadowPage pt = machine.mmu().page(machine.mmu().validPagesFor(4)[0]);
        assertFalse(pt.unsync());
        assertEquals(0x139838e65L, pt.spte(4), "the guest's own PT mapping is write-protected again");
    }

    @Test
    void untracedSyncOfAnUnsyncPageIsExplainedFromState() {
        // long_user_basic.trace teardown: the unsync page is synced when it is zapped
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 4a80 pferr 6 W|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 4007 level 1
                kvm_mmu_set_accessed_bit: gpa 4020
                kvm_mmu_set_dirty_bit: gpa 4020
                kvm_mmu_spte_requested: gfn 4 pfn 139838 level 1
                kvm_mmu_unsync_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_set_spte: gfn 4 spte 139838e67 (rwxu) level 1 at 12b9a9020
                tracing_mark_write: kvmrec end (done port) 0
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 unsync
                kvm_mmu_sync_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 unsync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 1 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux invalid nxe ad root 0 sync
                """);
        assertAllExplainedAfterFirst(steps);
        assertEquals(0, machine.mmu().usedPages(), "teardown frees every page");
    }

    @Test
    void cr0WpToggleWithoutKvmCrIsLearnedFromTheRootRole() {
        // long_kernel_emulated.trace marker 7: new root (WP=0, same printed role), then the old one again
        List<ReplayStep> steps = run("""
                kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
                kvm_emulate_insn: 0:100d0:0f 22 c0 (prot64)
                kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
                kvm_emulate_insn: 0:100d9:0f 22 c0 (prot64)
                kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync existing
                """);
        assertEquals(List.of(LEARNED, LEARNED, LEARNED), effectOutcomes(steps));
        assertTrue(steps.get(2).note().contains("CR0.WP=0"), steps.get(2).note());
        assertTrue(machine.mmu().vcpu(0).cr0Wp());
        assertEquals(2, machine.mmu().validPagesFor(1).length, "one root per CR0.WP value");
    }

    @Test
    void cr0WpToggleSeenAsKvmCrPredictsTheNewRoot() {
        List<ReplayStep> steps = run("""
                kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
                kvm_cr: cr_write 0 = 0x80000011
                kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
                kvm_cr: cr_write 0 = 0x80010011
                kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync existing
                """);
        assertEquals(List.of(LEARNED, EXPLAINED, EXPLAINED), effectOutcomes(steps));
    }

    /** synth pae-toggle: a 32-bit guest (CR3 gfn 0x10, PDPTE0 → gfn 0x12) and its first root load. */
    static final String PAE_TOGGLE_START = """
            kvm_cr: cr_write 3 = 0x10000
            kvm_cr: cr_write 4 = 0x0
            kvm_cr: cr_write 0 = 0x80010011
            kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q0 wux !nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q1 wux !nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q2 wux !nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q3 wux !nxe ad root 0 sync new
            """;

    @Test
    void twoLevelGuestRootsShadowCr3NotThePaeRootsPdpteAfterPaeToggle() {
        // mmu_alloc_shadow_roots: 2-level guest → 4 PAE-root entries = CR3 gfn, quadrant i; PAE guest → PDPTE gfns
        List<ReplayStep> steps = run(PAE_TOGGLE_START, """
                kvm_cr: cr_write 4 = 0x20
                kvm_mmu_get_page: sp gen 0 gfn 12 l2 8-byte q0 wux !nxe ad root 0 sync new
                kvm_cr: cr_write 4 = 0x0
                kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q0 wux !nxe ad root 0 sync existing
                kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q1 wux !nxe ad root 0 sync existing
                kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q2 wux !nxe ad root 0 sync existing
                kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q3 wux !nxe ad root 0 sync existing
                """);
        // first load learned (root role efer_nx not yet seen), q1..q3 predicted; the PAE root is learned (PDPTEs
        // untraced); back in 32-bit mode the quadrant roots of CR3's gfn 0x10 are predicted, not of gfn 0x12
        assertEquals(List.of(LEARNED, EXPLAINED, EXPLAINED, EXPLAINED, LEARNED,
                EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED), effectOutcomes(steps));
        assertEquals(0x10, machine.mmu().vcpu(0).cr3Gfn(), "an 8-byte PAE root's gfn is a PDPTE's, not CR3's");
        for (ReplayStep s : steps) {
            assertTrue(s.missed().isEmpty(), "no root predicted before CR0.PG is known: " + s.missed());
        }
    }

    @Test
    void notNxeRootRoleTeachesGuestEferNxOff() {
        // a printed !nxe root: the host's root role follows the guest's EFER.NX (kvm_init_shadow_mmu would force nxe)
        List<ReplayStep> steps = run(PAE_TOGGLE_START, """
                kvm_mmu_pagetable_walk: addr 2162000 pferr 4 U
                kvm_mmu_paging_element: pte 11007 level 2
                kvm_mmu_paging_element: pte 362007 level 1
                kvm_mmu_set_accessed_bit: gpa 10020
                kvm_mmu_set_accessed_bit: gpa 11588
                kvm_mmu_get_page: sp gen 0 gfn 11 l1 4-byte q0 wux !nxe ad root 0 sync new
                kvm_mmu_spte_requested: gfn 362 pfn 19a8c2 level 1
                kvm_mmu_set_spte: gfn 362 spte 19a8c2a25 (r-xu) level 1 at 10b2c4b10
                """);
        assertAllExplainedAfterFirst(steps);
        VcpuMmu v = machine.mmu().vcpu(0);
        assertFalse(v.eferNx(), "EFER.NX=0 learned from the !nxe root");
        assertTrue((v.knownBits() & VcpuMmu.KNOWN_NX) != 0);
    }

    @Test
    void forcedNxeRootRoleSaysNothingAboutGuestEferNx() {
        // kvm_init_shadow_mmu forces root_role.efer_nx: a printed nxe leaves EFER.NX unknown (default on)
        run(FIRST_TOUCH);
        VcpuMmu v = machine.mmu().vcpu(0);
        assertTrue(v.eferNx());
        assertEquals(0, v.knownBits() & VcpuMmu.KNOWN_NX);
    }

    @Test
    void walkerErrorsPredictTheInjectedPageFaultCode() {
        // synthetic (no injected #PF in the shared traces): user write to a read-only page, a not-present page,
        // and a fetch from an NX page
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 500000 pferr 6 W|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 500025 level 1
                kvm_mmu_walker_error: pferr 7 P|W|U
                kvm_inj_exception: #PF (0x7)
                kvm_mmu_pagetable_walk: addr 501000 pferr 4 U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 0 level 1
                kvm_mmu_walker_error: pferr 4 U
                kvm_inj_exception: #PF (0x4)
                kvm_mmu_pagetable_walk: addr 502000 pferr 14 U|F
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 8000000000502025 level 1
                kvm_mmu_walker_error: pferr 15 P|U|F
                kvm_inj_exception: #PF (0x15)
                """);
        assertAllExplainedAfterFirst(steps);
    }

    @Test
    void wrongInjectedCodeIsAMismatch() {
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 500000 pferr 6 W|U
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 500025 level 1
                kvm_mmu_walker_error: pferr 6 W|U
                """);
        ReplayStep last = steps.get(steps.size() - 1);
        assertEquals(MISMATCH, last.outcome());
        assertEquals(Field.WALKER_ERROR_PFERR, last.diffs().get(0).field());
    }

    @Test
    void zapAllFastFlipsTheGenerationAndRebuildsEverything() {
        // long_user_memslot.trace: memslot deleted + re-added
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                tracing_mark_write: kvmrec vmm: delete+recreate slot1 (same hva) 16
                kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 4
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 1 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux invalid nxe ad root 0 sync
                kvm_mmu_get_page: sp gen 1 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_pagetable_walk: addr 10020 pferr 14 U|F
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 10027 level 1
                kvm_mmu_get_page: sp gen 1 gfn 2 l3 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 1 gfn 3 l2 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 1 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_spte_requested: gfn 10 pfn 14d217 level 1
                kvm_mmu_set_spte: gfn 10 spte 14d217a25 (r-xu) level 1 at 1061a3080
                """);
        assertAllExplainedAfterFirst(steps);
        assertEquals(1, machine.mmu().mmuValidGen());
    }

    @Test
    void nonPagingGuestGetsFourDirectPaeRoots() {
        // real_io.trace: real mode, paging off
        List<ReplayStep> steps = run("""
                kvm_mmu_get_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn 80000 l2 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 0 sync new
                """);
        assertAllExplainedAfterFirst(steps);
        VcpuMmu v = machine.mmu().vcpu(0);
        assertFalse(v.paging());
        assertTrue(v.paeRootActive());
    }

    @Test
    void teardownZapsNewestFirstThenFreesTheVcpuRoots() {
        // real_io.trace teardown in the kvm-nx-lpage-re kernel thread
        List<ReplayStep> steps = run("""
                kvm_mmu_get_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn 80000 l2 8-byte q0 direct wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 0 sync new
                tracing_mark_write: kvmrec end (hlt) 0
                kvm_mmu_prepare_zap_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 1 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 80000 l2 8-byte q0 direct wux nxe ad root 1 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 1 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 1 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux invalid nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux invalid nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn 80000 l2 8-byte q0 direct wux invalid nxe ad root 0 sync
                kvm_mmu_prepare_zap_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux invalid nxe ad root 0 sync
                """);
        assertAllExplainedAfterFirst(steps);
        assertEquals(0, machine.mmu().usedPages());
    }

    @Test
    void emulatedWriteToAShadowedPageTableZapsTheShadowingSpte() {
        // synthetic: the (emulated) guest kernel rewrites the PTE of 0x10000 (gpa 4080, in shadowed table gfn 4);
        // kvm_mmu_track_write zaps the SPTE untraced, so the next fetch faults and installs it again
        List<ReplayStep> steps = run(FIRST_TOUCH, """
                kvm_mmu_pagetable_walk: addr 4080 pferr 2 W
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 4067 level 1
                kvm_emulate_insn: 0:100d0:48 89 07 (prot64)
                kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F
                kvm_mmu_paging_element: pte 2027 level 4
                kvm_mmu_paging_element: pte 3027 level 3
                kvm_mmu_paging_element: pte 4027 level 2
                kvm_mmu_paging_element: pte 10027 level 1
                kvm_mmu_spte_requested: gfn 10 pfn 123b48 level 1
                kvm_mmu_set_spte: gfn 10 spte 123b48a25 (r-xu) level 1 at 12b9a9080
                """);
        assertAllExplainedAfterFirst(steps);
    }

    @Test
    void alteredSpteBitIsReportedFieldByField() {
        String bad = FIRST_TOUCH.replace("spte 123b48a25 (r-xu)", "spte 123b48a27 (rwxu)");
        List<ReplayStep> steps = run(bad);
        ReplayStep last = steps.get(steps.size() - 1);
        assertEquals(MISMATCH, last.outcome());
        assertEquals(List.of(Field.SET_SPTE_BITS, Field.SET_SPTE_PERMS),
                last.diffs().stream().map(FieldDiff::field).toList());
    }
}
