package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/**
 * {@code private-fault}: the fault-path cases of the 2024 "page fault and MMIO cleanups" series (6.10; profile
 * {@code pre-6.10-fault-path}), on an AMD NPT host with the TDP MMU running a guest with private memory
 * (guest_memfd, KVM_SET_MEMORY_ATTRIBUTES). {@code kvm_page_fault} lines carry the 64-bit #NPF error code
 * (GUEST_FINAL bit 32, GUEST_ENC bit 34 for private accesses, RSVD bit 3).
 *
 * <p>Cases, repeated over fresh gfns: a private fault on private memory (mapped: spte_requested, spte_changed per
 * new page table and for the leaf, set_spte); a private access to shared memory and a shared access to private
 * memory (private/shared mismatch → KVM_EXIT_MEMORY_FAULT, {@code kvm_userspace_exit: reason error (14)}), after
 * which the VMM converts the gfn (marker) and the refault maps it; a private fault with RSVD (6.10+: -EFAULT); a
 * private fault on a GPA without memslot (-EFAULT); and a legacy #PF intercept whose SVM exit_info_1 has upper
 * error-code bits ({@code kvm_exit: ... reason PF excp ... info1 0x0001000000000006}; since 6.10 KVM warns and
 * truncates before {@code kvm_page_fault}, which prints 0x6), reinjected into the guest.
 */
final class PrivateFaultScenario implements Scenario {

    private static final long FINAL = 1L << 32;
    private static final long ENC = 1L << 34;
    private static final long NONPRESENT = 0x8000000000000000L;
    private static final long PRIVATE_BASE = 0x100000;     // gfns 4 GiB.. are private at start
    private static final long SHARED_BASE = 0x80000;       // gfns 2 GiB.. are shared
    private static final long NOSLOT_GFN = 0xf0000;        // 3.75 GiB: no memslot
    private static final int SLOTS = 4096;

    private final boolean[] privMapped = new boolean[SLOTS];
        private final boolean[] convertedToPrivate = new boolean[SLOTS];
    private final boolean[] l1 = new boolean[4096];
    private final boolean[] l2 = new boolean[8];
    private boolean l3;
    private int conversions;

    @Override
    public String name() {
        return "private-fault";
    }

    @Override
    public String description() {
        return "private/shared mismatches, RSVD private faults, no-slot private faults, a legacy #PF with upper"
                + " error-code bits (64-bit kvm_page_fault error codes, TDP MMU)";
    }

    @Override
    public long defaultEvents() {
        return 2_000;
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        int n = 0;
        while (!k.writer().full()) {
            int i = n++ % SLOTS;
            long rip = 0xffffffff81000000L + rnd.nextInt(0x100000);
            // a private fault on private memory
            if (!privMapped[i]) {
                long gfn = PRIVATE_BASE + i;
                k.pageFault(0, rip, gfn << 12, FINAL | ENC | 4 | (rnd.nextBoolean() ? 2 : 0));
                map(k, gfn);
                privMapped[i] = true;
            }
            // private access to shared memory: mismatch → memory fault exit, VMM converts, refault maps
            int j = (i * 7 + 3) % SLOTS;
            if (!convertedToPrivate[j]) {
                long gfn = SHARED_BASE + j;
                k.pageFault(0, rip + 4, gfn << 12, FINAL | ENC | 4);
                k.userspaceExitError(14);
                k.marker("kvmrec vmm: KVM_SET_MEMORY_ATTRIBUTES gfn 0x" + Long.toHexString(gfn) + " private "
                        + (++conversions));
                k.pageFault(0, rip + 4, gfn << 12, FINAL | ENC | 4);
                map(k, gfn);
                convertedToPrivate[j] = true;
            }
            // shared access to private memory: mismatch
            k.pageFault(0, rip + 8, (PRIVATE_BASE + ((i + 1) % SLOTS)) << 12, FINAL | 6);
            k.userspaceExitError(14);
            if (i % 4 == 0) {
                // a private fault with RSVD set: -EFAULT since 6.10 (before: handle_mmio_page_fault, MMIO cache)
                k.pageFault(0, rip + 12, (PRIVATE_BASE + i) << 12, FINAL | ENC | 1 | 4 | 8);
                k.userspaceExitError(14);
                // a private fault on a GPA without memslot: -EFAULT (before 6.10: MMIO emulation)
                k.pageFault(0, rip + 16, (NOSLOT_GFN + (i & 0xff)) << 12, FINAL | ENC | 4);
                k.userspaceExitError(14);
            }
            if (i % 16 == 0) {
                // a legacy #PF intercept whose error code has upper bits: warned and truncated (6.10+)
                long cr2 = 0x7f0000400000L + ((long) i << 12);
                k.kvmExitSvm("PF excp", rip + 20, 0x0001000000000006L, cr2);
                k.pageFault(0, rip + 20, cr2, 0x6);
                k.injPf(0x6);
            }
        }
    }

    /** kvm_tdp_mmu_map: spte_requested, page tables linked (spte_changed), the leaf (spte_changed + set_spte). */
    private void map(Kvm k, long gfn) {
        long pfn = 0x300000L + (gfn & 0xfffff);
        k.spteRequested(gfn, pfn, 1);
        if (!l3) {
            k.tdpSpteChanged(0, 0, 4, NONPRESENT, 0x121000827L);
            l3 = true;
        }
        int l2i = (int) ((gfn >>> 18) & 7);
        if (!l2[l2i]) {
            k.tdpSpteChanged(0, gfn & ~((1L << 18) - 1), 3, NONPRESENT, ((0x122000L + l2i) << 12) | 0x827);
            l2[l2i] = true;
        }
        int l1i = (int) ((gfn >>> 9) & 4095);
        if (!l1[l1i]) {
            k.tdpSpteChanged(0, gfn & ~511L, 2, NONPRESENT, ((0x123000L + (gfn >>> 9)) << 12) | 0x827);
            l1[l1i] = true;
        }
        long spte = (pfn << 12) | 0xe67;
        k.tdpSpteChanged(0, gfn, 1, NONPRESENT, spte);
        k.setSpte(gfn, spte, 1, ((0x123000L + (gfn >>> 9)) << 12) + (gfn & 511) * 8);
    }
}
