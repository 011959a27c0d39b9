package dev.mmureplay.model.mmu;

import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;

/**
 * {@code struct kvm_mmu_page}: one shadow page table page (role, gfn, 512 SPTEs, sync state, root count, parent
 * links). Mutable state owned by exactly one {@link ShadowMmu}; never shared.
 *
 * <p>Memory: the SPTE array ({@code long[512]}) and, for indirect pages, the shadowed translations
 * ({@code long[512]}, {@code gfn << 12 | access}, like the kernel's {@code shadowed_translation}) are allocated on
 * the first SPTE written, so an unused page costs only its header.
 */
public final class ShadowPage {

    public static final int SPTE_ENT_PER_PAGE = 512;

    final int id;
    final long gfn;
    int role;
    /** mmu_valid_gen at creation. */
    final int mmuValidGen;
    int rootCount;
    boolean unsync;
    int unsyncChildren;
    long[] unsyncChildBitmap;
    long[] spt;
    long[] translations;
    /** Parent SPTE locations ({@code spId << 9 | index}); PAE roots have none. */
    int[] parents;
    int parentCount;
    /** Intrusive links: gfn hash chain (newest first), active list (newest first). */
    int hashNext = -1;
    int activePrev = -1;
    int activeNext = -1;
    boolean onActiveList;
    boolean freed;
    int writeFloodingCount;
    /** 2 MiB regions this page has leaf SPTEs in (for the gfn → SPTE index), see ShadowMmu. */
    long[] regions;
    int regionCount;
    /** Number of present SPTEs. */
    int presentCount;

    ShadowPage(int id, long gfn, int role, int mmuValidGen) {
        this.id = id;
        this.gfn = gfn;
        this.role = role;
        this.mmuValidGen = mmuValidGen;
    }

    public int id() {
        return id;
    }

    public long gfn() {
        return gfn;
    }

    public int role() {
        return role;
    }

    public int level() {
        return MmuPageRole.level(role);
    }

    public boolean direct() {
        return MmuPageRole.direct(role);
    }

    public boolean invalid() {
        return MmuPageRole.invalid(role);
    }

    public int mmuValidGen() {
        return mmuValidGen;
    }

    public int rootCount() {
        return rootCount;
    }

    public boolean unsync() {
        return unsync;
    }

    public int unsyncChildren() {
        return unsyncChildren;
    }

    /** sp_has_gptes(): indirect and not passthrough. */
    public boolean hasGptes() {
        return !direct() && (role & MmuPageRole.PASSTHROUGH) == 0;
    }

    public long spte(int index) {
        return spt == null ? 0 : spt[index];
    }

    void setSpte(int index, long value, PageArrays arrays) {
        if (spt == null) {
            if (value == 0) {
                return;
            }
            spt = arrays.take();
        }
        boolean was = Spte.isShadowPresent(spt[index]);
        boolean is = Spte.isShadowPresent(value);
        if (was != is) {
            presentCount += is ? 1 : -1;
        }
        spt[index] = value;
    }

    /** kvm_mmu_page_get_gfn(): direct pages compute it, indirect pages remember the guest's translation. */
    public long gfnAt(int index) {
        if (direct()) {
            return gfn + ((long) index << (9 * (level() - 1)));
        }
        return translations == null ? -1 : translations[index] >>> 12;
    }

    /** kvm_mmu_page_get_access(). */
    public int accessAt(int index) {
        if (direct() || translations == null) {
            return MmuPageRole.access(role);
        }
        return (int) (translations[index] & 7);
    }

    void setTranslation(int index, long gfn, int access, PageArrays arrays) {
        if (direct()) {
            return;
        }
        if (translations == null) {
            translations = arrays.take();
        }
        translations[index] = (gfn << 12) | (access & 7);
    }

    void addParent(int location) {
        if (parents == null) {
            parents = new int[2];
        } else if (parentCount == parents.length) {
            parents = java.util.Arrays.copyOf(parents, parentCount * 2);
        }
        parents[parentCount++] = location;
    }

    void removeParent(int location) {
        for (int i = 0; i < parentCount; i++) {
            if (parents[i] == location) {
                System.arraycopy(parents, i + 1, parents, i, parentCount - i - 1);
                parentCount--;
                return;
            }
        }
    }

    boolean testUnsyncChild(int index) {
        return unsyncChildBitmap != null && (unsyncChildBitmap[index >>> 6] & (1L << index)) != 0;
    }

    /** Sets the bit; returns true if it was clear. */
    boolean setUnsyncChild(int index) {
        if (unsyncChildBitmap == null) {
            unsyncChildBitmap = new long[8];
        }
        long bit = 1L << index;
        if ((unsyncChildBitmap[index >>> 6] & bit) != 0) {
            return false;
        }
        unsyncChildBitmap[index >>> 6] |= bit;
        unsyncChildren++;
        return true;
    }

    void clearUnsyncChild(int index) {
        if (testUnsyncChild(index)) {
            unsyncChildBitmap[index >>> 6] &= ~(1L << index);
            unsyncChildren--;
        }
    }

    // ============================================================================================ snapshot (v2)

    private static final int F_UNSYNC = 1;
    private static final int F_ON_ACTIVE_LIST = 2;
    private static final int F_FREED = 4;
    private static final int F_SPT = 8;
    private static final int F_TRANSLATIONS = 16;
    private static final int F_UNSYNC_BITMAP = 32;
    private static final int F_ALL = 63;

    /**
     * Snapshot (format v2) of this page; the id is written by {@link ShadowMmu} (pages are listed by ascending id).
     * Order: gfn (zig-zag), role word (unsigned 32-bit), mmuValidGen, rootCount (zig-zag), flags (unsync 1,
     * onActiveList 2, freed 4, has spt 8, has translations 16, has unsync-child bitmap 32), hashNext, activePrev,
     * activeNext, writeFloodingCount (zig-zag), parent count + parent locations, region count + region keys
     * (zig-zag), then the unsync-child bitmap (8 × bits64), the SPTEs and the shadowed translations (each sparse, see
     * {@link SnapshotOutput#sparse}) when present. A null array and an all-zero one are kept apart: a page with a
     * translations array answers {@link #gfnAt} with 0, without one with -1.
     *
     * <p>Not written, recomputed on read: {@code unsyncChildren} (bits set in the bitmap) and {@code presentCount}
     * (shadow-present SPTEs). Capacities of {@code parents} / {@code regions} are not state.
     */
    void writeTo(SnapshotOutput out) {
        out.svarint(gfn);
        out.uvarint(role & 0xffffffffL);
        out.svarint(mmuValidGen);
        out.svarint(rootCount);
        out.uvarint((unsync ? F_UNSYNC : 0) | (onActiveList ? F_ON_ACTIVE_LIST : 0) | (freed ? F_FREED : 0)
                | (spt != null ? F_SPT : 0) | (translations != null ? F_TRANSLATIONS : 0)
                | (unsyncChildBitmap != null ? F_UNSYNC_BITMAP : 0));
        out.svarint(hashNext);
        out.svarint(activePrev);
        out.svarint(activeNext);
        out.svarint(writeFloodingCount);
        out.uvarint(parentCount);
        for (int i = 0; i < parentCount; i++) {
            out.uvarint(parents[i] & 0xffffffffL);
        }
        out.uvarint(regionCount);
        for (int i = 0; i < regionCount; i++) {
            out.svarint(regions[i]);
        }
        if (unsyncChildBitmap != null) {
            for (long w : unsyncChildBitmap) {
                out.bits64(w);
            }
        }
        if (spt != null) {
            out.sparse(spt);
        }
        if (translations != null) {
            out.sparse(translations);
        }
    }

    /** Reads a page written by {@link #writeTo}. */
    static ShadowPage readFrom(SnapshotInput in, int id) throws IOException {
        long gfn = in.svarint();
        long role = in.uvarint();
        if (role < 0 || role > 0xffffffffL) {
            throw in.corrupt("page " + id + ": role word " + Long.toUnsignedString(role));
        }
        int gen = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "page " + id + " mmu_valid_gen");
        ShadowPage sp = new ShadowPage(id, gfn, (int) role, gen);
        sp.rootCount = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "page " + id + " root count");
        int flags = in.uint(F_ALL, "page " + id + " flags");
        sp.unsync = (flags & F_UNSYNC) != 0;
        sp.onActiveList = (flags & F_ON_ACTIVE_LIST) != 0;
        sp.freed = (flags & F_FREED) != 0;
        sp.hashNext = in.sint(-1, Integer.MAX_VALUE, "page " + id + " hash link");
        sp.activePrev = in.sint(-1, Integer.MAX_VALUE, "page " + id + " active-list link");
        sp.activeNext = in.sint(-1, Integer.MAX_VALUE, "page " + id + " active-list link");
        sp.writeFloodingCount = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "page " + id + " write flooding");
        int np = in.count(1, "page " + id + " parents");
        if (np > 0) {
            sp.parents = new int[Math.max(2, np)];
            for (int i = 0; i < np; i++) {
                long loc = in.uvarint();
                if (loc < 0 || loc > 0xffffffffL) {
                    throw in.corrupt("page " + id + ": parent location " + Long.toUnsignedString(loc));
                }
                sp.parents[i] = (int) loc;
            }
        }
        sp.parentCount = np;
        int nr = in.count(1, "page " + id + " regions");
        if (nr > 0) {
            sp.regions = new long[Math.max(2, nr)];
            for (int i = 0; i < nr; i++) {
                sp.regions[i] = in.svarint();
            }
        }
        sp.regionCount = nr;
        if ((flags & F_UNSYNC_BITMAP) != 0) {
            sp.unsyncChildBitmap = new long[SPTE_ENT_PER_PAGE / 64];
            for (int i = 0; i < sp.unsyncChildBitmap.length; i++) {
                sp.unsyncChildBitmap[i] = in.bits64();
                sp.unsyncChildren += Long.bitCount(sp.unsyncChildBitmap[i]);
            }
        }
        if ((flags & F_SPT) != 0) {
            sp.spt = new long[SPTE_ENT_PER_PAGE];
            in.sparse(sp.spt, "page " + id + " SPTEs");
            for (long v : sp.spt) {
                if (Spte.isShadowPresent(v)) {
                    sp.presentCount++;
                }
            }
        }
        if ((flags & F_TRANSLATIONS) != 0) {
            sp.translations = new long[SPTE_ENT_PER_PAGE];
            in.sparse(sp.translations, "page " + id + " translations");
        }
        return sp;
    }

    /** The page as the tracepoints print it. */
    public ShadowPageInfo info() {
        return new ShadowPageInfo(mmuValidGen, gfn, level(), MmuPageRole.has4ByteGpte(role), MmuPageRole.quadrant(role),
                direct(), MmuPageRole.access(role), invalid(), MmuPageRole.eferNx(role),
                MmuPageRole.adDisabled(role), MmuPageRole.cr0Wp(role) ? 1 : 0, rootCount, unsync);
    }

    /** Approximate retained heap bytes. */
    long heapBytes() {
        long b = 96;
        if (spt != null) {
            b += 16 + 8L * SPTE_ENT_PER_PAGE;
        }
        if (translations != null) {
            b += 16 + 8L * SPTE_ENT_PER_PAGE;
        }
        if (unsyncChildBitmap != null) {
            b += 16 + 64;
        }
        if (parents != null) {
            b += 16 + 4L * parents.length;
        }
        if (regions != null) {
            b += 16 + 8L * regions.length;
        }
        return b;
    }

    @Override
    public String toString() {
        return "sp#" + id + " " + info();
    }
}
