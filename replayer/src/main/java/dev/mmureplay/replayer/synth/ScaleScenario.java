package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/**
 * {@code scale}: a 64-bit guest booting user processes under shadow paging (the recording host's setup: AMD,
 * tdp_mmu=N, mmio_caching=N), streamed to any length in constant memory.
 *
 * <p>Guest: {@value #PROCS} processes, each with its own 4-level page tables (PML4, one PDPT, one PD,
 * {@value #PTS} page tables). Virtual page {@code i} of page table {@code r} is mapped at
 * {@code 0x400000 + r*2MiB + 8*i*4KiB} — one page per aligned group of 8 guest PTEs, the others not present, so
 * KVM's PTE prefetch (which stops at the first neighbour that is not present+accessed) never installs anything.
 * The first {@value #CODE_PTS} page tables map code (read-only, executable), the rest data (writable, NX). At most
 * {@code 6 * 256 * 64 = 98,304} guest data pages, so the generator's state is a few hundred KiB whatever the length.
 *
 * <p>Each step is one of: a first-touch fault (walk + one element per level + accessed/dirty bits + the
 * {@code kvm_mmu_get_page} chain for missing shadow pages + spte_requested + set_spte), a write to a page mapped
 * read-only because its guest PTE was clean (error code 7: set_dirty_bit + a writable SPTE), a refault after a
 * zap, a CR3 switch ({@code kvm_cr}; the root comes from KVM's current+3 previous roots cache or through
 * {@code kvm_mmu_get_page} l4, new or existing), an MMIO read/write to a GPA without memslot (walk, emulator
 * fetch walk, kvm_emulate_insn, kvm_mmio), a marker; every ~{@value #CHURN_MEAN} lines memslot churn:
 * {@code kvm_mmu_zap_all_fast} (generation before the toggle, used pages) + {@code kvm_mmu_prepare_zap_page} of every
 * live shadow page oldest first (roots in use print their root count), then the vCPU frees the obsolete roots
 * ({@code invalid ... root 0}) and reloads ({@code sp gen 1} pages). After a churn one process "exits" and is
 * started again with clean page tables (its page tables are not shadowed then, so the guest's writes are not
 * traced), which keeps first-touch faults coming forever.
 *
 * <p>SPTE values use the non-EPT masks of the recording host: pfn&lt;&lt;12 | MMU-present (bit 11) | host-writable
 * (9) | accessed (5) | user (2) | present (0), + W (1) | MMU-writable (10) | dirty (6) when the guest PTE is dirty,
 * + NX (63). Host pfns and shadow page addresses are fixed functions of the gfn / shadow page serial.
 */
final class ScaleScenario implements Scenario {

    static final int PROCS = 6;
    static final int PTS = 256;
    static final int PAGES_PER_PT = 64;          // used PTE indices 0, 8, 16, ... 504
    static final int CODE_PTS = 4;
    static final int CHURN_MEAN = 40_000;
    static final long MMIO_GPA = 0xd0000000L;
    static final long DATA_BASE_GFN = 0x20000;
    static final long PT_BASE_GFN = 0x1000;
    static final long VA_BASE = 0x400000L;

    private static final int PAGES = PROCS * PTS * PAGES_PER_PT;
    private static final int PROC_PAGES = PTS * PAGES_PER_PT;
    private static final int SPS_PER_PROC = 3 + PTS;     // root, l3, l2, l1s

    // page state bits
    private static final byte A = 1;
    private static final byte D = 2;
    private static final byte SP = 4;    // SPTE present
    private static final byte SW = 8;    // SPTE writable

    private final byte[] page = new byte[PAGES];
    private final boolean[] pml4A = new boolean[PROCS];
    private final boolean[] pdptA = new boolean[PROCS];
    private final boolean[] pdA = new boolean[PROCS * PTS];
    private final int[] cursor = new int[PROCS];
    /** Shadow pages: serial (0 = none) by key p*SPS_PER_PROC + k (k 0 root, 1 l3, 2 l2, 3+r l1). */
    private final int[] spSerial = new int[PROCS * SPS_PER_PROC];
    /** Live shadow page keys in creation order (oldest first). */
    private final int[] live = new int[PROCS * SPS_PER_PROC];
    private int liveCount;
    private int serial;
    private int gen;
    /** Current root's process and KVM's 3 previous roots (process ids, -1 empty), most recent first. */
    private int cur = -1;
    private final int[] prev = {-1, -1, -1};
    private long nextChurn;
    private long nextMarker;
    private int markers;
    private int churns;

    private final Kvm.Role role = new Kvm.Role();

    static final String VMM = "qemu-system-x86";
    static final int VMM_PID = 4200;
    static final int VCPU_PID = 4242;

    @Override
    public String name() {
        return "scale";
    }

    @Override
    public String description() {
        return "boot-like first-touch faults of 6 processes, CR3 switches, memslot churn (zap-all-fast), MMIO;"
                + " streams any length in constant memory";
    }

    @Override
    public long defaultEvents() {
        return 1_000_000;
    }

    @Override
    public void generate(Kvm k, SplittableRandom rnd) {
        k.marker("kvmrec start 0");
        nextChurn = k.writer().written() + CHURN_MEAN / 2 + rnd.nextInt(CHURN_MEAN);
        nextMarker = 10_000;
        switchTo(k, 0, true);
        while (!k.writer().full()) {
            long n = k.writer().written();
            if (n >= nextChurn) {
                churn(k, rnd);
                nextChurn = n + CHURN_MEAN / 2 + rnd.nextInt(CHURN_MEAN);
                continue;
            }
            if (n >= nextMarker) {
                k.marker("kvmrec marker " + (++markers));
                nextMarker = n + 10_000;
            }
            int r = rnd.nextInt(1000);
            if (r < 4) {
                int p = rnd.nextInt(PROCS - 1);
                switchTo(k, p >= cur ? p + 1 : p, false);
            } else if (r < 8) {
                mmio(k, rnd);
            } else if (r < 80) {
                upgradeOrTouch(k, rnd);
            } else {
                touch(k, rnd);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ guest

    private static long pml4Gfn(int p) {
        return PT_BASE_GFN + p * 0x200L;
    }

    private static long pdptGfn(int p) {
        return pml4Gfn(p) + 1;
    }

    private static long pdGfn(int p) {
        return pml4Gfn(p) + 2;
    }

    private static long ptGfn(int p, int r) {
        return pml4Gfn(p) + 3 + r;
    }

    private static long dataGfn(int idx) {
        return DATA_BASE_GFN + idx;
    }

    private static long va(int p, int local) {
        int r = local / PAGES_PER_PT;
        int i = (local % PAGES_PER_PT) * 8;
        return VA_BASE + ((long) r << 21) + ((long) i << 12);
    }

    /** Host pfn of a gfn: a fixed bijection on 20 bits above 0x100000. */
    static long pfn(long gfn) {
        return 0x100000L + ((gfn * 0x9E3779B1L) & 0xFFFFFL);
    }

    /** Host physical address of a shadow page (its SPTE table). */
    private static long spHpa(int serial) {
        return (0x100000L + ((serial * 0x9E37L) & 0xFFFFL)) << 12;
    }

    private static boolean code(int local) {
        return local / PAGES_PER_PT < CODE_PTS;
    }

    // -------------------------------------------------------------------------------------------- actions

    /** The current process touches its next untouched page, or refaults a zapped one. */
    private void touch(Kvm k, SplittableRandom rnd) {
        int p = cur;
        if (cursor[p] < PROC_PAGES) {
            int local = cursor[p]++;
            boolean code = code(local);
            fault(k, p, local, code ? 0x14 : (rnd.nextBoolean() ? 6 : 4));
            return;
        }
        // all touched: refault a page whose SPTE is gone (after churn), else switch process
        for (int tries = 0; tries < 8; tries++) {
            int local = rnd.nextInt(PROC_PAGES);
            if ((page[p * PROC_PAGES + local] & SP) == 0) {
                fault(k, p, local, code(local) ? 0x14 : (rnd.nextBoolean() ? 6 : 4));
                return;
            }
        }
        int q = rnd.nextInt(PROCS - 1);
        switchTo(k, q >= p ? q + 1 : q, false);
    }

    /** A write to a data page mapped read-only (clean guest PTE): error code 7, set_dirty_bit, writable SPTE. */
    private void upgradeOrTouch(Kvm k, SplittableRandom rnd) {
        int p = cur;
        int touched = cursor[p];
        if (touched > 0 && rnd.nextInt(4) == 0) {
            int local = rnd.nextInt(touched);
            int idx = p * PROC_PAGES + local;
            if (!code(local) && (page[idx] & (SP | SW)) == SP) {
                fault(k, p, local, 7);
                return;
            }
        }
        touch(k, rnd);
    }

    /** One guest page fault handled by FNAME(page_fault) with a successful walk. */
    private void fault(Kvm k, int p, int local, int pferr) {
        int idx = p * PROC_PAGES + local;
        int r = local / PAGES_PER_PT;
        int pti = (local % PAGES_PER_PT) * 8;
        boolean code = code(local);
        boolean write = (pferr & 2) != 0;
        long va = va(p, local);
        long gfn = dataGfn(idx);
        byte st = page[idx];

        k.walk(va, pferr);
        long upper = 0x7;   // P|W|U
        k.element((pdptGfn(p) << 12) | upper | (pml4A[p] ? 0x20 : 0), 4);
        k.element((pdGfn(p) << 12) | upper | (pdptA[p] ? 0x20 : 0), 3);
        k.element((ptGfn(p, r) << 12) | upper | (pdA[p * PTS + r] ? 0x20 : 0), 2);
        long leaf = (gfn << 12) | (code ? 0x5 : 0x7) | ((st & A) != 0 ? 0x20 : 0) | ((st & D) != 0 ? 0x40 : 0)
                | (code ? 0 : 1L << 63);
        k.element(leaf, 1);
        if (!pml4A[p]) {
            k.accessed(pml4Gfn(p) << 12);
            pml4A[p] = true;
        }
        if (!pdptA[p]) {
            k.accessed(pdptGfn(p) << 12);
            pdptA[p] = true;
        }
        if (!pdA[p * PTS + r]) {
            k.accessed((pdGfn(p) << 12) + (2 + r) * 8L);
            pdA[p * PTS + r] = true;
        }
        long leafGpa = (ptGfn(p, r) << 12) + pti * 8L;
        if ((st & A) == 0) {
            k.accessed(leafGpa);
            st |= A;
        }
        if (write && (st & D) == 0) {
            k.dirty(leafGpa);
            st |= D;
        }
        // FNAME(fetch): shadow levels below the root that are not linked yet
        int base = p * SPS_PER_PROC;
        if (spSerial[base + 1] == 0) {
            newSp(k, base + 1, pdptGfn(p), 3);
        }
        if (spSerial[base + 2] == 0) {
            newSp(k, base + 2, pdGfn(p), 2);
        }
        if (spSerial[base + 3 + r] == 0) {
            newSp(k, base + 3 + r, ptGfn(p, r), 1);
        }
        long pfn = pfn(gfn);
        k.spteRequested(gfn, pfn, 1);
        boolean writable = !code && (st & D) != 0;
        long spte = (pfn << 12) | 0x800 | 0x200 | 0x20 | 0x4 | 0x1;
        if (writable) {
            spte |= 0x400 | 0x40 | 0x2;
        }
        if (!code) {
            spte |= 1L << 63;
        }
        k.setSpte(gfn, spte, 1, spHpa(spSerial[base + 3 + r]) + pti * 8L);
        st |= SP;
        st = (byte) (writable ? st | SW : st & ~SW);
        page[idx] = st;
    }

    private void newSp(Kvm k, int key, long gfn, int level) {
        k.getPage(role.set(gen, gfn, level, false), true);
        spSerial[key] = ++serial;
        live[liveCount++] = key;
    }

    /** CR3 write: kvm_mmu_new_pgd → fast_pgd_switch over the root cache, else a root from kvm_mmu_get_page. */
    private void switchTo(Kvm k, int p, boolean initial) {
        if (!initial) {
            k.crWrite(3, pml4Gfn(p) << 12);
        }
        if (cur >= 0) {
            // cached_root_find_and_keep_current: rotate the current root through the cache
            int c = cur;
            for (int i = 0; i < 3; i++) {
                int t = prev[i];
                prev[i] = c;
                c = t;
                if (c == p) {
                    cur = p;
                    return;
                }
            }
            // not cached: c (the least recently used) is freed (root_count 0, stays a valid shadow page)
        }
        cur = p;
        loadRoot(k, p);
    }

    /** kvm_mmu_reload → mmu_alloc_shadow_roots → the l4 root for the current CR3 (new or existing). */
    private void loadRoot(Kvm k, int p) {
        int key = p * SPS_PER_PROC;
        if (spSerial[key] == 0) {
            newSp(k, key, pml4Gfn(p), 4);
        } else {
            k.getPage(role.set(gen, pml4Gfn(p), 4, false), false);
        }
    }

    /** A memslot update: zap-all-fast, the vCPU frees the obsolete roots and reloads; one process restarts. */
    private void churn(Kvm k, SplittableRandom rnd) {
        k.as(VMM, VMM_PID, 1);
        k.marker("kvmrec vmm: delete+recreate slot1 (same hva) " + (++churns));
        k.zapAllFast(gen, liveCount);
        // kvm_zap_obsolete_pages: oldest first; roots still referenced stay (invalid) until the vCPU drops them
        for (int i = 0; i < liveCount; i++) {
            int key = live[i];
            int p = key / SPS_PER_PROC;
            int kind = key % SPS_PER_PROC;
            Kvm.Role ro = role.set(gen, spGfn(p, kind), spLevel(kind), false);
            if (kind == 0) {
                ro.rootCount = cached(p) ? 1 : 0;
            }
            k.prepareZap(ro);
        }
        int oldGen = gen;
        gen ^= 1;
        k.as(TraceWriter.VCPU0, VCPU_PID, 0);
        // kvm_mmu_free_obsolete_roots: previous roots 0..2, then the current one
        for (int i = 0; i < 3; i++) {
            if (prev[i] >= 0) {
                k.prepareZap(invalidRoot(oldGen, prev[i]));
                prev[i] = -1;
            }
        }
        k.prepareZap(invalidRoot(oldGen, cur));
        java.util.Arrays.fill(spSerial, 0);
        liveCount = 0;
        for (int i = 0; i < PAGES; i++) {
            page[i] &= ~(SP | SW);
        }
        // a process (not the current one) exits and starts again: clean page tables, untouched pages
        int q = rnd.nextInt(PROCS);
        if (q != cur) {
            pml4A[q] = false;
            pdptA[q] = false;
            java.util.Arrays.fill(pdA, q * PTS, (q + 1) * PTS, false);
            java.util.Arrays.fill(page, q * PROC_PAGES, (q + 1) * PROC_PAGES, (byte) 0);
            cursor[q] = 0;
        }
        loadRoot(k, cur);
    }

    private Kvm.Role invalidRoot(int oldGen, int p) {
        Kvm.Role ro = role.set(oldGen, pml4Gfn(p), 4, false);
        ro.invalid = true;
        return ro;
    }

    private boolean cached(int p) {
        return p == cur || prev[0] == p || prev[1] == p || prev[2] == p;
    }

    private static long spGfn(int p, int kind) {
        return switch (kind) {
            case 0 -> pml4Gfn(p);
            case 1 -> pdptGfn(p);
            case 2 -> pdGfn(p);
            default -> ptGfn(p, kind - 3);
        };
    }

    private static int spLevel(int kind) {
        return kind >= 3 ? 1 : 4 - kind;
    }

    /** An MMIO read or write through a guest mapping of a GPA without memslot: emulated (mmio_caching=N). */
    private void mmio(Kvm k, SplittableRandom rnd) {
        int p = cur;
        if (cursor[p] == 0 || (page[p * PROC_PAGES] & A) == 0) {
            touch(k, rnd);
            return;
        }
        boolean write = rnd.nextBoolean();
        long mmioVa = 0x200000L;   // PD index 1: a page table mapping the device
        long off = rnd.nextInt(64) * 4L;
        // the fault: walk to the device GPA (no memslot → emulate, no SPTE)
        k.walk(mmioVa + off, write ? 6 : 4);
        k.element((pdptGfn(p) << 12) | 0x27, 4);
        k.element((pdGfn(p) << 12) | 0x27, 3);
        long devPt = mmioPtGfn(p);
        k.element((devPt << 12) | 0x27, 2);
        k.element(MMIO_GPA | 0x67 | (1L << 63) | 0x10, 1);   // PCD: uncached device mapping
        // the emulator fetches the instruction at rip (the first code page, already accessed)
        long rip = VA_BASE + 0x10 + rnd.nextInt(0x100);
        k.walk(rip, 0x14);
        k.element((pdptGfn(p) << 12) | 0x27, 4);
        k.element((pdGfn(p) << 12) | 0x27, 3);
        k.element((ptGfn(p, 0) << 12) | 0x27, 2);
        k.element((dataGfn(p * PROC_PAGES) << 12) | 0x25 | ((page[p * PROC_PAGES] & D) != 0 ? 0x40 : 0), 1);
        StringBuilder bytes = new StringBuilder(write ? "89 04 25" : "8b 04 25");
        long target = mmioVa + off;
        for (int i = 0; i < 4; i++) {
            bytes.append(' ');
            long b = (target >>> (8 * i)) & 0xff;
            bytes.append(b < 16 ? "0" : "").append(Long.toHexString(b));
        }
        k.emulateInsn(0, rip, bytes.toString(), "prot64");
        long val = rnd.nextInt() & 0xffffffffL;
        if (write) {
            k.mmio("write", 4, MMIO_GPA + off, val);
        } else {
            k.mmio("unsatisfied-read", 4, MMIO_GPA + off, 0);
        }
        k.userspaceExitMmio();
        if (!write) {
            k.mmio("read", 4, MMIO_GPA + off, val);
        }
    }

    /** The page table that maps the device page (PD index 1), outside the per-process shadowed range. */
    private static long mmioPtGfn(int p) {
        return pml4Gfn(p) + 3 + PTS;
    }
}
