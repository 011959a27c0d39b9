package dev.mmureplay.model;

/**
 * Host and guest facts the trace does not carry, with defaults matching the recording host of the shared traces
 * (AMD EPYC, shadow paging, tdp_mmu=N, nx_huge_pages=N, mmio_caching=N, Linux 6.18). Immutable.
 *
 * @param hostMaxPhyAddr  host MAXPHYADDR (decides the MMIO SPTE value)
 * @param guestMaxPhyAddr guest CPUID MAXPHYADDR (reserved bits of guest PTEs)
 * @param guestGbPages    guest CPUID 1 GiB pages
 * @param guestAmd        guest CPU vendor AMD (bit 8 of non-leaf PML4E/PDPE reserved)
 * @param mmioCaching     kvm.mmio_caching
 * @param nxHugePages     kvm.nx_huge_pages
 * @param defaultCr0Wp    CR0.WP assumed until the trace shows it (kvm_cr, or a role that prints wp)
 * @param defaultEferNx   EFER.NX assumed until the trace shows it (64-bit guests effectively always set it)
 * @param defaultSmep     CR4.SMEP assumed
 * @param defaultSmap     CR4.SMAP assumed
 * @param defaultPke      CR4.PKE assumed
 * @param detailedSteps   whether ReplayStep lists predicted effects (costs allocation; off for benchmarks)
 */
public record ModelConfig(int hostMaxPhyAddr, int guestMaxPhyAddr, boolean guestGbPages, boolean guestAmd,
                          boolean mmioCaching, boolean nxHugePages, boolean defaultCr0Wp, boolean defaultEferNx,
                          boolean defaultSmep, boolean defaultSmap, boolean defaultPke, boolean detailedSteps) {

    /** The recording host of ../shared/traces. */
    public static final ModelConfig DEFAULT = new ModelConfig(48, 48, true, true, false, false, true, true, false,
            false, false, false);

    public ModelConfig withDetailedSteps(boolean on) {
        return new ModelConfig(hostMaxPhyAddr, guestMaxPhyAddr, guestGbPages, guestAmd, mmioCaching, nxHugePages,
                defaultCr0Wp, defaultEferNx, defaultSmep, defaultSmap, defaultPke, on);
    }

    public ModelConfig withMmioCaching(boolean on) {
        return new ModelConfig(hostMaxPhyAddr, guestMaxPhyAddr, guestGbPages, guestAmd, on, nxHugePages,
                defaultCr0Wp, defaultEferNx, defaultSmep, defaultSmap, defaultPke, detailedSteps);
    }
}
