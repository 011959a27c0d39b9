package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/**
 * {@code pae-toggle}: a 32-bit guest that toggles CR4.PAE while CR0.PG stays on (profile
 * {@code no-reset-on-pae-toggle}: CR4.PAE missing from the MMU role, the 2019 regression).
 *
 * <p>Shadow paging (kvm_cr traced, as on a VMX/SVM host), EFER.NX=0 ({@code !nxe}). The page at CR3 (gfn 0x10)
 * is both the 32-bit page directory and a valid PDPT: PDE0 = 0x12001 (present, supervisor read-only) reads as
 * PDPTE0 → PAE page directory gfn 0x12; PDE1..7 are 0 (PDPTE1..3 not present). User code touches VA 0x2000000+
 * (PDE 8 → page table gfn 0x11 in 32-bit mode; PDPTE0 → PAE PDE 16 → page table gfn 0x14 in PAE mode).
 *
 * <p>32-bit mode: the shadow root is KVM's PAE root with four level-2 roots for the guest CR3 gfn with quadrants
 * 0..3 ({@code l2 4-byte q0..q3}); walks print levels 2 and 1 (4-byte PTEs), level-1 shadow pages are 4-byte with
 * quadrant = parent index &amp; 1. PAE mode: one level-2 root for PDPTE0 ({@code l2 8-byte q0}); walks print the
 * PDPTE at level 3 (no accessed bit) then levels 2 and 1. Each {@code kvm_cr: cr_write 4} toggles PAE: the context
 * is reset, roots are unloaded (root count 0, not zapped) and reloaded ({@code existing} after the first time).
 */
final class PaeToggleScenario implements Scenario {

    private static final long CR3 = 0x10000;
    private static final int PAGES = 512;

    private final Kvm.Role role = new Kvm.Role();
    /** 32-bit mode: VA 0x2000000 + i pages, PDE 8 of the CR3 page → PT gfn 0x11 (4-byte PTEs). */
    private final UserPageRegion region32 =
            new UserPageRegion(PAGES, 0x2000000L, 0x200, 0, 0x11007, CR3 + 8 * 4, 0x11000L, 4);
    /** PAE mode: the same VAs via PDPTE 0 → PD gfn 0x12, PDE 16 → PT gfn 0x14 (8-byte PTEs). */
    private final UserPageRegion regionPae =
            new UserPageRegion(PAGES, 0x2000000L, 0x400, 0x12001, 0x14007, 0x12000 + 16 * 8, 0x14000L, 8);
    private boolean pt32Shadowed;
    private boolean ptPaeShadowed;
    private boolean roots32;
    private boolean rootPae;

    @Override
    public String name() {
        return "pae-toggle";
    }

    @Override
    public String description() {
        return "32-bit guest toggling CR4.PAE with CR0.PG=1: kvm_cr writes, 2- and 3-level walks, root roles";
    }

    @Override
    public long defaultEvents() {
        return 2_000;
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        k.crWrite(3, CR3);
        k.crWrite(4, 0x0);
        k.crWrite(0, 0x80010011L);   // PG | WP | ET | PE
        load32(k);
        int round = 0;
        while (!k.writer().full()) {
            for (int i = 0; i < 8; i++) {
                fault32(k, rnd);
            }
            k.marker("kvmrec marker " + (++round) + " cr4.pae=1");
            k.crWrite(4, 0x20);
            loadPae(k);
            for (int i = 0; i < 8; i++) {
                faultPae(k, rnd);
            }
            k.marker("kvmrec marker " + (++round) + " cr4.pae=0");
            k.crWrite(4, 0x0);
            load32(k);
        }
    }

    private Kvm.Role role32(long gfn, int level, int quadrant) {
        Kvm.Role r = role.set(0, gfn, level, false);
        r.fourByte = true;
        r.quadrant = quadrant;
        r.nxe = false;
        return r;
    }

    private Kvm.Role rolePae(long gfn, int level) {
        Kvm.Role r = role.set(0, gfn, level, false);
        r.nxe = false;
        return r;
    }

    /** mmu_alloc_shadow_roots for 2-level paging: pae_root[i] = l2 root of the CR3 gfn, quadrant i. */
    private void load32(Kvm k) {
        for (int i = 0; i < 4; i++) {
            k.getPage(role32(CR3 >>> 12, 2, i), !roots32);
        }
        roots32 = true;
    }

    /** PAE paging: one root per present PDPTE (only PDPTE0 → gfn 0x12). */
    private void loadPae(Kvm k) {
        k.getPage(rolePae(0x12, 2), !rootPae);
        rootPae = true;
    }

    private static long pfn(long gfn) {
        return ScaleScenario.pfn(gfn);
    }

    private void fault32(Kvm k, SplittableRandom rnd) {
        int i = rnd.nextInt(PAGES);
        if (!region32.fault(k, i, rnd.nextBoolean())) {
            return;   // no fault: already mapped with the needed access
        }
        if (!pt32Shadowed) {
            // VA 0x2000000: pae_root[0] (quadrant 0), index 16 in the l2 root → child quadrant 16 & 1 = 0
            k.getPage(role32(0x11, 1, 0), true);
            pt32Shadowed = true;
        }
        set(k, region32.gfn(i), region32.dirty(i), 0x10b2c4000L + ((region32.va(i) >>> 12) & 511) * 8);
    }

    private void faultPae(Kvm k, SplittableRandom rnd) {
        int i = rnd.nextInt(PAGES);
        if (!regionPae.fault(k, i, rnd.nextBoolean())) {
            return;
        }
        if (!ptPaeShadowed) {
            k.getPage(rolePae(0x14, 1), true);
            ptPaeShadowed = true;
        }
        set(k, regionPae.gfn(i), regionPae.dirty(i), 0x10b2c7000L + ((regionPae.va(i) >>> 12) & 511) * 8);
    }

    /** spte_requested + set_spte; EFER.NX=0: no NX bit, executable. */
    private static void set(Kvm k, long gfn, boolean dirty, long sptep) {
        long pfn = pfn(gfn);
        k.spteRequested(gfn, pfn, 1);
        long spte = (pfn << 12) | 0xa25 | (dirty ? 0x442 : 0);
        k.setSpte(gfn, spte, 1, sptep);
    }
}
