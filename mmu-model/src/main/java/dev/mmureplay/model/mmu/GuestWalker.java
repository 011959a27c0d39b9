package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;

/**
 * {@code struct guest_walker} and FNAME(walk_addr_generic) of paging_tmpl.h, driven one
 * {@code kvm_mmu_paging_element} at a time (the trace shows each guest PTE as the kernel reads it).
 *
 * <p>One instance per vCPU, reused for every walk (no allocation per walk). After {@link #feed} returns
 * {@link #DONE} the walk's outcome is in {@link #errorCode()} (0 = success) and, on success, the accessed/dirty
 * updates in {@link #adCount()} / {@link #adGpa(int)} / {@link #adIsDirty(int)}.
 */
public final class GuestWalker {

    public static final int CONTINUE = 0;
    public static final int DONE = 1;
    /** The element does not fit the walk in progress (wrong level / no walk). */
    public static final int UNEXPECTED = 2;

    private GuestPagingMode mode;
    private long addr;
    private long access;
    private boolean active;
    private boolean done;
    private boolean pdpteExpected;
    /** Level of the next expected element. */
    private int level;
    private int maxLevel;
    private long currentTable;
    private long ptAccess;
    private long pteAccess;
    private final long[] ptes = new long[5];
    private final long[] tableGfn = new long[5];
    private final long[] pteGpa = new long[5];
    private final int[] ptAccessAcc = new int[5];
    private long errorCode;
    private boolean failed;
    private int walkerLevel;
    private int finalAccess;
    private long gfn;
    private int pkey;
    private boolean tableKnown;
    // A/D updates of a successful walk
    private final long[] adGpa = new long[10];
    private final boolean[] adDirty = new boolean[10];
    private int adCount;

    /** Starts a walk (trace_kvm_mmu_pagetable_walk). {@code rootTableGfn} is the guest CR3 gfn, -1 if unknown. */
    public void begin(GuestPagingMode mode, long addr, long access, long rootTableGfn) {
        this.mode = mode;
        this.addr = addr;
        this.access = access;
        this.active = true;
        this.done = false;
        this.level = mode.level();
        this.maxLevel = mode.level();
        this.pdpteExpected = mode.level() == 3;
        this.currentTable = rootTableGfn;
        this.tableKnown = rootTableGfn >= 0;
        this.pteAccess = ~0L;
        this.ptAccess = ~0L;
        this.errorCode = 0;
        this.failed = false;
        this.adCount = 0;
        this.gfn = -1;
    }

    public boolean active() {
        return active && !done;
    }

    public boolean done() {
        return done;
    }

    public long addr() {
        return addr;
    }

    public long access() {
        return access;
    }

    public GuestPagingMode mode() {
        return mode;
    }

    /** Abandons the walk in progress. */
    public void reset() {
        active = false;
        done = false;
    }

    /**
     * Consumes one paging element.
     *
     * @return CONTINUE, DONE or UNEXPECTED
     */
    public int feed(long pte, int lvl, PermissionCheck perm, boolean eflagsAc, int pkru, GuestMemory mem) {
        if (!active || done) {
            return UNEXPECTED;
        }
        if (pdpteExpected) {
            // PAE: the PDPTE comes from the PDPTR registers (mmu->get_pdptr); it is traced but not AND-ed in
            if (lvl != 3) {
                return UNEXPECTED;
            }
            pdpteExpected = false;
            if (!mode.isPresent(pte)) {
                return error(0);
            }
            level = 2;
            maxLevel = 2;
            currentTable = mode.tableGfn(pte);
            tableKnown = true;
            return CONTINUE;
        }
        if (lvl != level) {
            return UNEXPECTED;
        }
        long nxMask = mode.walkNxMask();
        ptAccess = pteAccess;
        int index = mode.index(addr, lvl);
        tableGfn[lvl - 1] = tableKnown ? currentTable : -1;
        pteGpa[lvl - 1] = tableKnown ? (currentTable << 12) + (long) index * mode.pteSize() : -1;
        pteAccess = ptAccess & (pte ^ nxMask);
        if (!mode.isPresent(pte)) {
            return error(0);
        }
        if (mode.isRsvdBitsSet(pte, lvl)) {
            return error(PageFaultErrorCode.RSVD | PageFaultErrorCode.PRESENT);
        }
        ptes[lvl - 1] = pte;
        if (tableKnown) {
            mem.put(pteGpa[lvl - 1], pte, mode.pteSize());
        }
        ptAccessAcc[lvl - 1] = GuestPagingMode.gpteAccess(ptAccess ^ nxMask, mode.fourByte());
        if (!mode.isLastGpte(lvl, pte)) {
            currentTable = mode.tableGfn(pte);
            tableKnown = true;
            level = lvl - 1;
            return CONTINUE;
        }
        walkerLevel = lvl;
        return finish(pte, perm, eflagsAc, pkru, mem);
    }

    private int finish(long pte, PermissionCheck perm, boolean eflagsAc, int pkru, GuestMemory mem) {
        boolean write = (access & PageFaultErrorCode.WRITE) != 0;
        pkey = mode.pkeys(pte);
        long accessedDirty = pteAccess & Spte.PT_ACCESSED_MASK;   // have_ad: non-EPT guest paging has A/D
        finalAccess = GuestPagingMode.gpteAccess(pteAccess ^ mode.walkNxMask(), mode.fourByte());
        long err = perm.permissionFault(finalAccess, pkey, access, eflagsAc, pkru);
        if (err != 0) {
            return error(err);
        }
        gfn = mode.gfnLvl(pte, walkerLevel) + mode.levelOffsetGfn(addr, walkerLevel);
        if (!write) {
            finalAccess = protectCleanGpte(finalAccess, pte);
        } else {
            accessedDirty &= pte >>> 1;   // fold D into the A position
        }
        if (accessedDirty == 0) {
            updateAccessedDirtyBits(write, mem);
        }
        done = true;
        return DONE;
    }

    /** FNAME(protect_clean_gpte): a clean guest PTE maps read-only so the first write can set D. */
    public static int protectCleanGpte(int access, long gpte) {
        int mask = ~Spte.ACC_WRITE_MASK;
        mask |= (int) ((gpte >>> (6 - 1)) & Spte.PT_WRITABLE_MASK);
        return access & mask;
    }

    /** FNAME(update_accessed_dirty_bits): from the top level down, A where clear, D on the leaf for writes. */
    private void updateAccessedDirtyBits(boolean write, GuestMemory mem) {
        for (int l = maxLevel; l >= walkerLevel; l--) {
            long pte = ptes[l - 1];
            long orig = pte;
            if ((pte & Spte.PT_ACCESSED_MASK) == 0) {
                adGpa[adCount] = pteGpa[l - 1];
                adDirty[adCount++] = false;
                pte |= Spte.PT_ACCESSED_MASK;
            }
            if (l == walkerLevel && write && (pte & Spte.PT_DIRTY_MASK) == 0) {
                adGpa[adCount] = pteGpa[l - 1];
                adDirty[adCount++] = true;
                pte |= Spte.PT_DIRTY_MASK;
            }
            if (pte != orig) {
                ptes[l - 1] = pte;
                if (pteGpa[l - 1] >= 0) {
                    mem.put(pteGpa[l - 1], pte, mode.pteSize());
                }
            }
        }
    }

    /** The error label of walk_addr_generic: OR in W/U of the access, F when fetch and (EFER.NX or SMEP). */
    private int error(long errcode) {
        boolean fetch = (access & PageFaultErrorCode.FETCH) != 0;
        errcode |= access & (PageFaultErrorCode.WRITE | PageFaultErrorCode.USER);
        if (fetch && (mode.eferNx() || smep)) {
            errcode |= PageFaultErrorCode.FETCH;
        }
        errorCode = errcode;
        failed = true;
        done = true;
        return DONE;
    }

    private boolean smep;

    /** CR4.SMEP for the F bit of walker errors (is_cr4_smep(mmu)). */
    public void setSmep(boolean smep) {
        this.smep = smep;
    }

    /** The #PF error code the walker reports (kvm_mmu_walker_error) when {@link #failed()}; may be 0. */
    public long errorCode() {
        return errorCode;
    }

    public boolean failed() {
        return done && failed;
    }

    public int adCount() {
        return adCount;
    }

    public long adGpa(int i) {
        return adGpa[i];
    }

    public boolean adIsDirty(int i) {
        return adDirty[i];
    }

    /** walker->level: the level of the leaf guest PTE. */
    public int walkerLevel() {
        return walkerLevel;
    }

    public int maxLevel() {
        return maxLevel;
    }

    /** walker->gfn. */
    public long gfn() {
        return gfn;
    }

    /** walker->pte_access (after protect_clean_gpte for reads). */
    public int pteAccess() {
        return finalAccess;
    }

    /** walker->pt_access[level-1]: access accumulated above {@code level}. */
    public int ptAccess(int lvl) {
        return ptAccessAcc[lvl - 1];
    }

    /** walker->table_gfn[level-1], -1 if unknown. */
    public long tableGfn(int lvl) {
        return tableGfn[lvl - 1];
    }

    /** walker->pte_gpa[level-1], -1 if unknown. */
    public long pteGpa(int lvl) {
        return pteGpa[lvl - 1];
    }

    /** walker->ptes[level-1] (after A/D updates). */
    public long pte(int lvl) {
        return ptes[lvl - 1];
    }

    // ============================================================================================ snapshot (v2)

    private static final int F_ACTIVE = 1;
    private static final int F_DONE = 2;
    private static final int F_PDPTE_EXPECTED = 4;
    private static final int F_FAILED = 8;
    private static final int F_TABLE_KNOWN = 16;
    private static final int F_ALL = 31;

    /**
     * Snapshot (format v2): a walk spans several events (one per paging element) and its outcome is read by later
     * events (A/D predictions, the armed fault's table gfns and accesses), so every field is written. Order: the
     * walk's paging format (presence byte, then level, EFER.NX, CR4.PSE — it may differ from the vCPU's current one
     * when a CR write rebuilt the context mid-walk; MAXPHYADDR/gbpages/vendor come from the config), addr, access,
     * flags (active 1, done 2, pdpteExpected 4, failed 8, tableKnown 16), level, maxLevel, currentTable, ptAccess and
     * pteAccess (word), per level 1-5: ptes (word), tableGfn, pteGpa, ptAccessAcc, then errorCode, walkerLevel,
     * finalAccess, gfn, pkey, adCount and the first adCount A/D updates (gpa, dirty); entries past adCount are never
     * read. {@code smep} is not written: {@link VcpuMmu#refreshContext} sets it from the vCPU's CR4.SMEP.
     */
    void writeTo(SnapshotOutput out) {
        out.bool(mode != null);
        if (mode != null) {
            out.uvarint(mode.level());
            out.bool(mode.eferNx());
            out.bool(mode.cr4Pse());
        }
        out.svarint(addr);
        out.svarint(access);
        out.uvarint((active ? F_ACTIVE : 0) | (done ? F_DONE : 0) | (pdpteExpected ? F_PDPTE_EXPECTED : 0)
                | (failed ? F_FAILED : 0) | (tableKnown ? F_TABLE_KNOWN : 0));
        out.svarint(level);
        out.svarint(maxLevel);
        out.svarint(currentTable);
        out.word(ptAccess);
        out.word(pteAccess);
        for (int i = 0; i < 5; i++) {
            out.word(ptes[i]);
            out.svarint(tableGfn[i]);
            out.svarint(pteGpa[i]);
            out.svarint(ptAccessAcc[i]);
        }
        out.svarint(errorCode);
        out.svarint(walkerLevel);
        out.svarint(finalAccess);
        out.svarint(gfn);
        out.svarint(pkey);
        out.uvarint(adCount);
        for (int i = 0; i < adCount; i++) {
            out.svarint(adGpa[i]);
            out.bool(adDirty[i]);
        }
    }

    /** Reads the fields written by {@link #writeTo} into this (fresh) walker. */
    void readFrom(SnapshotInput in, int guestMaxPhyAddr, boolean gbpages, boolean amd) throws IOException {
        if (in.bool()) {
            int lvl = in.uint(5, "walk paging level");
            if (lvl < 2) {
                throw in.corrupt("walk paging level " + lvl);
            }
            boolean nx = in.bool();
            boolean pse = in.bool();
            mode = new GuestPagingMode(lvl, nx, pse, guestMaxPhyAddr, gbpages, amd);
        }
        addr = in.svarint();
        access = in.svarint();
        int f = in.uint(F_ALL, "walk flags");
        active = (f & F_ACTIVE) != 0;
        done = (f & F_DONE) != 0;
        pdpteExpected = (f & F_PDPTE_EXPECTED) != 0;
        failed = (f & F_FAILED) != 0;
        tableKnown = (f & F_TABLE_KNOWN) != 0;
        level = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "walk level");
        maxLevel = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "walk max level");
        currentTable = in.svarint();
        ptAccess = in.word();
        pteAccess = in.word();
        for (int i = 0; i < 5; i++) {
            ptes[i] = in.word();
            tableGfn[i] = in.svarint();
            pteGpa[i] = in.svarint();
            ptAccessAcc[i] = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "walk pt access");
        }
        errorCode = in.svarint();
        walkerLevel = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "walker level");
        finalAccess = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "walk access");
        gfn = in.svarint();
        pkey = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "walk pkey");
        adCount = in.uint(adGpa.length, "walk A/D count");
        for (int i = 0; i < adCount; i++) {
            adGpa[i] = in.svarint();
            adDirty[i] = in.bool();
        }
    }
}
