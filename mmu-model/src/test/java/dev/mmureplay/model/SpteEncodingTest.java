package dev.mmureplay.model;

import dev.mmureplay.model.mmu.Spte;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** make_spte / make_nonleaf_spte / MMIO SPTE encodings against values printed by the real host. */
class SpteEncodingTest {

    private static final Spte.Masks M = Spte.Masks.nonEpt(48, false);
    private static final int X = Spte.ACC_EXEC_MASK, W = Spte.ACC_WRITE_MASK, U = Spte.ACC_USER_MASK;

    private static long leaf(int access, long pfn, boolean prefetch, boolean hostWritable) {
        return Spte.makeSpte(M, 1, access, pfn, 0, prefetch, false, hostWritable, false, false,
                Spte.UnsyncDecision.NEVER, 0x10, null);
    }

    @Test
    void presentUserReadExecute4kLeafIs123b48a25() {
        long spte = leaf(X | U, 0x123b48, false, true);
        assertEquals(0x123b48a25L, spte);
        assertEquals("r-xu", Spte.permissionLetters(M, spte));
        assertTrue(Spte.isShadowPresent(spte));
        assertFalse(Spte.isWritable(spte));
        assertTrue(Spte.isExecutable(M, spte));
        assertEquals(0x123b48, Spte.pfn(spte));
    }

    @Test
    void zeroPageMappingIsNotHostWritableAndNx() {
        long spte = leaf(U, 0x3b32, false, false);
        assertEquals(0x8000000003b32825L, spte);
        assertEquals("r--u", Spte.permissionLetters(M, spte));
    }

    @Test
    void writableLeafGetsMmuWritableAndDirty() {
        assertEquals(0x80000001560f1e67L, leaf(W | U, 0x1560f1, false, true));
        assertEquals(0x14efa6e67L, leaf(W | U | X, 0x14efa6, false, true));
    }

    @Test
    void prefetchedLeafHasAccessedClear() {
        assertEquals(0x138813a05L, leaf(X | U, 0x138813, true, true));
        assertEquals(0x14d0e7e47L, leaf(W | X | U, 0x14d0e7, true, true));
    }

    @Test
    void writeProtectedByUnsyncFailureKeepsNoW() {
        long spte = Spte.makeSpte(M, 1, W | U | X, 0x1000, 0, false, false, true, false, false,
                (gfn, s, p) -> true, 0x4, null);
        assertEquals(0x1000a25L, spte);
    }

    @Test
    void nonLeafSpteIs827PlusChild() {
        assertEquals(0x12b9a9827L, Spte.makeNonLeafSpte(M, 0x12b9a9000L, false));
        assertTrue(Spte.isShadowPresent(0x12b9a9827L));
        assertFalse(Spte.isLast(0x12b9a9827L, 2));
    }

    @Test
    void hugeLeafSetsPageSizeAndDropsExecWithNxHugePages() {
        long spte = Spte.makeSpte(M, 2, X | U, 0x200, 0, false, false, true, false, true,
                Spte.UnsyncDecision.NEVER, 0x200, null);
        assertTrue(Spte.isLarge(spte));
        assertFalse(Spte.isExecutable(M, spte));
    }

    @Test
    void mmioSpteIsNotShadowPresentExceptWithTheBit11Generation() {
        Spte.Masks mmio = Spte.Masks.nonEpt(48, true);
        long gen = 0x1ff;   // generation bit 8 set
        long fixed = Spte.makeMmioSpte(mmio, 0x10000, W | U, gen, false);
        assertTrue(Spte.isMmio(mmio, fixed));
        assertFalse(Spte.isShadowPresent(fixed));
        assertEquals(gen, Spte.mmioGeneration(fixed, false));
        long buggy = Spte.makeMmioSpte(mmio, 0x10000, W | U, gen, true);
        assertTrue(Spte.isShadowPresent(buggy), "mmio-gen-bit11: generation bit 8 lands in MMU-present bit 11");
        assertEquals(gen, Spte.mmioGeneration(buggy, true));
    }

    @Test
    void eptNonLeafIs907() {
        Spte.Masks ept = Spte.Masks.ept(true, true, false);
        assertEquals(0x8000000000005907L, Spte.makeNonLeafSpte(ept, 0x5000, false), "...907 plus suppress-VE");
    }
}
