package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSyncPage;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.ShadowPage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * (c) Every line layout the parser auto-detects, each built from a real line exactly as the printing code lays it
 * out: kernel/trace/trace_output.c trace_print_context for tracefs, tracecmd/trace-read.c print_event +
 * libtraceevent plugin_kvm.c for trace-cmd report.
 */
class LineFormatVariantsTest {

    /** The real line long_user_basic.trace:16 as the kernel printed it (pid width 7, irq-info on, 5 flags). */
    private static final String REAL =
            "          kvmrec-8839    [000] .....   569.264856: kvm_mmu_paging_element: pte 2007 level 4";

    private final TraceLineParser parser = new TraceLineParser();

    private ParsedLine event(String line) {
        ParsedLine p = parser.parse(line);
        assertEquals(ParsedLine.Kind.EVENT, p.kind(), () -> line + " -> " + p.errorReason());
        return p;
    }

    private static void assertPagingElement(ParsedLine p) {
        assertEquals("kvm_mmu_paging_element", p.eventName());
        KvmMmuPagingElement e = (KvmMmuPagingElement) p.payload();
        assertEquals(0x2007L, e.getPte());
        assertEquals(4, e.getLevel());
    }

    // ---------------------------------------------------------------- tracefs

    @Test
    void tracefsWithIrqInfo() {
        ParsedLine p = event(REAL);
        assertEquals(LineFormat.TRACEFS, p.format());
        assertEquals(".....", p.irqFlags());
        assertEquals("kvmrec", p.taskName());
        assertEquals(8839, p.pid());
        assertEquals(0, p.cpu());
        assertEquals(569_264_856_000L, p.timestampNs());
        assertPagingElement(p);
    }

    @Test
    void tracefsWithIrqInfoOffHasNoFlags() {
        // options/noirq-info: "[%03d] " then " %5lu.%06lu: "
        ParsedLine p = event("          kvmrec-8839    [000]    569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals(LineFormat.TRACEFS, p.format());
        assertNull(p.irqFlags());
        assertEquals(569_264_856_000L, p.timestampNs());
        assertPagingElement(p);
    }

    @Test
    void tracefsWithFourFlagCharactersAndPidWidthFive() {
        // before ~5.12/5.13: "%16s-%-5d " and no migrate-disable column
        ParsedLine p = event("          kvmrec-8839  [000] d..1   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals("d..1", p.irqFlags());
        assertEquals(8839, p.pid());
        assertPagingElement(p);
    }

    @Test
    void tracefsWithPidWidthFiveAndFiveFlags() {
        ParsedLine p = event("          kvmrec-8839  [000] dNh2.   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals("dNh2.", p.irqFlags());
        assertPagingElement(p);
    }

    @Test
    void tracefsWithASevenDigitPid() {
        ParsedLine p = event("          kvmrec-4194303 [001] ...1.   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals(4194303, p.pid());
        assertEquals(1, p.cpu());
    }

    @Test
    void tracefsWithTheTgidColumn() {
        // options/record-tgid: "(%7d) " after the pid
        ParsedLine p = event("          kvmrec-8840    (   8839) [000] .....   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals(8840, p.pid());
        assertTrue(p.hasTgid());
        assertEquals(8839, p.tgid());
        assertEquals(Integer.valueOf(8839), p.tgidOrNull());
        assertEquals(LineFormat.TRACEFS, p.format());
        assertPagingElement(p);
    }

    @Test
    void tracefsWithAnUnknownTgid() {
        ParsedLine p = event(" kvm-nx-lpage-re-8840    (-------) [001] ...1.   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertFalse(p.hasTgid());
        assertNull(p.tgidOrNull());
        assertPagingElement(p);
    }

    @Test
    void tracefsWithTheOldFiveWideTgidColumn() {
        // before ~5.12: "(%5d) " and "(-----) "
        assertEquals(8839, event("          kvmrec-8840  ( 8839) [000] d..1   569.264856: kvm_mmu_paging_element: pte 2007 level 4").tgid());
        assertFalse(event("          kvmrec-8840  (-----) [000] d..1   569.264856: kvm_mmu_paging_element: pte 2007 level 4").hasTgid());
    }

    @Test
    void taskNameWithSpacesAnchorsOnThePid() {
        ParsedLine p = event("       CPU 0/KVM-12345   [003] .....  1234.567890: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals("CPU 0/KVM", p.taskName());
        assertEquals(12345, p.pid());
        assertEquals(3, p.cpu());
        assertEquals(0, p.vcpu(), "vcpu from the QEMU thread name");
        assertEquals(1_234_567_890_000L, p.timestampNs());
    }

    @Test
    void taskNameWithDashesAndDigits() {
        ParsedLine p = event("     worker-1-2-77 [000] .....   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals("worker-1-2", p.taskName());
        assertEquals(77, p.pid());
    }

    @Test
    void twoDigitVcpuThread() {
        assertEquals(12, event("      CPU 12/KVM-12345   [003] .....  1234.567890: kvm_mmu_paging_element: pte 2007 level 4").vcpu());
    }

    @Test
    void unknownTaskNameIsKeptAsPrinted() {
        ParsedLine p = event("           <...>-8839    [000] .....   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals("<...>", p.taskName());
        assertEquals(-1, p.vcpu());
    }

    @Test
    void timestampsOverOneDayWidenTheSecondsColumn() {
        ParsedLine p = event("          kvmrec-8839    [000] ..... 123456.000001: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals(123_456_000_001_000L, p.timestampNs());
        assertEquals(LineFormat.TRACEFS, p.format());
    }

    // ---------------------------------------------------------------- trace-cmd report

    @Test
    void traceCmdMicroseconds() {
        // "%16s-%-5d [%03d]" " %5llu.%06llu:" " %s: " + (20 - strlen(name)) spaces
        ParsedLine p = event("          kvmrec-8839  [000]   569.264856: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals(LineFormat.TRACE_CMD, p.format());
        assertNull(p.irqFlags());
        assertEquals(569_264_856_000L, p.timestampNs());
        assertPagingElement(p);
    }

    @Test
    void traceCmdNanoseconds() {
        ParsedLine p = event("          kvmrec-8839  [000]   569.264856123: kvm_mmu_paging_element: pte 2007 level 4");
        assertEquals(LineFormat.TRACE_CMD, p.format());
        assertEquals(569_264_856_123L, p.timestampNs());
    }

    @Test
    void traceCmdPadsShortEventNamesToTwentyColumns() {
        ParsedLine p = event("          kvmrec-9736  [000]   620.783917: kvm_pio:              pio_write at 0xe9 size 1 count 1 val 0x1 ");
        assertEquals(LineFormat.TRACE_CMD, p.format());
        assertEquals("kvm_pio", p.eventName());
    }

    @Test
    void traceCmdMarkerIsThePrintEvent() {
        ParsedLine p = event("          kvmrec-8839  [000]   569.264748: print:                tracing_mark_write: kvmrec start 0");
        assertEquals("tracing_mark_write", p.eventName());
        assertEquals("kvmrec start 0", ((Marker) p.payload()).getText());
    }

    @Test
    void traceCmdGetPageFromTheKvmPlugin() {
        // kvm_mmu_get_page_handler: "%s " new, "sp gfn %llx ", kvm_mmu_print_role
        ParsedLine p = event("          kvmrec-8839  [000]   569.264840: kvm_mmu_get_page:     new sp gfn 1 4 q0 wux !pae nxe wp root 0 sync");
        KvmMmuGetPage g = (KvmMmuGetPage) p.payload();
        assertTrue(g.getCreated());
        ShadowPage sp = g.getSp();
        assertNull(sp.getGen(), "trace-cmd does not print the generation");
        assertEquals(1L, sp.getGfn());
        assertEquals(4, sp.getLevel());
        assertFalse(sp.getHas4ByteGpte(), "!pae");
        assertEquals(0, sp.getQuadrant());
        assertFalse(sp.getDirect());
        assertEquals(7, sp.getAccess());
        assertFalse(sp.getInvalid());
        assertTrue(sp.getEferNx());
        assertNull(sp.getAdDisabled(), "trace-cmd does not print the ad bit");
        assertEquals(Boolean.TRUE, sp.getCr0Wp());
        assertEquals(Boolean.FALSE, sp.getSmepAndNotWp());
        assertEquals(Boolean.FALSE, sp.getSmapAndNotWp());
        assertEquals(Boolean.FALSE, sp.getSmm());
        assertEquals(0, sp.getRootCount());
        assertFalse(sp.getUnsync());
    }

    @Test
    void traceCmdRoleTextWithEveryOptionalWord() {
        // "%u q%u%s %s%s %spae %snxe %swp%s%s%s" " root %u " "%s"
        ParsedLine p = event(" kvm-nx-lpage-re-8840  [001]   569.266047: kvm_mmu_prepare_zap_page: 3 q2 direct -u- invalid pae !nxe !wp smep smap smm root 2 unsync");
        ShadowPage sp = ((KvmMmuPrepareZapPage) p.payload()).getSp();
        assertNull(sp.getGfn(), "kvm_mmu_print_role alone prints no gfn");
        assertEquals(3, sp.getLevel());
        assertEquals(2, sp.getQuadrant());
        assertTrue(sp.getDirect());
        assertEquals(4, sp.getAccess());
        assertTrue(sp.getInvalid());
        assertTrue(sp.getHas4ByteGpte());
        assertFalse(sp.getEferNx());
        assertEquals(Boolean.FALSE, sp.getCr0Wp());
        assertEquals(Boolean.TRUE, sp.getSmepAndNotWp());
        assertEquals(Boolean.TRUE, sp.getSmapAndNotWp());
        assertEquals(Boolean.TRUE, sp.getSmm());
        assertEquals(2, sp.getRootCount());
        assertTrue(sp.getUnsync());
    }

    @Test
    void traceCmdSyncPagePadsItsName() {
        ParsedLine p = event(" kvm-nx-lpage-re-8840  [000]   569.266047: kvm_mmu_sync_page:    1 q0 wux !pae nxe wp root 0 unsync");
        assertTrue(((KvmMmuSyncPage) p.payload()).getSp().getUnsync());
    }

    @Test
    void traceCmdExitFromTheKvmPlugin() {
        // kvm_exit_handler: "reason %s" " rip 0x%llx" " info %llx %llx"
        ParsedLine p = event("       CPU 0/KVM-4242  [002]  1234.000001: kvm_exit:             reason EPT_VIOLATION rip 0xffffffff8100abcd info 181 0");
        KvmExit x = (KvmExit) p.payload();
        assertNull(x.getVcpu());
        assertEquals("EPT_VIOLATION", x.getReason());
        assertEquals(0xffffffff8100abcdL, x.getRip());
        assertEquals(0x181L, x.getInfo1());
        assertEquals(0L, x.getInfo2());
        assertNull(x.getIntrInfo());
        assertEquals(0, p.vcpu());
    }

    @Test
    void traceCmdExitWithAnUnknownReasonAndARipSymbol() {
        // "reason UNKNOWN (%llu)", add_rip_function " %s" "+0x%llx"
        KvmExit x = (KvmExit) event("       CPU 0/KVM-4242  [002]  1234.000001: kvm_exit:             reason UNKNOWN (70) rip 0xffffffff8100abcd native_safe_halt+0xd info 0 0").payload();
        assertEquals("70", x.getReason());
        assertEquals(0L, x.getInfo1());
    }

    @Test
    void traceCmdEmulateInsnHasNoMode() {
        // kvm_emulate_insn_handler: "%llx:%llx" ": %s%s" with bytes "%02x " and " FAIL"
        KvmEmulateInsn e = (KvmEmulateInsn) event("          kvmrec-9736  [000]   620.783910: kvm_emulate_insn:     10000:0: ba e9 00").payload();
        assertEquals(0x10000L, e.getCsBase());
        assertEquals(0L, e.getRip());
        assertEquals(3, e.getInsn().remaining());
        assertNull(e.getMode());
        assertFalse(e.getFailed());
        KvmEmulateInsn f = (KvmEmulateInsn) event("          kvmrec-9736  [000]   620.783910: kvm_emulate_insn:     0:10002: e6 e9 FAIL").payload();
        assertTrue(f.getFailed());
        assertEquals(2, f.getInsn().remaining());
    }

    @Test
    void tracefsEmulateInsnKeepsTheMode() {
        KvmEmulateInsn e = (KvmEmulateInsn) event("          kvmrec-9736  [000] .....   620.783910: kvm_emulate_insn: 10000:0:ba e9 00 (real)").payload();
        assertEquals(EmulationMode.REAL, e.getMode());
    }

    @Test
    void traceCmdHeaderLinesAreSkipped() {
        for (String header : new String[] {"cpus=2", "CPU 1 is empty", "version = 6"}) {
            ParsedLine p = parser.parse(header);
            assertEquals(ParsedLine.Kind.SKIP, p.kind(), header);
            assertEquals("trace-cmd header", p.skipReason());
        }
    }

    @Test
    void blankAndCommentLinesAreSkipped() {
        assertEquals("blank", parser.parse("").skipReason());
        assertEquals("blank", parser.parse("   \t ").skipReason());
        assertEquals("comment", parser.parse("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION").skipReason());
    }

    @Test
    void lostEventNoticesAreSkippedAndCounted() {
        ParsedLine p = parser.parse("CPU:1 [LOST 4242 EVENTS]");
        assertEquals(ParsedLine.Kind.SKIP, p.kind());
        assertEquals("lost events", p.skipReason());
        assertEquals(4242, p.lostEvents());
    }
}
