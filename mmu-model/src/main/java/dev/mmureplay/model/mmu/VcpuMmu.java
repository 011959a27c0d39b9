package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
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

    // ============================================================================================ snapshot (v2)

    // bits of the snapshot's flag word (format v2; a new flag takes the next free bit)
    private static final int S_PG = 1;
    private static final int S_WP = 1 << 1;
    private static final int S_PAE = 1 << 2;
    private static final int S_PSE = 1 << 3;
    private static final int S_LMA = 1 << 4;
    private static final int S_LA57 = 1 << 5;
    private static final int S_NX = 1 << 6;
    private static final int S_SMEP = 1 << 7;
    private static final int S_SMAP = 1 << 8;
    private static final int S_PKE = 1 << 9;
    private static final int S_PCIDE = 1 << 10;
    private static final int S_EFLAGS_AC = 1 << 11;
    private static final int S_MODE_KNOWN = 1 << 12;
    private static final int S_ROOT_NX_LEARNED = 1 << 13;
    private static final int S_ROOT_NX_FOLLOWS_GUEST = 1 << 14;
    private static final int S_PAE_ROOT_ACTIVE = 1 << 15;
    private static final int S_REQ_FREE_OBSOLETE = 1 << 16;
    private static final int S_REQ_RELOAD = 1 << 17;
    private static final int S_REQ_SYNC = 1 << 18;
    private static final int S_ALL = (1 << 19) - 1;

    /**
     * Snapshot (format v2) of this vCPU; the id is its slot in {@link ShadowMmu}'s vCPU table. Order: flag word (bits
     * above: control bits, learned-role facts, PAE-root activity, pending requests), pkru (unsigned 32-bit), cr0,
     * cr4, cr3Gfn (zig-zag), knownBits, rootSp, rootPgd, the 4 PAE roots, the 3 previous roots (sp, pgd), then the
     * walk in progress ({@link GuestWalker#writeTo}) and the fault in progress ({@link PageFault#writeTo}).
     *
     * <p>Not written, recomputed on read by {@link #refreshContext} from the bits above and the config:
     * {@code mode}, {@code perm}, {@code rootRole} and the walker's SMEP bit — every change of a control bit or of
     * {@code rootNxFollowsGuest} is followed by a refresh (CrState.apply callers, learnRootNx in learnRoot), so these
     * are pure functions of the stored fields; the snapshot's digest trailer covers {@code rootRole}.
     */
    void writeTo(SnapshotOutput out) {
        out.uvarint((pg ? S_PG : 0) | (wp ? S_WP : 0) | (pae ? S_PAE : 0) | (pse ? S_PSE : 0) | (lma ? S_LMA : 0)
                | (la57 ? S_LA57 : 0) | (nx ? S_NX : 0) | (smep ? S_SMEP : 0) | (smap ? S_SMAP : 0)
                | (pke ? S_PKE : 0) | (pcide ? S_PCIDE : 0) | (eflagsAc ? S_EFLAGS_AC : 0)
                | (modeKnown ? S_MODE_KNOWN : 0) | (rootNxLearned ? S_ROOT_NX_LEARNED : 0)
                | (rootNxFollowsGuest ? S_ROOT_NX_FOLLOWS_GUEST : 0) | (paeRootActive ? S_PAE_ROOT_ACTIVE : 0)
                | (reqFreeObsoleteRoots ? S_REQ_FREE_OBSOLETE : 0) | (reqReload ? S_REQ_RELOAD : 0)
                | (reqSync ? S_REQ_SYNC : 0));
        out.uvarint(pkru & 0xffffffffL);
        out.svarint(cr0);
        out.svarint(cr4);
        out.svarint(cr3Gfn);
        out.uvarint(knownBits & 0xffffffffL);
        out.svarint(rootSp);
        out.svarint(rootPgd);
        for (int r : paeRoot) {
            out.svarint(r);
        }
        for (int i = 0; i < NUM_PREV_ROOTS; i++) {
            out.svarint(prevRootSp[i]);
            out.svarint(prevRootPgd[i]);
        }
        walker.writeTo(out);
        fault.writeTo(out);
    }

    /** Reads a vCPU written by {@link #writeTo} and rebuilds its derived context from the given config. */
    static VcpuMmu readFrom(SnapshotInput in, int id, int guestMaxPhyAddr, boolean gbpages, boolean amd)
            throws IOException {
        VcpuMmu v = new VcpuMmu(id);
        int f = in.uint(S_ALL, "vcpu " + id + " flags");
        v.pg = (f & S_PG) != 0;
        v.wp = (f & S_WP) != 0;
        v.pae = (f & S_PAE) != 0;
        v.pse = (f & S_PSE) != 0;
        v.lma = (f & S_LMA) != 0;
        v.la57 = (f & S_LA57) != 0;
        v.nx = (f & S_NX) != 0;
        v.smep = (f & S_SMEP) != 0;
        v.smap = (f & S_SMAP) != 0;
        v.pke = (f & S_PKE) != 0;
        v.pcide = (f & S_PCIDE) != 0;
        v.eflagsAc = (f & S_EFLAGS_AC) != 0;
        v.modeKnown = (f & S_MODE_KNOWN) != 0;
        v.rootNxLearned = (f & S_ROOT_NX_LEARNED) != 0;
        v.rootNxFollowsGuest = (f & S_ROOT_NX_FOLLOWS_GUEST) != 0;
        v.paeRootActive = (f & S_PAE_ROOT_ACTIVE) != 0;
        v.reqFreeObsoleteRoots = (f & S_REQ_FREE_OBSOLETE) != 0;
        v.reqReload = (f & S_REQ_RELOAD) != 0;
        v.reqSync = (f & S_REQ_SYNC) != 0;
        long pkru = in.uvarint();
        if (pkru < 0 || pkru > 0xffffffffL) {
            throw in.corrupt("vcpu " + id + " pkru");
        }
        v.pkru = (int) pkru;
        v.cr0 = in.svarint();
        v.cr4 = in.svarint();
        v.cr3Gfn = in.svarint();
        long known = in.uvarint();
        if (known < 0 || known > 0xffffffffL) {
            throw in.corrupt("vcpu " + id + " known bits");
        }
        v.knownBits = (int) known;
        v.rootSp = in.sint(-1, Integer.MAX_VALUE, "vcpu " + id + " root");
        v.rootPgd = in.svarint();
        for (int i = 0; i < v.paeRoot.length; i++) {
            v.paeRoot[i] = in.sint(-1, Integer.MAX_VALUE, "vcpu " + id + " PAE root");
        }
        for (int i = 0; i < NUM_PREV_ROOTS; i++) {
            v.prevRootSp[i] = in.sint(-1, Integer.MAX_VALUE, "vcpu " + id + " previous root");
            v.prevRootPgd[i] = in.svarint();
        }
        v.walker.readFrom(in, guestMaxPhyAddr, gbpages, amd);
        v.fault.readFrom(in);
        v.refreshContext(guestMaxPhyAddr, gbpages, amd);
        return v;
    }

    @Override
    public String toString() {
        return "vcpu" + id + " level " + cpuLevel() + " root " + rootSp + " pae " + Arrays.toString(paeRoot);
    }
}
