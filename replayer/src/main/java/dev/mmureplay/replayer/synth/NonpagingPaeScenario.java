package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/**
 * {@code nonpaging-pae}: a guest alternating between paging off and PAE paging (profile
 * {@code pae-root-default-pdpte}: PAE roots as ordinary shadow pages with default PDPTEs).
 *
 * <p>Paging off (CR0.PG=0) under shadow paging: KVM's PAE root holds four direct level-2 roots at gfn
 * 0/40000/80000/c0000 (as in the real {@code real_io.trace}); a guest access faults ({@code kvm_page_fault}, error
 * code U / W|U) through direct_map: {@code kvm_mmu_spte_requested}, a direct level-1 shadow page for the 2 MiB
 * region ({@code l1 8-byte q0 direct wux}), then a writable SPTE (direct maps grant ACC_ALL). PAE paging
 * ({@code kvm_cr} CR3/CR4.PAE/CR0.PG): one level-2 root per present PDPTE (PDPTE0 → gfn 0xa, PDPTE3 → gfn 0xb;
 * PDPTE1/2 not present, so their pae_root entries stay invalid), walks print the PDPTE at level 3. Switching back
 * to paging off finds the direct roots {@code existing}.
 *
 * <p>Every control-register write the guest makes is traced ({@code kvm_cr}), starting with CR0 = PE|ET (paging
 * off) before the first root load, so the model knows each root's shape and predicts every root load: the four
 * special PAE roots are freed by the first CR3 write while paging is off (kvm_mmu_new_pgd → fast_pgd_switch frees a
 * current root that has no shadow page) and by the CR4.PAE write (kvm_mmu_reset_context), and each time re-entry
 * reloads them ({@code existing}). Under profile {@code pae-root-default-pdpte} (the 2021/22 RFC) the same guest
 * would get one level-3 {@code direct} root page at gfn 0 instead, kept across the CR3 write (a root with a shadow
 * page is reusable) and its level-2 pages allocated by the first fault in each GiB — which is where the two
 * profiles part on this trace.
 */
final class NonpagingPaeScenario implements Scenario {

    private static final int PAGES = 512;
    private static final long[] DIRECT_ROOTS = {0, 0x40000, 0x80000, 0xc0000};

    private final Kvm.Role role = new Kvm.Role();
    private final boolean[] mappedDirect = new boolean[PAGES];
    /** PAE paging, user mode: VA 0x400000 + i pages via PDPTE0 → PD gfn 0xa, PDE 2 → PT gfn 0xc. */
    private final UserPageRegion pae =
            new UserPageRegion(PAGES, 0x400000L, 0x1000, 0xa001, 0xc007, 0xa000 + 2 * 8, 0xc000L, 8);
    private boolean directRoots;
    private boolean paeRoots;
    private boolean paePt;
    private long cr3 = -1;

    @Override
    public String name() {
        return "nonpaging-pae";
    }

    @Override
    public String description() {
        return "paging off (four direct PAE roots at gfn 0/40000/80000/c0000) alternating with PAE paging";
    }

    @Override
    public long defaultEvents() {
        return 2_000;
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        k.crWrite(0, 0x11);      // CR0.PE|ET, paging off
        loadDirect(k);
        int round = 0;
        while (!k.writer().full()) {
            for (int i = 0; i < 6; i++) {
                directFault(k, rnd);
            }
            k.marker("kvmrec marker " + (++round) + " paging on (PAE)");
            k.crWrite(3, 0x9000);
            if (cr3 != 0x9000) {
                // kvm_mmu_new_pgd: the special PAE root has no shadow page → freed; re-entry reloads it
                cr3 = 0x9000;
                loadDirect(k);
            }
            k.crWrite(4, 0x20);
            loadDirect(k);           // CR4.PAE is a role bit: kvm_mmu_reset_context, re-entry reloads
            k.crWrite(0, 0x80000011L);
            loadPae(k);
            for (int i = 0; i < 6; i++) {
                paeFault(k, rnd);
            }
            k.marker("kvmrec marker " + (++round) + " paging off");
            k.crWrite(0, 0x11);
            loadDirect(k);
            k.crWrite(4, 0);         // CR4.PAE off again (role bit: reset, reload)
            loadDirect(k);
        }
    }

    private void loadDirect(Kvm k) {
        for (long gfn : DIRECT_ROOTS) {
            k.getPage(role.set(0, gfn, 2, true), !directRoots);
        }
        directRoots = true;
    }

    private void loadPae(Kvm k) {
        k.getPage(role.set(0, 0xa, 2, false), !paeRoots);
        k.getPage(role.set(0, 0xb, 2, false), !paeRoots);
        paeRoots = true;
    }

    /** Paging off: gpa = gva; direct_map below the direct root for the first GiB. */
    private void directFault(Kvm k, SplittableRandom rnd) {
        int i = rnd.nextInt(PAGES);
        if (mappedDirect[i]) {
            return;
        }
        long gfn = 0x100 + i;    // 1 MiB..3 MiB: the 2 MiB regions at gfn 0 and 0x200
        boolean write = rnd.nextBoolean();
        k.pageFault(0, 0x1000 + rnd.nextInt(0x100), gfn << 12, 4 | (write ? 2 : 0));
        long pfn = ScaleScenario.pfn(gfn);
        k.spteRequested(gfn, pfn, 1);
        long region = gfn & ~0x1ffL;
        if (needDirectL1(region)) {
            k.getPage(role.set(0, region, 1, true), true);
        }
        k.setSpte(gfn, (pfn << 12) | 0xe67, 1, 0x10c3d0000L + (region == 0 ? 0 : 0x1000) + (gfn & 511) * 8);
        mappedDirect[i] = true;
    }

    private boolean l1Region0;
    private boolean l1Region1;

    private boolean needDirectL1(long region) {
        if (region == 0) {
            boolean need = !l1Region0;
            l1Region0 = true;
            return need;
        }
        boolean need = !l1Region1;
        l1Region1 = true;
        return need;
    }

    /** A user fault in the PAE region: the guest walk, then the shadow PT (once) and the 4 KiB SPTE. */
    private void paeFault(Kvm k, SplittableRandom rnd) {
        int i = rnd.nextInt(PAGES);
        if (!pae.fault(k, i, rnd.nextBoolean())) {
            return;
        }
        if (!paePt) {
            k.getPage(role.set(0, 0xc, 1, false), true);
            paePt = true;
        }
        long gfn = pae.gfn(i);
        long pfn = ScaleScenario.pfn(gfn);
        k.spteRequested(gfn, pfn, 1);
        k.setSpte(gfn, (pfn << 12) | 0xa25 | (pae.dirty(i) ? 0x442 : 0), 1, 0x10c3d8000L + i * 8L);
    }
}
