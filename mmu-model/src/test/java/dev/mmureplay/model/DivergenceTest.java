package dev.mmureplay.model;

import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.divergence.Divergences;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Profile vs profile divergence: first differing effect and EXACT field per event; host choices never count. */
class DivergenceTest {

    static final List<String> REAL_TRACES = List.of("long_user_basic.trace", "long_user_many_pages.trace",
            "long_user_memslot.trace", "long_kernel_emulated.trace", "real_io.trace", "pae32_kernel_fails.trace");

    private static final Profile NO_RESET = Profile.builtIn("no-reset-on-pae-toggle");

    /**
     * A 32-bit guest with paging on: 2-level (four quadrant roots on its CR3 gfn 1), then CR4.PAE on (the PAE
     * guest's root is learned — PDPTEs are not traced), then CR4.PAE off again and the kernel reloads the four
     * 4-byte roots.
     */
    static final String PAE_TOGGLE = """
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q0 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q1 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q2 wux nxe ad root 0 sync new
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q3 wux nxe ad root 0 sync new
            kvm_cr: cr_write 4 = 0x20
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 8-byte q0 wux nxe ad root 0 sync new
            kvm_cr: cr_write 4 = 0x0
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q0 wux nxe ad root 0 sync existing
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q1 wux nxe ad root 0 sync existing
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q2 wux nxe ad root 0 sync existing
            kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q3 wux nxe ad root 0 sync existing
            """;

    @Test
    void upstreamNeverDivergesFromItselfOnAnyRealTrace() {
        for (String t : REAL_TRACES) {
            List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, Profile.UPSTREAM, ModelConfig.DEFAULT,
                    TraceLines.resource(t), 3);
            assertEquals(List.of(), d, t);
        }
    }

    @Test
    void everyBuiltInProfileReplaysEveryRealTraceWithoutACrash() {
        for (Profile p : Profile.BUILT_IN) {
            for (String t : REAL_TRACES) {
                List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, p, ModelConfig.DEFAULT,
                        TraceLines.resource(t), 3);
                if (p.has(Profile.Switch.PAE_ROOT_DEFAULT_PDPTE) && t.equals("real_io.trace")) {
                    // real_io's guest runs with paging off: its four special PAE roots (upstream) would be one
                    // level-3 pae_root page under the RFC, from the first root load on
                    assertEquals("role", d.get(0).field(), d.toString());
                    assertEquals("l3 8-byte q0 direct wux nxe ad !wp", d.get(0).right());
                    continue;
                }
                // the real traces never toggle CR4.PAE (no kvm_cr on that host), never fault on private memory and
                // use no other PAE root: no other profile can part from upstream
                assertEquals(List.of(), d, p.name() + " on " + t);
            }
        }
    }

    @Test
    void cr4PaeToggleWithPagingOnReloadsRootsUpstreamButNotWithoutCr4PaeInTheRole() {
        // upstream (2019 fix: cr4_pae in the extended role, today part of the CPU role): clearing CR4.PAE with paging
        // on resets the MMU context, so the next entry reloads the 2-level guest's four quadrant roots — predicted,
        // EXPLAINED. no-reset-on-pae-toggle (the 2019 regression): the context survives the toggle, nothing predicts
        // the reload, the model can only adopt (LEARN) the root the recording shows.
        List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, NO_RESET, ModelConfig.DEFAULT,
                TraceLines.parse(PAE_TOGGLE), 3);
        assertEquals(1, d.size(), d.toString());
        Divergence x = d.get(0);
        assertEquals(8, x.seq());
        assertEquals(EventKind.GET_PAGE, x.event());
        assertEquals("kvm_mmu_get_page", x.kind());
        assertEquals("outcome", x.field());
        assertEquals("EXPLAINED", x.left());
        assertEquals("LEARNED", x.right());
        assertEquals("verdict", x.where());
        assertEquals(List.of(5L, 6L, 7L), x.context());
        assertTrue(x.leftEffect().startsWith("kvm_mmu_get_page gen=0 gfn=1 role=l2 4-byte q0"), x.leftEffect());
        // the first toggle (PAE on) does not diverge: the PAE guest's roots come from untraced PDPTEs, learned by both
    }

    @Test
    void divergenceIsDeterministicAndSymmetric() {
        List<ModelEvent> ev = TraceLines.parse(PAE_TOGGLE);
        List<Divergence> a = DivergenceDetector.diff(Profile.UPSTREAM, NO_RESET, ModelConfig.DEFAULT, ev, 3);
        assertEquals(a, DivergenceDetector.diff(Profile.UPSTREAM, NO_RESET, ModelConfig.DEFAULT, ev, 3));
        Divergence b = DivergenceDetector.diff(NO_RESET, Profile.UPSTREAM, ModelConfig.DEFAULT, ev, 3).get(0);
        assertEquals(a.get(0).left(), b.right());
        assertEquals(a.get(0).right(), b.left());
    }

    @Test
    void learnedAndIgnoredFieldsNeverDiverge() {
        // two set_spte effects that differ only in the host pfn (LEARNED) and the sptep address (IGNORED)
        ModelEvent l = new ModelEvent.SetSpte(-1, 0, 0x10, 0x123b48a25L, "r-xu", 1, 0x12b9a9080L);
        ModelEvent r = new ModelEvent.SetSpte(-1, 0, 0x10, 0x777777a25L, "r-xu", 1, 0x99999a080L);
        ReplayStep sl = new ReplayStep(ReplayStep.Outcome.STIMULUS, null, List.of(), List.of(l), List.of(), null);
        ReplayStep sr = new ReplayStep(ReplayStep.Outcome.STIMULUS, null, List.of(), List.of(r), List.of(), null);
        ModelEvent walk = new ModelEvent.PageTableWalk(3, 0, 0x10000, 0x14);
        assertNull(Divergences.compare(walk, sl, sr, List.of()));
        // … while an EXACT bit (W, bit 1) does
        ModelEvent w = new ModelEvent.SetSpte(-1, 0, 0x10, 0x123b48a27L, "rwxu", 1, 0x12b9a9080L);
        ReplayStep sw = new ReplayStep(ReplayStep.Outcome.STIMULUS, null, List.of(), List.of(w), List.of(), null);
        Divergence d = Divergences.compare(walk, sl, sw, List.of(1L, 2L));
        assertEquals("spte", d.field());
        assertEquals("a25", d.left());
        assertEquals("a27", d.right());
        assertEquals("kvm_mmu_set_spte", d.kind());
        assertEquals("predicted", d.where());
        // an effect only one side predicts
        ReplayStep none = new ReplayStep(ReplayStep.Outcome.STIMULUS, null, List.of(), List.of(), List.of(), null);
        Divergence e = Divergences.compare(walk, sl, none, List.of());
        assertEquals("effect", e.field());
        assertEquals("kvm_mmu_set_spte", e.left());
        assertEquals(Divergences.NONE, e.right());
    }
}
