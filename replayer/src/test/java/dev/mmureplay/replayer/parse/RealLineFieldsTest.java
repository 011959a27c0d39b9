package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmMmio;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetDirtyBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.KvmMmuSyncPage;
import dev.mmureplay.avro.KvmMmuUnsyncPage;
import dev.mmureplay.avro.KvmMmuZapAllFast;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.PfErrorCode;
import dev.mmureplay.avro.ShadowPage;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * (b) For each event type in the real traces, one real line (quoted, and checked to be the line at file:line)
 * with every field of the parsed record asserted against its text.
 */
class RealLineFieldsTest {

    private final TraceLineParser parser = new TraceLineParser();

    /** Parses the real line at file:line after checking that it is exactly the quoted text. */
    private ParsedLine real(String file, int lineNo, String quoted) {
        assertEquals(quoted, Traces.lines(file).get(lineNo - 1), "the quoted text is the real line " + file + ":" + lineNo);
        ParsedLine p = parser.parse(quoted);
        assertEquals(ParsedLine.Kind.EVENT, p.kind(), () -> String.valueOf(p.errorReason()));
        return p;
    }

    private static void assertHeader(ParsedLine p, String task, int pid, int cpu, String flags, long ns, String event) {
        assertEquals(task, p.taskName());
        assertEquals(pid, p.pid());
        assertFalse(p.hasTgid());
        assertNull(p.tgidOrNull());
        assertEquals(cpu, p.cpu());
        assertEquals(flags, p.irqFlags());
        assertEquals(ns, p.timestampNs());
        assertEquals(event, p.eventName());
        assertEquals(LineFormat.TRACEFS, p.format());
        assertEquals(-1, p.vcpu(), "task kvmrec is no 'CPU n/KVM' thread and these payloads have no vcpu");
    }

    private static void assertPferr(PfErrorCode e, long value, String setBits) {
        assertEquals(value, e.getValue());
        assertEquals(setBits.contains("P "), e.getPresent());
        assertEquals(setBits.contains("W "), e.getWrite());
        assertEquals(setBits.contains("U "), e.getUser());
        assertEquals(setBits.contains("RSVD "), e.getRsvd());
        assertEquals(setBits.contains("F "), e.getFetch());
        assertFalse(e.getPk());
        assertFalse(e.getSs());
        assertFalse(e.getSgx());
        assertFalse(e.getGuestRmp());
        assertFalse(e.getGuestFinal());
        assertFalse(e.getGuestPage());
        assertFalse(e.getGuestEnc());
        assertFalse(e.getGuestSizem());
        assertFalse(e.getGuestVmpl());
        assertFalse(e.getImplicitAccess());
        assertFalse(e.getPrivateAccess());
    }

    @Test
    void pagetableWalkKeepsAddressAndDecodesPferrU_F() {
        ParsedLine p = real("long_user_basic.trace", 15,
                "          kvmrec-8839    [000] .....   569.264855: kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F");
        assertHeader(p, "kvmrec", 8839, 0, ".....", 569_264_855_000L, "kvm_mmu_pagetable_walk");
        KvmMmuPagetableWalk w = (KvmMmuPagetableWalk) p.payload();
        assertEquals(0x10000L, w.getAddr());
        assertPferr(w.getPferr(), 0x14, "U F ");
    }

    @Test
    void pagetableWalkWithPferrZeroHasAnEmptyFlagText() {
        String line = Traces.firstLineContaining("pferr 0 ");
        assertTrue(line.endsWith("pferr 0 "), "the kernel prints __print_flags(0) as nothing after the space");
        ParsedLine p = parser.parse(line);
        KvmMmuPagetableWalk w = (KvmMmuPagetableWalk) p.payload();
        assertPferr(w.getPferr(), 0, "");
    }

    @Test
    void pagetableWalkWithPresentWriteUser() {
        ParsedLine p = parser.parse(Traces.firstLineContaining("pferr 7 P|W|U"));
        assertPferr(((KvmMmuPagetableWalk) p.payload()).getPferr(), 7, "P W U ");
    }

    @Test
    void pagingElementKeepsPteAndLevel() {
        ParsedLine p = real("long_kernel_emulated.trace", 16,
                "          kvmrec-8828    [001] .....   568.882062: kvm_mmu_paging_element: pte 2003 level 4");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_062_000L, "kvm_mmu_paging_element");
        KvmMmuPagingElement e = (KvmMmuPagingElement) p.payload();
        assertEquals(0x2003L, e.getPte());
        assertEquals(4, e.getLevel());
    }

    @Test
    void setAccessedBitKeepsGpa() {
        ParsedLine p = real("long_kernel_emulated.trace", 20,
                "          kvmrec-8828    [001] .....   568.882064: kvm_mmu_set_accessed_bit: gpa 1000");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_064_000L, "kvm_mmu_set_accessed_bit");
        assertEquals(0x1000L, ((KvmMmuSetAccessedBit) p.payload()).getGpa());
    }

    @Test
    void setDirtyBitKeepsGpa() {
        ParsedLine p = real("long_kernel_emulated.trace", 853,
                "          kvmrec-8828    [001] .....   568.882477: kvm_mmu_set_dirty_bit: gpa 4a00");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_477_000L, "kvm_mmu_set_dirty_bit");
        assertEquals(0x4a00L, ((KvmMmuSetDirtyBit) p.payload()).getGpa());
    }

    private static void assertSp(ShadowPage sp, long gen, long gfn, int level, boolean fourByte, int quadrant,
                                 boolean direct, int access, boolean invalid, boolean nx, boolean adDisabled,
                                 int root, boolean unsync) {
        assertEquals(gen, sp.getGen());
        assertEquals(gfn, sp.getGfn());
        assertEquals(level, sp.getLevel());
        assertEquals(fourByte, sp.getHas4ByteGpte());
        assertEquals(quadrant, sp.getQuadrant());
        assertEquals(direct, sp.getDirect());
        assertEquals(access, sp.getAccess());
        assertEquals((access & 1) != 0, sp.getAccessExec());
        assertEquals((access & 2) != 0, sp.getAccessWrite());
        assertEquals((access & 4) != 0, sp.getAccessUser());
        assertEquals(invalid, sp.getInvalid());
        assertEquals(nx, sp.getEferNx());
        assertEquals(adDisabled, sp.getAdDisabled());
        assertNull(sp.getCr0Wp(), "tracefs does not print cr0_wp");
        assertNull(sp.getSmepAndNotWp());
        assertNull(sp.getSmapAndNotWp());
        assertNull(sp.getSmm());
        assertEquals(root, sp.getRootCount());
        assertEquals(unsync, sp.getUnsync());
    }

    @Test
    void getPageNewDecodesTheWholeShadowPageText() {
        ParsedLine p = real("long_kernel_emulated.trace", 14,
                "          kvmrec-8828    [001] ...1.   568.882055: kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new");
        assertHeader(p, "kvmrec", 8828, 1, "...1.", 568_882_055_000L, "kvm_mmu_get_page");
        KvmMmuGetPage g = (KvmMmuGetPage) p.payload();
        assertTrue(g.getCreated());
        assertSp(g.getSp(), 0, 1, 4, false, 0, false, 7, false, true, false, 0, false);
    }

    @Test
    void getPageExisting() {
        ParsedLine p = real("long_kernel_emulated.trace", 1645,
                "          kvmrec-8828    [001] ...1.   568.882882: kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync existing");
        assertFalse(((KvmMmuGetPage) p.payload()).getCreated());
    }

    @Test
    void getPageDirectWithUserExecAccess() {
        ParsedLine p = real("long_user_basic.trace", 565,
                "          kvmrec-8839    [000] ...1.   569.265594: kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct -ux nxe ad root 0 sync new");
        assertSp(((KvmMmuGetPage) p.payload()).getSp(), 0, 0x200, 1, false, 0, true, 5, false, true, false, 0, false);
    }

    @Test
    void syncPageOfAnUnsyncPage() {
        ParsedLine p = real("long_user_basic.trace", 787,
                " kvm-nx-lpage-re-8840    [000] ...1.   569.266047: kvm_mmu_sync_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 unsync");
        assertHeader(p, "kvm-nx-lpage-re", 8840, 0, "...1.", 569_266_047_000L, "kvm_mmu_sync_page");
        assertTrue(p.task().kernelThread());
        assertSp(((KvmMmuSyncPage) p.payload()).getSp(), 0, 4, 1, false, 0, false, 7, false, true, false, 0, true);
    }

    @Test
    void unsyncPage() {
        ParsedLine p = real("long_user_basic.trace", 640,
                "          kvmrec-8839    [000] ...2.   569.265711: kvm_mmu_unsync_page: sp gen 0 gfn 4 l1 8-byte q0 wux nxe ad root 0 sync");
        assertHeader(p, "kvmrec", 8839, 0, "...2.", 569_265_711_000L, "kvm_mmu_unsync_page");
        assertSp(((KvmMmuUnsyncPage) p.payload()).getSp(), 0, 4, 1, false, 0, false, 7, false, true, false, 0, false);
    }

    @Test
    void prepareZapPageOfAnInvalidRoot() {
        ParsedLine p = real("long_kernel_emulated.trace", 1905,
                " kvm-nx-lpage-re-8829    [000] ...1.   568.883451: kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux invalid nxe ad root 0 sync");
        assertHeader(p, "kvm-nx-lpage-re", 8829, 0, "...1.", 568_883_451_000L, "kvm_mmu_prepare_zap_page");
        assertSp(((KvmMmuPrepareZapPage) p.payload()).getSp(), 0, 1, 4, false, 0, false, 7, true, true, false, 0, false);
    }

    @Test
    void prepareZapPageOfADirectPaeRootWithRootCount1() {
        ParsedLine p = real("real_io.trace", 31,
                " kvm-nx-lpage-re-9737    [001] ...1.   620.784020: kvm_mmu_prepare_zap_page: sp gen 0 gfn c0000 l2 8-byte q0 direct wux nxe ad root 1 sync");
        assertSp(((KvmMmuPrepareZapPage) p.payload()).getSp(), 0, 0xc0000, 2, false, 0, true, 7, false, true, false, 1, false);
    }

    @Test
    void zapAllFastKeepsGenerationAndUsedPages() {
        ParsedLine p = real("long_user_memslot.trace", 238,
                "          kvmrec-8872    [000] ...1.   570.429249: kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 5");
        assertHeader(p, "kvmrec", 8872, 0, "...1.", 570_429_249_000L, "kvm_mmu_zap_all_fast");
        KvmMmuZapAllFast z = (KvmMmuZapAllFast) p.payload();
        assertEquals(0L, z.getValidGen());
        assertEquals(5L, z.getUsedPages());
    }

    @Test
    void setSpteWithReadExecUserLetters() {
        ParsedLine p = real("long_user_basic.trace", 28,
                "          kvmrec-8839    [000] ...1.   569.264868: kvm_mmu_set_spte: gfn 10 spte 123b48a25 (r-xu) level 1 at 12b9a9080");
        assertHeader(p, "kvmrec", 8839, 0, "...1.", 569_264_868_000L, "kvm_mmu_set_spte");
        KvmMmuSetSpte s = (KvmMmuSetSpte) p.payload();
        assertEquals(0x10L, s.getGfn());
        assertEquals(0x123b48a25L, s.getSpte());
        assertTrue(s.getR());
        assertFalse(s.getW());
        assertTrue(s.getX());
        assertEquals(Boolean.TRUE, s.getU());
        assertEquals(1, s.getLevel());
        assertEquals(0x12b9a9080L, s.getSptep());
    }

    @Test
    void setSpteWithNxBit63AndWritable() {
        ParsedLine p = real("long_user_basic.trace", 342,
                "          kvmrec-8839    [000] ...1.   569.265300: kvm_mmu_set_spte: gfn 140 spte 80000001560f1e67 (rw-u) level 1 at 12b9a9a00");
        KvmMmuSetSpte s = (KvmMmuSetSpte) p.payload();
        assertEquals(0x80000001560f1e67L, s.getSpte(), "all 64 bits, bit 63 included");
        assertTrue(s.getR());
        assertTrue(s.getW());
        assertFalse(s.getX());
        assertEquals(Boolean.TRUE, s.getU());
    }

    @Test
    void spteRequestedKeepsGfnPfnLevel() {
        ParsedLine p = real("long_user_basic.trace", 27,
                "          kvmrec-8839    [000] ...1.   569.264867: kvm_mmu_spte_requested: gfn 10 pfn 123b48 level 1");
        assertHeader(p, "kvmrec", 8839, 0, "...1.", 569_264_867_000L, "kvm_mmu_spte_requested");
        KvmMmuSpteRequested r = (KvmMmuSpteRequested) p.payload();
        assertEquals(0x10L, r.getGfn());
        assertEquals(0x123b48L, r.getPfn());
        assertEquals(1, r.getLevel());
    }

    @Test
    void mmioUnsatisfiedRead() {
        ParsedLine p = real("long_kernel_emulated.trace", 1523,
                "          kvmrec-8828    [001] .....   568.882805: kvm_mmio: mmio unsatisfied-read len 4 gpa 0x10000000 val 0x0");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_805_000L, "kvm_mmio");
        KvmMmio m = (KvmMmio) p.payload();
        assertEquals(MmioType.UNSATISFIED_READ, m.getType());
        assertEquals(4, m.getLen());
        assertEquals(0x10000000L, m.getGpa());
        assertEquals(0L, m.getVal());
    }

    @Test
    void mmioReadAndWriteTypes() {
        assertEquals(MmioType.READ, ((KvmMmio) parser.parse(Traces.firstLineContaining("mmio read len")).payload()).getType());
        KvmMmio w = (KvmMmio) parser.parse(Traces.firstLineContaining("mmio write len 4 gpa 0x10000008 val 0xabcd")).payload();
        assertEquals(MmioType.WRITE, w.getType());
        assertEquals(0x10000008L, w.getGpa());
        assertEquals(0xabcdL, w.getVal());
    }

    @Test
    void emulateInsnProt64KeepsCsBaseRipBytesAndMode() {
        ParsedLine p = real("long_kernel_emulated.trace", 24,
                "          kvmrec-8828    [001] .....   568.882069: kvm_emulate_insn: 0:10000:b0 01 (prot64)");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_069_000L, "kvm_emulate_insn");
        KvmEmulateInsn e = (KvmEmulateInsn) p.payload();
        assertEquals(0L, e.getCsBase());
        assertEquals(0x10000L, e.getRip());
        assertArrayEquals(new byte[] {(byte) 0xb0, 0x01}, bytes(e.getInsn()));
        assertEquals(EmulationMode.PROT64, e.getMode());
        assertFalse(e.getFailed());
    }

    @Test
    void emulateInsnRealModeWithCsBase() {
        ParsedLine p = real("real_io.trace", 18,
                "          kvmrec-9736    [000] .....   620.783910: kvm_emulate_insn: 10000:0:ba e9 00 (real)");
        KvmEmulateInsn e = (KvmEmulateInsn) p.payload();
        assertEquals(0x10000L, e.getCsBase());
        assertEquals(0L, e.getRip());
        assertArrayEquals(new byte[] {(byte) 0xba, (byte) 0xe9, 0x00}, bytes(e.getInsn()));
        assertEquals(EmulationMode.REAL, e.getMode());
    }

    @Test
    void unmapHvaRangeKeepsStartAndEnd() {
        ParsedLine p = real("long_kernel_emulated.trace", 1494,
                "          kvmrec-8828    [001] .....   568.882783: kvm_unmap_hva_range: mmu notifier unmap range: 0x007f16eab60000 -- 0x007f16eab61000");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_783_000L, "kvm_unmap_hva_range");
        KvmUnmapHvaRange u = (KvmUnmapHvaRange) p.payload();
        assertEquals(0x7f16eab60000L, u.getStart());
        assertEquals(0x7f16eab61000L, u.getEnd());
    }

    @Test
    void pioWriteOfOneByteEndsWithTheTrailingSpace() {
        ParsedLine p = real("long_kernel_emulated.trace", 31,
                "          kvmrec-8828    [001] .....   568.882075: kvm_pio: pio_write at 0xe9 size 1 count 1 val 0x1 ");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_075_000L, "kvm_pio");
        KvmPio io = (KvmPio) p.payload();
        assertTrue(io.getWrite());
        assertEquals(0xe9, io.getPort());
        assertEquals(1, io.getSize());
        assertEquals(1, io.getCount());
        assertEquals(1L, io.getVal());
        assertFalse(io.getMore());
    }

    @Test
    void userspaceExitKeepsReasonNameAndNumber() {
        ParsedLine p = real("long_kernel_emulated.trace", 32,
                "          kvmrec-8828    [001] .....   568.882078: kvm_userspace_exit: reason KVM_EXIT_IO (2)");
        assertHeader(p, "kvmrec", 8828, 1, ".....", 568_882_078_000L, "kvm_userspace_exit");
        KvmUserspaceExit x = (KvmUserspaceExit) p.payload();
        assertEquals("KVM_EXIT_IO", x.getReason());
        assertEquals(2, x.getCode());
    }

    @Test
    void markerKeepsTheWrittenText() {
        ParsedLine p = real("long_kernel_emulated.trace", 13,
                "          kvmrec-8828    [001] ...1.   568.881943: tracing_mark_write: kvmrec start 0");
        assertHeader(p, "kvmrec", 8828, 1, "...1.", 568_881_943_000L, "tracing_mark_write");
        assertEquals("kvmrec start 0", ((Marker) p.payload()).getText());
    }

    @Test
    void headerLinesOfTheTracefsFileAreSkippedAsComments() {
        ParsedLine p = parser.parse(Traces.lines("real_io.trace").get(0));
        assertEquals(ParsedLine.Kind.SKIP, p.kind());
        assertEquals("comment", p.skipReason());
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
