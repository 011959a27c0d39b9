package dev.mmureplay.model.mmu;

import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;

/**
 * {@code union kvm_mmu_page_role} as a 32-bit word, bit for bit as in arch/x86/include/asm/kvm_host.h: level 0-3,
 * has_4_byte_gpte 4, quadrant 5-6, direct 7, access 8-10, invalid 11, efer_nx 12, cr0_wp 13, smep_andnot_wp 14,
 * smap_andnot_wp 15, ad_disabled 16, guest_mode 17, passthrough 18, smm 24-31.
 *
 * <p>Roles are plain {@code int}s on the hot path; this class holds the accessors and builders. Shadow pages are
 * hashed by (gfn, role word), exactly like {@code kvm_mmu_find_shadow_page} compares {@code role.word}.
 */
public final class MmuPageRole {

    private MmuPageRole() {
    }

    public static final int LEVEL_MASK = 0xf;
    public static final int HAS_4_BYTE_GPTE = 1 << 4;
    public static final int QUADRANT_SHIFT = 5;
    public static final int QUADRANT_MASK = 3 << QUADRANT_SHIFT;
    public static final int DIRECT = 1 << 7;
    public static final int ACCESS_SHIFT = 8;
    public static final int ACCESS_MASK = 7 << ACCESS_SHIFT;
    public static final int INVALID = 1 << 11;
    public static final int EFER_NX = 1 << 12;
    public static final int CR0_WP = 1 << 13;
    public static final int SMEP_ANDNOT_WP = 1 << 14;
    public static final int SMAP_ANDNOT_WP = 1 << 15;
    public static final int AD_DISABLED = 1 << 16;
    public static final int GUEST_MODE = 1 << 17;
    public static final int PASSTHROUGH = 1 << 18;
    /**
     * Profile pae-root-default-pdpte: role.pae_root of the 2021/22 RFC (seed 002) — a PAE root allocated as an
     * ordinary shadow page, in the role's unused bits 19-23 (not printed by the trace). Never set upstream.
     */
    public static final int PAE_ROOT = 1 << 19;
    public static final int SMM_SHIFT = 24;

    /** The bits the raw tracefs text shows (everything but cr0_wp, smep/smap_andnot_wp, guest_mode, passthrough,
     * smm). */
    public static final int PRINTED_BITS = LEVEL_MASK | HAS_4_BYTE_GPTE | QUADRANT_MASK | DIRECT | ACCESS_MASK
            | INVALID | EFER_NX | AD_DISABLED;

    public static int level(int role) {
        return role & LEVEL_MASK;
    }

    public static boolean has4ByteGpte(int role) {
        return (role & HAS_4_BYTE_GPTE) != 0;
    }

    public static int quadrant(int role) {
        return (role & QUADRANT_MASK) >>> QUADRANT_SHIFT;
    }

    public static boolean direct(int role) {
        return (role & DIRECT) != 0;
    }

    public static int access(int role) {
        return (role & ACCESS_MASK) >>> ACCESS_SHIFT;
    }

    public static boolean invalid(int role) {
        return (role & INVALID) != 0;
    }

    public static boolean eferNx(int role) {
        return (role & EFER_NX) != 0;
    }

    public static boolean cr0Wp(int role) {
        return (role & CR0_WP) != 0;
    }

    public static boolean adDisabled(int role) {
        return (role & AD_DISABLED) != 0;
    }

    public static int withLevel(int role, int level) {
        return (role & ~LEVEL_MASK) | (level & LEVEL_MASK);
    }

    public static int withQuadrant(int role, int quadrant) {
        return (role & ~QUADRANT_MASK) | ((quadrant << QUADRANT_SHIFT) & QUADRANT_MASK);
    }

    public static int withAccess(int role, int access) {
        return (role & ~ACCESS_MASK) | ((access << ACCESS_SHIFT) & ACCESS_MASK);
    }

    public static int withFlag(int role, int flag, boolean on) {
        return on ? role | flag : role & ~flag;
    }

    /**
     * kvm_mmu_child_role(): the parent's role with level-1, the given access and directness, passthrough cleared,
     * and for 4-byte guest PTEs the quadrant taken from the low bit of the parent SPTE index.
     */
    public static int childRole(int parentRole, int parentSpteIndex, boolean direct, int access) {
        int role = withLevel(parentRole, level(parentRole) - 1);
        role = withAccess(role, access);
        role = withFlag(role, DIRECT, direct);
        role &= ~(PASSTHROUGH | PAE_ROOT);   // pae-root-default-pdpte: only the root itself is a pae_root page
        if (has4ByteGpte(role)) {
            role = withQuadrant(role, parentSpteIndex & 1);
        }
        return role;
    }

    /** The role bits a trace line shows, as a role word (hidden bits zero). */
    public static int fromPrinted(ShadowPageInfo sp) {
        int role = sp.level() & LEVEL_MASK;
        role = withFlag(role, HAS_4_BYTE_GPTE, sp.fourByte());
        role = withQuadrant(role, sp.quadrant());
        role = withFlag(role, DIRECT, sp.direct());
        role = withAccess(role, sp.access());
        role = withFlag(role, INVALID, sp.invalid());
        role = withFlag(role, EFER_NX, sp.nxe());
        role = withFlag(role, AD_DISABLED, sp.adDisabled());
        if (sp.cr0Wp() != ModelEvent.UNKNOWN_INT) {
            role = withFlag(role, CR0_WP, sp.cr0Wp() == 1);
        }
        return role;
    }

    /** Whether a trace's printed role agrees with a full role word on every bit the trace shows. */
    public static boolean matchesPrinted(int role, ShadowPageInfo sp) {
        int printed = fromPrinted(sp);
        int mask = PRINTED_BITS | (sp.cr0Wp() != ModelEvent.UNKNOWN_INT ? CR0_WP : 0);
        return (role & mask) == (printed & mask);
    }

    /** A readable rendering of every bit (for reports). */
    public static String describe(int role) {
        return "l" + level(role) + " " + (has4ByteGpte(role) ? 4 : 8) + "-byte q" + quadrant(role)
                + (direct(role) ? " direct" : "") + " " + ShadowPageInfo.accessString(access(role))
                + (invalid(role) ? " invalid" : "") + " " + (eferNx(role) ? "" : "!") + "nxe "
                + (adDisabled(role) ? "!" : "") + "ad " + (cr0Wp(role) ? "" : "!") + "wp"
                + ((role & SMEP_ANDNOT_WP) != 0 ? " smep&!wp" : "") + ((role & SMAP_ANDNOT_WP) != 0 ? " smap&!wp" : "")
                + ((role & GUEST_MODE) != 0 ? " guest" : "") + ((role & PASSTHROUGH) != 0 ? " passthrough" : "")
                + ((role >>> SMM_SHIFT) != 0 ? " smm" : "");
    }
}
