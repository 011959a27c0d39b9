package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.PrivateMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault entry (mmu.FaultEntry) on the TDP fault path, upstream vs {@code pre-6.10-fault-path}, one behaviour per
 * test, on snippets of the synth private-fault scenario (SEV-SNP guest, NPT host, MMIO caching on).
 */
class PrivateFaultPathTest {

    static final ModelConfig SNP_HOST = ModelConfig.DEFAULT.withHost(true, ModelConfig.TdpEncoding.NPT, true, false,
            60, 0, 48, "6.18").withDetailedSteps(true);
    static final Profile PRE610 = Profile.builtIn("pre-6.10-fault-path");

    /** VM type, memslots (a hole at 0xf0000.., the APIC page), attributes, and the root load. */
    static final String START = """
            tracing_mark_write: mmu-replay: vm type=snp
            tracing_mark_write: mmu-replay: memslot gfn=0x0 npages=0xf0000 gmem=1
            tracing_mark_write: mmu-replay: memslot gfn=0x100000 npages=0x100000 gmem=1
            tracing_mark_write: mmu-replay: memslot gfn=0xfee00 npages=1 apic=1
            tracing_mark_write: mmu-replay: attr gfn=0x100000 npages=0x100000 private=1
            tracing_mark_write: mmu-replay: attr gfn=0xfee00 npages=1 private=1
            kvm_mmu_get_page: sp gen 0 gfn 0 l4 8-byte q0 direct wux nxe ad root 0 sync new
            """;

    /** The last line's step under {@code p}. */
    private static ReplayStep last(Profile p, String lines) {
        MmuStateMachine m = MmuStateMachine.create(p, SNP_HOST);
        ReplayStep step = null;
        for (ModelEvent e : TraceLines.parse(START + lines)) {
            step = m.apply(e);
        }
        return step;
    }

    private static List<EventKind> kinds(ReplayStep s) {
        List<EventKind> k = new ArrayList<>();
        s.predicted().forEach(e -> k.add(e.kind()));
        return k;
    }

    private static ModelEvent.PageFaultOutcome outcome(ReplayStep s) {
        return (ModelEvent.PageFaultOutcome) s.predicted().get(s.predicted().size() - 1);
    }

    static final String PRIVATE_TO_SHARED = """
            kvm_exit: vcpu 0 reason npf rip 0xffffffff810a1966 info1 0x0000000500000004 info2 0x0000000080003000 intr_info 0x00000000 error_code 0x00000000
            kvm_page_fault: vcpu 0 rip 0xffffffff810a1966 address 0x0000000080003000 error_code 0x2000500000004
            """;

    @Test
    void privateAccessToASharedGfnIsAMemoryFaultExitSince610AndMapsBefore() {
        ReplayStep up = last(Profile.UPSTREAM, PRIVATE_TO_SHARED);
        assertEquals(List.of(EventKind.USERSPACE_EXIT, EventKind.PAGE_FAULT_OUTCOME), kinds(up));
        assertEquals("MEMORY_FAULT_EXIT", outcome(up).outcome());
        ReplayStep pre = last(PRE610, PRIVATE_TO_SHARED);
        assertEquals(List.of(EventKind.SPTE_REQUESTED, EventKind.PAGE_FAULT_OUTCOME), kinds(pre));
        assertFalse(outcome(pre).isPrivate(), "before 6.10 is_private is the gfn's (shared) attribute");
    }

    @Test
    void sharedAccessToAPrivateGfnIsAMemoryFaultExitSince610AndMapsBefore() {
        String f = """
                kvm_exit: vcpu 0 reason npf rip 0x1000 info1 0x0000000100000006 info2 0x0000000101000000 intr_info 0x00000000 error_code 0x00000000
                kvm_page_fault: vcpu 0 rip 0x1000 address 0x0000000101000000 error_code 0x100000006
                """;
        assertEquals(EventKind.USERSPACE_EXIT, kinds(last(Profile.UPSTREAM, f)).get(0));
        ReplayStep pre = last(PRE610, f);
        assertEquals(EventKind.SPTE_REQUESTED, kinds(pre).get(0));
        assertTrue(outcome(pre).isPrivate());
    }

    @Test
    void thePredictedExitIsCheckedAgainstTheRecordedKvmUserspaceExit() {
        ReplayStep s = last(Profile.UPSTREAM, PRIVATE_TO_SHARED + "kvm_userspace_exit: reason error (14)\n");
        assertEquals(ReplayStep.Outcome.EXPLAINED, s.outcome());
        ReplayStep other = last(Profile.UPSTREAM, PRIVATE_TO_SHARED + "kvm_userspace_exit: reason error (4)\n");
        assertEquals(ReplayStep.Outcome.MISMATCH, other.outcome());
        assertEquals(Field.USERSPACE_EXIT_CODE, other.diffs().get(0).field());
        // an exit nothing predicts stays a stimulus
        assertEquals(ReplayStep.Outcome.STIMULUS, last(Profile.UPSTREAM,
                "kvm_userspace_exit: reason KVM_EXIT_MMIO (6)\n").outcome());
    }

    @Test
    void anAttributeMarkerConvertsTheGfnAndTheRefaultMaps() {
        ReplayStep s = last(Profile.UPSTREAM, PRIVATE_TO_SHARED + "kvm_userspace_exit: reason error (14)\n"
                + "tracing_mark_write: mmu-replay: attr gfn=0x80003 npages=1 private=1\n" + PRIVATE_TO_SHARED);
        assertEquals(List.of(EventKind.SPTE_REQUESTED, EventKind.PAGE_FAULT_OUTCOME), kinds(s));
        assertEquals("RET_PF_CONTINUE", outcome(s).outcome());
    }

    /** A shared MMIO access without memslot installs an MMIO SPTE (generation 6), then a private access hits it. */
    static final String MMIO_SPTE = """
            kvm_exit: vcpu 0 reason npf rip 0x1000 info1 0x0000000100000004 info2 0x00000000f0000000 intr_info 0x00000000 error_code 0x00000000
            kvm_page_fault: vcpu 0 rip 0x1000 address 0x00000000f0000000 error_code 0x100000004
            kvm_mmu_spte_requested: gfn f0000 pfn 8000000000000000 level 1
            kvm_mmu_get_page: sp gen 0 gfn 0 l3 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 8000000000000000 new_spte 120003827
            kvm_mmu_get_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn c0000 level 3 old_spte 8000000000000000 new_spte 121802827
            kvm_mmu_get_page: sp gen 0 gfn f0000 l1 8-byte q0 direct wux nxe ad root 0 sync new
            kvm_tdp_mmu_spte_changed: as id 0 gfn f0000 level 2 old_spte 8000000000000000 new_spte 121e01827
            kvm_tdp_mmu_spte_changed: as id 0 gfn f0000 level 1 old_spte 8000000000000000 new_spte 80000f0000037
            mark_mmio_spte: sptep:ffff8881234c0000 gfn f0000 access 7 gen 6
            kvm_mmio: mmio unsatisfied-read len 4 gpa 0xf0000000 val 0x0
            kvm_userspace_exit: reason KVM_EXIT_MMIO (6)
            kvm_exit: vcpu 0 reason npf rip 0x1004 info1 0x000000050000000d info2 0x00000000f0000000 intr_info 0x00000000 error_code 0x00000000
            kvm_page_fault: vcpu 0 rip 0x1004 address 0x00000000f0000000 error_code 0x200050000000d
            """;

    @Test
    void aNoSlotSharedFaultInstallsAnMmioSpteOnTheTdpMmu() {
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, SNP_HOST);
        List<ModelEvent> ev = TraceLines.parse(START + MMIO_SPTE);
        for (ModelEvent e : ev.subList(0, ev.size() - 2)) {
            ReplayStep s = m.apply(e);
            if (e.kind().isEffect()) {
                assertTrue(s.outcome() == ReplayStep.Outcome.EXPLAINED || s.outcome() == ReplayStep.Outcome.LEARNED,
                        e + " → " + s);
            }
        }
        assertEquals(0x80000f0000037L, m.tdp().leafSpte(0xf0000));
    }

    @Test
    void privateReservedFaultOnAnMmioSpteIsEfaultSince610AndConsultsTheMmioSpteBefore() {
        ReplayStep up = last(Profile.UPSTREAM, MMIO_SPTE);
        assertEquals(List.of(EventKind.USERSPACE_EXIT, EventKind.PAGE_FAULT_OUTCOME), kinds(up));
        assertEquals("EFAULT", outcome(up).outcome());
        ReplayStep pre = last(PRE610, MMIO_SPTE);
        assertEquals(List.of(EventKind.CHECK_MMIO_SPTE, EventKind.PAGE_FAULT_OUTCOME), kinds(pre));
        assertEquals(new ModelEvent.CheckMmioSpte(-1, 0, 0x80000f0000037L, ModelEvent.UNKNOWN, 6, false),
                pre.predicted().get(0));
        assertEquals("RET_PF_EMULATE", outcome(pre).outcome(), "a private access emulated through the MMIO cache");
    }

    @Test
    void privateAccessToAGpaWithoutMemslotExitsSince610AndIsEmulatedMmioBefore() {
        String f = """
                kvm_exit: vcpu 0 reason npf rip 0x1000 info1 0x0000000500000004 info2 0x00000000f0080000 intr_info 0x00000000 error_code 0x00000000
                kvm_page_fault: vcpu 0 rip 0x1000 address 0x00000000f0080000 error_code 0x2000500000004
                """;
        assertEquals("MEMORY_FAULT_EXIT", outcome(last(Profile.UPSTREAM, f)).outcome());
        ReplayStep pre = last(PRE610, f);
        assertEquals(new ModelEvent.SpteRequested(-1, -1, 0xf0080, ModelEvent.UNKNOWN, 1), pre.predicted().get(0));
        assertEquals("RET_PF_EMULATE", outcome(pre).outcome(), "an MMIO SPTE, then emulation");
    }

    @Test
    void anNpfWithASyntheticBitFromHardwareIsSanitisedBeforeTheFaultPathSince610Only() {
        String f = """
                kvm_exit: vcpu 0 reason npf rip 0x1000 info1 0x0002000100000006 info2 0x0000000040000000 intr_info 0x00000000 error_code 0x00000000
                kvm_page_fault: vcpu 0 rip 0x1000 address 0x0000000040000000 error_code 0x100000006
                """;
        ReplayStep up = last(Profile.UPSTREAM, f);
        ReplayStep pre = last(PRE610, f);
        assertEquals(0x100000006L, outcome(up).errorCode());
        assertEquals(0x2000100000006L, outcome(pre).errorCode());
        assertEquals(EventKind.SPTE_REQUESTED, kinds(up).get(0));
        assertEquals(EventKind.SPTE_REQUESTED, kinds(pre).get(0), "both map: the bit meant nothing before 6.10");
    }

    @Test
    void aPrivateFaultOnTheApicAccessPageHitsEmulationAndExitsSince610() {
        String f = """
                kvm_exit: vcpu 0 reason npf rip 0x1000 info1 0x0000000500000006 info2 0x00000000fee00000 intr_info 0x00000000 error_code 0x00000000
                kvm_page_fault: vcpu 0 rip 0x1000 address 0x00000000fee00000 error_code 0x2000500000006
                """;
        ReplayStep up = last(Profile.UPSTREAM, f);
        assertEquals(List.of(EventKind.USERSPACE_EXIT, EventKind.PAGE_FAULT_OUTCOME), kinds(up));
        assertEquals("MEMORY_FAULT_EXIT", outcome(up).outcome());
        ReplayStep pre = last(PRE610, f);
        assertEquals(List.of(EventKind.PAGE_FAULT_OUTCOME), kinds(pre));
        assertEquals("RET_PF_EMULATE", outcome(pre).outcome());
        assertTrue(outcome(pre).isPrivate());
    }

    @Test
    void attributeMarkersSplitAndMergeRanges() {
        PrivateMemory pm = new PrivateMemory();
        pm.apply("mmu-replay: attr gfn=0x100 npages=0x100 private=1");
        pm.apply("mmu-replay: attr gfn=0x180 npages=0x10 private=0");
        assertTrue(pm.isPrivate(0x17f));
        assertFalse(pm.isPrivate(0x180));
        assertFalse(pm.isPrivate(0x18f));
        assertTrue(pm.isPrivate(0x190));
        assertFalse(pm.isPrivate(0x200));
        pm.apply("mmu-replay: attr gfn=0x180 npages=0x10 private=1");
        assertTrue(pm.isPrivate(0x185));
        assertTrue(pm.apply("mmu-replay: attr gfn=zz").startsWith("mmu-replay marker ignored"));
        assertEquals(null, pm.apply("kvmrec start 0"));
        assertTrue(pm.hasSlot(0x5), "no memslot declared: every gfn has one");
        pm.apply("mmu-replay: memslot gfn=0x0 npages=0x10");
        assertFalse(pm.hasSlot(0x10));
    }

    @Test
    void aPrivateMemoryTdpSnapshotRoundTrips() throws java.io.IOException {
        MmuStateMachine m = MmuStateMachine.create(PRE610, SNP_HOST);
        for (ModelEvent e : TraceLines.parse(START + MMIO_SPTE)) {
            m.apply(e);
        }
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        m.writeSnapshot(new java.io.DataOutputStream(b));
        MmuStateMachine r = MmuStateMachine.readSnapshot(new java.io.DataInputStream(
                new java.io.ByteArrayInputStream(b.toByteArray())));
        assertEquals(m.digest(), r.digest());
        assertTrue(r.tdp().memory().isPrivate(0x100000));
    }
}
