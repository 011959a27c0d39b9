package dev.mmureplay.model.event;

/**
 * The model's input: one immutable record per stimulus / effect kind the KVM MMU model needs.
 *
 * <p>This type is the stable boundary between the model and the rest of the product: the {@code replayer} and
 * {@code jobs} modules adapt their (Avro) trace records to these records, one to one, and feed them to
 * {@link dev.mmureplay.model.MmuStateMachine#apply(ModelEvent)} in {@code seq} order.
 *
 * <h2>Common fields</h2>
 * <ul>
 *   <li>{@code seq} — the dense per-VM sequence number assigned by ingest (only reported back, never interpreted;
 *       predictions the model makes itself carry {@code seq = -1}).</li>
 *   <li>{@code vcpu} — the vCPU index, or {@code -1} when the event was not emitted by a vCPU thread or the trace
 *       does not say. Where a vCPU is needed the model treats {@code -1} as vCPU 0; events of kernel threads (e.g.
 *       VM teardown zaps in {@code kvm-nx-lpage-re}) are VM-level anyway.</li>
 * </ul>
 *
 * <h2>Unknown values — the one place they are defined</h2>
 * A field that a trace format does not carry (trace-cmd's kvm plugin drops the shadow-page generation and, for
 * sync/unsync/zap, the gfn; the raw format does not print CR0.WP; old kernels print a 32-bit error code) is passed
 * as {@link #UNKNOWN} ({@code long} fields) or {@link #UNKNOWN_INT} ({@code int} fields). The model never compares
 * an unknown field and never invents it.
 *
 * <h2>Numbers</h2>
 * Addresses, gfns, pfns, SPTE values and error codes are the raw values the kernel printed (hex in the trace),
 * passed as {@code long}. {@code level} is the paging level 1..5.
 */
public sealed interface ModelEvent {

    /** Marker for an unknown {@code long} field (a value no real field can take here). */
    long UNKNOWN = Long.MIN_VALUE;
    /** Marker for an unknown {@code int} field. */
    int UNKNOWN_INT = Integer.MIN_VALUE;
    /** {@code seq} of events the model predicted itself. */
    long PREDICTED = -1L;

    long seq();

    int vcpu();

    EventKind kind();

    /** {@code vcpu}, or 0 when unknown ({@code -1}). */
    default int vcpuOrZero() {
        return vcpu() < 0 ? 0 : vcpu();
    }

    // ----------------------------------------------------------------------------------------------- stimuli

    /** {@code kvm_mmu_pagetable_walk: addr %llx pferr %x}: start of a guest page-table walk (fault or emulator). */
    record PageTableWalk(long seq, int vcpu, long addr, long pferr) implements ModelEvent {
        public EventKind kind() { return EventKind.PAGETABLE_WALK; }
    }

    /** {@code kvm_mmu_paging_element: pte %llx level %u}: the guest PTE value read at one level of a walk. */
    record PagingElement(long seq, int vcpu, long pte, int level) implements ModelEvent {
        public EventKind kind() { return EventKind.PAGING_ELEMENT; }
    }

    /** {@code kvm_page_fault: vcpu %u rip 0x%lx address 0x%llx error_code 0x%llx}; rip may be UNKNOWN. */
    record KvmPageFault(long seq, int vcpu, long addr, long errorCode, long rip) implements ModelEvent {
        public EventKind kind() { return EventKind.KVM_PAGE_FAULT; }
    }

    /** {@code kvm_cr: cr_%s %x = 0x%lx}; {@code write} false for a read. */
    record KvmCr(long seq, int vcpu, boolean write, int cr, long value) implements ModelEvent {
        public EventKind kind() { return EventKind.KVM_CR; }
    }

    /** {@code kvm_unmap_hva_range: mmu notifier unmap range: start -- end} (host virtual addresses). */
    record UnmapHvaRange(long seq, int vcpu, long start, long end) implements ModelEvent {
        public EventKind kind() { return EventKind.UNMAP_HVA_RANGE; }
    }

    /**
     * A memslot change when the source knows one (not a tracepoint on this host): {@code change} is one of
     * {@code CREATE, DELETE, MOVE, FLAGS_ONLY}; {@code flags} the new memslot flags (bit 0 dirty logging).
     */
    record MemslotChange(long seq, int vcpu, int asId, int slot, long baseGfn, long npages, String change,
                         long flags) implements ModelEvent {
        public EventKind kind() { return EventKind.MEMSLOT_CHANGE; }
    }

    /** {@code kvm_emulate_insn: csbase:rip:bytes (mode)[ failed]}. */
    record EmulateInsn(long seq, int vcpu, long csBase, long rip, String bytes, String mode, boolean failed)
            implements ModelEvent {
        public EventKind kind() { return EventKind.EMULATE_INSN; }
    }

    /** {@code kvm_mmio: mmio %s len %u gpa 0x%llx val 0x%llx}; type is read / write / unsatisfied-read. */
    record Mmio(long seq, int vcpu, String type, int len, long gpa, long value) implements ModelEvent {
        public EventKind kind() { return EventKind.MMIO; }
    }

    /** {@code kvm_pio}. */
    record Pio(long seq, int vcpu, boolean write, int port, int size, int count, long value) implements ModelEvent {
        public EventKind kind() { return EventKind.PIO; }
    }

    /** {@code kvm_userspace_exit: reason %s (%d)}. */
    record UserspaceExit(long seq, int vcpu, String reason, int code) implements ModelEvent {
        public EventKind kind() { return EventKind.USERSPACE_EXIT; }
    }

    /** {@code kvm_exit}. */
    record KvmExit(long seq, int vcpu, String reason, long rip, long info1, long info2) implements ModelEvent {
        public EventKind kind() { return EventKind.KVM_EXIT; }
    }

    // ----------------------------------------------------------------------------------------------- effects

    /** {@code kvm_mmu_set_accessed_bit: gpa %llx}: gpa of the guest PTE whose A bit KVM set. */
    record SetAccessedBit(long seq, int vcpu, long gpa) implements ModelEvent {
        public EventKind kind() { return EventKind.SET_ACCESSED_BIT; }
    }

    /** {@code kvm_mmu_set_dirty_bit: gpa %llx}. */
    record SetDirtyBit(long seq, int vcpu, long gpa) implements ModelEvent {
        public EventKind kind() { return EventKind.SET_DIRTY_BIT; }
    }

    /** {@code kvm_mmu_walker_error: pferr %x}. */
    record WalkerError(long seq, int vcpu, long pferr) implements ModelEvent {
        public EventKind kind() { return EventKind.WALKER_ERROR; }
    }

    /** {@code kvm_inj_exception: #PF (0x4)}: vector number (14 for #PF), error code or UNKNOWN. */
    record InjectedException(long seq, int vcpu, int vector, long errorCode) implements ModelEvent {
        public EventKind kind() { return EventKind.INJECTED_EXCEPTION; }
    }

    /** {@code kvm_mmu_get_page: <sp> new|existing}. */
    record GetPage(long seq, int vcpu, ShadowPageInfo sp, boolean created) implements ModelEvent {
        public EventKind kind() { return EventKind.GET_PAGE; }
    }

    /** {@code kvm_mmu_sync_page: <sp>} (printed when sp->unsync is cleared, so the text still says unsync). */
    record SyncPage(long seq, int vcpu, ShadowPageInfo sp) implements ModelEvent {
        public EventKind kind() { return EventKind.SYNC_PAGE; }
    }

    /** {@code kvm_mmu_unsync_page: <sp>}. */
    record UnsyncPage(long seq, int vcpu, ShadowPageInfo sp) implements ModelEvent {
        public EventKind kind() { return EventKind.UNSYNC_PAGE; }
    }

    /** {@code kvm_mmu_prepare_zap_page: <sp>}. */
    record PrepareZapPage(long seq, int vcpu, ShadowPageInfo sp) implements ModelEvent {
        public EventKind kind() { return EventKind.PREPARE_ZAP_PAGE; }
    }

    /** {@code kvm_mmu_spte_requested: gfn %llx pfn %llx level %d}. */
    record SpteRequested(long seq, int vcpu, long gfn, long pfn, int level) implements ModelEvent {
        public EventKind kind() { return EventKind.SPTE_REQUESTED; }
    }

    /**
     * {@code kvm_mmu_set_spte: gfn %llx spte %llx (%s%s%s%s) level %d at %llx}: {@code perms} is the printed
     * letter group, e.g. {@code r-xu}; {@code sptep} the host physical address of the SPTE (UNKNOWN if absent).
     */
    record SetSpte(long seq, int vcpu, long gfn, long spte, String perms, int level, long sptep)
            implements ModelEvent {
        public EventKind kind() { return EventKind.SET_SPTE; }
    }

    /** {@code kvm_mmu_zap_all_fast: kvm-mmu-valid-gen %u used_pages %x} (generation before the toggle). */
    record ZapAllFast(long seq, int vcpu, long gen, long usedPages) implements ModelEvent {
        public EventKind kind() { return EventKind.ZAP_ALL_FAST; }
    }

    /** {@code mark_mmio_spte: sptep:%p gfn %llx access %x gen %x}. */
    record MarkMmioSpte(long seq, int vcpu, long sptep, long gfn, int access, long gen) implements ModelEvent {
        public EventKind kind() { return EventKind.MARK_MMIO_SPTE; }
    }

    /** {@code handle_mmio_page_fault: addr:%llx gfn %llx access %x}. */
    record HandleMmioPageFault(long seq, int vcpu, long addr, long gfn, int access) implements ModelEvent {
        public EventKind kind() { return EventKind.HANDLE_MMIO_PAGE_FAULT; }
    }

    /** {@code check_mmio_spte: spte %llx kvm_gen %x spte-gen %x valid %d}. */
    record CheckMmioSpte(long seq, int vcpu, long spte, long kvmGen, long spteGen, boolean valid)
            implements ModelEvent {
        public EventKind kind() { return EventKind.CHECK_MMIO_SPTE; }
    }

    /** {@code fast_page_fault}. */
    record FastPageFault(long seq, int vcpu, long gva, long errorCode, long sptep, long oldSpte, long newSpte,
                         boolean spurious, boolean fixed) implements ModelEvent {
        public EventKind kind() { return EventKind.FAST_PAGE_FAULT; }
    }

    /** {@code kvm_tdp_mmu_spte_changed: as id %d gfn %llx level %d old_spte %llx new_spte %llx}. */
    record TdpMmuSpteChanged(long seq, int vcpu, int asId, long gfn, int level, long oldSpte, long newSpte)
            implements ModelEvent {
        public EventKind kind() { return EventKind.TDP_MMU_SPTE_CHANGED; }
    }

    /** {@code kvm_mmu_split_huge_page: gfn %llx spte %llx level %d errno %d}. */
    record SplitHugePage(long seq, int vcpu, long gfn, long spte, int level, int errno) implements ModelEvent {
        public EventKind kind() { return EventKind.SPLIT_HUGE_PAGE; }
    }

    /**
     * Not a tracepoint: the model's stale-TLB window (TDP MMU). A zap of {@code gfn}/{@code level} that is allowed
     * to yield meets a yield point while the remote TLB flush for the earlier zap of {@code staleGfn} /
     * {@code staleLevel} is still pending; {@code progress} = tdp_mmu_iter_cond_resched's forward-progress rule
     * would let it yield there. Only ever predicted (appended to a step's predicted effects), never recorded.
     */
    record StaleTlbWindow(long seq, int vcpu, long gfn, int level, long staleGfn, int staleLevel, boolean progress)
            implements ModelEvent {
        public EventKind kind() { return EventKind.STALE_TLB_WINDOW; }
    }

    /**
     * Not a tracepoint: what the fault entry ({@code mmu.FaultEntry}) decided for a fault on a TDP host — the
     * error code kvm_mmu_page_fault worked with, fault->is_private, and the outcome ({@code RET_PF_CONTINUE} = on
     * to the map, {@code RET_PF_EMULATE}, {@code RET_PF_RETRY}, {@code HANDLE_MMIO_PAGE_FAULT},
     * {@code MEMORY_FAULT_EXIT}, {@code EFAULT}). Only ever predicted (appended to the fault's predicted effects in
     * detailed mode), never recorded.
     */
    record PageFaultOutcome(long seq, int vcpu, long gfn, long errorCode, boolean isPrivate, String outcome)
            implements ModelEvent {
        public EventKind kind() { return EventKind.PAGE_FAULT_OUTCOME; }
    }

    // ----------------------------------------------------------------------------------------------- context

    /** {@code tracing_mark_write: ...} written by the VMM. */
    record Marker(long seq, int vcpu, String text) implements ModelEvent {
        public EventKind kind() { return EventKind.MARKER; }
    }

    /** Any other event, kept by name and raw payload text. */
    record Other(long seq, int vcpu, String name, String text) implements ModelEvent {
        public EventKind kind() { return EventKind.OTHER; }
    }
}
