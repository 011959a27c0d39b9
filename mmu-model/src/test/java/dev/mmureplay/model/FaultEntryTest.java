package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.FaultEntry;
import dev.mmureplay.model.mmu.PageFaultErrorCode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.mmureplay.model.mmu.FaultEntry.Outcome.EFAULT;
import static dev.mmureplay.model.mmu.FaultEntry.Outcome.HANDLE_MMIO_PAGE_FAULT;
import static dev.mmureplay.model.mmu.FaultEntry.Outcome.MEMORY_FAULT_EXIT;
import static dev.mmureplay.model.mmu.FaultEntry.Outcome.RET_PF_CONTINUE;
import static dev.mmureplay.model.mmu.FaultEntry.Outcome.RET_PF_EMULATE;
import static dev.mmureplay.model.mmu.FaultEntry.Outcome.RET_PF_INVALID;
import static dev.mmureplay.model.mmu.FaultEntry.Outcome.RET_PF_RETRY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault-path entry rules, mainline (6.10+, after the "page fault and MMIO cleanups" series) and before it
 * ({@code pre610}), one rule per test, with the synth private-fault error codes.
 */
class FaultEntryTest {

    static final long FINAL = PageFaultErrorCode.GUEST_FINAL;
    static final long ENC = PageFaultErrorCode.GUEST_ENC;
    static final long PRIV = PageFaultErrorCode.PRIVATE_ACCESS;

    @Test
    void legacyPfErrorCodeUpperBitsAreWarnedAndTruncatedSince610AndPassedOnBefore() {
        long exit = 0x0001000000000006L;   // synth private-fault: SVM "PF excp" info1 with bit 48 set
        assertEquals(0x6L, FaultEntry.kvmHandlePageFaultErrorCode(exit, false));
        assertTrue(FaultEntry.legacyPfWarns(exit, false));
        // before 6.10: traced and handled with bit 48, which is KVM's own IMPLICIT_ACCESS flag
        assertEquals(exit, FaultEntry.kvmHandlePageFaultErrorCode(exit, true));
        assertFalse(FaultEntry.legacyPfWarns(exit, true));
        assertFalse(FaultEntry.legacyPfWarns(0x6L, false));
    }

    @Test
    void theFaultPathTakesTheRawExitErrorCodeBefore610AndTheSanitisedOneSince() {
        // legacy #PF (kvm_exit "PF excp"): truncated since 6.10; before, passed on (IMPLICIT_ACCESS WARN-cleared)
        assertEquals(0x6L, FaultEntry.faultPathErrorCode(2, 0x0001000000000006L, 0x6, false, false));
        assertEquals(0x6L, FaultEntry.faultPathErrorCode(2, 0x0001000000000006L, 0x6, false, true));
        assertEquals(0x300000006L, FaultEntry.faultPathErrorCode(2, 0x300000006L, 0x6, false, true));
        // #NPF with a hardware bit 49: cleared by npf_interception since 6.10, kept before
        assertEquals(FINAL | 6, FaultEntry.faultPathErrorCode(1, PRIV | FINAL | 6, FINAL | 6, true, false));
        assertEquals(PRIV | FINAL | 6, FaultEntry.faultPathErrorCode(1, PRIV | FINAL | 6, FINAL | 6, true, true));
        // no exit in the trace: the traced code, without the PRIVATE_ACCESS 6.10 added before the tracepoint
        assertEquals(FINAL | ENC | 4, FaultEntry.faultPathErrorCode(0, 0, FINAL | ENC | PRIV | 4, true, true));
    }

    @Test
    void theApicAccessPageEmulatesBeforeThePrivateCheckBefore610AndAfterItSince() {
        assertEquals(RET_PF_EMULATE, FaultEntry.kvmMmuFaultinPfn(true, true, true, false, false, true, true, true));
        assertEquals(RET_PF_EMULATE, FaultEntry.kvmMmuFaultinPfn(true, true, true, false, false, true, true, false));
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuDoPageFaultResult(RET_PF_EMULATE, true, false));
        // a shared access to the private APIC page: mismatch first since 6.10, emulated before
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(false, true, true, false, true, true, true,
                false));
    }

    @Test
    void snpEncryptedNpfBecomesPrivateAccessBeforeTheTracepointSince610() {
        long info1 = FINAL | ENC | 4;
        assertEquals(info1 | PRIV, FaultEntry.npfErrorCode(info1, true, false));
        assertEquals(info1, FaultEntry.npfErrorCode(info1, false, false), "not an SNP guest");
        assertEquals(info1, FaultEntry.npfErrorCode(info1, true, true), "no synthetic flag before 6.10");
        // hardware setting a synthetic bit is WARNed about and the bit cleared
        assertEquals(info1, FaultEntry.npfErrorCode(info1 | PageFaultErrorCode.IMPLICIT_ACCESS, false, false));
    }

    @Test
    void swProtectedVmFaultOnPrivateGfnGetsPrivateAccessUnlessRsvd() {
        assertEquals(4 | PRIV, FaultEntry.kvmMmuPageFaultErrorCode(4, true, true, false));
        assertEquals(4 | 8, FaultEntry.kvmMmuPageFaultErrorCode(4 | 8, true, true, false), "RSVD: MMIO is shared");
        assertEquals(4, FaultEntry.kvmMmuPageFaultErrorCode(4, true, false, false));
        assertEquals(4, FaultEntry.kvmMmuPageFaultErrorCode(4, true, true, true));
    }

    @Test
    void isPrivateFollowsTheErrorCodeSince610AndTheAttributeBefore() {
        assertTrue(FaultEntry.isPrivate(FINAL | ENC | PRIV | 4, false, false));
        assertFalse(FaultEntry.isPrivate(FINAL | 6, true, false));
        assertFalse(FaultEntry.isPrivate(FINAL | ENC | PRIV | 4, false, true));
        assertTrue(FaultEntry.isPrivate(FINAL | 6, true, true));
    }

    @Test
    void privateReservedFaultIsEfaultSince610AndConsultsTheMmioCacheBefore() {
        long rsvdPrivate = FINAL | ENC | PRIV | 1 | 4 | 8;
        assertEquals(EFAULT, FaultEntry.kvmMmuPageFaultRsvd(rsvdPrivate, false));
        assertEquals(HANDLE_MMIO_PAGE_FAULT, FaultEntry.kvmMmuPageFaultRsvd(rsvdPrivate, true));
        assertEquals(HANDLE_MMIO_PAGE_FAULT, FaultEntry.kvmMmuPageFaultRsvd(0xd, false), "shared RSVD: MMIO");
        assertEquals(RET_PF_INVALID, FaultEntry.kvmMmuPageFaultRsvd(0x4, false));
    }

    @Test
    void privateSharedMismatchIsAMemoryFaultExitAndCannotArisePre610() {
        // private access (PRIVATE_ACCESS) to a shared gfn, shared access to a private gfn
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(true, false, true, false, true, false, false));
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(false, true, true, false, true, false, false));
        // before 6.10 is_private is the attribute itself: the same faults map
        boolean p = FaultEntry.isPrivate(FINAL | ENC | 4, false, true);
        assertEquals(RET_PF_CONTINUE, FaultEntry.kvmMmuFaultinPfn(p, false, true, false, true, false, true));
    }

    @Test
    void mismatchIsCheckedBeforeAnInvalidSlotSince610AndAfterItBefore() {
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(true, false, true, true, true, false, false));
        assertEquals(RET_PF_RETRY, FaultEntry.kvmMmuFaultinPfn(true, false, true, true, true, false, true));
    }

    @Test
    void noSlotPrivateFaultIsAMemoryFaultExitAndSharedNoSlotIsMmio() {
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(true, true, false, false, false, true, false));
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(true, true, false, false, false, true, true));
        assertEquals(RET_PF_CONTINUE, FaultEntry.kvmMmuFaultinPfn(false, false, false, false, false, true, false));
        assertEquals(RET_PF_EMULATE, FaultEntry.kvmMmuFaultinPfn(false, false, false, false, false, false, false));
        // private fault on a slot without guest_memfd
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuFaultinPfn(true, true, true, false, false, false, false));
    }

    @Test
    void privateFaultThatHitsEmulationIsAMemoryFaultExitSince610() {
        assertEquals(MEMORY_FAULT_EXIT, FaultEntry.kvmMmuDoPageFaultResult(RET_PF_EMULATE, true, false));
        assertEquals(RET_PF_EMULATE, FaultEntry.kvmMmuDoPageFaultResult(RET_PF_EMULATE, true, true));
        assertEquals(RET_PF_EMULATE, FaultEntry.kvmMmuDoPageFaultResult(RET_PF_EMULATE, false, false));
    }

    @Test
    void upstreamModelSkipsTheMmioPathOnAPrivateReservedFault() {
        // the MmioSpteTest guest with an MMIO SPTE at gfn febf0: a shared RSVD fault predicts check_mmio_spte, the
        // same fault flagged PFERR_PRIVATE_ACCESS predicts nothing (WARN, -EFAULT in kvm_mmu_page_fault)
        String priv = "kvm_page_fault: vcpu 0 rip 0x10010 address 0x0000000000400084 error_code 0x200000000000d\n";
        assertEquals(List.of(), predictedAfter(priv));
        String shared = "kvm_page_fault: vcpu 0 rip 0x10010 address 0x0000000000400084 error_code 0xd\n";
        assertEquals(1, predictedAfter(shared).size());
    }

    private static List<ModelEvent> predictedAfter(String fault) {
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, MmioSpteTest.MMIO_ON);
        List<ModelEvent> ev = new ArrayList<>(TraceLines.parse(MmioSpteTest.START + MmioSpteTest.markAt("2")
                + fault));
        ReplayStep last = null;
        for (ModelEvent e : ev) {
            last = m.apply(e);
        }
        return last.predicted();
    }
}
