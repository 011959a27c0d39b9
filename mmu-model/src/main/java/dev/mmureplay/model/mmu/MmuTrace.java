package dev.mmureplay.model.mmu;

/**
 * Where {@link ShadowMmu} reports the tracepoints the kernel would emit while it performs an operation, in kernel
 * order. Implementations must snapshot what they need from the page at call time (the page keeps changing).
 */
public interface MmuTrace {

    /** trace_kvm_mmu_get_page() in __kvm_mmu_get_shadow_page(). */
    void getPage(ShadowPage sp, boolean created);

    /** trace_kvm_mmu_prepare_zap_page() at the start of __kvm_mmu_prepare_zap_page(). */
    void prepareZapPage(ShadowPage sp);

    /** trace_kvm_mmu_sync_page() in kvm_unlink_unsync_page() (sp->unsync still set). */
    void syncPage(ShadowPage sp);

    /** trace_kvm_mmu_unsync_page() in kvm_unsync_page() (sp->unsync not yet set). */
    void unsyncPage(ShadowPage sp);

    /**
     * trace_kvm_mmu_set_spte() in mmu_set_spte() for a fault: the SPTE is installed in the model already.
     *
     * @param altSpte the SPTE the kernel would build if the host mapping were not writable, or {@code spte} when
     *                host writability is known
     */
    void setSpte(ShadowPage sp, int index, long gfn, long spte, long altSpte);

    /**
     * A PTE-prefetch candidate (FNAME(pte_prefetch) / __direct_pte_prefetch): the kernel installs it only if the
     * host page is resident, which the trace cannot tell; not installed until the recording confirms it.
     *
     * @param gfn  the gfn, or -1 when the guest PTE is unknown (then spte is 0 and access -1)
     */
    void prefetchCandidate(ShadowPage sp, int index, long gfn, int access, long spte);

    /** trace_kvm_mmu_zap_all_fast(), generation before the toggle. */
    void zapAllFast(int gen, int usedPages);

    /** trace_mark_mmio_spte(). */
    void markMmioSpte(long gfn, int access, long gen);

    /** A no-op sink. */
    MmuTrace NONE = new MmuTrace() {
        public void getPage(ShadowPage sp, boolean created) { }
        public void prepareZapPage(ShadowPage sp) { }
        public void syncPage(ShadowPage sp) { }
        public void unsyncPage(ShadowPage sp) { }
        public void setSpte(ShadowPage sp, int index, long gfn, long spte, long altSpte) { }
        public void prefetchCandidate(ShadowPage sp, int index, long gfn, int access, long spte) { }
        public void zapAllFast(int gen, int usedPages) { }
        public void markMmioSpte(long gfn, int access, long gen) { }
    };
}
