package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/**
 * {@code mmio-gen}: MMIO SPTEs across more than 128 memslot updates, so the MMIO generation crosses 0x100 — the
 * generation bit that the 2021 MMU-present series stored in SPTE bit 11 (the MMU-present bit) and the fix moved to
 * bit 52 (reference §2; profile {@code mmio-gen-bit11}).
 *
 * <p>Host: shadow paging with {@code kvm.mmio_caching=Y} (so unlike the recording host, MMIO SPTEs are installed),
 * non-EPT masks, MAXPHYADDR &lt; 52 (MMIO value = bit 51 | P, access mask W|U), SMM on (two address spaces: the
 * generation of address space 0 advances by 2 per memslot update). A 64-bit guest at CPL3 reads/writes two device
 * pages (GPAs without memslot). The first access installs an MMIO SPTE ({@code kvm_mmu_spte_requested} with the
 * no-slot pfn, {@code mark_mmio_spte}); after each (untraced, marked) memslot flags update the next access takes a
 * #PF with RSVD, {@code check_mmio_spte} sees a stale generation (valid 0) and the fault path re-marks the SPTE with
 * the new generation; a later access in the same generation finds it valid ({@code handle_mmio_page_fault}). Each
 * access is emulated ({@code kvm_emulate_insn}, {@code kvm_mmio}). 200 memslot updates (generation 0 → 0x190),
 * then accesses continue in the last generation.
 *
 * <p>{@code mmio-gen-wrap} ({@link #wrap()}): the same guest and host, recorded from a VM that already went through
 * many memslot updates (the first {@code mark_mmio_spte} shows generation 0x7ff80), each update written as the
 * {@code mmu-replay: memslot-update} marker. The 64th update takes the address-space-0 generation to 0x80000, which
 * MMIO_SPTE_GEN_MASK (19 bits) makes 0: kvm_mmu_invalidate_mmio_sptes sees the MMIO generation wrap and calls
 * kvm_mmu_zap_all_fast ({@code kvm_mmu_zap_all_fast}, every shadow page zapped oldest first, the root kept invalid
 * until the vCPU frees it and loads a new one in valid generation 1); the guest then re-faults its code page and
 * re-installs the MMIO SPTEs in generations 0, 2, 4, ...
 */
final class MmioGenScenario implements Scenario {

    static final int UPDATES = 200;
    static final long DEV_GFN = 0xfebf0;
    private static final long MMIO_VALUE = (1L << 51) | 1;
    private static final long GEN_MASK = 0x7FFFF;

    /** mmio-gen-wrap: the memslot generation when the recording starts. */
    static final long WRAP_START_GEN = 0x7ff80;

    private final String name;
    private final boolean updateMarkers;
    private final Kvm.Role role = new Kvm.Role();
    private final long[] spte = new long[2];
    private int cache = -1;
    private long gen;
    private int spGen;
    private boolean reloadPending;
    private boolean pdAccessed;
    private boolean[] leafAccessed = new boolean[2];
    private boolean devPtShadowed;

    MmioGenScenario() {
        this("mmio-gen", 0, false);
    }

    private MmioGenScenario(String name, long startGen, boolean updateMarkers) {
        this.name = name;
        this.gen = startGen;
        this.updateMarkers = updateMarkers;
    }

    /** {@code mmio-gen-wrap}: the memslot generation wraps (MMIO_SPTE_GEN_MASK) at the 64th marked update. */
    static MmioGenScenario wrap() {
        return new MmioGenScenario("mmio-gen-wrap", WRAP_START_GEN, true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        if (updateMarkers) {
            return "MMIO SPTEs (mmio_caching=Y) across a memslot generation wraparound (marked updates, "
                    + "0x7ff80 → 0x80000 & 0x7ffff = 0): kvm_mmu_zap_all_fast, roots reloaded";
        }
        return "MMIO SPTEs (mmio_caching=Y) across 200 memslot updates: generations cross 0x100 (SPTE bit 11 vs 52)";
    }

    @Override
    public long defaultEvents() {
        return 10_000;
    }

    static long genBits(long gen) {
        return ((gen & 0xff) << 3) | (((gen >>> 8) & 0x7ff) << 52);
    }

    static long sptGen(long spte) {
        return ((spte >>> 3) & 0xff) | (((spte >>> 52) & 0x7ff) << 8);
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        k.getPage(role.set(0, 1, 4, false), true);
        // the guest's code page (first fetch)
        k.pageFault(0, 0x10000, 0x10000, 0x14);
        k.walk(0x10000, 0x14);
        k.element(0x2007, 4);
        k.element(0x3007, 3);
        k.element(0x4007, 2);
        k.element(0x10005, 1);
        k.accessed(0x1000);
        k.accessed(0x2000);
        k.accessed(0x3000);
        k.accessed(0x4080);
        k.getPage(role.set(0, 2, 3, false), true);
        k.getPage(role.set(0, 3, 2, false), true);
        k.getPage(role.set(0, 4, 1, false), true);
        long pfn = ScaleScenario.pfn(0x10);
        k.spteRequested(0x10, pfn, 1);
        k.setSpte(0x10, (pfn << 12) | 0xa25, 1, 0x10a4c3000L + 0x10 * 8);
        int updates = 0;
        while (!k.writer().full()) {
            if (updates < UPDATES) {
                updates++;
                gen += 2;
                if (updateMarkers) {
                    k.marker("mmu-replay: memslot-update");
                    if ((gen & GEN_MASK) == 0) {
                        zapAllFast(k);
                    }
                } else {
                    k.marker("kvmrec vmm: memslot update " + updates + " (slot 2 flags)");
                }
            }
            for (int i = 0; i < 4 && !k.writer().full(); i++) {
                access(k, rnd, i & 1, rnd.nextBoolean());
            }
        }
    }

    /**
     * kvm_mmu_invalidate_mmio_sptes → kvm_mmu_zap_all_fast: trace (old valid generation, used pages), toggle, zap
     * the obsolete pages oldest first (the root, still referenced, stays invalid until the vCPU drops it).
     */
    private void zapAllFast(Kvm k) {
        k.zapAllFast(spGen, devPtShadowed ? 5 : 4);
        Kvm.Role r = role.set(spGen, 1, 4, false);
        r.rootCount = 1;
        k.prepareZap(r);
        k.prepareZap(role.set(spGen, 2, 3, false));
        k.prepareZap(role.set(spGen, 3, 2, false));
        k.prepareZap(role.set(spGen, 4, 1, false));
        if (devPtShadowed) {
            k.prepareZap(role.set(spGen, 5, 1, false));
        }
        spGen ^= 1;
        spte[0] = 0;
        spte[1] = 0;
        devPtShadowed = false;
        reloadPending = true;
    }

    /**
     * The vCPU's next entry: kvm_mmu_free_obsolete_roots (the invalid root's last reference → zapped), kvm_mmu_load
     * (a new root), then the guest re-faults its code page at {@code rip}.
     */
    private void reload(Kvm k, long rip) {
        reloadPending = false;
        Kvm.Role r = role.set(spGen ^ 1, 1, 4, false);
        r.invalid = true;
        k.prepareZap(r);
        k.getPage(role.set(spGen, 1, 4, false), true);
        k.pageFault(0, rip, rip, 0x14);
        k.walk(rip, 0x14);
        k.element(0x2027, 4);
        k.element(0x3027, 3);
        k.element(0x4027, 2);
        k.element(0x10025, 1);
        k.getPage(role.set(spGen, 2, 3, false), true);
        k.getPage(role.set(spGen, 3, 2, false), true);
        k.getPage(role.set(spGen, 4, 1, false), true);
        long pfn = ScaleScenario.pfn(0x10);
        k.spteRequested(0x10, pfn, 1);
        k.setSpte(0x10, (pfn << 12) | 0xa25, 1, 0x10a4c3000L + 0x10 * 8);
    }

    private void access(Kvm k, SplittableRandom rnd, int dev, boolean write) {
        long gfn = DEV_GFN + dev;
        long addr = 0x400000L + dev * 0x1000L + rnd.nextInt(64) * 4L;
        long rip = 0x10000L + rnd.nextInt(0x400);
        if (reloadPending) {
            reload(k, rip);
        }
        long ec = 4 | (write ? 2 : 0);
        if (spte[dev] == 0) {
            k.pageFault(0, rip, addr, ec);
            walkAndMark(k, addr, ec, dev, gfn);
        } else {
            ec |= 1 | 8;   // present (reserved bit 51 set) + RSVD
            k.pageFault(0, rip, addr, ec);
            long sg = sptGen(spte[dev]);
            boolean valid = sg == (gen & GEN_MASK);
            k.checkMmioSpte(spte[dev], gen & GEN_MASK, sg, valid);
            if (valid) {
                k.handleMmioPageFault(addr, gfn, (int) (spte[dev] & 6));
                cache = dev;
            } else {
                walkAndMark(k, addr, ec & ~8L, dev, gfn);
            }
        }
        // the emulator fetches the instruction and performs the access
        k.walk(rip, 0x14);
        k.element(0x2027, 4);
        k.element(0x3027, 3);
        k.element(0x4027, 2);
        k.element(0x10025, 1);
        StringBuilder bytes = new StringBuilder(write ? "89 04 25" : "8b 04 25");
        for (int i = 0; i < 4; i++) {
            long b = (addr >>> (8 * i)) & 0xff;
            bytes.append(' ').append(b < 16 ? "0" : "").append(Long.toHexString(b));
        }
        k.emulateInsn(0, rip, bytes.toString(), "prot64");
        long gpa = (gfn << 12) | (addr & 0xfff);
        long val = rnd.nextInt() & 0xffffffffL;
        if (write) {
            k.mmio("write", 4, gpa, val);
            k.userspaceExitMmio();
        } else {
            k.mmio("unsatisfied-read", 4, gpa, 0);
            k.userspaceExitMmio();
            k.mmio("read", 4, gpa, val);
        }
    }

    /** FNAME(page_fault) on a device GPA: walk, no memslot → MMIO SPTE (mmio_caching=Y). */
    private void walkAndMark(Kvm k, long addr, long pferr, int dev, long gfn) {
        k.walk(addr, pferr);
        k.element(0x2027, 4);
        k.element(0x3027, 3);
        k.element(0x5007 | (pdAccessed ? 0x20 : 0), 2);
        // the device PTE: present, writable, user, dirty (written by the guest driver), PCD, NX
        k.element((gfn << 12) | 0x57 | (leafAccessed[dev] ? 0x20 : 0) | (1L << 63), 1);
        if (!pdAccessed) {
            k.accessed(0x3010);
            pdAccessed = true;
        }
        if (!leafAccessed[dev]) {
            k.accessed(0x5000 + dev * 8L);
            leafAccessed[dev] = true;
        }
        if (!devPtShadowed) {
            k.getPage(role.set(spGen, 5, 1, false), true);
            devPtShadowed = true;
        }
        k.spteRequested(gfn, 0x8000000000000000L, 1);
        // make_mmio_spte: generation | mmio value (bit 51 | P) | (access & W|U) | gpa
        long s = genBits(gen & GEN_MASK) | MMIO_VALUE | 6 | (gfn << 12);
        spte[dev] = s;
        k.markMmioSpte((0xd5b1e1c5L + dev * 0x3c6ef372L) & 0xffffffffL, gfn, (int) (s & 7),
                gen & GEN_MASK);
        cache = dev;
    }
}
