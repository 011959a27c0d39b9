package dev.mmureplay.model;

import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.Spte;
import dev.mmureplay.model.mmu.TdpMmu;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TDP MMU (host tdp=true): SPTE encodings, tdp_iter yields, NX recovery, zap-all-fast, the stale-TLB window. */
class TdpMmuTest {

    /** AMD NPT host with the TDP MMU and kvm.nx_huge_pages=Y; ratio 1 so one recovery run zaps both pages. */
    static final ModelConfig NPT = ModelConfig.DEFAULT.withHost(true, ModelConfig.TdpEncoding.NPT, false, true, 1, 0,
            48, "6.18").withDetailedSteps(true);

    /**
     * The synth nx-recovery shape in small: root load, two guest instruction fetches in two 2 MiB regions (each
     * a 4 KiB mapping under a new level-1 table = a possible NX huge page), then one recovery run of the
     * kvm-nx-lpage-re thread (seq 18..23) zapping both tables, oldest first.
     */
    static final String NX_RECOVERY = """
            kvm_mmu_get_page: sp gen 0 gfn 0 l4 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_page_fault: vcpu 0 rip 0x40000010 address 0x0000000040000010 error_code 0x100000014
            kvm_mmu_spte_requested: gfn 40000 pfn 200000 level 1
            kvm_mmu_get_page: sp gen 0 gfn 0 l3 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 8000000000000000 new_spte 127000827
            kvm_mmu_get_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40000 level 3 old_spte 8000000000000000 new_spte 127001827
            kvm_mmu_get_page: sp gen 0 gfn 40000 l1 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40000 level 2 old_spte 8000000000000000 new_spte 120001827
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40000 level 1 old_spte 8000000000000000 new_spte 200000e67
            kvm_mmu_set_spte: gfn 40000 spte 200000e67 (rwxu) level 1 at 120001000
            kvm_page_fault: vcpu 0 rip 0x40200010 address 0x0000000040200010 error_code 0x100000014
            kvm_mmu_spte_requested: gfn 40200 pfn 200200 level 1
            kvm_mmu_get_page: sp gen 0 gfn 40200 l1 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40200 level 2 old_spte 8000000000000000 new_spte 120002827
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40200 level 1 old_spte 8000000000000000 new_spte 200200e67
            kvm_mmu_set_spte: gfn 40200 spte 200200e67 (rwxu) level 1 at 120002000
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40000 level 2 old_spte 120001827 new_spte 8000000000000000
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 40000 l1 8-byte q0 direct wux nxe ad root 0 sync
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40000 level 1 old_spte 200000e67 new_spte 80000000000005a0
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40200 level 2 old_spte 120002827 new_spte 8000000000000000
            kvm_mmu_prepare_zap_page: sp gen 0 gfn 40200 l1 8-byte q0 direct wux nxe ad root 0 sync
            kvm_tdp_mmu_spte_changed: as id 0 gfn 40200 level 1 old_spte 200200e67 new_spte 80000000000005a0
            """;

    /** Records what a TdpMmu traces. */
    static final class Rec implements TdpMmu.Trace {
        final List<String> lines = new ArrayList<>();
        final List<String> windows = new ArrayList<>();

        public void getPage(TdpMmu.Page p) {
            lines.add("get_page l" + p.level() + " " + Long.toHexString(p.gfn()));
        }

        public void spteChanged(int asId, long gfn, int level, long o, long n, int pageId, int index) {
            lines.add("changed " + Long.toHexString(gfn) + " l" + level + " " + Long.toHexString(o) + " -> "
                    + Long.toHexString(n));
        }

        public void prepareZap(TdpMmu.Page p) {
            lines.add("zap l" + p.level() + " " + Long.toHexString(p.gfn()));
        }

        public void setSpte(long gfn, long spte, int level, int index, int pageId) {
            lines.add("set " + Long.toHexString(gfn) + " " + Long.toHexString(spte) + " l" + level);
        }

        public void splitHugePage(long gfn, long spte, int level) {
            lines.add("split " + Long.toHexString(gfn) + " l" + level);
        }

        public void staleTlbWindow(long gfn, int level, long staleGfn, int staleLevel, boolean progress) {
            windows.add(Long.toHexString(gfn) + " l" + level + " stale " + Long.toHexString(staleGfn) + " l"
                    + staleLevel + " progress=" + progress);
        }
    }

    private static TdpMmu npt(boolean nx) {
        return new TdpMmu(Spte.Masks.nonEpt(48, false), false, nx);
    }

    /** n exec faults in n consecutive 2 MiB regions from gfn 0x40000: n possible NX huge pages, oldest first. */
    private static TdpMmu withFetchedRegions(int n, Rec r) {
        TdpMmu t = npt(true);
        t.allocRoot(4, null);
        for (int i = 0; i < n; i++) {
            long gfn = 0x40000 + ((long) i << 9);
            t.map(gfn, 1, 0x200000 + gfn, true, true, r);
        }
        return t;
    }

    @Test
    void nptLeafIsE67AndNonLeafIs827() {
        Rec r = new Rec();
        TdpMmu t = withFetchedRegions(1, r);
        // make_spte: MMU-present 11, MMU-writable 10, host-writable 9, D 6, A 5, U 2, W 1, P 0; no NX (exec fault)
        assertTrue(r.lines.contains("set 40000 240000e67 l1"), r.lines.toString());
        // make_nonleaf_spte: MMU-present | P | W | U | A (the address is learned from the recording)
        long nonLeaf = t.page(t.root()).spte(0);
        assertEquals(0x827L, nonLeaf & ~Spte.SPTE_BASE_ADDR_MASK);
    }

    @Test
    void nptHugeReadWithNxHugePagesIsNotExecutable() {
        Rec r = new Rec();
        TdpMmu t = npt(true);
        t.allocRoot(4, null);
        t.map(0x40201, 2, 0x200201, false, true, r);
        // level 2, bit 7, NX because kvm.nx_huge_pages drops exec above 4K; pfn aligned to 2 MiB
        assertTrue(r.lines.contains("set 40200 8000000200200ee7 l2"), r.lines.toString());
    }

    @Test
    void eptLeafHasRwxWbMemtypeAdBitsAndSuppressVe() {
        Rec r = new Rec();
        TdpMmu t = new TdpMmu(Spte.Masks.ept(true, true, false), true, false);
        t.allocRoot(4, null);
        t.map(0x40000, 1, 0x200000, false, true, r);
        // suppress-VE 63, MMU-writable 58, host-writable 57, D 9, A 8, MMU-present 11, IPAT 6 + WB 5:3, X R W
        assertTrue(r.lines.contains("set 40000 8600000200000b77 l1"), r.lines.toString());
        // EPT non-leaf: suppress-VE | A | RWX (…907)
        assertEquals(0x8000000000000907L, t.page(t.root()).spte(0) & ~Spte.SPTE_BASE_ADDR_MASK);
    }

    @Test
    void rangeZapMayYieldOnlyAfterTheIteratorMadeForwardProgress() {
        Rec r = new Rec();
        TdpMmu t = withFetchedRegions(2, r);
        // one page table's range: the walk finds its parent SPTE at next_last_level_gfn == start and steps beyond
        // the range (tdp_mmu_iter_cond_resched never sees progress), as the fix 33a3164161fc's message says
        TdpMmu.ZapResult one = t.zapGfnRange(0x40000, 0x40200, true, false, r);
        assertTrue(one.flush());
        assertEquals(0, one.yieldPoints());
        // two tables' range: after the first level-2 SPTE the iterator steps sideways (progress) → may yield there
        Rec r2 = new Rec();
        TdpMmu t2 = withFetchedRegions(2, r2);
        TdpMmu.ZapResult two = t2.zapGfnRange(0x40000, 0x40400, true, false, r2);
        assertEquals(0x40200L, two.firstYieldGfn());
        assertEquals(1, two.yieldPoints());
        // can_yield=false: no yield point at all
        TdpMmu t3 = withFetchedRegions(2, new Rec());
        assertEquals(0, t3.zapGfnRange(0x40000, 0x40400, false, false, new Rec()).yieldPoints());
    }

    @Test
    void nxRecoveryZapsDivRoundUpOfThePossiblePagesOldestFirst() {
        Rec r = new Rec();
        TdpMmu t = withFetchedRegions(61, r);
        assertEquals(61, t.possibleNxHugePages().size());
        Rec z = new Rec();
        // ratio 60: to_zap = DIV_ROUND_UP(61, 60) = 2, the two oldest (regions 0 and 1)
        assertEquals(2, t.recoverNxHugePages(60, false, z));
        List<String> zaps = z.lines.stream().filter(l -> l.startsWith("zap")).toList();
        assertEquals(List.of("zap l1 40000", "zap l1 40200"), zaps);
        assertEquals(59, t.possibleNxHugePages().size());
        // the parent SPTE goes non-present first, then the table's present leaf is frozen
        assertEquals("changed 40000 l2", z.lines.get(0).substring(0, 16));
        assertTrue(z.lines.get(2).endsWith("-> 80000000000005a0"), z.lines.get(2));
        assertFalse(t.flushPending(), "the flush accumulated over the run is done at its end");
        assertEquals(0, t.recoverNxHugePages(0, false, z), "ratio 0 disables recovery");
    }

    @Test
    void zapAllFastTogglesTheGenerationAndMakesTheRootObsolete() {
        TdpMmu t = withFetchedRegions(1, new Rec());
        int root = t.root();
        assertFalse(t.rootObsolete());
        assertEquals(0, t.zapAllFast(), "traced with the generation before the toggle");
        assertEquals(1, t.validGen());
        assertTrue(t.isObsolete(root), "kvm_tdp_mmu_invalidate_all_roots: role.invalid");
        assertTrue(t.rootObsolete(), "the vCPU loads a new root on its next entry");
        assertTrue((t.page(root).role() & dev.mmureplay.model.mmu.MmuPageRole.INVALID) != 0);
    }

    @Test
    void zapAllFastThenTheNewRootLoadIsPredictedNotLearned() {
        List<ModelEvent> ev = TraceLines.parse(NX_RECOVERY.lines().limit(11).reduce("", (a, b) -> a + b + "\n")
                + "kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 0\n"
                + "kvm_mmu_get_page: sp gen 0 gfn 0 l4 8-byte q0 direct wux nxe ad root 0 sync new\n");
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, NPT);
        List<ReplayStep> steps = new ArrayList<>();
        for (ModelEvent e : ev) {
            steps.add(m.apply(e));
        }
        assertEquals(ReplayStep.Outcome.EXPLAINED, steps.get(11).outcome(), "zap_all_fast gen 0, used_pages 0");
        assertEquals(ReplayStep.Outcome.EXPLAINED, steps.get(12).outcome(), steps.get(12).toString());
        assertFalse(m.tdp().rootObsolete());
    }

    @Test
    void upstreamExplainsEveryEffectOfTheRecoverySnippet() {
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, NPT);
        List<ModelEvent> ev = TraceLines.parse(NX_RECOVERY);
        for (int i = 0; i < ev.size(); i++) {
            ReplayStep s = m.apply(ev.get(i));
            if (i == 0) {
                assertEquals(ReplayStep.Outcome.LEARNED, s.outcome(), "the first root load has no traced trigger");
            } else if (ev.get(i).kind().isEffect()) {
                assertEquals(ReplayStep.Outcome.EXPLAINED, s.outcome(), "seq " + ev.get(i).seq() + " " + s);
            }
            assertTrue(s.missed().isEmpty(), "seq " + ev.get(i).seq());
        }
        assertEquals(0, m.tdp().possibleNxHugePages().size());
        assertFalse(m.tdp().flushPending());
    }

    @Test
    void staleTlbWindowOnlyWhenTheZapMayYieldWithAnEarlierFlushPending() {
        Rec up = new Rec();
        withFetchedRegions(2, new Rec()).recoverNxHugePages(1, false, up);
        assertEquals(List.of(), up.windows, "upstream kvm_tdp_mmu_zap_sp never yields");
        Rec pre = new Rec();
        TdpMmu t = withFetchedRegions(2, new Rec());
        t.recoverNxHugePages(1, true, pre);
        // the first page has no pending flush; the second is zapped while the first one's flush is pending
        assertEquals(List.of("40200 l1 stale 40000 l2 progress=false"), pre.windows);
        assertEquals(up.lines, pre.lines, "the same SPTE changes are traced either way");
        assertFalse(t.flushPending());
    }

    /**
     * tdp-zap-sp-may-yield vs upstream on the recovery run: both predict the same traced effects, but before
     * 33a3164161fc kvm_recover_nx_lpages zapped the second page (gfn 40200) through kvm_tdp_mmu_zap_gfn_range with
     * can_yield=true while the flush for the first page's parent SPTE (gfn 40000, level 2) was still pending in
     * the caller: dropping mmu_lock there would leave the guest's TLB entries for 40000 live. Under the write lock
     * the forward-progress rule still holds the yield back (progress=false), which is why the fix's message
     * calls the bug latent — the model reports the exposure.
     */
    @Test
    void mayYieldProfileDivergesFromUpstreamWithAStaleTlbWindowAtTheRecovery() {
        List<Divergence> d = DivergenceDetector.diff(Profile.UPSTREAM, Profile.builtIn("tdp-zap-sp-may-yield"), NPT,
                TraceLines.parse(NX_RECOVERY), 3);
        assertEquals(1, d.size(), d.toString());
        Divergence x = d.get(0);
        assertEquals(18, x.seq());
        assertEquals("stale_tlb_window", x.kind());
        assertEquals("effect", x.field());
        assertEquals("-", x.left());
        assertEquals("stale_tlb_window gfn=40200 level=1 staleGfn=40000 staleLevel=2 progress=false",
                x.rightEffect());
    }

    @Test
    void upstreamNeverDivergesFromItselfOnTheTdpSnippet() {
        assertEquals(List.of(), DivergenceDetector.diff(Profile.UPSTREAM, Profile.UPSTREAM, NPT,
                TraceLines.parse(NX_RECOVERY), 3));
    }

    @Test
    void tdpStateSurvivesASnapshotMidTrace() throws IOException {
        List<ModelEvent> ev = TraceLines.parse(NX_RECOVERY);
        MmuStateMachine a = MmuStateMachine.create(Profile.builtIn("tdp-zap-sp-may-yield"), NPT);
        for (ModelEvent e : ev.subList(0, 17)) {
            a.apply(e);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        a.writeSnapshot(new DataOutputStream(b));
        MmuStateMachine c = MmuStateMachine.readSnapshot(new DataInputStream(new ByteArrayInputStream(b.toByteArray())));
        assertEquals(a.digest(), c.digest());
        ByteArrayOutputStream b2 = new ByteArrayOutputStream();
        c.writeSnapshot(new DataOutputStream(b2));
        assertArrayEquals(b.toByteArray(), b2.toByteArray());
        for (ModelEvent e : ev.subList(17, ev.size())) {
            assertEquals(a.apply(e), c.apply(e));
        }
        assertEquals(a.digest(), c.digest());
        assertNotEquals(0, a.tdp().pageCount());
    }
}
