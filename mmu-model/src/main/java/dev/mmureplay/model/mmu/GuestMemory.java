package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.Arrays;

/**
 * The guest page-table entries the model has observed, by guest physical address: values read by walks
 * ({@code kvm_mmu_paging_element}) and updated by the A/D bits KVM sets ({@code kvm_mmu_set_accessed_bit} /
 * {@code set_dirty_bit}). Anything never observed is unknown; an entry the guest may have rewritten behind the
 * model's back (page went unsync, emulated write) is forgotten.
 */
public final class GuestMemory {

    private static final class Page {
        final long[] values;
        final long[] known;
        /** log2 of the entry size: 3 for 8-byte PTEs, 2 for 4-byte ones. */
        final int shift;

        Page(int shift) {
            this.shift = shift;
            int entries = 4096 >> shift;
            values = new long[entries];
            known = new long[(entries + 63) / 64];
        }

        int slot(long gpa) {
            return (int) ((gpa & 0xfff) >>> shift);
        }
    }

    private final LongIntMap index = new LongIntMap(-1);
    private Page[] pages = new Page[16];
    private long[] pageGfns = new long[16];
    private int count;

    private Page page(long gfn, boolean create) {
        return page(gfn, create, 3);
    }

    // a small direct-mapped cache of page lookups (walks touch one table per level); indexed by a multiplicative
    // hash so that neighbouring tables of different levels (CR3, PDPT, PD, PT gfns) rarely share a slot
    private static final int CACHE = 64;
    private final long[] cacheGfn = new long[CACHE];
    private final Page[] cachePage = new Page[CACHE];

    {
        java.util.Arrays.fill(cacheGfn, -1);
    }

    private Page page(long gfn, boolean create, int shift) {
        int c = (int) ((gfn * 0x9E3779B97F4A7C15L) >>> 58);
        if (cacheGfn[c] == gfn) {
            return cachePage[c];
        }
        int i = index.get(gfn);
        if (i >= 0) {
            cacheGfn[c] = gfn;
            cachePage[c] = pages[i];
            return pages[i];
        }
        if (!create) {
            return null;
        }
        if (count == pages.length) {
            pages = Arrays.copyOf(pages, count * 2);
            pageGfns = Arrays.copyOf(pageGfns, count * 2);
        }
        Page p = new Page(shift);
        pages[count] = p;
        pageGfns[count] = gfn;
        index.put(gfn, count++);
        return p;
    }

    /** Records an 8-byte guest PTE at {@code gpa}. */
    public void put(long gpa, long value) {
        put(gpa, value, 8);
    }

    /** Records a guest PTE of {@code size} (4 or 8) bytes at {@code gpa}. */
    public void put(long gpa, long value, int size) {
        Page p = page(gpa >>> 12, true, size == 4 ? 2 : 3);
        int s = p.slot(gpa);
        p.values[s] = value;
        p.known[s >>> 6] |= 1L << s;
    }

    public boolean isKnown(long gpa) {
        Page p = page(gpa >>> 12, false);
        if (p == null) {
            return false;
        }
        int s = p.slot(gpa);
        return (p.known[s >>> 6] & (1L << s)) != 0;
    }

    /**
     * Reads {@code n} consecutive entries of {@code size} bytes from {@code gpa} (all in one guest page) into
     * {@code out}: returns the bit mask of the entries that are known ({@link #isKnown}); unknown ones are not
     * written. One page lookup for the group (FNAME(gpte_changed)'s prefetch_ptes).
     */
    public int readKnown(long gpa, int size, int n, long[] out) {
        Page p = page(gpa >>> 12, false);
        if (p == null) {
            return 0;
        }
        int known = 0;
        for (int i = 0; i < n; i++) {
            int s = p.slot(gpa + (long) i * size);
            if ((p.known[s >>> 6] & (1L << s)) != 0) {
                out[i] = p.values[s];
                known |= 1 << i;
            }
        }
        return known;
    }

    /** The value, valid only if {@link #isKnown}. */
    public long get(long gpa) {
        Page p = page(gpa >>> 12, false);
        return p == null ? 0 : p.values[p.slot(gpa)];
    }

    /** ORs bits into a known entry (A/D updates); unknown entries stay unknown. */
    public void orBits(long gpa, long bits) {
        Page p = page(gpa >>> 12, false);
        if (p != null) {
            int s = p.slot(gpa);
            if ((p.known[s >>> 6] & (1L << s)) != 0) {
                p.values[s] |= bits;
            }
        }
    }

    public void forget(long gpa) {
        Page p = page(gpa >>> 12, false);
        if (p != null) {
            int s = p.slot(gpa);
            p.known[s >>> 6] &= ~(1L << s);
        }
    }

    /** Forgets a whole guest page (its entries may have been rewritten by the guest). */
    public void forgetPage(long gfn) {
        Page p = page(gfn, false);
        if (p != null) {
            Arrays.fill(p.known, 0);
        }
    }

    /** Feeds every known entry to the digest, by ascending gpa. */
    public void digestInto(Digest d) {
        long[] gfns = index.sortedKeys();
        for (long gfn : gfns) {
            Page p = pages[index.get(gfn)];
            // visit only the known slots, ascending (set bits of each word): most slots of a page are unknown
            for (int w = 0; w < p.known.length; w++) {
                for (long bits = p.known[w]; bits != 0; bits &= bits - 1) {
                    int s = (w << 6) + Long.numberOfTrailingZeros(bits);
                    d.add((gfn << 12) | ((long) s << p.shift));
                    d.add(p.values[s]);
                }
            }
        }
    }

    /**
     * Snapshot (format v2): the page count, then each observed guest page by ascending gfn — gfn as a zig-zag delta
     * from the previous one (the first from 0), entry size shift (2 = 4-byte, 3 = 8-byte PTEs), the number of known
     * entries, and per known entry: slot delta from the previous known slot, value XOR the previous known value
     * (bits64). Values of entries that are not known are never read and not written; a page whose entries were all
     * forgotten is still written (it keeps its entry size). Not state: the insertion order of the page table and
     * the lookup cache (rebuilt empty).
     */
    public void writeTo(SnapshotOutput out) {
        long[] gfns = index.sortedKeys();
        out.uvarint(gfns.length);
        long prevGfn = 0;
        for (long gfn : gfns) {
            Page p = pages[index.get(gfn)];
            out.svarint(gfn - prevGfn);
            prevGfn = gfn;
            out.uvarint(p.shift);
            int known = 0;
            for (long w : p.known) {
                known += Long.bitCount(w);
            }
            out.uvarint(known);
            int prevSlot = -1;
            long prev = 0;
            for (int w = 0; w < p.known.length; w++) {   // known slots only, ascending (as digestInto)
                for (long bits = p.known[w]; bits != 0; bits &= bits - 1) {
                    int s = (w << 6) + Long.numberOfTrailingZeros(bits);
                    out.uvarint(s - prevSlot - 1);
                    out.bits64(p.values[s] ^ prev);
                    prevSlot = s;
                    prev = p.values[s];
                }
            }
        }
    }

    /** Reads the pages written by {@link #writeTo} into this (empty) guest memory. */
    void readFrom(SnapshotInput in) throws IOException {
        if (count != 0) {
            throw new IllegalStateException("readFrom needs an empty guest memory");
        }
        int n = in.count(3, "guest pages");
        long gfn = 0;
        for (int i = 0; i < n; i++) {
            long next = gfn + in.svarint();
            if ((i > 0 && next <= gfn) || next < 0) {
                throw in.corrupt("guest page gfns not strictly ascending / negative at page " + i);
            }
            gfn = next;
            int shift = in.uint(3, "guest page entry size");
            if (shift < 2) {
                throw in.corrupt("guest page entry size shift " + shift);
            }
            Page p = page(gfn, true, shift);
            int known = in.count(2, "guest page known entries");
            if (known > p.values.length) {
                throw in.corrupt("guest page " + Long.toHexString(gfn) + ": " + known + " known entries");
            }
            int slot = -1;
            long prev = 0;
            for (int k = 0; k < known; k++) {
                long s = slot + 1 + in.uvarint();
                if (s < 0 || s >= p.values.length) {
                    throw in.corrupt("guest page " + Long.toHexString(gfn) + ": slot " + s);
                }
                slot = (int) s;
                prev ^= in.bits64();
                p.values[slot] = prev;
                p.known[slot >>> 6] |= 1L << slot;
            }
        }
        Arrays.fill(cacheGfn, -1);
        Arrays.fill(cachePage, null);
    }

    public int pageCount() {
        return count;
    }

    long heapBytes() {
        long b = index.heapBytes() + pages.length * 12L;
        for (int i = 0; i < count; i++) {
            b += 48 + 16 + 8L * pages[i].values.length + 16 + 8L * pages[i].known.length;
        }
        return b;
    }
}
