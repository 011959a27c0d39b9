package dev.mmureplay.model.event;

/**
 * The kinds of {@link ModelEvent}, grouped into the three families the model distinguishes.
 *
 * <ul>
 *   <li>{@link Family#STIMULUS} — something that happened to the MMU from outside (a guest page walk, a fault,
 *       a control-register write, a host invalidation, a vCPU exit). The model reacts by predicting effects.</li>
 *   <li>{@link Family#EFFECT} — something the real KVM did in response (a kvmmmu tracepoint). The model checks it
 *       against its predictions.</li>
 *   <li>{@link Family#CONTEXT} — events without MMU meaning the model only uses as boundaries (markers, PIO,
 *       unknown events).</li>
 * </ul>
 */
public enum EventKind {
    // stimuli
    PAGETABLE_WALK(Family.STIMULUS, "kvm_mmu_pagetable_walk"),
    PAGING_ELEMENT(Family.STIMULUS, "kvm_mmu_paging_element"),
    KVM_PAGE_FAULT(Family.STIMULUS, "kvm_page_fault"),
    KVM_CR(Family.STIMULUS, "kvm_cr"),
    UNMAP_HVA_RANGE(Family.STIMULUS, "kvm_unmap_hva_range"),
    MEMSLOT_CHANGE(Family.STIMULUS, "memslot_change"),
    EMULATE_INSN(Family.STIMULUS, "kvm_emulate_insn"),
    MMIO(Family.STIMULUS, "kvm_mmio"),
    PIO(Family.STIMULUS, "kvm_pio"),
    USERSPACE_EXIT(Family.STIMULUS, "kvm_userspace_exit"),
    KVM_EXIT(Family.STIMULUS, "kvm_exit"),
    // effects
    SET_ACCESSED_BIT(Family.EFFECT, "kvm_mmu_set_accessed_bit"),
    SET_DIRTY_BIT(Family.EFFECT, "kvm_mmu_set_dirty_bit"),
    WALKER_ERROR(Family.EFFECT, "kvm_mmu_walker_error"),
    INJECTED_EXCEPTION(Family.EFFECT, "kvm_inj_exception"),
    GET_PAGE(Family.EFFECT, "kvm_mmu_get_page"),
    SYNC_PAGE(Family.EFFECT, "kvm_mmu_sync_page"),
    UNSYNC_PAGE(Family.EFFECT, "kvm_mmu_unsync_page"),
    PREPARE_ZAP_PAGE(Family.EFFECT, "kvm_mmu_prepare_zap_page"),
    SPTE_REQUESTED(Family.EFFECT, "kvm_mmu_spte_requested"),
    SET_SPTE(Family.EFFECT, "kvm_mmu_set_spte"),
    ZAP_ALL_FAST(Family.EFFECT, "kvm_mmu_zap_all_fast"),
    MARK_MMIO_SPTE(Family.EFFECT, "mark_mmio_spte"),
    HANDLE_MMIO_PAGE_FAULT(Family.EFFECT, "handle_mmio_page_fault"),
    CHECK_MMIO_SPTE(Family.EFFECT, "check_mmio_spte"),
    FAST_PAGE_FAULT(Family.EFFECT, "fast_page_fault"),
    TDP_MMU_SPTE_CHANGED(Family.EFFECT, "kvm_tdp_mmu_spte_changed"),
    SPLIT_HUGE_PAGE(Family.EFFECT, "kvm_mmu_split_huge_page"),
    /** Derived by the model (no tracepoint): a zap may drop mmu_lock with a remote TLB flush pending. */
    STALE_TLB_WINDOW(Family.EFFECT, "stale_tlb_window"),
    /** Derived by the model (no tracepoint): what kvm_mmu_page_fault decided for a TDP fault (FaultEntry). */
    PAGE_FAULT_OUTCOME(Family.EFFECT, "page_fault_outcome"),
    // context
    MARKER(Family.CONTEXT, "tracing_mark_write"),
    OTHER(Family.CONTEXT, "other");

    /** The family of an event kind. */
    public enum Family { STIMULUS, EFFECT, CONTEXT }

    private final Family family;
    private final String tracepoint;

    EventKind(Family family, String tracepoint) {
        this.family = family;
        this.tracepoint = tracepoint;
    }

    public Family family() {
        return family;
    }

    /** The kernel tracepoint name this kind comes from (informative). */
    public String tracepoint() {
        return tracepoint;
    }

    public boolean isEffect() {
        return family == Family.EFFECT;
    }

    public boolean isStimulus() {
        return family == Family.STIMULUS;
    }
}
