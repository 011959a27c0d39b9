package dev.mmureplay.replayer.model;

import dev.mmureplay.avro.CheckMmioSpte;
import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.FastPageFault;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.HandleMmioPageFault;
import dev.mmureplay.avro.KvmCr;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmInjException;
import dev.mmureplay.avro.KvmMmio;
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
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmTdpMmuSpteChanged;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.MarkMmioSpte;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.PfErrorCode;
import dev.mmureplay.avro.ShadowPage;
import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import dev.mmureplay.schemas.EventNames;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The Avro → model adapter, one payload kind per test. Values are those of real trace lines (quoted above each
 * case) or of the TP_printk fixtures where the real traces have no such event. seq 7 / vcpu 1 come from the envelope.
 */
class ModelEventsTest {

    private static final long SEQ = 7;
    private static final int VCPU = 1;

    private static ModelEvent adapt(Object payload) {
        Source src = new Source("CPU 1/KVM", 8839, null, 0, null, "t", 1L);
        return ModelEvents.of(new TraceEvent("vm", VCPU, SEQ, 569_264_868_000L, src, payload));
    }

    /** A PfErrorCode with only its raw value meaningful (the adapter passes the value through). */
    private static PfErrorCode pf(long value) {
        return new PfErrorCode(value, (value & 1) != 0, (value & 2) != 0, (value & 4) != 0, (value & 8) != 0,
                (value & 16) != 0, false, false, false, false, false, false, false, false, false, false, false);
    }

    /** "sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync" as the parser produces it from raw text. */
    private static ShadowPage rawSp(Long gen, Long gfn) {
        return new ShadowPage(gen, gfn, 4, false, 0, false, 7, true, true, true, false, true, false, null, null, null,
                null, 0, false);
    }

    // ------------------------------------------------------------------------------------------- stimuli

    @Test
    void pagetableWalkKeepsAddressAndRawErrorCode() {
        // kvm_mmu_pagetable_walk: addr 401000 pferr 14 F
        assertEquals(new ModelEvent.PageTableWalk(SEQ, VCPU, 0x401000, 0x14),
                adapt(new KvmMmuPagetableWalk(0x401000L, pf(0x14))));
    }

    @Test
    void pagingElementKeepsPteAndLevel() {
        // kvm_mmu_paging_element: pte 2027 level 4
        assertEquals(new ModelEvent.PagingElement(SEQ, VCPU, 0x2027, 4), adapt(new KvmMmuPagingElement(0x2027L, 4)));
    }

    @Test
    void kvmPageFaultMapsAddressErrorCodeAndRip() {
        // kvm_page_fault: vcpu 1 rip 0xffffffff81234567 address 0x00007f1234560000 error_code 0x200000006
        assertEquals(new ModelEvent.KvmPageFault(SEQ, VCPU, 0x7f1234560000L, 0x200000006L, 0xffffffff81234567L),
                adapt(new KvmPageFault(1, 0xffffffff81234567L, 0x7f1234560000L, pf(0x200000006L))));
    }

    @Test
    void kvmPageFaultOfTheOlderFormatHasAnUnknownRip() {
        // kvm_page_fault: address 7f0000001000 error_code 6
        assertEquals(new ModelEvent.KvmPageFault(SEQ, VCPU, 0x7f0000001000L, 6, ModelEvent.UNKNOWN),
                adapt(new KvmPageFault(null, null, 0x7f0000001000L, pf(6))));
    }

    @Test
    void kvmCrKeepsDirectionRegisterAndValue() {
        // kvm_cr: cr_write 4 = 0x3506f0
        assertEquals(new ModelEvent.KvmCr(SEQ, VCPU, true, 4, 0x3506f0), adapt(new KvmCr(true, 4, 0x3506f0L)));
    }

    @Test
    void unmapHvaRangeKeepsStartAndEnd() {
        // kvm_unmap_hva_range: mmu notifier unmap range: 0000000000000000 -- 0x00000000001000
        assertEquals(new ModelEvent.UnmapHvaRange(SEQ, VCPU, 0, 0x1000), adapt(new KvmUnmapHvaRange(0L, 0x1000L)));
    }

    @Test
    void emulateInsnPrintsBytesLikePrintHexAndTheModeSymbol() {
        // kvm_emulate_insn: 0:ffffffff8100abcd:0f 01 d9 (prot64) failed
        assertEquals(new ModelEvent.EmulateInsn(SEQ, VCPU, 0, 0xffffffff8100abcdL, "0f 01 d9", "prot64", true),
                adapt(new KvmEmulateInsn(0L, 0xffffffff8100abcdL, ByteBuffer.wrap(new byte[] {0x0f, 0x01, (byte) 0xd9}),
                        EmulationMode.PROT64, true)));
    }

    @Test
    void emulateInsnWithoutModeOrBytesHasNullModeAndEmptyBytes() {
        // trace-cmd report prints no mode; "f0000:fff0:" has no bytes
        assertEquals(new ModelEvent.EmulateInsn(SEQ, VCPU, 0xf0000, 0xfff0, "", null, false),
                adapt(new KvmEmulateInsn(0xf0000L, 0xfff0L, ByteBuffer.allocate(0), null, false)));
    }

    @Test
    void mmioTypeIsTheKernelSymbol() {
        // kvm_mmio: mmio unsatisfied-read len 4 gpa 0xfee00030 val 0x0
        assertEquals(new ModelEvent.Mmio(SEQ, VCPU, "unsatisfied-read", 4, 0xfee00030L, 0),
                adapt(new KvmMmio(MmioType.UNSATISFIED_READ, 4, 0xfee00030L, 0L)));
        assertEquals("write", ((ModelEvent.Mmio) adapt(new KvmMmio(MmioType.WRITE, 4, 0L, 0L))).type());
        assertEquals("read", ((ModelEvent.Mmio) adapt(new KvmMmio(MmioType.READ, 4, 0L, 0L))).type());
    }

    @Test
    void pioKeepsEveryField() {
        // kvm_pio: pio_read at 0x1f0 size 2 count 256 val 0x4b4d (...)
        assertEquals(new ModelEvent.Pio(SEQ, VCPU, false, 0x1f0, 2, 256, 0x4b4d),
                adapt(new KvmPio(false, 0x1f0, 2, 256, 0x4b4dL, true)));
    }

    @Test
    void userspaceExitKeepsReasonAndCode() {
        // kvm_userspace_exit: reason KVM_EXIT_IO (2)
        assertEquals(new ModelEvent.UserspaceExit(SEQ, VCPU, "KVM_EXIT_IO", 2),
                adapt(new KvmUserspaceExit("KVM_EXIT_IO", 2)));
    }

    @Test
    void kvmExitKeepsReasonRipAndInfo() {
        // kvm_exit: vcpu 0 reason npf rip 0xffffffff81000000 info1 0x0000000100000014 info2 0x00000000fee00030 ...
        assertEquals(new ModelEvent.KvmExit(SEQ, VCPU, "npf", 0xffffffff81000000L, 0x100000014L, 0xfee00030L),
                adapt(new KvmExit(0, "npf", null, 0xffffffff81000000L, 0x100000014L, 0xfee00030L, 0L, 0L)));
    }

    // ------------------------------------------------------------------------------------------- effects

    @Test
    void setAccessedBitKeepsGpa() {
        // kvm_mmu_set_accessed_bit: gpa 1000
        assertEquals(new ModelEvent.SetAccessedBit(SEQ, VCPU, 0x1000), adapt(new KvmMmuSetAccessedBit(0x1000L)));
    }

    @Test
    void setDirtyBitKeepsGpa() {
        // kvm_mmu_set_dirty_bit: gpa 3008
        assertEquals(new ModelEvent.SetDirtyBit(SEQ, VCPU, 0x3008), adapt(new KvmMmuSetDirtyBit(0x3008L)));
    }

    @Test
    void walkerErrorKeepsRawErrorCode() {
        // kvm_mmu_walker_error: pferr 80000067 P|W|U|PK|SS|0x80000000
        assertEquals(new ModelEvent.WalkerError(SEQ, VCPU, 0x80000067L), adapt(new KvmMmuWalkerError(pf(0x80000067L))));
    }

    @Test
    void injectedExceptionKeepsVectorAndErrorCode() {
        // kvm_inj_exception: #PF (0x4)
        assertEquals(new ModelEvent.InjectedException(SEQ, VCPU, 14, 4),
                adapt(new KvmInjException("#PF", 14, 4L, pf(4), false)));
    }

    @Test
    void injectedExceptionWithoutErrorCodeHasUnknownErrorCode() {
        // kvm_inj_exception: #UD
        assertEquals(new ModelEvent.InjectedException(SEQ, VCPU, 6, ModelEvent.UNKNOWN),
                adapt(new KvmInjException("#UD", 6, null, null, false)));
    }

    @Test
    void getPageMapsEveryPrintedRoleBitAndNewVsExisting() {
        // kvm_mmu_get_page: sp gen 0 gfn 8a4 l1 4-byte q3 direct -u- invalid !nxe !ad root 2 unsync existing
        ShadowPage sp = new ShadowPage(0L, 0x8a4L, 1, true, 3, true, 4, false, false, true, true, false, true, null,
                null, null, null, 2, true);
        assertEquals(new ModelEvent.GetPage(SEQ, VCPU, new ShadowPageInfo(0, 0x8a4, 1, true, 3, true, 4, true, false,
                true, ModelEvent.UNKNOWN_INT, 2, true), false), adapt(new KvmMmuGetPage(sp, false)));
    }

    @Test
    void shadowPageOfTraceCmdTextHasUnknownGenAndGfnAndItsPrintedWp() {
        // trace-cmd: kvm_mmu_sync_page: 1 q0 wux !pae nxe wp root 0 sync  (no gen, no gfn, no ad)
        ShadowPage sp = new ShadowPage(null, null, 1, false, 0, false, 7, true, true, true, false, true, null, true,
                false, false, false, 0, false);
        assertEquals(new ShadowPageInfo(ModelEvent.UNKNOWN, ModelEvent.UNKNOWN, 1, false, 0, false, 7, false, true,
                false, 1, 0, false), ModelEvents.shadowPage(sp));
    }

    @Test
    void shadowPageWithNotWpPrintedHasCr0WpZero() {
        ShadowPage sp = new ShadowPage(null, null, 4, false, 0, false, 7, true, true, true, false, true, null, false,
                false, false, false, 1, false);
        assertEquals(0, ModelEvents.shadowPage(sp).cr0Wp());
    }

    @Test
    void syncPageCarriesItsShadowPage() {
        // kvm_mmu_sync_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync
        assertEquals(new ModelEvent.SyncPage(SEQ, VCPU, ModelEvents.shadowPage(rawSp(0L, 1L))),
                adapt(new KvmMmuSyncPage(rawSp(0L, 1L))));
    }

    @Test
    void unsyncPageCarriesItsShadowPage() {
        assertEquals(new ModelEvent.UnsyncPage(SEQ, VCPU, ModelEvents.shadowPage(rawSp(1L, 0x7fL))),
                adapt(new KvmMmuUnsyncPage(rawSp(1L, 0x7fL))));
    }

    @Test
    void prepareZapPageCarriesItsShadowPage() {
        assertEquals(new ModelEvent.PrepareZapPage(SEQ, VCPU, new ShadowPageInfo(0, 1, 4, false, 0, false, 7, false,
                true, false, ModelEvent.UNKNOWN_INT, 0, false)), adapt(new KvmMmuPrepareZapPage(rawSp(0L, 1L))));
    }

    @Test
    void spteRequestedKeepsGfnPfnAndLevel() {
        // kvm_mmu_spte_requested: gfn 10 pfn 123b48 level 1
        assertEquals(new ModelEvent.SpteRequested(SEQ, VCPU, 0x10, 0x123b48, 1),
                adapt(new KvmMmuSpteRequested(0x10L, 0x123b48L, 1)));
    }

    @Test
    void setSpteRebuildsThePrintedLetters() {
        // kvm_mmu_set_spte: gfn 10 spte 123b48a25 (r-xu) level 1 at 12b9a9080
        assertEquals(new ModelEvent.SetSpte(SEQ, VCPU, 0x10, 0x123b48a25L, "r-xu", 1, 0x12b9a9080L),
                adapt(new KvmMmuSetSpte(0x10L, 0x123b48a25L, true, false, true, true, 1, 0x12b9a9080L)));
    }

    @Test
    void setSpteLettersPrintDashForAClearUserBitAndNothingWhenNoUWasPrinted() {
        // "(rw--)" with shadow_user_mask set; "(rwx)" with EPT (no u letter)
        assertEquals("rw--", ((ModelEvent.SetSpte) adapt(new KvmMmuSetSpte(1L, 0L, true, true, false, false, 1, 0L)))
                .perms());
        assertEquals("rwx", ((ModelEvent.SetSpte) adapt(new KvmMmuSetSpte(1L, 0L, true, true, true, null, 1, 0L)))
                .perms());
        assertEquals("---", ((ModelEvent.SetSpte) adapt(new KvmMmuSetSpte(1L, 0L, false, false, false, null, 1, 0L)))
                .perms());
    }

    @Test
    void zapAllFastKeepsGenerationAndUsedPages() {
        // kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 7
        assertEquals(new ModelEvent.ZapAllFast(SEQ, VCPU, 0, 7), adapt(new KvmMmuZapAllFast(0L, 7L)));
    }

    @Test
    void markMmioSpteKeepsHashedSptep() {
        // mark_mmio_spte: sptep:00000000d5b1e1c5 gfn fee00 access 6 gen 2a
        assertEquals(new ModelEvent.MarkMmioSpte(SEQ, VCPU, 0xd5b1e1c5L, 0xfee00, 6, 0x2a),
                adapt(new MarkMmioSpte(0xd5b1e1c5L, 0xfee00L, 6, 0x2aL)));
    }

    @Test
    void markMmioSpteWithPlaceholderPointerHasUnknownSptep() {
        // mark_mmio_spte: sptep:(____ptrval____) gfn fee00 access 6 gen 0
        assertEquals(new ModelEvent.MarkMmioSpte(SEQ, VCPU, ModelEvent.UNKNOWN, 0xfee00, 6, 0),
                adapt(new MarkMmioSpte(null, 0xfee00L, 6, 0L)));
    }

    @Test
    void handleMmioPageFaultKeepsAddrGfnAccess() {
        // handle_mmio_page_fault: addr:fee00030 gfn fee00 access 6
        assertEquals(new ModelEvent.HandleMmioPageFault(SEQ, VCPU, 0xfee00030L, 0xfee00, 6),
                adapt(new HandleMmioPageFault(0xfee00030L, 0xfee00L, 6)));
    }

    @Test
    void checkMmioSpteKeepsEveryField() {
        // check_mmio_spte: spte 8000000fee00a53 kvm_gen 2a spte-gen 29 valid 0
        assertEquals(new ModelEvent.CheckMmioSpte(SEQ, VCPU, 0x8000000fee00a53L, 0x2a, 0x29, false),
                adapt(new CheckMmioSpte(0x8000000fee00a53L, 0x2aL, 0x29L, false)));
    }

    @Test
    void fastPageFaultKeepsValuesAndNullSptepIsUnknown() {
        // fast_page_fault: vcpu 1 gva 1000 error_code  sptep (null) old 0 new 0 spurious 1 fixed 0
        assertEquals(new ModelEvent.FastPageFault(SEQ, VCPU, 0x1000, 0, ModelEvent.UNKNOWN, 0, 0, true, false),
                adapt(new FastPageFault(1, 0x1000L, pf(0), null, 0L, 0L, true, false)));
    }

    @Test
    void tdpMmuSpteChangedKeepsEveryField() {
        // kvm_tdp_mmu_spte_changed: as id 1 gfn 100 level 2 old_spte 8000000000000000 new_spte 600000123456bf7
        assertEquals(new ModelEvent.TdpMmuSpteChanged(SEQ, VCPU, 1, 0x100, 2, 0x8000000000000000L, 0x600000123456bf7L),
                adapt(new KvmTdpMmuSpteChanged(1, 0x100L, 2, 0x8000000000000000L, 0x600000123456bf7L)));
    }

    @Test
    void splitHugePageKeepsEveryField() {
        // kvm_mmu_split_huge_page: gfn 200 spte 6000001234560bf7 level 2 errno -12
        assertEquals(new ModelEvent.SplitHugePage(SEQ, VCPU, 0x200, 0x6000001234560bf7L, 2, -12),
                adapt(new KvmMmuSplitHugePage(0x200L, 0x6000001234560bf7L, 2, -12)));
    }

    // ------------------------------------------------------------------------------------------- context

    @Test
    void markerKeepsItsText() {
        // tracing_mark_write: phase=fault-start
        assertEquals(new ModelEvent.Marker(SEQ, VCPU, "phase=fault-start"), adapt(new Marker("phase=fault-start")));
    }

    @Test
    void genericEventBecomesOtherWithNameAndRawText() {
        // kvm_entry: vcpu 0, rip 0xffffffff8100abcd
        assertEquals(new ModelEvent.Other(SEQ, VCPU, "kvm_entry", "vcpu 0, rip 0xffffffff8100abcd"),
                adapt(new GenericEvent("kvm_entry", "vcpu 0, rip 0xffffffff8100abcd")));
    }

    @Test
    void aPayloadOutsideTheUnionIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> ModelEvents.of(1, 0, "not a payload"));
    }

    @Test
    void everyEventOfTheRealTracesAdaptsToTheModelKindOfItsTracepoint() throws Exception {
        for (String name : Traces.NAMES) {
            MemorySinks sinks = new MemorySinks();
            new Ingest(IngestOptions.defaults(), sinks, sinks, null).run(List.of(Traces.path(name).toString()));
            for (TraceEvent e : sinks.events) {
                ModelEvent m = ModelEvents.of(e);
                String expected = m.kind() == EventKind.OTHER ? ((ModelEvent.Other) m).name() : m.kind().tracepoint();
                assertEquals(EventNames.of(e), expected, name + " seq " + e.getSeq());
                assertEquals(e.getSeq(), m.seq());
                assertEquals(e.getVcpu(), m.vcpu());
            }
        }
    }

    @Test
    void textRendersHexValuesAndUnknownsLikeTheTrace() {
        assertEquals("kvm_mmu_set_spte vcpu 1 gfn 10 spte 123b48a25 perms r-xu level 1 sptep ?",
                ModelEvents.text(new ModelEvent.SetSpte(3, 1, 0x10, 0x123b48a25L, "r-xu", 1, ModelEvent.UNKNOWN)));
    }
}
