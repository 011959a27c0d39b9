package dev.mmureplay.model.mmu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@link PageArrays}: a freed page's array backs the next page, all zeros, and the pool stays bounded. */
class PageArraysTest {

    @Test
    void aGivenArrayComesBackZeroed() {
        PageArrays pool = new PageArrays();
        long[] a = pool.take();
        a[0] = 7;
        a[511] = -1;
        pool.give(a);
        long[] b = pool.take();
        assertSame(a, b, "reused");
        assertEquals(0, java.util.Arrays.stream(b).filter(x -> x != 0).count(), "all zeros, as a new array");
        assertEquals(ShadowPage.SPTE_ENT_PER_PAGE, b.length);
    }

    @Test
    void anEmptyPoolMakesNewArraysAndAFullOneDropsWhatItIsGiven() {
        PageArrays pool = new PageArrays();
        assertNotSame(pool.take(), pool.take());
        for (int i = 0; i < PageArrays.CAPACITY + 10; i++) {
            pool.give(new long[ShadowPage.SPTE_ENT_PER_PAGE]);
        }
        assertEquals(PageArrays.CAPACITY, pool.size());
        pool.give(null);
        assertEquals(PageArrays.CAPACITY, pool.size());
    }
}
