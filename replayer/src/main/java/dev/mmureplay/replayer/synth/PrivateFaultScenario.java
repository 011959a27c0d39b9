package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * {@code private-fault}: the fault-path cases of the 2024 "page fault and MMIO cleanups" series (6.10; profile
 * {@code pre-6.10-fault-path}), recorded on an AMD host with NPT, the TDP MMU and MMIO caching (SEV-ES/SNP need
 * it) running an SEV-SNP guest with guest_memfd memory. Replay it with
 * {@code --host tdp=true --host mmioCaching=true} (tdpEncoding NPT is the default).
 *
 * <p>Every fault is an #NPF: {@code kvm_exit: ... reason npf ... info1 <exit_info_1> info2 <gpa>}, then
 * {@code kvm_page_fault} with the error code the 6.10+ npf_interception traces (GUEST_FINAL bit 32, GUEST_ENC bit 34
 * for an encrypted = private access, turned into PFERR_PRIVATE_ACCESS bit 49 before the tracepoint; synthetic bits
 * set by hardware cleared). What KVM_CREATE_VM, the memslot ioctls and KVM_SET_MEMORY_ATTRIBUTES did is written
 * by the VMM as markers the model reads ({@code mmu.PrivateMemory}):
 * {@code mmu-replay: vm type=snp}, {@code mmu-replay: memslot gfn=0x.. npages=0x.. gmem=1 [apic=1]},
 * {@code mmu-replay: attr gfn=0x.. npages=0x.. private=1|0}.
 *
 * <p>Cases, repeated over fresh gfns (the first occurrence of each is where {@code diff --profiles
 * upstream,pre-6.10-fault-path} parts, asserted in DiffCommandTest):
 * <ol>
 *   <li>a private fault on private memory: mapped (spte_requested, get_page + spte_changed per new table, the
 *       leaf spte_changed, set_spte);</li>
 *   <li>private/shared mismatch: a private access to shared memory and a shared access to private memory →
 *       KVM_EXIT_MEMORY_FAULT ({@code kvm_userspace_exit: reason error (14)}); the VMM converts the gfn and the
 *       refault maps it (before 6.10 fault->is_private was the attribute: both map at once);</li>
 *   <li>a shared MMIO access to a GPA without memslot (MMIO SPTE: spte_requested pfn KVM_PFN_NOSLOT,
 *       spte_changed, mark_mmio_spte; emulated, KVM_EXIT_MMIO), then a private access to it, which hits the MMIO
 *       SPTE's reserved bits (RSVD): 6.10+ WARN, -EFAULT; before, check_mmio_spte + handle_mmio_page_fault
 *       (the MMIO cache) and emulation of a private access;</li>
 *   <li>a private access to another GPA without memslot: 6.10+ KVM_EXIT_MEMORY_FAULT; before, emulated MMIO
 *       (an MMIO SPTE);</li>
 *   <li>64-bit error-code sanity: an #NPF whose exit_info_1 has bit 49 — a KVM-synthetic bit — set by hardware:
 *       6.10+ npf_interception WARNs and clears it before the tracepoint; before, it reached the fault path;</li>
 *   <li>a private fault on the APIC access page (private attribute, APICv inhibited, as for SNP guests): 6.10+
 *       KVM_EXIT_MEMORY_FAULT (a private fault that hits emulation); before, emulated.</li>
 * </ol>
 * The earlier version of this scenario had a legacy #PF intercept ({@code kvm_exit ... reason PF excp}) with
 * upper error-code bits, re-injected into the guest: an NPT host never records that — SVM's init_vmcb clears the
 * #PF intercept when npt_enabled, so pf_interception / kvm_handle_page_fault do not run (except for host async
 * #PFs, which are not traced as kvm_page_fault). Its NPT counterpart is case 5; the legacy #PF rule itself
 * (FaultEntry.kvmHandlePageFaultErrorCode) is applied by the model to a {@code PF excp} exit where one occurs.
 */
final class PrivateFaultScenario implements Scenario {

    private static final long FINAL = 1L << 32;
    private static final long ENC = 1L << 34;
    private static final long PRIV = 1L << 49;
    private static final long NONPRESENT = 0x8000000000000000L;
    private static final long NOSLOT_PFN = 0x8000000000000000L;   // KVM_PFN_NOSLOT
    private static final long SLOT0_PAGES = 0xf0000;               // slot 0: gfns 0..3.75 GiB
    private static final long PRIVATE_BASE = 0x100000;             // slot 1: 4 GiB.., private at start
    private static final long PRIVATE_PAGES = 0x100000;
    private static final long SHARED_BASE = 0x80000;               // gfns 2 GiB.. are shared
    private static final long SHARED2_BASE = 0x40000;              // case 5's shared gfns (1 GiB..)
    private static final long NOSLOT_GFN = 0xf0000;                // 3.75 GiB: no memslot
    private static final long APIC_GFN = 0xfee00;                  // the APIC access page memslot
    private static final long MEMSLOT_GEN = 6;                     // three memslot updates
    private static final int SLOTS = 4096;

    private final TreeSet<Long> tables = new TreeSet<>();
    private final Kvm.Role role = new Kvm.Role();

    @Override
    public String name() {
        return "private-fault";
    }

    @Override
    public String description() {
        return "SEV-SNP guest on an NPT/TDP MMU host: private/shared mismatches, RSVD private faults on MMIO SPTEs,"
                + " no-slot private faults, an #NPF with a synthetic error-code bit, a private fault on the APIC"
                + " page (replay with --host tdp=true --host mmioCaching=true)";
    }

    @Override
    public long defaultEvents() {
        return 2_000;
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        k.marker("mmu-replay: vm type=snp");
        k.marker("mmu-replay: memslot gfn=0x0 npages=0x" + Long.toHexString(SLOT0_PAGES) + " gmem=1");
        k.marker("mmu-replay: memslot gfn=0x" + Long.toHexString(PRIVATE_BASE) + " npages=0x"
                + Long.toHexString(PRIVATE_PAGES) + " gmem=1");
        k.marker("mmu-replay: memslot gfn=0x" + Long.toHexString(APIC_GFN) + " npages=1 apic=1");
        k.marker("mmu-replay: attr gfn=0x" + Long.toHexString(PRIVATE_BASE) + " npages=0x"
                + Long.toHexString(PRIVATE_PAGES) + " private=1");
        k.marker("mmu-replay: attr gfn=0x" + Long.toHexString(APIC_GFN) + " npages=1 private=1");
        k.getPage(role.set(0, 0, 4, true), true);   // kvm_mmu_load → kvm_tdp_mmu_alloc_root
        int n = 0;
        while (!k.writer().full()) {
            int i = n++ % SLOTS;
            long rip = 0xffffffff81000000L + rnd.nextInt(0x100000);
            // 1. a private fault on private memory: mapped
            long gfn = PRIVATE_BASE + i;
            fault(k, rip, gfn, ENC | 4 | (rnd.nextBoolean() ? 2 : 0), 0);
            map(k, gfn);
            // 2a. private access to shared memory: mismatch → memory fault exit, the VMM converts, refault maps
            long sh = SHARED_BASE + ((i * 7L + 3) % SLOTS);
            fault(k, rip + 4, sh, ENC | 4, 0);
            k.userspaceExitError(14);
            attr(k, sh, true);
            fault(k, rip + 4, sh, ENC | 4, 0);
            map(k, sh);
            // 2b. shared access to private memory (never mapped): mismatch, converted to shared, refault maps
            long pv = PRIVATE_BASE + SLOTS + i;
            fault(k, rip + 8, pv, 6, 0);
            k.userspaceExitError(14);
            attr(k, pv, false);
            fault(k, rip + 8, pv, 6, 0);
            map(k, pv);
            if (i % 4 == 0) {
                // 3. emulated MMIO without memslot (MMIO SPTE), then a private access to it: RSVD
                long mmio = NOSLOT_GFN + (i / 4 % 0x80);
                fault(k, rip + 12, mmio, 4, 0);
                mapMmio(k, mmio);
                k.mmio("unsatisfied-read", 4, mmio << 12, 0);
                k.userspaceExitMmio();
                fault(k, rip + 16, mmio, ENC | 1 | 4 | 8, 0);
                k.userspaceExitError(14);
                // 4. a private access to another GPA without memslot
                fault(k, rip + 20, NOSLOT_GFN + 0x80 + (i / 4 % 0x80), ENC | 4, 0);
                k.userspaceExitError(14);
            }
            if (i % 16 == 0) {
                // 5. an #NPF whose exit_info_1 carries bit 49 (a synthetic bit): cleared before the tracepoint
                long g = SHARED2_BASE + i;
                fault(k, rip + 24, g, 6, PRIV);
                map(k, g);
            }
            if (i % 16 == 8) {
                // 6. a private write to the APIC access page (private attribute, APICv inhibited)
                fault(k, rip + 28, APIC_GFN, ENC | 6, 0);
                k.userspaceExitError(14);
            }
        }
    }

    /**
     * The #NPF exit and the traced fault: exit_info_1 = GUEST_FINAL | bits | hardware garbage; 6.10+
     * npf_interception clears synthetic bits and adds PRIVATE_ACCESS for GUEST_ENC, then traces.
     */
    private static void fault(Kvm k, long rip, long gfn, long bits, long garbage) {
        long info1 = FINAL | bits | garbage;
        k.kvmExitSvm("npf", rip, info1, gfn << 12);
        long traced = (info1 & ~((1L << 48) | PRIV)) | ((bits & ENC) != 0 ? PRIV : 0);
        k.pageFault(0, rip, gfn << 12, traced);
    }

    private static void attr(Kvm k, long gfn, boolean priv) {
        k.marker("mmu-replay: attr gfn=0x" + Long.toHexString(gfn) + " npages=1 private=" + (priv ? 1 : 0));
    }

    /** kvm_tdp_mmu_map: spte_requested, page tables (get_page + spte_changed), the leaf (spte_changed + set_spte). */
    private void map(Kvm k, long gfn) {
        long pfn = 0x300000L + (gfn & 0xfffff);
        k.spteRequested(gfn, pfn, 1);
        tablesFor(k, gfn);
        long spte = (pfn << 12) | 0xe67;
        k.tdpSpteChanged(0, gfn, 1, NONPRESENT, spte);
        k.setSpte(gfn, spte, 1, tableAddr(gfn & ~511L, 1) + (gfn & 511) * 8);
    }

    /** kvm_tdp_mmu_map for a no-slot gfn: make_mmio_spte, spte_changed, mark_mmio_spte (no set_spte). */
    private void mapMmio(Kvm k, long gfn) {
        k.spteRequested(gfn, NOSLOT_PFN, 1);
        tablesFor(k, gfn);
        // make_mmio_spte (NPT, MAXPHYADDR < 52): gen bits 3-10 / 52-62 | bit 51 | P | W|U | gpa
        long spte = ((MEMSLOT_GEN & 0xff) << 3) | ((MEMSLOT_GEN >>> 8) << 52) | (1L << 51) | 1 | 6 | (gfn << 12);
        k.tdpSpteChanged(0, gfn, 1, NONPRESENT, spte);
        k.markMmioSpte(0xffff8881234c0000L + (gfn & 511) * 8, gfn, (int) (spte & 7), MEMSLOT_GEN);
    }

    private void tablesFor(Kvm k, long gfn) {
        for (int level = 4; level >= 2; level--) {
            long span = 1L << (9 * (level - 1));
            long base = gfn & ~(span - 1);          // the child table's gfn (tdp_mmu_init_sp)
            long key = (base << 3) | level;
            if (tables.add(key)) {
                k.getPage(role.set(0, base, level - 1, true), true);
                k.tdpSpteChanged(0, base, level, NONPRESENT, tableAddr(base, level - 1) | 0x827);
            }
        }
    }

    /** A stand-in host physical address of the level-{@code level} table for {@code base}. */
    private static long tableAddr(long base, int level) {
        return (0x120000L + ((base >>> 9) & 0xffff) * 4 + level) << 12;
    }
}
