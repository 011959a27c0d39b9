package dev.mmureplay.replayer.parse;

/**
 * Every event name the parser treats specially: one constant per tracepoint with a typed payload (its name is the
 * kernel's, as in {@link dev.mmureplay.schemas.EventNames}), plus trace-cmd's {@code print} event that carries
 * markers, plus GENERIC for everything else. A typed event whose payload does not parse is a dead letter, never a
 * generic record.
 */
enum EventKind {
    // kvmmmu (arch/x86/kvm/mmu/mmutrace.h)
    KVM_MMU_PAGETABLE_WALK("kvm_mmu_pagetable_walk"),
    KVM_MMU_PAGING_ELEMENT("kvm_mmu_paging_element"),
    KVM_MMU_SET_ACCESSED_BIT("kvm_mmu_set_accessed_bit"),
    KVM_MMU_SET_DIRTY_BIT("kvm_mmu_set_dirty_bit"),
    KVM_MMU_WALKER_ERROR("kvm_mmu_walker_error"),
    KVM_MMU_GET_PAGE("kvm_mmu_get_page"),
    KVM_MMU_SYNC_PAGE("kvm_mmu_sync_page"),
    KVM_MMU_UNSYNC_PAGE("kvm_mmu_unsync_page"),
    KVM_MMU_PREPARE_ZAP_PAGE("kvm_mmu_prepare_zap_page"),
    MARK_MMIO_SPTE("mark_mmio_spte"),
    HANDLE_MMIO_PAGE_FAULT("handle_mmio_page_fault"),
    FAST_PAGE_FAULT("fast_page_fault"),
    KVM_MMU_ZAP_ALL_FAST("kvm_mmu_zap_all_fast"),
    CHECK_MMIO_SPTE("check_mmio_spte"),
    KVM_MMU_SET_SPTE("kvm_mmu_set_spte"),
    KVM_MMU_SPTE_REQUESTED("kvm_mmu_spte_requested"),
    KVM_TDP_MMU_SPTE_CHANGED("kvm_tdp_mmu_spte_changed"),
    KVM_MMU_SPLIT_HUGE_PAGE("kvm_mmu_split_huge_page"),
    // kvm (arch/x86/kvm/trace.h, include/trace/events/kvm.h)
    KVM_PAGE_FAULT("kvm_page_fault"),
    KVM_CR("kvm_cr"),
    KVM_EXIT("kvm_exit"),
    KVM_MMIO("kvm_mmio"),
    KVM_EMULATE_INSN("kvm_emulate_insn"),
    KVM_UNMAP_HVA_RANGE("kvm_unmap_hva_range"),
    KVM_INJ_EXCEPTION("kvm_inj_exception"),
    KVM_PIO("kvm_pio"),
    KVM_USERSPACE_EXIT("kvm_userspace_exit"),
    // trace_marker writes: the raw file prints the print event as "tracing_mark_write: text"
    TRACING_MARK_WRITE("tracing_mark_write"),
    // trace-cmd report prints the same print event as "print: ... tracing_mark_write: text"
    PRINT("print"),
    GENERIC(null);

    /** The event name as printed; null for GENERIC. */
    final String eventName;

    EventKind(String eventName) {
        this.eventName = eventName;
    }

    boolean typed() {
        return this != GENERIC && this != PRINT;
    }
}
