package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The TDP MMU (arch/x86/kvm/mmu/tdp_mmu.c, write-lock era 6.10–6.17, as the synth {@code nx-recovery} host): direct
 * roots, the fault path {@code kvm_tdp_mmu_map}, huge-page splits, removal of page tables, NX huge-page tracking and
 * recovery, {@code kvm_mmu_zap_all_fast}'s root invalidation, the gfn-range zap through {@code tdp_iter} with the
 * yield-after-progress rule, and a TLB model: whether a remote TLB flush is pending for a zapped SPTE.
 *
 * <p>Every traced change goes to a {@link Trace} in kernel order. Host physical addresses of page tables are not
 * known: a new non-leaf SPTE carries a stand-in address until the recording teaches the real one
 * ({@link #learnSpte}); comparisons mask the address field. Single-threaded, deterministic (pages by ascending id
 * in a {@link TreeMap}, the possible-NX list in insertion order), no static mutable state.
 */
public final class TdpMmu {

    /** SHADOW_NONPRESENT_VALUE (6.10+): bit 63, so EPT suppresses #VE. */
    public static final long NONPRESENT = Spte.SHADOW_NONPRESENT_VALUE_TDP;
    /** FROZEN_SPTE (6.10+). */
    public static final long FROZEN = Spte.FROZEN_SPTE;
    /** vmx_get_mt_mask() for RAM without non-coherent DMA: WB memory type (6 << 3) | IPAT (bit 6). */
    public static final long EPT_WB_MEMTYPE = (6L << 3) | (1L << 6);
    private static final int ENTRIES = 512;

    /** What the TDP MMU traces, in kernel order. */
    public interface Trace {
        /** tdp_mmu_init_sp → trace_kvm_mmu_get_page(sp, true). */
        void getPage(Page p);

        /** handle_changed_spte → trace_kvm_tdp_mmu_spte_changed (only when old != new). */
        void spteChanged(int asId, long gfn, int level, long oldSpte, long newSpte, int pageId, int index);

        /** handle_removed_pt → trace_kvm_mmu_prepare_zap_page. */
        void prepareZap(Page p);

        /** tdp_mmu_map_handle_target_level → trace_kvm_mmu_set_spte. */
        void setSpte(long gfn, long spte, int level, int index, int pageId);

        /** tdp_mmu_split_huge_page → trace_kvm_mmu_split_huge_page (errno 0). */
        void splitHugePage(long gfn, long spte, int level);

        /**
         * A zap allowed to yield meets a yield point while a remote TLB flush it does not know about is pending:
         * if it drops mmu_lock there, vCPUs/other zappers run with TLB entries for {@code staleGfn}/{@code staleLevel}
         * still live although the SPTE is gone (the model's stale-TLB window; not a tracepoint).
         */
        void staleTlbWindow(long gfn, int level, long staleGfn, int staleLevel, boolean progress);

        /** tdp_mmu_map_handle_target_level → trace_mark_mmio_spte (a no-slot fault with MMIO caching on). */
        default void markMmioSpte(long gfn, long spte, int pageId, int index) {
        }
    }

    /** One TDP page table (struct kvm_mmu_page with tdp_mmu_page = true). */
    public static final class Page {
        final int id;
        final int level;
        final long gfn;
        final boolean root;
        boolean invalid;
        boolean nxDisallowed;
        final int parent;
        final int parentIndex;
        final long[] spte = new long[ENTRIES];
        final int[] child = new int[ENTRIES];

        Page(int id, int level, long gfn, boolean root, int parent, int parentIndex) {
            this.id = id;
            this.level = level;
            this.gfn = gfn;
            this.root = root;
            this.parent = parent;
            this.parentIndex = parentIndex;
            java.util.Arrays.fill(spte, NONPRESENT);
        }

        public int id() {
            return id;
        }

        public int level() {
            return level;
        }

        public long gfn() {
            return gfn;
        }

        public boolean invalid() {
            return invalid;
        }

        public boolean root() {
            return root;
        }

        public long spte(int i) {
            return spte[i];
        }

        /** The role word: direct, ACC_ALL, efer_nx and cr0_wp forced (kvm_calc_tdp_mmu_root_page_role), A/D on. */
        public int role() {
            int r = MmuPageRole.withLevel(0, level) | MmuPageRole.DIRECT | MmuPageRole.EFER_NX | MmuPageRole.CR0_WP;
            r = MmuPageRole.withAccess(r, Spte.ACC_ALL);
            return invalid ? r | MmuPageRole.INVALID : r;
        }
    }

    /** Outcome of a gfn-range zap: whether a flush is owed, and the yield points the iterator met. */
    public record ZapResult(boolean flush, int yieldPoints, long firstYieldGfn) {
    }

    private final Spte.Masks masks;
    private final boolean ept;
    private final boolean nxHugePages;
    private final TreeMap<Integer, Page> pages = new TreeMap<>();
    private int nextId = 1;
    private int root;
    private int rootLevel = 4;
    private final List<Integer> possibleNx = new ArrayList<>();
    private int validGen;
    private boolean flushPending;
    private long staleGfn = -1;
    private int staleLevel;
    private int hostLevel = 2;
    private long zappedNx;
    // the VM's private-memory facts (markers) and the last #NPF/#PF exit: what the fault entry decides on
    private PrivateMemory memory = new PrivateMemory();

    public TdpMmu(Spte.Masks masks, boolean ept, boolean nxHugePages) {
        this.masks = masks;
        this.ept = ept;
        this.nxHugePages = nxHugePages;
    }

    // ------------------------------------------------------------------------------------------------ queries

    public Page page(int id) {
        return pages.get(id);
    }

    /** The current root's id (0 none). */
    public int root() {
        return root;
    }

    public int rootLevel() {
        return rootLevel;
    }

    /** Whether the vCPU must load a new root before its next fault (none yet, or obsolete after zap-all-fast). */
    public boolean rootObsolete() {
        Page r = pages.get(root);
        return r == null || r.invalid;
    }

    /** is_obsolete_sp() for the TDP MMU: role.invalid. */
    public boolean isObsolete(int id) {
        Page p = pages.get(id);
        return p == null || p.invalid;
    }

    /** The possible NX huge pages (page ids), oldest first. */
    public List<Integer> possibleNxHugePages() {
        return List.copyOf(possibleNx);
    }

    public int validGen() {
        return validGen;
    }

    /** Whether a remote TLB flush is pending for an SPTE zapped since the last flush (the TLB model). */
    public boolean flushPending() {
        return flushPending;
    }

    public long staleGfn() {
        return staleGfn;
    }

    public int staleLevel() {
        return staleLevel;
    }

    /** The host mapping level learned from spte_requested (req_level of a non-exec fault; 2 until shown). */
    public int hostLevel() {
        return hostLevel;
    }

    public void learnHostLevel(int level) {
        if (level >= 1 && level <= 3) {
            hostLevel = level;
        }
    }

    /** The VM's memory attributes, memslots, VM type and last fault exit (fed by markers and kvm_exit). */
    public PrivateMemory memory() {
        return memory;
    }

    /** get_mmio_spte() on the TDP MMU (kvm_tdp_mmu_get_walk): the last SPTE on the walk to {@code gfn}. */
    public long leafSpte(long gfn) {
        Page page = pages.get(root);
        if (page == null || page.invalid) {
            return NONPRESENT;
        }
        int level = page.level;
        while (true) {
            long s = page.spte[index(gfn, level)];
            if (!Spte.isShadowPresent(s) || Spte.isLast(s, level) || level == 1) {
                return s;
            }
            Page c = pages.get(page.child[index(gfn, level)]);
            if (c == null) {
                return s;
            }
            page = c;
            level--;
        }
    }

    public int pageCount() {
        return pages.size();
    }

    static long pagesPerLevel(int level) {
        return 1L << (9 * (level - 1));
    }

    static int index(long gfn, int level) {
        return (int) ((gfn >>> (9 * (level - 1))) & (ENTRIES - 1));
    }

    private static long round(long gfn, int level) {
        return gfn & ~(pagesPerLevel(level) - 1);
    }

    /** The stand-in child address of a new non-leaf SPTE (real one learned from the recording). */
    private static long standInAddress(int id) {
        return (0xFF000000L + id) << 12;
    }

    private long nonLeaf(Page child) {
        return Spte.makeNonLeafSpte(masks, standInAddress(child.id), false);
    }

    // ------------------------------------------------------------------------------------------------ roots

    /** kvm_tdp_mmu_alloc_root (kvm_mmu_load): a new direct root of {@code level}; traced unless {@code t} is null. */
    public int allocRoot(int level, Trace t) {
        rootLevel = level;
        Page r = new Page(nextId++, level, 0, true, 0, -1);
        pages.put(r.id, r);
        root = r.id;
        if (t != null) {
            t.getPage(r);
        }
        return r.id;
    }

    /**
     * kvm_mmu_zap_all_fast() on a TDP VM: returns the generation before the toggle (traced with n_used_mmu_pages,
     * which TDP pages do not count), toggles it and invalidates every root (kvm_tdp_mmu_invalidate_all_roots); the
     * vCPUs free the obsolete roots and load new ones on their next entry. The invalidated roots' own teardown
     * (kvm_tdp_mmu_zap_invalidated_roots) is not predicted: its effects are learned.
     */
    public int zapAllFast() {
        int old = validGen;
        validGen ^= 1;
        for (Page p : pages.values()) {
            if (p.root) {
                p.invalid = true;
            }
        }
        // a remote flush is part of the invalidation (all vCPUs reload)
        flush();
        return old;
    }

    /** Whether an invalidated root still exists (its teardown effects are learned). */
    public boolean hasInvalidRoot() {
        for (Page p : pages.values()) {
            if (p.root && p.invalid) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------------ fault path

    /**
     * kvm_tdp_mmu_map() after trace_kvm_mmu_spte_requested: walk from the root; a missing table is allocated
     * (get_page) and linked (spte_changed); a huge SPTE above the goal is split (get_page, spte_changed,
     * split_huge_page); a new table of an exec fault that could have been huge is a possible NX huge page
     * (track_possible_nx_huge_page, appended = newest); at the goal level tdp_mmu_map_handle_target_level makes the
     * leaf (spte_changed when it changes, then set_spte).
     *
     * @return the leaf SPTE installed
     */
    public long map(long gfn, int goal, long pfn, boolean exec, boolean hostWritable, Trace t) {
        return map(gfn, goal, pfn, exec, hostWritable, -1, t);
    }

    /**
     * kvm_tdp_mmu_map() for a fault without memslot (fault->slot == NULL, MMIO caching on): the tables as for any
     * fault, then at 4K tdp_mmu_map_handle_target_level makes {@code make_mmio_spte(gfn, ACC_ALL)} with the memslot
     * generation {@code mmioSpte} already encodes, traces the change and mark_mmio_spte (no set_spte), and the
     * fault is emulated.
     */
    public long mapMmio(long gfn, long mmioSpte, Trace t) {
        return map(gfn, 1, 0, false, false, mmioSpte, t);
    }

    private long map(long gfn, int goal, long pfn, boolean exec, boolean hostWritable, long mmioSpte, Trace t) {
        Page page = pages.get(root);
        if (page == null) {
            return NONPRESENT;
        }
        boolean hugeDisallowed = exec && nxHugePages;
        int reqLevel = Math.max(goal, hostLevel);
        int level = page.level;
        while (true) {
            int idx = index(gfn, level);
            long old = page.spte[idx];
            // disallowed_hugepage_adjust(): a table that replaced an NX huge page keeps the fault below it
            if (nxHugePages && level > 1 && level == goal && Spte.isShadowPresent(old) && !Spte.isLarge(old)
                    && pages.get(page.child[idx]) != null && pages.get(page.child[idx]).nxDisallowed) {
                goal--;
            }
            if (level == goal) {
                if (mmioSpte != -1) {
                    return mapMmioTarget(page, idx, gfn, mmioSpte, t);
                }
                return mapTarget(page, idx, gfn, level, pfn, hostWritable, t);
            }
            if (Spte.isShadowPresent(old) && !Spte.isLarge(old)) {
                page = pages.get(page.child[idx]);
                level--;
                continue;
            }
            Page child = new Page(nextId++, level - 1, round(gfn, level), false, page.id, idx);
            pages.put(child.id, child);
            t.getPage(child);
            child.nxDisallowed = hugeDisallowed;
            long nl = nonLeaf(child);
            if (Spte.isShadowPresent(old)) {
                // tdp_mmu_split_huge_page: children from make_huge_page_split_spte, then link, then the trace
                splitInto(child, old, level);
                page.spte[idx] = nl;
                page.child[idx] = child.id;
                t.spteChanged(0, round(gfn, level), level, old, nl, page.id, idx);
                t.splitHugePage(round(gfn, level), old, level);
                // a huge leaf replaced by a table: kvm_flush_remote_tlbs_gfn in the same operation
            } else {
                page.spte[idx] = nl;
                page.child[idx] = child.id;
                t.spteChanged(0, round(gfn, level), level, old, nl, page.id, idx);
            }
            if (hugeDisallowed && reqLevel >= level) {
                possibleNx.add(child.id);   // track_possible_nx_huge_page: tail = newest
            }
            page = child;
            level--;
        }
    }

    /** make_huge_page_split_spte(): the huge SPTE's bits, pfn + i·span; at 4K no bit 7 and exec restored (NX). */
    private void splitInto(Page child, long huge, int level) {
        long span = pagesPerLevel(level - 1);
        for (int i = 0; i < ENTRIES; i++) {
            long s = Spte.withPfn(huge, Spte.pfn(huge) + i * span);
            if (level - 1 == 1) {
                s &= ~Spte.PT_PAGE_SIZE_MASK;
                if (nxHugePages) {
                    s = (s & ~masks.nx()) | masks.x();   // make_spte_executable
                }
            }
            child.spte[i] = s;
        }
    }

    private long mapTarget(Page page, int idx, long gfn, int level, long pfn, boolean hostWritable, Trace t) {
        long base = round(gfn, level);
        long old = page.spte[idx];
        long spte = Spte.makeSpte(masks, level, Spte.ACC_ALL, pfn & ~(pagesPerLevel(level) - 1), old, false, false,
                hostWritable, false, nxHugePages, Spte.UnsyncDecision.NEVER, base, null);
        if (ept) {
            spte |= EPT_WB_MEMTYPE;
        }
        if (spte != old) {
            page.spte[idx] = spte;
            t.spteChanged(0, base, level, old, spte, page.id, idx);
            if (Spte.isShadowPresent(old) && !Spte.isLast(old, level)) {
                // a table replaced by a huge page: handle_removed_pt, then kvm_flush_remote_tlbs_gfn at once
                Page c = pages.get(page.child[idx]);
                page.child[idx] = 0;
                if (c != null) {
                    handleRemovedPt(c, t);
                }
            }
        }
        t.setSpte(base, spte, level, idx, page.id);
        return spte;
    }

    private long mapMmioTarget(Page page, int idx, long gfn, long spte, Trace t) {
        long old = page.spte[idx];
        if (spte != old) {
            page.spte[idx] = spte;
            t.spteChanged(0, gfn, 1, old, spte, page.id, idx);
        }
        t.markMmioSpte(gfn, spte, page.id, idx);
        return spte;
    }

    /** The recording's value for an SPTE the model predicted (learns host-chosen addresses). */
    public void learnSpte(int pageId, int index, long value) {
        Page p = pages.get(pageId);
        if (p != null && index >= 0 && index < ENTRIES) {
            p.spte[index] = value;
        }
    }

    // ------------------------------------------------------------------------------------------------ zapping

    /**
     * handle_removed_pt() with mmu_lock held for write: trace prepare_zap, unlink (untrack_possible_nx_huge_page),
     * then freeze each present child (spte_changed old → FROZEN), recursing into child tables.
     */
    private void handleRemovedPt(Page sp, Trace t) {
        t.prepareZap(sp);
        possibleNx.remove((Integer) sp.id);
        sp.nxDisallowed = false;
        long span = pagesPerLevel(sp.level);
        for (int i = 0; i < ENTRIES; i++) {
            long old = sp.spte[i];
            if (!Spte.isShadowPresent(old)) {
                continue;
            }
            sp.spte[i] = FROZEN;
            t.spteChanged(0, sp.gfn + i * span, sp.level, old, FROZEN, sp.id, i);
            if (!Spte.isLast(old, sp.level)) {
                Page c = pages.get(sp.child[i]);
                if (c != null) {
                    handleRemovedPt(c, t);
                }
            }
        }
        pages.remove(sp.id);
    }

    private void markFlush(long gfn, int level) {
        if (!flushPending) {
            flushPending = true;
            staleGfn = gfn;
            staleLevel = level;
        }
    }

    /** kvm_flush_remote_tlbs(): every stale translation is gone. */
    public void flush() {
        flushPending = false;
        staleGfn = -1;
        staleLevel = 0;
    }

    /**
     * kvm_tdp_mmu_zap_sp() (upstream since 2022): clear the SPTE that links {@code sp} (spte_changed at level + 1
     * → non-present, then handle_removed_pt). No iteration, so it can never yield. The flush is the caller's.
     */
    public boolean zapSp(Page sp, Trace t) {
        Page parent = pages.get(sp.parent);
        if (parent == null || parent.child[sp.parentIndex] != sp.id) {
            return false;
        }
        long old = parent.spte[sp.parentIndex];
        if (!Spte.isShadowPresent(old)) {
            return false;
        }
        parent.spte[sp.parentIndex] = NONPRESENT;
        parent.child[sp.parentIndex] = 0;
        t.spteChanged(0, sp.gfn, sp.level + 1, old, NONPRESENT, parent.id, sp.parentIndex);
        handleRemovedPt(sp, t);
        return true;
    }

    /**
     * __kvm_tdp_mmu_zap_gfn_range() / zap_gfn_range() (5.12 shape) on the current root: walk [start, end) with
     * tdp_iter; at every step tdp_mmu_iter_cond_resched may yield only when {@code canYield} and the iterator made
     * forward progress (next_last_level_gfn != yielded_gfn); a present SPTE that is a leaf or lies wholly inside
     * the range is cleared (spte_changed → non-present, a table removed with it). The model does not see
     * need_resched(): it never yields, but counts the yield points. {@code callerFlushPending} is a flush the
     * caller owes that this invocation does not know about (the 5.12 API had no flush parameter): a yield point
     * met before this walk has accumulated its own flush would drop mmu_lock with it pending — reported as a
     * stale-TLB window (once per call; {@code progress} says whether the forward-progress rule lets it yield).
     */
    public ZapResult zapGfnRange(long start, long end, boolean canYield, boolean callerFlushPending, Trace t) {
        Page r = pages.get(root);
        if (r == null || r.invalid) {
            return new ZapResult(false, 0, -1);
        }
        TdpIter it = new TdpIter(r.level, r.id, start);
        boolean flush = false;
        int yields = 0;
        long firstYield = -1;
        long pendGfn = staleGfn;
        int pendLevel = staleLevel;
        long windowGfn = -1;
        boolean windowProgress = false;
        while (it.valid && it.gfn < end) {
            if (canYield) {
                boolean progress = it.nextLastLevelGfn != it.yieldedGfn;
                if (progress) {
                    yields++;
                    if (firstYield < 0) {
                        firstYield = it.gfn;
                    }
                }
                if (callerFlushPending && !flush && (windowGfn < 0 || (progress && !windowProgress))) {
                    windowGfn = it.gfn;
                    windowProgress = progress;
                }
            }
            Page p = pages.get(it.pt[it.level]);
            int idx = index(it.gfn, it.level);
            long old = p.spte[idx];
            if (Spte.isShadowPresent(old)
                    && !((it.gfn < start || it.gfn + pagesPerLevel(it.level) > end) && !Spte.isLast(old, it.level))) {
                p.spte[idx] = NONPRESENT;
                int c = p.child[idx];
                p.child[idx] = 0;
                t.spteChanged(0, it.gfn, it.level, old, NONPRESENT, p.id, idx);
                if (!Spte.isLast(old, it.level) && pages.get(c) != null) {
                    handleRemovedPt(pages.get(c), t);
                }
                flush = true;
                markFlush(it.gfn, it.level);
            }
            it.next();
        }
        if (windowGfn >= 0) {
            t.staleTlbWindow(start, levelOf(start, end), pendGfn, pendLevel, windowProgress);
        }
        return new ZapResult(flush, yields, firstYield);
    }

    private static int levelOf(long start, long end) {
        long n = end - start;
        int l = 1;
        while (l < 5 && pagesPerLevel(l + 1) <= n) {
            l++;
        }
        return l - 1 < 1 ? 1 : l - 1;
    }

    /**
     * kvm_recover_nx_huge_pages() (mmu_lock held for write): to_zap = DIV_ROUND_UP(possible NX huge pages, ratio)
     * pages, oldest first; each is unaccounted, then zapped — upstream by kvm_tdp_mmu_zap_sp (never yields), with
     * {@code mayYield} (pre-33a3164161fc) through kvm_tdp_mmu_zap_gfn_range(sp->gfn, sp->gfn +
     * KVM_PAGES_PER_HPAGE(level + 1)) with yielding allowed and not told about the flush pending from the
     * previous page; flush accumulates (flush |=) and is done at the end.
     *
     * @return the number of pages zapped
     */
    public int recoverNxHugePages(int ratio, boolean mayYield, Trace t) {
        if (ratio == 0 || possibleNx.isEmpty()) {
            return 0;
        }
        int toZap = (possibleNx.size() + ratio - 1) / ratio;
        int done = 0;
        for (; toZap > 0 && !possibleNx.isEmpty(); toZap--) {
            Page sp = pages.get(possibleNx.remove(0));
            if (sp == null) {
                continue;
            }
            sp.nxDisallowed = false;   // unaccount_nx_huge_page
            if (mayYield) {
                // the caller's flush (from the previous page) is invisible to the callee
                long end = sp.gfn + pagesPerLevel(sp.level + 1);
                zapGfnRange(sp.gfn, end, true, flushPending, t);
            } else if (zapSp(sp, t)) {
                markFlush(sp.gfn, sp.level + 1);   // flush |= kvm_tdp_mmu_zap_sp(kvm, sp)
            }
            done++;
            zappedNx++;
        }
        flush();   // kvm_mmu_remote_flush_or_zap(kvm, &invalid_list, flush)
        return done;
    }

    /** Pages zapped by NX recovery so far. */
    public long zappedNxPages() {
        return zappedNx;
    }

    // ------------------------------------------------------------------------------------------------ tdp_iter

    /** struct tdp_iter: a pre-order walk of one root over [start, end) (tdp_iter.c). */
    final class TdpIter {
        final int rootLevel;
        final int[] pt = new int[6];
        long nextLastLevelGfn;
        long yieldedGfn;
        long gfn;
        int level;
        boolean valid;

        TdpIter(int rootLevel, int rootId, long start) {
            this.rootLevel = rootLevel;
            pt[rootLevel] = rootId;
            nextLastLevelGfn = start;   // tdp_iter_start
            yieldedGfn = start;
            level = rootLevel;
            gfn = round(start, level);
            valid = true;
        }

        private long current() {
            return pages.get(pt[level]).spte[index(gfn, level)];
        }

        void next() {
            if (stepDown()) {
                return;
            }
            do {
                if (stepSide()) {
                    return;
                }
            } while (stepUp());
            valid = false;
        }

        private boolean stepDown() {
            if (level == 1) {
                return false;
            }
            long s = current();
            if (!Spte.isShadowPresent(s) || Spte.isLast(s, level)) {
                return false;
            }
            int c = pages.get(pt[level]).child[index(gfn, level)];
            if (pages.get(c) == null) {
                return false;
            }
            level--;
            pt[level] = c;
            gfn = round(nextLastLevelGfn, level);
            return true;
        }

        private boolean stepSide() {
            if (index(gfn, level) == ENTRIES - 1) {
                return false;
            }
            gfn += pagesPerLevel(level);
            nextLastLevelGfn = gfn;
            return true;
        }

        private boolean stepUp() {
            if (level == rootLevel) {
                return false;
            }
            level++;
            gfn = round(gfn, level);
            return true;
        }
    }

    // ------------------------------------------------------------------------------------------------ state

    /** Order-sensitive digest of the whole TDP state. */
    public void digestInto(Digest d) {
        d.add(nextId).add(root).add(rootLevel).add(validGen).add(flushPending).add(staleGfn).add(staleLevel)
                .add(hostLevel).add(zappedNx).add(possibleNx.size());
        memory.digestInto(d);
        for (int id : possibleNx) {
            d.add(id);
        }
        d.add(pages.size());
        for (Page p : pages.values()) {
            d.add(p.id).add(p.level).add(p.gfn).add(p.root).add(p.invalid).add(p.nxDisallowed).add(p.parent)
                    .add(p.parentIndex);
            for (int i = 0; i < ENTRIES; i++) {
                if (p.spte[i] != NONPRESENT) {
                    d.add(i).add(p.spte[i]).add(p.child[i]);
                }
            }
        }
    }

    /**
     * Snapshot (format v2, section "tdp", written only when the host has tdp=true): nextId, root, rootLevel,
     * validGen, flushPending, staleGfn (zig-zag), staleLevel, hostLevel, zappedNx, the possible-NX list (count, ids
     * oldest first), then the pages by ascending id: id, level, gfn, flag byte (root, invalid, nxDisallowed),
     * parent, parentIndex (zig-zag), the SPTEs that are not non-present (count, then index delta, value, child id).
     * Then the VM's private-memory facts ({@link PrivateMemory#writeTo}).
     * Not written: masks / ept / nxHugePages (derived from the config).
     */
    public void writeTo(SnapshotOutput out) {
        out.uvarint(nextId);
        out.uvarint(root);
        out.uvarint(rootLevel);
        out.uvarint(validGen);
        out.bool(flushPending);
        out.svarint(staleGfn);
        out.uvarint(staleLevel);
        out.uvarint(hostLevel);
        out.uvarint(zappedNx);
        out.uvarint(possibleNx.size());
        for (int id : possibleNx) {
            out.uvarint(id);
        }
        out.uvarint(pages.size());
        for (Page p : pages.values()) {
            out.uvarint(p.id);
            out.uvarint(p.level);
            out.uvarint(p.gfn);
            out.uvarint((p.root ? 1 : 0) | (p.invalid ? 2 : 0) | (p.nxDisallowed ? 4 : 0));
            out.uvarint(p.parent);
            out.svarint(p.parentIndex);
            int n = 0;
            for (long s : p.spte) {
                if (s != NONPRESENT) {
                    n++;
                }
            }
            out.uvarint(n);
            int last = 0;
            for (int i = 0; i < ENTRIES; i++) {
                if (p.spte[i] != NONPRESENT) {
                    out.uvarint(i - last);
                    last = i;
                    out.word(p.spte[i]);
                    out.uvarint(p.child[i]);
                }
            }
        }
        memory.writeTo(out);
    }

    /** Reads the state written by {@link #writeTo}. */
    public static TdpMmu readFrom(Spte.Masks masks, boolean ept, boolean nxHugePages, SnapshotInput in)
            throws IOException {
        TdpMmu t = new TdpMmu(masks, ept, nxHugePages);
        t.nextId = in.uint(Integer.MAX_VALUE, "tdp next id");
        t.root = in.uint(Integer.MAX_VALUE, "tdp root");
        t.rootLevel = in.uint(5, "tdp root level");
        t.validGen = in.uint(1, "tdp valid gen");
        t.flushPending = in.bool();
        t.staleGfn = in.svarint();
        t.staleLevel = in.uint(5, "tdp stale level");
        t.hostLevel = in.uint(5, "tdp host level");
        t.zappedNx = in.ulong("tdp zapped nx");
        int n = in.count(1, "possible nx pages");
        for (int i = 0; i < n; i++) {
            t.possibleNx.add(in.uint(Integer.MAX_VALUE, "possible nx page"));
        }
        int np = in.count(6, "tdp pages");
        for (int i = 0; i < np; i++) {
            int id = in.uint(Integer.MAX_VALUE, "tdp page id");
            int level = in.uint(5, "tdp page level");
            long gfn = in.ulong("tdp page gfn");
            int f = in.uint(7, "tdp page flags");
            int parent = in.uint(Integer.MAX_VALUE, "tdp page parent");
            int pidx = in.sint(-1, ENTRIES - 1, "tdp page parent index");
            Page p = new Page(id, level, gfn, (f & 1) != 0, parent, pidx);
            p.invalid = (f & 2) != 0;
            p.nxDisallowed = (f & 4) != 0;
            int ns = in.count(2, "tdp sptes");
            int idx = 0;
            for (int k = 0; k < ns; k++) {
                idx += in.uint(ENTRIES - 1, "tdp spte index");
                if (idx >= ENTRIES) {
                    throw in.corrupt("tdp spte index " + idx);
                }
                p.spte[idx] = in.word();
                p.child[idx] = in.uint(Integer.MAX_VALUE, "tdp child");
            }
            t.pages.put(id, p);
        }
        t.memory = PrivateMemory.readFrom(in);
        return t;
    }
}
