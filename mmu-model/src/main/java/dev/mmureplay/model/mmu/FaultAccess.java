package dev.mmureplay.model.mmu;

/**
 * The kvm_page_fault bookkeeping of FNAME(page_fault) / direct_page_fault, as static operations on a vCPU's
 * {@link PageFault} (kept out of the public surface of PageFault itself).
 */
public final class FaultAccess {

    private FaultAccess() {
    }

    /**
     * Arms the fault path after a successful guest walk (FNAME(page_fault) up to FNAME(fetch)): gfn, max level,
     * pte_access with the CR0.WP=0 supervisor-write adjustment, and direct_access.
     */
    public static void arm(PageFault f, GuestWalker w, VcpuMmu v) {
        f.stage = PageFault.Stage.ARMED;
        f.indirect = true;
        f.addr = w.addr();
        f.errorCode = w.access();
        f.write = (f.errorCode & PageFaultErrorCode.WRITE) != 0;
        f.user = (f.errorCode & PageFaultErrorCode.USER) != 0;
        f.exec = (f.errorCode & PageFaultErrorCode.FETCH) != 0;
        f.present = (f.errorCode & PageFaultErrorCode.PRESENT) != 0;
        f.gfn = w.gfn();
        f.maxLevel = w.walkerLevel();
        int access = w.pteAccess();
        // FNAME(page_fault): supervisor write to a read-only page with CR0.WP=0 → kernel-only writable mapping
        if (f.write && (access & Spte.ACC_WRITE_MASK) == 0 && !v.wp && !f.user) {
            access |= Spte.ACC_WRITE_MASK;
            access &= ~Spte.ACC_USER_MASK;
            if (v.smep) {
                access &= ~Spte.ACC_EXEC_MASK;
            }
        }
        f.pteAccess = access;
        f.directAccess = access;
        f.prefetchKnown = 0;
        f.prefetchRead = false;
        f.goalLevel = 1;
        f.goalExact = true;
    }

    /** direct_page_fault for a non-paging guest: gfn = address, ACC_ALL, max level KVM_MAX_HUGEPAGE_LEVEL. */
    public static void armDirect(PageFault f, long addr, long errorCode) {
        f.stage = PageFault.Stage.ARMED;
        f.indirect = false;
        f.addr = addr;
        f.errorCode = errorCode;
        f.write = (errorCode & PageFaultErrorCode.WRITE) != 0;
        f.user = (errorCode & PageFaultErrorCode.USER) != 0;
        f.exec = (errorCode & PageFaultErrorCode.FETCH) != 0;
        f.present = (errorCode & PageFaultErrorCode.PRESENT) != 0;
        f.gfn = addr >>> 12;
        f.maxLevel = 3;
        f.pteAccess = Spte.ACC_ALL;
        f.directAccess = Spte.ACC_ALL;
        f.prefetchKnown = 0;
        f.goalLevel = 1;
        f.goalExact = true;
    }

    public static void reset(PageFault f) {
        f.reset();
    }

    public static long addr(PageFault f) {
        return f.addr;
    }

    public static boolean indirect(PageFault f) {
        return f.indirect;
    }

    public static boolean write(PageFault f) {
        return f.write;
    }

    public static boolean present(PageFault f) {
        return f.present;
    }

    public static int maxLevel(PageFault f) {
        return f.maxLevel;
    }

    public static int pteAccess(PageFault f) {
        return f.pteAccess;
    }

    public static int directAccess(PageFault f) {
        return f.directAccess;
    }

    public static int cursorSp(PageFault f) {
        return f.cursorSp;
    }

    public static int cursorLevel(PageFault f) {
        return f.cursorLevel;
    }

    public static void setCursor(PageFault f, int sp, int level) {
        f.cursorSp = sp;
        f.cursorLevel = level;
    }

    public static void setGoal(PageFault f, int level, boolean exact) {
        f.goalLevel = level;
        f.goalExact = exact;
    }

    public static void setStage(PageFault f, PageFault.Stage s) {
        f.stage = s;
    }

    /**
     * FNAME(gpte_changed) at level 1 reads gw->prefetch_ptes: the aligned group of 8 guest PTEs around the leaf,
     * here from the guest PTEs the model has observed.
     */
    public static void readPrefetchPtes(PageFault f, GuestWalker w, GuestMemory mem) {
        long gpa = w.pteGpa(1);
        f.prefetchKnown = 0;
        f.prefetchRead = true;
        if (gpa < 0) {
            return;
        }
        int size = w.mode().pteSize();
        long base = gpa & ~((long) ShadowMmu.PTE_PREFETCH_NUM * size - 1);   // aligned: inside one guest page
        f.prefetchKnown = mem.readKnown(base, size, ShadowMmu.PTE_PREFETCH_NUM, f.prefetchPtes);
    }

    public static boolean prefetchKnown(PageFault f, int i) {
        return (f.prefetchKnown & (1 << i)) != 0;
    }

    public static long prefetchPte(PageFault f, int i) {
        return f.prefetchPtes[i];
    }
}
