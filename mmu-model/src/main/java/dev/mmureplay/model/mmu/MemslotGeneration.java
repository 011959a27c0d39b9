package dev.mmureplay.model.mmu;

/**
 * The memslot generation as MMIO SPTEs see it, and its wraparound (arch/x86/kvm/mmu/mmu.c,
 * kvm_mmu_invalidate_mmio_sptes; virt/kvm/kvm_main.c, kvm_swap_active_memslots). Memslot ioctls are not traced, so
 * the VMM writes each memslot update (one kvm_swap_active_memslots of address space 0: a create or a flags change
 * is one, a delete or move two) as a {@code tracing_mark_write} marker:
 *
 * <pre>
 * mmu-replay: memslot-update
 * </pre>
 *
 * Each update advances the generation by the number of memslot address spaces (2: KVM_MAX_NR_ADDRESS_SPACES with
 * CONFIG_KVM_SMM, address space 0 using the even generations); KVM then masks it with MMIO_SPTE_GEN_MASK (the
 * generation bits an MMIO SPTE holds: 19 upstream, 20 in the bit-11 layout), strips the address-space bits, and a
 * result of 0 means the MMIO generation wrapped → kvm_mmu_zap_all_fast. Pure functions, no state.
 */
public final class MemslotGeneration {

    /** kvm_arch_nr_memslot_as_ids() of a default VM on an SMM-capable host. */
    public static final int NR_ADDRESS_SPACES = 2;
    /** The marker command of one memslot update. */
    public static final String UPDATE = PrivateMemory.PREFIX + "memslot-update";

    private MemslotGeneration() {
    }

    /** Whether the marker text is a memslot update command ({@code mmu-replay: memslot-update [comment]}). */
    public static boolean isUpdate(String text) {
        if (text == null) {
            return false;
        }
        String t = text.strip();
        return t.equals(UPDATE) || t.startsWith(UPDATE + " ");
    }

    /** MMIO_SPTE_GEN_MASK of the layout. */
    public static long mask(boolean genBit11) {
        return genBit11 ? Spte.MMIO_SPTE_GEN_MASK_BIT11 : Spte.MMIO_SPTE_GEN_MASK;
    }

    /** The masked generation after one memslot update of address space 0 (kvm_swap_active_memslots). */
    public static long advance(long maskedGen, boolean genBit11) {
        return (maskedGen + NR_ADDRESS_SPACES) & mask(genBit11);
    }

    /** kvm_mmu_invalidate_mmio_sptes: the masked generation, address-space bits stripped, is 0 → wrapped. */
    public static boolean wrapped(long maskedGen, boolean genBit11) {
        return (maskedGen & mask(genBit11) & ~((long) NR_ADDRESS_SPACES - 1)) == 0;
    }
}
