package dev.mmureplay.model.mmu;

/**
 * A mutable view of a vCPU's guest control bits (CR0/CR4/EFER) used to change several at once, plus the vCPU
 * request and root bookkeeping the replay engine drives (kvm_make_request / vcpu_enter_guest).
 */
public final class CrState {

    public boolean pg;
    public boolean wp;
    public boolean pae;
    public boolean pse;
    public boolean lma;
    public boolean la57;
    public boolean nx;
    public boolean smep;
    public boolean smap;
    public boolean pke;
    public long cr4;
    public int known;

    private CrState() {
    }

    /** Snapshot of the vCPU's control bits. */
    public static CrState of(VcpuMmu v) {
        CrState s = new CrState();
        s.pg = v.pg;
        s.wp = v.wp;
        s.pae = v.pae;
        s.pse = v.pse;
        s.lma = v.lma;
        s.la57 = v.la57;
        s.nx = v.nx;
        s.smep = v.smep;
        s.smap = v.smap;
        s.pke = v.pke;
        s.cr4 = v.cr4;
        s.known = v.knownBits;
        return s;
    }

    /** Writes the bits back (the caller refreshes the MMU context). */
    public void apply(VcpuMmu v) {
        v.pg = pg;
        v.wp = wp;
        v.pae = pae;
        v.pse = pse;
        v.lma = lma;
        v.la57 = la57;
        v.nx = nx;
        v.smep = smep;
        v.smap = smap;
        v.pke = pke;
        v.cr4 = cr4;
        v.knownBits = known;
        v.modeKnown = true;
    }

    public static void setCr3(VcpuMmu v, long gfn) {
        v.cr3Gfn = gfn;
        v.knownBits |= VcpuMmu.KNOWN_CR3;
    }

    /** KVM_REQ_MMU_RELOAD-like: roots are (re)loaded on the next entry. */
    public static void requestReload(VcpuMmu v) {
        v.reqReload = true;
    }

    /** KVM_REQ_MMU_SYNC / KVM_REQ_TLB_FLUSH_GUEST: kvm_mmu_sync_roots on the next entry. */
    public static void requestSync(VcpuMmu v) {
        v.reqSync = true;
    }

    public static boolean pending(VcpuMmu v) {
        return v.reqFreeObsoleteRoots || v.reqReload || v.reqSync;
    }

    public static boolean takeFreeObsolete(VcpuMmu v) {
        boolean r = v.reqFreeObsoleteRoots;
        v.reqFreeObsoleteRoots = false;
        return r;
    }

    public static boolean takeSync(VcpuMmu v) {
        boolean r = v.reqSync;
        v.reqSync = false;
        return r;
    }

    public static boolean takeReload(VcpuMmu v) {
        boolean r = v.reqReload;
        v.reqReload = false;
        return r;
    }

    public static void clearRequests(VcpuMmu v) {
        v.reqFreeObsoleteRoots = false;
        v.reqReload = false;
        v.reqSync = false;
    }

    /** Makes a shadow page the vCPU's current root. */
    public static void setRoot(VcpuMmu v, int spId, long pgd) {
        v.rootSp = spId;
        v.rootPgd = pgd;
        v.paeRootActive = false;
    }

    /** Sets one PAE root entry and activates the PAE root page. */
    public static void setPaeRoot(VcpuMmu v, int i, int spId) {
        v.paeRoot[i] = spId;
        v.paeRootActive = true;
        v.rootSp = -1;
    }
}
