package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.CheckMmioSpte;
import dev.mmureplay.avro.FastPageFault;
import dev.mmureplay.avro.HandleMmioPageFault;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetDirtyBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSplitHugePage;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.KvmMmuSyncPage;
import dev.mmureplay.avro.KvmMmuUnsyncPage;
import dev.mmureplay.avro.KvmMmuWalkerError;
import dev.mmureplay.avro.KvmMmuZapAllFast;
import dev.mmureplay.avro.KvmTdpMmuSpteChanged;
import dev.mmureplay.avro.MarkMmioSpte;
import dev.mmureplay.avro.ShadowPage;

/**
 * One rule per kvmmmu tracepoint: the TP_printk format of arch/x86/kvm/mmu/mmutrace.h it reads is quoted above
 * each method. trace-cmd report prints the same text (libtraceevent evaluates the same print fmt), except for the
 * shadow-page events rendered by plugin_kvm.c (see {@link ShadowPageText}).
 */
final class KvmMmuPayloads {

    private KvmMmuPayloads() {
    }

    private static final byte[] ADDR = Cursor.ascii("addr ");
    private static final byte[] PFERR = Cursor.ascii("pferr ");
    private static final byte[] SP_PFERR = Cursor.ascii(" pferr ");
    private static final byte[] SPACE = Cursor.ascii(" ");
    private static final byte[] PTE = Cursor.ascii("pte ");
    private static final byte[] LEVEL = Cursor.ascii(" level ");
    private static final byte[] GPA = Cursor.ascii("gpa ");
    private static final byte[] NEW = Cursor.ascii(" new");
    private static final byte[] EXISTING = Cursor.ascii(" existing");
    private static final byte[] SPTEP_COLON = Cursor.ascii("sptep:");
    private static final byte[] GFN = Cursor.ascii("gfn ");
    private static final byte[] SP_GFN = Cursor.ascii(" gfn ");
    private static final byte[] ACCESS = Cursor.ascii(" access ");
    private static final byte[] GEN = Cursor.ascii(" gen ");
    private static final byte[] ADDR_COLON = Cursor.ascii("addr:");
    private static final byte[] VCPU = Cursor.ascii("vcpu ");
    private static final byte[] GVA = Cursor.ascii(" gva ");
    private static final byte[] ERROR_CODE = Cursor.ascii(" error_code ");
    private static final byte[] SPTEP = Cursor.ascii(" sptep ");
    private static final byte[] OLD = Cursor.ascii(" old ");
    private static final byte[] NEW_VAL = Cursor.ascii(" new ");
    private static final byte[] SPURIOUS = Cursor.ascii(" spurious ");
    private static final byte[] FIXED = Cursor.ascii(" fixed ");
    private static final byte[] VALID_GEN = Cursor.ascii("kvm-mmu-valid-gen ");
    private static final byte[] USED_PAGES = Cursor.ascii(" used_pages ");
    private static final byte[] SPTE = Cursor.ascii("spte ");
    private static final byte[] SP_SPTE = Cursor.ascii(" spte ");
    private static final byte[] KVM_GEN = Cursor.ascii(" kvm_gen ");
    private static final byte[] SPTE_GEN = Cursor.ascii(" spte-gen ");
    private static final byte[] VALID = Cursor.ascii(" valid ");
    private static final byte[] OPEN = Cursor.ascii(" (");
    private static final byte[] CLOSE_LEVEL = Cursor.ascii(") level ");
    private static final byte[] AT = Cursor.ascii(" at ");
    private static final byte[] PFN = Cursor.ascii(" pfn ");
    private static final byte[] AS_ID = Cursor.ascii("as id ");
    private static final byte[] OLD_SPTE = Cursor.ascii(" old_spte ");
    private static final byte[] NEW_SPTE = Cursor.ascii(" new_spte ");
    private static final byte[] ERRNO = Cursor.ascii(" errno ");
    private static final byte[] PTRVAL = Cursor.ascii("(____ptrval____)");
    private static final byte[] NULL_PTR = Cursor.ascii("(null)");

    /** kvm_mmu_pagetable_walk: "addr %llx pferr %x %s" (%s = __print_flags(pferr, "|", pferr names)). */
    static KvmMmuPagetableWalk pagetableWalk(Cursor c) throws TraceParseException {
        c.lit(ADDR);
        long addr = c.hex("addr");
        c.lit(SP_PFERR);
        long pferr = c.hex("pferr");
        c.lit(SPACE);
        PfErrorFlags.readAndCheck(c, "pferr", pferr);
        c.end();
        return new KvmMmuPagetableWalk(addr, PfErrorFlags.decode(pferr));
    }

    /** kvm_mmu_paging_element: "pte %llx level %u". */
    static KvmMmuPagingElement pagingElement(Cursor c) throws TraceParseException {
        c.lit(PTE);
        long pte = c.hex("pte");
        c.lit(LEVEL);
        int level = c.decInt("level");
        c.end();
        return new KvmMmuPagingElement(pte, level);
    }

    /** kvm_mmu_set_accessed_bit (kvm_mmu_set_bit_class): "gpa %llx". */
    static KvmMmuSetAccessedBit setAccessedBit(Cursor c) throws TraceParseException {
        return new KvmMmuSetAccessedBit(gpa(c));
    }

    /** kvm_mmu_set_dirty_bit (kvm_mmu_set_bit_class): "gpa %llx". */
    static KvmMmuSetDirtyBit setDirtyBit(Cursor c) throws TraceParseException {
        return new KvmMmuSetDirtyBit(gpa(c));
    }

    private static long gpa(Cursor c) throws TraceParseException {
        c.lit(GPA);
        long gpa = c.hex("gpa");
        c.end();
        return gpa;
    }

    /** kvm_mmu_walker_error: "pferr %x %s". */
    static KvmMmuWalkerError walkerError(Cursor c) throws TraceParseException {
        c.lit(PFERR);
        long pferr = c.hex("pferr");
        c.lit(SPACE);
        PfErrorFlags.readAndCheck(c, "pferr", pferr);
        c.end();
        return new KvmMmuWalkerError(PfErrorFlags.decode(pferr));
    }

    /**
     * kvm_mmu_get_page: raw "%s %s" (KVM_MMU_PAGE_PRINTK, created ? "new" : "existing");
     * trace-cmd kvm_mmu_get_page_handler: "%s " (new|existing), "sp gfn %llx ", then the role text.
     */
    static KvmMmuGetPage getPage(Cursor c) throws TraceParseException {
        if (ShadowPageText.isRawForm(c)) {
            ShadowPage sp = ShadowPageText.readRaw(c);
            boolean created;
            if (c.tryLit(NEW)) {
                created = true;
            } else if (c.tryLit(EXISTING)) {
                created = false;
            } else {
                throw c.atEnd() ? c.fail("truncated: expected ' new' or ' existing' but the payload ends")
                        : c.fail("expected ' new' or ' existing' at '" + c.snippet(c.pos) + "'");
            }
            c.end();
            return new KvmMmuGetPage(sp, created);
        }
        boolean created;
        if (c.tryLit(ShadowPageText.NEW_SP_GFN)) {
            created = true;
        } else if (c.tryLit(ShadowPageText.EXISTING_SP_GFN)) {
            created = false;
        } else {
            throw c.atEnd() ? c.fail("truncated: empty payload")
                    : c.fail("expected 'sp gen ' (tracefs) or 'new sp gfn '/'existing sp gfn ' (trace-cmd) at '"
                    + c.snippet(c.pos) + "'");
        }
        long gfn = c.hex("gfn");
        c.lit(SPACE);
        ShadowPage sp = ShadowPageText.readTraceCmd(c, gfn);
        c.end();
        return new KvmMmuGetPage(sp, created);
    }

    /** kvm_mmu_sync_page / kvm_mmu_unsync_page / kvm_mmu_prepare_zap_page (kvm_mmu_page_class): "%s". */
    static ShadowPage shadowPage(Cursor c) throws TraceParseException {
        if (c.atEnd()) {
            throw c.fail("truncated: empty payload");
        }
        ShadowPage sp = ShadowPageText.isRawForm(c) ? ShadowPageText.readRaw(c) : ShadowPageText.readTraceCmd(c, null);
        c.end();
        return sp;
    }

    static KvmMmuSyncPage syncPage(Cursor c) throws TraceParseException {
        return new KvmMmuSyncPage(shadowPage(c));
    }

    static KvmMmuUnsyncPage unsyncPage(Cursor c) throws TraceParseException {
        return new KvmMmuUnsyncPage(shadowPage(c));
    }

    static KvmMmuPrepareZapPage prepareZapPage(Cursor c) throws TraceParseException {
        return new KvmMmuPrepareZapPage(shadowPage(c));
    }

    /** mark_mmio_spte: "sptep:%p gfn %llx access %x gen %x". */
    static MarkMmioSpte markMmioSpte(Cursor c) throws TraceParseException {
        c.lit(SPTEP_COLON);
        Long sptep = pointer(c, "sptep");
        c.lit(SP_GFN);
        long gfn = c.hex("gfn");
        c.lit(ACCESS);
        int access = c.hexInt("access");
        c.lit(GEN);
        long gen = c.hex("gen");
        c.end();
        return new MarkMmioSpte(sptep, gfn, access, gen);
    }

    /** handle_mmio_page_fault: "addr:%llx gfn %llx access %x". */
    static HandleMmioPageFault handleMmioPageFault(Cursor c) throws TraceParseException {
        c.lit(ADDR_COLON);
        long addr = c.hex("addr");
        c.lit(SP_GFN);
        long gfn = c.hex("gfn");
        c.lit(ACCESS);
        int access = c.hexInt("access");
        c.end();
        return new HandleMmioPageFault(addr, gfn, access);
    }

    /**
     * fast_page_fault: "vcpu %d gva %llx error_code %s sptep %p old %#llx new %llx spurious %d fixed %d"
     * (error_code printed as flag names only: the value is rebuilt from them).
     */
    static FastPageFault fastPageFault(Cursor c) throws TraceParseException {
        c.lit(VCPU);
        int vcpu = c.decInt("vcpu");
        c.lit(GVA);
        long gva = c.hex("gva");
        c.lit(ERROR_CODE);
        long ec = PfErrorFlags.read(c, "error_code");
        c.lit(SPTEP);
        Long sptep = pointer(c, "sptep");
        c.lit(OLD);
        long old = c.hexOpt0x("old");
        c.lit(NEW_VAL);
        long nw = c.hex("new");
        c.lit(SPURIOUS);
        boolean spurious = c.bit("spurious");
        c.lit(FIXED);
        boolean fixed = c.bit("fixed");
        c.end();
        return new FastPageFault(vcpu, gva, PfErrorFlags.decode(ec), sptep, old, nw, spurious, fixed);
    }

    /**
     * A %p pointer: the kernel prints a hashed value as hex (zero-padded, no prefix), "(____ptrval____)" before the
     * hash key is ready (null: unknown) and "(null)" for NULL (0); libtraceevent may print a 0x prefix.
     */
    private static Long pointer(Cursor c, String field) throws TraceParseException {
        if (c.tryLit(PTRVAL)) {
            return null;
        }
        if (c.tryLit(NULL_PTR)) {
            return 0L;
        }
        return c.hexOpt0x(field);
    }

    /** kvm_mmu_zap_all_fast: "kvm-mmu-valid-gen %u used_pages %x". */
    static KvmMmuZapAllFast zapAllFast(Cursor c) throws TraceParseException {
        c.lit(VALID_GEN);
        long gen = c.dec("kvm-mmu-valid-gen");
        c.lit(USED_PAGES);
        long used = c.hex("used_pages");
        c.end();
        return new KvmMmuZapAllFast(gen, used);
    }

    /** check_mmio_spte: "spte %llx kvm_gen %x spte-gen %x valid %d". */
    static CheckMmioSpte checkMmioSpte(Cursor c) throws TraceParseException {
        c.lit(SPTE);
        long spte = c.hex("spte");
        c.lit(KVM_GEN);
        long kvmGen = c.hex("kvm_gen");
        c.lit(SPTE_GEN);
        long spteGen = c.hex("spte-gen");
        c.lit(VALID);
        boolean valid = c.bit("valid");
        c.end();
        return new CheckMmioSpte(spte, kvmGen, spteGen, valid);
    }

    /**
     * kvm_mmu_set_spte: "gfn %llx spte %llx (%s%s%s%s) level %d at %llx" with r ? "r" : "-", W bit ? "w" : "-",
     * x ? "x" : "-", and u == -1 ? "" : (u ? "u" : "-") (no u letter when shadow_user_mask is 0, i.e. EPT).
     */
    static KvmMmuSetSpte setSpte(Cursor c) throws TraceParseException {
        c.lit(GFN);
        long gfn = c.hex("gfn");
        c.lit(SP_SPTE);
        long spte = c.hex("spte");
        c.lit(OPEN);
        int n = 0;
        while (n < 5 && c.pos + n < c.end && c.b[c.pos + n] != ')') {
            n++;
        }
        if (n != 3 && n != 4 || c.pos + n >= c.end) {
            throw c.fail("bad permission letters '(" + c.token(c.pos, Math.min(c.end, c.pos + n + 1))
                    + "' (expected (rwx) or (rwxu) with '-' for a clear bit)");
        }
        boolean r = letter(c, 0, 'r', "r");
        boolean w = letter(c, 1, 'w', "w");
        boolean x = letter(c, 2, 'x', "x");
        Boolean u = n == 4 ? letter(c, 3, 'u', "u") : null;
        c.pos += n;
        c.lit(CLOSE_LEVEL);
        int level = c.decInt("level");
        c.lit(AT);
        long sptep = c.hex("sptep");
        c.end();
        return new KvmMmuSetSpte(gfn, spte, r, w, x, u, level, sptep);
    }

    private static boolean letter(Cursor c, int i, char set, String field) throws TraceParseException {
        byte v = c.b[c.pos + i];
        if (v == set) {
            return true;
        }
        if (v == '-') {
            return false;
        }
        throw c.fail("bad permission letter '" + c.token(c.pos + i, c.pos + i + 1) + "' for " + field
                + " (expected '" + set + "' or '-')");
    }

    /** kvm_mmu_spte_requested: "gfn %llx pfn %llx level %d". */
    static KvmMmuSpteRequested spteRequested(Cursor c) throws TraceParseException {
        c.lit(GFN);
        long gfn = c.hex("gfn");
        c.lit(PFN);
        long pfn = c.hex("pfn");
        c.lit(LEVEL);
        int level = c.decInt("level");
        c.end();
        return new KvmMmuSpteRequested(gfn, pfn, level);
    }

    /** kvm_tdp_mmu_spte_changed: "as id %d gfn %llx level %d old_spte %llx new_spte %llx". */
    static KvmTdpMmuSpteChanged tdpMmuSpteChanged(Cursor c) throws TraceParseException {
        c.lit(AS_ID);
        int asId = c.decInt("as id");
        c.lit(SP_GFN);
        long gfn = c.hex("gfn");
        c.lit(LEVEL);
        int level = c.decInt("level");
        c.lit(OLD_SPTE);
        long old = c.hex("old_spte");
        c.lit(NEW_SPTE);
        long nw = c.hex("new_spte");
        c.end();
        return new KvmTdpMmuSpteChanged(asId, gfn, level, old, nw);
    }

    /** kvm_mmu_split_huge_page: "gfn %llx spte %llx level %d errno %d". */
    static KvmMmuSplitHugePage splitHugePage(Cursor c) throws TraceParseException {
        c.lit(GFN);
        long gfn = c.hex("gfn");
        c.lit(SP_SPTE);
        long spte = c.hex("spte");
        c.lit(LEVEL);
        int level = c.decInt("level");
        c.lit(ERRNO);
        int errno = c.decInt("errno");
        c.end();
        return new KvmMmuSplitHugePage(gfn, spte, level, errno);
    }
}
