package dev.mmureplay.model.mmu;

/**
 * The MMU-independent entry of the page-fault path — what happens to a fault between the exit handler and the map
 * (shadow {@code direct_map}/FNAME(fetch) or {@code kvm_tdp_mmu_map}): error-code sanity, private vs shared, the
 * reserved-bit (MMIO) shortcut, kvm_mmu_faultin_pfn's exits, and the result of kvm_mmu_do_page_fault. Pure static
 * functions, one per kernel decision, each in two versions: {@code pre610 == false} is mainline since the 2024
 * "KVM: x86/mmu: Page fault and MMIO cleanups" series (Sean Christopherson, v6.10; seed 004), {@code pre610 == true}
 * the 6.8/6.9 code it replaced (profile {@code pre-6.10-fault-path}). Nothing here is state.
 */
public final class FaultEntry {

    private FaultEntry() {
    }

    /** The outcome of a decision: a RET_PF_* value or the errno the vCPU ioctl returns. */
    public enum Outcome {
        /** RET_PF_CONTINUE: go on to the map. */
        RET_PF_CONTINUE,
        /** RET_PF_RETRY: re-enter the guest, it faults again. */
        RET_PF_RETRY,
        /** RET_PF_EMULATE: emulate the instruction (MMIO). */
        RET_PF_EMULATE,
        /** RET_PF_INVALID: the reserved-bit shortcut failed, take the full fault path. */
        RET_PF_INVALID,
        /** handle_mmio_page_fault(): the reserved-bit fault goes to the MMIO cache / MMIO SPTE walk. */
        HANDLE_MMIO_PAGE_FAULT,
        /** kvm_mmu_prepare_memory_fault_exit() and -EFAULT: KVM_EXIT_MEMORY_FAULT ({@code kvm_userspace_exit: reason error (14)}). */
        MEMORY_FAULT_EXIT,
        /** -EFAULT without memory-fault exit information (a WARN in the kernel). */
        EFAULT
    }

    /**
     * kvm_handle_page_fault() on a legacy #PF intercept: since 6.10 ("KVM: x86: WARN if upper 32 bits of legacy #PF
     * error code are nonzero") the error code is truncated to 32 bits, with a WARN, before trace_kvm_page_fault and
     * kvm_mmu_page_fault; before, the 64-bit exit value went on unchanged (upper bits could collide with the
     * KVM-defined IMPLICIT_ACCESS / PRIVATE_ACCESS).
     */
    public static long kvmHandlePageFaultErrorCode(long exitErrorCode, boolean pre610) {
        return pre610 ? exitErrorCode : exitErrorCode & 0xffffffffL;
    }

    /** Whether kvm_handle_page_fault() WARNs on this legacy #PF error code (6.10+: any of bits 63:32 set). */
    public static boolean legacyPfWarns(long exitErrorCode, boolean pre610) {
        return !pre610 && (exitErrorCode >>> 32) != 0;
    }

    /**
     * SVM npf_interception() (6.10+): hardware bits colliding with KVM's synthetic flags are WARNed about and cleared,
     * and an SNP guest's encrypted access (PFERR_GUEST_ENC, bit 34) becomes PFERR_PRIVATE_ACCESS (bit 49) — before
     * trace_kvm_page_fault, so the trace shows it. Before 6.10 the #NPF exit_info_1 went on unchanged.
     */
    public static long npfErrorCode(long exitInfo1, boolean snpGuest, boolean pre610) {
        if (pre610) {
            return exitInfo1;
        }
        long code = exitInfo1 & ~PageFaultErrorCode.SYNTHETIC_MASK;
        if (snpGuest && (code & PageFaultErrorCode.GUEST_ENC) != 0) {
            code |= PageFaultErrorCode.PRIVATE_ACCESS;
        }
        return code;
    }

    /**
     * The error code kvm_mmu_page_fault() works with. From the exit's raw value when the trace has it (the
     * {@code kvm_exit} before the fault: {@code npf} → {@link #npfErrorCode}, {@code PF excp} →
     * {@link #kvmHandlePageFaultErrorCode}); else from the traced {@code kvm_page_fault} value, which is what
     * 6.10+ acts on, and from which a kernel before 6.10 would lack the synthetic PFERR_PRIVATE_ACCESS that
     * npf_interception added before the tracepoint. Before 6.10 kvm_mmu_page_fault then WARNed about and cleared a
     * hardware IMPLICIT_ACCESS (bit 48), the sanity check 6.10 moved to npf_interception.
     *
     * @param exitKind 1 = #NPF exit, 2 = legacy #PF exit, 0 = no exit in the trace
     */
    public static long faultPathErrorCode(int exitKind, long exitInfo1, long traced, boolean snpGuest,
                                          boolean pre610) {
        long code = switch (exitKind) {
            case 1 -> npfErrorCode(exitInfo1, snpGuest, pre610);
            case 2 -> kvmHandlePageFaultErrorCode(exitInfo1, pre610);
            default -> pre610 ? traced & ~PageFaultErrorCode.PRIVATE_ACCESS : traced;
        };
        return pre610 ? code & ~PageFaultErrorCode.IMPLICIT_ACCESS : code;
    }

    /**
     * kvm_mmu_page_fault() (6.10+): for a KVM_X86_SW_PROTECTED_VM, a fault without RSVD on a gfn whose memory
     * attribute is private gets PFERR_PRIVATE_ACCESS (after the tracepoint: not visible in kvm_page_fault). Before
     * 6.10 there was no such flag.
     */
    public static long kvmMmuPageFaultErrorCode(long code, boolean swProtectedVm, boolean gfnPrivate,
                                                boolean pre610) {
        if (!pre610 && swProtectedVm && (code & PageFaultErrorCode.RSVD) == 0 && gfnPrivate) {
            return code | PageFaultErrorCode.PRIVATE_ACCESS;
        }
        return code;
    }

    /**
     * kvm_mmu_do_page_fault(): fault->is_private. 6.10+: the PFERR_PRIVATE_ACCESS bit of the error code ("use
     * synthetic page fault error code to indicate private faults"); 6.8/6.9: kvm_mem_is_private(gfn), the gfn's
     * current memory attribute — so a private/shared mismatch could not arise.
     */
    public static boolean isPrivate(long code, boolean gfnPrivate, boolean pre610) {
        return pre610 ? gfnPrivate : (code & PageFaultErrorCode.PRIVATE_ACCESS) != 0;
    }

    /**
     * kvm_mmu_page_fault()'s reserved-bit shortcut. 6.10+ ("WARN and skip MMIO cache on private, reserved page
     * faults"): RSVD with PRIVATE_ACCESS → WARN, -EFAULT (emulated MMIO is shared-only); other RSVD faults →
     * handle_mmio_page_fault. Before 6.10 every RSVD fault consulted the MMIO cache / MMIO SPTE, private or not.
     * Not RSVD → RET_PF_INVALID (the full fault path).
     */
    public static Outcome kvmMmuPageFaultRsvd(long code, boolean pre610) {
        if ((code & PageFaultErrorCode.RSVD) == 0) {
            return Outcome.RET_PF_INVALID;
        }
        if (!pre610 && (code & PageFaultErrorCode.PRIVATE_ACCESS) != 0) {
            return Outcome.EFAULT;
        }
        return Outcome.HANDLE_MMIO_PAGE_FAULT;
    }

    /**
     * kvm_mmu_faultin_pfn() / __kvm_faultin_pfn() up to the pfn lookup. 6.10+: the private/shared mismatch check
     * first (KVM_EXIT_MEMORY_FAULT), then no memslot ({@code kvm_handle_noslot_fault}: a private access → memory
     * fault exit, "explicitly disallow private accesses to emulated MMIO"; else MMIO: an MMIO SPTE with caching on,
     * else emulate), then a memslot being deleted → RETRY, then a private fault on a slot without guest_memfd →
     * memory fault exit. 6.8/6.9: the invalid-slot RETRY first, then the mismatch (never true: is_private is the
     * attribute), then private → kvm_faultin_pfn_private (no slot or no guest_memfd → memory fault exit), and only
     * after the pfn lookup the no-slot MMIO handling.
     *
     * @param slot        a memslot covers the gfn
     * @param slotInvalid it is being deleted or moved (KVM_MEMSLOT_INVALID)
     * @param slotGmem    it has guest_memfd (kvm_slot_can_be_private)
     */
    public static Outcome kvmMmuFaultinPfn(boolean isPrivate, boolean gfnPrivate, boolean slot, boolean slotInvalid,
                                           boolean slotGmem, boolean mmioCaching, boolean pre610) {
        return kvmMmuFaultinPfn(isPrivate, gfnPrivate, slot, slotInvalid, slotGmem, false, mmioCaching, pre610);
    }

    /**
     * As {@link #kvmMmuFaultinPfn(boolean, boolean, boolean, boolean, boolean, boolean, boolean)}, with
     * {@code slotEmulates}: the gfn is the APIC access page (APIC_ACCESS_PAGE_PRIVATE_MEMSLOT) while APICv is
     * inhibited → RET_PF_EMULATE. Before 6.10 that check came before the private/shared check (a private fault
     * could reach emulation); since 6.10 ("move private vs. shared check above slot validity checks") after it.
     */
    public static Outcome kvmMmuFaultinPfn(boolean isPrivate, boolean gfnPrivate, boolean slot, boolean slotInvalid,
                                           boolean slotGmem, boolean slotEmulates, boolean mmioCaching,
                                           boolean pre610) {
        if (pre610) {
            if (slot && slotInvalid) {
                return Outcome.RET_PF_RETRY;   // 6.9 __kvm_faultin_pfn: KVM_MEMSLOT_INVALID first
            }
            if (slot && slotEmulates) {
                return Outcome.RET_PF_EMULATE;   // 6.9: APIC access page, APICv inhibited, before the private check
            }
            if (isPrivate != gfnPrivate) {
                return Outcome.MEMORY_FAULT_EXIT;
            }
            if (isPrivate) {
                return slot && slotGmem ? Outcome.RET_PF_CONTINUE : Outcome.MEMORY_FAULT_EXIT;
            }
            if (!slot) {
                return mmioCaching ? Outcome.RET_PF_CONTINUE : Outcome.RET_PF_EMULATE;
            }
            return Outcome.RET_PF_CONTINUE;
        }
        if (isPrivate != gfnPrivate) {
            return Outcome.MEMORY_FAULT_EXIT;
        }
        if (!slot) {
            if (isPrivate) {
                return Outcome.MEMORY_FAULT_EXIT;
            }
            return mmioCaching ? Outcome.RET_PF_CONTINUE : Outcome.RET_PF_EMULATE;
        }
        if (slotInvalid) {
            return Outcome.RET_PF_RETRY;
        }
        if (slotEmulates) {
            return Outcome.RET_PF_EMULATE;   // 6.10 kvm_faultin_pfn: APIC access page after the private check
        }
        if (isPrivate && !slotGmem) {
            return Outcome.MEMORY_FAULT_EXIT;
        }
        return Outcome.RET_PF_CONTINUE;
    }

    /**
     * kvm_mmu_do_page_fault()'s result. 6.10+ ("exit to userspace with -EFAULT if private fault hits emulation"):
     * RET_PF_EMULATE on a private fault → memory fault exit (KVM cannot emulate private memory); before, emulation
     * went ahead on whatever the shared mapping held.
     */
    public static Outcome kvmMmuDoPageFaultResult(Outcome r, boolean isPrivate, boolean pre610) {
        if (!pre610 && r == Outcome.RET_PF_EMULATE && isPrivate) {
            return Outcome.MEMORY_FAULT_EXIT;
        }
        return r;
    }
}
