package dev.mmureplay.replayer.synth;

/**
 * A guest region of 4 KiB user pages mapped through one fixed chain of guest page tables (optionally a PDPTE, then
 * one PDE, then one page table), as the 32-bit and PAE scenarios use it. It prints the guest walk of a user access
 * the way the kernel traces it (kvm_mmu_pagetable_walk + one kvm_mmu_paging_element per level) and the A/D bits KVM
 * sets in the guest's PDE and PTE (FNAME(update_accessed_dirty_bits)), and remembers which pages are mapped/dirty.
 */
final class UserPageRegion {

    private final long vaBase;
    private final long gfnBase;
    /** The PDPTE value printed at level 3, or 0 for a 2-level (32-bit) guest. */
    private final long pdpte;
    private final long pde;
    private final long pdeGpa;
    private final long ptGpa;
    private final int pteBytes;
    private final boolean[] mapped;
    private final boolean[] dirty;
    private boolean pdeAccessed;

    UserPageRegion(int pages, long vaBase, long gfnBase, long pdpte, long pde, long pdeGpa, long ptGpa, int pteBytes) {
        this.vaBase = vaBase;
        this.gfnBase = gfnBase;
        this.pdpte = pdpte;
        this.pde = pde;
        this.pdeGpa = pdeGpa;
        this.ptGpa = ptGpa;
        this.pteBytes = pteBytes;
        this.mapped = new boolean[pages];
        this.dirty = new boolean[pages];
    }

    int pages() {
        return mapped.length;
    }

    long va(int i) {
        return vaBase + ((long) i << 12);
    }

    long gfn(int i) {
        return gfnBase + i;
    }

    boolean dirty(int i) {
        return dirty[i];
    }

    /**
     * A user read or write of page i: false when it does not fault (already mapped with that access); otherwise
     * prints the walk and the A/D bits KVM sets, and marks the page mapped (and dirty on a write).
     */
    boolean fault(Kvm k, int i, boolean write) {
        if (mapped[i] && (!write || dirty[i])) {
            return false;
        }
        k.walk(va(i), 4 | (write ? 2 : 0) | (mapped[i] ? 1 : 0));
        if (pdpte != 0) {
            k.element(pdpte, 3);
        }
        k.element(pde | (pdeAccessed ? 0x20 : 0), 2);
        k.element((gfn(i) << 12) | 7 | (mapped[i] ? 0x20 : 0) | (dirty[i] ? 0x40 : 0), 1);
        if (!pdeAccessed) {
            k.accessed(pdeGpa);
            pdeAccessed = true;
        }
        long pteGpa = ptGpa + (long) i * pteBytes;
        if (!mapped[i]) {
            k.accessed(pteGpa);
        }
        if (write && !dirty[i]) {
            k.dirty(pteGpa);
            dirty[i] = true;
        }
        mapped[i] = true;
        return true;
    }
}
