package dev.mmureplay.model;

import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.MmuPageRole;
import dev.mmureplay.model.mmu.ShadowPage;
import dev.mmureplay.model.mmu.Spte;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.mmureplay.model.ReplayStep.Outcome.EXPLAINED;
import static dev.mmureplay.model.ReplayStep.Outcome.LEARNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Profile {@code pae-root-default-pdpte} (seed 002, the 2021/22 RFC making PAE roots ordinary shadow pages) against
 * upstream's special pae_root (snippets of synth {@code nonpaging-pae}).
 */
class PaeRootDefaultPdpteTest {

    static final Profile RFC = Profile.builtIn("pae-root-default-pdpte");
    static final ModelConfig DETAILED = ModelConfig.DEFAULT.withDetailedSteps(true);

    /** Upstream recording (synth nonpaging-pae start): paging off, the four special PAE roots, a first fault. */
    static final String UPSTREAM_NONPAGING = """
            kvm_cr: cr_write 0 = 0x11
            kvm_mmu_get_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 80000 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_page_fault: vcpu 0 rip 0x1047 address 0x0000000000262000 error_code 0x4
            kvm_mmu_spte_requested: gfn 262 pfn 1ff7c2 level 1
            kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_mmu_set_spte: gfn 262 spte 1ff7c2e67 (rwxu) level 1 at 10c3d1310
            """;

    /**
     * What an RFC kernel records for the same guest: one level-3 pae_root page, its level-2 child allocated by the
     * first fault in the GiB (root 0, an ordinary child), the CR3 write keeping the root, the CR4.PAE write (a role
     * bit: reset) reloading the same root page.
     */
    static final String RFC_NONPAGING = """
            kvm_cr: cr_write 0 = 0x11
            kvm_mmu_get_page: sp gen 0 gfn 0 l3 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_page_fault: vcpu 0 rip 0x1047 address 0x0000000000262000 error_code 0x4
            kvm_mmu_spte_requested: gfn 262 pfn 1ff7c2 level 1
            kvm_mmu_get_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_mmu_set_spte: gfn 262 spte 1ff7c2e67 (rwxu) level 1 at 10c3d1310
            kvm_cr: cr_write 3 = 0x9000
            kvm_page_fault: vcpu 0 rip 0x1047 address 0x0000000000263000 error_code 0x4
            kvm_mmu_spte_requested: gfn 263 pfn 1ff7c3 level 1
            kvm_mmu_set_spte: gfn 263 spte 1ff7c3e67 (rwxu) level 1 at 10c3d1318
            kvm_cr: cr_write 4 = 0x20
            kvm_mmu_get_page: sp gen 0 gfn 0 l3 8-byte q0 direct wux nxe ad root 0 sync existing
            """;

    /**
     * An RFC kernel's PAE guest (CR3 = 0x9000, PDPTE0 → page directory gfn a): the root is the level-3 page shadowing
     * the PDPT (CR3's gfn 9); the fault allocates the level-2 page of the page directory below it, then the page table.
     */
    static final String RFC_PAE_GUEST = """
            kvm_mmu_get_page: sp gen 0 gfn 9 l3 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_pagetable_walk: addr 465000 pferr 4 U
            kvm_mmu_paging_element: pte a001 level 3
            kvm_mmu_paging_element: pte c007 level 2
            kvm_mmu_paging_element: pte 1065007 level 1
            kvm_mmu_set_accessed_bit: gpa a010
            kvm_mmu_set_accessed_bit: gpa c328
            kvm_mmu_get_page: sp gen 0 gfn a l2 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn c l1 8-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_spte_requested: gfn 1065 pfn 1e12d5 level 1
            kvm_mmu_set_spte: gfn 1065 spte 1e12d5a25 (r-xu) level 1 at 10c3d8328
            """;

    private static List<ReplayStep.Outcome> verdicts(MmuStateMachine m, String trace) {
        List<ReplayStep.Outcome> out = new ArrayList<>();
        for (ModelEvent e : TraceLines.parse(trace)) {
            ReplayStep s = m.apply(e);
            if (s.isEffectVerdict()) {
                out.add(s.outcome());
            }
            assertTrue(s.missed().isEmpty(), "nothing lapses: " + s.missed());
        }
        return out;
    }

    @Test
    void nonPagingGuestDivergesAtTheFirstRootLoadOneLevel3PageInsteadOfFourLevel2Roots() {
        // upstream mmu_alloc_direct_roots (shadow root level PT32E): the special mmu->pae_root gets four entries, each
        // mmu_alloc_root(i << 18, level 2) → four kvm_mmu_get_page l2 direct. The RFC allocates the PAE root through
        // the normal page path: one kvm_mmu_get_page of a level-3 direct page at gfn 0 (role.pae_root, unprinted);
        // its entries hold the default PDPTE, so no level-2 page exists until a fault needs one.
        List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, RFC, ModelConfig.DEFAULT,
                TraceLines.parse(UPSTREAM_NONPAGING), 3);
        Divergence x = d.get(0);
        assertEquals(2, x.seq());
        assertEquals(EventKind.GET_PAGE, x.event());
        assertEquals("kvm_mmu_get_page", x.kind());
        assertEquals("role", x.field());
        assertEquals("predicted", x.where());
        assertEquals("l2 8-byte q0 direct wux nxe ad !wp", x.left());
        assertEquals("l3 8-byte q0 direct wux nxe ad !wp", x.right());
        assertEquals(List.of(1L), x.context());
        // and upstream explains its own recording completely
        assertEquals(List.of(EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED),
                verdicts(MmuStateMachine.create(Profile.UPSTREAM, DETAILED), UPSTREAM_NONPAGING));
    }

    @Test
    void rfcPaeRootPageOfANonPagingGuestGetsItsLevel2ChildrenFromTheFaultPathAndSurvivesCr3Writes() {
        MmuStateMachine m = MmuStateMachine.create(RFC, DETAILED);
        assertEquals(List.of(EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED),
                verdicts(m, RFC_NONPAGING));
        ShadowPage root = m.mmu().page(m.mmu().vcpu(0).rootSp());
        assertEquals(3, root.level());
        assertTrue((root.role() & MmuPageRole.PAE_ROOT) != 0);
        // the level-2 child is linked by a PDPTE: MMU-present | address | P, nothing else (W/U/A reserved in PDPTEs)
        long pdpte = root.spte(0);
        assertTrue(Spte.isShadowPresent(pdpte));
        assertEquals(Spte.SPTE_MMU_PRESENT_MASK | Spte.PT_PRESENT_MASK, pdpte & ~Spte.SPTE_BASE_ADDR_MASK);
        ShadowPage l2 = m.mmu().childOf(pdpte);
        assertEquals(0, l2.rootCount());
        assertEquals(0, l2.role() & MmuPageRole.PAE_ROOT, "only the root page is a pae_root page");
        // unused entries hold the default PDPTE: not MMU-present
        assertFalse(Spte.isShadowPresent(root.spte(1)));
    }

    @Test
    void upstreamCr3WriteWithPagingOffFreesTheSpecialPaeRootAndReentryReloadsIt() {
        // kvm_set_cr3 → kvm_mmu_new_pgd → fast_pgd_switch: a current root with no shadow page (mmu->pae_root) is freed
        // whatever the paging mode; kvm_mmu_reload then finds the four level-2 roots existing
        String t = UPSTREAM_NONPAGING + """
                kvm_cr: cr_write 3 = 0x9000
                kvm_mmu_get_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 0 sync existing
                kvm_mmu_get_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 0 sync existing
                kvm_mmu_get_page: sp gen 0 gfn 80000 l2 8-byte q0 direct wux nxe ad root 0 sync existing
                kvm_mmu_get_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 0 sync existing
                """;
        List<ReplayStep.Outcome> v = verdicts(MmuStateMachine.create(Profile.UPSTREAM, DETAILED), t);
        assertEquals(11, v.size());
        assertTrue(v.stream().allMatch(o -> o == EXPLAINED), v.toString());
    }

    @Test
    void rfcPaeGuestRootShadowsThePdptPageAndTheFaultAllocatesThePageDirectoryBelowIt() {
        MmuStateMachine m = MmuStateMachine.create(RFC, DETAILED);
        // the root load's trigger (CR writes, EFER.NX for the role) is not in the snippet: learned, then predicted
        assertEquals(List.of(LEARNED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED, EXPLAINED),
                verdicts(m, RFC_PAE_GUEST));
        ShadowPage root = m.mmu().page(m.mmu().vcpu(0).rootSp());
        assertEquals(9, root.gfn());
        assertEquals(9, m.mmu().vcpu(0).cr3Gfn());
        // role.guest_pae_root: the guest's PDPT page is shadowed, hence write-tracked (the RFC write-protects it)
        assertTrue(m.mmu().isWriteTracked(9));
        assertFalse(m.mmu().vcpu(0).paeRootActive(), "no special pae_root array");
    }

    @Test
    void childRolesDropThePaeRootBitAndUpstreamNeverSetsIt() {
        int root = MmuPageRole.withLevel(MmuPageRole.DIRECT, 3) | MmuPageRole.PAE_ROOT;
        assertEquals(0, MmuPageRole.childRole(root, 1, true, 7) & MmuPageRole.PAE_ROOT);
        assertEquals(2, MmuPageRole.level(MmuPageRole.childRole(root, 1, true, 7)));
        MmuStateMachine up = MmuStateMachine.create(Profile.UPSTREAM, DETAILED);
        verdicts(up, UPSTREAM_NONPAGING);
        for (int id : up.mmu().activePages()) {
            assertEquals(0, up.mmu().page(id).role() & MmuPageRole.PAE_ROOT);
        }
        assertTrue(up.mmu().vcpu(0).paeRootActive());
    }

    @Test
    void paeRootPdpteCarriesOnlyMmuPresentAddressAndP() {
        assertEquals(0x800L | 0x5000L | 1L, Spte.makePaeRootPdpte(0x5000L));
    }
}
