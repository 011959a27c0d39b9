package dev.mmureplay.model.mmu;

/**
 * {@code struct kvm_page_fault} for the fault in progress on one vCPU, plus the shadow-walk cursor between the two
 * halves of FNAME(fetch) / direct_map (before and after the host pfn is known from kvm_mmu_spte_requested).
 */
public final class PageFault {

    public enum Stage { NONE, ARMED, REQUESTED, DONE }

    Stage stage = Stage.NONE;
    long addr;
    long errorCode;
    boolean write;
    boolean user;
    boolean exec;
    boolean present;
    /** Shadow paging (walk) fault vs. direct (non-paging) fault. */
    boolean indirect;
    long gfn;
    /** Guest leaf level (walker.level) or max level for direct faults. */
    int maxLevel;
    int goalLevel;
    /** True when the goal level was predicted exactly (not a host-mapping-level guess). */
    boolean goalExact;
    int pteAccess;
    int directAccess;
    /** Shadow-walk cursor: the page and level reached by the first loop. */
    int cursorSp;
    int cursorLevel;
    long pfn;
    /** gw->prefetch_ptes: the 8 guest PTEs of the leaf group, valid bits in prefetchKnown. */
    final long[] prefetchPtes = new long[8];
    int prefetchKnown;
    boolean prefetchRead;

    public Stage stage() {
        return stage;
    }

    public long gfn() {
        return gfn;
    }

    public int goalLevel() {
        return goalLevel;
    }

    public boolean goalExact() {
        return goalExact;
    }

    void reset() {
        stage = Stage.NONE;
        prefetchKnown = 0;
        prefetchRead = false;
    }
}
