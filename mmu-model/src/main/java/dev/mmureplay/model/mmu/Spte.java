package dev.mmureplay.model.mmu;

/**
 * SPTE encoding exactly as arch/x86/kvm/mmu/spte.h / spte.c encode it (mainline ~6.18).
 *
 * <p>Everything here is a pure function of its arguments and the {@link Masks} of the host (non-EPT shadow paging /
 * NPT, or EPT). Each rule names the kernel function it reproduces.
 */
public final class Spte {

    private Spte() {
    }

    // ------------------------------------------------------------------------------------------ architectural bits
    public static final long PT_PRESENT_MASK = 1L;
    public static final long PT_WRITABLE_MASK = 1L << 1;
    public static final long PT_USER_MASK = 1L << 2;
    public static final long PT_PWT_MASK = 1L << 3;
    public static final long PT_PCD_MASK = 1L << 4;
    public static final long PT_ACCESSED_MASK = 1L << 5;
    public static final long PT_DIRTY_MASK = 1L << 6;
    public static final long PT_PAGE_SIZE_MASK = 1L << 7;
    public static final long PT_GLOBAL_MASK = 1L << 8;
    public static final long PT64_NX_MASK = 1L << 63;

    // ------------------------------------------------------------------------------------------ KVM software bits
    /** SPTE_MMU_PRESENT_MASK: bit 11, the only bit is_shadow_present_pte() looks at. */
    public static final long SPTE_MMU_PRESENT_MASK = 1L << 11;
    /** DEFAULT_SPTE_HOST_WRITABLE (non-EPT): bit 9. */
    public static final long DEFAULT_SPTE_HOST_WRITABLE = 1L << 9;
    /** DEFAULT_SPTE_MMU_WRITABLE (non-EPT): bit 10. */
    public static final long DEFAULT_SPTE_MMU_WRITABLE = 1L << 10;
    /** EPT_SPTE_HOST_WRITABLE: bit 57. */
    public static final long EPT_SPTE_HOST_WRITABLE = 1L << 57;
    /** EPT_SPTE_MMU_WRITABLE: bit 58. */
    public static final long EPT_SPTE_MMU_WRITABLE = 1L << 58;
    /** SPTE_TDP_AD_MASK: bits 52-53 (0 enabled, 1 disabled, 2 write-protect only). */
    public static final long SPTE_TDP_AD_SHIFT = 52;
    public static final long SPTE_TDP_AD_DISABLED = 1L << SPTE_TDP_AD_SHIFT;
    public static final long SPTE_TDP_AD_WRPROT_ONLY = 2L << SPTE_TDP_AD_SHIFT;
    public static final long SPTE_TDP_AD_MASK = 3L << SPTE_TDP_AD_SHIFT;
    /** SHADOW_NONPRESENT_VALUE since 6.10: bit 63 for TDP MMU SPTEs; 0 for the shadow MMU. */
    public static final long SHADOW_NONPRESENT_VALUE_TDP = 1L << 63;
    /** FROZEN_SPTE (ex REMOVED_SPTE) since 6.10: SHADOW_NONPRESENT_VALUE | 0x5a0. */
    public static final long FROZEN_SPTE = (1L << 63) | 0x5a0L;

    /** SPTE_BASE_ADDR_MASK: physical address bits 12..51. */
    public static final long SPTE_BASE_ADDR_MASK = ((1L << 52) - 1) & ~0xfffL;
    /** The pfn field as a shift. */
    public static final int PAGE_SHIFT = 12;

    // MMIO generation layout after the 2021 MMU_PRESENT fix (spte.h): gen bits 0-7 in SPTE bits 3-10, bits 8-18 in
    // SPTE bits 52-62.
    public static final int MMIO_SPTE_GEN_LOW_START = 3;
    public static final int MMIO_SPTE_GEN_LOW_END = 10;
    public static final int MMIO_SPTE_GEN_HIGH_START = 52;
    public static final int MMIO_SPTE_GEN_HIGH_END = 62;
    public static final long MMIO_SPTE_GEN_MASK = (1L << 19) - 1;
    // The buggy first version of the series (profile mmio-gen-bit11): 20 generation bits, 3-11 and 52-62.
    public static final int MMIO_SPTE_GEN_LOW_END_BIT11 = 11;
    public static final long MMIO_SPTE_GEN_MASK_BIT11 = (1L << 20) - 1;

    /** ACC_* flags of role.access / pte_access. */
    public static final int ACC_EXEC_MASK = 1;
    public static final int ACC_WRITE_MASK = 2;
    public static final int ACC_USER_MASK = 4;
    public static final int ACC_ALL = 7;

    /**
     * The host-wide SPTE masks (spte.c {@code kvm_mmu_reset_all_pte_masks} / {@code kvm_mmu_set_ept_masks}).
     *
     * @param present        shadow_present_mask
     * @param user           shadow_user_mask
     * @param nx             shadow_nx_mask
     * @param x              shadow_x_mask
     * @param accessed       shadow_accessed_mask
     * @param dirty          shadow_dirty_mask
     * @param hostWritable   shadow_host_writable_mask
     * @param mmuWritable    shadow_mmu_writable_mask
     * @param accTrack       shadow_acc_track_mask
     * @param mmioValue      shadow_mmio_value (0 = MMIO caching off)
     * @param mmioMask       shadow_mmio_mask
     * @param mmioAccessMask shadow_mmio_access_mask
     */
    public record Masks(long present, long user, long nx, long x, long accessed, long dirty, long hostWritable,
                        long mmuWritable, long accTrack, long mmioValue, long mmioMask, long mmioAccessMask) {

        /**
         * Shadow paging and NPT (kvm_mmu_reset_all_pte_masks): MMIO value/mask = bit 51 | P when the host
         * MAXPHYADDR is below 52 and MMIO caching is enabled, access mask W|U.
         */
        public static Masks nonEpt(int hostMaxPhyAddr, boolean mmioCaching) {
            long mmio = (mmioCaching && hostMaxPhyAddr < 52) ? ((1L << 51) | PT_PRESENT_MASK) : 0;
            return new Masks(PT_PRESENT_MASK, PT_USER_MASK, PT64_NX_MASK, 0, PT_ACCESSED_MASK, PT_DIRTY_MASK,
                    DEFAULT_SPTE_HOST_WRITABLE, DEFAULT_SPTE_MMU_WRITABLE, 0, mmio, mmio,
                    ACC_WRITE_MASK | ACC_USER_MASK);
        }

        /** EPT (kvm_mmu_set_ept_masks): R bit 0 is "user", X bit 2, no NX; MMIO value 0b110, mask RWX | bit 63. */
        public static Masks ept(boolean hasAdBits, boolean hasExecOnly, boolean mmioCaching) {
            long suppressVe = 1L << 63;
            return new Masks((hasExecOnly ? 0 : 1L) | suppressVe, 1L, 0, 1L << 2, hasAdBits ? 1L << 8 : 0,
                    hasAdBits ? 1L << 9 : 0, EPT_SPTE_HOST_WRITABLE, EPT_SPTE_MMU_WRITABLE, 7L,
                    mmioCaching ? 6L : 0, 7L | suppressVe, 0);
        }

        public boolean mmioCachingEnabled() {
            return mmioValue != 0;
        }
    }

    // ------------------------------------------------------------------------------------------ predicates

    /** is_shadow_present_pte(): only the MMU-present bit counts; MMIO and frozen SPTEs are not present. */
    public static boolean isShadowPresent(long spte) {
        return (spte & SPTE_MMU_PRESENT_MASK) != 0;
    }

    /** is_large_pte(): bit 7. */
    public static boolean isLarge(long spte) {
        return (spte & PT_PAGE_SIZE_MASK) != 0;
    }

    /** is_last_spte(): level 1, or a large page above it. */
    public static boolean isLast(long spte, int level) {
        return level == 1 || isLarge(spte);
    }

    /** is_writable_pte(): bit 1. */
    public static boolean isWritable(long spte) {
        return (spte & PT_WRITABLE_MASK) != 0;
    }

    /** is_executable_pte(): (spte &amp; (x | nx)) == x. */
    public static boolean isExecutable(Masks m, long spte) {
        return (spte & (m.x() | m.nx())) == m.x();
    }

    /** is_rsvd_spte() address part (shadow_zero_check): address bits from the host MAXPHYADDR up to bit 51. */
    public static boolean rsvdAddrBitsSet(long spte, int hostMaxPhyAddr) {
        return hostMaxPhyAddr < 52 && (spte & (((1L << 52) - 1) & ~((1L << hostMaxPhyAddr) - 1))) != 0;
    }

    /** spte_to_pfn(): the address bits. */
    public static long pfn(long spte) {
        return (spte & SPTE_BASE_ADDR_MASK) >>> PAGE_SHIFT;
    }

    /** Replaces the pfn field. */
    public static long withPfn(long spte, long pfn) {
        return (spte & ~SPTE_BASE_ADDR_MASK) | ((pfn << PAGE_SHIFT) & SPTE_BASE_ADDR_MASK);
    }

    /** is_mmio_spte(): (spte &amp; mmio mask) == mmio value, with caching enabled. */
    public static boolean isMmio(Masks m, long spte) {
        return m.mmioValue() != 0 && (spte & m.mmioMask()) == m.mmioValue();
    }

    /** spte_ad_enabled(): the TDP A/D type bits are 0. */
    public static boolean adEnabled(long spte) {
        return (spte & SPTE_TDP_AD_MASK) == 0;
    }

    // ------------------------------------------------------------------------------------------ builders

    /**
     * make_spte() (spte.c, 6.13+ shape) for a leaf SPTE. The unsync decision ({@code mmu_try_to_unsync_pages}) is
     * the caller's: it is asked only when the kernel asks it (W wanted, and the old SPTE is not a writable leaf).
     *
     * @param wrprot receives {@code true} in {@code wrprot[0]} when the SPTE had to be write-protected
     * @return the new SPTE
     */
    public static long makeSpte(Masks m, int level, int pteAccess, long pfn, long oldSpte, boolean prefetch,
                                boolean synchronizing, boolean hostWritable, boolean adDisabled,
                                boolean nxHugePages, UnsyncDecision unsync, long gfn, boolean[] wrprot) {
        long spte = SPTE_MMU_PRESENT_MASK;
        if (adDisabled) {
            spte |= SPTE_TDP_AD_DISABLED;
        }
        spte |= m.present();
        if (!prefetch || synchronizing) {
            spte |= m.accessed();
        }
        // NX huge page mitigation: drop exec above 4K
        if (level > 1 && (pteAccess & ACC_EXEC_MASK) != 0 && nxHugePages) {
            pteAccess &= ~ACC_EXEC_MASK;
        }
        spte |= (pteAccess & ACC_EXEC_MASK) != 0 ? m.x() : m.nx();
        if ((pteAccess & ACC_USER_MASK) != 0) {
            spte |= m.user();
        }
        if (level > 1) {
            spte |= PT_PAGE_SIZE_MASK;
        }
        if (hostWritable) {
            spte |= m.hostWritable();
        } else {
            pteAccess &= ~ACC_WRITE_MASK;
        }
        spte |= (pfn << PAGE_SHIFT) & SPTE_BASE_ADDR_MASK;
        boolean wp = false;
        if ((pteAccess & ACC_WRITE_MASK) != 0) {
            boolean oldWritableLeaf = isShadowPresent(oldSpte) && isLast(oldSpte, level) && isWritable(oldSpte);
            if (!oldWritableLeaf && unsync.tryToUnsyncPages(gfn, synchronizing, prefetch)) {
                wp = true;
            } else {
                spte |= PT_WRITABLE_MASK | m.mmuWritable() | m.dirty();
            }
        }
        if (prefetch && !synchronizing) {
            spte = markForAccessTrack(m, spte);
        }
        if (wrprot != null) {
            wrprot[0] = wp;
        }
        return spte;
    }

    /** The unsync decision make_spte() delegates to mmu_try_to_unsync_pages(). */
    @FunctionalInterface
    public interface UnsyncDecision {
        /** @return true when the SPTE must be write-protected (the kernel's non-zero return). */
        boolean tryToUnsyncPages(long gfn, boolean synchronizing, boolean prefetch);

        /** A decision that never write-protects (used by pure encoding tests). */
        UnsyncDecision NEVER = (gfn, s, p) -> false;
    }

    /** mark_spte_for_access_track(): with A/D enabled just clear Accessed; else save RWX in bits 54+ and clear. */
    public static long markForAccessTrack(Masks m, long spte) {
        if (adEnabled(spte) && m.accessed() != 0) {
            return spte & ~m.accessed();
        }
        if (isAccessTrack(m, spte)) {
            return spte;
        }
        spte |= (spte & 7L) << 54;
        spte &= ~(m.accTrack() | m.accessed());
        return spte;
    }

    /** is_access_track_spte(): A/D disabled and no RWX (EPT only). */
    public static boolean isAccessTrack(Masks m, long spte) {
        return !adEnabled(spte) && (spte & m.accTrack()) == 0;
    }

    /**
     * make_nonleaf_spte(): MMU-present | child address | present | W | user | x | Accessed (or the A/D-disabled
     * type). {@code childAddress} is the model's stand-in for {@code __pa(child_pt)} (see README).
     */
    public static long makeNonLeafSpte(Masks m, long childAddress, boolean adDisabled) {
        long spte = SPTE_MMU_PRESENT_MASK;
        spte |= (childAddress & SPTE_BASE_ADDR_MASK) | m.present() | PT_WRITABLE_MASK | m.user() | m.x();
        spte |= adDisabled ? SPTE_TDP_AD_DISABLED : m.accessed();
        return spte;
    }

    /**
     * Profile pae-root-default-pdpte: the entry linking a level-2 child into a pae_root page is a PDPTE — MMU-present
     * | child address | P only; W, U, A and NX are reserved in PAE PDPTEs, so make_nonleaf_spte() cannot be used.
     */
    public static long makePaeRootPdpte(long childAddress) {
        return SPTE_MMU_PRESENT_MASK | (childAddress & SPTE_BASE_ADDR_MASK) | PT_PRESENT_MASK;
    }

    /**
     * make_mmio_spte(): generation bits | mmio value | (access &amp; mmio access mask) | gpa. With
     * {@code genBit11} the generation uses the pre-fix layout that overlaps the MMU-present bit 11.
     */
    public static long makeMmioSpte(Masks m, long gfn, int access, long memslotGen, boolean genBit11) {
        long gen = memslotGen & (genBit11 ? MMIO_SPTE_GEN_MASK_BIT11 : MMIO_SPTE_GEN_MASK);
        long spte = generationMask(gen, genBit11);
        spte |= m.mmioValue() | (access & m.mmioAccessMask());
        spte |= (gfn << PAGE_SHIFT) & SPTE_BASE_ADDR_MASK;
        return spte;
    }

    /** generation_mmio_spte_mask(). */
    public static long generationMask(long gen, boolean genBit11) {
        int lowEnd = genBit11 ? MMIO_SPTE_GEN_LOW_END_BIT11 : MMIO_SPTE_GEN_LOW_END;
        int lowBits = lowEnd - MMIO_SPTE_GEN_LOW_START + 1;
        long lowMask = ((1L << lowBits) - 1) << MMIO_SPTE_GEN_LOW_START;
        long highMask = ((1L << (MMIO_SPTE_GEN_HIGH_END - MMIO_SPTE_GEN_HIGH_START + 1)) - 1)
                << MMIO_SPTE_GEN_HIGH_START;
        long mask = (gen << MMIO_SPTE_GEN_LOW_START) & lowMask;
        mask |= (gen >>> lowBits << MMIO_SPTE_GEN_HIGH_START) & highMask;
        return mask;
    }

    /** get_mmio_spte_generation(). */
    public static long mmioGeneration(long spte, boolean genBit11) {
        int lowEnd = genBit11 ? MMIO_SPTE_GEN_LOW_END_BIT11 : MMIO_SPTE_GEN_LOW_END;
        int lowBits = lowEnd - MMIO_SPTE_GEN_LOW_START + 1;
        long low = (spte >>> MMIO_SPTE_GEN_LOW_START) & ((1L << lowBits) - 1);
        long high = (spte >>> MMIO_SPTE_GEN_HIGH_START) & ((1L << (MMIO_SPTE_GEN_HIGH_END
                - MMIO_SPTE_GEN_HIGH_START + 1)) - 1);
        return low | (high << lowBits);
    }

    /**
     * The letter group kvm_mmu_set_spte prints: r = present mask set or P, w = bit 1, x = is_executable_pte, u =
     * user (omitted when the host has no user mask).
     */
    public static String permissionLetters(Masks m, long spte) {
        int i = ((m.present() != 0 || (spte & PT_PRESENT_MASK) != 0) ? 1 : 0)
                | ((spte & PT_WRITABLE_MASK) != 0 ? 2 : 0)
                | (isExecutable(m, spte) ? 4 : 0);
        if (m.user() != 0) {
            i |= 8 | ((spte & m.user()) != 0 ? 16 : 0);
        }
        return LETTERS[i];   // constant strings: no allocation per compared SPTE
    }

    /** The letter groups, indexed by r | w<<1 | x<<2 | (u printed)<<3 | u<<4. */
    private static final String[] LETTERS = new String[32];

    static {
        for (int i = 0; i < LETTERS.length; i++) {
            LETTERS[i] = ((i & 1) != 0 ? "r" : "-") + ((i & 2) != 0 ? "w" : "-") + ((i & 4) != 0 ? "x" : "-")
                    + ((i & 8) == 0 ? "" : (i & 16) != 0 ? "u" : "-");
        }
    }
}
