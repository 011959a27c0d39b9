package dev.mmureplay.replayer.synth;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each seed scenario contains the lines that make its behaviour observable (reference §2–§5, issue 4). */
class SeedScenariosTest {

    private static List<String> lines(String scenario) {
        List<String> all = SynthTestSupport.lines(SynthTestSupport.bytes(scenario, 0, 1));
        return all.subList(13, all.size());   // 12 tracefs header lines + the host header line
    }

    private static long count(List<String> lines, String regex) {
        Pattern p = Pattern.compile(regex);
        return lines.stream().filter(l -> p.matcher(l).find()).count();
    }

    @Test
    void mmioGenCrossesGeneration0x100WithStaleAndValidChecks() {
        List<String> l = lines("mmio-gen");
        assertTrue(count(l, "tracing_mark_write: kvmrec vmm: memslot update") >= 128);
        Pattern check = Pattern.compile("check_mmio_spte: spte ([0-9a-f]+) kvm_gen ([0-9a-f]+) spte-gen ([0-9a-f]+) valid ([01])$");
        long maxGen = 0;
        int stale = 0;
        int valid = 0;
        for (String s : l) {
            Matcher m = check.matcher(s);
            if (m.find()) {
                long spte = Long.parseUnsignedLong(m.group(1), 16);
                long kvmGen = Long.parseLong(m.group(2), 16);
                long spteGen = Long.parseLong(m.group(3), 16);
                boolean ok = m.group(4).equals("1");
                assertEquals(kvmGen == spteGen, ok);
                assertEquals(spteGen, MmioGenScenario.sptGen(spte), "generation encoded in the SPTE: " + s);
                assertEquals(0, spte & 0x800, "upstream: MMIO SPTEs never have bit 11: " + s);
                assertEquals(1L << 51, spte & (1L << 51), "MMIO value bit 51: " + s);
                maxGen = Math.max(maxGen, kvmGen);
                if (ok) {
                    valid++;
                } else {
                    stale++;
                }
            }
        }
        assertTrue(maxGen >= 0x100, "generation bit 8 (old layout: SPTE bit 11) reached: " + Long.toHexString(maxGen));
        assertTrue(stale >= 128 && valid >= 128, stale + " stale, " + valid + " valid");
        assertTrue(count(l, "mark_mmio_spte: sptep:[0-9a-f]{16} gfn febf[01] access 7 gen 1[0-9a-f]{2}$") > 0);
        assertTrue(count(l, "handle_mmio_page_fault: addr:[0-9a-f]+ gfn febf[01] access 6$") > 0);
        assertTrue(count(l, "kvm_page_fault: vcpu 0 rip 0x[0-9a-f]+ address 0x[0-9a-f]{16} error_code 0xd$") > 0);
    }

    @Test
    void mmioGenWrapWrapsTheMarkedGenerationOnceWithMmioAccessesOnBothSides() {
        List<String> l = lines("mmio-gen-wrap");
        List<String> updates = l.stream().filter(s -> s.contains("memslot-update")).toList();
        assertTrue(updates.size() > 64, "updates " + updates.size());
        assertTrue(updates.stream().allMatch(s -> s.endsWith("tracing_mark_write: mmu-replay: memslot-update")));
        // the first MMIO SPTE is made in generation 0x7ff80 + 2 (the first update precedes it)
        assertTrue(count(l, "mark_mmio_spte: .* gen 7ff82$") > 0);
        assertEquals(1, count(l, "kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 5$"));
        int zap = 0;
        while (!l.get(zap).contains("kvm_mmu_zap_all_fast")) {
            zap++;
        }
        // the 64th update (0x7ff80 + 128 = 0x80000, & 0x7ffff = 0) is the line right before the zap
        assertEquals(updates.get(63), l.get(zap - 1));
        assertTrue(l.get(zap + 6).endsWith("kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux invalid nxe ad"
                + " root 0 sync"), l.get(zap + 6));
        assertTrue(l.get(zap + 7).endsWith("kvm_mmu_get_page: sp gen 1 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new"),
                l.get(zap + 7));
        List<String> before = l.subList(0, zap);
        List<String> after = l.subList(zap, l.size());
        assertTrue(count(before, "check_mmio_spte: .* kvm_gen 7ff[0-9a-f]{2} spte-gen 7ff[0-9a-f]{2} valid 1$") > 0);
        assertTrue(count(after, "mark_mmio_spte: .* gen 0$") > 0);
        assertTrue(count(after, "check_mmio_spte: .* kvm_gen [0-9a-f]{1,2} spte-gen [0-9a-f]{1,2} valid 1$") > 0);
        assertTrue(count(after, "handle_mmio_page_fault: addr:[0-9a-f]+ gfn febf[01] access 6$") > 0);
        assertEquals(0, count(after, "gen 7ff[0-9a-f]{2}"), "no generation from before the wrap afterwards");
    }

    @Test
    void paeToggleShowsBothRootShapes() {
        List<String> l = lines("pae-toggle");
        assertTrue(count(l, "kvm_cr: cr_write 4 = 0x20$") >= 2);
        assertTrue(count(l, "kvm_cr: cr_write 4 = 0x0$") >= 2);
        assertEquals(1, count(l, "kvm_cr: cr_write 0 = 0x80010011$"));
        for (int q = 0; q < 4; q++) {
            assertTrue(count(l, "kvm_mmu_get_page: sp gen 0 gfn 10 l2 4-byte q" + q + " wux !nxe ad root 0 sync existing$") >= 1);
        }
        assertTrue(count(l, "kvm_mmu_get_page: sp gen 0 gfn 12 l2 8-byte q0 wux !nxe ad root 0 sync existing$") >= 1);
        assertTrue(count(l, "kvm_mmu_paging_element: pte 12001 level 3$") > 0, "PAE walks print the PDPTE");
    }

    @Test
    void nonpagingPaeHasTheFourDirectRootsOfRealIo() {
        List<String> l = lines("nonpaging-pae");
        for (String gfn : new String[] {"0", "40000", "80000", "c0000"}) {
            assertEquals(1, count(l, "kvm_mmu_get_page: sp gen 0 gfn " + gfn + " l2 8-byte q0 direct wux nxe ad root 0 sync new$"));
        }
        assertTrue(count(l, "l1 8-byte q0 direct wux nxe ad root 0 sync new$") >= 1);
        assertTrue(count(l, "kvm_mmu_get_page: sp gen 0 gfn a l2 8-byte q0 wux nxe ad root 0 sync") >= 2);
    }

    @Test
    void nxRecoveryZapsSeveralPagesPerPeriodFromTheRecoveryThread() {
        List<String> l = lines("nx-recovery");
        assertTrue(count(l, "^ kvm-nx-lpage-re-\\d+ +\\[001\\] \\.\\.\\.1\\. +\\d+\\.\\d+: kvm_mmu_prepare_zap_page: sp gen 0 gfn [0-9a-f]+ l1 8-byte q0 direct wux nxe ad root 0 sync$") >= 4);
        // two zaps in one period: prepare_zap ... (children frozen) ... the next parent cleared without a vCPU line between
        boolean twoInOnePeriod = false;
        int zapsInRun = 0;
        for (String s : l) {
            if (s.contains("kvm-nx-lpage-re")) {
                if (s.contains("kvm_mmu_prepare_zap_page")) {
                    zapsInRun++;
                }
                twoInOnePeriod |= zapsInRun >= 2;
            } else {
                zapsInRun = 0;
            }
        }
        assertTrue(twoInOnePeriod);
        assertTrue(count(l, "kvm_tdp_mmu_spte_changed: as id 0 gfn [0-9a-f]+ level 1 old_spte [0-9a-f]+ new_spte 80000000000005a0$") > 0);
        assertTrue(count(l, "kvm_tdp_mmu_spte_changed: as id 0 gfn [0-9a-f]+ level 2 old_spte [0-9a-f]+827 new_spte 8000000000000000$") > 0);
    }

    @Test
    void privateFaultHas64BitErrorCodesForEachCase() {
        List<String> l = lines("private-fault");
        assertTrue(count(l, "tracing_mark_write: mmu-replay: vm type=snp$") == 1);
        assertTrue(count(l, "tracing_mark_write: mmu-replay: attr gfn=0x[0-9a-f]+ npages=1 private=[01]$") > 0);
        assertTrue(count(l, "kvm_exit: vcpu 0 reason npf rip 0x[0-9a-f]+ info1 0x0000000500000004 ") > 0);
        assertTrue(count(l, "kvm_page_fault: .* error_code 0x200050000000[46]$") > 0, "private access");
        assertTrue(count(l, "kvm_page_fault: .* error_code 0x10000000[46]$") > 0, "shared access");
        assertTrue(count(l, "kvm_page_fault: .* address 0x00000000f00[0-9a-f]{5} error_code 0x200050000000d$") > 0,
                "private RSVD on an MMIO SPTE");
        assertTrue(count(l, "mark_mmio_spte: sptep:[0-9a-f]{16} gfn f00[0-9a-f]{2} access 7 gen 6$") > 0);
        assertTrue(count(l, "kvm_exit: vcpu 0 reason npf rip 0x[0-9a-f]+ info1 0x0002000100000006 ") > 0,
                "a synthetic bit from hardware");
        assertTrue(count(l, "kvm_page_fault: .* address 0x00000000fee00000 error_code 0x2000500000006$") > 0);
        assertEquals(0, count(l, "reason PF excp"), "no legacy #PF intercept on an NPT host");
        assertTrue(count(l, "kvm_userspace_exit: reason error \\(14\\)$") > 0);
    }
}
