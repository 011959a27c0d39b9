package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.Arrays;

/**
 * The VM-wide shadow MMU of arch/x86/kvm/mmu/mmu.c with tdp_mmu=N: shadow pages hashed by gfn + role, the active
 * page list, the MMU valid generation, write tracking and lpage disallow counts, and the operations the fault,
 * root and zap paths perform. Every kernel tracepoint an operation would emit is reported, in kernel order, to the
 * {@link MmuTrace} passed to it.
 *
 * <p>The model stands in for host addresses with its own page ids: a non-leaf SPTE's address field holds the child
 * page's id ({@code id << 12}); leaf SPTEs hold the host pfn the recording revealed.
 */
public final class ShadowMmu implements Spte.UnsyncDecision {

    /** Return value of {@link #getChildSp} for kvm_mmu_get_child_sp()'s ERR_PTR(-EEXIST). */
    public static final int EEXIST = -2;
    public static final int PTE_PREFETCH_NUM = 8;

    private final Spte.Masks masks;
    private final boolean nxHugePages;
    private final int guestMaxPhyAddr;
    private final boolean guestGbPages;
    private final boolean guestAmd;

    private int mmuValidGen;
    private ShadowPage[] pages = new ShadowPage[64];
    private int nextId = 1;
    private final LongIntMap hashHead = new LongIntMap(-1);
    private int activeHead = -1;
    private int activeTail = -1;
    private int usedPages;
    private long zappedPages;
    private final LongIntMap writeTrack = new LongIntMap(0);
    private final LongIntMap lpageDisallow = new LongIntMap(0);
    // gfn region → shadow pages with leaf SPTEs there (a coarse reverse map for write-protecting a gfn)
    private final LongIntMap regionIndex = new LongIntMap(-1);
    private int[][] regionSps = new int[16][];
    private int[] regionSpCount = new int[16];
    private int regionCount;
    private final GuestMemory guestMemory = new GuestMemory();
    private VcpuMmu[] vcpus = new VcpuMmu[1];
    // per-operation scratch, not model state (see writeState): make_spte's write-protect output
    private final boolean[] wrprotOut = new boolean[1];
    /** The trace of the operation in progress (make_spte's unsync decision reports into it; set by using()). */
    private MmuTrace current = MmuTrace.NONE;
    // scratch for unsync walks (reset by collectUnsync)
    private int[] walkSp = new int[64];
    private int[] walkDepth = new int[64];
    private int walkCount;

    public ShadowMmu(Spte.Masks masks, boolean nxHugePages, int guestMaxPhyAddr, boolean guestGbPages,
                     boolean guestAmd) {
        this.masks = masks;
        this.nxHugePages = nxHugePages;
        this.guestMaxPhyAddr = guestMaxPhyAddr;
        this.guestGbPages = guestGbPages;
        this.guestAmd = guestAmd;
    }

    public Spte.Masks masks() {
        return masks;
    }

    public GuestMemory guestMemory() {
        return guestMemory;
    }

    public int mmuValidGen() {
        return mmuValidGen;
    }

    public int usedPages() {
        return usedPages;
    }

    public long zappedPages() {
        return zappedPages;
    }

    public ShadowPage page(int id) {
        return id > 0 && id < nextId ? pages[id] : null;
    }

    /** The vCPU's MMU state, created on first use with the given defaults. */
    public VcpuMmu vcpu(int id) {
        if (id >= vcpus.length) {
            vcpus = Arrays.copyOf(vcpus, Math.max(id + 1, vcpus.length * 2));
        }
        VcpuMmu v = vcpus[id];
        if (v == null) {
            v = new VcpuMmu(id);
            vcpus[id] = v;
            refresh(v);
        }
        return v;
    }

    public int vcpuCount() {
        int n = 0;
        for (VcpuMmu v : vcpus) {
            if (v != null) {
                n++;
            }
        }
        return n;
    }

    /** kvm_init_mmu(): rebuild the vCPU's context after a control-bit change. */
    public void refresh(VcpuMmu v) {
        v.refreshContext(guestMaxPhyAddr, guestGbPages, guestAmd);
    }

    // ================================================================================================ lookup

    /** is_obsolete_sp(): invalid, or created in another MMU generation (shadow MMU). */
    public boolean isObsolete(ShadowPage sp) {
        return sp.invalid() || sp.mmuValidGen != mmuValidGen;
    }

    /** Valid pages for a gfn in hash order (newest first): for_each_valid_sp filtered by gfn. */
    public int[] validPagesFor(long gfn) {
        int n = 0;
        for (int id = hashHead.get(gfn); id > 0; id = pages[id].hashNext) {
            if (!isObsolete(pages[id])) {
                n++;
            }
        }
        int[] out = new int[n];
        n = 0;
        for (int id = hashHead.get(gfn); id > 0; id = pages[id].hashNext) {
            if (!isObsolete(pages[id])) {
                out[n++] = id;
            }
        }
        return out;
    }

    /** Pages (valid or not) for a gfn in hash order. */
    public int[] allPagesFor(long gfn) {
        int n = 0;
        for (int id = hashHead.get(gfn); id > 0; id = pages[id].hashNext) {
            n++;
        }
        int[] out = new int[n];
        n = 0;
        for (int id = hashHead.get(gfn); id > 0; id = pages[id].hashNext) {
            out[n++] = id;
        }
        return out;
    }

    /** The active list, newest first. */
    public int[] activePages() {
        int n = 0;
        for (int id = activeHead; id > 0; id = pages[id].activeNext) {
            n++;
        }
        int[] out = new int[n];
        n = 0;
        for (int id = activeHead; id > 0; id = pages[id].activeNext) {
            out[n++] = id;
        }
        return out;
    }

    public int activeHead() {
        return activeHead;
    }

    // ================================================================================================ get_page

    /**
     * __kvm_mmu_get_shadow_page() → kvm_mmu_find_shadow_page() / kvm_mmu_alloc_shadow_page(): returns the page id.
     * A same-gfn unsync page is zapped when an upper-level page is wanted; a found unsync page is synced in place
     * (kvm_sync_page, no trace).
     */
    public int getShadowPage(VcpuMmu v, long gfn, int role, MmuTrace t) {
        int found = -1;
        for (int id = hashHead.get(gfn); id > 0; ) {
            ShadowPage sp = pages[id];
            int next = sp.hashNext;
            if (!isObsolete(sp)) {
                if (sp.role != role) {
                    if (MmuPageRole.level(role) > 1 && sp.unsync) {
                        prepareZap(sp, t);
                    }
                } else {
                    found = id;
                    if (!sp.direct() && sp.unsync && v != null) {
                        if (syncPage(v, sp, t) < 0) {
                            prepareZap(sp, t);
                            found = -1;
                        }
                    }
                    if (found > 0) {
                        sp.writeFloodingCount = 0;
                    }
                    break;
                }
            }
            id = next;
        }
        commitZap();
        boolean created = false;
        if (found < 0) {
            found = allocShadowPage(gfn, role);
            created = true;
        }
        t.getPage(pages[found], created);
        return found;
    }

    /** kvm_mmu_alloc_shadow_page(): new page at the head of the active list and of its hash chain. */
    private int allocShadowPage(long gfn, int role) {
        int id = nextId++;
        if (id >= pages.length) {
            pages = Arrays.copyOf(pages, pages.length * 2);
        }
        ShadowPage sp = new ShadowPage(id, gfn, role, mmuValidGen);
        pages[id] = sp;
        sp.activeNext = activeHead;
        if (activeHead > 0) {
            pages[activeHead].activePrev = id;
        } else {
            activeTail = id;
        }
        activeHead = id;
        sp.onActiveList = true;
        usedPages++;
        sp.hashNext = hashHead.get(gfn);
        hashHead.put(gfn, id);
        if (sp.hasGptes()) {
            accountShadowed(sp);
        }
        return id;
    }

    /** account_shadowed(): upper levels are write-tracked, 4K ones disallow hugepages; existing SPTEs lose W. */
    private void accountShadowed(ShadowPage sp) {
        if (sp.level() > 1) {
            writeTrack.add(sp.gfn, 1);
        }
        disallowLpage(sp.gfn, 1);
        writeProtectGfn(sp.gfn);
    }

    /** unaccount_shadowed(). */
    private void unaccountShadowed(ShadowPage sp) {
        if (sp.level() > 1) {
            writeTrack.add(sp.gfn, -1);
        }
        disallowLpage(sp.gfn, -1);
    }

    /** kvm_mmu_gfn_disallow_lpage() / allow: one count per huge level (2M, 1G). */
    private void disallowLpage(long gfn, int delta) {
        for (int level = 2; level <= 3; level++) {
            lpageDisallow.add(((long) level << 56) | (gfn >>> (9 * (level - 1))), delta);
        }
    }

    /** kvm_gfn_is_write_tracked(). */
    public boolean isWriteTracked(long gfn) {
        return writeTrack.get(gfn) > 0;
    }

    /** The largest level ≤ maxLevel whose lpage_info does not disallow a huge mapping of gfn (1 if none). */
    public int maxMappingLevel(long gfn, int maxLevel) {
        for (int level = Math.min(maxLevel, 3); level > 1; level--) {
            if (lpageDisallow.get(((long) level << 56) | (gfn >>> (9 * (level - 1)))) == 0) {
                return level;
            }
        }
        return 1;
    }

    // ================================================================================================ links

    /** kvm_mmu_get_child_sp(): EEXIST when the SPTE already links a page table, else get_page with the child role. */
    public int getChildSp(VcpuMmu v, ShadowPage parent, int index, long gfn, boolean direct, int access,
                          MmuTrace t) {
        long spte = parent.spte(index);
        if (Spte.isShadowPresent(spte) && !Spte.isLarge(spte)) {
            return EEXIST;
        }
        int role = MmuPageRole.childRole(parent.role, index, direct, access);
        return getShadowPage(v, gfn, role, t);
    }

    /** __link_shadow_page(): drop a large SPTE in the way, install the non-leaf SPTE, mark unsync upwards. */
    public void linkShadowPage(ShadowPage parent, int index, ShadowPage child) {
        long old = parent.spte(index);
        if (Spte.isShadowPresent(old)) {
            dropSpte(parent, index);
        }
        parent.setSpte(index, (parent.role & MmuPageRole.PAE_ROOT) != 0
                ? Spte.makePaeRootPdpte((long) child.id << 12)   // pae-root-default-pdpte: a PDPTE, not make_nonleaf_spte
                : Spte.makeNonLeafSpte(masks, (long) child.id << 12, MmuPageRole.adDisabled(child.role)), pageArrays);
        child.addParent(location(parent, index));
        if (child.unsync) {
            markUnsync(parent, index);
        }
    }

    private static int location(ShadowPage sp, int index) {
        return (sp.id << 9) | index;
    }

    private ShadowPage locSp(int loc) {
        return pages[loc >>> 9];
    }

    /** mark_unsync(): set the parent's unsync-child bit and propagate up on the first one. */
    private void markUnsync(ShadowPage sp, int index) {
        if (!sp.setUnsyncChild(index)) {
            return;
        }
        if (sp.unsyncChildren > 1) {
            return;
        }
        markParentsUnsync(sp);
    }

    /** kvm_mmu_mark_parents_unsync(). */
    private void markParentsUnsync(ShadowPage sp) {
        for (int i = 0; i < sp.parentCount; i++) {
            int loc = sp.parents[i];
            markUnsync(locSp(loc), loc & 511);
        }
    }

    /**
     * get_mmio_spte()'s lockless shadow walk: from the root (PAE root entry by addr bits 31:30) down while the SPTE
     * is MMU-present and not a leaf; returns the last SPTE read (0 when there is no root).
     */
    public long mmioWalkSpte(VcpuMmu v, long addr) {
        ShadowPage sp = v.paeRootActive ? (v.paeRoot[(int) ((addr >>> 30) & 3)] > 0
                ? pages[v.paeRoot[(int) ((addr >>> 30) & 3)]] : null) : (v.rootSp > 0 ? pages[v.rootSp] : null);
        while (sp != null) {
            int level = sp.level();
            long spte = sp.spte((int) ((addr >>> (12 + 9 * (level - 1))) & 511));
            if (!Spte.isShadowPresent(spte) || Spte.isLast(spte, level)) {
                return spte;
            }
            sp = childOf(spte);
        }
        return 0;
    }

    /** mark_mmio_spte(): mmu_spte_set of a (not MMU-present) MMIO SPTE in place of a non-present one. */
    public void setMmioSpte(ShadowPage sp, int index, long spte) {
        if (!Spte.isShadowPresent(sp.spte(index))) {
            sp.setSpte(index, spte, pageArrays);
        }
    }

    /** The child page a non-leaf SPTE points at. */
    public ShadowPage childOf(long spte) {
        return pages[(int) Spte.pfn(spte)];
    }

    /** drop_spte() / drop_parent_pte(): clear one SPTE and undo its links. */
    public void dropSpte(ShadowPage sp, int index) {
        long spte = sp.spte(index);
        if (Spte.isShadowPresent(spte) && !Spte.isLast(spte, sp.level())) {
            ShadowPage child = childOf(spte);
            if (child != null) {
                child.removeParent(location(sp, index));
            }
            sp.clearUnsyncChild(index);
        }
        sp.setSpte(index, 0, pageArrays);
    }

    /** validate_direct_spte(): a direct child whose access changed (guest PDE became dirty) is unlinked. */
    public void validateDirectSpte(ShadowPage sp, int index, int directAccess) {
        long spte = sp.spte(index);
        if (Spte.isShadowPresent(spte) && !Spte.isLarge(spte)) {
            ShadowPage child = childOf(spte);
            if (MmuPageRole.access(child.role) == directAccess) {
                return;
            }
            dropSpte(sp, index);
        }
    }

    // ================================================================================================ unsync/sync

    private Spte.UnsyncDecision using(MmuTrace t) {
        current = t;
        return this;
    }

    /** make_spte()'s call of mmu_try_to_unsync_pages(), reporting into the operation's trace. */
    @Override
    public boolean tryToUnsyncPages(long gfn, boolean synchronizing, boolean prefetch) {
        return tryToUnsyncPages(gfn, synchronizing, prefetch, current);
    }

    /** mmu_try_to_unsync_pages() without side effects, for a prefetch candidate (returns before unsyncing). */
    public Spte.UnsyncDecision prefetchDecision() {
        return using(MmuTrace.NONE);
    }

    /**
     * mmu_try_to_unsync_pages(): {@code true} (write-protect) if the gfn is write-tracked, or a valid shadow page of
     * it cannot be unsync'd now (synchronizing, or a prefetch); otherwise unsync every such page.
     */
    public boolean tryToUnsyncPages(long gfn, boolean synchronizing, boolean prefetch, MmuTrace t) {
        if (isWriteTracked(gfn)) {
            return true;
        }
        for (int id = hashHead.get(gfn); id > 0; id = pages[id].hashNext) {
            ShadowPage sp = pages[id];
            if (isObsolete(sp) || !sp.hasGptes()) {
                continue;
            }
            if (synchronizing) {
                return true;
            }
            if (sp.unsync) {
                continue;
            }
            if (prefetch) {
                return true;
            }
            unsyncPage(sp, t);
        }
        return false;
    }

    /** kvm_unsync_page(): trace, mark unsync, propagate to parents. The guest may now rewrite the page freely. */
    private void unsyncPage(ShadowPage sp, MmuTrace t) {
        t.unsyncPage(sp);
        sp.unsync = true;
        markParentsUnsync(sp);
        guestMemory.forgetPage(sp.gfn);
    }

    /** kvm_unlink_unsync_page(): the sync_page trace, then clear unsync. */
    private void unlinkUnsyncPage(ShadowPage sp, MmuTrace t) {
        t.syncPage(sp);
        sp.unsync = false;
    }

    /**
     * kvm_sync_page() → FNAME(sync_spte) for each present SPTE: re-derive it from the guest PTE when the model
     * knows the guest PTE (dropping it if the gfn changed or the gPTE became invalid); otherwise keep it.
     *
     * @return -1 on failure (never here), else 0/1 flush
     */
    private int syncPage(VcpuMmu v, ShadowPage sp, MmuTrace t) {
        if (sp.spt == null || v.mode == null) {
            return 0;
        }
        int flush = 0;
        int size = v.mode.pteSize();
        long firstGpa = (sp.gfn << 12) + (v.mode.fourByte() ? ((long) MmuPageRole.quadrant(sp.role) << 9) * size : 0);
        for (int i = 0; i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
            long spte = sp.spt[i];
            if (!Spte.isShadowPresent(spte)) {
                continue;
            }
            long gpa = firstGpa + (long) i * size;
            if (!guestMemory.isKnown(gpa)) {
                continue;
            }
            long gpte = guestMemory.get(gpa);
            if (prefetchInvalidGpte(v, gpte)) {
                dropSpte(sp, i);
                flush = 1;
                continue;
            }
            long gfn = v.mode.tableGfn(gpte);
            int access = MmuPageRole.access(sp.role) & GuestPagingMode.gpteAccess(gpte, v.mode.fourByte());
            access = GuestWalker.protectCleanGpte(access, gpte);
            if (gfn != sp.gfnAt(i)) {
                dropSpte(sp, i);
                flush = 1;
                continue;
            }
            if (sp.accessAt(i) == access) {
                continue;
            }
            sp.setTranslation(i, gfn, access, pageArrays);
            boolean hostWritable = (spte & masks.hostWritable()) != 0;
            long nspte = Spte.makeSpte(masks, sp.level(), access, Spte.pfn(spte), spte, true, true, hostWritable,
                    MmuPageRole.adDisabled(sp.role), nxHugePages, using(t), gfn, wrprotOut);
            sp.setSpte(i, nspte, pageArrays);
            flush = 1;
        }
        return flush;
    }

    /** FNAME(prefetch_invalid_gpte): not present, not accessed (A/D paging), or reserved bits. */
    public boolean prefetchInvalidGpte(VcpuMmu v, long gpte) {
        if (!v.mode.isPresent(gpte)) {
            return true;
        }
        if ((gpte & Spte.PT_ACCESSED_MASK) == 0) {
            return true;
        }
        return v.mode.isRsvdBitsSet(gpte, 1);
    }

    /**
     * mmu_sync_children(): sync every unsync leaf below {@code parent} in unsync-walk order (write-protecting their
     * gfns first), clearing the unsync-child bits on the way back up.
     */
    public void syncChildren(VcpuMmu v, ShadowPage parent, MmuTrace t) {
        for (int guard = 0; guard < 64 && collectUnsync(parent) > 0; guard++) {
            for (int i = 0; i < walkCount; i++) {
                ShadowPage sp = pages[walkSp[i]];
                if (sp.level() == 1 && sp.unsync) {
                    writeProtectGfn(sp.gfn);
                }
            }
            for (int i = 0; i < walkCount; i++) {
                ShadowPage sp = pages[walkSp[i]];
                if (sp.level() == 1 && sp.unsync) {
                    unlinkUnsyncPage(sp, t);
                    if (syncPage(v, sp, t) < 0) {
                        prepareZap(sp, t);
                    }
                    clearParents(sp);
                }
            }
            commitZap();
        }
    }

    /**
     * mmu_unsync_walk(): depth-first by SPTE index, collecting unsync leaves (and clearing stale bits); returns the
     * number of unsync leaves found, in {@code walkSp[0..walkCount)}.
     */
    private int collectUnsync(ShadowPage root) {
        walkCount = 0;
        if (root.unsyncChildren == 0) {
            return 0;
        }
        return walkUnsync(root, 0);
    }

    private int walkUnsync(ShadowPage sp, int depth) {
        int leaves = 0;
        if (sp.unsyncChildBitmap == null) {
            return 0;
        }
        for (int i = 0; i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
            if (!sp.testUnsyncChild(i)) {
                continue;
            }
            long ent = sp.spte(i);
            if (!Spte.isShadowPresent(ent) || Spte.isLarge(ent)) {
                sp.clearUnsyncChild(i);
                continue;
            }
            ShadowPage child = childOf(ent);
            if (child.unsyncChildren > 0) {
                addWalk(child.id, depth + 1);
                int r = walkUnsync(child, depth + 1);
                if (r == 0) {
                    sp.clearUnsyncChild(i);
                } else {
                    leaves += r;
                }
            } else if (child.unsync) {
                leaves++;
                addWalk(child.id, depth + 1);
            } else {
                sp.clearUnsyncChild(i);
            }
        }
        return leaves;
    }

    private void addWalk(int id, int depth) {
        if (walkCount == walkSp.length) {
            walkSp = Arrays.copyOf(walkSp, walkCount * 2);
            walkDepth = Arrays.copyOf(walkDepth, walkCount * 2);
        }
        walkSp[walkCount] = id;
        walkDepth[walkCount++] = depth;
    }

    /** mmu_pages_clear_parents(): clear the leaf's bit in each parent, going up while a parent becomes clean. */
    private void clearParents(ShadowPage leaf) {
        ShadowPage sp = leaf;
        while (sp.parentCount > 0) {
            int loc = sp.parents[0];
            ShadowPage parent = locSp(loc);
            parent.clearUnsyncChild(loc & 511);
            if (parent.unsyncChildren > 0) {
                return;
            }
            sp = parent;
        }
    }

    // ================================================================================================ zap

    /**
     * __kvm_mmu_prepare_zap_page(): trace; zap unsync children; unlink children and parents; unaccount; sync-unlink
     * if unsync; pages with no root reference leave the active list to be freed, active roots just leave the list;
     * the page becomes invalid.
     */
    public void prepareZap(ShadowPage sp, MmuTrace t) {
        t.prepareZapPage(sp);
        zappedPages++;
        if (sp.level() > 1) {
            for (int guard = 0; guard < 64 && collectUnsync(sp) > 0; guard++) {
                for (int i = 0; i < walkCount; i++) {
                    ShadowPage c = pages[walkSp[i]];
                    if (c.level() == 1 && c.unsync && !c.invalid()) {
                        prepareZap(c, t);
                        clearParents(c);
                    }
                }
                // a zapped leaf is unlinked from its parents, so the next walk terminates
            }
        }
        unlinkChildren(sp);
        unlinkParents(sp);
        if (!sp.invalid() && sp.hasGptes()) {
            unaccountShadowed(sp);
        }
        if (sp.unsync) {
            unlinkUnsyncPage(sp, t);
        }
        if (sp.rootCount == 0) {
            if (sp.onActiveList) {
                removeFromActive(sp);
            }
            usedPages--;   // kvm_unaccount_mmu_page(): only once no root reference is left
            sp.role |= MmuPageRole.INVALID;
            pendingFree(sp);
        } else {
            if (sp.onActiveList) {
                removeFromActive(sp);
            }
            sp.role |= MmuPageRole.INVALID;
        }
    }

    /** kvm_mmu_page_unlink_children(): clear every SPTE (leaves dropped, children unlinked). */
    private void unlinkChildren(ShadowPage sp) {
        if (sp.spt == null) {
            return;
        }
        for (int i = 0; i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
            if (sp.spt[i] != 0) {
                dropSpte(sp, i);
            }
        }
    }

    /** kvm_mmu_unlink_parents(): clear the parent SPTEs pointing at this page. */
    private void unlinkParents(ShadowPage sp) {
        while (sp.parentCount > 0) {
            int loc = sp.parents[sp.parentCount - 1];
            ShadowPage parent = locSp(loc);
            dropSpte(parent, loc & 511);
        }
    }

    private void removeFromActive(ShadowPage sp) {
        if (sp.activePrev > 0) {
            pages[sp.activePrev].activeNext = sp.activeNext;
        } else {
            activeHead = sp.activeNext;
        }
        if (sp.activeNext > 0) {
            pages[sp.activeNext].activePrev = sp.activePrev;
        } else {
            activeTail = sp.activePrev;
        }
        sp.activePrev = -1;
        sp.activeNext = -1;
        sp.onActiveList = false;
    }

    private int[] freeQueue = new int[16];
    private int freeCount;
    /** Freed pages' arrays for the next pages (not state: see {@link PageArrays}). */
    private final PageArrays pageArrays = new PageArrays();

    private void pendingFree(ShadowPage sp) {
        if (freeCount == freeQueue.length) {
            freeQueue = Arrays.copyOf(freeQueue, freeCount * 2);
        }
        freeQueue[freeCount++] = sp.id;
    }

    /** kvm_mmu_commit_zap_page(): free the zapped pages (out of the hash, their memory released). */
    public void commitZap() {
        for (int i = 0; i < freeCount; i++) {
            ShadowPage sp = pages[freeQueue[i]];
            if (sp == null || sp.freed || sp.rootCount > 0) {
                continue;
            }
            unhash(sp);
            unregisterRegions(sp);
            sp.freed = true;
            pageArrays.give(sp.spt);
            pageArrays.give(sp.translations);
            sp.spt = null;
            sp.translations = null;
            pages[sp.id] = null;
        }
        freeCount = 0;
    }

    private void unhash(ShadowPage sp) {
        int prev = -1;
        for (int id = hashHead.get(sp.gfn); id > 0; id = pages[id].hashNext) {
            if (id == sp.id) {
                if (prev < 0) {
                    if (sp.hashNext > 0) {
                        hashHead.put(sp.gfn, sp.hashNext);
                    } else {
                        hashHead.remove(sp.gfn);
                    }
                } else {
                    pages[prev].hashNext = sp.hashNext;
                }
                return;
            }
            prev = id;
        }
    }

    /**
     * kvm_mmu_zap_all_fast(): trace (old generation, used pages), toggle the generation, request every vCPU to
     * free its obsolete roots, then zap obsolete pages oldest first.
     */
    public void zapAllFast(MmuTrace t) {
        t.zapAllFast(mmuValidGen, usedPages);
        mmuValidGen ^= 1;
        for (VcpuMmu v : vcpus) {
            if (v != null) {
                v.reqFreeObsoleteRoots = true;
            }
        }
        zapObsoletePages(t);
    }

    /** kvm_zap_obsolete_pages(): reverse active-list walk until the first non-obsolete page. */
    public void zapObsoletePages(MmuTrace t) {
        while (true) {
            int id = activeTail;
            boolean progressed = false;
            while (id > 0) {
                ShadowPage sp = pages[id];
                if (!isObsolete(sp)) {
                    break;
                }
                if (sp.invalid()) {
                    id = sp.activePrev;
                    continue;
                }
                prepareZap(sp, t);
                progressed = true;
                break;
            }
            if (!progressed) {
                break;
            }
        }
        commitZap();
    }

    /** kvm_mmu_zap_all(): every active page, newest first (VM teardown, kvm_arch_flush_shadow_all). */
    public void zapAll(MmuTrace t) {
        while (activeHead > 0) {
            ShadowPage sp = pages[activeHead];
            if (sp.invalid()) {
                removeFromActive(sp);
                continue;
            }
            prepareZap(sp, t);
        }
        commitZap();
    }

    // ================================================================================================ roots

    /** mmu_alloc_root(): get_page with the root role at the given level/quadrant and take a root reference. */
    public int allocRoot(VcpuMmu v, long gfn, int quadrant, int level, MmuTrace t) {
        int role = MmuPageRole.withQuadrant(MmuPageRole.withLevel(v.rootRole, level), quadrant);
        int id = getShadowPage(v, gfn, role, t);
        pages[id].rootCount++;
        return id;
    }

    /**
     * Profile pae-root-default-pdpte (seed 002, the 2021/22 RFC making PAE roots ordinary shadow pages): the PAE root
     * is allocated through the normal page path — kvm_mmu_get_page of a level-3 page with role.pae_root (gfn 0 and
     * direct for a non-paging guest; the guest's PDPT page, CR3's gfn, for a PAE guest, write-tracked like any
     * shadowed guest table) — and takes the root reference. Its four entries start as the default PDPTE: present to
     * the CPU (P, pointing at a zero page) but not MMU-present, so {@code is_shadow_present_pte} is false and the
     * fault path allocates the level-2 pages on demand as ordinary children (root count 0). The model keeps those
     * entries 0: every model decision treats both alike and neither value is traced.
     */
    public int allocPaeRootPage(VcpuMmu v, long gfn, MmuTrace t) {
        int role = MmuPageRole.withQuadrant(MmuPageRole.withLevel(v.rootRole, 3), 0) | MmuPageRole.PAE_ROOT;
        int id = getShadowPage(v, gfn, role, t);
        pages[id].rootCount++;
        return id;
    }

    /**
     * kvm_mmu_load() → mmu_alloc_direct_roots / mmu_alloc_shadow_roots, then kvm_mmu_sync_roots(). For PAE guests
     * the PDPTEs are not in the trace: {@code pdptrGfns} gives them (-1 = not present) or null when unknown, in
     * which case nothing is allocated and the caller learns the roots from the recording.
     *
     * @return false if the roots could not be predicted
     */
    public boolean loadRoots(VcpuMmu v, long[] pdptrGfns, MmuTrace t) {
        return loadRoots(v, pdptrGfns, false, t);
    }

    /**
     * {@link #loadRoots(VcpuMmu, long[], MmuTrace)}; with {@code paeRootPage} (profile pae-root-default-pdpte, the
     * 2021/22 RFC) a level-3 root of a non-paging or PAE guest is one ordinary shadow page ({@link #allocPaeRootPage})
     * instead of upstream's special pae_root array of four level-2 roots.
     */
    public boolean loadRoots(VcpuMmu v, long[] pdptrGfns, boolean paeRootPage, MmuTrace t) {
        int rootLevel = MmuPageRole.level(v.rootRole);
        if (paeRootPage && rootLevel == 3 && (MmuPageRole.direct(v.rootRole) || v.cpuLevel() == 3)) {
            boolean direct = MmuPageRole.direct(v.rootRole);
            if (!direct && (!v.rootNxLearned || v.cr3Gfn < 0)) {
                return false;
            }
            // pae-root-default-pdpte: mmu_alloc_direct_roots / mmu_alloc_shadow_roots allocate one pae_root page
            v.rootSp = allocPaeRootPage(v, direct ? 0 : v.cr3Gfn, t);
            v.rootPgd = direct ? -1 : v.cr3Gfn;
            v.paeRootActive = false;
            syncRoots(v, t);
            return true;
        }
        if (MmuPageRole.direct(v.rootRole)) {
            if (rootLevel >= 4) {
                v.rootSp = allocRoot(v, 0, 0, rootLevel, t);
                v.paeRootActive = false;
            } else {
                for (int i = 0; i < 4; i++) {
                    v.paeRoot[i] = allocRoot(v, (long) i << (30 - 12), 0, 2, t);
                }
                v.paeRootActive = true;
                v.rootSp = -1;
            }
        } else {
            int cpuLevel = v.cpuLevel();
            if (!v.rootNxLearned) {
                return false;   // root role efer_nx: forced by kvm_init_shadow_mmu, or EFER.NX on hosts printing !nxe
            }
            if (cpuLevel >= 4) {
                if (v.cr3Gfn < 0) {
                    return false;
                }
                v.rootSp = allocRoot(v, v.cr3Gfn, 0, rootLevel, t);
                v.rootPgd = v.cr3Gfn;
                v.paeRootActive = false;
            } else {
                if (cpuLevel == 3 && pdptrGfns == null) {
                    return false;
                }
                if (cpuLevel == 2 && v.cr3Gfn < 0) {
                    return false;
                }
                for (int i = 0; i < 4; i++) {
                    long gfn;
                    if (cpuLevel == 3) {
                        if (pdptrGfns[i] < 0) {
                            v.paeRoot[i] = -1;
                            continue;
                        }
                        gfn = pdptrGfns[i];
                    } else {
                        gfn = v.cr3Gfn;
                    }
                    v.paeRoot[i] = allocRoot(v, gfn, cpuLevel == 2 ? i : 0, 2, t);
                }
                v.paeRootActive = true;
                v.rootSp = -1;
                v.rootPgd = v.cr3Gfn;
            }
        }
        syncRoots(v, t);
        return true;
    }

    /** kvm_mmu_sync_roots(): sync the unsync pages below the root(s) (nothing for direct roots). */
    public void syncRoots(VcpuMmu v, MmuTrace t) {
        if (MmuPageRole.direct(v.rootRole) || !v.hasRoot()) {
            return;
        }
        if (v.cpuLevel() >= 4 || v.rootSp > 0) {   // rootSp > 0 below level 4: a pae-root-default-pdpte root page
            ShadowPage root = page(v.rootSp);
            if (root == null || (root.unsyncChildren == 0 && !root.unsync)) {
                return;
            }
            syncChildren(v, root, t);
            return;
        }
        for (int i = 0; i < 4; i++) {
            ShadowPage sp = page(v.paeRoot[i]);
            if (sp != null) {
                syncChildren(v, sp, t);
            }
        }
    }

    /** mmu_free_root_page(): drop a root reference; an invalid page with none left is zapped now. */
    private void freeRootPage(int id, MmuTrace t) {
        ShadowPage sp = page(id);
        if (sp == null) {
            return;
        }
        if (--sp.rootCount == 0 && sp.invalid()) {
            prepareZap(sp, t);
        }
    }

    /** kvm_mmu_free_roots(): previous roots selected by {@code prevMask} first, then (if asked) the current one. */
    public void freeRoots(VcpuMmu v, boolean current, int prevMask, MmuTrace t) {
        for (int i = 0; i < VcpuMmu.NUM_PREV_ROOTS; i++) {
            if ((prevMask & (1 << i)) != 0 && v.prevRootSp[i] > 0) {
                freeRootPage(v.prevRootSp[i], t);
                v.prevRootSp[i] = -1;
                v.prevRootPgd[i] = -1;
            }
        }
        if (current) {
            if (v.rootSp > 0) {
                freeRootPage(v.rootSp, t);
            } else if (v.paeRootActive) {
                for (int i = 0; i < 4; i++) {
                    if (v.paeRoot[i] > 0) {
                        freeRootPage(v.paeRoot[i], t);
                        v.paeRoot[i] = -1;
                    }
                }
            }
            v.rootSp = -1;
            v.paeRootActive = false;
            v.rootPgd = -1;
        }
        commitZap();
    }

    /** kvm_mmu_unload(): free the current and all previous roots. */
    public void unload(VcpuMmu v, MmuTrace t) {
        freeRoots(v, true, 7, t);
    }

    /** kvm_mmu_free_obsolete_roots(): roots whose page is obsolete, and PAE roots (no page to judge). */
    public void freeObsoleteRoots(VcpuMmu v, MmuTrace t) {
        boolean current = false;
        if (v.rootSp > 0) {
            ShadowPage sp = page(v.rootSp);
            current = sp == null || isObsolete(sp);
        } else if (v.paeRootActive) {
            current = true;
        }
        int prev = 0;
        for (int i = 0; i < VcpuMmu.NUM_PREV_ROOTS; i++) {
            ShadowPage sp = page(v.prevRootSp[i]);
            if (v.prevRootSp[i] > 0 && (sp == null || isObsolete(sp))) {
                prev |= 1 << i;
            }
        }
        if (current || prev != 0) {
            freeRoots(v, current, prev, t);
        }
    }

    /**
     * kvm_mmu_new_pgd() → fast_pgd_switch(): keep the current root if usable, else rotate through the cached
     * previous roots; the root that falls out of the cache is freed. Returns true if a cached root was reused.
     */
    public boolean newPgd(VcpuMmu v, long newPgdGfn, MmuTrace t) {
        if (v.paeRootActive) {
            freeRoots(v, true, 0, t);
        }
        if (v.rootSp > 0) {
            if (rootUsable(v.rootSp, v.rootPgd, newPgdGfn, v.rootRole)) {
                return true;
            }
            for (int i = 0; i < VcpuMmu.NUM_PREV_ROOTS; i++) {
                int s = v.rootSp;
                long p = v.rootPgd;
                v.rootSp = v.prevRootSp[i];
                v.rootPgd = v.prevRootPgd[i];
                v.prevRootSp[i] = s;
                v.prevRootPgd[i] = p;
                if (rootUsable(v.rootSp, v.rootPgd, newPgdGfn, v.rootRole)) {
                    return true;
                }
            }
            freeRoots(v, true, 0, t);
            return false;
        }
        for (int i = 0; i < VcpuMmu.NUM_PREV_ROOTS; i++) {
            if (rootUsable(v.prevRootSp[i], v.prevRootPgd[i], newPgdGfn, v.rootRole)) {
                v.rootSp = v.prevRootSp[i];
                v.rootPgd = v.prevRootPgd[i];
                v.prevRootSp[i] = -1;
                v.prevRootPgd[i] = -1;
                return true;
            }
        }
        return false;
    }

    /** is_root_usable(): same pgd (for shadow roots) and exactly the same role. */
    private boolean rootUsable(int spId, long pgd, long newPgd, int role) {
        ShadowPage sp = page(spId);
        if (sp == null) {
            return false;
        }
        if (!MmuPageRole.direct(role) && pgd != newPgd) {
            return false;
        }
        return sp.role == role;
    }

    // ================================================================================================ SPTEs

    /**
     * mmu_set_spte() for a fault or a prefetch: replaces a differing SPTE, builds the new one with make_spte() and
     * installs it. Reports trace_kvm_mmu_set_spte only when the value changes (else RET_PF_SPURIOUS).
     *
     * @param hostWritableKnown false when host writability of the pfn is not known (then {@code hostWritable} is
     *                          the guess and the alternative is reported to the trace)
     * @return true if the SPTE changed (not spurious)
     */
    public boolean mmuSetSpte(ShadowPage sp, int index, int pteAccess, long gfn, long pfn, boolean prefetch,
                              boolean hostWritable, boolean hostWritableKnown, MmuTrace t) {
        int level = sp.level();
        long old = sp.spte(index);
        if (Spte.isShadowPresent(old)) {
            if (prefetch && Spte.isLast(old, level) && pfn == Spte.pfn(old)) {
                return false;
            }
            if (level > 1 && !Spte.isLarge(old)) {
                dropSpte(sp, index);
            } else if (pfn != Spte.pfn(old)) {
                dropSpte(sp, index);
            }
        }
        long cur = sp.spte(index);
        long alt;
        long spte = Spte.makeSpte(masks, level, pteAccess, pfn, cur, prefetch, false, hostWritable,
                MmuPageRole.adDisabled(sp.role), nxHugePages, using(t), gfn, wrprotOut);
        if (!hostWritableKnown) {
            alt = Spte.makeSpte(masks, level, pteAccess, pfn, cur, prefetch, false, !hostWritable,
                    MmuPageRole.adDisabled(sp.role), nxHugePages, Spte.UnsyncDecision.NEVER, gfn, null);
        } else {
            alt = spte;
        }
        sp.setTranslation(index, gfn, pteAccess, pageArrays);
        if (cur == spte) {
            return false;
        }
        setLeafSpte(sp, index, spte);
        t.setSpte(sp, index, gfn, spte, alt);
        return true;
    }

    /** Installs a leaf SPTE and registers the page in the gfn region index. */
    public void setLeafSpte(ShadowPage sp, int index, long spte) {
        sp.setSpte(index, spte, pageArrays);
        long gfn = sp.gfnAt(index);
        if (gfn >= 0) {
            registerRegion(sp, regionKey(gfn, sp.level()));
        }
    }

    /** Installs a prefetched SPTE the recording confirmed (the other half of mmu_set_spte for a prefetch). */
    public void installPrefetched(ShadowPage sp, int index, long gfn, int access, long spte) {
        if (Spte.isShadowPresent(sp.spte(index))) {
            dropSpte(sp, index);
        }
        sp.setTranslation(index, gfn, access, pageArrays);
        setLeafSpte(sp, index, spte);
    }

    private static long regionKey(long gfn, int level) {
        return level >= 3 ? (3L << 58) | (gfn >>> 18) : gfn >>> 9;
    }

    private void registerRegion(ShadowPage sp, long key) {
        for (int i = 0; i < sp.regionCount; i++) {
            if (sp.regions[i] == key) {
                return;
            }
        }
        if (sp.regions == null) {
            sp.regions = new long[2];
        } else if (sp.regionCount == sp.regions.length) {
            sp.regions = Arrays.copyOf(sp.regions, sp.regionCount * 2);
        }
        sp.regions[sp.regionCount++] = key;
        indexRegion(key, sp.id);
    }

    /** Adds page {@code id} to the region index list of {@code key}. */
    private void indexRegion(long key, int id) {
        int r = regionIndex.get(key);
        if (r < 0) {
            r = regionCount++;
            if (r == regionSps.length) {
                regionSps = Arrays.copyOf(regionSps, r * 2);
                regionSpCount = Arrays.copyOf(regionSpCount, r * 2);
            }
            regionSps[r] = new int[2];
            regionSpCount[r] = 0;
            regionIndex.put(key, r);
        }
        int[] list = regionSps[r];
        if (regionSpCount[r] == list.length) {
            list = Arrays.copyOf(list, list.length * 2);
            regionSps[r] = list;
        }
        list[regionSpCount[r]++] = id;
    }

    private void unregisterRegions(ShadowPage sp) {
        for (int i = 0; i < sp.regionCount; i++) {
            int r = regionIndex.get(sp.regions[i]);
            if (r < 0) {
                continue;
            }
            int[] list = regionSps[r];
            for (int j = 0; j < regionSpCount[r]; j++) {
                if (list[j] == sp.id) {
                    list[j] = list[--regionSpCount[r]];
                    break;
                }
            }
        }
        sp.regionCount = 0;
    }

    /** kvm_mmu_slot_gfn_write_protect() / rmap_write_protect(): clear W in every leaf SPTE mapping gfn. */
    public void writeProtectGfn(long gfn) {
        writeProtectIn(gfn >>> 9, gfn);
        writeProtectIn((3L << 58) | (gfn >>> 18), gfn);
    }

    private void writeProtectIn(long key, long gfn) {
        int r = regionIndex.get(key);
        if (r < 0) {
            return;
        }
        int[] list = regionSps[r];
        for (int j = 0; j < regionSpCount[r]; j++) {
            ShadowPage sp = pages[list[j]];
            if (sp == null || sp.spt == null) {
                continue;
            }
            int level = sp.level();
            long span = 1L << (9 * (level - 1));
            for (int i = 0; i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
                long spte = sp.spt[i];
                if (!Spte.isShadowPresent(spte) || !Spte.isLast(spte, level) || !Spte.isWritable(spte)) {
                    continue;
                }
                long base = sp.gfnAt(i);
                if (gfn >= base && gfn < base + span) {
                    sp.spt[i] = spte & ~Spte.PT_WRITABLE_MASK;
                }
            }
        }
    }

    // ================================================================================================ guest writes

    /**
     * kvm_mmu_track_write() for an emulated guest write of a PTE-sized value at {@code gpa}: the written guest PTE
     * is no longer known, and in every valid shadow page of that gfn the SPTE(s) shadowing it are zapped
     * (mmu_page_zap_pte, untraced). Write-flooding and misaligned-write zaps are not modelled (see README): if
     * they happen the recorded prepare_zap is learned.
     */
    public void trackWrite(VcpuMmu v, long gpa) {
        guestMemory.forget(gpa);
        long gfn = gpa >>> 12;
        for (int id = hashHead.get(gfn); id > 0; id = pages[id].hashNext) {
            ShadowPage sp = pages[id];
            if (isObsolete(sp) || !sp.hasGptes()) {
                continue;
            }
            int offset = (int) (gpa & 0xfff);
            int npte = 1;
            if (MmuPageRole.has4ByteGpte(sp.role)) {
                // get_written_sptes(): a 4-byte gPTE maps to one 8-byte SPTE (two for the 32-bit page directory)
                offset <<= 1;
                if (sp.level() == 2) {
                    offset &= ~7;
                    offset <<= 1;
                    npte = 2;
                }
                int quadrant = offset >>> 12;
                offset &= 0xfff;
                if (quadrant != MmuPageRole.quadrant(sp.role)) {
                    continue;
                }
            }
            int index = offset >>> 3;
            for (int i = 0; i < npte && index + i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
                if (sp.spte(index + i) != 0) {
                    dropSpte(sp, index + i);
                }
            }
        }
    }

    // ================================================================================================ snapshot (v2)

    /**
     * Snapshot (format v2), section "mmu": mmuValidGen, nextId, activeHead, activeTail, usedPages, zappedPages (all
     * zig-zag), then the gfn hash heads, the write-tracking counts and the lpage-disallow counts
     * ({@link LongIntMap#writeTo} each). The pages ({@link #writePages}), the vCPUs ({@link #writeVcpus}) and the
     * observed guest PTEs ({@link GuestMemory#writeTo}) are sections of their own.
     *
     * <p>Not written: the config-derived fields (masks, nxHugePages, guestMaxPhyAddr, guestGbPages, guestAmd — the
     * reader gets them from the snapshot's ModelConfig); the gfn-region index ({@code regionIndex},
     * {@code regionSps}, {@code regionSpCount}, {@code regionCount}), rebuilt from the pages' {@code regions} (a page
     * is in a region's list exactly when the region is in the page's list; list order and region numbering are
     * not observable: write-protection clears W in each listed page independently); array capacities; and the
     * per-operation scratch, always idle between two {@code MmuStateMachine.apply} calls: {@code wrprotOut},
     * {@code current} (set by using() before every make_spte that reads it), {@code walkSp}/{@code walkDepth}/
     * {@code walkCount} (reset by collectUnsync) and {@code freeQueue}/{@code freeCount} (every path that calls
     * prepareZap ends in commitZap, which empties the queue); and {@code pageArrays}, the pool of freed pages'
     * arrays, which hands out only zeroed arrays (no observable effect; a restored model starts with it empty).
     */
    public void writeState(SnapshotOutput out) {
        out.svarint(mmuValidGen);
        out.svarint(nextId);
        out.svarint(activeHead);
        out.svarint(activeTail);
        out.svarint(usedPages);
        out.svarint(zappedPages);
        hashHead.writeTo(out);
        writeTrack.writeTo(out);
        lpageDisallow.writeTo(out);
    }

    /**
     * Snapshot (format v2), section "pages": the number of live pages, then per page by ascending id: the id as a
     * delta from the previous id minus one (the first from 0), then {@link ShadowPage#writeTo}. Freed pages (their
     * slot is null) are gone for good: ids are never reused.
     */
    public void writePages(SnapshotOutput out) {
        int n = 0;
        for (int id = 1; id < nextId; id++) {
            if (pages[id] != null) {
                n++;
            }
        }
        out.uvarint(n);
        int prev = 0;
        for (int id = 1; id < nextId; id++) {
            if (pages[id] != null) {
                out.uvarint(id - prev - 1);
                pages[id].writeTo(out);
                prev = id;
            }
        }
    }

    /**
     * Snapshot (format v2), section "vcpus": the number of vCPU slots, then per slot a presence byte and, for a
     * created vCPU, {@link VcpuMmu#writeTo}.
     */
    public void writeVcpus(SnapshotOutput out) {
        out.uvarint(vcpus.length);
        for (VcpuMmu v : vcpus) {
            out.bool(v != null);
            if (v != null) {
                v.writeTo(out);
            }
        }
    }

    /**
     * Rebuilds a shadow MMU from the sections written by {@link #writeState}, {@link #writePages},
     * {@link #writeVcpus} and {@link GuestMemory#writeTo}, with the config-derived parameters of
     * {@link #ShadowMmu(Spte.Masks, boolean, int, boolean, boolean)}. The caller checks that each section was
     * consumed to its end.
     */
    public static ShadowMmu readFrom(Spte.Masks masks, boolean nxHugePages, int guestMaxPhyAddr, boolean guestGbPages,
                                     boolean guestAmd, SnapshotInput state, SnapshotInput pageIn,
                                     SnapshotInput vcpuIn, SnapshotInput memoryIn) throws IOException {
        ShadowMmu s = new ShadowMmu(masks, nxHugePages, guestMaxPhyAddr, guestGbPages, guestAmd);
        s.mmuValidGen = state.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "mmu valid gen");
        s.nextId = state.sint(1, Integer.MAX_VALUE - 16, "next page id");
        s.activeHead = state.sint(-1, s.nextId - 1, "active list head");
        s.activeTail = state.sint(-1, s.nextId - 1, "active list tail");
        s.usedPages = state.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "used pages");
        s.zappedPages = state.svarint();
        s.hashHead.readFrom(state, "gfn hash heads");
        s.writeTrack.readFrom(state, "write tracking");
        s.lpageDisallow.readFrom(state, "lpage disallow");

        long cap = 64;
        while (cap < s.nextId) {
            cap <<= 1;
        }
        s.pages = new ShadowPage[(int) Math.min(cap, Integer.MAX_VALUE - 8)];
        int n = pageIn.count(12, "shadow pages");
        int id = 0;
        for (int k = 0; k < n; k++) {
            long next = id + 1L + pageIn.uvarint();
            if (next < 1 || next >= s.nextId) {
                throw pageIn.corrupt("page id " + next + " outside [1, " + s.nextId + ")");
            }
            id = (int) next;
            s.pages[id] = ShadowPage.readFrom(pageIn, id);
        }
        for (int i = 1; i < s.nextId; i++) {
            ShadowPage sp = s.pages[i];
            if (sp != null) {
                for (int r = 0; r < sp.regionCount; r++) {
                    s.indexRegion(sp.regions[r], sp.id);
                }
            }
        }

        int slots = vcpuIn.count(1, "vcpu slots");
        if (slots < 1) {
            throw vcpuIn.corrupt("no vcpu slot");
        }
        s.vcpus = new VcpuMmu[slots];
        for (int i = 0; i < slots; i++) {
            if (vcpuIn.bool()) {
                s.vcpus[i] = VcpuMmu.readFrom(vcpuIn, i, guestMaxPhyAddr, guestGbPages, guestAmd);
            }
        }

        s.guestMemory.readFrom(memoryIn);
        return s;
    }

    // ================================================================================================ stats

    /** Live present SPTEs and approximate heap bytes of the whole MMU state (for the memory benchmark). */
    public long[] footprint() {
        long sptes = 0;
        long bytes = 64L * pages.length / 8;
        for (int id = 1; id < nextId; id++) {
            ShadowPage sp = pages[id];
            if (sp != null) {
                sptes += sp.presentCount;
                bytes += sp.heapBytes();
            }
        }
        bytes += hashHead.heapBytes() + writeTrack.heapBytes() + lpageDisallow.heapBytes() + regionIndex.heapBytes();
        for (int r = 0; r < regionCount; r++) {
            bytes += 16 + 4L * regionSps[r].length;
        }
        bytes += guestMemory.heapBytes();
        return new long[] {sptes, bytes};
    }

    /** Feeds the whole MMU state to the digest in a fixed order (page ids ascending, sorted map keys). */
    public void digestInto(Digest d) {
        d.add(mmuValidGen).add(usedPages).add(nextId).add(activeHead).add(activeTail);
        for (int id = 1; id < nextId; id++) {
            ShadowPage sp = pages[id];
            if (sp == null) {
                continue;
            }
            d.add(id).add(sp.gfn).add(sp.role).add(sp.mmuValidGen).add(sp.rootCount).add(sp.unsync)
                    .add(sp.unsyncChildren).add(sp.hashNext).add(sp.activeNext).add(sp.parentCount);
            for (int i = 0; i < sp.parentCount; i++) {
                d.add(sp.parents[i]);
            }
            if (sp.spt != null) {
                for (int i = 0; i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
                    if (sp.spt[i] != 0) {
                        d.add(i).add(sp.spt[i]).add(sp.translations == null ? 0 : sp.translations[i]);
                    }
                }
            }
        }
        for (long k : writeTrack.sortedKeys()) {
            d.add(k).add(writeTrack.get(k));
        }
        for (long k : lpageDisallow.sortedKeys()) {
            d.add(k).add(lpageDisallow.get(k));
        }
        for (VcpuMmu v : vcpus) {
            if (v != null) {
                v.digestInto(d);
            }
        }
        guestMemory.digestInto(d);
    }
}
