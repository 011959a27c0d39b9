package dev.mmureplay.model;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Host and guest facts the trace does not carry, with defaults matching the recording host of the shared traces
 * (AMD EPYC, shadow paging, tdp_mmu=N, nx_huge_pages=N, mmio_caching=N, Linux 6.18). Immutable. Host configuration
 * is explicit model input, never guessed: {@link #settings()} lists every host setting with its value and whether
 * this model acts on it; where each value came from (given, a trace's host header, inferred with evidence by
 * {@link HostInference}, or the default) is resolved by {@link HostConfig}. With {@code tdp=true} the model replays
 * the TDP MMU ({@code mmu.TdpMmu}) instead of the shadow MMU.
 *
 * @param hostMaxPhyAddr     host MAXPHYADDR (decides the MMIO SPTE value)
 * @param guestMaxPhyAddr    guest CPUID MAXPHYADDR (reserved bits of guest PTEs)
 * @param guestGbPages       guest CPUID 1 GiB pages
 * @param guestAmd           guest CPU vendor AMD (bit 8 of non-leaf PML4E/PDPE reserved)
 * @param mmioCaching        kvm.mmio_caching
 * @param nxHugePages        kvm.nx_huge_pages
 * @param defaultCr0Wp       CR0.WP assumed until the trace shows it (kvm_cr, or a role that prints wp)
 * @param defaultEferNx      EFER.NX assumed until the trace shows it (64-bit guests effectively always set it)
 * @param defaultSmep        CR4.SMEP assumed
 * @param defaultSmap        CR4.SMAP assumed
 * @param defaultPke         CR4.PKE assumed
 * @param detailedSteps      whether ReplayStep lists predicted effects (costs allocation; off for benchmarks)
 * @param tdp                two-dimensional paging (kvm_intel.ept / kvm_amd.npt with tdp_mmu); false = shadow paging
 * @param tdpEncoding        SPTE encoding when {@code tdp}: EPT (Intel) or NPT (AMD, the non-EPT masks)
 * @param nxRecoveryRatio    kvm.nx_huge_pages_recovery_ratio (60 by default, 0 disables recovery)
 * @param nxRecoveryPeriodMs kvm.nx_huge_pages_recovery_period_ms (0 = derived from the ratio)
 * @param kernel             kernel generation of the recording host (trace text and RET_PF numbering differ)
 */
public record ModelConfig(int hostMaxPhyAddr, int guestMaxPhyAddr, boolean guestGbPages, boolean guestAmd,
                          boolean mmioCaching, boolean nxHugePages, boolean defaultCr0Wp, boolean defaultEferNx,
                          boolean defaultSmep, boolean defaultSmap, boolean defaultPke, boolean detailedSteps,
                          boolean tdp, TdpEncoding tdpEncoding, int nxRecoveryRatio, long nxRecoveryPeriodMs,
                          String kernel) {

    /** The SPTE encoding of two-dimensional paging. */
    public enum TdpEncoding { EPT, NPT }

    /** The recording host of ../shared/traces. */
    public static final ModelConfig DEFAULT = new ModelConfig(48, 48, true, true, false, false, true, true, false,
            false, false, false);

    /** The original twelve facts; host TDP settings at their defaults (shadow paging, NPT, ratio 60, 6.18). */
    public ModelConfig(int hostMaxPhyAddr, int guestMaxPhyAddr, boolean guestGbPages, boolean guestAmd,
                       boolean mmioCaching, boolean nxHugePages, boolean defaultCr0Wp, boolean defaultEferNx,
                       boolean defaultSmep, boolean defaultSmap, boolean defaultPke, boolean detailedSteps) {
        this(hostMaxPhyAddr, guestMaxPhyAddr, guestGbPages, guestAmd, mmioCaching, nxHugePages, defaultCr0Wp,
                defaultEferNx, defaultSmep, defaultSmap, defaultPke, detailedSteps, false, TdpEncoding.NPT, 60, 0,
                "6.18");
    }

    public ModelConfig {
        if (tdpEncoding == null || kernel == null || nxRecoveryRatio < 0 || nxRecoveryPeriodMs < 0) {
            throw new IllegalArgumentException("bad host configuration");
        }
    }

    public ModelConfig withDetailedSteps(boolean on) {
        return new ModelConfig(hostMaxPhyAddr, guestMaxPhyAddr, guestGbPages, guestAmd, mmioCaching, nxHugePages,
                defaultCr0Wp, defaultEferNx, defaultSmep, defaultSmap, defaultPke, on, tdp, tdpEncoding,
                nxRecoveryRatio, nxRecoveryPeriodMs, kernel);
    }

    public ModelConfig withMmioCaching(boolean on) {
        return new ModelConfig(hostMaxPhyAddr, guestMaxPhyAddr, guestGbPages, guestAmd, on, nxHugePages,
                defaultCr0Wp, defaultEferNx, defaultSmep, defaultSmap, defaultPke, detailedSteps, tdp, tdpEncoding,
                nxRecoveryRatio, nxRecoveryPeriodMs, kernel);
    }

    /** One host setting as reported: name, value, where the value came from, whether this model acts on it. */
    public record Setting(String name, String value, String source, boolean modelled, String note) {
    }

    /**
     * The host configuration as reported by {@code profiles}: {@code source} is "default" when the value is the
     * recording host's ({@link #DEFAULT}), else "given"; {@link HostConfig#settings()} reports the real source of
     * each value (given, header, inferred, default). Settings the model does not act on are marked
     * {@code modelled=false}.
     */
    public List<Setting> settings() {
        ModelConfig d = DEFAULT;
        List<Setting> s = new ArrayList<>();
        s.add(setting("tdp", tdp, d.tdp, true, tdp
                ? "TDP MMU (mmu.TdpMmu): direct roots, kvm_tdp_mmu_map, splits, NX recovery, zap-all-fast"
                : "shadow paging (tdp_mmu=N)"));
        s.add(setting("tdpEncoding", tdpEncoding, d.tdpEncoding, true,
                "EPT vs NPT SPTE masks (EPT: RWX, WB memtype, suppress-VE, A/D 8/9); shadow paging uses the"
                        + " non-EPT masks"));
        s.add(setting("mmioCaching", mmioCaching, d.mmioCaching, true,
                "kvm.mmio_caching: mark_mmio_spte on no-slot faults"));
        s.add(setting("nxHugePages", nxHugePages, d.nxHugePages, true,
                "kvm.nx_huge_pages: make_spte drops exec above 4K; with tdp, exec faults map 4K and their tables"
                        + " become possible NX huge pages"));
        s.add(setting("nxRecoveryRatio", nxRecoveryRatio, d.nxRecoveryRatio, true,
                "NX recovery (tdp=true): each run zaps DIV_ROUND_UP(possible NX huge pages, ratio), oldest first;"
                        + " 0 disables"));
        s.add(setting("nxRecoveryPeriodMs", nxRecoveryPeriodMs, d.nxRecoveryPeriodMs, false,
                "not checked: model events carry no timestamps, so a recovery run is recognised by its first"
                        + " effect (kvm-nx-lpage-re zapping a table)"));
        s.add(setting("hostMaxPhyAddr", hostMaxPhyAddr, d.hostMaxPhyAddr, true,
                "decides the MMIO SPTE value (bit 51 | P only below 52)"));
        s.add(setting("guestMaxPhyAddr", guestMaxPhyAddr, d.guestMaxPhyAddr, true, "reserved bits of guest PTEs"));
        s.add(setting("kernel", kernel, d.kernel, false,
                "trace text variants are handled by the parser; RET_PF numbering not yet modelled"));
        return s;
    }

    private static Setting setting(String name, Object value, Object dflt, boolean modelled, String note) {
        return new Setting(name, String.valueOf(value), value.equals(dflt) ? "default" : "given", modelled, note);
    }

    /** A copy with the host settings a user can give ({@code mmu-replay diff --host ...}). */
    public ModelConfig withHost(boolean tdp, TdpEncoding enc, boolean mmioCaching, boolean nxHugePages,
                                int nxRecoveryRatio, long nxRecoveryPeriodMs, int hostMaxPhyAddr, String kernel) {
        return new ModelConfig(hostMaxPhyAddr, guestMaxPhyAddr, guestGbPages, guestAmd, mmioCaching, nxHugePages,
                defaultCr0Wp, defaultEferNx, defaultSmep, defaultSmap, defaultPke, detailedSteps, tdp, enc,
                nxRecoveryRatio, nxRecoveryPeriodMs, kernel);
    }

    // bits of the snapshot's flag word (format v2; a new boolean takes the next free bit)
    private static final int S_GUEST_GB_PAGES = 1;
    private static final int S_GUEST_AMD = 1 << 1;
    private static final int S_MMIO_CACHING = 1 << 2;
    private static final int S_NX_HUGE_PAGES = 1 << 3;
    private static final int S_DEFAULT_CR0_WP = 1 << 4;
    private static final int S_DEFAULT_EFER_NX = 1 << 5;
    private static final int S_DEFAULT_SMEP = 1 << 6;
    private static final int S_DEFAULT_SMAP = 1 << 7;
    private static final int S_DEFAULT_PKE = 1 << 8;
    private static final int S_DETAILED_STEPS = 1 << 9;
    private static final int S_TDP = 1 << 10;
    private static final int S_ALL = (1 << 11) - 1;

    /**
     * Snapshot (format v2): every setting by value — hostMaxPhyAddr, guestMaxPhyAddr (zig-zag), the booleans as one
     * flag word (bits above), tdpEncoding (enum name), nxRecoveryRatio, nxRecoveryPeriodMs (unsigned), kernel.
     */
    void writeTo(SnapshotOutput out) {
        out.svarint(hostMaxPhyAddr);
        out.svarint(guestMaxPhyAddr);
        out.uvarint((guestGbPages ? S_GUEST_GB_PAGES : 0) | (guestAmd ? S_GUEST_AMD : 0)
                | (mmioCaching ? S_MMIO_CACHING : 0) | (nxHugePages ? S_NX_HUGE_PAGES : 0)
                | (defaultCr0Wp ? S_DEFAULT_CR0_WP : 0) | (defaultEferNx ? S_DEFAULT_EFER_NX : 0)
                | (defaultSmep ? S_DEFAULT_SMEP : 0) | (defaultSmap ? S_DEFAULT_SMAP : 0)
                | (defaultPke ? S_DEFAULT_PKE : 0) | (detailedSteps ? S_DETAILED_STEPS : 0) | (tdp ? S_TDP : 0));
        out.string(tdpEncoding.name());
        out.uvarint(nxRecoveryRatio);
        out.uvarint(nxRecoveryPeriodMs);
        out.string(kernel);
    }

    /** Reads a config written by {@link #writeTo} ({@link #DEFAULT} itself when equal to it). */
    static ModelConfig readFrom(SnapshotInput in) throws IOException {
        int host = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "host MAXPHYADDR");
        int guest = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "guest MAXPHYADDR");
        int f = in.uint(S_ALL, "config flags");
        String enc = in.string();
        TdpEncoding encoding;
        try {
            encoding = TdpEncoding.valueOf(enc);
        } catch (IllegalArgumentException e) {
            throw in.corrupt("unknown TDP encoding '" + enc + "'");
        }
        int ratio = in.uint(Integer.MAX_VALUE, "nx recovery ratio");
        long period = in.ulong("nx recovery period");
        String kernel = in.string();
        ModelConfig c = new ModelConfig(host, guest, (f & S_GUEST_GB_PAGES) != 0, (f & S_GUEST_AMD) != 0,
                (f & S_MMIO_CACHING) != 0, (f & S_NX_HUGE_PAGES) != 0, (f & S_DEFAULT_CR0_WP) != 0,
                (f & S_DEFAULT_EFER_NX) != 0, (f & S_DEFAULT_SMEP) != 0, (f & S_DEFAULT_SMAP) != 0,
                (f & S_DEFAULT_PKE) != 0, (f & S_DETAILED_STEPS) != 0, (f & S_TDP) != 0, encoding, ratio, period,
                kernel);
        return c.equals(DEFAULT) ? DEFAULT : c;
    }
}
