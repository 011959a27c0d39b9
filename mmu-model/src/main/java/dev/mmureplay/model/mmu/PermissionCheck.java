package dev.mmureplay.model.mmu;

/**
 * The guest permission check of arch/x86/kvm/mmu.h {@code permission_fault()}, with the tables built by mmu.c
 * {@code update_permission_bitmask()} and {@code update_pkru_bitmask()}. Immutable; one instance per combination of
 * the CPU-role bits that matter (CR0.WP, EFER.NX, CR4.SMEP, CR4.SMAP, CR4.PKE in long mode).
 */
public final class PermissionCheck {

    private static final PermissionCheck[] CACHE = new PermissionCheck[32];

    static {
        for (int i = 0; i < 32; i++) {
            CACHE[i] = new PermissionCheck((i & 1) != 0, (i & 2) != 0, (i & 4) != 0, (i & 8) != 0, (i & 16) != 0);
        }
    }

    private final boolean cr0Wp;
    private final boolean eferNx;
    private final boolean smep;
    private final boolean smap;
    private final boolean pke;
    /** mmu->permissions[16]: per pfec>>1, a bit per ACC_* combination that faults. */
    private final byte[] permissions = new byte[16];
    /** mmu->pkru_mask. */
    private final int pkruMask;

    private PermissionCheck(boolean cr0Wp, boolean eferNx, boolean smep, boolean smap, boolean pke) {
        this.cr0Wp = cr0Wp;
        this.eferNx = eferNx;
        this.smep = smep;
        this.smap = smap;
        this.pke = pke;
        updatePermissionBitmask();
        this.pkruMask = pke ? updatePkruBitmask(cr0Wp) : 0;
    }

    /**
     * @param cr0Wp  role cr0_wp
     * @param eferNx role efer_nx (the guest's EFER.NX, not the shadow root's forced NX)
     * @param smep   CR4.SMEP
     * @param smap   CR4.SMAP
     * @param pke    CR4.PKE and EFER.LMA (role.ext.cr4_pke)
     */
    public static PermissionCheck of(boolean cr0Wp, boolean eferNx, boolean smep, boolean smap, boolean pke) {
        return CACHE[(cr0Wp ? 1 : 0) | (eferNx ? 2 : 0) | (smep ? 4 : 0) | (smap ? 8 : 0) | (pke ? 16 : 0)];
    }

    public boolean cr0Wp() {
        return cr0Wp;
    }

    public boolean eferNx() {
        return eferNx;
    }

    public boolean smep() {
        return smep;
    }

    public boolean smap() {
        return smap;
    }

    public boolean pke() {
        return pke;
    }

    /** update_permission_bitmask() for a non-EPT MMU. */
    private void updatePermissionBitmask() {
        final int x = byteMask(Spte.ACC_EXEC_MASK);
        final int w = byteMask(Spte.ACC_WRITE_MASK);
        final int u = byteMask(Spte.ACC_USER_MASK);
        for (int b = 0; b < 16; b++) {
            long pfec = (long) b << 1;
            int wf = (pfec & PageFaultErrorCode.WRITE) != 0 ? (~w & 0xff) : 0;   // writes to non-writable pages
            int uf = (pfec & PageFaultErrorCode.USER) != 0 ? (~u & 0xff) : 0;    // user access to supervisor pages
            int ff = (pfec & PageFaultErrorCode.FETCH) != 0 ? (~x & 0xff) : 0;   // fetch from non-executable pages
            int smepf = 0;
            int smapf = 0;
            int kf = (pfec & PageFaultErrorCode.USER) != 0 ? 0 : u;               // kernel access to user pages
            if (!eferNx) {
                ff = 0;                                                         // !nx: pte.nx is a reserved bit
            }
            if (!cr0Wp) {
                wf = (pfec & PageFaultErrorCode.USER) != 0 ? wf : 0;              // supervisor writes allowed
            }
            if (smep) {
                smepf = (pfec & PageFaultErrorCode.FETCH) != 0 ? kf : 0;          // supervisor fetch of user code
            }
            if (smap) {                                                         // RSVD slot = "not subject to SMAP"
                smapf = (pfec & (PageFaultErrorCode.RSVD | PageFaultErrorCode.FETCH)) != 0 ? 0 : kf;
            }
            permissions[b] = (byte) (ff | uf | wf | smepf | smapf);
        }
    }

    /** BYTE_MASK(access): the set of the 8 ACC_* combinations that contain {@code access}. */
    private static int byteMask(int access) {
        int m = 0;
        for (int acc = 0; acc < 8; acc++) {
            if ((acc & access) != 0) {
                m |= 1 << acc;
            }
        }
        return m;
    }

    /** update_pkru_bitmask(): per pfec (with RSVD replaced by "pte is user") 2 bits: check AD, check WD. */
    private static int updatePkruBitmask(boolean wp) {
        int mask = 0;
        for (int bit = 0; bit < 16; bit++) {
            int pfec = bit << 1;
            boolean ff = (pfec & PageFaultErrorCode.FETCH) != 0;
            boolean uf = (pfec & PageFaultErrorCode.USER) != 0;
            boolean wf = (pfec & PageFaultErrorCode.WRITE) != 0;
            boolean pteUser = (pfec & PageFaultErrorCode.RSVD) != 0;
            boolean checkPkey = !ff && pteUser;
            boolean checkWrite = checkPkey && wf && (uf || wp);
            int pkeyBits = (checkPkey ? 1 : 0) | ((checkWrite ? 1 : 0) << 1);
            mask |= (pkeyBits & 3) << pfec;
        }
        return mask;
    }

    /**
     * permission_fault(): 0 when the access is allowed, else the error code bits it contributes (P, plus PK for a
     * protection-key fault). The walker then ORs in W/U/F of the access.
     *
     * @param pteAccess ACC_* effective access of the translation (AND over all levels)
     * @param pkey      the leaf's protection key (bits 62:59)
     * @param access    the access pfec (W, U, F; IMPLICIT_ACCESS for implicit supervisor accesses)
     * @param eflagsAc  EFLAGS.AC
     * @param pkru      the guest PKRU register
     */
    public long permissionFault(int pteAccess, int pkey, long access, boolean eflagsAc, int pkru) {
        boolean implicit = (access & PageFaultErrorCode.IMPLICIT_ACCESS) != 0;
        // not_smap: EFLAGS.AC set and the access is explicit → use the RSVD slot, which SMAP never faults
        boolean notSmap = eflagsAc && !implicit;
        int pfec = (int) (access & 0x1f);
        int index = (pfec | (notSmap ? (int) PageFaultErrorCode.RSVD : 0)) >> 1;
        long errcode = PageFaultErrorCode.PRESENT;
        boolean fault = ((permissions[index] >> pteAccess) & 1) != 0;
        if (pkruMask != 0) {
            int pkruBits = (pkru >>> (pkey * 2)) & 3;
            // clear present bit, replace PFEC.RSVD with ACC_USER_MASK
            int offset = (pfec & ~1) | ((pteAccess & Spte.ACC_USER_MASK) != 0 ? (int) PageFaultErrorCode.RSVD : 0);
            pkruBits &= pkruMask >>> offset;
            if (pkruBits != 0) {
                errcode |= PageFaultErrorCode.PK;
                fault = true;
            }
        }
        return fault ? errcode : 0;
    }
}
