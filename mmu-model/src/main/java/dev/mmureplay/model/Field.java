package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every field of every recorded effect, classified in ONE place as {@link FieldClass#EXACT} (predicted and
 * compared), {@link FieldClass#LEARNED} (host- or guest-chosen, taken from the recording and not counted as a
 * prediction) or {@link FieldClass#IGNORED} (carries no MMU meaning, or is redundant), with the reason.
 *
 * <p>The comparison code in {@link MmuStateMachine} consults {@link #cls()} for each field it compares; the README
 * renders this table.
 */
public enum Field {
    // ------------------------------------------------------------------ guest walk
    SET_ACCESSED_GPA(EventKind.SET_ACCESSED_BIT, "gpa", FieldClass.EXACT,
            "table gfn from CR3 / the previous level's PTE + index of addr at that level; order top level first"),
    SET_DIRTY_GPA(EventKind.SET_DIRTY_BIT, "gpa", FieldClass.EXACT,
            "the leaf guest PTE of a write walk whose D bit was clear"),
    WALKER_ERROR_PFERR(EventKind.WALKER_ERROR, "pferr", FieldClass.EXACT,
            "permission_fault()/not-present/reserved-bit rules of walk_addr_generic, W/U/F folded in"),
    INJ_VECTOR(EventKind.INJECTED_EXCEPTION, "vector", FieldClass.EXACT, "#PF (14) after a walker error"),
    INJ_ERROR_CODE(EventKind.INJECTED_EXCEPTION, "errorCode", FieldClass.EXACT,
            "the walker's error code, injected unchanged"),
    // ------------------------------------------------------------------ shadow pages
    SP_GEN(null, "gen", FieldClass.EXACT, "the MMU valid generation the page was created in (0/1)"),
    SP_GFN(null, "gfn", FieldClass.EXACT,
            "guest table gfn (indirect) or base gfn (direct); LEARNED only for roots whose trigger is untraced"),
    SP_ROLE(null, "role", FieldClass.EXACT,
            "level, 4-byte, quadrant, direct, access, invalid, nxe, ad (and wp where the format prints it)"),
    SP_ROOT_COUNT(null, "root", FieldClass.EXACT, "root references at the time of the event"),
    SP_UNSYNC(null, "unsync", FieldClass.EXACT, "sp->unsync at the time of the event"),
    GET_PAGE_CREATED(EventKind.GET_PAGE, "created", FieldClass.EXACT,
            "new vs existing: hash lookup by gfn + full role word among valid pages"),
    // ------------------------------------------------------------------ SPTEs
    SPTE_REQ_GFN(EventKind.SPTE_REQUESTED, "gfn", FieldClass.EXACT, "walker.gfn (incl. offset inside a huge page)"),
    SPTE_REQ_LEVEL(EventKind.SPTE_REQUESTED, "level", FieldClass.EXACT,
            "goal level; LEARNED when a huge guest page could map huge (host THP/hugetlb backing is not traced)"),
    SPTE_REQ_PFN(EventKind.SPTE_REQUESTED, "pfn", FieldClass.LEARNED,
            "host pfn chosen by the host; learned and used for the SPTE that follows"),
    SET_SPTE_GFN(EventKind.SET_SPTE, "gfn", FieldClass.EXACT,
            "base gfn of the mapping; for a prefetch, from the neighbouring guest PTE (LEARNED if never observed)"),
    SET_SPTE_BITS(EventKind.SET_SPTE, "spte", FieldClass.EXACT,
            "every SPTE bit except the pfn field (make_spte rules); on a read fault the host-writable bit (and the"
                    + " W/D it allows) is LEARNED unless the pfn is already known read-only (zero page)"),
    SET_SPTE_PFN(EventKind.SET_SPTE, "pfn", FieldClass.LEARNED,
            "host pfn: from spte_requested for a fault, from the recording for a prefetch"),
    SET_SPTE_PERMS(EventKind.SET_SPTE, "perms", FieldClass.EXACT, "r/w/x/u letters derived from the SPTE"),
    SET_SPTE_LEVEL(EventKind.SET_SPTE, "level", FieldClass.EXACT, "level of the shadow page holding the SPTE"),
    SET_SPTE_INDEX(EventKind.SET_SPTE, "sptep&0xfff", FieldClass.EXACT,
            "offset of the SPTE inside its shadow page = SPTE index of the address"),
    SET_SPTE_SPTEP(EventKind.SET_SPTE, "sptep", FieldClass.IGNORED, "host physical address of the shadow page"),
    // ------------------------------------------------------------------ generation / MMIO
    ZAP_ALL_FAST_GEN(EventKind.ZAP_ALL_FAST, "gen", FieldClass.EXACT, "MMU valid generation before the toggle"),
    ZAP_ALL_FAST_USED(EventKind.ZAP_ALL_FAST, "usedPages", FieldClass.EXACT,
            "n_used_mmu_pages: pages allocated and not yet unaccounted"),
    MARK_MMIO_GFN(EventKind.MARK_MMIO_SPTE, "gfn", FieldClass.EXACT, "the faulting gfn with no memslot"),
    MARK_MMIO_ACCESS(EventKind.MARK_MMIO_SPTE, "access", FieldClass.EXACT,
            "spte & ACC_ALL: (pte access & shadow_mmio_access_mask) | the mmio value's P bit"),
    MARK_MMIO_GEN(EventKind.MARK_MMIO_SPTE, "gen", FieldClass.LEARNED,
            "memslot generation: memslot ioctls are not traced"),
    MARK_MMIO_SPTEP(EventKind.MARK_MMIO_SPTE, "sptep", FieldClass.IGNORED, "host address"),
    CHECK_MMIO_SPTE(EventKind.CHECK_MMIO_SPTE, "spte", FieldClass.EXACT,
            "the MMIO SPTE mark_mmio_spte stored (generation layout per profile), found by get_mmio_spte's walk"),
    CHECK_MMIO_KVM_GEN(EventKind.CHECK_MMIO_SPTE, "kvmGen", FieldClass.LEARNED,
            "current memslot generation: memslot ioctls are not traced"),
    CHECK_MMIO_SPTE_GEN(EventKind.CHECK_MMIO_SPTE, "spteGen", FieldClass.EXACT,
            "get_mmio_spte_generation of the stored SPTE"),
    CHECK_MMIO_VALID(EventKind.CHECK_MMIO_SPTE, "valid", FieldClass.EXACT, "kvm_gen == spte_gen"),
    HANDLE_MMIO_ADDR(EventKind.HANDLE_MMIO_PAGE_FAULT, "addr", FieldClass.EXACT, "the faulting address"),
    HANDLE_MMIO_GFN(EventKind.HANDLE_MMIO_PAGE_FAULT, "gfn", FieldClass.EXACT, "get_mmio_spte_gfn"),
    HANDLE_MMIO_ACCESS(EventKind.HANDLE_MMIO_PAGE_FAULT, "access", FieldClass.EXACT, "get_mmio_spte_access"),
    // ------------------------------------------------------------------ TDP MMU (ModelConfig.tdp)
    TDP_AS_ID(EventKind.TDP_MMU_SPTE_CHANGED, "asId", FieldClass.EXACT, "address space (0; SMM not modelled)"),
    TDP_GFN(EventKind.TDP_MMU_SPTE_CHANGED, "gfn", FieldClass.EXACT,
            "base gfn of the SPTE: the fault's gfn rounded to the level, or the zapped page's range"),
    TDP_LEVEL(EventKind.TDP_MMU_SPTE_CHANGED, "level", FieldClass.EXACT, "level of the changed SPTE"),
    TDP_OLD_SPTE(EventKind.TDP_MMU_SPTE_CHANGED, "oldSpte", FieldClass.EXACT,
            "every bit but the address field: the model's copy of the SPTE (non-present 8000000000000000)"),
    TDP_NEW_SPTE(EventKind.TDP_MMU_SPTE_CHANGED, "newSpte", FieldClass.EXACT,
            "every bit but the address field: make_spte / make_nonleaf_spte (…827 NPT, …907 EPT), non-present or"
                    + " FROZEN (…5a0)"),
    TDP_SPTE_ADDR(EventKind.TDP_MMU_SPTE_CHANGED, "addr", FieldClass.LEARNED,
            "address field: host pfn (from spte_requested) or host physical address of a new page table"),
    SPLIT_GFN(EventKind.SPLIT_HUGE_PAGE, "gfn", FieldClass.EXACT, "base gfn of the huge SPTE split by a fault"),
    SPLIT_SPTE(EventKind.SPLIT_HUGE_PAGE, "spte", FieldClass.EXACT, "the huge SPTE, without its address field"),
    SPLIT_LEVEL(EventKind.SPLIT_HUGE_PAGE, "level", FieldClass.EXACT, "level of the huge SPTE"),
    SPLIT_ERRNO(EventKind.SPLIT_HUGE_PAGE, "errno", FieldClass.EXACT, "0: a fault's split cannot fail here"),
    STALE_TLB_GFN(EventKind.STALE_TLB_WINDOW, "gfn", FieldClass.EXACT,
            "base gfn of the range being zapped with yielding allowed (model-derived, never recorded)"),
    STALE_TLB_LEVEL(EventKind.STALE_TLB_WINDOW, "level", FieldClass.EXACT, "level of the page being zapped"),
    STALE_TLB_PENDING_GFN(EventKind.STALE_TLB_WINDOW, "staleGfn", FieldClass.EXACT,
            "gfn of the earlier zapped SPTE whose remote TLB flush is pending (the stale translation)"),
    STALE_TLB_PENDING_LEVEL(EventKind.STALE_TLB_WINDOW, "staleLevel", FieldClass.EXACT,
            "level of that SPTE"),
    STALE_TLB_PROGRESS(EventKind.STALE_TLB_WINDOW, "progress", FieldClass.EXACT,
            "whether tdp_mmu_iter_cond_resched's forward-progress rule lets the zap yield at that point"),
    // ------------------------------------------------------------------ fault entry (TDP host; mmu.FaultEntry)
    USERSPACE_EXIT_REASON(EventKind.USERSPACE_EXIT, "reason", FieldClass.EXACT,
            "'error': KVM_RUN returned -errno. An effect only where the model predicts the exit — a TDP fault the"
                    + " fault entry ends in KVM_EXIT_MEMORY_FAULT or -EFAULT; any other kvm_userspace_exit is a"
                    + " stimulus"),
    USERSPACE_EXIT_CODE(EventKind.USERSPACE_EXIT, "code", FieldClass.EXACT,
            "errno 14 (EFAULT), with or without memory-fault exit information (the tracepoint prints neither)"),
    FAULT_OUTCOME_GFN(EventKind.PAGE_FAULT_OUTCOME, "gfn", FieldClass.EXACT,
            "the faulting gfn (model-derived, never recorded)"),
    FAULT_OUTCOME_ERROR_CODE(EventKind.PAGE_FAULT_OUTCOME, "errorCode", FieldClass.EXACT,
            "the error code kvm_mmu_page_fault works with (legacy #PF truncation, npf_interception's synthetic-bit"
                    + " sanity, per kernel version), less the PFERR_PRIVATE_ACCESS of a private fault (field private)"),
    FAULT_OUTCOME_PRIVATE(EventKind.PAGE_FAULT_OUTCOME, "private", FieldClass.EXACT,
            "fault->is_private: PFERR_PRIVATE_ACCESS (6.10+) or the gfn's memory attribute (before)"),
    FAULT_OUTCOME_RESULT(EventKind.PAGE_FAULT_OUTCOME, "outcome", FieldClass.EXACT,
            "RET_PF_* / MEMORY_FAULT_EXIT / EFAULT of the fault entry's rules (FaultEntry.Outcome)"),
    // ------------------------------------------------------------------ effects this model does not predict
    UNMODELLED(null, "*", FieldClass.IGNORED,
            "fast_page_fault; on a tdp=false host tdp_mmu_spte_changed and split_huge_page (and check_mmio_spte /"
                    + " handle_mmio_page_fault the model did not predict, e.g. mmio_caching=N): counted, not"
                    + " compared");

    private final EventKind kind;
    private final String name;
    private final FieldClass cls;
    private final String reason;

    Field(EventKind kind, String name, FieldClass cls, String reason) {
        this.kind = kind;
        this.name = name;
        this.cls = cls;
        this.reason = reason;
    }

    /** The effect kind, or null for fields shared by the shadow-page events (get_page/sync/unsync/zap). */
    public EventKind kind() {
        return kind;
    }

    public String fieldName() {
        return name;
    }

    public FieldClass cls() {
        return cls;
    }

    public String reason() {
        return reason;
    }

    /** The fields of one effect kind (shadow-page fields included for the four shadow-page events). */
    public static List<Field> of(EventKind kind) {
        List<Field> out = new ArrayList<>();
        boolean spEvent = kind == EventKind.GET_PAGE || kind == EventKind.SYNC_PAGE
                || kind == EventKind.UNSYNC_PAGE || kind == EventKind.PREPARE_ZAP_PAGE;
        for (Field f : values()) {
            if (f.kind == kind || (f.kind == null && spEvent && f != UNMODELLED)) {
                out.add(f);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** Renders the classification as a Markdown table. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| effect | field | class | reason |\n|---|---|---|---|\n");
        for (Field f : values()) {
            sb.append("| ").append(f.kind == null ? (f == UNMODELLED ? "other MMU effects" : "shadow-page events")
                            : f.kind.tracepoint()).append(" | ").append(f.name).append(" | ").append(f.cls)
                    .append(" | ").append(f.reason).append(" |\n");
        }
        return sb.toString();
    }
}
