package dev.mmureplay.model.mmu;

/**
 * The guest paging format a walk uses (paging_tmpl.h instantiated as paging64 or paging32), with the guest's
 * reserved-bit masks (mmu.c {@code __reset_rsvds_bits_mask}). Immutable.
 */
public final class GuestPagingMode {

    public static final long PT64_BASE_ADDR_MASK = ((1L << 52) - 1) & ~0xfffL;
    public static final long PT32_BASE_ADDR_MASK = 0xfffff000L;

    /** cpu_role.base.level: 2 (32-bit), 3 (PAE), 4, 5. */
    private final int level;
    private final boolean fourByte;
    private final boolean eferNx;
    private final boolean cr4Pse;
    /** rsvd_bits_mask[bit7][level-1]. */
    private final long[][] rsvd = new long[2][5];

    /**
     * @param level          cpu_role.base.level (2, 3, 4 or 5)
     * @param eferNx         guest EFER.NX
     * @param cr4Pse         guest CR4.PSE
     * @param guestMaxPhyAddr guest CPUID MAXPHYADDR
     * @param gbpages        guest CPUID 1 GiB pages
     * @param amd            guest vendor AMD (bit 8 reserved in non-leaf PML4Es/PDPEs)
     */
    public GuestPagingMode(int level, boolean eferNx, boolean cr4Pse, int guestMaxPhyAddr, boolean gbpages,
                           boolean amd) {
        this.level = level;
        this.fourByte = level == 2;
        this.eferNx = eferNx;
        this.cr4Pse = cr4Pse;
        resetRsvdsBitsMask(rsvdBits(guestMaxPhyAddr, 63), level, eferNx, gbpages, cr4Pse, amd);
    }

    /** rsvd_bits(s, e). */
    public static long rsvdBits(int s, int e) {
        if (e < s) {
            return 0;
        }
        long hi = e == 63 ? -1L : (1L << (e + 1)) - 1;
        return hi & ~((1L << s) - 1);
    }

    /** __reset_rsvds_bits_mask() for the guest (no bad_mt_xwr: not EPT). */
    private void resetRsvdsBitsMask(long paBitsRsvd, int lvl, boolean nx, boolean gbpages, boolean pse,
                                    boolean amd) {
        long gbpagesBitRsvd = gbpages ? 0 : rsvdBits(7, 7);
        long highBitsRsvd = lvl == 3 ? paBitsRsvd & rsvdBits(0, 62) : paBitsRsvd & rsvdBits(0, 51);
        if (!nx) {
            highBitsRsvd |= rsvdBits(63, 63);
        }
        long nonleafBit8Rsvd = amd ? rsvdBits(8, 8) : 0;
        switch (lvl) {
            case 2 -> {
                rsvd[0][1] = 0;
                rsvd[0][0] = 0;
                rsvd[1][0] = rsvd[0][0];
                if (!pse) {
                    rsvd[1][1] = 0;
                } else {
                    rsvd[1][1] = rsvdBits(17, 21);  // 36-bit PSE (PSE36 assumed)
                }
            }
            case 3 -> {
                rsvd[0][2] = rsvdBits(63, 63) | highBitsRsvd | rsvdBits(5, 8) | rsvdBits(1, 2);
                rsvd[0][1] = highBitsRsvd;
                rsvd[0][0] = highBitsRsvd;
                rsvd[1][1] = highBitsRsvd | rsvdBits(13, 20);
                rsvd[1][0] = rsvd[0][0];
            }
            case 4, 5 -> {
                if (lvl == 5) {
                    rsvd[0][4] = highBitsRsvd | nonleafBit8Rsvd | rsvdBits(7, 7);
                    rsvd[1][4] = rsvd[0][4];
                }
                rsvd[0][3] = highBitsRsvd | nonleafBit8Rsvd | rsvdBits(7, 7);
                rsvd[0][2] = highBitsRsvd | gbpagesBitRsvd;
                rsvd[0][1] = highBitsRsvd;
                rsvd[0][0] = highBitsRsvd;
                rsvd[1][3] = rsvd[0][3];
                rsvd[1][2] = highBitsRsvd | gbpagesBitRsvd | rsvdBits(13, 29);
                rsvd[1][1] = highBitsRsvd | rsvdBits(13, 20);
                rsvd[1][0] = rsvd[0][0];
            }
            default -> throw new IllegalArgumentException("paging level " + lvl);
        }
    }

    public int level() {
        return level;
    }

    public boolean fourByte() {
        return fourByte;
    }

    public int pteSize() {
        return fourByte ? 4 : 8;
    }

    public boolean eferNx() {
        return eferNx;
    }

    /** CR4.PSE the format was built with (a snapshot stores the mode as level, EFER.NX, CR4.PSE). */
    boolean cr4Pse() {
        return cr4Pse;
    }

    /** FNAME(is_present_gpte). */
    public boolean isPresent(long gpte) {
        return (gpte & Spte.PT_PRESENT_MASK) != 0;
    }

    /** FNAME(is_rsvd_bits_set) → __is_rsvd_bits_set(). */
    public boolean isRsvdBitsSet(long gpte, int lvl) {
        int bit7 = (int) ((gpte >>> 7) & 1);
        return (gpte & rsvd[bit7][lvl - 1]) != 0;
    }

    /** FNAME(is_last_gpte): level 1 always; bit 7 above (paging32: only with CR4.PSE, level 2). */
    public boolean isLastGpte(int lvl, long gpte) {
        if (lvl == 1) {
            return true;
        }
        if (fourByte) {
            return lvl == 2 && cr4Pse && (gpte & Spte.PT_PAGE_SIZE_MASK) != 0;
        }
        return (gpte & Spte.PT_PAGE_SIZE_MASK) != 0;
    }

    /** FNAME(gpte_access): W|U|P with NX folded into P (paging64), giving ACC_* bits. */
    public static int gpteAccess(long gpte, boolean fourByte) {
        int access = (int) (gpte & (Spte.PT_WRITABLE_MASK | Spte.PT_USER_MASK | Spte.PT_PRESENT_MASK));
        if (!fourByte) {
            access ^= (int) (gpte >>> 63);
        }
        return access;
    }

    /** The XOR mask that turns NX into an "executable" bit that can be AND-ed across levels (walk_nx_mask). */
    public long walkNxMask() {
        return fourByte ? 0 : Spte.PT64_NX_MASK;
    }

    /** FNAME(gpte_pkeys): bits 62:59 of a paging64 leaf. */
    public int pkeys(long gpte) {
        return fourByte ? 0 : (int) ((gpte >>> 59) & 0xf);
    }

    /** gpte_to_gfn(): the next table's gfn. */
    public long tableGfn(long gpte) {
        return fourByte ? (gpte & PT32_BASE_ADDR_MASK) >>> 12 : (gpte & PT64_BASE_ADDR_MASK) >>> 12;
    }

    /** gpte_to_gfn_lvl() (+ pse36_gfn_delta for paging32 4 MiB pages). */
    public long gfnLvl(long gpte, int lvl) {
        if (fourByte) {
            if (lvl == 1) {
                return (gpte & PT32_BASE_ADDR_MASK) >>> 12;
            }
            long gfn = (gpte & 0xffc00000L) >>> 12;
            gfn += ((gpte >>> 13) & 0xf) << (32 - 12);
            return gfn;
        }
        long mask = PT64_BASE_ADDR_MASK & ~((1L << (12 + (lvl - 1) * 9)) - 1);
        return (gpte & mask) >>> 12;
    }

    /** The gfn offset of {@code addr} inside a page of the given level (PT_LVL_OFFSET_MASK >> PAGE_SHIFT). */
    public long levelOffsetGfn(long addr, int lvl) {
        int bits = fourByte ? 12 + (lvl - 1) * 10 : 12 + (lvl - 1) * 9;
        return (addr & ((1L << bits) - 1)) >>> 12;
    }

    /** PT_INDEX(addr, level). */
    public int index(long addr, int lvl) {
        if (fourByte) {
            return (int) ((addr >>> (12 + (lvl - 1) * 10)) & 1023);
        }
        return (int) ((addr >>> (12 + (lvl - 1) * 9)) & 511);
    }
}
