package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.ShadowPage;

/**
 * The two printed forms of a shadow page (struct kvm_mmu_page + its kvm_mmu_page_role).
 *
 * <p>Raw tracefs, KVM_MMU_PAGE_PRINTK in arch/x86/kvm/mmu/mmutrace.h (5.x and later):
 * <pre>
 *   "sp gen %u gfn %llx l%u %u-byte q%u%s %s%s %snxe %sad root %u %s"
 *    gen, gfn, role.level, has_4_byte_gpte ? 4 : 8, quadrant, direct ? " direct" : "",
 *    access_str[access], invalid ? " invalid" : "", efer_nx ? "" : "!", ad_disabled ? "!" : "", root_count,
 *    unsync ? "unsync" : "sync"
 * </pre>
 *
 * <p>trace-cmd report, libtraceevent plugins/plugin_kvm.c kvm_mmu_print_role (no gen, no gfn, no ad bit; its
 * role layout names bit 4 "cr4_pae", which is has_4_byte_gpte since 5.18):
 * <pre>
 *   "%u q%u%s %s%s %spae %snxe %swp%s%s%s" level, quadrant, direct ? " direct" : "", access_str[access],
 *        invalid ? " invalid" : "", cr4_pae ? "" : "!", nxe ? "" : "!", cr0_wp ? "" : "!",
 *        smep_and_not_wp ? " smep" : "", smap_and_not_wp ? " smap" : "", smm ? " smm" : ""
 *   " root %u "  root_count
 *   "%s"         unsync ? "unsync" : "sync"
 * </pre>
 * and kvm_mmu_get_page_handler prefixes {@code "%s " (new|existing)} and {@code "sp gfn %llx "}.
 */
final class ShadowPageText {

    private ShadowPageText() {
    }

    private static final byte[] SP_GEN = Cursor.ascii("sp gen ");
    private static final byte[] GFN = Cursor.ascii(" gfn ");
    private static final byte[] SP_L = Cursor.ascii(" l");
    private static final byte[] SPACE = Cursor.ascii(" ");
    private static final byte[] BYTE_Q = Cursor.ascii("-byte q");
    private static final byte[] DIRECT = Cursor.ascii(" direct");
    private static final byte[] INVALID = Cursor.ascii(" invalid");
    private static final byte[] NXE = Cursor.ascii("nxe ");
    private static final byte[] AD_ROOT = Cursor.ascii("ad root ");
    private static final byte[] UNSYNC = Cursor.ascii("unsync");
    private static final byte[] SYNC = Cursor.ascii("sync");
    private static final byte[] Q = Cursor.ascii(" q");
    private static final byte[] PAE = Cursor.ascii("pae ");
    private static final byte[] WP = Cursor.ascii("wp");
    private static final byte[] SMEP = Cursor.ascii(" smep");
    private static final byte[] SMAP = Cursor.ascii(" smap");
    private static final byte[] SMM = Cursor.ascii(" smm");
    private static final byte[] ROOT = Cursor.ascii(" root ");
    private static final byte[] NXE_NOSPACE = Cursor.ascii("nxe");
    static final byte[] NEW_SP_GFN = Cursor.ascii("new sp gfn ");
    static final byte[] EXISTING_SP_GFN = Cursor.ascii("existing sp gfn ");

    /** True when the payload is the raw tracefs form (it starts with "sp gen "). */
    static boolean isRawForm(Cursor c) {
        int n = SP_GEN.length;
        if (c.remaining() < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (c.b[c.pos + i] != SP_GEN[i]) {
                return false;
            }
        }
        return true;
    }

    /** KVM_MMU_PAGE_PRINTK (raw tracefs). */
    static ShadowPage readRaw(Cursor c) throws TraceParseException {
        c.lit(SP_GEN);
        long gen = c.dec("sp gen");
        c.lit(GFN);
        long gfn = c.hex("gfn");
        c.lit(SP_L);
        int level = c.decInt("level");
        c.lit(SPACE);
        int start = c.pos;
        long gpteBytes = c.dec("gpte size");
        if (gpteBytes != 4 && gpteBytes != 8) {
            throw c.fail("bad gpte size '" + c.token(start, c.pos) + "-byte' (expected 4 or 8)");
        }
        c.lit(BYTE_Q);
        int quadrant = c.decInt("quadrant");
        boolean direct = c.tryLit(DIRECT);
        c.lit(SPACE);
        int access = access(c);
        boolean invalid = c.tryLit(INVALID);
        c.lit(SPACE);
        boolean eferNx = !c.tryByte((byte) '!');
        c.lit(NXE);
        boolean adDisabled = c.tryByte((byte) '!');
        c.lit(AD_ROOT);
        int root = c.decInt("root count");
        c.lit(SPACE);
        boolean unsync = syncWord(c);
        return new ShadowPage(gen, gfn, level, gpteBytes == 4, quadrant, direct, access,
                (access & 1) != 0, (access & 2) != 0, (access & 4) != 0, invalid, eferNx, adDisabled,
                null, null, null, null, root, unsync);
    }

    /** kvm_mmu_print_role (trace-cmd report); gfn is known only for kvm_mmu_get_page, else null. */
    static ShadowPage readTraceCmd(Cursor c, Long gfn) throws TraceParseException {
        int level = c.decInt("level");
        c.lit(Q);
        int quadrant = c.decInt("quadrant");
        boolean direct = c.tryLit(DIRECT);
        c.lit(SPACE);
        int access = access(c);
        boolean invalid = c.tryLit(INVALID);
        c.lit(SPACE);
        boolean has4Byte = !c.tryByte((byte) '!');
        c.lit(PAE);
        boolean eferNx = !c.tryByte((byte) '!');
        c.lit(NXE_NOSPACE);
        c.lit(SPACE);
        boolean cr0Wp = !c.tryByte((byte) '!');
        c.lit(WP);
        boolean smep = c.tryLit(SMEP);
        boolean smap = c.tryLit(SMAP);
        boolean smm = c.tryLit(SMM);
        c.lit(ROOT);
        int root = c.decInt("root count");
        c.lit(SPACE);
        boolean unsync = syncWord(c);
        return new ShadowPage(null, gfn, level, has4Byte, quadrant, direct, access,
                (access & 1) != 0, (access & 2) != 0, (access & 4) != 0, invalid, eferNx, null,
                cr0Wp, smep, smap, smm, root, unsync);
    }

    /** access_str[] = "---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux" (ACC_EXEC 1, ACC_WRITE 2, ACC_USER 4). */
    private static int access(Cursor c) throws TraceParseException {
        if (c.remaining() >= 3) {
            byte w = c.b[c.pos];
            byte u = c.b[c.pos + 1];
            byte x = c.b[c.pos + 2];
            if ((w == 'w' || w == '-') && (u == 'u' || u == '-') && (x == 'x' || x == '-')
                    && (c.remaining() == 3 || c.b[c.pos + 3] == ' ')) {
                c.pos += 3;
                return (w == 'w' ? 2 : 0) | (u == 'u' ? 4 : 0) | (x == 'x' ? 1 : 0);
            }
        }
        if (c.atEnd()) {
            throw c.fail("truncated: no access string");
        }
        throw c.fail("bad access string '" + c.token(c.pos, Math.min(c.end, c.pos + 3)) + "' (expected [w-][u-][x-])");
    }

    private static boolean syncWord(Cursor c) throws TraceParseException {
        if (c.tryLit(UNSYNC)) {
            return true;
        }
        if (c.tryLit(SYNC)) {
            return false;
        }
        if (c.atEnd()) {
            throw c.fail("truncated: expected 'sync' or 'unsync' but the payload ends");
        }
        throw c.fail("expected 'sync' or 'unsync' at '" + c.snippet(c.pos) + "'");
    }
}
