package dev.mmureplay.model.mmu;

import java.util.Arrays;

/**
 * The per-vCPU MMU state: the guest control bits that shape the MMU role (CR0.PG/WP, CR4.PAE/PSE/SMEP/SMAP/PKE/LA57,
 * EFER.LMA/NX), the guest CR3, the current root (a shadow page or four PAE roots), the cached previous roots, the
 * pending KVM requests, and the fault in progress. Which control bits were seen in the trace (vs. defaulted) is
 * recorded in {@link #knownBits}.
 */
public final class VcpuMmu {

    // bits of knownBits
    public static final int KNOWN_PG = 1;
    public static final int KNOWN_WP = 2;
    public static final int KNOWN_PAE = 4;
    public static final int KNOWN_LMA = 8;
    public static final int KNOWN_NX = 16;
    public static final int KNOWN_CR3 = 32;
    public static final int KNOWN_SMEP = 64;
    public static final int KNOWN_SMAP = 128;
    public static final int KNOWN_PKE = 256;
    public static final int KNOWN_PSE = 512;

    public static final int NUM_PREV_ROOTS = 3;

    final int id;
    // guest control state
    boolean pg = true;
    boolean wp = true;
    boolean pae = true;
    boolean pse = true;
    boolean lma = true;
    boolean la57;
    boolean nx = true;
    boolean smep;
    boolean smap;
    boolean pke;
    boolean pcide;
    boolean eflagsAc;
    int pkru;
    long cr0 = -1;
    long cr4 = -1;
    /** Guest CR3 (pgd) as a gfn, -1 when unknown. */
    long cr3Gfn = -1;
    int knownBits;
    /** True once the paging mode is known (from a root get_page or a CR write). */
    boolean modeKnown;
    /** True once a printed non-direct root role showed the root role's efer_nx bit (learned, never traced). */
    boolean rootNxLearned;
    /** The host's shadow root role takes efer_nx from the guest (a printed {@code !nxe}) instead of forcing it. */
    boolean rootNxFollowsGuest;

    // MMU roots
    /** root_role word of the current MMU context. */
    int rootRole;
    /** Current root shadow page id, or -1. */
    int rootSp = -1;
    long rootPgd = -1;
    /** PAE roots (shadow page ids, -1 invalid) when the root is the special pae_root page. */
    final int[] paeRoot = {-1, -1, -1, -1};
    boolean paeRootActive;
    final int[] prevRootSp = {-1, -1, -1};
    final long[] prevRootPgd = {-1, -1, -1};

    // pending requests (serviced on the next guest entry)
    boolean reqFreeObsoleteRoots;
    boolean reqReload;
    boolean reqSync;

    GuestPagingMode mode;
    PermissionCheck perm;
    final GuestWalker walker = new GuestWalker();
    final PageFault fault = new PageFault();

    VcpuMmu(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public GuestWalker walker() {
        return walker;
    }

    public PageFault fault() {
        return fault;
    }

    public int rootSp() {
        return rootSp;
    }

    public int[] paeRoots() {
        return paeRoot.clone();
    }

    public boolean paeRootActive() {
        return paeRootActive;
    }

    public long cr3Gfn() {
        return cr3Gfn;
    }

    public int knownBits() {
        return knownBits;
    }

    public boolean modeKnown() {
        return modeKnown;
    }

    public boolean paging() {
        return pg;
    }

    public boolean cr0Wp() {
        return wp;
    }

    public boolean eferNx() {
        return nx;
    }

    public boolean hasRoot() {
        return rootSp >= 0 || paeRootActive;
    }

    /** cpu_role.base.level: 0 with paging off. */
    public int cpuLevel() {
        if (!pg) {
            return 0;
        }
        if (lma) {
            return la57 ? 5 : 4;
        }
        return pae ? 3 : 2;
    }

    /** kvm_calc_cpu_role(): the CPU role base word. */
    public int cpuRoleBase() {
        int role = MmuPageRole.withAccess(0, Spte.ACC_ALL);
        if (!pg) {
            return role | MmuPageRole.DIRECT;
        }
        role = MmuPageRole.withFlag(role, MmuPageRole.EFER_NX, nx);
        role = MmuPageRole.withFlag(role, MmuPageRole.CR0_WP, wp);
        role = MmuPageRole.withFlag(role, MmuPageRole.SMEP_ANDNOT_WP, smep && !wp);
        role = MmuPageRole.withFlag(role, MmuPageRole.SMAP_ANDNOT_WP, smap && !wp);
        role = MmuPageRole.withFlag(role, MmuPageRole.HAS_4_BYTE_GPTE, !pae);
        return MmuPageRole.withLevel(role, cpuLevel());
    }

    /** kvm_init_shadow_mmu(): root role = CPU role, level at least PAE, EFER.NX forced on. */
    public int computeRootRole() {
        int role = cpuRoleBase();
        role = MmuPageRole.withLevel(role, Math.max(MmuPageRole.level(role), 3));
        // kvm_init_shadow_mmu forces efer_nx; a host seen printing !nxe keeps the guest's EFER.NX (learned)
        return rootNxFollowsGuest ? role : role | MmuPageRole.EFER_NX;
    }

    public boolean rootNxLearned() {
        return rootNxLearned;
    }

    /** Learns the root role's efer_nx from a printed non-direct root role; returns the guest EFER.NX it implies or
     *  null when the role does not tell (a forced nxe). */
    public Boolean learnRootNx(boolean printedNxe) {
        rootNxLearned = true;
        if (!printedNxe) {
            rootNxFollowsGuest = true;
        }
        return rootNxFollowsGuest ? printedNxe : null;
    }

    /** Rebuilds the walk format and permission tables from the control bits (kvm_init_mmu). */
    void refreshContext(int guestMaxPhyAddr, boolean gbpages, boolean amd) {
        int lvl = cpuLevel();
        mode = lvl == 0 ? null : new GuestPagingMode(lvl, nx, pse, guestMaxPhyAddr, gbpages, amd);
        perm = PermissionCheck.of(wp, nx, smep, smap, pke && lma);
        walker.setSmep(smep);
        rootRole = computeRootRole();
    }

    /** The root_role word of the current context. */
    public int rootRoleWord() {
        return rootRole;
    }

    public GuestPagingMode mode() {
        return mode;
    }

    public PermissionCheck permissions() {
        return perm;
    }

    void digestInto(Digest d) {
        d.add(id).add(pg).add(wp).add(pae).add(pse).add(lma).add(la57).add(nx).add(smep).add(smap).add(pke)
                .add(cr3Gfn).add(knownBits).add(modeKnown).add(rootRole).add(rootSp).add(rootPgd)
                .add(paeRootActive).add(rootNxLearned).add(rootNxFollowsGuest);
        for (int r : paeRoot) {
            d.add(r);
        }
        for (int i = 0; i < NUM_PREV_ROOTS; i++) {
            d.add(prevRootSp[i]).add(prevRootPgd[i]);
        }
        d.add(reqFreeObsoleteRoots).add(reqReload).add(reqSync);
    }

    @Override
    public String toString() {
        return "vcpu" + id + " level " + cpuLevel() + " root " + rootSp + " pae " + Arrays.toString(paeRoot);
    }
}
