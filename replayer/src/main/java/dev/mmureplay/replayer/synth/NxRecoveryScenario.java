package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/**
 * {@code nx-recovery}: NX huge page recovery on the TDP MMU zapping several shadow pages in one period — after the
 * first zap a TLB flush is pending (profile {@code tdp-zap-sp-may-yield}: the pre-fix zap could yield there).
 *
 * <p>Host: AMD NPT with the TDP MMU, {@code kvm.nx_huge_pages=Y} (recovery ratio 60, period 60 s), guest memory
 * backed by 2 MiB host pages, 6.10+ SPTE values (non-present = 0x8000000000000000, frozen = 0x80000000000005a0).
 * The vCPU's first entry loads a direct level-4 root ({@code kvm_mmu_get_page ... l4 ... direct ... new}, traced by
 * tdp_mmu_init_sp). Guest instruction fetches ({@code kvm_page_fault} with an #NPF error code: U|F|GUEST_FINAL) in
 * many 2 MiB regions are mapped at 4 KiB (a huge page would have to be NX): {@code kvm_mmu_spte_requested}, then
 * for each new page table {@code kvm_mmu_get_page ... new} (tdp_mmu_init_child_sp) and
 * {@code kvm_tdp_mmu_spte_changed} (non-leaf {@code ...827}), then the leaf's {@code kvm_tdp_mmu_spte_changed} and
 * {@code kvm_mmu_set_spte}. Each level-1 page table is a possible NX huge page. Every 60 s of trace time the
 * {@code kvm-nx-lpage-re} thread zaps ceil(possible / 60) of them, oldest first: the parent SPTE is cleared
 * ({@code kvm_tdp_mmu_spte_changed} level 2 → non-present), the page table is removed
 * ({@code kvm_mmu_prepare_zap_page}) and each present child SPTE is frozen (level 1 → frozen). Data reads then map
 * the zapped regions with 2 MiB NX SPTEs.
 */
final class NxRecoveryScenario implements Scenario {

    private static final long NONPRESENT = 0x8000000000000000L;
    private static final long FROZEN = 0x80000000000005a0L;
    /**
     * A TDP leaf (ACC_ALL, host-writable): MMU-present 11, MMU-writable 10, host-writable 9, dirty 6 (set with W),
     * accessed 5, user 2, W 1, P 0.
     */
    private static final long LEAF = 0xe67;
    private static final int REGIONS = 256;          // 2 MiB regions of guest memory (512 MiB)
    private static final int PAGES_PER_REGION = 4;   // 4 KiB pages fetched per region
    private static final long BASE_GFN = 0x40000;    // 1 GiB

    private final Kvm.Role role = new Kvm.Role();
    /** Per region: 0 unmapped, 1 split (level-1 page table, possible NX huge page), 2 huge NX. */
    private final int[] state = new int[REGIONS];
    private final int[] spSerial = new int[REGIONS];
    private final boolean[][] leaf = new boolean[REGIONS][PAGES_PER_REGION];
    /** FIFO of possible NX huge pages (region numbers), oldest first. */
    private final int[] fifo = new int[REGIONS];
    private int head;
    private int size;
    private int serial;
    private boolean l3Present;
    private boolean l2Present;

    @Override
    public String name() {
        return "nx-recovery";
    }

    @Override
    public String description() {
        return "TDP MMU NX huge page recovery zapping several page tables per period (a flush pending between zaps)";
    }

    @Override
    public long defaultEvents() {
        return 5_000;
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        k.getPage(role.set(0, 0, 4, true), true);   // kvm_mmu_load → kvm_tdp_mmu_alloc_root
        while (!k.writer().full()) {
            // guest activity: fetches split regions, reads map zapped regions huge
            for (int i = 0; i < 150 && !k.writer().full(); i++) {
                int r = rnd.nextInt(REGIONS);
                if (state[r] == 2) {
                    continue;
                }
                if (state[r] == 0 && rnd.nextInt(8) == 0 && rnd.nextBoolean()) {
                    hugeRead(k, r);
                } else {
                    fetch(k, r, rnd.nextInt(PAGES_PER_REGION));
                }
            }
            k.writer().advance(60_000_000L);
            recover(k);
        }
    }

    private long regionGfn(int r) {
        return BASE_GFN + ((long) r << 9);
    }

    private static long nonleaf(long tableHpa) {
        return tableHpa | 0x827;
    }

    private long tableHpa(int serial) {
        return (0x120000L + serial) << 12;
    }

    /** Upper levels 4..3 of the single 1 GiB range (lazily linked). */
    private void upper(Kvm k, long gfn) {
        if (!l3Present) {
            k.getPage(role.set(0, 0, 3, true), true);
            k.tdpSpteChanged(0, 0, 4, NONPRESENT, nonleaf(tableHpa(0x7000)));
            l3Present = true;
        }
        if (!l2Present) {
            k.getPage(role.set(0, gfn & ~((1L << 18) - 1), 2, true), true);
            k.tdpSpteChanged(0, gfn & ~((1L << 18) - 1), 3, NONPRESENT, nonleaf(tableHpa(0x7001)));
            l2Present = true;
        }
    }

    private void fetch(Kvm k, int r, int page) {
        if (state[r] == 1 && leaf[r][page]) {
            return;
        }
        long gfn = regionGfn(r) + page * 0x40L;
        long rip = (gfn << 12) + 0x10;
        k.pageFault(0, rip, rip, 0x100000014L);
        long pfn = 0x200000L + ((long) r << 9) + (gfn & 511);
        k.spteRequested(gfn, pfn, 1);
        upper(k, gfn);
        if (state[r] == 0) {
            serial++;
            spSerial[r] = serial;
            k.getPage(role.set(0, regionGfn(r), 1, true), true);
            k.tdpSpteChanged(0, regionGfn(r), 2, NONPRESENT, nonleaf(tableHpa(serial)));
            state[r] = 1;
            fifo[(head + size++) % REGIONS] = r;
        }
        long spte = (pfn << 12) | LEAF;
        k.tdpSpteChanged(0, gfn, 1, NONPRESENT, spte);
        k.setSpte(gfn, spte, 1, tableHpa(spSerial[r]) + (gfn & 511) * 8);
        leaf[r][page] = true;
    }

    private void hugeRead(Kvm k, int r) {
        long gfn = regionGfn(r);
        long addr = (gfn << 12) + 0x1234;
        k.pageFault(0, 0x7f0000001000L, addr, 0x100000004L);
        long pfn = 0x200000L + ((long) r << 9);
        k.spteRequested(gfn + 1, pfn + 1, 2);
        upper(k, gfn);
        // 2 MiB leaf: bit 7, NX because the NX huge page mitigation forbids executable huge pages
        long spte = (pfn << 12) | LEAF | 0x80 | (1L << 63);
        k.tdpSpteChanged(0, gfn, 2, NONPRESENT, spte);
        k.setSpte(gfn, spte, 2, tableHpa(0x7001) + ((gfn >>> 9) & 511) * 8);
        state[r] = 2;
    }

    /** kvm_recover_nx_huge_pages: zap ceil(possible / ratio) oldest possible NX huge pages. */
    private void recover(Kvm k) {
        if (size == 0) {
            return;
        }
        k.as(TraceWriter.NX_THREAD, 4243, 1);
        int toZap = (size + 59) / 60;
        for (int z = 0; z < toZap; z++) {
            int r = fifo[head];
            head = (head + 1) % REGIONS;
            size--;
            long gfn = regionGfn(r);
            k.tdpSpteChanged(0, gfn, 2, nonleaf(tableHpa(spSerial[r])), NONPRESENT);
            Kvm.Role ro = role.set(0, gfn, 1, true);
            k.prepareZap(ro);
            for (int p = 0; p < PAGES_PER_REGION; p++) {
                if (leaf[r][p]) {
                    long g = gfn + p * 0x40L;
                    long pfn = 0x200000L + ((long) r << 9) + (g & 511);
                    k.tdpSpteChanged(0, g, 1, (pfn << 12) | LEAF, FROZEN);
                    leaf[r][p] = false;
                }
            }
            state[r] = 0;
        }
        k.as(TraceWriter.VCPU0, 4242, 0);
    }
}
