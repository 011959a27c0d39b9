package dev.mmureplay.replayer.parse;

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
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSplitHugePage;
import dev.mmureplay.avro.KvmMmuWalkerError;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmTdpMmuSpteChanged;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.MarkMmioSpte;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.PfErrorCode;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * (b, c) The event types that the real traces do not contain (this host never fires them), and the older payload
 * formats: each fixture is printed exactly as the TP_printk format quoted in its test would print it, and every
 * field of the record is asserted.
 */
class KernelFormatFixturesTest {

    private static final String PREFIX = "       CPU 1/KVM-4242    [002] d..1.  1234.000001: ";

    private final TraceLineParser parser = new TraceLineParser();

    private Object payload(String eventAndPayload) {
        ParsedLine p = parser.parse(PREFIX + eventAndPayload);
        assertEquals(ParsedLine.Kind.EVENT, p.kind(), () -> String.valueOf(p.errorReason()));
        return p.payload();
    }

    // ---------------------------------------------------------------- kvmmmu

    @Test
    void walkerErrorWithPresentUserRsvd() {
        // "pferr %x %s"
        KvmMmuWalkerError e = (KvmMmuWalkerError) payload("kvm_mmu_walker_error: pferr d P|U|RSVD");
        PfErrorCode c = e.getPferr();
        assertEquals(0xdL, c.getValue());
        assertTrue(c.getPresent());
        assertFalse(c.getWrite());
        assertTrue(c.getUser());
        assertTrue(c.getRsvd());
        assertFalse(c.getFetch());
    }

    @Test
    void pferrNamesOfSixEighteenAndALeftoverHexPart() {
        // mmutrace.h since ~6.18: { PFERR_PK_MASK, "PK" }, { PFERR_SS_MASK, "SS" }, { PFERR_SGX_MASK, "SGX" };
        // bits without a name are printed as one 0x%lx part
        KvmMmuWalkerError e = (KvmMmuWalkerError) payload("kvm_mmu_walker_error: pferr 80000067 P|W|U|PK|SS|0x80000000");
        PfErrorCode c = e.getPferr();
        assertEquals(0x80000067L, c.getValue());
        assertTrue(c.getPk());
        assertTrue(c.getSs());
        assertFalse(c.getSgx());
        assertTrue(c.getGuestRmp(), "bit 31");
    }

    @Test
    void markMmioSpteWithAHashedPointer() {
        // "sptep:%p gfn %llx access %x gen %x"
        MarkMmioSpte m = (MarkMmioSpte) payload("mark_mmio_spte: sptep:00000000d5b1e1c5 gfn fee00 access 6 gen 2a");
        assertEquals(0xd5b1e1c5L, m.getSptep());
        assertEquals(0xfee00L, m.getGfn());
        assertEquals(6, m.getAccess());
        assertEquals(0x2aL, m.getGen());
    }

    @Test
    void markMmioSpteWithThePtrvalPlaceholderHasNoSptep() {
        MarkMmioSpte m = (MarkMmioSpte) payload("mark_mmio_spte: sptep:(____ptrval____) gfn fee00 access 6 gen 0");
        assertNull(m.getSptep());
    }

    @Test
    void handleMmioPageFault() {
        // "addr:%llx gfn %llx access %x"
        HandleMmioPageFault h = (HandleMmioPageFault) payload("handle_mmio_page_fault: addr:fee00030 gfn fee00 access 6");
        assertEquals(0xfee00030L, h.getAddr());
        assertEquals(0xfee00L, h.getGfn());
        assertEquals(6, h.getAccess());
    }

    @Test
    void fastPageFaultRebuildsTheErrorCodeFromItsFlagNames() {
        // "vcpu %d gva %llx error_code %s sptep %p old %#llx new %llx spurious %d fixed %d"
        ParsedLine p = parser.parse("       CPU 3/KVM-4242    [002] d..1.  1234.000001: fast_page_fault: vcpu 3 gva 7f0000001000"
                + " error_code W|U sptep 00000000a1b2c3d4 old 0x8000000123456e65 new 8000000123456e67 spurious 0 fixed 1");
        FastPageFault f = (FastPageFault) p.payload();
        assertEquals(3, f.getVcpu());
        assertEquals(3, p.vcpu());
        assertEquals(0x7f0000001000L, f.getGva());
        assertEquals(6L, f.getErrorCode().getValue());
        assertTrue(f.getErrorCode().getWrite());
        assertTrue(f.getErrorCode().getUser());
        assertEquals(0xa1b2c3d4L, f.getSptep());
        assertEquals(0x8000000123456e65L, f.getOldSpte());
        assertEquals(0x8000000123456e67L, f.getNewSpte());
        assertFalse(f.getSpurious());
        assertTrue(f.getFixed());
    }

    @Test
    void fastPageFaultWithNoErrorBitsAndZeroOldSpte() {
        // %s of __print_flags(0) is empty, %#llx of 0 is "0"
        FastPageFault f = (FastPageFault) payload("fast_page_fault: vcpu 0 gva 1000 error_code  sptep (null) old 0"
                + " new 0 spurious 1 fixed 0");
        assertEquals(0L, f.getErrorCode().getValue());
        assertEquals(0L, f.getSptep());
        assertEquals(0L, f.getOldSpte());
        assertTrue(f.getSpurious());
    }

    @Test
    void checkMmioSpte() {
        // "spte %llx kvm_gen %x spte-gen %x valid %d"
        CheckMmioSpte c = (CheckMmioSpte) payload("check_mmio_spte: spte 8000000fee00a53 kvm_gen 2a spte-gen 29 valid 0");
        assertEquals(0x8000000fee00a53L, c.getSpte());
        assertEquals(0x2aL, c.getKvmGen());
        assertEquals(0x29L, c.getSpteGen());
        assertFalse(c.getValid());
    }

    @Test
    void setSpteOnEptHasNoUserLetter() {
        // shadow_user_mask == 0 (EPT): u == -1 prints "" -> three letters
        KvmMmuSetSpte s = (KvmMmuSetSpte) payload("kvm_mmu_set_spte: gfn 7f000 spte 6000001234567f77 (rwx) level 1 at 10d2c3f80");
        assertTrue(s.getR());
        assertTrue(s.getW());
        assertTrue(s.getX());
        assertNull(s.getU());
    }

    @Test
    void tdpMmuSpteChanged() {
        // "as id %d gfn %llx level %d old_spte %llx new_spte %llx"
        KvmTdpMmuSpteChanged c = (KvmTdpMmuSpteChanged) payload(
                "kvm_tdp_mmu_spte_changed: as id 1 gfn 100 level 2 old_spte 8000000000000000 new_spte 600000123456bf7");
        assertEquals(1, c.getAsId());
        assertEquals(0x100L, c.getGfn());
        assertEquals(2, c.getLevel());
        assertEquals(0x8000000000000000L, c.getOldSpte());
        assertEquals(0x600000123456bf7L, c.getNewSpte());
    }

    @Test
    void splitHugePageWithANegativeErrno() {
        // "gfn %llx spte %llx level %d errno %d"
        KvmMmuSplitHugePage s = (KvmMmuSplitHugePage) payload("kvm_mmu_split_huge_page: gfn 200 spte 6000001234560bf7 level 2 errno -12");
        assertEquals(0x200L, s.getGfn());
        assertEquals(0x6000001234560bf7L, s.getSpte());
        assertEquals(2, s.getLevel());
        assertEquals(-12, s.getErrno());
    }

    // ---------------------------------------------------------------- kvm_page_fault, three generations

    @Test
    void pageFaultCurrentFormatWithA64BitErrorCode() {
        // 6.10+: "vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx"
        ParsedLine p = parser.parse("       CPU 1/KVM-4242    [002] d..1.  1234.000001: kvm_page_fault: vcpu 1"
                + " rip 0xffffffff81234567 address 0x00007f1234560000 error_code 0x200000006");
        KvmPageFault f = (KvmPageFault) p.payload();
        assertEquals(1, f.getVcpu());
        assertEquals(0xffffffff81234567L, f.getRip());
        assertEquals(0x7f1234560000L, f.getAddress());
        assertEquals(0x200000006L, f.getErrorCode().getValue());
        assertTrue(f.getErrorCode().getWrite());
        assertTrue(f.getErrorCode().getUser());
        assertTrue(f.getErrorCode().getGuestPage(), "bit 33");
        assertEquals(1, p.vcpu());
    }

    @Test
    void pageFaultIntermediateFormat() {
        // ~6.0-6.9: "vcpu %u rip 0x%lx address 0x%lx error_code %x"
        KvmPageFault f = (KvmPageFault) payload("kvm_page_fault: vcpu 0 rip 0xffffffff8100abcd address 0xfee00030 error_code 182");
        assertEquals(0, f.getVcpu());
        assertEquals(0xffffffff8100abcdL, f.getRip());
        assertEquals(0xfee00030L, f.getAddress());
        assertEquals(0x182L, f.getErrorCode().getValue());
    }

    @Test
    void pageFaultOlderFormatHasNoVcpuAndNoRip() {
        // older: "address %lx error_code %x"
        ParsedLine p = parser.parse("          qemu-1234    [000] ....   100.000001: kvm_page_fault: address 7f0000001000 error_code 6");
        KvmPageFault f = (KvmPageFault) p.payload();
        assertNull(f.getVcpu());
        assertNull(f.getRip());
        assertEquals(0x7f0000001000L, f.getAddress());
        assertEquals(6L, f.getErrorCode().getValue());
        assertEquals(-1, p.vcpu());
    }

    // ---------------------------------------------------------------- kvm_cr

    @Test
    void crWriteAndRead() {
        // "cr_%s %x = 0x%lx"
        KvmCr w = (KvmCr) payload("kvm_cr: cr_write 4 = 0x3506f0");
        assertTrue(w.getWrite());
        assertEquals(4, w.getCr());
        assertEquals(0x3506f0L, w.getValue());
        KvmCr r = (KvmCr) payload("kvm_cr: cr_read 0 = 0x80050033");
        assertFalse(r.getWrite());
        assertEquals(0, r.getCr());
        assertEquals(0x80050033L, r.getValue());
    }

    // ---------------------------------------------------------------- kvm_exit, three generations

    @Test
    void exitCurrentVmxFormat() {
        // 5.13+: "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x"
        ParsedLine p = parser.parse("       CPU 0/KVM-4242    [002] d..1.  1234.000001: kvm_exit: vcpu 0 reason EPT_VIOLATION"
                + " rip 0xffffffff8100abcd info1 0x0000000000000181 info2 0x0000000000000000 intr_info 0x00000000"
                + " error_code 0x00000000");
        KvmExit x = (KvmExit) p.payload();
        assertEquals(0, x.getVcpu());
        assertEquals("EPT_VIOLATION", x.getReason());
        assertNull(x.getReasonFlags());
        assertEquals(0xffffffff8100abcdL, x.getRip());
        assertEquals(0x181L, x.getInfo1());
        assertEquals(0L, x.getInfo2());
        assertEquals(0L, x.getIntrInfo());
        assertEquals(0L, x.getErrorCode());
    }

    @Test
    void exitWithVmxReasonFlags() {
        // kvm_print_exit_reason: symbol, " ", __print_flags(exit_reason & ~0xffff, " ", VMX_EXIT_REASON_FLAGS)
        KvmExit x = (KvmExit) payload("kvm_exit: vcpu 2 reason INVALID_STATE FAILED_VMENTRY rip 0xfff0"
                + " info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x80000b0e error_code 0x00000004");
        assertEquals("INVALID_STATE", x.getReason());
        assertEquals("FAILED_VMENTRY", x.getReasonFlags());
        assertEquals(0x80000b0eL, x.getIntrInfo());
        assertEquals(4L, x.getErrorCode());
    }

    @Test
    void exitSvmNpf() {
        KvmExit x = (KvmExit) payload("kvm_exit: vcpu 0 reason npf rip 0xffffffff81000000 info1 0x0000000100000014"
                + " info2 0x00000000fee00030 intr_info 0x00000000 error_code 0x00000000");
        assertEquals("npf", x.getReason());
        assertEquals(0x100000014L, x.getInfo1());
        assertEquals(0xfee00030L, x.getInfo2());
    }

    @Test
    void exitFormatWithoutVcpu() {
        // 5.11-5.12: no "vcpu %u "
        KvmExit x = (KvmExit) payload("kvm_exit: reason MSR_WRITE rip 0xffffffff8106b2a4 info1 0x0000000000000000"
                + " info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000");
        assertNull(x.getVcpu());
        assertEquals("MSR_WRITE", x.getReason());
    }

    @Test
    void exitOlderFormat() {
        // older: "reason %s rip 0x%lx info %llx %llx"
        ParsedLine p = parser.parse("          qemu-1234    [000] ....   100.000001: kvm_exit: reason EPT_VIOLATION rip 0xffffffff8100abcd info 181 0");
        KvmExit x = (KvmExit) p.payload();
        assertNull(x.getVcpu());
        assertEquals("EPT_VIOLATION", x.getReason());
        assertNull(x.getReasonFlags());
        assertEquals(0xffffffff8100abcdL, x.getRip());
        assertEquals(0x181L, x.getInfo1());
        assertEquals(0L, x.getInfo2());
        assertNull(x.getIntrInfo());
        assertNull(x.getErrorCode());
        assertEquals(-1, p.vcpu());
    }

    @Test
    void exitWithAnUnknownReasonNumber() {
        // __print_symbolic without a match prints 0x%x
        KvmExit x = (KvmExit) payload("kvm_exit: vcpu 0 reason 0x4a rip 0x0 info1 0x0000000000000000"
                + " info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000");
        assertEquals("0x4a", x.getReason());
    }

    // ---------------------------------------------------------------- kvm_inj_exception, three generations

    @Test
    void injExceptionPageFaultWithErrorCode() {
        // 6.0+: "%s%s%s%s%s" = "#PF" " (" "0x4" ")" ""
        KvmInjException e = (KvmInjException) payload("kvm_inj_exception: #PF (0x4)");
        assertEquals("#PF", e.getException());
        assertEquals(14, e.getVector());
        assertEquals(4L, e.getErrorCode());
        assertEquals(4L, e.getPfErrorCode().getValue());
        assertTrue(e.getPfErrorCode().getUser());
        assertFalse(e.getReinjected());
    }

    @Test
    void injExceptionWithoutErrorCode() {
        KvmInjException e = (KvmInjException) payload("kvm_inj_exception: #UD");
        assertEquals("#UD", e.getException());
        assertEquals(6, e.getVector());
        assertNull(e.getErrorCode());
        assertNull(e.getPfErrorCode());
        assertFalse(e.getReinjected());
    }

    @Test
    void injExceptionReinjected() {
        // 5.x: "%s (0x%x)%s"
        KvmInjException e = (KvmInjException) payload("kvm_inj_exception: #GP (0x0) [reinjected]");
        assertEquals(13, e.getVector());
        assertEquals(0L, e.getErrorCode());
        assertNull(e.getPfErrorCode(), "only #PF error codes are PFERR bits");
        assertTrue(e.getReinjected());
    }

    @Test
    void injExceptionWithoutASymbolPrintsTheVector() {
        KvmInjException e = (KvmInjException) payload("kvm_inj_exception: 0x15 (0x1)");
        assertEquals("0x15", e.getException());
        assertEquals(21, e.getVector());
        assertEquals(1L, e.getErrorCode());
    }

    // ---------------------------------------------------------------- other kvm variants

    @Test
    void pioReadOfManyValuesPrintsTheEllipsis() {
        // "pio_%s at 0x%x size %d count %d val 0x%x %s" with count > 1 ? "(...)" : ""
        KvmPio io = (KvmPio) payload("kvm_pio: pio_read at 0x1f0 size 2 count 256 val 0x4b4d (...)");
        assertFalse(io.getWrite());
        assertEquals(0x1f0, io.getPort());
        assertEquals(2, io.getSize());
        assertEquals(256, io.getCount());
        assertEquals(0x4b4dL, io.getVal());
        assertTrue(io.getMore());
    }

    @Test
    void userspaceExitRestartAndError() {
        // errno < 0 ? (errno == -EINTR ? "restart" : "error") : symbol, then -errno
        KvmUserspaceExit r = (KvmUserspaceExit) payload("kvm_userspace_exit: reason restart (4)");
        assertEquals("restart", r.getReason());
        assertEquals(4, r.getCode());
        KvmUserspaceExit e = (KvmUserspaceExit) payload("kvm_userspace_exit: reason error (14)");
        assertEquals("error", e.getReason());
        assertEquals(14, e.getCode());
    }

    @Test
    void emulateInsnFailed() {
        // "%x:%llx:%s (%s)%s" with failed ? " failed" : ""
        KvmEmulateInsn e = (KvmEmulateInsn) payload("kvm_emulate_insn: 0:ffffffff8100abcd:0f 01 d9 (prot64) failed");
        assertEquals(0xffffffff8100abcdL, e.getRip());
        assertArrayEquals(new byte[] {0x0f, 0x01, (byte) 0xd9}, bytes(e.getInsn()));
        assertEquals(EmulationMode.PROT64, e.getMode());
        assertTrue(e.getFailed());
    }

    @Test
    void emulateInsnWithNoBytesFetched() {
        KvmEmulateInsn e = (KvmEmulateInsn) payload("kvm_emulate_insn: f0000:fff0: (prot16)");
        assertEquals(0xf0000L, e.getCsBase());
        assertEquals(0, e.getInsn().remaining());
        assertEquals(EmulationMode.PROT16, e.getMode());
    }

    @Test
    void mmioWithAnUnknownTypePrintsItsNumber() {
        KvmMmio m = (KvmMmio) payload("kvm_mmio: mmio 0x3 len 8 gpa 0xfed00000 val 0x0");
        assertEquals(MmioType.UNKNOWN, m.getType());
        assertEquals(8, m.getLen());
    }

    @Test
    void unmapHvaRangeStartingAtZeroHasNoPrefix() {
        // %#016lx prints 0 without "0x"
        KvmUnmapHvaRange u = (KvmUnmapHvaRange) payload("kvm_unmap_hva_range: mmu notifier unmap range: 0000000000000000 -- 0x00000000001000");
        assertEquals(0L, u.getStart());
        assertEquals(0x1000L, u.getEnd());
    }

    @Test
    void anEventWithoutATypedRecordIsKeptAsGenericWithItsRawText() {
        ParsedLine p = parser.parse(PREFIX + "kvm_entry: vcpu 1, rip 0xffffffff8100abcd");
        assertEquals(ParsedLine.Kind.EVENT, p.kind());
        GenericEvent g = (GenericEvent) p.payload();
        assertEquals("kvm_entry", g.getName());
        assertEquals("vcpu 1, rip 0xffffffff8100abcd", g.getText());
        assertEquals("kvm_entry", p.eventName());
        assertEquals(1, p.vcpu(), "from the task name CPU 1/KVM");
    }

    @Test
    void genericTextKeepsTrailingSpaces() {
        GenericEvent g = (GenericEvent) payload("sched_waking: comm=foo pid=1 prio=120 target_cpu=000  ");
        assertEquals("comm=foo pid=1 prio=120 target_cpu=000  ", g.getText());
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
