package dev.mmureplay.model.mmu;

import java.util.Arrays;

/**
 * The 512-entry arrays of freed shadow pages (their SPTEs, their guest translations), kept to back the next pages
 * instead of allocating new ones: pages are zapped and re-made all the time (obsolete roots, MMIO generation
 * wraps), and each new array used to outlive a young collection and be copied into the old generation. Not model
 * state: every array handed out is all zeros, as a new one would be, so nothing observable depends on the pool
 * (a restored model starts with an empty one). Bounded; not thread-safe (one per {@link ShadowMmu}).
 */
final class PageArrays {

    /** Arrays kept at most (4 KB each). */
    static final int CAPACITY = 128;

    private final long[][] free = new long[CAPACITY][];
    private int count;

    /** A zeroed array of {@link ShadowPage#SPTE_ENT_PER_PAGE} entries: a freed page's, or a new one. */
    long[] take() {
        if (count == 0) {
            return new long[ShadowPage.SPTE_ENT_PER_PAGE];
        }
        long[] a = free[--count];
        free[count] = null;
        return a;
    }

    /** Takes back the array of a freed page (null: the page never had one). */
    void give(long[] a) {
        if (a == null || count == CAPACITY) {
            return;
        }
        Arrays.fill(a, 0);
        free[count++] = a;
    }

    int size() {
        return count;
    }
}
